// The transform helper and its shape check: pure, no Pulumi runtime.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { SlipwayConfigError } from "../../components/core/errors";
import { Transform, checkTransform, transform } from "../../components/core/transform";

interface Args { image: string; restart?: string; envs: string[]; healthcheck: { retries: number } }

const ctx = { kind: "ApiService", name: "api" };
const KEYS = ["image", "container", "service"];

function args(): Args {
    return { image: "nginx:1", restart: "unless-stopped", envs: ["A=1"], healthcheck: { retries: 3 } };
}

describe("transform()", () => {
    it("without a transform returns the very same name, args and options", () => {
        const a = args();
        const o = { protect: true };
        const [name, a2, o2] = transform(undefined, "api-1", a, o);
        assert.equal(name, "api-1");
        assert.equal(a2, a);
        assert.equal(o2, o);
    });

    it("object form: shallow-merges over the args and leaves the options alone", () => {
        const a = args();
        const o = { protect: true };
        const [name, a2, o2] = transform<Args>({ restart: "always", healthcheck: { retries: 9 } }, "api-1", a, o);
        assert.equal(name, "api-1");
        assert.deepEqual(a2, { image: "nginx:1", restart: "always", envs: ["A=1"], healthcheck: { retries: 9 } });
        assert.equal(o2, o);
        // Shallow: a nested object is replaced whole, and the input is untouched.
        assert.deepEqual(a, args());
    });

    it("object form: an explicit undefined unsets the arg", () => {
        const [, a2] = transform<Args>({ restart: undefined }, "api-1", args(), {});
        assert.ok("restart" in a2);
        assert.equal(a2.restart, undefined);
    });

    it("function form: edits copies of args and options, gets the name, and never touches the originals", () => {
        const a = args();
        const parent = new (class Parent {})();
        const o: pulumi.CustomResourceOptions = { protect: false, ignoreChanges: ["labels"], parent: parent as unknown as pulumi.Resource };
        const seen: string[] = [];
        const t: Transform<Args> = (x, opts, name) => {
            seen.push(name);
            x.restart = "always";
            x.envs.push("B=2");
            x.healthcheck.retries = 5;
            opts.protect = true;
            opts.ignoreChanges!.push("envs");
        };
        const [name, a2, o2] = transform(t, "api-1", a, o);
        assert.deepEqual(seen, ["api-1"]);
        assert.equal(name, "api-1");
        assert.deepEqual(a2, { image: "nginx:1", restart: "always", envs: ["A=1", "B=2"], healthcheck: { retries: 5 } });
        assert.deepEqual({ protect: o2.protect, ignoreChanges: o2.ignoreChanges }, { protect: true, ignoreChanges: ["labels", "envs"] });
        // Class instances (a parent, an Output) are shared, not copied.
        assert.equal(o2.parent, parent);
        // The originals, which a component may share between children, are untouched.
        assert.deepEqual(a, args());
        assert.deepEqual(o.ignoreChanges, ["labels"]);
        assert.equal(o.protect, false);
    });

    it("function form: applied once per child, an edit does not accumulate through shared arrays", () => {
        const shared = ["A=1"];
        const t: Transform<Args> = x => { x.envs.push("B=2"); };
        const one = transform(t, "api-1", { ...args(), envs: shared }, {})[1];
        const two = transform(t, "api-2", { ...args(), envs: shared }, {})[1];
        assert.deepEqual(one.envs, ["A=1", "B=2"]);
        assert.deepEqual(two.envs, ["A=1", "B=2"]);
        assert.deepEqual(shared, ["A=1"]);
    });

    it("function form: Outputs in the args stay the same objects (secrets keep their identity)", () => {
        const secret = pulumi.secret("s3cret");
        const [, a2] = transform<{ envs: unknown[] }>(() => undefined, "x", { envs: [{ value: secret }] }, {});
        assert.equal((a2.envs[0] as { value: unknown }).value, secret);
    });
});

describe("checkTransform()", () => {
    const expectError = (given: unknown, path: string, problem: RegExp, fix: RegExp) => {
        let err: unknown;
        try { checkTransform(ctx, given, KEYS); } catch (e) { err = e; }
        assert.ok(err instanceof SlipwayConfigError, `expected a SlipwayConfigError, got ${err}`);
        assert.equal(err.component, 'ApiService "api"');
        assert.equal(err.propertyPath, path);
        assert.match(err.problem, problem);
        assert.match(err.fix, fix);
    };

    it("accepts undefined, an empty object, objects and functions under known keys", () => {
        checkTransform(ctx, undefined, KEYS);
        checkTransform(ctx, {}, KEYS);
        checkTransform(ctx, { image: { keepLocally: false }, container: () => undefined, service: undefined }, KEYS);
    });

    it("refuses a transform that is not an object", () => {
        expectError("container", "transform", /must be an object keyed by child resource, got the string "container"/, /image, container, service/);
        expectError([], "transform", /got an array/, /leave transform out/);
        expectError(null, "transform", /got null/, /image, container, service/);
    });

    it("refuses an unknown key, naming it and the keys there are", () => {
        expectError({ containers: {} }, "transform.containers", /"containers" is not a child resource ApiService creates/, /use one of image, container, service/);
    });

    it("refuses a value that is neither args nor a function", () => {
        expectError({ container: "always" }, "transform.container", /must be args to merge \(an object\) or a function .*got the string "always"/, /container: \(args, opts\) =>/);
        expectError({ image: 3 }, "transform.image", /got number 3/, /image: \{ \.\.\. \}/);
        expectError({ image: [] }, "transform.image", /got an array/, /image/);
    });
});
