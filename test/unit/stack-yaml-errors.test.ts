// A hand-edited stack file with a YAML mistake: `npm run synth` must print one line naming file,
// line, problem and fix (not the YAML parser's stack trace), and exit non-zero before any program runs.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readYamlFile } from "../../cli/stack-config";
import { SlipwayConfigError } from "../../components/core/errors";
import { ROOT } from "../helpers/synth-run";

const PROJECT = "name: yamlcase\nruntime: nodejs\n";
const CASES = [
    { name: "a duplicate key", text: "config:\n  slipway:target: docker\n  slipway:environment: dev\n  slipway:target: do-app\n",
        line: 4, problem: /key "slipway:target" appears twice/, fix: /keep one/ },
    { name: "a tab indent", text: "config:\n  slipway:target: docker\n\tslipway:environment: dev\n",
        line: 3, problem: /indented with a tab/, fix: /indent with spaces/ },
    { name: "an unclosed quote", text: "config:\n  slipway:target: \"docker\n",
        line: 3, problem: /invalid YAML/, fix: /correct the YAML/ },
];

function project(stackText: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-yaml-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), PROJECT);
    fs.writeFileSync(path.join(dir, "Pulumi.bad.yaml"), stackText);
    return dir;
}

describe("stack file YAML mistakes", () => {
    for (const c of CASES) {
        it(`${c.name}: a SlipwayConfigError naming file and line`, () => {
            const dir = project(c.text);
            const file = path.join(dir, "Pulumi.bad.yaml");
            assert.throws(() => readYamlFile(file), (e: unknown) => {
                assert.ok(e instanceof SlipwayConfigError, String(e));
                assert.ok(e.component.endsWith("Pulumi.bad.yaml"), e.component);
                assert.equal(e.propertyPath, `line ${c.line}`);
                assert.match(e.problem, c.problem);
                assert.match(e.fix, c.fix);
                return true;
            });
        });
    }

    it("npm run synth prints one line for each, no stack trace", function () {
        this.timeout(240_000);
        for (const c of CASES.slice(0, 2)) {
            const dir = project(c.text);
            const r = spawnSync(process.execPath, ["-r", "ts-node/register", path.join(ROOT, "cli/synth.ts"), "bad"], {
                cwd: dir,
                env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json"), NODE_PATH: path.join(ROOT, "node_modules") },
                encoding: "utf8",
                timeout: 120_000,
            });
            assert.equal(r.status, 1, r.stderr);
            const lines = r.stderr.trim().split("\n");
            assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
            assert.match(lines[0]!, new RegExp(`^error: Pulumi\\.bad\\.yaml: line ${c.line}: `));
            assert.match(lines[0]!, c.problem);
            assert.match(lines[0]!, /\. Fix: /);
            assert.doesNotMatch(r.stderr, /YAMLParseError|\n\s+at /);
        }
    });
});
