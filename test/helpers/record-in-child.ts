// Run `recordStack` in a child process and print the resources of the asked types as JSON after
// a marker line. Pulumi's mocks are process-global: a stack run inside the mocha process would
// replace the mocks every other test file is recording with.
//   node -r ts-node/register test/helpers/record-in-child.ts '<json: {stack, overrides?, secretOverrides?, types}>'
import { execFile } from "child_process";
import * as path from "path";
import { recordStack } from "../../cli/synth";
import type { RecordedResource } from "../../components/testing/recorder";

const MARKER = "--- recorded ---";
const ROOT = path.resolve(__dirname, "../..");

interface Request {
    stack: string;
    /** The project directory, relative to the repository (a test fixture); the repository itself by default. */
    dir?: string;
    overrides?: Record<string, unknown>; secretOverrides?: Record<string, unknown>;
    /** Type tokens to return; `["*"]` for every resource. */
    types: string[];
}

/** From a test: record `stack` in a child process, with `env` added to its environment. */
export function recordInChild(req: Request, env: Record<string, string> = {}): Promise<RecordedResource[]> {
    return new Promise((resolve, reject) => {
        execFile(process.execPath, ["-r", "ts-node/register", path.join(__dirname, "record-in-child.ts"), JSON.stringify(req)], {
            cwd: ROOT, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", ...env }, maxBuffer: 64 << 20, timeout: 120_000,
        }, (err, stdout, stderr) => {
            const at = stdout.indexOf(MARKER);
            if (err || at < 0) return reject(new Error(`recording ${req.stack} failed: ${err?.message ?? ""}\n${stderr}`));
            resolve(JSON.parse(stdout.slice(at + MARKER.length)) as RecordedResource[]);
        });
    });
}

if (require.main === module) {
    const req = JSON.parse(process.argv[2]!) as Request;
    recordStack({ dir: path.resolve(ROOT, req.dir ?? "."), stack: req.stack, overrides: req.overrides, secretOverrides: req.secretOverrides }).then(r => {
        process.stdout.write(`\n${MARKER}\n${JSON.stringify(r.resources.filter(x => req.types.includes("*") || req.types.includes(x.type)))}`);
        process.exit(0);
    }, err => { console.error(err); process.exit(1); });
}
