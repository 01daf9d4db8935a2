import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { freshRecorder, doTarget } from "../helpers/harness";
import { Recorder, isSecretValue, redact } from "../../components/testing/recorder";
import { DoApp, secretValuePaths } from "../../components/targets/do-app";
import { AppSpecPart, redactAppSpec } from "../../components/targets/app-spec";
import { planSecretRollout } from "../../components/targets/secrets-rollout";

const service = (name: string): AppSpecPart => ({
    source: `ApiService "${name}"`,
    services: [{
        name, httpPort: 8080,
        image: { registryType: "DOCR", repository: name, tag: "1" },
        envs: [
            { key: "DATABASE_URL", value: pulumi.secret("postgres://u:hunter2@h/db"), type: "SECRET", scope: "RUN_TIME" },
            { key: "LOG_FORMAT", value: "json", type: "GENERAL", scope: "RUN_TIME" },
        ],
    }],
});

describe("DoApp", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    it("creates the single App, firewall rules trusting it and proxied records to its ingress", async () => {
        const target = await doTarget();
        target.contributors.add('ApiService "core"');
        const app = new DoApp("app", {
            target,
            parts: [service("core"), {
                source: "extras",
                trustedClusterIds: ["cluster-1"],
                edgeRecords: [{ zoneId: "zone-1", hostname: "api.example.com", proxied: true }],
            }],
        });
        await rec.settle();
        const apps = rec.ofType("digitalocean:index/app:App");
        assert.strictEqual(apps.length, 1);
        // The engine lifts a nested secret to the whole property (pulumi/pulumi#17440).
        assert.ok(isSecretValue(apps[0]!.inputs.spec), "spec carries a secret, so it must travel as one");
        const spec = redact(apps[0]!.inputs.spec, true) as Record<string, any>;
        assert.deepStrictEqual((redactAppSpec(spec) as any).services[0].envs.map((e: any) => e.value), ["[secret]", "json"]);
        assert.strictEqual(spec.name, "shop-api");
        assert.strictEqual(spec.region, "fra");
        assert.strictEqual(apps[0]!.options.protect, true, "production App is protected");

        const fw = rec.get("digitalocean:index/databaseFirewall:DatabaseFirewall", "app-db-firewall-extras");
        assert.strictEqual((fw.inputs.rules as any)[0].type, "app");
        assert.match((fw.inputs.rules as any)[0].value, /^app-app-id-/);
        assert.strictEqual(fw.inputs.clusterId, "cluster-1");
        assert.strictEqual(fw.options.protect, true, "cutting the App off its database must be an explicit act in production");

        const dns = rec.get("cloudflare:index/dnsRecord:DnsRecord", "app-dns-api.example.com");
        assert.strictEqual(dns.inputs.type, "CNAME");
        assert.strictEqual(dns.inputs.proxied, true);
        assert.match(String(dns.inputs.content), /^shop-api-[0-9a-f]{5}\.ondigitalocean\.app$/);
        assert.match(await new Promise<string>(r => app.liveUrl.apply(r)), /^https:\/\//);
    });

    it("fails before registering anything when a contributor was left out", async () => {
        const target = await doTarget();
        target.contributors.add('ApiService "core"');
        target.contributors.add('ManagedDatabase "db"');
        assert.throws(() => new DoApp("app", { target, parts: [service("core")] }),
            /DoApp "app": parts: ManagedDatabase "db" targets do-app but was not passed to DoApp\. Fix: add every component/);
        await rec.settle();
        assert.deepStrictEqual(rec.resources.map(r => r.type), []);
    });

    it("keeps deployed secret values only when asked, and only the SECRET ones", async () => {
        const target = await doTarget();
        target.contributors.add('ApiService "core"');
        new DoApp("app", { target, parts: [service("core")], secretValues: "keep-deployed" });
        await rec.settle();
        const app = rec.ofType("digitalocean:index/app:App")[0]!;
        assert.deepStrictEqual(app.options.ignoreChanges, ["spec.services[0].envs[0].value"]);
        assert.deepStrictEqual(secretValuePaths({ name: "x", envs: [{ key: "A", type: "GENERAL" }] }), []);
    });
});

describe("planSecretRollout", () => {
    it("sends on the first update, keeps when the revision is unchanged, sends when it changed", async () => {
        await freshRecorder();
        assert.strictEqual(await planSecretRollout(pulumi.output("abc"), undefined), "send");
        assert.strictEqual(await planSecretRollout(pulumi.output("abc"), "abc"), "keep-deployed");
        assert.strictEqual(await planSecretRollout(pulumi.output("abd"), "abc"), "send");
    });
});

describe("secretsRevision", () => {
    beforeEach(async () => { await freshRecorder(); });
    const part = (value: pulumi.Input<string>, extra: { key: string; type: string }[] = []): AppSpecPart => ({
        source: 'ApiService "core"',
        services: [{
            name: "core", image: { registryType: "DOCR", repository: "core", tag: "1" },
            envs: [...extra.map(e => ({ ...e, value: "x", scope: "RUN_TIME" })), { key: "DATABASE_URL", value: pulumi.secret(value), type: "SECRET", scope: "RUN_TIME" }],
        }],
    });
    const rev = async (p: AppSpecPart) => {
        const target = await doTarget();
        const { secretsRevision } = await import("../../components/targets/do-app");
        const r = secretsRevision(target, [p]);
        assert.strictEqual(await pulumi.isSecret(r), true);
        return new Promise<string>(res => r.apply(res));
    };

    it("follows every SECRET env value and its position, not just one component's secrets", async () => {
        const base = await rev(part("postgres://a"));
        assert.strictEqual(await rev(part("postgres://a")), base, "stable for the same secrets");
        assert.notStrictEqual(await rev(part("postgres://b")), base, "a changed database URL is a change");
        assert.notStrictEqual(await rev(part("postgres://a", [{ key: "A_PLAIN", type: "GENERAL" }])), base,
            "a shifted position is a change: ignoreChanges paths are positional");
    });

    it("is unknown while a secret value is unknown, so the rollout sends", async () => {
        const target = await doTarget();
        const { secretsRevision } = await import("../../components/targets/do-app");
        const r = secretsRevision(target, [part(pulumi.output(pulumi.unknown as unknown as string))]);
        assert.strictEqual(await (r as any).isKnown, false);
        assert.strictEqual(await planSecretRollout(r, "anything"), "send");
    });
});
