import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "../..");

export interface SynthRun { status: number | null; stdout: string; stderr: string; outDir: string }

/** Run `npm run synth`'s program as a user would: a separate process, its own Pulumi runtime. */
export function runSynth(stack: string, args: string[] = [], env: Record<string, string> = {}): SynthRun {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), `synth-${stack}-`));
    const r = spawnSync(process.execPath, ["-r", "ts-node/register", "cli/synth.ts", stack, `--out=${outDir}`, ...args], {
        cwd: ROOT,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", ...env },
        encoding: "utf8",
        timeout: 120_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, outDir };
}

/** Every file under `dir`, relative path -> content. */
export function readTree(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of fs.readdirSync(dir).sort()) out[f] = fs.readFileSync(path.join(dir, f), "utf8");
    return out;
}
