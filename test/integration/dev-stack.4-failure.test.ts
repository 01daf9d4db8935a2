import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { RUN_LABEL, TYPES } from "./harness";
import {
    C, DeployedStack, eventually, gatewayConfig, generatedSecret, recordFigures, request, runLoad, sharedStack, sleep, teardownShared,
} from "./stack-under-test";

/** The gateway's upstream health settings, from the generated Caddy config. */
function upstreamHealth(s: DeployedStack): any {
    const cfg = gatewayConfig(s.resources);
    return (cfg.apps.http.servers.edge.routes as any[]).flatMap(r => r.handle).find((h: any) => h.handler === "reverse_proxy").health_checks;
}

/** The API's cache key for the default page of GET /v1/items (examples/api/items_cache.go). */
const ITEMS_KEY = "slipway-example:items:list";

/**
 * The dev stack on a real engine, part 4 (destructive, so last): the cache stopped under load,
 * Postgres down and back, the gateway killed, then everything the run created removed.
 */

describe("dev stack on a real engine: failures and cleanup", function () {
    this.timeout(10 * 60_000);
    let s: DeployedStack;

    before(async function () {
        this.timeout(25 * 60_000);
        s = await sharedStack();
    });

    /** A valkey-cli command in the cache server, authenticated from its own secret file (never an argument). */
    const valkey = (...args: string[]) => s.h.exec(s.name(C.cache), ["sh", "-c", `REDISCLI_AUTH="$(cat /run/secrets/REDIS_PASSWORD)" valkey-cli --raw ${args.join(" ")}`]);

    it("serves GET /v1/items from the cache, and from Postgres with the cache stopped under load: 0 failed requests", async function () {
        this.timeout(12 * 60_000);
        // /v1/items sits in the edge's `writes` zone (a few per second); a figure, lifted for the load.
        const lifted = { ...s.figures.rateLimits, writes: { events: 1_000_000, window: "1m" } };
        await s.up(await recordFigures(s, { rateLimits: lifted }));
        await s.h.waitHealthy([s.name(C.gateway)], 90_000);

        const name = `cached-${s.h.runId}`;
        const created = await request(s.port, "POST", "/v1/items", { body: { name } });
        assert.equal(created.status, 201, created.text);
        // The create dropped the cached page: the next read comes from Postgres and fills the cache,
        // then one replica or the other answers from it (both share the one cache).
        const first = await request(s.port, "GET", "/v1/items");
        assert.equal(first.status, 200, first.text);
        assert.equal(first.headers["x-cache"], "miss");
        let hit: Awaited<ReturnType<typeof request>> | undefined;
        await eventually("a cache hit", 20_000, async () => {
            hit = await request(s.port, "GET", "/v1/items");
            return hit.headers["x-cache"] === "hit";
        }, 100);
        assert.ok(hit!.json.items.some((i: { name: string }) => i.name === name), "the cached page holds the new item");
        assert.deepEqual(hit!.json, first.json, "a hit answers what Postgres answered");
        // In Valkey itself, with the TTL the API set.
        const ttl = await valkey("PTTL", ITEMS_KEY);
        assert.equal(ttl.exitCode, 0, ttl.output);
        assert.ok(Number(ttl.output.trim()) > 0 && Number(ttl.output.trim()) <= 30_000, `PTTL ${ttl.output}`);
        // Prometheus scrapes the exporter, which reaches the server with the password from its file.
        const prom = s.name(C.prometheus);
        await eventually("redis_up 1 in Prometheus", 90_000, async () => {
            const q = await s.h.exec(prom, ["wget", "-q", "-O", "-", "http://127.0.0.1:9090/api/v1/query?query=redis_up"]);
            return JSON.parse(q.output).data.result.some((r: { value: [number, string] }) => r.value[1] === "1");
        }, 1000);

        // Stop the cache under steady load through the gateway, hold it down, start it again.
        const cache = s.name(C.cache);
        const states = new Map<string, number>();
        const outage = (async () => {
            await sleep(3000);
            await s.h.engine.request("POST", `/containers/${encodeURIComponent(cache)}/stop?t=10`, { timeoutMs: 40_000 });
            assert.equal((await s.h.inspect(cache)).State.Running, false);
            await sleep(5000);
            await s.h.engine.request("POST", `/containers/${encodeURIComponent(cache)}/start`, { ok: [304] });
            await s.h.waitHealthy([cache], 60_000);
            await sleep(3000); // hits again once a replica refills the (empty) cache
        })();
        const load = await runLoad({
            port: s.port, paths: ["/v1/items"], concurrency: 8, ratePerSec: 150,
            minRequests: 2000, maxRequests: 6000, maxMs: 180_000, until: outage,
            onReply: (_p, r) => { const x = String(r.headers["x-cache"]); states.set(x, (states.get(x) ?? 0) + 1); },
        });
        await outage;
        console.log(`      cache stopped under load: ${load.sent} GET /v1/items in ${load.durationMs} ms, p50 ${load.p50.toFixed(1)} ms, ` +
            `p99 ${load.p99.toFixed(1)} ms, X-Cache ${JSON.stringify([...states])}, failures ${JSON.stringify(load.failures.slice(0, 5))}`);
        assert.ok(load.sent >= 2000, `only ${load.sent} requests`);
        assert.deepEqual(load.failures, [], "no request failed while the cache was down");
        assert.equal(load.ok, load.sent);
        assert.ok((states.get("down") ?? 0) > 0, "the API saw the cache down (and served from Postgres)");
        assert.ok((states.get("hit") ?? 0) > 0, "the API served hits");
        // Back: hits again from the restarted (empty) cache.
        await eventually("hits again after the restart", 30_000, async () => (await request(s.port, "GET", "/v1/items")).headers["x-cache"] === "hit", 200);
    });

    /** /health inside each API replica, past the gateway. */
    const replicaHealth = async () => Promise.all(s.apiNames().map(async n =>
        (await s.h.exec(n, ["wget", "-q", "-O", "-", "http://127.0.0.1:8080/health"])).exitCode));

    it("with Postgres stopped, /ready fails while /health stays up; started again, it recovers by itself", async () => {
        const db = s.name(C.db);
        const grace = (await s.h.inspect(db)).Config.StopTimeout ?? 10;
        await s.h.engine.request("POST", `/containers/${encodeURIComponent(db)}/stop?t=${grace}`, { timeoutMs: (grace + 30) * 1000 });
        const failedAfter = await eventually("failing /ready", 20_000, async () => (await request(s.port, "GET", "/ready")).status === 503);
        // Held down past the gateway's active health interval and passive failure budget, probing
        // both endpoints through the gateway as a monitor would.
        const interval = upstreamHealth(s).active.interval as string;
        const holdMs = Number(/^(\d+)s$/.exec(interval)![1]) * 1000 + 3000;
        const seen = { ready: new Map<number, number>(), health: new Map<number, number>() };
        for (const t0 = Date.now(); Date.now() - t0 < holdMs;) {
            for (const p of ["ready", "health"] as const) {
                const st = (await request(s.port, "GET", `/${p}`)).status;
                seen[p].set(st, (seen[p].get(st) ?? 0) + 1);
            }
            await sleep(250);
        }
        console.log(`      Postgres stopped: /ready failing after ${failedAfter} ms; over ${holdMs} ms via the gateway ` +
            `/ready ${JSON.stringify([...seen.ready])}, /health ${JSON.stringify([...seen.health])}`);
        assert.deepEqual([...seen.ready.keys()], [503]);
        assert.deepEqual([...seen.health.keys()], [200], "/health through the gateway stays up");
        assert.deepEqual(await replicaHealth(), [0, 0], "the API processes are alive");
        // A stopped container stays stopped (unless-stopped), so recovery below is the stack's own doing.
        assert.equal((await s.h.inspect(db)).State.Running, false);

        await s.h.engine.request("POST", `/containers/${encodeURIComponent(db)}/start`, { ok: [304] });
        await s.h.waitHealthy([db], 90_000);
        const back = await eventually("ready again", 60_000, async () => (await request(s.port, "GET", "/ready")).status === 200, 500);
        console.log(`      Postgres started: /ready 200 again ${back} ms after it was healthy`);
        const created = await request(s.port, "POST", "/v1/items", { body: { name: "after the outage" } });
        assert.equal(created.status, 201, created.text);
        // The replicas' own probes turned them unhealthy during the outage; Docker flips them back
        // only at their next passing probe, so wait for that (waitHealthy fails fast on "unhealthy").
        await eventually("every API replica healthy again", 60_000, async () => {
            const states = await Promise.all(s.apiNames().map(async n => (await s.h.inspect(n)).State.Health?.Status));
            return states.every(st => st === "healthy");
        });
    });

    it("brings a killed gateway back by its restart policy", async () => {
        const gw = s.name(C.gateway);
        const before = await s.h.inspect(gw);
        assert.equal(before.HostConfig.RestartPolicy.Name, "unless-stopped");
        // A crash, not a `docker stop`/`kill` (which Docker counts as a manual stop): SIGKILL to the
        // container's main process, which this run started.
        process.kill(before.State.Pid, "SIGKILL");
        await eventually("restarted", 30_000, async () => {
            const st = await s.h.inspect(gw);
            return st.RestartCount > before.RestartCount && st.State.Running;
        });
        await s.h.waitHealthy([gw], 60_000);
        assert.equal((await request(s.port, "GET", "/health")).status, 200);
        const after = await s.h.inspect(gw);
        assert.equal(after.Id, before.Id, "the same container, restarted");
        assert.ok(after.State.Pid !== before.State.Pid);
    });

    it("leaves no secret in any log, then removes every container, network and volume it created", async () => {
        const secrets = [generatedSecret(s.resources, "db-password"), generatedSecret(s.resources, "secrets-session-secret"), generatedSecret(s.resources, "cache-password")];
        for (const [logical, name] of s.h.containers) {
            const logs = await s.h.logs(name, 100_000);
            for (const x of secrets) assert.ok(!logs.includes(x), `${logical} logs a secret`);
        }
        // Exactly what the deployed recording declares: nothing left over from the ups before.
        const declared = (type: string) => s.resources.filter(r => r.type === type).length;
        const want = { containers: declared(TYPES.container), networks: declared(TYPES.network), volumes: declared(TYPES.volume) };
        const owned = await s.h.owned();
        assert.deepEqual({ containers: owned.containers.length, networks: owned.networks.length, volumes: owned.volumes.length }, want);
        const removed = await teardownShared();
        assert.deepEqual(removed, want);
        const cli = (what: string) => execFileSync("docker", [what, "ls", ...(what === "container" ? ["-a"] : []), "-q", "--filter", `label=${RUN_LABEL}=${s.h.runId}`], { encoding: "utf8" }).trim();
        assert.equal(cli("container") + cli("network") + cli("volume"), "");
    });
});
