// The stack program run for real the way `pulumi preview` runs it: node on @pulumi/pulumi's own run
// entry with the language host's arguments and environment, against a fake engine and resource
// monitor (./fake-engine.ts). What a user sees of a run is what arrives on the engine's Log RPC,
// plus the process's own stdout/stderr, so those are what these tests read.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { loadStackConfig } from "../../cli/stack-config";
import { describeRun, ProgramRun, runProgram } from "./fake-engine";

const ROOT = path.resolve(__dirname, "../..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const libraryEntry = path.join(ROOT, pkg.exports["."].default);

const noise = (r: ProgramRun) => r.logs.filter(l => l.severity === "warning" || l.severity === "error");
const STACK_TRACE = /^\s+at /m;

describe("the stack program under @pulumi/pulumi's run entry (as the Node.js language host runs it)", function () {
    this.timeout(600_000);

    before(function () {
        // As in CI's deploy job: `npm run build` has run before `pulumi up`.
        if (fs.existsSync(libraryEntry)) return;
        const r = spawnSync("npm", ["run", "--silent", "build"], { cwd: ROOT, encoding: "utf8" });
        assert.equal(r.status, 0, `npm run build failed:\n${r.stdout}\n${r.stderr}`);
    });

    describe("the dev stack (docker), dist/ built", () => {
        let run: ProgramRun;
        before(async () => {
            const cfg = loadStackConfig(ROOT, "dev");
            run = await runProgram({ stack: "dev", config: cfg.values, secretKeys: cfg.secretKeys });
        });

        it("runs index.ts (Pulumi.yaml main) and registers the whole stack, not the library's nothing", () => {
            assert.equal(run.code, 0, describeRun(run));
            assert.equal(run.argv[run.argv.length - 1], "index.ts", "the host passes Pulumi.yaml's main as the entry point");
            const types = new Set(run.registrations.map(r => r.type));
            for (const t of ["pulumi:pulumi:Stack", "slipway:targets:DockerHost", "slipway:gateway:Gateway", "slipway:service:ApiService",
                "slipway:database:ManagedDatabase", "docker:index/container:Container"]) {
                assert.ok(types.has(t), `${t} was not registered\n${describeRun(run)}`);
            }
        });

        it("warns nothing: no 'Could not find entry point', no DEP0128, no 'Undefined value (...)' output", () => {
            assert.deepEqual(noise(run), [], describeRun(run));
            assert.doesNotMatch(run.stderr + run.stdout, /DEP0128|Could not find entry point|DeprecationWarning/);
        });

        it("exports only outputs that have a value (no secretsRevision on docker)", () => {
            assert.deepEqual(Object.keys(run.stackOutputs ?? {}).sort(), ["databaseHost", "databaseUrl", "monthlyCost", "services", "url"], describeRun(run));
        });
    });

    it("a docker stack without a database warns nothing and exports no database outputs", async () => {
        const cfg = loadStackConfig(ROOT, "dev");
        delete cfg.values["slipway:database"];
        const run = await runProgram({ stack: "dev", config: cfg.values, secretKeys: cfg.secretKeys });
        assert.equal(run.code, 0, describeRun(run));
        assert.deepEqual(noise(run), [], describeRun(run));
        assert.deepEqual(Object.keys(run.stackOutputs ?? {}).sort(), ["monthlyCost", "services", "url"], describeRun(run));
    });

    it("a bad config value reaches the user as one line, Component \"name\": path: problem. Fix: ..., with no stack", async () => {
        const cfg = loadStackConfig(ROOT, "dev", {
            gateway: {
                image: "slipway/caddy:local",
                publishPort: 8080,
                rateLimits: { general: { events: 0, window: "1m" } },
                routes: [{ pathPrefix: "/", service: "api", rateLimit: "general" }],
            },
        });
        const run = await runProgram({ stack: "dev", config: cfg.values, secretKeys: cfg.secretKeys });
        const errors = run.logs.filter(l => l.severity === "error");
        assert.deepEqual(errors.map(e => e.message), [
            'Gateway "gateway": rateLimits.general.events: must be a whole number from 1 to 1000000, got 0. '
            + "Fix: set rateLimits.general.events to a whole number between 1 and 1000000",
        ], describeRun(run));
        for (const text of [...run.logs.map(l => l.message), run.stdout, run.stderr]) {
            assert.doesNotMatch(text, STACK_TRACE, describeRun(run));
            assert.doesNotMatch(text, /unhandled exception|SlipwayConfigError \{|propertyPath:/, describeRun(run));
        }
        // 32: the program already told the user, so the language host adds no message of its own.
        assert.equal(run.code, 32, describeRun(run));
        assert.deepEqual(run.registrations.map(r => r.type), ["pulumi:pulumi:Stack"], "nothing but the Stack may register on bad input");
    });

    it("without Pulumi.yaml's main the host would run the built library: only the Stack, which would delete everything", async () => {
        // The failure Pulumi.yaml's `main` prevents, shown on the real run entry.
        const cfg = loadStackConfig(ROOT, "dev");
        const run = await runProgram({ stack: "dev", config: cfg.values, secretKeys: cfg.secretKeys, main: null });
        assert.equal(run.argv[run.argv.length - 1], ".");
        assert.equal(run.code, 0, describeRun(run));
        assert.deepEqual(run.registrations.map(r => r.type), ["pulumi:pulumi:Stack"], describeRun(run));
    });
});
