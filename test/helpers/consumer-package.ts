// The package as another team gets it: `npm pack`, then the tarball installed into a copy of
// examples/consumer. Shared by test/package/pack.test.ts (types, tests, synth) and
// test/integration/package-gateway.real-docker.test.ts (a deploy on the real engine).
import { strict as assert } from "assert";
import { SpawnSyncReturns, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "../..");

/** The environment of a fresh shell: nothing from this mocha run or an enclosing `npm run`. */
export function cleanEnv(): NodeJS.ProcessEnv {
    return Object.fromEntries(Object.entries(process.env).filter(([k]) =>
        !k.startsWith("npm_") && !k.startsWith("TS_NODE_") && k !== "NODE_OPTIONS" && k !== "INIT_CWD"));
}

export function run(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): SpawnSyncReturns<string> {
    return spawnSync(cmd, args, { cwd, env: cleanEnv(), encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
}

/** Output worth reading when a command did not do what we expected. */
export function report(what: string, r: SpawnSyncReturns<string>): string {
    const tail = (s: string | null) => (s ?? "").split("\n").filter(l => !/Unknown (user|env) config/.test(l)).slice(-60).join("\n");
    return `${what}: exit ${r.status}${r.signal ? ` (signal ${r.signal})` : ""}${r.error ? ` (${r.error.message})` : ""}\n` +
        `--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

export function ok(what: string, r: SpawnSyncReturns<string>): SpawnSyncReturns<string> {
    assert.equal(r.status, 0, report(what, r));
    return r;
}

/** `npm pack` (prepack builds) into `<tmp>/pack`; returns the tarball's path. */
export function packTarball(tmp: string): string {
    const packed = path.join(tmp, "pack");
    fs.mkdirSync(packed);
    ok("npm pack (runs prepack: the build)", run("npm", ["pack", "--pack-destination", packed], ROOT, 300_000));
    const tgz = fs.readdirSync(packed).filter(f => f.endsWith(".tgz"));
    assert.equal(tgz.length, 1, `expected one tarball in ${packed}, got ${tgz.join(", ") || "none"}`);
    return path.join(packed, tgz[0]!);
}

/** A copy of examples/consumer at `<tmp>/<name>` with `tarball` installed as @slipway/components. */
export function installConsumer(tmp: string, tarball: string, name = "consumer"): string {
    const consumer = path.join(tmp, name);
    fs.cpSync(path.join(ROOT, "examples/consumer"), consumer, {
        recursive: true,
        filter: src => !/(^|\/)(node_modules|out|bin)(\/|$)|\.tgz$/.test(path.relative(ROOT, src).replace(/^examples\/consumer\/?/, "")),
    });
    // The example names a local tarball; point it at the one just packed.
    const pkgFile = path.join(consumer, "package.json");
    const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
    assert.ok(pkg.dependencies["@slipway/components"]?.startsWith("file:"), "the example depends on @slipway/components via file:");
    pkg.dependencies["@slipway/components"] = `file:${tarball}`;
    fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 2) + "\n");
    const started = Date.now();
    // The npm cache already holds every dependency from the repo's own install.
    ok("npm install in the consumer", run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], consumer, 300_000));
    console.log(`      (consumer npm install: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return consumer;
}
