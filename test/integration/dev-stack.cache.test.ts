import { strict as assert } from "assert";
import {
    C, DeployedStack, TEST_RATE_LIMITS, deployDevStack, eventually, generatedSecret, request, runLoad, sleep,
} from "./stack-under-test";

/** The API's cache key for the default page of GET /v1/items (examples/api/items_cache.go). */
const ITEMS_KEY = "slipway-example:items:list";

/**
 * The dev stack's cache on a real engine: its own deployment of the dev stack (Pulumi.dev.yaml,
 * slipway:cache included), so the figure it changes, the `writes` zone that throttles
 * /v1/items at the edge, is lifted from the start: caddy-ratelimit keeps a client's limiter
 * across a config reload, so lifting it on the shared stack would not take effect at once.
 */
describe("dev stack on a real engine: the cache", function () {
    this.timeout(12 * 60_000);
    let s: DeployedStack;

    before(async function () {
        this.timeout(25 * 60_000); // a fresh machine builds the images here
        s = await deployDevStack({ figures: { rateLimits: { ...TEST_RATE_LIMITS, writes: { events: 1_000_000, window: "1m" } } } });
    });

    after(async function () {
        this.timeout(180_000);
        await s?.h.cleanup();
    });

    /** A valkey-cli command in the cache server, authenticated from its own secret file (never an argument). */
    const valkey = (...args: string[]) => s.h.exec(s.name(C.cache), ["sh", "-c", `REDISCLI_AUTH="$(cat /run/secrets/REDIS_PASSWORD)" valkey-cli --raw ${args.join(" ")}`]);

    it("serves GET /v1/items from the cache, and from Postgres with the cache stopped under load: 0 failed requests", async function () {
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
        assert.deepEqual(hit!.json, first.json, "a hit answers what Postgres answered");
        // The page is the oldest 50 items: the new one is on it only while the table is short.
        if (first.json.items.length < 50) assert.ok(hit!.json.items.some((i: { name: string }) => i.name === name), "the page read after the create holds it");
        // In Valkey itself: the same page, with the TTL the API set.
        const stored = await valkey("GET", ITEMS_KEY);
        assert.equal(stored.exitCode, 0, stored.output);
        assert.deepEqual(JSON.parse(stored.output), hit!.json);
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

    it("keeps the cache password out of every log", async () => {
        const pw = generatedSecret(s.resources, "cache-password");
        for (const [logical, name] of s.h.containers) assert.ok(!(await s.h.logs(name, 100_000)).includes(pw), `${logical} logs the cache password`);
        const inspected = JSON.stringify(await s.h.inspect(s.name(C.cache)));
        assert.ok(!inspected.includes(pw), "docker inspect of the cache server shows its password");
    });
});
