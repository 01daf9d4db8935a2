// The whole pack, run as the Pulumi CLI runs it (its own process, gRPC), over the resources synth
// records for Slipway's dev and prod stacks (no violation) and for the hand-written bad stack
// (every policy fires). The engine-free `evaluate` must find exactly what the pack reports.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { RULES, StackResource, evaluate } from "../../policy/rules";
import { PACK_NAME } from "../../policy/pack";
import { RunningPack, render, startPack } from "./analyzer-client";
import { buildPackLayout } from "./build-pack";
import { BAD_FIXTURE, recordForPolicy } from "./stacks";

const ROOT = path.resolve(__dirname, "../..");
const key = (d: { policy: string; urn: string; message: string; detail?: string }) => `${d.policy} ${d.urn} ${d.detail ?? d.message}`;
/** What the engine tells a policy pack: protect, but not retainOnDelete (analyzer.proto's AnalyzerResourceOptions has no such field). */
const engineView = (rs: StackResource[]) => rs.map(r => ({ ...r, options: { protect: r.options.protect } }));

describe("policy pack: the whole pack over recorded stacks, through the analyzer protocol", function () {
    this.timeout(300_000);
    let pack: RunningPack;
    let layout: ReturnType<typeof buildPackLayout>;
    const stacks: Record<string, StackResource[]> = {};

    before(async function () {
        layout = buildPackLayout();
        const [dev, prod, staging, bad, dockerProd] = await Promise.all([
            recordForPolicy("dev"), recordForPolicy("prod"), recordForPolicy("staging"), recordForPolicy("prod", { dir: BAD_FIXTURE }),
            // The docker target in production: what a production preflight asks of the dev stack's config.
            recordForPolicy("dev", { overrides: { production: true, "gateway.tls": "internal", "gateway.domains": ["api.internal.test"],
                "gateway.cors.allowOrigins": ["https://app.internal.test"] } }),
        ]);
        Object.assign(stacks, { dev: dev.resources, prod: prod.resources, staging: staging.resources, bad: bad.resources, dockerProd: dockerProd.resources });
        pack = await startPack(layout.packDir);
    });

    after(function () {
        pack?.stop();
        layout?.remove();
    });

    it("announces every rule as a policy, with its level, its description with the fix, and its settings", async function () {
        const info = await pack.info();
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        assert.equal(info.name, PACK_NAME);
        assert.equal(info.version, pkg.version, "policy/package.json's version follows the package's");
        // What the CLI reads before it starts anything (workspace.LoadPolicyPack: `runtime` is required; nodejs picks pulumi-analyzer-policy).
        assert.equal(YAML.parse(fs.readFileSync(path.join(ROOT, "policy/PulumiPolicy.yaml"), "utf8")).runtime, "nodejs");
        assert.deepEqual(info.policies.map(p => p.name).sort(), RULES.map(r => r.name).sort());
        for (const r of RULES) {
            const p = info.policies.find(x => x.name === r.name)!;
            assert.equal(p.level, r.level, r.name);
            assert.ok(p.description.includes(r.description) && p.description.includes(`Fix: ${r.fix}`), r.name);
            assert.deepEqual(p.config, [...r.settings].sort(), `${r.name}: config properties`);
        }
    });

    for (const stack of ["dev", "prod", "staging"]) {
        it(`Slipway's ${stack} stack (Pulumi.${stack}.yaml) passes with no violation`, async function () {
            assert.ok(stacks[stack]!.length > 20, `recorded ${stacks[stack]!.length} resources`);
            const ds = await pack.analyzeAll(stacks[stack]!);
            assert.deepEqual(ds.map(key), [], render(ds, stacks[stack]!));
            assert.deepEqual(evaluate(stacks[stack]!), []);
        });
    }

    it("Slipway's docker target in production passes too, and the data rule does see its database volumes", async function () {
        const rs = stacks.dockerProd!;
        // The stack is named dev: the config file says it is production.
        await pack.configure({ "production-data-protected": { production: true } });
        const ds = await pack.analyzeAll(rs);
        await pack.configure({});
        assert.deepEqual(ds.map(key), [], render(ds, rs));
        // Without protect, exactly Postgres' volumes (data, backups) are data; Caddy's and Prometheus' are not.
        const unprotected = rs.map(r => (r.type === "docker:index/volume:Volume" ? { ...r, options: {} } : r));
        const flagged = evaluate(unprotected, { "production-data-protected": { production: true } }).map(v => v.urn.split("::").pop()).sort();
        assert.deepEqual(flagged, ["db-backups", "db-data"]);
    });

    it("the hand-written bad stack violates every policy at least once, at the level each policy declares", async function () {
        const ds = await pack.analyzeAll(stacks.bad!);
        const fired = new Set(ds.map(d => d.policy));
        assert.deepEqual(RULES.map(r => r.name).filter(n => !fired.has(n)), [], render(ds, stacks.bad!));
        for (const d of ds) {
            assert.equal(d.level, RULES.find(r => r.name === d.policy)!.level, key(d));
            assert.ok(stacks.bad!.some(r => r.urn === d.urn), `${key(d)}: names a resource of the stack`);
        }
        // The engine-free run is the same pack: same findings, one for one.
        assert.deepEqual(ds.map(key).sort(), evaluate(engineView(stacks.bad!)).map(key).sort());
        // Where retainOnDelete is known (synth's records), the same run also reports the data it would not retain.
        assert.ok(evaluate(stacks.bad!).some(v => /not retained on delete/.test(v.message)));
        if (process.env.PRINT_POLICY_SAMPLE) console.log(render(ds, stacks.bad!));
    });

    it("a config file selects levels and settings: disabled, mandatory, production off", async function () {
        await pack.configure({
            "docker-memory-limit": { enforcementLevel: "disabled" },
            "docker-image-pinned": { enforcementLevel: "mandatory" },
            "production-data-protected": { production: false },
            "do-app-min-instances": { production: false },
        });
        const ds = await pack.analyzeAll(stacks.bad!);
        const fired = new Set(ds.map(d => d.policy));
        for (const off of ["docker-memory-limit", "production-data-protected", "do-app-min-instances"]) assert.ok(!fired.has(off), off);
        const pinned = ds.filter(d => d.policy === "docker-image-pinned");
        assert.ok(pinned.length > 0 && pinned.every(d => d.level === "mandatory"), JSON.stringify(pinned));
        assert.ok(fired.has("docker-non-root-user"), "the others still run");
    });

    it("policy/config.example.json (the README's config file) is accepted and takes effect", async function () {
        const example = JSON.parse(fs.readFileSync(path.join(ROOT, "policy/config.example.json"), "utf8"));
        for (const name of Object.keys(example)) assert.ok(RULES.some(r => r.name === name), `${name} is not a policy`);
        await pack.configure(example);
        const ds = await pack.analyzeAll(stacks.bad!);
        assert.ok(ds.filter(d => d.policy === "docker-image-pinned").every(d => d.level === "mandatory"));
        assert.ok(ds.filter(d => d.policy === "production-data-protected").length > 0 &&
            ds.filter(d => d.policy === "production-data-protected").every(d => d.level === "mandatory"), "kept mandatory");
        assert.ok(!ds.some(d => d.policy === "cloudflare-min-tls-1-2"), "disabled");
        assert.ok(ds.some(d => d.policy === "do-app-min-instances" && /production needs 3/.test(d.detail)), "minInstances: 3");
        // Slipway's own prod stack runs 2 instances: with this file's minInstances 3 it is told so.
        const prod = await pack.analyzeAll(stacks.prod!);
        assert.deepEqual(prod.map(d => d.policy), ["do-app-min-instances"], render(prod, stacks.prod!));
    });
});
