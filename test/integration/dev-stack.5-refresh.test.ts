import { strict as assert } from "assert";
import { TYPES } from "./harness";
import { DeployedStack, LOAD, LoadResult, deployDevStack, recordFigures, underLoad } from "./stack-under-test";

/**
 * The dev stack on a real engine, part 5: `pulumi refresh` (and `pulumi up --refresh`) changes
 * nothing. The harness's refresh reads every container back the way the provider does (readback.ts:
 * its units, the engine's spelling such as `CAP_` capabilities, what it does not read) into the
 * state, and the next preview and up compare the program with that. Any input the components send
 * in another form than the read-back would show here as a replacement (delete-before-create), and
 * any replica input built from another container's outputs would be replaced with it.
 *
 * Its own deployment (not the shared one, which part 4 removes), removed at the end.
 */

describe("dev stack on a real engine: pulumi refresh changes nothing", function () {
    this.timeout(10 * 60_000);
    let s: DeployedStack | undefined;

    before(async function () {
        this.timeout(25 * 60_000);
        // A generous budget: this file is about refresh, not time to healthy (part 1 measures that).
        s = await deployDevStack({ budgetMs: 240_000 });
    });

    after(async function () {
        this.timeout(180_000);
        await s?.h.cleanup();
    });

    const containerIds = async (d: DeployedStack) => {
        const out: Record<string, string> = {};
        for (const r of d.resources.filter(x => x.type === TYPES.container)) out[r.name] = (await d.h.inspect(d.name(r.name))).Id;
        return out;
    };

    it("up -> refresh -> preview shows no change on any resource", async () => {
        const d = s!;
        const containers = d.resources.filter(r => r.type === TYPES.container).map(r => r.name).sort();
        const refreshed = await d.h.refresh();
        assert.deepEqual(refreshed.map(x => x.logical).sort(), containers, "every container was read back");
        const again = await recordFigures(d, {});
        const preview = d.h.preview(again.resources);
        assert.ok(preview.length >= containers.length, `the preview covers every resource (${preview.length})`);
        // A replacement here would be delete-before-create, with the dependents built from its outputs.
        assert.deepEqual(preview.filter(x => x.op !== "same"), []);
        // The read-back equals what was sent, input by input.
        assert.deepEqual(refreshed.filter(x => x.changed.length || x.gone), []);
    });

    it("up -> refresh -> up replaces nothing, with 0 failed requests of >= 2,000 at concurrency 8 through the gateway meanwhile", async () => {
        const d = s!;
        const before = await containerIds(d);
        const again = await recordFigures(d, {});
        // `pulumi up --refresh`: the refresh, then the up, while clients keep calling.
        const { load, result, error } = await underLoad(d, async () => {
            const refreshed = await d.h.refresh();
            return { refreshed, up: await d.up(again) };
        });
        report(load);
        if (error) throw error;
        assert.deepEqual(result!.refreshed.filter(x => x.changed.length || x.gone), []);
        assert.deepEqual(result!.up.steps.filter(x => x.op !== "same").map(x => `${x.op} ${x.logical} ${x.changed ?? ""}`), []);
        assert.deepEqual(await containerIds(d), before, "the same containers (Postgres and the replicas never restarted)");
        assert.equal(LOAD.concurrency, 8);
        assert.ok(load.sent >= 2000, `only ${load.sent} requests`);
        assert.deepEqual(load.failures.slice(0, 20), [], `${load.failures.length} of ${load.sent} requests failed`);
        assert.equal(load.ok, load.sent);
    });
});

function report(l: LoadResult) {
    console.log(`      refresh + up under load: ${l.sent} requests, ${l.failures.length} failed, p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms`);
}
