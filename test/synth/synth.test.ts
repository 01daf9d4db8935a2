import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { appSpecErrors, upperCaseKeys } from "../helpers/do-schema";
import { readTree, ROOT, runSynth } from "../helpers/synth-run";

const GOLDEN = path.join(ROOT, "test/golden/synth");

function ok(r: ReturnType<typeof runSynth>) {
    assert.strictEqual(r.status, 0, `synth failed:\n${r.stdout}\n${r.stderr}`);
    return readTree(r.outDir);
}

/** Compare with a reviewed golden file; UPDATE_GOLDEN=1 rewrites it deliberately. */
function golden(name: string, actual: string) {
    const file = path.join(GOLDEN, name);
    if (process.env.UPDATE_GOLDEN === "1") {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, actual);
    }
    assert.ok(fs.existsSync(file), `missing golden ${file}: run with UPDATE_GOLDEN=1 and review the diff`);
    assert.strictEqual(actual, fs.readFileSync(file, "utf8"), `${name} changed: review, then UPDATE_GOLDEN=1`);
}

// Known values injected as secrets; none may appear anywhere in out/.
const PLANTED = {
    STRIPE_SECRET_KEY: "sk_live_PLANTED_stripe_4f1c9a",
    NEW_RELIC_LICENSE_KEY: "nrPLANTEDlicense000000000000000000000NRAL",
    ALERTS_SLACK_WEBHOOK: "https://hooks.slack.example/PLANTED/webhook",
};
const DB_PASSWORD = "PLANTED-db-password-7d2e";
const CACHE_PASSWORD = "PLANTED cache \"pass\" 9b1f";

describe("npm run synth", function () {
    this.timeout(300_000);

    describe("prod (do-app)", () => {
        let files: Record<string, string>;
        before(() => { files = ok(runSynth("prod", ["--set", 'database={"version":"16","password":{"secret":"dbPassword"},"do":{"size":"db-s-1vcpu-2gb","nodes":2}}', "--secret", `dbPassword=${DB_PASSWORD}`], PLANTED)); });

        it("writes an app-spec.json that DigitalOcean's schema accepts, all snake_case", () => {
            const spec = JSON.parse(files["app-spec.json"]!);
            assert.deepStrictEqual(appSpecErrors(spec), []);
            assert.deepStrictEqual(upperCaseKeys(spec), []);
            assert.strictEqual(spec.services[0].instance_size_slug, "apps-s-1vcpu-1gb");
            assert.strictEqual(spec.services[0].instance_count, 2);
            assert.deepStrictEqual(spec.domains.map((d: { domain: string }) => d.domain), ["api.example.com"]);
            // Secrets sit at the App level, so the service entry carries none (it stays readable in a preview).
            assert.deepStrictEqual(spec.services[0].envs.filter((e: { type: string }) => e.type === "SECRET"), []);
            const secretEnvs = spec.envs.filter((e: { type: string }) => e.type === "SECRET");
            assert.deepStrictEqual(secretEnvs.map((e: { key: string }) => e.key).sort(),
                ["DATABASE_URL", "OTEL_EXPORTER_OTLP_HEADERS", "SESSION_SECRET", "STRIPE_SECRET_KEY"]);
            assert.ok(secretEnvs.every((e: { value: string }) => e.value === "[secret]"));
        });

        it("leaks none of the injected secrets into any file, and keeps secret outputs secret", () => {
            for (const [name, content] of Object.entries(files)) {
                for (const v of [...Object.values(PLANTED), DB_PASSWORD, encodeURIComponent(DB_PASSWORD)]) {
                    assert.ok(!content.includes(v), `${name} contains a planted secret`);
                }
            }
            const outputs = JSON.parse(files["outputs.json"]!);
            assert.strictEqual(outputs.databaseUrl, "[secret]");
        });

        it("matches the reviewed golden app spec", () => golden("prod/app-spec.json", files["app-spec.json"]!));
    });

    describe("staging (docker, production on one internet-facing host)", () => {
        const SECRETS = {
            ghcrToken: "ghcr-PLANTED-token-0c41", backupS3KeyId: "S3KEYPLANTED0000A1", backupS3Secret: "s3-PLANTED-secret/9e+1",
            slackWarning: "https://hooks.slack.example/PLANTED/warn-77", slackCritical: "https://hooks.slack.example/PLANTED/crit-78",
        };
        let files: Record<string, string>;
        type Res = { type: string; name: string; inputs: Record<string, any>; options: { protect: boolean; retainOnDelete: boolean } };
        let resources: Res[];
        before(() => {
            files = ok(runSynth("staging", Object.entries(SECRETS).flatMap(([k, v]) => ["--secret", `${k}=${v}`])));
            resources = JSON.parse(files["resources.json"]!) as Res[];
        });
        const of = (type: string) => resources.filter(r => r.type === `docker:index/${type}`);

        it("reaches the engine over ssh with strict host key checking, and pulls with the registry token as a secret", () => {
            const provider = resources.find(r => r.type === "pulumi:providers:docker")!;
            assert.match(provider.inputs.host, /^ssh:\/\//);
            const sshOpts = JSON.parse(provider.inputs.sshOpts) as string[];
            assert.ok(sshOpts.includes("StrictHostKeyChecking=yes") && sshOpts.includes("BatchMode=yes"), sshOpts.join(" "));
            assert.strictEqual(provider.inputs.registryAuth, "[secret]");
        });

        it("publishes only the gateway, on 80 and 443, with a Let's Encrypt certificate for its domain", () => {
            const published = of("container:Container").filter(c => (c.inputs.ports ?? []).length);
            assert.deepStrictEqual(published.map(c => c.name), ["gateway-caddy"]);
            assert.deepStrictEqual(published[0]!.inputs.ports.map((p: { external: number }) => p.external).sort(), [443, 80]);
            const caddy = JSON.stringify(JSON.parse(files["caddy.json"]!).apps.tls);
            assert.match(caddy, /"module":"acme"/);
            assert.match(caddy, /api\.staging\.example\.com/);
            assert.doesNotMatch(caddy, /"ca":/, "Let's Encrypt production, Caddy's default, unless acme.directory says otherwise");
        });

        it("protects and retains the database's data and backups and the certificates", () => {
            for (const name of ["db-data", "db-backups", "gateway-data"]) {
                const v = of("volume:Volume").find(r => r.name === name)!;
                assert.ok(v.options.protect && v.options.retainOnDelete, `${name} protected and retained`);
            }
        });

        it("backs up off-site with the S3 keys as files, and pages through Alertmanager with the webhooks as files", () => {
            const backup = of("container:Container").find(c => c.name === "db-backup")!;
            const envs = (backup.inputs.envs ?? []) as string[];
            assert.ok(envs.some(e => /BACKUP_S3_.*_FILE=\/run\/secrets\//.test(e)), envs.join(" "));
            assert.match(envs.join(" "), /fra1\.digitaloceanspaces\.com/);
            assert.ok(files["alertmanager.yml"]!.includes("api_url_file"), "webhook URLs are files");
        });

        it("leaks none of its secrets into any synthesized file", () => {
            for (const [name, content] of Object.entries(files)) {
                for (const v of Object.values(SECRETS)) assert.ok(!content.includes(v), `${name} contains a planted secret`);
            }
        });
    });

    describe("staging behind Cloudflare (docker with cloudflare set, issue 17)", () => {
        const SECRETS = { ghcrToken: "g", backupS3KeyId: "k", backupS3Secret: "s", slackWarning: "https://w.example", slackCritical: "https://c.example" };
        const CF = { zoneId: "023e105f4ecef8ad9ca31a8372d0c353", originIpv4: "203.0.113.10", originIpv6: "2001:db8::10", plan: "business" };
        type Res = { type: string; name: string; parent: string; inputs: Record<string, any> };
        let files: Record<string, string>;
        let resources: Res[];
        before(() => {
            files = ok(runSynth("staging", ["--set", `gateway.cloudflare=${JSON.stringify(CF)}`, ...Object.entries(SECRETS).flatMap(([k, v]) => ["--secret", `${k}=${v}`])]));
            resources = JSON.parse(files["resources.json"]!) as Res[];
        });

        it("lists the DNS records, zone settings, rulesets and origin pulls next to the containers, under the Gateway", () => {
            const cf = resources.filter(r => r.type.startsWith("cloudflare:"));
            const names = (type: string) => cf.filter(r => r.type === `cloudflare:index/${type}`).map(r => r.name).sort();
            assert.deepStrictEqual(names("dnsRecord:DnsRecord"), ["gateway-cf-dns-a-api.staging.example.com", "gateway-cf-dns-aaaa-api.staging.example.com"]);
            assert.deepStrictEqual(names("zoneSetting:ZoneSetting"), ["gateway-cf-always-use-https", "gateway-cf-min-tls-version", "gateway-cf-security-header", "gateway-cf-ssl"]);
            assert.deepStrictEqual(names("ruleset:Ruleset"), ["gateway-cf-headers", "gateway-cf-ratelimit", "gateway-cf-waf-custom", "gateway-cf-waf-managed"]);
            assert.deepStrictEqual(names("authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings"), ["gateway-cf-origin-pulls"]);
            const gateway = resources.find(r => r.type === "slipway:gateway:Gateway")!;
            assert.ok(cf.every(r => r.parent.endsWith("::gateway")), "every Cloudflare resource is the Gateway's child");
            assert.ok(gateway);
            assert.ok(resources.some(r => r.type === "docker:index/container:Container" && r.name === "gateway-caddy"), "the containers are still there");
        });

        it("writes a caddy.json that trusts Cloudflare's ranges only and requires the origin-pull client certificate", () => {
            const edge = JSON.parse(files["caddy.json"]!).apps.http.servers.edge;
            assert.deepStrictEqual(edge.client_ip_headers, ["CF-Connecting-IP"]);
            assert.ok(edge.trusted_proxies.ranges.includes("173.245.48.0/20") && edge.trusted_proxies.ranges.includes("2400:cb00::/32"));
            assert.strictEqual(edge.tls_connection_policies[0].client_authentication.mode, "require_and_verify");
        });
    });

    describe("dev (docker)", () => {
        let files: Record<string, string>;
        before(() => {
            files = ok(runSynth("dev", [
                "--set", 'database={"version":"16","image":"slipway/postgres:local","password":{"secret":"dbPassword"}}', "--secret", `dbPassword=${DB_PASSWORD}`,
                "--set", 'cache={"image":"slipway/valkey:local","metrics":{"image":"slipway/valkey:local"},"password":{"secret":"cachePassword"}}', "--secret", `cachePassword=${CACHE_PASSWORD}`,
            ]));
        });

        it("writes the gateway's Caddy JSON, the alert rules and the Prometheus config", () => {
            assert.deepStrictEqual(Object.keys(files).sort(), ["alert-rules.yml", "caddy.json", "grafana-dashboard.json", "outputs.json", "prometheus.yml", "resources.json"]);
            const caddy = JSON.parse(files["caddy.json"]!);
            assert.ok(caddy.apps.http.servers, "caddy.json is Caddy's native JSON");
        });

        it("leaks neither the database password, the cache password (a { secret } reference) nor generated secrets", () => {
            for (const [name, content] of Object.entries(files)) {
                assert.ok(!content.includes(DB_PASSWORD) && !content.includes(encodeURIComponent(DB_PASSWORD)), `${name} contains the DB password`);
                for (const v of [CACHE_PASSWORD, encodeURIComponent(CACHE_PASSWORD), JSON.stringify(CACHE_PASSWORD).slice(1, -1), "PLANTED cache"]) {
                    assert.ok(!content.includes(v), `${name} contains the cache password`);
                }
            }
            // The reference reached the cache: its uploads, the one place the value goes, are a secret.
            const all = JSON.parse(files["resources.json"]!) as { type: string; name: string; inputs: Record<string, unknown> }[];
            const server = all.find(r => r.name === "cache-server")!;
            const uploads = server.inputs.uploads as { file: string; content: string }[];
            assert.deepEqual(uploads.map(u => [u.file, u.content]), [["/run/secrets/valkey-auth.conf", "[secret]"], ["/run/secrets/REDIS_PASSWORD", "[secret]"]]);
            assert.ok(!all.some(r => r.type === "random:index/randomPassword:RandomPassword" && r.name === "cache-password"), "a given password generates none");
            const resources = JSON.parse(files["resources.json"]!) as { type: string; inputs: Record<string, unknown> }[];
            const containers = resources.filter(r => r.type === "docker:index/container:Container");
            assert.ok(containers.length >= 4);
            for (const c of containers) {
                const envs = JSON.stringify(c.inputs.envs ?? []);
                assert.ok(!/PASSWORD=|DATABASE_URL=postgres/.test(envs), `${JSON.stringify(c.inputs.name ?? c)} has a secret in plain env`);
            }
        });

        for (const doc of ["caddy.json", "alert-rules.yml", "prometheus.yml"]) {
            it(`matches the reviewed golden ${doc}`, () => golden(`dev/${doc}`, files[doc]!));
        }
    });

    it("is byte-identical when run twice on an unchanged stack", () => {
        for (const stack of ["dev", "prod", "staging"]) {
            const a = ok(runSynth(stack));
            const b = ok(runSynth(stack));
            assert.deepStrictEqual(Object.keys(a), Object.keys(b));
            for (const f of Object.keys(a)) assert.strictEqual(a[f], b[f], `${stack}/${f} differs between two runs`);
        }
    });

    it("a failed synth leaves no out/<stack> from an earlier run behind", () => {
        const good = runSynth("dev");
        assert.strictEqual(good.status, 0, good.stderr);
        assert.ok(fs.existsSync(path.join(good.outDir, "resources.json")));
        const bad = spawnSync(process.execPath, ["-r", "ts-node/register", "cli/synth.ts", "dev", `--out=${good.outDir}`, "--set", "services.api.replicas=0"], {
            cwd: ROOT, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" }, encoding: "utf8", timeout: 120_000,
        });
        assert.notStrictEqual(bad.status, 0, "replicas: 0 must fail");
        assert.ok(!fs.existsSync(good.outDir), "the earlier run's files must be gone, not left looking current");
    });
});
