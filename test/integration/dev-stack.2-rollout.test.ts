import { strict as assert } from "assert";
import { TYPES } from "./harness";
import { C, DeployedStack, Swap, one, recordRelease, releaseImage, request, rollOutApi, runLoad, sharedStack, shape } from "./stack-under-test";

/**
 * The dev stack on a real engine, part 2: a release of the API (a new image tag) rolled out the
 * way `pulumi up` replaces the replicas, under steady load through the gateway. The goal is zero
 * failed requests.
 */

/** Requests of the load: through the gateway's "/" route to the API, one of them touching Postgres. */
export const LOAD_PATHS = ["/health", "/ready"];

describe("dev stack on a real engine: rolling out a new API image", function () {
    this.timeout(10 * 60_000);
    let s: DeployedStack;

    before(async function () {
        this.timeout(25 * 60_000);
        s = await sharedStack();
    });

    it("replaces api-1 then api-2 with the new image under load, with 0 failed requests", async () => {
        const newImage = releaseImage(s.images);
        const oldIds = new Set([(await s.h.inspect(s.name(C.api1))).Image, (await s.h.inspect(s.name(C.api2))).Image]);
        // Planned before anything changes, as pulumi up does; recording is CPU work that would
        // otherwise stall the load generator in this same process.
        const release = await recordRelease(s, newImage);
        let swaps: Swap[] = [];
        let rolloutError: unknown;
        const rolling = rollOutApi(s, release).then(r => { swaps = r; }, e => { rolloutError = e; });
        const load = await runLoad({
            port: s.port, paths: LOAD_PATHS, concurrency: 8, ratePerSec: 200,
            minRequests: 2000, maxRequests: 40_000, maxMs: 180_000, until: rolling,
        });
        await rolling;
        if (rolloutError) throw rolloutError;
        const r = { recorded: release, swaps };
        console.log(`      rollout under load: ${load.sent} requests, ${load.failures.length} failed, p50 ${load.p50.toFixed(1)} ms, ` +
            `p99 ${load.p99.toFixed(1)} ms, max ${load.max.toFixed(0)} ms; swaps ${r.swaps.map(x => `${x.logical} ${(x.totalMs / 1000).toFixed(1)}s`).join(", ")}`);
        if (load.failures.length) console.log(`      failures: ${JSON.stringify(load.failures.slice(0, 10))}`);

        // The new recording differs from the deployed one only in the API image reference.
        assert.deepEqual(shape(r.recorded.resources), shape(s.resources));
        assert.equal(one(r.recorded.resources, TYPES.remoteImage, "api-image").inputs.name, newImage);
        // Both replicas were replaced (new containers, old ones gone) and run the new image.
        const owned = (await s.h.owned()).containers;
        for (const x of r.swaps) {
            assert.notEqual(x.newName, x.oldName);
            assert.ok(owned.includes(x.newName) && !owned.includes(x.oldName), `${x.logical} swapped`);
            const img = (await s.h.inspect(x.newName)).Image;
            assert.ok(!oldIds.has(img), `${x.logical} runs the new image`);
            assert.equal(s.name(x.logical), x.newName);
        }
        assert.ok(load.sent >= 2000, `only ${load.sent} requests`);
        assert.deepEqual(load.failures.slice(0, 20), [], `${load.failures.length} of ${load.sent} requests failed`);
        assert.equal(load.ok, load.sent);
    });

    it("serves data through the new replicas afterwards", async () => {
        const created = await request(s.port, "POST", "/v1/items", { body: { name: "after the rollout" } });
        assert.equal(created.status, 201, created.text);
        assert.equal((await request(s.port, "GET", `/v1/items/${created.json.id}`)).json.name, "after the rollout");
    });
});
