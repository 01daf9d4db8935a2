// `pulumi up` must run index.ts (the stack program), never the published library in dist/, which
// registers nothing and so would plan to delete the whole stack. The entry point is resolved the
// way the engine, the Node.js language host and @pulumi/pulumi's run entry do it (see
// test/program/entry.ts), with dist/ built, as it is in CI before `pulumi up`.
// test/program/ then runs the program for real through @pulumi/pulumi's run entry.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { resolveProgram } from "../program/entry";

const ROOT = path.resolve(__dirname, "../..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const libraryEntry = path.join(ROOT, pkg.exports["."].default);

describe("the stack program's entry point (Pulumi.yaml main, then package.json, then the folder)", function () {
    this.timeout(300_000);

    before(function () {
        // The failure this guards against only shows once the library is built.
        if (fs.existsSync(libraryEntry)) return;
        const r = spawnSync("npm", ["run", "--silent", "build"], { cwd: ROOT, encoding: "utf8" });
        assert.equal(r.status, 0, `npm run build failed:\n${r.stdout}\n${r.stderr}`);
        assert.ok(fs.existsSync(libraryEntry), `npm run build did not write ${libraryEntry}`);
    });

    it("Pulumi.yaml names index.ts as main, a file, so the host passes it as the entry point", () => {
        const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
        assert.equal(project.main, "index.ts");
        const r = resolveProgram(ROOT);
        assert.equal(r.pwd, ROOT);
        assert.equal(r.entryPoint, "index.ts");
    });

    it("resolves to index.ts with dist/ built, with no entry-point or DEP0128 warning", () => {
        const r = resolveProgram(ROOT);
        assert.equal(r.file, path.join(ROOT, "index.ts"));
        assert.deepEqual(r.warnings, []);
    });

    it("without Pulumi.yaml's main it would run the built library (the failure this prevents)", () => {
        const r = resolveProgram(ROOT, { main: null });
        assert.equal(r.entryPoint, ".");
        assert.equal(r.file, libraryEntry, "package.json exports['.'] wins once dist/ exists");
    });

    it("the library entry stays what package.json publishes (main and exports agree)", () => {
        assert.equal(path.join(ROOT, pkg.main), libraryEntry);
    });
});
