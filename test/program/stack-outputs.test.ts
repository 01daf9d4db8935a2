// Under Pulumi mocks (cli/synth's recordStack, no engine): the program's stack outputs carry no
// undefined values. @pulumi/pulumi warns "Undefined value (<key>) will not show as a stack output"
// on every `up` for each top-level undefined (runtime/stack.ts, massage), which on docker was
// secretsRevision and, without a database, databaseHost and databaseUrl too.
// run-entry.test.ts checks the same through the real run entry, where the warning itself shows.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { recordStack } from "../../cli/synth";

const ROOT = path.resolve(__dirname, "../..");

/** A project folder holding Pulumi.yaml and a copy of the dev stack's file with `edit` applied. */
function devVariant(stack: string, edit: (config: Record<string, unknown>) => void): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-outputs-"));
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const doc = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    edit(doc.config);
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), YAML.stringify(doc));
    return dir;
}

const undefinedKeys = (outputs: Record<string, unknown>) => Object.keys(outputs).filter(k => outputs[k] === undefined);

describe("stack outputs under mocks (docker)", function () {
    this.timeout(300_000);

    it("the dev stack exports no undefined value and no secretsRevision", async () => {
        const { outputs } = await recordStack({ dir: ROOT, stack: "dev" });
        assert.deepEqual(undefinedKeys(outputs), []);
        assert.deepEqual(Object.keys(outputs).sort(), ["databaseHost", "databaseUrl", "monthlyCost", "services", "url"]);
    });

    it("without a database, no database outputs either", async () => {
        const dir = devVariant("nodb", c => { delete c["slipway:database"]; });
        try {
            const { outputs } = await recordStack({ dir, stack: "nodb", program: path.join(ROOT, "index.ts") });
            assert.deepEqual(undefinedKeys(outputs), []);
            assert.deepEqual(Object.keys(outputs).sort(), ["monthlyCost", "services", "url"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
