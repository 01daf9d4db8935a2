// The one bad-input assertion every *-errors test shares: the build fails with a SlipwayConfigError
// whose every part (component, path, problem, fix) is right, and nothing reached the engine.
import { strict as assert } from "assert";
import { SlipwayConfigError } from "../../components/core/errors";
import type { Recorder } from "../../components/testing/recorder";

export interface ExpectedConfigError {
    /** As the error names it, e.g. `Gateway "edge"`. */
    component: string;
    /** The property path, compared exactly, e.g. `routes[1].pathPrefix`. */
    path: string;
    problem: RegExp;
    fix: RegExp;
}

/**
 * Run `build` on a cleared recorder and expect it to throw `expected`, then prove nothing registered.
 * Make targets before calling: they register resources of their own, which the clear drops.
 */
export async function expectConfigError(rec: Recorder, build: () => unknown, expected: ExpectedConfigError): Promise<SlipwayConfigError> {
    const { component, path, problem, fix } = expected;
    await rec.settle();
    rec.clear();
    let err: unknown;
    try { await build(); } catch (e) { err = e; }
    assert.ok(err instanceof SlipwayConfigError, `expected a SlipwayConfigError, got ${err}`);
    assert.ok(err.message.startsWith(`${component}: ${path}: `), err.message);
    assert.equal(err.component, component);
    assert.equal(err.propertyPath, path);
    assert.match(err.problem, problem);
    assert.match(err.message, /\. Fix: /);
    assert.match(err.fix, fix);
    // Registrations are asynchronous: settle so a resource created before the throw is seen.
    await rec.settle();
    assert.deepEqual(rec.resources.map(r => r.name), [], "nothing may register on bad input");
    return err;
}
