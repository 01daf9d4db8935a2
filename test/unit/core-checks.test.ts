import { strict as assert } from "assert";
import { requireDoName, requireTarget } from "../../components/core/checks";
import { SlipwayConfigError } from "../../components/core/errors";
import { doAppTarget } from "../../components/core/target";

const ctx = { kind: "Thing", name: "t" };

/** The error `f` throws, which must be a SlipwayConfigError. */
function errorOf(f: () => unknown): SlipwayConfigError {
    try { f(); } catch (e) { assert.ok(e instanceof SlipwayConfigError, String(e)); return e; }
    return assert.fail("expected a SlipwayConfigError");
}

describe("core checks", () => {
    it("requireTarget returns a docker or do-app target as it is", () => {
        const doApp = doAppTarget({ appName: "shop", region: "fra", environment: "prod", production: true });
        assert.equal(requireTarget(ctx, doApp, "p", "f"), doApp);
        const docker = { kind: "docker", production: false, environment: "dev" };
        assert.equal(requireTarget(ctx, docker, "p", "f"), docker);
    });

    it("requireTarget names a missing or foreign target with the component's own wording", () => {
        for (const bad of [undefined, null, {}, "docker", { kind: "kubernetes" }, { kind: "toString" }]) {
            const e = errorOf(() => requireTarget(ctx, bad, "is missing", "pass one"));
            assert.equal(e.component, 'Thing "t"');
            assert.equal(e.propertyPath, "target");
            assert.equal(e.problem, "is missing");
            assert.equal(e.fix, "pass one");
        }
    });

    it("requireDoName takes names that are Docker aliases and App Platform names, and gives one fix", () => {
        for (const ok of ["db", "api-2", "a1"]) requireDoName(ctx, ok, "unused");
        for (const bad of ["Main_DB", "a", "-api", "api-", "x".repeat(33)]) {
            const e = errorOf(() => requireDoName(ctx, bad, `${JSON.stringify(bad)} will not do`));
            assert.equal(e.propertyPath, "name");
            assert.equal(e.problem, `${JSON.stringify(bad)} will not do`);
            assert.equal(e.fix, "use 2 to 32 lowercase letters, digits and hyphens, starting with a letter");
        }
    });
});
