import * as assert from "assert";
import { parseDigest } from "../../cli/preview-comment/parse";
import { DEFAULT_MAX_CHARS, bytes, renderPreviewComment } from "../../cli/preview-comment/render";
import { DigestBuilder } from "./digest-builder";
import { largePreview } from "./fixtures";
import { assertClean, renderConstructed, section } from "./helpers";

const DATA_LOSS_ENTRY = "- 💥 **Data loss**: `analytics-data` (`docker:index/volume:Volume`) in ManagedDatabase `analytics`";

describe("preview-comment: size limit", () => {
    it("500+ steps: untrimmed it would exceed the default limit; rendered it fits, says what was cut, keeps the full risk", () => {
        const untrimmed = renderConstructed("large-500-steps", { maxChars: 10_000_000 });
        assert.ok(bytes(untrimmed.markdown) > DEFAULT_MAX_CHARS, `fixture too small to test trimming (${bytes(untrimmed.markdown)})`);
        assert.deepStrictEqual(untrimmed.cuts, []);

        const r = renderConstructed("large-500-steps");
        assert.ok(bytes(r.markdown) <= DEFAULT_MAX_CHARS);
        assert.deepStrictEqual(r.cuts, ["before/after values"]);
        assert.match(r.markdown, /> ✂ \*\*Trimmed to fit the comment size limit\.\*\* Left out: before\/after values\./);
        const risks = section(r.markdown, "Risks");
        assert.ok(risks.includes(DATA_LOSS_ENTRY));
        assert.ok(risks.includes("Impact: the volume and everything stored in it are removed"));
        // Keys survive at this level, values do not.
        assert.match(r.markdown, /`svc-01-1` `docker:index\/container:Container`: `image`, `memory`\n/);
    });

    it("tighter limits cut in order: values, keys of risk-free resources, groups (least important first), the Changes section", () => {
        const sizes = [45_000, 30_000, 12_000, 2_500];
        const seen: string[][] = [];
        for (const maxChars of sizes) {
            const r = renderConstructed("large-500-steps", { maxChars });
            assertClean(r.markdown);
            assert.ok(bytes(r.markdown) <= maxChars, `${bytes(r.markdown)} > ${maxChars}`);
            assert.ok(section(r.markdown, "Risks").includes(DATA_LOSS_ENTRY), `risk lost at ${maxChars}`);
            assert.ok(section(r.markdown, "Risks").includes("  - Why: Docker volume will be **deleted**"), `risk detail lost at ${maxChars}`);
            seen.push(r.cuts);
        }
        assert.deepStrictEqual(seen[0], ["before/after values", "changed property names of 260 resources without risks"]);
        // The biggest risk-free group (208 DNS creates at the Gateway) goes first.
        assert.strictEqual(seen[1]?.[2], "per-resource lines of 1 component group (counts kept)");
        assert.match(seen[2]?.[2] ?? "", /^per-resource lines of \d+ component groups \(counts kept\)$/);
        assert.strictEqual(seen[3]?.[2], "the Changes section (see the counts in the header)");
        // A collapsed group keeps its counts.
        const r = renderConstructed("large-500-steps", { maxChars: 12_000 });
        assert.match(r.markdown, /- \*\*Gateway `edge`\*\*: 208 to create _\(details cut for size\)_/);
        // The group with the risk is the last to be collapsed.
        assert.match(r.markdown, /<details open><summary><b>ManagedDatabase <code>analytics<\/code><\/b>: 1 to delete ⚠/);
    });

    it("risks alone over the limit: compact one-liners first, then a counted, visible cut; never over the limit", () => {
        const b = new DigestBuilder("prod");
        const db = b.urn("slipway:database:ManagedDatabase", "warehouse");
        for (let i = 0; i < 300; i++) {
            b.delete({ type: "docker:index/volume:Volume", name: `shard-${String(i).padStart(3, "0")}`, parent: db, old: { inputs: { name: `shard-${i}` } } });
        }
        const preview = parseDigest(JSON.stringify(b.digest()));
        const compact = renderPreviewComment(preview, { maxChars: 60_000 });
        assert.ok(compact.cuts.includes("risk details (one line per risk)"), compact.cuts.join(" | "));
        assert.strictEqual((section(compact.markdown, "Risks").match(/^- 💥/gm) ?? []).length, 300);
        assert.ok(bytes(compact.markdown) <= 60_000);

        const cut = renderPreviewComment(preview, { maxChars: 20_000 });
        assert.ok(bytes(cut.markdown) <= 20_000);
        const shown = (section(cut.markdown, "Risks").match(/^- 💥/gm) ?? []).length;
        assert.ok(shown > 50 && shown < 300, `shown ${shown}`);
        assert.match(cut.markdown, new RegExp(`- …and ${300 - shown} more risks not shown here \\(comment size limit\\)`));
        assert.match(cut.markdown.split("\n")[1] ?? "", /300 data-loss risks/, "the verdict still counts every risk");
    });

    it("is deterministic: same input, same bytes", () => {
        const a = renderPreviewComment(parseDigest(JSON.stringify(largePreview(10).digest())), { maxChars: 5_000 });
        const b = renderPreviewComment(parseDigest(JSON.stringify(largePreview(10).digest())), { maxChars: 5_000 });
        assert.strictEqual(a.markdown, b.markdown);
    });
});
