import * as assert from "assert";
import { isCredentialKey, isUrlKey, redactText, redactValue, sanitizePreview } from "../../cli/preview-comment/redact";
import { SECRET_TEXT, UNKNOWN, stripColour } from "../../cli/preview-comment/values";
import { secret } from "./digest-builder";

const join = (...parts: string[]) => parts.join("");
const pem = (edge: "BEGIN" | "END", kind: string) => join("-----", edge, " ", kind, "PRIVATE", " KEY-----");
const S = SECRET_TEXT;

describe("preview-comment: redaction by meaning (redact.ts)", () => {
    it("credential-named keys: environment, camelCase, snake_case and header spellings", () => {
        for (const k of [
            "password", "passwd", "DB_PASSWORD", "PGPASSWORD", "MYSQL_ROOT_PASSWORD", "DB_PASS", "passphrase", "secret", "client_secret",
            "clientSecret", "token", "GITHUB_TOKEN", "accessToken", "apiKey", "api_key", "APIKey", "X-Api-Key", "apikey", "STRIPE_SECRET_KEY",
            "NEW_RELIC_LICENSE_KEY", "SSH_KEY", "AWS_SECRET_ACCESS_KEY", "privateKey", "private_key", "privateKeyPem", "licenseKey",
            "credentials", "credential", "Authorization", "basic_auth",
        ]) assert.ok(isCredentialKey(k), `${k} should be a credential key`);
    });

    it("names that only mention a credential are not credential keys", () => {
        for (const k of [
            "key", "name", "image", "secrets", "secretName", "secretRef", "secret_arn", "tokenUrl", "maxTokens", "passwordLength",
            "POSTGRES_PASSWORD_FILE", "DATABASE_URL_FILE", "private_key_file", "publicKey", "PUBLIC_KEY", "sortKey", "cacheKey",
            "objectKey", "PRIMARY_KEY", "AWS_ACCESS_KEY_ID", "keyName", "monkey", "author", "keepers",
        ]) assert.ok(!isCredentialKey(k), `${k} should not be a credential key`);
    });

    it("URL-named keys", () => {
        for (const k of ["DATABASE_URL", "databaseUrl", "redisUri", "SENTRY_DSN", "connectionString", "url"]) assert.ok(isUrlKey(k), k);
        for (const k of ["DATABASE_URL_FILE", "urlPath", "host", "endpointId"]) assert.ok(!isUrlKey(k), k);
    });

    const redacted: Array<[string, string]> = [
        ["error: dial postgres://app:hunter2@db.internal:5432/orders failed", `error: dial postgres://app:${S}@db.internal:5432/orders failed`],
        ["redis://:s3cret@cache:6379/0", `redis://:${S}@cache:6379/0`],
        ["> Authorization: Bearer abc123def456ghi", `> Authorization: Bearer ${S}`],
        ["curl -H 'authorization: bearer abc123def456ghi' https://api", `curl -H 'authorization: bearer ${S}' https://api`],
        [`Basic ${Buffer.from("user:p4ss").toString("base64")}`, `Basic ${S}`],
        [join("STRIPE_SECRET_KEY=", "sk_live_", "51HkQ2eZvKYlo2C0"), `STRIPE_SECRET_KEY=${S}`],
        [join("the key ", "rk_test_", "51HkQ2eZvKYlo2C0", " is restricted"), `the key ${S} is restricted`],
        [join("token ", "ghp_", "a".repeat(36)), `token ${S}`],
        [join("github_pat_", "11AAAAAAA0", "b".repeat(40)), S],
        [join("xox", "b-", "1234567890-abcdefghij"), S],
        [join("https://hooks.slack.com/services/", "T000/B000/XXXXXXXXXXXX"), `https://hooks.slack.com/services/${S}`],
        [join("AKIA", "ABCDEFGHIJKLMNOP"), S],
        [join("NRAK-", "A1B2C3D4E5F6G7H8I9J0K1L2M3N"), S],
        [join("dop", "_v1_", "0123456789abcdef".repeat(4)), S],
        // PEM blocks are built from parts so no key-shaped literal sits in the repository.
        [join(pem("BEGIN", "RSA "), "\nMIIabc\n", pem("END", "RSA "), " after"), `${S} after`],
        [join(pem("BEGIN", ""), "\nMIIcut off"), S],
        [join("eyJhbGciOiJIUzI1NiJ9", ".", "eyJzdWIiOiIxMjM0NTY3ODkwIn0", ".", "abcDEF123"), S],
        ['{"password":"hunter2","user":"app"}', `{"password":"${S}","user":"app"}`],
        ["{'api_key': 'abc', 'region': 'fra1'}", `{'api_key': '${S}', 'region': 'fra1'}`],
        ["host=db user=app password=hunter2 dbname=orders", `host=db user=app password=${S} dbname=orders`],
        ["GET https://x.example/v1?api_key=abc123&page=2", `GET https://x.example/v1?api_key=${S}&page=2`],
        ["run --password=hunter2 --user=app", `run --password=${S} --user=app`],
        ["Server=db;User Id=app;Password=hunter2;Database=x", `Server=db;User Id=app;Password=${S};Database=x`],
        ["X-Api-Key: abc123", `X-Api-Key: ${S}`],
    ];
    for (const [input, output] of redacted) {
        it(`redacts ${JSON.stringify(input.slice(0, 40))}`, () => assert.strictEqual(redactText(input), output));
    }

    const kept = [
        "ghcr.io/acme/api:1.5.0", "postgres:16.4", "postgres://db:5432/orders", "https://api.example.com/v1?page=2&format=json",
        "ssh://git@github.com/acme/infra.git", "orders-pg-do-user-1.db.ondigitalocean.com", "www.example.com", "203.0.113.10",
        "POSTGRES_PASSWORD_FILE=/run/secrets/POSTGRES_PASSWORD", "PORT=8080", "POSTGRES_USER=orders", "LOG_LEVEL=debug",
        `sha256:${"a".repeat(64)}`, "0123456789abcdef0123456789abcdef01234567", "4a547cf7-0a04-4cf2-ae86-2eab499efc48",
        "use a Bearer token for the metrics endpoint", "Basic authentication is required", "error: password authentication failed for user \"app\"",
        "the secretName db-creds is missing", "maxTokens=4096", "pk_live_ is a publishable key prefix", "#!/bin/bash\necho \"Hello, World!\" > index.html",
        "error: unable to replace resource \"urn:pulumi:prod::slipway-demo::digitalocean:index/databaseCluster:DatabaseCluster::orders-cluster\"",
    ];
    it("keeps ordinary values: images, hosts, URLs without a password, *_FILE paths, hashes, ids, prose", () => {
        for (const v of kept) {
            assert.strictEqual(redactText(v), v);
            assert.strictEqual(redactValue(v), v);
        }
    });

    it("is idempotent", () => {
        for (const [input] of redacted) assert.strictEqual(redactText(redactText(input)), redactText(input));
    });

    it("values: credential-named keys, KEY=value env strings, name/value pairs, URL keys; booleans and unknowns kept", () => {
        const sk = join("sk_", "test_", "4eC39HqLyjWDarjtT1zdp7dc");
        const v = redactValue({
            password: "old", dbPassword: 1234, enabled: true, apiKey: UNKNOWN, token: "",
            envs: [`STRIPE_SECRET_KEY=${sk}`, "PORT=8080", "DATABASE_URL=https://deploy-token@git.example.com/x"],
            spec: { envs: [{ key: "APP_TOKEN", value: "t0k3n", type: "GENERAL" }, { key: "LOG_LEVEL", value: "debug" }, { key: "X", value: "EV[1:abc]", type: "SECRET" }] },
            uploads: [{ file: "/run/secrets/DB_PASSWORD", content: "pw" }, { file: "/etc/caddy/caddy.json", content: "{\"apps\":{}}" }],
            env: [{ name: "API_KEY", value: "k" }],
            DATABASE_URL: "postgres://app@db/orders", redisUrl: "redis://cache:6379",
            credentials: { username: "u", port: 5432, tls: false },
            wrapped: secret("hunter2"),
        });
        assert.deepStrictEqual(v, {
            password: S, dbPassword: S, enabled: true, apiKey: UNKNOWN, token: "",
            envs: [`STRIPE_SECRET_KEY=${S}`, "PORT=8080", `DATABASE_URL=https://${S}@git.example.com/x`],
            spec: { envs: [{ key: "APP_TOKEN", value: S, type: "GENERAL" }, { key: "LOG_LEVEL", value: "debug" }, { key: "X", value: S, type: "SECRET" }] },
            uploads: [{ file: "/run/secrets/DB_PASSWORD", content: S }, { file: "/etc/caddy/caddy.json", content: "{\"apps\":{}}" }],
            env: [{ name: "API_KEY", value: S }],
            DATABASE_URL: `postgres://${S}@db/orders`, redisUrl: "redis://cache:6379",
            credentials: { username: S, port: S, tls: false },
            wrapped: S,
        });
    });

    it("sanitizePreview: control characters out of every string, credentials out of values and diagnostics, wrapped secrets gone", () => {
        const urn = "urn:pulumi:dev::p::docker:index/container:Container::api-\u001b[31m1";
        const p = sanitizePreview({
            steps: [{
                op: "update", urn, type: "docker:index/container:Container",
                old: { urn, type: "docker:index/container:Container", inputs: { "pass\u0007word": "old", image: "a\u009b1m" }, outputs: { token: secret("x") } },
                new: { urn, inputs: { password: "new", image: "b" } },
                diffReasons: ["password"], replaceReasons: [], detailedDiff: { "pass\u001b[0mword": { kind: "update", inputDiff: true } },
            }],
            diagnostics: [{ severity: "error", urn, message: "error: \u001b[1mpostgres://a:b@c\u001b[0m" }],
            maybeCorrupt: false,
            incomplete: ["the event log `e\u0000.ndjson` could not be read"],
        });
        const strings = (v: unknown): string[] => typeof v === "string" ? [v]
            : Array.isArray(v) ? v.flatMap(strings)
                : v && typeof v === "object" ? Object.entries(v).flatMap(([k, x]) => [k, ...strings(x)]) : [];
        // eslint-disable-next-line no-control-regex
        for (const str of strings(p)) assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(str), JSON.stringify(str));
        assert.strictEqual(p.steps[0]?.urn, "urn:pulumi:dev::p::docker:index/container:Container::api-1");
        assert.deepStrictEqual(p.steps[0]?.old?.inputs, { password: S, image: "a" });
        assert.deepStrictEqual(p.steps[0]?.old?.outputs, { token: S });
        assert.deepStrictEqual(Object.keys(p.steps[0]?.detailedDiff ?? {}), ["password"]);
        assert.strictEqual(p.diagnostics[0]?.message, `error: postgres://a:${S}@c`);
        assert.deepStrictEqual(p.incomplete, ["the event log `e.ndjson` could not be read"]);
        assert.deepStrictEqual(sanitizePreview(p), p, "idempotent");
    });
});

describe("preview-comment: control characters (stripColour)", () => {
    it("strips 7-bit and 8-bit CSI/OSC/DCS, lone ESC, C0 except newline and tab, DEL, C1 and bidi controls", () => {
        const raw = "a\u009b31mb\u009b0m c\u009d8;;https://x\u009cd\u009d8;;\u009c e\u001bPqdata\u001b\\f g\u0000\u0007\u007f\u0085h\u001bc i\u202etxt.exe\u202c j\tk\nl";
        assert.strictEqual(stripColour(raw), "ab cd ef gh itxt.exe j\tk\nl");
    });
});
