import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { freshRecorder, doTarget } from "../helpers/harness";
import { Recorder, RecordedResource, createUrn, isSecretValue, redact, resolveAliases } from "../../components/testing/recorder";
import { DoApp, collectParts, fingerprintSecrets, secretValuePaths } from "../../components/targets/do-app";
import { CloudflareEdge } from "../../components/targets/cloudflare-edge";
import { AppContributor, AppPart, AppSpec, mergeAppSpecParts, redactAppSpec } from "../../components/targets/app-spec";
import { decideSecretRollout, knownValue } from "../../components/targets/secrets-rollout";

const service = (name: string, databaseUrl: pulumi.Input<string> = pulumi.secret("postgres://u:hunter2@h/db")): AppPart => ({
    owner: `ApiService "${name}"`,
    services: [{
        name, httpPort: 8080,
        image: { registryType: "DOCR", repository: name, tag: "1" },
        envs: [
            { key: "DATABASE_URL", value: databaseUrl, type: "SECRET", scope: "RUN_TIME" },
            { key: "LOG_FORMAT", value: "json", type: "GENERAL", scope: "RUN_TIME" },
        ],
    }],
});
const contributor = (appPart: AppPart, appDependencies?: unknown[]): AppContributor => ({ appPart, appDependencies });

/** True when a secret sits anywhere inside `v` (as the inputs went over the wire). */
const holdsSecret = (v: unknown): boolean =>
    isSecretValue(v) || (typeof v === "object" && v !== null && Object.values(v).some(holdsSecret));
/** The wire spec, unwrapped only at the top when the whole of it travelled as a secret. */
const wireSpec = (app: RecordedResource) =>
    (isSecretValue(app.wire.spec) ? app.wire.spec.value : app.wire.spec) as Record<string, unknown>;

/** The App once DoApp has decided the rollout and registered it. */
async function appOf(rec: Recorder, app: DoApp): Promise<RecordedResource> {
    await app.app;
    await rec.settle();
    const apps = rec.ofType("digitalocean:index/app:App");
    assert.strictEqual(apps.length, 1, "one App");
    return apps[0]!;
}

describe("DoApp", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    it("creates the single App and firewall rules trusting it; CloudflareEdge points proxied records at its ingress", async () => {
        const target = await doTarget();
        const app = new DoApp("app", {
            target,
            components: [contributor(service("core")), contributor({
                owner: 'ManagedDatabase "db"',
                trustedClusters: [{ key: "db", clusterId: "cluster-1" }],
            })],
            secretValues: "send",
        });
        new CloudflareEdge("edge", { app, records: [{ zoneId: "zone-1", hostname: "api.example.com", proxied: true }], production: target.production });
        const recorded = await appOf(rec, app);
        // The SDK lifts a nested secret to the whole property (pulumi/pulumi#17440).
        assert.ok(isSecretValue(recorded.inputs.spec), "spec carries a secret, so it must travel as one");
        const spec = redact(recorded.inputs.spec, true) as Record<string, any>;
        // The service's secret is hoisted to the App level; the service keeps its plain envs only.
        assert.deepStrictEqual((redactAppSpec(spec) as any).envs, [{ key: "DATABASE_URL", value: "[secret]", type: "SECRET", scope: "RUN_TIME" }]);
        assert.deepStrictEqual(spec.envs[0].value, "postgres://u:hunter2@h/db");
        assert.deepStrictEqual(spec.services[0].envs.map((e: any) => [e.key, e.type, e.value]), [["LOG_FORMAT", "GENERAL", "json"]]);
        // On the wire the secret is wrapped where it is, so a preview still shows the services.
        assert.strictEqual(holdsSecret(wireSpec(recorded).services), false, "no secret in spec.services");
        assert.strictEqual(holdsSecret(wireSpec(recorded).envs), true, "the secret is an app-level env");
        assert.strictEqual(spec.name, "shop-api");
        assert.strictEqual(spec.region, "fra");
        assert.strictEqual(recorded.options.protect, true, "production App is protected");
        const doApp = rec.get("slipway:targets:DoApp", "app");
        assert.strictEqual(recorded.parent, doApp.urn, "DoApp owns the App");

        const fw = rec.get("digitalocean:index/databaseFirewall:DatabaseFirewall", "app-db-firewall-db");
        assert.strictEqual((fw.inputs.rules as any)[0].type, "app");
        assert.match((fw.inputs.rules as any)[0].value, /^app-app-id-/);
        assert.strictEqual(fw.inputs.clusterId, "cluster-1");
        assert.strictEqual(fw.options.protect, true, "cutting the App off its database must be an explicit act in production");
        assert.strictEqual(fw.parent, doApp.urn);
        assert.deepStrictEqual(fw.aliasSpecs, [{ name: "app-db-firewall-manageddatabase-db", parentUrn: doApp.urn }],
            "the firewall keeps the name it had when it was named after its owner's label");

        const dns = rec.get("cloudflare:index/dnsRecord:DnsRecord", "edge-dns-api.example.com");
        assert.strictEqual(dns.inputs.type, "CNAME");
        assert.strictEqual(dns.inputs.proxied, true);
        assert.strictEqual(dns.inputs.zoneId, "zone-1");
        assert.match(String(dns.inputs.content), /^shop-api-[0-9a-f]{5}\.ondigitalocean\.app$/);
        assert.strictEqual(dns.options.protect, true, "production records are protected");
        assert.strictEqual(dns.parent, rec.get("slipway:targets:CloudflareEdge", "edge").urn);
        // (The provider adds its own type alias, for the record's pre-v6 type.)
        assert.deepStrictEqual(dns.aliasSpecs?.filter(a => a.name !== undefined), [{ name: "app-dns-api.example.com", parentUrn: doApp.urn }],
            "the record keeps the identity it had as a child of DoApp");
        assert.match(await new Promise<string>(r => app.liveUrl.apply(r)), /^https:\/\//);

        // What the engine makes of it against a state written before 0.2: both are found, not re-created.
        const old = (type: string, name: string) => createUrn(name, type, doApp.urn, "slipway", "test");
        const oldDns = old("cloudflare:index/dnsRecord:DnsRecord", "app-dns-api.example.com");
        const oldFw = old("digitalocean:index/databaseFirewall:DatabaseFirewall", "app-db-firewall-manageddatabase-db");
        const resolved = resolveAliases(rec.resources, [doApp.urn, oldDns, oldFw]);
        assert.strictEqual(resolved.get(dns.urn)?.previous, oldDns);
        assert.strictEqual(resolved.get(fw.urn)?.previous, oldFw);
    });

    it("includes a component reachable from the gateway without listing it, and each component once", async () => {
        const target = await doTarget();
        const { ApiService } = await import("../../components/api-service");
        const { Gateway } = await import("../../components/gateway");
        const { ManagedDatabase } = await import("../../components/managed-database");
        const db = new ManagedDatabase("db", { target });
        const api = new ApiService("api", { target, image: "registry.digitalocean.com/acme/api:1.0.0", link: [db] });
        const gateway = new Gateway("gateway", { target, routes: [{ pathPrefix: "/v1", service: api }] });
        assert.deepStrictEqual(collectParts([gateway]).map(p => p.owner), ['Gateway "gateway"', 'ApiService "api"', 'ManagedDatabase "db"']);
        // Listing what the gateway brings anyway changes nothing (no "already defined" error).
        assert.deepStrictEqual(collectParts([gateway, api, db, gateway]).map(p => p.owner), collectParts([gateway]).map(p => p.owner));

        const app = new DoApp("app", { target, components: [gateway], secretValues: "send" });
        const spec = redact((await appOf(rec, app)).inputs.spec, true) as Record<string, any>;
        assert.deepStrictEqual(spec.services.map((s: any) => s.name), ["api"], "the routed service, through the gateway");
        assert.deepStrictEqual(spec.databases.map((d: any) => d.name), ["db"], "the service's linked database, through the service");
        assert.deepStrictEqual(spec.ingress.rules.map((r: any) => r.component.name), ["api"]);
        assert.strictEqual(rec.ofType("digitalocean:index/databaseFirewall:DatabaseFirewall").length, 1,
            "the linked database's cluster trusts the App");
        assert.ok(spec.envs.some((e: any) => e.key === "DATABASE_URL" && e.type === "SECRET"));
    });

    it("fails before registering anything when two components collide", async () => {
        const target = await doTarget();
        assert.throws(() => new DoApp("app", { target, components: [contributor(service("core")), contributor({ ...service("core"), owner: 'ApiService "other"' })] }),
            /ApiService "other": services\[0\]\.name: component "core" is already defined by ApiService "core"/);
        await rec.settle();
        assert.deepStrictEqual(rec.resources.map(r => r.type), []);
    });

    it("keeps deployed secret values only when asked, and only the SECRET ones", async () => {
        const target = await doTarget();
        const app = new DoApp("app", { target, components: [contributor(service("core"))], secretValues: "keep-deployed" });
        assert.strictEqual(await app.secretRollout, "keep-deployed");
        const recorded = await appOf(rec, app);
        assert.deepStrictEqual(recorded.options.ignoreChanges, ["spec.envs[0].value"]);
        assert.deepStrictEqual(secretValuePaths({ name: "x", envs: [{ key: "A", type: "GENERAL" }] }), []);
    });

    it("sends secret values by default when no revision was deployed before", async () => {
        const target = await doTarget();
        const app = new DoApp("app", { target, components: [contributor(service("core"))] });
        assert.strictEqual(await app.secretRollout, "send");
        assert.deepStrictEqual((await appOf(rec, app)).options.ignoreChanges, []);
    });

    it("auto: keeps deployed values when the previous revision is this run's, sends them when it differs", async () => {
        const target = await doTarget();
        const current = await new Promise<string>(r => fingerprintSecrets(mergeAppSpecParts("shop-api", "fra", [service("core")])).apply(r));
        const same = new DoApp("same", { target, components: [contributor(service("core"))], previousSecretsRevision: current });
        assert.strictEqual(await same.secretRollout, "keep-deployed");
        assert.deepStrictEqual((await appOf(rec, same)).options.ignoreChanges, ["spec.envs[0].value"]);
        rec.clear();

        const rotated = new DoApp("rotated", { target, components: [contributor(service("core", pulumi.secret("postgres://u:new@h/db")))], previousSecretsRevision: current });
        assert.strictEqual(await rotated.secretRollout, "send");
        assert.deepStrictEqual((await appOf(rec, rotated)).options.ignoreChanges, []);
    });
});

describe("decideSecretRollout", () => {
    it("sends on the first update, keeps when the revision is unchanged, sends when it changed", async () => {
        await freshRecorder();
        assert.strictEqual(await decideSecretRollout(pulumi.output("abc"), undefined), "send");
        assert.strictEqual(await decideSecretRollout(pulumi.output("abc"), "abc"), "keep-deployed");
        assert.strictEqual(await decideSecretRollout(pulumi.output("abd"), "abc"), "send");
        assert.strictEqual(await decideSecretRollout(pulumi.secret("abc"), "abc"), "keep-deployed", "a secret fingerprint compares by value");
        assert.strictEqual(await decideSecretRollout(pulumi.output(pulumi.unknown as unknown as string), "abc"), "send");
    });

    it("knownValue tells a known value (secret or not) from an unknown one, without hanging", async () => {
        await freshRecorder();
        assert.deepEqual(await knownValue(pulumi.secret("s")), { known: true, value: "s" });
        assert.deepEqual(await knownValue(pulumi.output("p").apply(v => v + "!")), { known: true, value: "p!" });
        assert.deepEqual(await knownValue(pulumi.output(pulumi.unknown as unknown as string).apply(v => v + "!")), { known: false });
    });
});

describe("secretsRevision", () => {
    beforeEach(async () => { await freshRecorder(); });
    const part = (value: pulumi.Input<string>, appEnvs: { key: string; type: string }[] = [], serviceEnvs: { key: string; type: string; value: string }[] = []): AppPart => ({
        owner: 'ApiService "core"',
        envs: appEnvs.map(e => ({ ...e, value: "x", scope: "RUN_TIME" })),
        services: [{
            name: "core", image: { registryType: "DOCR", repository: "core", tag: "1" },
            envs: [...serviceEnvs.map(e => ({ ...e, scope: "RUN_TIME" })), { key: "DATABASE_URL", value: pulumi.secret(value), type: "SECRET", scope: "RUN_TIME" }],
        }],
    });
    const specOf = (p: AppPart): AppSpec => mergeAppSpecParts("shop-api", "fra", [p]);
    const rev = async (p: AppPart) => {
        const r = fingerprintSecrets(specOf(p));
        assert.strictEqual(await pulumi.isSecret(r), true);
        return new Promise<string>(res => r.apply(res));
    };

    it("follows every SECRET env value and its position, not just one component's secrets", async () => {
        const base = await rev(part("postgres://a"));
        assert.strictEqual(await rev(part("postgres://a")), base, "stable for the same secrets");
        assert.notStrictEqual(await rev(part("postgres://b")), base, "a changed database URL is a change");
        assert.notStrictEqual(await rev(part("postgres://a", [{ key: "A_PLAIN", type: "GENERAL" }])), base,
            "a shifted position is a change: ignoreChanges paths are positional");
        assert.strictEqual(await rev(part("postgres://a", [], [{ key: "A_PLAIN", type: "GENERAL", value: "y" }])), base,
            "a plain env of a service moves no secret (they are hoisted to spec.envs), so it is not a change");
    });

    it("is what the DoApp exports", async () => {
        const target = await doTarget();
        const app = new DoApp("app", { target, components: [contributor(part("postgres://a"))], secretValues: "send" });
        assert.strictEqual(await pulumi.isSecret(app.secretsRevision), true);
        assert.strictEqual(await new Promise<string>(r => app.secretsRevision.apply(r)), await rev(part("postgres://a")));
        await app.app;
    });

    it("is unknown while a secret value is unknown, so the rollout sends", async () => {
        const r = fingerprintSecrets(specOf(part(pulumi.output(pulumi.unknown as unknown as string))));
        assert.deepEqual(await knownValue(r), { known: false });
        assert.strictEqual(await decideSecretRollout(r, "anything"), "send");
    });
});
