// The pack laid out as the npm package ships it (policy/ with PulumiPolicy.yaml and package.json,
// its program compiled to dist/policy/), built into out/ so Node finds this repository's
// node_modules above it, as an installed package finds its consumer's.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../..");

/** Build the layout and return the pack's folder (what `--policy-pack` names). */
export function buildPackLayout(): { packDir: string; remove(): void } {
    fs.mkdirSync(path.join(ROOT, "out"), { recursive: true });
    const base = fs.mkdtempSync(path.join(ROOT, "out", "policy-pack-"));
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "--outDir", path.join(base, "dist"), "--rootDir", ROOT,
        "--module", "commonjs", "--target", "ES2022", "--strict", "--esModuleInterop", "--skipLibCheck", "--types", "node",
        path.join(ROOT, "policy/index.ts")], { cwd: ROOT, stdio: "pipe" });
    const packDir = path.join(base, "policy");
    fs.mkdirSync(packDir);
    for (const f of ["PulumiPolicy.yaml", "package.json"]) fs.copyFileSync(path.join(ROOT, "policy", f), path.join(packDir, f));
    return { packDir, remove: () => fs.rmSync(base, { recursive: true, force: true }) };
}
