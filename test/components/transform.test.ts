// `transform` (issue 8): per child resource, args merged over the component's or a function editing
// copies of args and options; both forms must reach what the engine receives. `nodes` holds the
// children. A malformed transform is refused before anything registers.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Recorder, RecordedResource, valueOf } from "../../components/testing/recorder";
import { dockerTarget, doTarget, freshRecorder } from "../helpers/harness";
import { expectConfigError } from "../helpers/config-error";
import { domainArgs, localArgs } from "../unit/gateway-fixtures";

const CONTAINER = "docker:index/container:Container";
const VOLUME = "docker:index/volume:Volume";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const NETWORK = "docker:index/network:Network";
const PROVIDER = "pulumi:providers:docker";
const PASSWORD = "random:index/randomPassword:RandomPassword";
const CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster";
const DB_USER = "digitalocean:index/databaseUser:DatabaseUser";
const APP = "digitalocean:index/app:App";
const FIREWALL = "digitalocean:index/databaseFirewall:DatabaseFirewall";
const CHECK = "digitalocean:index/uptimeCheck:UptimeCheck";
const ALERT = "digitalocean:index/uptimeAlert:UptimeAlert";
const ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting";
const RULESET = "cloudflare:index/ruleset:Ruleset";
const DNS = "cloudflare:index/dnsRecord:DnsRecord";
const PAGES = "cloudflare:index/pagesProject:PagesProject";
const ACCOUNT = "0123456789abcdef0123456789abcdef";
const NOFILE = [{ name: "nofile", soft: 65536, hard: 65536 }];

/** The recorded resource a component created, by its URN. */
async function recordedOf(rec: Recorder, r: pulumi.Resource): Promise<RecordedResource> {
    const urn = await valueOf(r.urn);
    const found = rec.resources.find(x => x.urn === urn);
    assert.ok(found, `no registration for ${urn}`);
    return found;
}

const replicas = (rec: Recorder) => rec.ofType(CONTAINER).filter(c => /^api-[0-9a-f]{8}-\d$/.test(c.name));

describe("transform and nodes", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    describe("ApiService", () => {
        async function docker(transform?: unknown) {
            const target = await dockerTarget();
            const { ApiService } = await import("../../components/api-service");
            const svc = new ApiService("api", { target, image: "ghcr.io/acme/api:1.4.2", replicas: 2, env: { GO_ENV: "production" }, transform } as any);
            await rec.settle();
            return svc;
        }

        it("docker, object form: merges over every replica's args and the image's; names and release stay", async () => {
            await docker();
            const plain = replicas(rec).map(c => [c.name, c.inputs]);
            rec.clear();
            await docker({ container: { restart: "always", shmSize: 128 }, image: { keepLocally: false } });
            const now = replicas(rec);
            assert.deepEqual(now.map(c => c.name), plain.map(([n]) => n), "a transform changes no logical name (nor the release)");
            for (const c of now) {
                assert.equal(c.inputs.restart, "always");
                assert.equal(c.inputs.shmSize, 128);
                // Everything else as the component built it.
                assert.deepEqual(c.inputs.labels, (plain.find(([n]) => n === c.name)![1] as any).labels);
            }
            assert.equal(rec.get(REMOTE_IMAGE, "api-image").inputs.keepLocally, false);
        });

        it("docker, function form: edits copies of each replica's args and options, told the replica's name", async () => {
            const seen: string[] = [];
            const svc = await docker({
                container: (args: any, opts: pulumi.CustomResourceOptions, name: string) => {
                    seen.push(name);
                    args.ulimits = NOFILE;
                    // One env list is shared by the replicas: the edit must not pile up.
                    args.envs.push("EXTRA=1");
                    opts.ignoreChanges = ["labels"];
                },
            });
            const now = replicas(rec);
            assert.deepEqual(seen, now.map(c => c.name));
            for (const c of now) {
                assert.deepEqual(c.inputs.ulimits, NOFILE);
                assert.equal((c.inputs.envs as string[]).filter(e => e === "EXTRA=1").length, 1);
                assert.deepEqual(c.options.ignoreChanges, ["labels"]);
                assert.ok(c.options.provider, "the provider the component set is still there");
            }
            // nodes: the children it created, the same objects as the existing fields.
            assert.equal(svc.nodes.containers.length, 2);
            assert.equal(svc.nodes.containers, svc.containers);
            assert.equal(svc.nodes.image, svc.image);
            assert.deepEqual(await Promise.all(svc.nodes.containers.map(async c => (await recordedOf(rec, c)).name)), now.map(c => c.name));
            assert.equal((await recordedOf(rec, svc.nodes.image!)).type, REMOTE_IMAGE);
        });

        it("do-app: `service` edits the App spec entry before DoApp merges it, in both forms", async () => {
            const target = await doTarget();
            const { ApiService } = await import("../../components/api-service");
            const { DoApp } = await import("../../components/targets/do-app");
            const a = new ApiService("api", { target, image: "ghcr.io/acme/api:1.4.2", transform: { service: { instanceSizeSlug: "apps-d-1vcpu-2gb" } } });
            const seen: string[] = [];
            const b = new ApiService("media", {
                target, image: "ghcr.io/acme/media:2", transform: { service: (s, _opts, name) => { seen.push(name); s.instanceCount = 3; } },
            });
            assert.equal(a.appPart!.services![0]!.instanceSizeSlug, "apps-d-1vcpu-2gb");
            assert.equal(b.appPart!.services![0]!.instanceCount, 3);
            assert.deepEqual(seen, ["media"]);
            assert.deepEqual(a.nodes, { containers: [] });
            const app = new DoApp("app", { target, components: [a, b], secretValues: "send" });
            await app.app;
            await rec.settle();
            const spec = rec.get(APP, "app-app").inputs.spec as any;
            assert.deepEqual(spec.services.map((s: any) => [s.name, s.instanceSizeSlug, s.instanceCount]),
                [["api", "apps-d-1vcpu-2gb", 2], ["media", "apps-s-1vcpu-1gb", 3]]);
        });
    });

    describe("Gateway", () => {
        it("docker: container, loader and volumes, object and function forms; nodes", async () => {
            const target = await dockerTarget();
            const { Gateway } = await import("../../components/gateway");
            const volumes: string[] = [];
            const gw = new Gateway("edge", {
                ...localArgs(target),
                transform: {
                    container: (args, opts) => { args.ulimits = NOFILE; opts.ignoreChanges = ["labels"]; },
                    loader: { memory: 256, memorySwap: 256 },
                    volume: (_args, opts, name) => { volumes.push(name); opts.retainOnDelete = true; },
                },
            });
            await rec.settle();
            const caddy = rec.get(CONTAINER, "edge-caddy");
            assert.deepEqual(caddy.inputs.ulimits, NOFILE);
            assert.deepEqual(caddy.options.ignoreChanges, ["labels"]);
            assert.equal(caddy.options.deleteBeforeReplace, true, "the component's own options stay");
            const loader = rec.get(CONTAINER, `edge-config-${gw.configRevision}`);
            assert.deepEqual([loader.inputs.memory, loader.inputs.memorySwap], [256, 256]);
            assert.deepEqual(volumes, ["edge-caddy-config"]);
            assert.equal(rec.get(VOLUME, "edge-caddy-config").options.retainOnDelete, true);

            assert.equal((await recordedOf(rec, gw.nodes.container!)).name, "edge-caddy");
            assert.equal((await recordedOf(rec, gw.nodes.loader!)).name, loader.name);
            assert.equal((await recordedOf(rec, gw.nodes.configVolume!)).name, "edge-caddy-config");
            assert.equal((await recordedOf(rec, gw.nodes.image!)).name, "edge-image");
            assert.equal(gw.nodes.dataVolume, undefined, "no TLS, no certificates volume");
            assert.deepEqual([gw.nodes.zoneSettings, gw.nodes.rulesets], [[], []]);
        });

        it("do-app: the Cloudflare zone's settings and rulesets, object and function forms; nodes", async () => {
            const target = await doTarget();
            const { Gateway } = await import("../../components/gateway");
            const { accessLog: _drop, ...args } = domainArgs(target);
            const gw = new Gateway("edge", {
                ...args,
                // Enterprise: two zones, one keyed by a header (the Free plan takes one 10s zone by IP).
                cloudflare: { zoneId: "023e105f4ecef8ad9ca31a8372d0c353", plan: "enterprise" },
                transform: {
                    zoneSetting: (a, _opts, name) => { if (name === "edge-cf-min-tls-version") a.value = "1.3"; },
                    ruleset: { description: "owned by the platform team" },
                },
            });
            await rec.settle();
            assert.equal(rec.get(ZONE_SETTING, "edge-cf-min-tls-version").inputs.value, "1.3");
            assert.equal(rec.get(ZONE_SETTING, "edge-cf-ssl").inputs.value, "strict");
            const rulesets = rec.ofType(RULESET);
            assert.ok(rulesets.length > 1);
            for (const r of rulesets) assert.equal(r.inputs.description, "owned by the platform team");
            const names = async (rs: readonly pulumi.Resource[]) => (await Promise.all(rs.map(async r => (await recordedOf(rec, r)).name))).sort();
            assert.deepEqual(await names(gw.nodes.zoneSettings), rec.ofType(ZONE_SETTING).map(z => z.name).sort());
            assert.deepEqual(await names(gw.nodes.rulesets), rulesets.map(r => r.name).sort());
            assert.equal(gw.nodes.container, undefined);
        });
    });

    describe("ManagedDatabase", () => {
        it("docker: server, data volume, passwords and backup sidecar; nodes", async () => {
            const target = await dockerTarget();
            const { ManagedDatabase } = await import("../../components/managed-database");
            const passwords: string[] = [];
            const db = new ManagedDatabase("db", {
                target, schemas: [{ name: "core" }], backup: { intervalMinutes: 60 },
                transform: {
                    container: { shmSize: 1024 },
                    volume: (_args, opts) => { opts.retainOnDelete = true; },
                    password: (args, _opts, name) => { passwords.push(name); args.length = 48; },
                    backup: { memory: 512, memorySwap: 512 },
                },
            });
            await rec.settle();
            assert.equal(rec.get(CONTAINER, "db-server").inputs.shmSize, 1024);
            assert.equal(rec.get(VOLUME, "db-data").options.retainOnDelete, true);
            assert.deepEqual(passwords, ["db-password", "db-password-core"]);
            for (const p of rec.ofType(PASSWORD)) assert.equal(p.inputs.length, 48);
            assert.equal(rec.get(CONTAINER, "db-backup").inputs.memory, 512);

            assert.equal((await recordedOf(rec, db.nodes.container!)).name, "db-server");
            assert.equal((await recordedOf(rec, db.nodes.volume!)).name, "db-data");
            assert.equal((await recordedOf(rec, db.nodes.backup!)).name, "db-backup");
            assert.equal((await recordedOf(rec, db.nodes.backupVolume!)).name, "db-backups");
            assert.deepEqual(await Promise.all(db.nodes.passwords.map(async p => (await recordedOf(rec, p)).name)), ["db-password", "db-password-core"]);
            assert.deepEqual([db.nodes.cluster, db.nodes.schemaUsers], [undefined, []]);
        });

        it("do-app: cluster and users, object and function forms; nodes", async () => {
            const target = await doTarget();
            const { ManagedDatabase } = await import("../../components/managed-database");
            const db = new ManagedDatabase("db", {
                target, schemas: [{ name: "core" }], do: { pool: { name: "app_pool" } },
                transform: {
                    cluster: { storageSizeMib: "20480" },
                    user: (_args, opts, name) => { if (name === "db-user") opts.retainOnDelete = true; },
                    pool: { size: 20 },
                },
            });
            await rec.settle();
            assert.equal(rec.get(CLUSTER, "db-cluster").inputs.storageSizeMib, "20480");
            assert.equal(rec.get(CLUSTER, "db-cluster").options.protect, true, "the component's own options stay");
            assert.equal(rec.get(DB_USER, "db-user").options.retainOnDelete, true);
            assert.equal(rec.get(DB_USER, "db-user-core").options.retainOnDelete, false);
            assert.equal(rec.get("digitalocean:index/databaseConnectionPool:DatabaseConnectionPool", "db-pool").inputs.size, 20);

            assert.equal((await recordedOf(rec, db.nodes.cluster!)).name, "db-cluster");
            assert.equal((await recordedOf(rec, db.nodes.database!)).name, "db-db");
            assert.equal((await recordedOf(rec, db.nodes.user!)).name, "db-user");
            assert.equal((await recordedOf(rec, db.nodes.pool!)).name, "db-pool");
            assert.deepEqual(await Promise.all(db.nodes.schemaUsers.map(async u => (await recordedOf(rec, u)).name)), ["db-user-core"]);
            assert.deepEqual([db.nodes.container, db.nodes.passwords], [undefined, []]);
        });
    });

    describe("Observability", () => {
        it("docker: Prometheus and each linked service's target writer; writers join nodes as services link", async () => {
            const target = await dockerTarget();
            const { Observability } = await import("../../components/observability");
            const { ApiService } = await import("../../components/api-service");
            const obs = new Observability("obs", {
                target,
                transform: {
                    container: { shmSize: 64 },
                    targetsWriter: (args, opts, name) => { args.memory = 32; args.memorySwap = 32; opts.ignoreChanges = [name]; },
                },
            });
            assert.deepEqual(obs.nodes.writers, [], "no service has linked yet");
            new ApiService("api", { target, image: "ghcr.io/acme/api:1.4.2", link: [obs] });
            await rec.settle();
            assert.equal(rec.get(CONTAINER, "obs-prometheus").inputs.shmSize, 64);
            const writers = rec.ofType(CONTAINER).filter(c => c.name.startsWith("obs-targets-api-"));
            assert.equal(writers.length, 1);
            assert.deepEqual([writers[0]!.inputs.memory, writers[0]!.inputs.memorySwap], [32, 32]);
            assert.deepEqual(writers[0]!.options.ignoreChanges, [writers[0]!.name]);
            assert.ok(writers[0]!.options.dependsOn.length > 0, "still after the replicas it lists");

            assert.equal(obs.nodes.writers.length, 1);
            assert.equal((await recordedOf(rec, obs.nodes.writers[0]!)).name, writers[0]!.name);
            assert.equal((await recordedOf(rec, obs.nodes.prometheus!)).name, "obs-prometheus");
            assert.equal((await recordedOf(rec, obs.nodes.dataVolume!)).name, "obs-prometheus-data");
            assert.equal((await recordedOf(rec, obs.nodes.targetsVolume!)).name, "obs-prometheus-targets");
            assert.equal((await recordedOf(rec, obs.nodes.image!)).name, "obs-prometheus-image");
            assert.deepEqual([obs.nodes.uptimeCheck, obs.nodes.uptimeAlerts], [undefined, []]);
        });

        it("do-app: the uptime check and its alerts; nodes", async () => {
            const target = await doTarget();
            const { Observability } = await import("../../components/observability");
            const obs = new Observability("obs", {
                target,
                destinations: { emails: ["oncall@example.com"] },
                uptime: { url: "https://api.example.com/health" },
                transform: {
                    uptimeCheck: { regions: ["eu_west"] },
                    uptimeAlert: (args, _opts, name) => { if (name === "obs-uptime-down") args.period = "3m"; },
                },
            });
            await rec.settle();
            assert.deepEqual(rec.get(CHECK, "obs-uptime").inputs.regions, ["eu_west"]);
            assert.equal(rec.get(ALERT, "obs-uptime-down").inputs.period, "3m");
            assert.equal(rec.get(ALERT, "obs-uptime-latency").inputs.period, "5m");
            assert.equal((await recordedOf(rec, obs.nodes.uptimeCheck!)).name, "obs-uptime");
            assert.deepEqual(await Promise.all(obs.nodes.uptimeAlerts.map(async a => (await recordedOf(rec, a)).name)),
                ["obs-uptime-down", "obs-uptime-latency", "obs-uptime-ssl-expiry"]);
            assert.deepEqual([obs.nodes.prometheus, obs.nodes.writers], [undefined, []]);
        });
    });

    it("SecretsSync: generated passwords and Pages projects, object and function forms; nodes", async () => {
        const target = await doTarget();
        const { SecretsSync } = await import("../../components/secrets-sync");
        const s = new SecretsSync("secrets", {
            target,
            secrets: { SENTRY_AUTH_TOKEN: { value: pulumi.secret("t") }, SESSION_SECRET: { generate: {} } },
            pages: [{ accountId: ACCOUNT, projectName: "web", keys: ["SENTRY_AUTH_TOKEN"] }],
            transform: {
                password: { overrideSpecial: "-_" },
                pagesProject: (_args, opts) => { opts.protect = true; },
            },
        });
        await rec.settle();
        assert.equal(rec.get(PASSWORD, "secrets-session-secret").inputs.overrideSpecial, "-_");
        const pages = rec.get(PAGES, "secrets-pages-web");
        assert.equal(pages.options.protect, true);
        assert.equal(pages.options.retainOnDelete, true, "the component's own options stay");
        assert.deepEqual(Object.keys(s.nodes.passwords), ["SESSION_SECRET"]);
        assert.equal((await recordedOf(rec, s.nodes.passwords.SESSION_SECRET!)).name, "secrets-session-secret");
        assert.equal(s.nodes.pagesProjects, s.pagesProjects);
        assert.equal((await recordedOf(rec, s.nodes.pagesProjects[0]!)).name, "secrets-pages-web");
    });

    it("DockerHost: provider and network; nodes", async () => {
        const { DockerHost } = await import("../../components/targets/docker-host");
        const host = new DockerHost("host-tf", {
            environment: "dev",
            transform: {
                network: { ipamConfigs: [{ subnet: "172.30.0.0/24" }] },
                provider: (args) => { args.sshOpts = ["-o", "StrictHostKeyChecking=yes"]; },
            },
        });
        await rec.settle();
        const net = rec.get(NETWORK, "host-tf-network");
        assert.deepEqual(net.inputs.ipamConfigs, [{ subnet: "172.30.0.0/24" }]);
        assert.equal(net.inputs.name, "slipway-dev-net");
        assert.deepEqual(JSON.parse(rec.get(PROVIDER, "host-tf-provider").inputs.sshOpts as string), ["-o", "StrictHostKeyChecking=yes"]);
        assert.equal(host.nodes.network, host.network);
        assert.equal(host.nodes.provider, host.provider);
    });

    it("DoApp and CloudflareEdge: app, firewalls and records; nodes (the App's resolve with it)", async () => {
        const target = await doTarget();
        const { ManagedDatabase } = await import("../../components/managed-database");
        const { DoApp } = await import("../../components/targets/do-app");
        const { CloudflareEdge } = await import("../../components/targets/cloudflare-edge");
        const db = new ManagedDatabase("db", { target });
        const app = new DoApp("app", {
            target, components: [db], secretValues: "send",
            transform: {
                app: (_args, opts) => { opts.retainOnDelete = true; },
                firewall: { rules: [{ type: "ip_addr", value: "203.0.113.7" }] },
            },
        });
        const edge = new CloudflareEdge("edge", {
            app, records: [{ zoneId: "zone-1", hostname: "api.example.com", proxied: true }],
            transform: { record: { comment: "API" } },
        });
        const [a, firewalls] = await Promise.all([app.nodes.app, app.nodes.firewalls]);
        await rec.settle();
        assert.equal(a, await app.app);
        assert.equal(rec.get(APP, "app-app").options.retainOnDelete, true);
        assert.equal(rec.get(APP, "app-app").options.protect, true, "the component's own options stay");
        const fw = rec.get(FIREWALL, "app-db-firewall-db");
        assert.deepEqual(fw.inputs.rules, [{ type: "ip_addr", value: "203.0.113.7" }]);
        assert.deepEqual(fw.aliasSpecs!.map(s => s.name), ["app-db-firewall-manageddatabase-db"], "aliases stay");
        assert.deepEqual(await Promise.all(firewalls.map(async f => (await recordedOf(rec, f)).name)), ["app-db-firewall-db"]);
        assert.equal(rec.get(DNS, "edge-dns-api.example.com").inputs.comment, "API");
        assert.equal(edge.nodes.records, edge.records);
    });

    describe("a malformed transform is refused before anything registers", () => {
        type Case = { component: string; path: string; problem: RegExp; fix: RegExp; given: unknown; on: "docker" | "do-app"; build: (t: any, target: any) => Promise<unknown> };
        const cases: Case[] = [
            {
                component: 'ApiService "api"', path: "transform.containers", problem: /"containers" is not a child resource ApiService creates/, fix: /image, container, service/,
                given: { containers: {} }, on: "docker",
                build: async (t, target) => { const { ApiService } = await import("../../components/api-service"); return new ApiService("api", { target, image: "nginx:1", transform: t }); },
            },
            {
                component: 'Gateway "edge"', path: "transform.container", problem: /must be args to merge \(an object\) or a function/, fix: /container: \(args, opts\)/,
                given: { container: "always" }, on: "docker",
                build: async (t, target) => { const { Gateway } = await import("../../components/gateway"); return new Gateway("edge", { ...localArgs(target), transform: t }); },
            },
            {
                component: 'ManagedDatabase "db"', path: "transform", problem: /must be an object keyed by child resource, got an array/, fix: /cluster/,
                given: [], on: "do-app",
                build: async (t, target) => { const { ManagedDatabase } = await import("../../components/managed-database"); return new ManagedDatabase("db", { target, transform: t }); },
            },
            {
                component: 'Observability "obs"', path: "transform.prometheus", problem: /not a child resource Observability creates/, fix: /targetsWriter/,
                given: { prometheus: {} }, on: "docker",
                build: async (t, target) => { const { Observability } = await import("../../components/observability"); return new Observability("obs", { target, transform: t }); },
            },
            {
                component: 'SecretsSync "secrets"', path: "transform.password", problem: /got the string "long"/, fix: /password/,
                given: { password: "long" }, on: "do-app",
                build: async (t, target) => { const { SecretsSync } = await import("../../components/secrets-sync"); return new SecretsSync("secrets", { target, secrets: { A: { generate: {} } }, transform: t }); },
            },
            {
                component: 'DockerHost "host-bad"', path: "transform.volume", problem: /not a child resource DockerHost creates/, fix: /provider, network/,
                given: { volume: {} }, on: "docker",
                build: async t => { const { DockerHost } = await import("../../components/targets/docker-host"); return new DockerHost("host-bad", { environment: "dev", transform: t }); },
            },
            {
                component: 'DoApp "app"', path: "transform.app", problem: /got null/, fix: /app/,
                given: { app: null }, on: "do-app",
                build: async (t, target) => { const { DoApp } = await import("../../components/targets/do-app"); return new DoApp("app", { target, components: [], secretValues: "send", transform: t }); },
            },
            {
                component: 'CloudflareEdge "edge"', path: "transform.records", problem: /not a child resource CloudflareEdge creates/, fix: /use one of record$/,
                given: { records: {} }, on: "do-app",
                // Only `transform` is read before the throw: the App is never needed.
                build: async t => { const { CloudflareEdge } = await import("../../components/targets/cloudflare-edge"); return new CloudflareEdge("edge", { app: {} as any, records: [], transform: t }); },
            },
        ];
        for (const c of cases) {
            it(`${c.component.split(" ")[0]}: ${c.path}`, async () => {
                // Targets register resources of their own: make them first (expectConfigError then clears).
                const target = c.on === "docker" ? await dockerTarget() : await doTarget();
                await expectConfigError(rec, () => c.build(c.given, target), c);
            });
        }
    });
});
