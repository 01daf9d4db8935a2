import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { TYPES, UpError } from "./harness";
import {
    C, DeployedStack, apiReplicas, gatewayConfig, one, recordFigures, recordRelease, releaseImage, request, sharedStack, shape, underLoad,
} from "./stack-under-test";
import { LoadResult } from "./stack-under-test";

/**
 * The dev stack on a real engine, part 2: what the next `pulumi up` does to a running stack, with
 * the engine's and the provider's own semantics (the harness applies them: every container
 * replacement is delete-before-create, independent steps run in parallel, renamed resources are
 * created during the update and deleted at its end). Goal: zero failed requests.
 */

const report = (what: string, l: LoadResult) =>
    console.log(`      ${what}: ${l.sent} requests, ${l.failures.length} failed, ${l.retried} retried on a closed keep-alive connection, p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(0)} ms` +
        (l.failures.length ? `\n      failures: ${JSON.stringify(l.failures.slice(0, 10))}` : ""));

function assertNoFailures(l: LoadResult) {
    assert.ok(l.sent >= 2000, `only ${l.sent} requests`);
    assert.deepEqual(l.failures.slice(0, 20), [], `${l.failures.length} of ${l.sent} requests failed`);
    assert.equal(l.ok, l.sent);
}

/** The same API binary in an image whose process never listens, so its health check never passes. */
function brokenImage(s: DeployedStack): string {
    const tag = `slipway/example-api:broken-${s.images.SLIPWAY_IMAGE_API!.split(":")[1]}`;
    try {
        execFileSync("docker", ["image", "inspect", tag], { stdio: "ignore" });
    } catch {
        execFileSync("docker", ["build", "-q", "-t", tag, "-"], {
            input: `FROM ${s.images.SLIPWAY_IMAGE_API}\nENTRYPOINT ["/bin/sh", "-c", "exec sleep 3600"]\nCMD []\n`,
            env: { ...process.env, DOCKER_BUILDKIT: "0" }, stdio: ["pipe", "ignore", "pipe"],
        });
    }
    return tag;
}

describe("dev stack on a real engine: the next pulumi up", function () {
    this.timeout(10 * 60_000);
    let s: DeployedStack;

    before(async function () {
        this.timeout(25 * 60_000);
        s = await sharedStack();
    });

    it("an unchanged stack: the next preview shows no change and the provider's read-back matches every input", async () => {
        const again = await recordFigures(s, {});
        assert.deepEqual(s.h.preview(again.resources).filter(x => x.op !== "same"), []);
        // What `docker inspect` says, in the provider's units (swap in MiB, Go durations), equals
        // what the program sends: otherwise every preview after `up` shows a diff.
        assert.deepEqual(await s.h.drift(), []);
        const r = await s.up(again);
        assert.deepEqual(r.steps.filter(x => x.op !== "same"), []);
    });

    it("rolls out a new API image under load with 0 failed requests: new replicas first, old ones deleted at the end", async () => {
        const newImage = releaseImage(s.images);
        const deployed = s.resources;
        const before = apiReplicas(deployed).map(r => r.name);
        const oldIds = new Set(await Promise.all(s.apiNames().map(async n => (await s.h.inspect(n)).Image)));
        // Planned before anything changes, as pulumi up does.
        const release = await recordRelease(s, newImage);
        assert.equal(one(release.resources, TYPES.remoteImage, "api-image").inputs.name, newImage);
        const after = apiReplicas(release.resources).map(r => r.name);
        assert.equal(after.length, 2);
        assert.ok(after.every(n => !before.includes(n)), `a new image is a new release: ${before} -> ${after}`);

        const { load, result, error } = await underLoad(s, () => s.up(release));
        report("image rollout under load", load);
        if (error) throw error;
        s.figures = { ...s.figures, apiImage: newImage }; // later recordings keep the released image
        const steps = result!.steps;
        // No API replica is replaced (that would be delete-before-create, in parallel).
        assert.deepEqual(steps.filter(x => x.op === "replace").map(x => x.logical), []);
        const created = steps.filter(x => x.op === "create" && after.includes(x.logical));
        const deleted = steps.filter(x => x.op === "delete" && before.includes(x.logical));
        assert.equal(created.length, 2);
        assert.equal(deleted.length, 2);
        assert.ok(Math.max(...created.map(x => x.endMs!)) <= Math.min(...deleted.map(x => x.startMs)), "old replicas deleted only after the new ones were healthy");
        for (const n of s.apiNames()) assert.ok(!oldIds.has((await s.h.inspect(n)).Image), `${n} runs the new image`);
        // The release differs from what was deployed only in revision-scoped names and inputs.
        assert.deepEqual(shape(release.resources), shape(deployed));
        assertNoFailures(load);
        const data = await request(s.port, "POST", "/v1/items", { body: { name: "after the rollout" } });
        assert.equal(data.status, 201, data.text);
    });

    it("changes the gateway's config under load with 0 failed requests, without restarting Caddy", async () => {
        const caddyId = (await s.h.inspect(s.name(C.gateway))).Id;
        const figures = { rateLimits: { ...s.figures.rateLimits, writes: { events: 6, window: "5s", burst: 9 } } };
        const next = await recordFigures(s, figures);
        assert.notDeepEqual(gatewayConfig(next.resources), gatewayConfig(s.resources), "the config changes");

        const { load, result, error } = await underLoad(s, () => s.up(next));
        report("gateway config change under load", load);
        if (error) throw error;
        s.figures = { ...s.figures, ...figures };
        // Only the loader changes: a new one created, the old one deleted at the end; nothing replaced.
        assert.deepEqual(result!.steps.filter(x => x.op !== "same").map(x => `${x.op} ${x.logical.replace(/[0-9a-f]{10}$/, "<rev>")}`).sort(),
            ["create gateway-config-<rev>", "delete gateway-config-<rev>"]);
        assert.equal((await s.h.inspect(s.name(C.gateway))).Id, caddyId, "the same Caddy process holds the connections");
        // The config Caddy runs now is the new one (its autosave is what it loaded last).
        const live = await s.h.exec(s.name(C.gateway), ["cat", "/config/caddy/autosave.json"]);
        assert.equal(live.exitCode, 0, live.output);
        assert.deepEqual(JSON.parse(live.output), gatewayConfig(next.resources));
        assertNoFailures(load);
    });

    it("fails the up on an image whose health check never passes, and the old replicas keep serving", async () => {
        const good = s.recorded;
        const serving = s.apiNames();
        const bad = await recordRelease(s, brokenImage(s));
        const { load, error } = await underLoad(s, () => s.h.up(bad.resources), { minRequests: 2000 });
        report("failed release under load", load);
        assert.ok(error instanceof UpError, `the up failed: ${error}`);
        assert.deepEqual(error.result.steps.filter(x => x.op === "delete"), [], "nothing old is deleted after a failed step");
        for (const n of serving) assert.equal((await s.h.inspect(n)).State.Health.Status, "healthy", `${n} still serving`);
        assertNoFailures(load);
        // The failed replicas stay (as Pulumi keeps a create with init errors) until the next up.
        assert.equal(s.h.failedContainers().length > 0, true);
        const back = await s.h.up(good.resources);
        assert.deepEqual(s.h.failedContainers(), []);
        assert.ok(back.steps.some(x => x.op === "delete"), "the failed release is removed");
        assert.deepEqual(s.apiNames(), serving);
        assert.equal(apiReplicas(s.resources).length, 2);
    });
});
