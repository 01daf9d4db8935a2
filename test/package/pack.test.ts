// The package as other teams get it: `npm pack`, install the tarball into a copy of
// examples/consumer, type-check that project against the published types, run its tests with the
// package's own Recorder, and run the package's `slipway synth` bin there.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT, installConsumer, ok, packTarball, report, run } from "../helpers/consumer-package";
import { RULES } from "../../policy/rules";
import { startPack } from "../policy/analyzer-client";

const PLANTED = "sk_test_planted_9d2e7"; // a payments key we then look for in every generated file

describe("package: npm pack -> another team's project", function () {
    this.timeout(600_000);
    let tmp: string;
    let tarball: string;
    let entries: string[];
    let consumer: string;

    before(function () {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-pack-"));
        tarball = packTarball(tmp);
        entries = ok("tar -tzf", run("tar", ["-tzf", tarball], tmp)).stdout.split("\n").filter(Boolean)
            .map(e => e.replace(/^package\//, ""));
    });

    after(function () {
        if (tmp && !process.env.KEEP_PACK_TMP) fs.rmSync(tmp, { recursive: true, force: true });
        else if (tmp) console.log(`kept ${tmp}`);
    });

    it("ships the built library, testing helpers, CLI, bin, README and docs", function () {
        for (const f of ["package.json", "README.md", "bin/slipway.js", "dist/cli/slipway.js", "dist/cli/synth.js",
            "dist/components/index.js", "dist/components/index.d.ts",
            "dist/components/testing/index.js", "dist/components/testing/index.d.ts",
            "dist/components/testing/recorder.js", "dist/components/testing/fakes.js",
            // What `image: { build: true }` builds on a stranger's engine: the Dockerfile and all it reads.
            "docker/caddy/Dockerfile", "docker/caddy/versions.env", "docker/caddy/build.sh",
            "docker/caddy/jwtauth/go.mod", "docker/caddy/jwtauth/go.sum", "docker/caddy/jwtauth/jwtauth.go", "docker/caddy/jwtauth/keys.go",
            "docker/caddy/handoff/go.mod", "docker/caddy/handoff/handoff.go",
            "docker/caddy/edge/go.mod", "docker/caddy/edge/go.sum", "docker/caddy/edge/edge.go", "docker/caddy/edge/accesslog.go", "docker/caddy/edge/metrics.go",
            "policy/PulumiPolicy.yaml", "policy/package.json", "dist/policy/index.js", "dist/policy/rules/docker.js"]) {
            assert.ok(entries.includes(f), `${f} missing from the tarball; it has:\n${entries.join("\n")}`);
        }
        // Every entry point named in package.json must be in the tarball.
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        const named: string[] = [pkg.main, pkg.types, ...Object.values(pkg.bin as Record<string, string>)];
        for (const e of Object.values(pkg.exports as Record<string, string | Record<string, string>>)) {
            named.push(...(typeof e === "string" ? [e] : Object.values(e)));
        }
        for (const v of Object.values(pkg.typesVersions?.["*"] ?? {}) as string[][]) named.push(...v);
        for (const f of named) assert.ok(entries.includes(f.replace(/^\.\//, "")), `package.json names ${f}, which is not in the tarball`);
    });

    it("leaves out tests, TypeScript sources, build and state leftovers", function () {
        const bad = entries.filter(e =>
            /^(test|out|node_modules|examples|scripts|stack|images|bench)\//.test(e) ||
            /(^|\/)\.pulumi-state(\/|$)/.test(e) || /(^|\/)node_modules\//.test(e) ||
            (e.endsWith(".ts") && !e.endsWith(".d.ts")) || /\.test\.(js|d\.ts)$/.test(e) || /_test\.go$/.test(e) || /^Pulumi\..*yaml$/.test(e));
        assert.deepEqual(bad, [], `the tarball should not contain:\n${bad.join("\n")}`);
    });

    describe("examples/consumer with the tarball installed", function () {
        before(function () {
            consumer = installConsumer(tmp, tarball);
        });

        it("resolves @slipway/components and its testing entry to the installed tarball", function () {
            const r = ok("node -p require.resolve", run(process.execPath, ["-p",
                `[require.resolve("@slipway/components"), require.resolve("@slipway/components/testing")].join("\\n")`], consumer));
            const installed = path.join(fs.realpathSync(consumer), "node_modules/@slipway/components/dist/components");
            assert.deepEqual(r.stdout.trim().split("\n"), [path.join(installed, "index.js"), path.join(installed, "testing/index.js")]);
        });

        it("keeps the Args TSDoc (@default, @example) in the published declarations, where editors show it", function () {
            const dts = path.join(consumer, "node_modules/@slipway/components/dist/components");
            for (const [file, field] of [["api-service/args.d.ts", "replicas"], ["gateway/args.d.ts", "routes"],
                ["managed-database/args.d.ts", "version"], ["observability/args.d.ts", "sentry"], ["secrets-sync/args.d.ts", "secrets"]]) {
                const text = fs.readFileSync(path.join(dts, file!), "utf8");
                const doc = new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*${field}\\??:`).exec(text)?.[1];
                assert.ok(doc, `${file}: no TSDoc above ${field}`);
                assert.match(doc, /@example/, `${file}: ${field} has no @example`);
                if (field !== "routes" && field !== "secrets") assert.match(doc, /@default/, `${file}: ${field} has no @default`);
            }
        });

        it("type-checks (strict) against the published types, with node10 and node16 module resolution", function () {
            const tsc = path.join(consumer, "node_modules/.bin/tsc");
            ok("tsc --noEmit (consumer tsconfig: moduleResolution node)", run(tsc, ["--noEmit", "-p", "."], consumer));
            ok("tsc --noEmit --moduleResolution node16", run(tsc, ["--noEmit", "-p", ".", "--module", "node16", "--moduleResolution", "node16"], consumer));
        });

        it("gives real types: wrong Args fail to compile with the field named", function () {
            const file = path.join(consumer, "wrong-args.ts");
            fs.writeFileSync(file, [
                `import { ApiServiceArgs, GatewayArgs } from "@slipway/components";`,
                `import { Recorder } from "@slipway/components/testing";`,
                `declare const base: ApiServiceArgs;`,
                `export const a: ApiServiceArgs = { ...base, replicas: "2" };`,
                `export const g: GatewayArgs = { target: base.target, routes: [{ pathPrefix: "/", servcie: undefined }] };`,
                `export const n: number = Recorder.start;`,
                ``,
            ].join("\n"));
            try {
                const r = run(path.join(consumer, "node_modules/.bin/tsc"), ["--noEmit", "--strict", "--types", "node", "wrong-args.ts"], consumer);
                assert.notEqual(r.status, 0, report("tsc on wrong-args.ts should fail", r));
                const errors = r.stdout.split("\n").filter(l => l.startsWith("wrong-args.ts"));
                const lines = errors.map(l => Number(/^wrong-args\.ts\((\d+),/.exec(l)?.[1]));
                assert.deepEqual([...new Set(lines)].sort(), [4, 5, 6], r.stdout);
                assert.match(r.stdout, /wrong-args\.ts\(4,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
                assert.match(r.stdout, /wrong-args\.ts\(5,\d+\): error TS2561: .*'servcie'.*'service'/);
            } finally {
                fs.rmSync(file);
            }
        });

        it("runs the consumer's own tests (the package's Recorder under Pulumi mocks)", function () {
            const r = ok("npm test in the consumer", run("npm", ["test"], consumer));
            const count = (what: string) => Number(new RegExp(`^(?:#|ℹ) ${what} (\\d+)$`, "m").exec(r.stdout)?.[1]);
            assert.equal(count("pass"), 4, report("expected 4 passing consumer tests", r));
            assert.equal(count("fail"), 0, report("expected no failing consumer tests", r));
        });

        it("`slipway synth dev` (the package bin) writes the Caddy config and the components' resources", function () {
            ok("npx slipway synth dev", run("npx", ["--no", "slipway", "synth", "dev", "--secret", `paymentsApiKey=${PLANTED}`], consumer));
            const out = path.join(consumer, "out/dev");
            const caddy = JSON.parse(fs.readFileSync(path.join(out, "caddy.json"), "utf8"));
            const upstreams = JSON.stringify(caddy).match(/"dial":"[^"]+"/g) ?? [];
            assert.deepEqual([...new Set(upstreams)].sort(), ['"dial":"orders-1:8080"', '"dial":"orders-2:8080"']);

            type R = { type: string; name: string; parent?: string; inputs: Record<string, unknown> };
            const resources: R[] = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8"));
            const components = resources.filter(r => r.type.startsWith("slipway:")).map(r => `${r.type}::${r.name}`).sort();
            assert.deepEqual(components, [
                "slipway:database:ManagedDatabase::db", "slipway:gateway:Gateway::gateway", "slipway:observability:Observability::observability",
                "slipway:secrets:SecretsSync::secrets", "slipway:service:ApiService::orders", "slipway:targets:DockerHost::host",
            ]);
            // Engine names start with the Pulumi project (orders), so another project's dev stack can share the engine.
            const network = resources.find(r => r.type === "docker:index/network:Network");
            assert.equal(network?.inputs.name, "orders-dev-net");
            // Pulumi.dev.yaml builds Caddy from the Dockerfile inside the installed package.
            const caddyImage = resources.find(r => r.type === "docker:index/image:Image" && r.name === "gateway-image");
            const context = String((caddyImage?.inputs.build as { context?: string } | undefined)?.context);
            assert.equal(fs.realpathSync(context), fs.realpathSync(path.join(consumer, "node_modules/@slipway/components/docker/caddy")));
            const replica = resources.find(r => r.type === "docker:index/container:Container" && /^orders-[0-9a-f]{8}-1$/.test(r.name));
            assert.ok(replica, "replica 1 of orders (named orders-<release>-1)");
            assert.equal(replica.parent, "slipway:service:ApiService::orders");
            const envs = replica.inputs.envs as string[];
            assert.ok(envs.includes("PAYMENTS_API_KEY_FILE=/run/secrets/PAYMENTS_API_KEY"), envs.join("\n"));
            assert.ok(!envs.some(e => e.startsWith("PAYMENTS_API_KEY=")), envs.join("\n"));
            for (const f of fs.readdirSync(out)) {
                assert.ok(!fs.readFileSync(path.join(out, f), "utf8").includes(PLANTED), `the payments key leaked into out/dev/${f}`);
            }
        });

        it("`slipway synth prod` switches the same program to App Platform: one App spec", function () {
            ok("npx slipway synth prod", run("npx", ["--no", "slipway", "synth", "prod", "--secret", `paymentsApiKey=${PLANTED}`], consumer));
            const out = path.join(consumer, "out/prod");
            assert.deepEqual(fs.readdirSync(out).sort(), ["app-spec.json", "outputs.json", "resources.json"]);
            const spec = JSON.parse(fs.readFileSync(path.join(out, "app-spec.json"), "utf8"));
            assert.deepEqual(spec.services.map((s: { name: string }) => s.name), ["orders"]);
            const resources: { type: string }[] = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8"));
            assert.equal(resources.filter(r => r.type === "digitalocean:index/app:App").length, 1);
            assert.equal(resources.filter(r => r.type.startsWith("docker:")).length, 0);
            for (const f of fs.readdirSync(out)) {
                assert.ok(!fs.readFileSync(path.join(out, f), "utf8").includes(PLANTED), `the payments key leaked into out/prod/${f}`);
            }
        });

        it("runs the policy pack from node_modules/@slipway/components/policy, started as `pulumi preview --policy-pack` starts it", async function () {
            const pack = await startPack(path.join(consumer, "node_modules/@slipway/components/policy"));
            try {
                const info = await pack.info();
                assert.equal(info.name, "slipway");
                assert.deepEqual(info.policies.map(p => p.name).sort(), RULES.map(r => r.name).sort());
                const urn = (n: string) => `urn:pulumi:prod::orders-stack::docker:index/container:Container::${n}`;
                const container = (name: string, props: Record<string, unknown>) => ({
                    urn: urn(name), type: "docker:index/container:Container", name, props, options: { protect: false }, dependencies: [],
                });
                const ds = await pack.analyzeAll([
                    container("hardened", { image: "orders:1.2.0", user: "10001:10001", securityOpts: ["no-new-privileges:true"],
                        capabilities: { drops: ["ALL"] }, memory: 256, logDriver: "local" }),
                    container("careless", { image: "orders", user: "root", privileged: true }),
                ]);
                assert.deepEqual([...new Set(ds.map(d => d.urn))], [urn("careless")], pack.output());
                for (const p of ["docker-non-root-user", "docker-no-privileged", "docker-image-pinned", "docker-memory-limit"]) {
                    assert.ok(ds.some(d => d.policy === p), `${p} should fire: ${JSON.stringify(ds.map(d => d.policy))}`);
                }
            } finally {
                pack.stop();
            }
        });

        it("bad config fails with component, property path and fix, and writes nothing", function () {
            const outDir = path.join(tmp, "bad-out");
            const r = run("npx", ["--no", "slipway", "synth", "dev", "--set", "replicas=0", "--secret", "paymentsApiKey=x", `--out=${outDir}`], consumer);
            assert.equal(r.status, 1, report("synth with replicas=0 should exit 1", r));
            assert.match(r.stderr, /error: ApiService "orders": replicas: .*got 0\. Fix: .+/, report("message", r));
            assert.doesNotMatch(r.stderr, /^\s+at /m, "a config error needs no stack trace");
            assert.equal(fs.existsSync(outDir), false);
        });
    });
});
