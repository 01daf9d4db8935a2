/**
 * Previews that try to break the comment (issue 9): credentials that arrive unwrapped, credentials
 * in diagnostics, terminal control sequences in names and values, event logs that are missing or
 * cut short, and inputs that are not a preview at all. Generated here, never committed as JSON:
 * the goldens in test/golden/preview-comment/ are what is reviewed.
 *
 * Token-shaped values are assembled at run time so that no complete key shape sits in the source.
 */
import { DigestBuilder, secret } from "./digest-builder";

const join = (...parts: string[]) => parts.join("");

/** Credentials in the clear, each carrying PLANTED; none may appear in any comment. */
/** A PEM frame line, assembled so no key-shaped literal sits in the repository. */
const PEM_MARK = (edge: "BEGIN" | "END") => ["-----", edge, " PRIVATE", " KEY-----"].join("");

export const HOSTILE = {
    dbPasswordOld: "PLANTED-db-pass-old-7c1e",
    dbPasswordNew: "PLANTED-db-pass-new-2b9f",
    stripeOld: join("sk_", "live_", "PLANTEDold4eC39HqLyjWDarjtT1zdp7dc"),
    stripeNew: join("sk_", "live_", "PLANTEDnew51HkQ2eZvKYlo2C0aBcDeFg"),
    stripeRestricted: join("rk_", "test_", "PLANTEDrk9a8b7c6d5e4f3g2h1"),
    apiUrlPassword: "PLANTED-url-pass-41d0",
    appTokenOld: "PLANTED-app-token-old-e51a",
    appTokenNew: "PLANTED-app-token-new-0c3d",
    githubToken: join("ghp", "_", "PLANTED0123456789abcdefghijklmnopqrs"),
    slackHook: join("https://hooks.slack.com/services/", "T0PLANTED/B0PLANTED/", "PLANTEDx9y8z7w6v5u4t3s2"),
    newRelicKey: join("NRAK", "-", "PLANTED0123456789ABCDEFGHIJ"),
    uploadedPassword: "PLANTED-uploaded-pw-88aa",
    bearer: "PLANTEDbearer0a1b2c3d4e5f6",
    basicPassword: "PLANTED-basic-pw-1f2e",
    awsKeyId: join("AKIA", "PLANTED123456789"),
    jwt: join("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", ".", "eyJzdWIiOiJQTEFOVEVEIn0", ".", "PLANTEDsig0123456789"),
    pemBody: "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7PLANTEDPEMBODY",
    slackBot: join("xoxb", "-", "1234567890-PLANTEDslackbot"),
    libpqPassword: "PLANTED-libpq-pw-5e6f",
};
export const HOSTILE_VALUES = Object.values(HOSTILE);

const MD = "slipway:database:ManagedDatabase";
const SVC = "slipway:service:ApiService";
const OBS = "slipway:observability:Observability";
const DOAPP = "slipway:targets:DoApp";

/**
 * Unwrapped credentials in property values, old and new, inputs and outputs: a database user's
 * `password` input, `KEY=value` strings in a container's `envs`, an App Platform env entry
 * `{key, value}`, a URL with a password, an uploaded secret file, a Slack webhook, a New Relic key.
 * Ordinary changes next to them (an image tag, a host name, a port) must stay readable.
 */
export function unwrappedCredentials(): DigestBuilder {
    const b = new DigestBuilder("prod", "slipway-demo", 7);
    const db = b.urn(MD, "orders");
    b.update({
        type: "digitalocean:index/databaseUser:DatabaseUser", name: "orders-user", parent: db,
        old: {
            id: "u1", inputs: { clusterId: "9c2d0a4e", name: "orders", password: HOSTILE.dbPasswordOld },
            outputs: { name: "orders", password: HOSTILE.dbPasswordOld, uri: `postgresql://orders:${HOSTILE.dbPasswordOld}@orders-pg-do-user-1.db.ondigitalocean.com:25060/orders?sslmode=require` },
        },
        new: { inputs: { clusterId: "9c2d0a4e", name: "orders", password: HOSTILE.dbPasswordNew } },
        diffReasons: ["password"], detailedDiff: { password: "update" },
    });
    const api = b.urn(SVC, "api");
    const envs = (stripe: string, host: string) => [
        "PORT=8080", `STRIPE_SECRET_KEY=${stripe}`, `DATABASE_URL=postgres://api:${HOSTILE.apiUrlPassword}@${host}:5432/orders`,
        "POSTGRES_PASSWORD_FILE=/run/secrets/POSTGRES_PASSWORD", "LOG_LEVEL=info",
    ];
    b.update({
        type: "docker:index/container:Container", name: "api-1", parent: api,
        old: {
            id: "a1", inputs: {
                image: "ghcr.io/acme/api:1.5.0", envs: envs(HOSTILE.stripeOld, "orders-db"),
                uploads: [{ file: "/run/secrets/DB_PASSWORD", content: HOSTILE.uploadedPassword }],
            },
        },
        new: {
            inputs: {
                image: "ghcr.io/acme/api:1.6.0", envs: envs(HOSTILE.stripeNew, "orders-db-2"),
                uploads: [{ file: "/run/secrets/DB_PASSWORD", content: `${HOSTILE.uploadedPassword}-rotated` }],
            },
        },
        diffReasons: ["envs", "image", "uploads"],
        detailedDiff: { "envs[1]": "update", "envs[2]": "update", "image": "update", "uploads[0].content": "update" },
    });
    const app = b.urn(DOAPP, "app");
    const spec = (token: string, region: string) => ({
        name: "slipway-demo", region,
        services: [{
            name: "api", envs: [
                { key: "APP_TOKEN", value: token, scope: "RUN_TIME", type: "GENERAL" },
                { key: "STRIPE_RESTRICTED", value: HOSTILE.stripeRestricted, scope: "RUN_TIME", type: "GENERAL" },
                { key: "LOG_LEVEL", value: region === "fra" ? "info" : "debug", scope: "RUN_TIME", type: "GENERAL" },
            ],
        }],
    });
    b.update({
        type: "digitalocean:index/app:App", name: "app", parent: app,
        old: { id: "5e1f", inputs: { spec: spec(HOSTILE.appTokenOld, "fra") } },
        new: { inputs: { spec: spec(HOSTILE.appTokenNew, "ams") } },
        diffReasons: ["spec"],
        detailedDiff: { "spec.region": "update", "spec.services[0].envs[0].value": "update", "spec.services[0].envs[2].value": "update" },
    });
    const obs = b.urn(OBS, "metrics");
    b.update({
        type: "docker:index/container:Container", name: "metrics-alertmanager", parent: obs,
        old: { id: "m1", inputs: { image: "prom/alertmanager:v0.27.0", envs: ["SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T0/B0/old"], labels: [{ label: "newrelic", value: "off" }] } },
        new: { inputs: { image: "prom/alertmanager:v0.28.1", envs: [`SLACK_WEBHOOK_URL=${HOSTILE.slackHook}`], labels: [{ label: "newrelic", value: HOSTILE.newRelicKey }] } },
        diffReasons: ["envs", "image", "labels"],
        detailedDiff: { "envs[0]": "update", "image": "update", "labels[0].value": "update" },
    });
    // Wrapped secrets still print as [secret], next to the unwrapped ones.
    b.update({
        type: "docker:index/container:Container", name: "orders-db", parent: db,
        old: { id: "c0ffee01", inputs: { image: "postgres:16.4", uploads: [{ file: "/run/secrets/POSTGRES_PASSWORD", content: secret(HOSTILE.dbPasswordOld) }] } },
        new: { inputs: { image: "postgres:16.4", uploads: [{ file: "/run/secrets/POSTGRES_PASSWORD", content: secret(HOSTILE.dbPasswordNew) }] } },
        diffReasons: ["uploads"], detailedDiff: { "uploads[0].content": "update" },
    });
    return b;
}

/** Diagnostics quoting credentials: a connection URL, HTTP headers, keys and tokens by shape. */
export function diagnosticCredentials(): DigestBuilder {
    const b = new DigestBuilder("prod", "slipway-demo", 5);
    const db = b.urn(MD, "orders");
    const pool = b.update({
        type: "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool", name: "orders-pool", parent: db,
        old: { id: "p1", inputs: { clusterId: "9c2d0a4e", name: "orders-pool", dbName: "orders", mode: "transaction", size: 10, user: "orders" } },
        new: { inputs: { clusterId: "9c2d0a4e", name: "orders-pool", dbName: "orders", mode: "transaction", size: 20, user: "orders" } },
        diffReasons: ["size"], detailedDiff: { size: "update" },
    });
    b.diagnostic("error", `error: digitalocean:index/databaseConnectionPool:DatabaseConnectionPool resource 'orders-pool': checking the pool: connecting to postgres://app:${HOSTILE.dbPasswordNew}@orders-pg-do-user-1.db.ondigitalocean.com:25060/orders?sslmode=require: password authentication failed for user "app"`, pool);
    b.diagnostic("warning", [
        "warning: request to the DigitalOcean API failed and was retried:",
        "> GET /v2/apps HTTP/1.1",
        "> Host: api.digitalocean.com",
        `> Authorization: Bearer ${HOSTILE.bearer}`,
        `> Proxy-Authorization: Basic ${Buffer.from(`proxy:${HOSTILE.basicPassword}`).toString("base64")}`,
        "< HTTP/1.1 429 Too Many Requests",
    ].join("\n"));
    b.diagnostic("warning", `warning: stack config "slipway-demo:stripeKey" holds ${HOSTILE.stripeNew} in plain text; set it with \`pulumi config set --secret\``);
    b.diagnostic("error", `error: GitHub registry login failed with token ${HOSTILE.githubToken}; the session token ${HOSTILE.jwt} has expired; AWS key id ${HOSTILE.awsKeyId} was not tried`);
    b.diagnostic("error", `error: tls: cannot parse the certificate, got a key instead:\n${PEM_MARK("BEGIN")}\n${HOSTILE.pemBody}\n${PEM_MARK("END")}`);
    b.diagnostic("warning", `warning: Slack notification to ${HOSTILE.slackHook} failed (token ${HOSTILE.slackBot}); psql said: host=orders-pg user=app password=${HOSTILE.libpqPassword} sslmode=require`);
    b.diagnostic("warning", "warning: a Bearer token is required for the metrics endpoint at https://metrics.example.com/v1?format=prometheus; image ghcr.io/acme/api:1.6.0 is not signed");
    return b;
}

/** Terminal control in names, URNs, types, values and diagnostics (C0, DEL, C1, CSI, OSC, bidi). */
export function controlCharacters(): DigestBuilder {
    const b = new DigestBuilder("dev", "slipway-demo", 3);
    const api = b.urn(SVC, "api\u001b[2J\u001b[H");
    b.update({
        type: "docker:index/container:Container", name: "api-\u001b[31m1\u001b[0m", parent: api,
        old: { id: "a1", inputs: { image: "ghcr.io/acme/api:1.5.0", hostname: "api-1" } },
        new: { inputs: { image: "\u001b]8;;https://evil.example\u0007ghcr.io/acme/api:1.6.0\u001b]8;;\u0007", hostname: "api\u0000-\u007f1\u0085" } },
        diffReasons: ["hostname", "image"], detailedDiff: { "image": "update", "host\u001b[1mname": "update" },
    });
    b.create({
        type: "cloudflare:index/dnsRecord:DnsRecord", name: "edge-\u202ewww\u202c", parent: api,
        new: { inputs: { zoneId: "z1", name: "www.example.com", type: "CNAME", content: "edge.example.com", proxied: true, ttl: 1 } },
    });
    b.delete({
        type: "docker:index/volume:Volume", name: "scratch\u009b31m-data\u009b0m", parent: api,
        old: { id: "v1", inputs: { name: "scratch-\u001b[8mhidden\u001b[28m-data", driver: "local" } },
    });
    b.diagnostic("warning", "warning: \u009b33mdeprecated\u009b0m field `restart`\u0007\u0008; \u009d8;;https://evil.example\u009clink\u009d8;;\u009c text\r\nnext line\u001bc");
    return b;
}

/** An ordinary, risk-free preview: what a missing or truncated event log used to pass as "✅ succeeded". */
export function benignUpdate(): DigestBuilder {
    const b = new DigestBuilder("dev", "slipway-demo", 9);
    const api = b.urn(SVC, "api");
    for (const i of [1, 2]) {
        b.update({
            type: "docker:index/container:Container", name: `api-${i}`, parent: api,
            old: { id: `a${i}`, inputs: { image: "ghcr.io/acme/api:1.5.0", envs: ["PORT=8080"] } },
            new: { inputs: { image: "ghcr.io/acme/api:1.6.0", envs: ["PORT=8080"] } },
            diffReasons: ["image"], detailedDiff: { image: "update" },
        });
    }
    return b;
}

/**
 * The event log of {@link benignUpdate} plus a volume delete, cut while the engine was still
 * planning: no summaryEvent, the last line stops mid-event. The cut falls after the volume delete
 * and before an error diagnostic the engine was about to log, which is the point: what comes after
 * a cut is unknown.
 */
export function truncatedEventLog(): string {
    const b = benignUpdate();
    b.delete({ type: "docker:index/volume:Volume", name: "uploads-data", parent: b.urn(SVC, "api"), old: { id: "v9", inputs: { name: "uploads-data", driver: "local" } } });
    b.diagnostic("error", "error: this diagnostic was logged after the cut");
    const lines = b.eventLog().split("\n").filter(l => l !== "");
    const cutAt = lines.findIndex(l => l.includes("diagnosticEvent"));
    const kept = lines.slice(0, cutAt);
    const half = lines[cutAt] ?? "";
    return `${kept.join("\n")}\n${half.slice(0, Math.floor(half.length / 2))}`;
}
