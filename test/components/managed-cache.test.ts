import { strict as assert } from "assert";
import { isSecretValue, redact, Recorder, secretness, valueOf } from "../../components/testing/recorder";
import { redactAppSpec, toApiSpec } from "../../components/targets/app-spec";
import { appSpecErrors, upperCaseKeys } from "../helpers/do-schema";
import { dockerTarget, doTarget, freshRecorder } from "../helpers/harness";

const CONTAINER = "docker:index/container:Container";
const VOLUME = "docker:index/volume:Volume";
const CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster";
const FIREWALL = "digitalocean:index/databaseFirewall:DatabaseFirewall";
const KNOWN = "c@che pass\"word\\";

type Upload = { file: string; content: string; permissions?: string; owner?: string };
function uploadsOf(r: { inputs: Record<string, unknown> }): Upload[] {
    assert.ok(isSecretValue(r.inputs.uploads), "uploads carrying a password travel as one secret");
    return redact(r.inputs.uploads, true) as Upload[];
}
/** Everything of a container an engine shows in `docker inspect`: env, command, entrypoint, labels, healthcheck. */
const inspectable = (r: { inputs: Record<string, unknown> }) =>
    JSON.stringify(redact({ ...r.inputs, uploads: undefined }, true));

describe("ManagedCache", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    async function onDocker(args: Record<string, unknown> = {}, production = false) {
        const { ManagedCache } = await import("../../components/managed-cache");
        const target = await dockerTarget(production ? "prod" : "dev", production);
        const cache = new ManagedCache("cache", { target, ...args });
        await rec.settle();
        return cache;
    }

    describe("on docker", () => {
        it("runs valkey-server as uid 999 with maxmemory, the eviction policy and no published port, hardened like the others", async () => {
            await onDocker({ maxMemoryMb: 256, evictionPolicy: "volatile-ttl" });
            const c = rec.get(CONTAINER, "cache-server");
            assert.deepEqual(c.inputs.entrypoints, ["valkey-server"]);
            const cmd = c.inputs.command as string[];
            const arg = (flag: string) => cmd[cmd.indexOf(flag) + 1];
            assert.equal(arg("--maxmemory"), "256mb");
            assert.equal(arg("--maxmemory-policy"), "volatile-ttl");
            assert.equal(arg("--appendonly"), "no");
            assert.equal(arg("--include"), "/run/secrets/valkey-auth.conf");
            assert.equal(c.inputs.user, "999:999");
            assert.equal(c.inputs.ports, undefined, "not published by default");
            assert.deepEqual(c.inputs.securityOpts, ["no-new-privileges:true"]);
            assert.deepEqual(c.inputs.capabilities, { drops: ["ALL"] });
            assert.equal(c.inputs.memory, 256 + 64);
            assert.equal(c.inputs.memorySwap, c.inputs.memory);
            assert.equal(c.inputs.logDriver, "json-file");
            assert.equal(c.inputs.restart, "unless-stopped");
            assert.deepEqual((c.inputs.networksAdvanced as { aliases: string[] }[])[0]!.aliases, ["cache"]);
            const hc = c.inputs.healthcheck as { tests: string[] };
            assert.equal(hc.tests[0], "CMD-SHELL");
            assert.match(hc.tests[1]!, /grep -q PONG/, "an unauthenticated NOAUTH answer must not read as healthy");
            assert.equal(rec.ofType(VOLUME).length, 0, "no volume without persistence");
        });

        it("keeps the password out of env, command, entrypoint and healthcheck: a config include and a file, both uploaded as secrets", async () => {
            const cache = await onDocker({ password: KNOWN });
            for (const name of ["cache-server", "cache-exporter"]) {
                const c = rec.get(CONTAINER, name);
                assert.ok(!inspectable(c).includes(KNOWN) && !inspectable(c).includes(encodeURIComponent(KNOWN)), `${name} shows the password in docker inspect`);
                assert.equal(c.inputs.envs, undefined);
            }
            const ups = uploadsOf(rec.get(CONTAINER, "cache-server"));
            const conf = ups.find(u => u.file === "/run/secrets/valkey-auth.conf")!;
            // Valkey's config quoting: the quote and the backslash escaped, so the line parses back to the value.
            assert.equal(conf.content, 'requirepass "c@che pass\\"word\\\\"\n');
            assert.equal(ups.find(u => u.file === "/run/secrets/REDIS_PASSWORD")!.content, KNOWN);
            assert.ok(ups.every(u => u.permissions === "0444" && u.owner === undefined));
            const exporter = uploadsOf(rec.get(CONTAINER, "cache-exporter"))[0]!;
            assert.deepEqual(JSON.parse(exporter.content), { "redis://cache:6379": KNOWN });
            assert.ok((rec.get(CONTAINER, "cache-exporter").inputs.command as string[]).includes("--redis.password-file=/run/secrets/redis-exporter.json"));
            assert.equal(await secretness(cache.url), true);
            assert.equal(await valueOf(cache.url), `redis://:${encodeURIComponent(KNOWN)}@cache:6379/0`);
        });

        it("generates a password when none is given, and links REDIS_URL as a secret ordered after the server", async () => {
            const cache = await onDocker();
            assert.equal(rec.ofType("random:index/randomPassword:RandomPassword").length, 1);
            const link = cache.link({ service: "api", port: 8080 });
            assert.deepEqual(link.env!.map(e => [e.key, e.secret]), [["REDIS_URL", true]]);
            assert.equal(await secretness(link.env![0]!.value), true);
            assert.match(await valueOf(link.env![0]!.value), /^redis:\/\/:[A-Za-z0-9]{32}@cache:6379\/0$/);
            assert.deepEqual(link.docker!.dependsOn, [cache.nodes.container]);
        });

        it("delivers REDIS_URL to a linked ApiService as a secret file with REDIS_URL_FILE", async () => {
            const { ApiService } = await import("../../components/api-service");
            const cache = await onDocker();
            const target = await dockerTarget();
            new ApiService("api", { target, image: "ghcr.io/acme/api:1.0.0", link: [cache] });
            await rec.settle();
            const replica = rec.ofType(CONTAINER).find(r => r.name.startsWith("api-"))!;
            assert.ok((replica.inputs.envs as string[]).includes("REDIS_URL_FILE=/run/secrets/REDIS_URL"));
            assert.ok(!(replica.inputs.envs as unknown[]).some(e => typeof e === "string" && e.startsWith("REDIS_URL=")));
            const url = uploadsOf(replica).find(u => u.file === "/run/secrets/REDIS_URL")!;
            assert.equal(url.content, await valueOf(cache.url));
        });

        it("keeps the AOF on a named volume, protected and retained in production", async () => {
            await onDocker({ persistence: true }, true);
            const v = rec.get(VOLUME, "cache-data");
            assert.equal(v.options.protect, true);
            assert.equal(v.options.retainOnDelete, true);
            const c = rec.get(CONTAINER, "cache-server");
            const cmd = c.inputs.command as string[];
            assert.equal(cmd[cmd.indexOf("--appendonly") + 1], "yes");
            assert.equal((c.inputs.volumes as { containerPath: string }[])[0]!.containerPath, "/data");
            assert.equal(c.options.deleteBeforeReplace, true, "never two servers on one AOF");
        });

        it("neither protects nor retains the AOF volume outside production", async () => {
            await onDocker({ persistence: true }, false);
            assert.equal(rec.get(VOLUME, "cache-data").options.protect, false);
        });

        it("publishes only when asked, on the target's publish address", async () => {
            await onDocker({ publishPort: 16379 });
            assert.deepEqual(rec.get(CONTAINER, "cache-server").inputs.ports, [{ internal: 6379, external: 16379, ip: "127.0.0.1" }]);
        });

        it("runs the exporter from the server's image when they are the same, and none with metrics: false", async () => {
            await onDocker({ image: "slipway/valkey:local", metrics: { image: "slipway/valkey:local" } });
            assert.equal(rec.ofType("docker:index/remoteImage:RemoteImage").length, 1);
            const e = rec.get(CONTAINER, "cache-exporter");
            assert.deepEqual((e.inputs.networksAdvanced as { aliases: string[] }[])[0]!.aliases, ["cache-metrics"]);
            assert.equal(e.inputs.user, "999:999");
            rec.clear();
            await onDocker({ metrics: false });
            assert.equal(rec.ofType(CONTAINER).length, 1);
        });
    });

    describe("on do-app", () => {
        async function onDo(args: Record<string, unknown> = {}, production = true) {
            const { ManagedCache } = await import("../../components/managed-cache");
            const target = await doTarget(production ? "prod" : "dev", production);
            const cache = new ManagedCache("cache", { target, ...args });
            await rec.settle();
            return { cache, target };
        }

        it("creates a Valkey cluster in the App region's datacenter with the eviction policy in the API's spelling", async () => {
            const { cache } = await onDo({ evictionPolicy: "volatile-lru", do: { size: "db-s-1vcpu-2gb", nodes: 2 } });
            const c = rec.get(CLUSTER, "cache-cluster");
            assert.equal(c.inputs.engine, "valkey");
            assert.equal(c.inputs.version, "8");
            assert.equal(c.inputs.size, "db-s-1vcpu-2gb");
            assert.equal(c.inputs.nodeCount, 2);
            assert.equal(c.inputs.region, "fra1");
            assert.equal(c.inputs.evictionPolicy, "volatile_lru");
            assert.equal(c.options.protect, true);
            assert.equal(c.options.retainOnDelete, true);
            assert.equal(await secretness(cache.url), true);
            assert.match(await valueOf(cache.url), /^rediss:\/\/doadmin:fake-[^@]+@shop-api-cache-do-user-0\.db\.ondigitalocean\.com:25060$/);
            const link = cache.link({ service: "api", port: 8080 });
            assert.deepEqual(link.env!.map(e => [e.key, e.secret]), [["REDIS_URL", true]]);
        });

        it("prices one smallest node at seed 002's $15, and a size without a price as not estimated", async () => {
            const { cache } = await onDo();
            assert.deepEqual(await valueOf(cache.monthlyCost), { usd: 15, items: [{ what: "Managed Valkey db-s-1vcpu-1gb node", quantity: 1, unitUsd: 15, usd: 15 }] });
            rec.clear();
            const other = await onDo({ do: { size: "db-s-2vcpu-4gb" } });
            assert.equal((await valueOf(other.cache.monthlyCost)).usd, undefined);
        });

        it("puts the cluster in an App spec DigitalOcean's schema accepts, behind a firewall that trusts only the App", async () => {
            const { ApiService, DoApp, Gateway } = await import("../../components");
            const { cache, target } = await onDo();
            const api = new ApiService("api", { target, image: "registry.digitalocean.com/acme/api:1.0.0", link: [cache] });
            const gateway = new Gateway("edge", { target, routes: [{ pathPrefix: "/", service: api }] });
            const app = new DoApp("app", { target, components: [gateway] });
            await app.app;
            await rec.settle();
            const apps = rec.ofType("digitalocean:index/app:App");
            assert.equal(apps.length, 1);
            const spec = toApiSpec(redactAppSpec(redact(apps[0]!.inputs.spec, true))) as Record<string, any>;
            assert.deepEqual(appSpecErrors(spec), []);
            assert.deepEqual(upperCaseKeys(spec), []);
            assert.deepEqual(spec.databases, [{ name: "cache", engine: "VALKEY", production: true, cluster_name: "shop-api-cache" }]);
            // The URL is an App-level SECRET (redacted in the spec a preview prints), not in the service entry.
            assert.deepEqual(spec.envs.filter((e: { key: string }) => e.key === "REDIS_URL"), [{ key: "REDIS_URL", value: "[secret]", type: "SECRET", scope: "RUN_TIME" }]);
            assert.ok(!JSON.stringify(spec.services).includes("REDIS_URL"));
            const firewalls = rec.ofType(FIREWALL);
            assert.deepEqual(firewalls.map(f => f.name), ["app-db-firewall-cache"]);
            const fw = firewalls[0]!;
            assert.equal(fw.inputs.clusterId, await valueOf(cache.nodes.cluster!.id));
            // One rule, of type app, naming this App: no IP, droplet or tag can reach the cluster.
            const rules = fw.inputs.rules as { type: string; value: string }[];
            assert.equal(rules.length, 1);
            assert.equal(rules[0]!.type, "app");
            assert.equal(rules[0]!.value, await valueOf(app.app.then(a => a.id)));
        });
    });
});
