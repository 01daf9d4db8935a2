// Secrets planted through `{ secret: ... }` and `{ env: ... }` references in every block that takes
// a value must stay secret wherever they land (issue 9): SECRET envs in the App spec, files (not
// env) on Docker, secret outputs, and absent from every file synth writes and from the preview
// comment of a preview that changes them.
import * as assert from "assert";
import { renderPreviewComment, parseDigest } from "../../cli/preview-comment";
import { isSecretValue } from "../../components/testing/recorder";
import { DigestBuilder, secret as digestSecret } from "../preview-comment/digest-builder";
import { recordInChild } from "../helpers/record-in-child";
import { readTree, runSynth } from "../helpers/synth-run";

const PLANTED = {
    partner: "partner-PLANTED-7f3a91c2",
    sentry: "https://PLANTEDsentrykey4e1@o0.ingest.sentry.io/42",
    otlp: "otlp-PLANTED-header-6b2d",
    db: "db-PLANTED-password-5c8e",
    slack: "https://hooks.slack.example/PLANTED/slack-9d0f",
    stripe: "sk_test_PLANTEDstripe0000aa",
    metrics: "metricsPLANTEDtoken0123456789abcdefXYZ",
    registry: "registryPLANTEDtoken-31c7e0",

    s3Id: "AKIAPLANTEDS3KEYID77",
    s3Secret: "s3PLANTEDsecret/access+key0123456789",
};
const planted = Object.values(PLANTED);

const ENV = {
    SENTRY_DSN_PLANTED: PLANTED.sentry,
    ALERTS_SLACK_WEBHOOK: PLANTED.slack,
    STRIPE_SECRET_KEY: PLANTED.stripe,
    NEW_RELIC_LICENSE_KEY: "nr-not-planted",
};

const refs = (image: string) => [
    "--set", `services.api.env.PARTNER_API_TOKEN={"secret":"partnerApiToken"}`,
    "--set", `services.api.image="${image}"`,
    "--set", `observability.sentry.dsn={"env":"SENTRY_DSN_PLANTED"}`,
    "--set", `database.password={"secret":"dbPassword"}`,
    "--secret", `partnerApiToken=${PLANTED.partner}`,
    "--secret", `dbPassword=${PLANTED.db}`,
];

function absentEverywhere(files: Record<string, string>) {
    for (const [name, content] of Object.entries(files)) {
        for (const v of planted) assert.ok(!content.includes(v) && !content.includes(encodeURIComponent(v)), `${name} contains a planted secret`);
    }
}

describe("secret references stay secret wherever they land", function () {
    this.timeout(300_000);

    it("docker: a file (not env) for the service env and the Sentry DSN; nothing in any file", () => {
        const r = runSynth("dev", [...refs("slipway/example-api:local"), "--set", `observability.otel.headers={"x-api-key":{"secret":"otlpKey"}}`,
            "--set", `observability.otel.endpoint="http://otel-collector:4318"`, "--secret", `otlpKey=${PLANTED.otlp}`,
            // The gateway's /metrics scrape token (issue 10): a file Caddy reads, never in its JSON.
            "--set", `gateway.publicMetrics={"allowWithToken":{"secret":"metricsToken"}}`, "--secret", `metricsToken=${PLANTED.metrics}`], ENV);
        assert.strictEqual(r.status, 0, r.stderr);
        const files = readTree(r.outDir);
        absentEverywhere(files);
        const resources = JSON.parse(files["resources.json"]!) as { type: string; name: string; inputs: { envs?: unknown } }[];
        const replica = resources.find(x => x.type === "docker:index/container:Container" && /^api-[0-9a-f]{8}-1$/.test(x.name))!;
        const envs = replica.inputs.envs as string[];
        for (const key of ["PARTNER_API_TOKEN", "SENTRY_DSN", "OTEL_EXPORTER_OTLP_HEADERS", "DATABASE_URL"]) {
            assert.ok(envs.includes(`${key}_FILE=/run/secrets/${key}`), `${key} is delivered as a file: ${envs.join(" ")}`);
            assert.ok(!envs.some(e => e.startsWith(`${key}=`)), `${key} is not in the environment`);
        }
        // Only the secrets are hidden: the plain variables beside them stay readable.
        assert.ok(envs.includes("LOG_FORMAT=json"), envs.join(" "));
        assert.strictEqual(JSON.parse(files["outputs.json"]!).databaseUrl, "[secret]");
    });

    it("docker: the off-site backup's S3 keys are root-owned files in the backup sidecar, in no env and no file (issue 14)", () => {
        const offsite = {
            endpoint: "https://fra1.digitaloceanspaces.com", bucket: "acme-db-backups",
            accessKeyId: { secret: "backupS3KeyId" }, secretAccessKey: { secret: "backupS3Secret" },
            recipient: "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
        };
        const r = runSynth("dev", [...refs("slipway/example-api:local"), "--set", `database.backup=${JSON.stringify({ intervalMinutes: 60, keep: 24, offsite })}`,
            "--secret", `backupS3KeyId=${PLANTED.s3Id}`, "--secret", `backupS3Secret=${PLANTED.s3Secret}`], ENV);
        assert.strictEqual(r.status, 0, r.stderr);
        const files = readTree(r.outDir);
        absentEverywhere(files);
        const resources = JSON.parse(files["resources.json"]!) as { type: string; name: string; inputs: { envs?: string[]; uploads?: unknown } }[];
        const sidecar = resources.find(x => x.type === "docker:index/container:Container" && x.name === "db-backup")!;
        for (const key of ["BACKUP_S3_ACCESS_KEY_ID", "BACKUP_S3_SECRET_ACCESS_KEY"]) {
            assert.ok(sidecar.inputs.envs!.includes(`${key}_FILE=/run/secrets/${key}`), sidecar.inputs.envs!.join(" "));
            assert.ok(!sidecar.inputs.envs!.some(e => e.startsWith(`${key}=`)), `${key} is not in the environment`);
        }
        assert.ok(sidecar.inputs.envs!.includes("BACKUP_S3_BUCKET=acme-db-backups"), "the plain settings stay readable");
    });

    it("do-app: SECRET envs in the App spec for the service env and the Sentry DSN; nothing in any file", () => {
        const r = runSynth("prod", [...refs("registry.digitalocean.com/slipway/example-api:1.0.0"),
            "--set", 'database.do={"size":"db-s-1vcpu-2gb","nodes":2}'], ENV);
        assert.strictEqual(r.status, 0, r.stderr);
        const files = readTree(r.outDir);
        absentEverywhere(files);
        const spec = JSON.parse(files["app-spec.json"]!) as { envs: { key: string; type: string }[]; services: { envs: { key: string; type: string }[] }[] };
        for (const key of ["PARTNER_API_TOKEN", "SENTRY_DSN", "DATABASE_URL", "STRIPE_SECRET_KEY"]) {
            assert.strictEqual(spec.envs.find(e => e.key === key)?.type, "SECRET", `${key} is a SECRET env`);
            assert.ok(!spec.services[0]!.envs.some(e => e.key === key), `${key} is not a plain service env`);
        }
    });

    it("registry tokens: the docker provider's registryAuth and the App's registryCredentials are secret; in no file", () => {
        const registry = (block: string) => ["--set", `${block}.registries=[{"host":"ghcr.io","username":"acme-ci","token":{"secret":"ghcrToken"}}]`,
            "--secret", `ghcrToken=${PLANTED.registry}`];
        const dev = runSynth("dev", [...refs("slipway/example-api:local"), ...registry("docker")], ENV);
        assert.strictEqual(dev.status, 0, dev.stderr);
        const devFiles = readTree(dev.outDir);
        absentEverywhere(devFiles);
        const provider = (JSON.parse(devFiles["resources.json"]!) as { type: string; inputs: { registryAuth?: unknown } }[])
            .find(x => x.type === "pulumi:providers:docker")!;
        assert.strictEqual(provider.inputs.registryAuth, "[secret]");

        const prod = runSynth("prod", [...refs("ghcr.io/acme/api:1.0.0"), ...registry("doApp"),
            "--set", 'database.do={"size":"db-s-1vcpu-2gb","nodes":2}'], ENV);
        assert.strictEqual(prod.status, 0, prod.stderr);
        const prodFiles = readTree(prod.outDir);
        absentEverywhere(prodFiles);
        const spec = JSON.parse(prodFiles["app-spec.json"]!) as { services: unknown };
        // The credential makes the engine treat the services list as one secret (README, "Private images").
        assert.ok(JSON.stringify(spec.services).includes("[secret]"), JSON.stringify(spec.services).slice(0, 300));
    });

    it("the preview comment of a preview that changes them shows none of them", async () => {
        // Two recordings of the prod App whose secrets differ, printed as the engine prints a
        // preview: wrapped values as secrets, everything else as is.
        const record = async (suffix: string) => (await recordInChild({
            stack: "prod",
            overrides: { "slipway:services": { api: { image: "registry.digitalocean.com/slipway/example-api:1.0.0", env: { PARTNER_API_TOKEN: { secret: "partnerApiToken" } } } } },
            secretOverrides: { "slipway:partnerApiToken": `${PLANTED.partner}${suffix}` },
            types: ["digitalocean:index/app:App"],
        }, { ...ENV, STRIPE_SECRET_KEY: `${PLANTED.stripe}${suffix}` }))[0]!;
        const [before, after] = [await record(""), await record("-rotated")];
        const asEngine = (v: unknown): unknown => isSecretValue(v) ? digestSecret(JSON.stringify(v.value))
            : Array.isArray(v) ? v.map(asEngine)
                : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asEngine(x)])) : v;
        const b = new DigestBuilder("prod", "slipway");
        b.update({
            type: "digitalocean:index/app:App", name: "app-app",
            old: { inputs: asEngine(before.wire) as Record<string, unknown> },
            new: { inputs: asEngine(after.wire) as Record<string, unknown> },
            diffReasons: ["spec"], detailedDiff: { "spec.envs": "update" },
        });
        const md = renderPreviewComment(parseDigest(JSON.stringify(b.digest())), { stack: "prod" }).markdown;
        for (const v of [...planted, `${PLANTED.partner}-rotated`, `${PLANTED.stripe}-rotated`]) assert.ok(!md.includes(v), `the comment shows ${v}`);
        assert.match(md, /spec/, "the App update is in the comment");
    });
});
