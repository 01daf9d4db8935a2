import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import { NoRetryResult, noRetryLoad } from "./no-retry-load";
import { C, DeployedStack, deployDevStack, recordFigures, sleep } from "./stack-under-test";

/**
 * Gateway changes cost no request, even to a client that never retries. On the real engine
 * through the harness, 10 gateway changes (`pulumi up` of a changed rate limit: a new config
 * loader that runs `caddy reload` against the running Caddy, as on a user's host) under a client
 * of 8 keep-alive connections sending GETs and POSTs back to back. Before the handoff listener
 * (docker/caddy/handoff) Caddy closed its old server's keep-alive connections under the client's
 * next request: 1 to 8 requests lost per change. Every POST creates a row with a unique name, so
 * the test also checks that each acknowledged write happened exactly once (a request the old
 * server read but never answered is replayed to the new one, never twice).
 */

const CHANGES = 10;
const CONCURRENCY = 8;
// Limits that never refuse this client (the test is about reloads, not limits), with rings of a
// few thousand timestamps; the two figures alternate, so every `up` changes the gateway's config.
const FIGURES_A = { writes: { events: 5000, window: "1s" }, general: { events: 5000, window: "1s" } };
const FIGURES_B = { writes: { events: 5001, window: "1s" }, general: { events: 5000, window: "1s" } };

describe("Gateway changes on a real engine: a client that never retries loses no request", function () {
    this.timeout(30 * 60_000);
    let s: DeployedStack | undefined;
    const run = randomBytes(3).toString("hex");

    before(async function () {
        this.timeout(25 * 60_000);
        s = await deployDevStack({ budgetMs: 240_000, figures: { rateLimits: FIGURES_A } });
    });

    after(async function () {
        this.timeout(180_000);
        await s?.h.cleanup();
    });

    const sql = async (q: string): Promise<string> => {
        const r = await s!.h.exec(s!.name(C.backup), ["psql", "-v", "ON_ERROR_STOP=1", "-tA", "-c", q]);
        assert.equal(r.exitCode, 0, `${q}: ${r.output}`);
        return r.output.trim();
    };

    it(`${CHANGES} gateway changes under GETs and POSTs at concurrency ${CONCURRENCY}: 0 failed, every acknowledged POST stored once`, async () => {
        const d = s!;
        const next = { A: await recordFigures(d, { rateLimits: FIGURES_A }), B: await recordFigures(d, { rateLimits: FIGURES_B }) };
        let done = false;
        const load = noRetryLoad({
            port: d.port, concurrency: CONCURRENCY, stop: () => done, maxRequests: 400_000, maxMs: 20 * 60_000,
            requests: [
                { method: "GET", path: "/health" },
                { method: "POST", path: "/v1/items", body: seq => JSON.stringify({ name: `reload-${run}-${seq}` }) },
                { method: "GET", path: "/ready" },
            ],
        });
        const loaders: string[] = [];
        let result: NoRetryResult;
        try {
            await sleep(1000);
            for (let i = 0; i < CHANGES; i++) {
                const r = await d.up(i % 2 === 0 ? next.B : next.A);
                // The change is a new config loader (its name carries the config's hash), nothing else.
                const changed = r.steps.filter(x => x.op !== "same");
                const created = changed.filter(x => x.op === "create" && x.logical.startsWith("gateway-config-"));
                assert.equal(created.length, 1, `change ${i + 1}: ${JSON.stringify(changed.map(x => `${x.op} ${x.logical}`))}`);
                assert.ok(!changed.some(x => x.op === "replace"), `change ${i + 1} replaced a container: ${changed.map(x => `${x.op} ${x.logical}`)}`);
                loaders.push(created[0]!.logical);
                await sleep(1000);
            }
        } finally {
            done = true;
            result = await load;
        }
        // Each loader pushed its revision into Caddy: the reload happened, under this load.
        for (const l of loaders.slice(-1)) {
            const logs = await d.h.logs(d.name(l), 10_000);
            assert.match(logs, /config-loader: loaded \(attempt \d+\)/, `${l}: ${logs}`);
        }
        assert.deepEqual(result.failures.slice(0, 20), [], `${result.failures.length} of ${result.sent} requests failed over ${CHANGES} gateway changes`);
        assert.ok((result.okBy.POST ?? 0) >= 100 && (result.okBy.GET ?? 0) >= 200, `too little load to mean anything: ${JSON.stringify(result.okBy)}`);
        const rows = await sql(`SELECT count(*), count(DISTINCT name) FROM items WHERE name LIKE 'reload-${run}-%'`);
        assert.equal(rows, `${result.okBy.POST}|${result.okBy.POST}`, "rows (all, distinct) vs POSTs answered 2xx");
    });
});
