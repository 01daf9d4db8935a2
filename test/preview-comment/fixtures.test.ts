import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { CONSTRUCTED } from "./fixtures";
import { PREVIEWS_DIR, UPDATE, sharedFixtures } from "./helpers";

/**
 * The constructed previews are generated (fixtures.ts); the committed JSON is what the CLI and the
 * docs use. Keep them in step: UPDATE_GOLDEN=1 rewrites, otherwise a drift fails here.
 */
describe("preview-comment fixtures", () => {
    for (const [name, make] of Object.entries(CONSTRUCTED)) {
        it(`test/fixtures/previews/${name}.json matches its generator`, () => {
            const f = make();
            const files: Array<[string, string]> = [[`${name}.json`, `${JSON.stringify(f.digest, null, 4)}\n`]];
            if (f.eventLog) files.push([`${name}.eventlog.json`, f.eventLog]);
            for (const [file, text] of files) {
                const p = path.join(PREVIEWS_DIR, file);
                if (UPDATE) { fs.mkdirSync(PREVIEWS_DIR, { recursive: true }); fs.writeFileSync(p, text); continue; }
                assert.strictEqual(fs.readFileSync(p, "utf8"), text, `${file} is stale; rerun with UPDATE_GOLDEN=1`);
            }
        });
    }

    it("the large preview really has 500+ steps", () => {
        const digest = JSON.parse(fs.readFileSync(path.join(PREVIEWS_DIR, "large-500-steps.json"), "utf8")) as { steps: unknown[] };
        assert.ok(digest.steps.length >= 500, `only ${digest.steps.length} steps`);
    });

    it("the shared upstream fixtures are present (4 files: 1 digest, 3 event logs)", () => {
        const all = sharedFixtures();
        assert.strictEqual(all.length, 4, all.map(f => f.name).join(", "));
        assert.deepStrictEqual(all.map(f => f.kind).sort(), ["digest", "events", "events", "events"]);
    });
});
