import * as assert from "assert";
import * as path from "path";
import { RenderResult } from "../../cli/preview-comment/render";
import { APP_SIZES, DB_NODE_SIZES } from "../../components/core/prices";
import { CONSTRUCTED, PLANTED_VALUES } from "./fixtures";
import { GOLDEN_DIR, assertClean, golden, renderConstructed, renderShared, section, sharedFixtures } from "./helpers";

/** Risk entry lines (the "- icon **Title**: ..." heads), in order. */
const riskHeads = (md: string) => section(md, "Risks").split("\n").filter(l => l.startsWith("- "));
/** Group summaries in the Changes section, in order. */
const groupHeads = (md: string) => [...md.matchAll(/<summary><b>(.*?)<\/b>/g)].map(m => m[1]);

describe("preview-comment: shared upstream fixtures", () => {
    for (const f of sharedFixtures()) {
        it(`renders ${f.name} (golden, clean)`, () => {
            const r = renderShared(f.file, f.kind);
            assertClean(r.markdown);
            assert.ok(r.markdown.length < 65_536);
            golden(path.join(GOLDEN_DIR, `upstream-${f.name}.md`), r.markdown);
        });
    }

    const byName = (part: string) => {
        const f = sharedFixtures().find(x => x.name.includes(part));
        assert.ok(f, `shared fixture ${part} missing`);
        return renderShared(f.file, f.kind);
    };

    it("digest with only deletes and null detailedDiff: counts from changeSummary, no risks, one outside group", () => {
        const r = byName("sample-preview-deletes");
        const first = r.markdown.split("\n")[0] ?? "";
        assert.match(first, /`dev`.*✅ succeeded · 14 to delete · 2 unchanged$/);
        assert.strictEqual(r.risks.length, 0);
        assert.match(r.markdown, /No data-loss, credential, traffic or protected-resource risks found/);
        assert.deepStrictEqual(groupHeads(r.markdown), ["Not in a Slipway component"]);
        assert.strictEqual((section(r.markdown, "Changes by component").match(/\*\*delete\*\*/g) ?? []).length, 14);
        // Unchanged resources are left out.
        assert.ok(!/`docs` `aws:s3\/bucket:Bucket`/.test(r.markdown));
    });

    it("event log of a failed update: the failed op is an error risk, maybeCorrupt a warning, secrets hidden", () => {
        const r = byName("failed-stacks");
        assert.ok(r.failed);
        assert.deepStrictEqual(r.risks.map(x => [x.kind, x.change?.name]), [["error", "test-x"], ["warning", undefined]]);
        assert.ok(!r.markdown.includes("ciphertext"));
    });

    it("event log replace with detailedDiff: key marked as forcing replace, old and new value shown", () => {
        const r = byName("webserver-userdata");
        assert.match(r.markdown, /\*\*replace\*\* `web-server-www` `aws:ec2\/instance:Instance`: `userData` \(forces replace\): `"#!\/bin\/bash echo \\"Hello, World!\\"/);
        assert.match(r.markdown.split("\n")[0] ?? "", /1 to replace · 2 unchanged$/);
    });

    it("protected replace (engine event stream): failed, protected-resource risk and the engine's error, colour directives gone", () => {
        const r = byName("TestProtect");
        assert.ok(r.failed);
        assert.match(r.markdown.split("\n")[0] ?? "", /❌ failed/);
        const heads = riskHeads(r.markdown);
        assert.strictEqual(heads.length, 3);
        assert.match(heads[0] ?? "", /Error\*\*: `resA`/);
        assert.match(heads[1] ?? "", /^- ❌ \*\*Error\*\*$/);
        assert.match(heads[2] ?? "", /Protected resource\*\*: `resA`/);
        assert.match(r.markdown, /unable to replace resource "urn:pulumi:test::test::pkgA:m:typA::resA"\n {2}as it is currently marked for protection/);
    });
});

describe("preview-comment: constructed previews of Slipway stacks", () => {
    const render = (name: string, withEvents = false): RenderResult => {
        const r = renderConstructed(name, {}, withEvents);
        assertClean(r.markdown, PLANTED_VALUES);
        return r;
    };

    for (const name of Object.keys(CONSTRUCTED)) {
        it(`${name}: golden`, () => golden(path.join(GOLDEN_DIR, `${name}.md`), render(name).markdown));
    }
    it("protected-replace-failure with its event log: golden", () => {
        golden(path.join(GOLDEN_DIR, "protected-replace-failure.with-events.md"), render("protected-replace-failure", true).markdown);
    });

    it("Postgres volume replace: the volume is the data loss, the database container its downtime", () => {
        const r = render("postgres-volume-replace");
        assert.match(r.markdown.split("\n")[1] ?? "", /^\*\*⚠ 1 data-loss risk · 1 traffic risk\*\*$/);
        const heads = riskHeads(r.markdown);
        assert.deepStrictEqual(heads, [
            "- 💥 **Data loss**: `orders-data` (`docker:index/volume:Volume`) in ManagedDatabase `orders`",
            "- 🚦 **Traffic interruption**: the only container `orders-db` (`docker:index/container:Container`) in ManagedDatabase `orders`",
        ]);
        const risks = section(r.markdown, "Risks");
        assert.match(risks, /Docker volume will be \*\*replaced\*\* because `driverOpts` changed/);
        assert.match(risks, /`orders-db` will be \*\*replaced\*\* because `volumes` changed, and the old one is deleted before the new one is created/);
        assert.match(risks, /volume `"orders-data-7f3a1c2"` goes too \(see its own entry\)/);
        assert.match(risks, /`retainOnDelete` is set: the old one is left in place/);
    });

    it("Postgres volume replace: changes grouped by component in fixed order, with keys, values and unknowns", () => {
        const r = render("postgres-volume-replace");
        assert.deepStrictEqual(groupHeads(r.markdown), ["Gateway <code>edge</code>", "ApiService <code>api</code>", "ManagedDatabase <code>orders</code>"]);
        const changes = section(r.markdown, "Changes by component");
        assert.match(changes, /`api-1` `docker:index\/container:Container`: `image`: `"ghcr.io\/acme\/api:1.4.0"` → `"ghcr.io\/acme\/api:1.5.0"`/);
        assert.match(changes, /`volumes\[0\]\.volumeName` \(forces replace\): `"orders-data-7f3a1c2"` → `\(known after apply\)`/);
        // Risky group is open, the others folded.
        assert.match(r.markdown, /<details open><summary><b>ManagedDatabase <code>orders<\/code><\/b>: 2 to replace ⚠/);
        assert.match(r.markdown, /<details><summary><b>ApiService <code>api<\/code><\/b>: 2 to update<\/summary>/);
        // Within a group: replace before update, by type then name.
        assert.ok(changes.indexOf("`orders-db`") < changes.indexOf("`orders-data`"));
    });

    it("DO cluster delete: cluster, database and user are data loss, the pool is traffic; a TXT record delete is not flagged", () => {
        const r = render("do-database-cluster-delete");
        assert.deepStrictEqual(r.risks.map(x => [x.kind, x.change?.name]), [
            ["data-loss", "orders-cluster"], ["data-loss", "orders-db"], ["data-loss", "orders-user"], ["traffic", "orders-pool"],
        ]);
        assert.ok(r.risks.every(x => x.component.type === "slipway:database:ManagedDatabase" && x.component.name === "orders"));
        assert.match(section(r.markdown, "Risks"), /DigitalOcean database cluster will be \*\*deleted\*\*/);
        assert.ok(!riskHeads(r.markdown).some(h => h.includes("edge-verify")));
        assert.match(section(r.markdown, "Changes by component"), /`app` `digitalocean:index\/app:App`: `spec` _\(from diff reasons; no detailed diff\)_/);
        assert.match(r.markdown.split("\n")[0] ?? "", /6 to delete · 2 to update · 15 unchanged$/);
    });

    it("protected replace: preview failed, errors first (resource before engine-wide), then data loss, protected, traffic", () => {
        const r = render("protected-replace-failure");
        assert.ok(r.failed);
        assert.deepStrictEqual(r.risks.map(x => x.kind), ["error", "error", "data-loss", "protected", "traffic"]);
        assert.strictEqual(r.risks[0]?.change?.name, "orders-cluster");
        assert.strictEqual(r.risks[1]?.message, "error: preview failed");
        assert.match(r.markdown.split("\n")[1] ?? "", /1 data-loss risk · 1 protected-resource change · 1 traffic risk · 2 errors/);
        assert.match(section(r.markdown, "Changes by component"), /`orders-cluster` `digitalocean:index\/databaseCluster:DatabaseCluster` _\[protected\]_/);
    });

    it("protected replace with the event log: same risks (diagnostics deduplicated), engine result read", () => {
        const alone = render("protected-replace-failure");
        const both = render("protected-replace-failure", true);
        assert.deepStrictEqual(both.risks.map(x => [x.kind, x.message]), alone.risks.map(x => [x.kind, x.message]));
    });

    it("secret rotation: the password replace and both consumers are credential risks; values only as [secret]", () => {
        const r = render("secret-rotation");
        assert.deepStrictEqual(r.risks.map(x => [x.kind, x.change?.name]), [
            ["credential", "api-1"], ["credential", "orders-db"], ["credential", "orders-password"], ["warning", "orders-db"],
        ]);
        assert.match(section(r.markdown, "Risks"), /secret input `uploads\[0\]\.content` changes \(values not shown\)/);
        assert.match(section(r.markdown, "Changes by component"), /`uploads\[0\]\.content`: `\[secret\]` → `\[secret\]`/);
        // ANSI stripped from the provider's warning, text kept.
        assert.match(r.markdown, /warning: docker:index\/container:Container orders-db: the `restart` field is deprecated/);
    });
});

describe("preview-comment: monthly cost (cost.ts, priced by components/core/prices.ts)", () => {
    const lines = (name: string) => renderConstructed(name, {}).markdown.split("\n");
    const old = APP_SIZES["apps-s-1vcpu-1gb"]! * 2 + DB_NODE_SIZES["db-s-1vcpu-2gb"]! * 2;
    const money = (n: number) => `$${n.toFixed(2)}`;

    it("an added replica: the total from the last update's monthlyCost, plus one instance, next to the verdict", () => {
        const md = lines("do-cost-added-replica");
        const unit = APP_SIZES["apps-s-1vcpu-1gb"]!;
        assert.strictEqual(md[3], `**Monthly cost: ${money(old)} → ${money(old + unit)} (+${money(unit)})**`);
        assert.ok(md.includes(`- ApiService \`api\`: ${money(2 * unit)} → ${money(3 * unit)} (+${money(unit)}) · 3 × App Platform apps-s-1vcpu-1gb (${money(unit)})`), md.join("\n"));
    });

    it("a database resize: the cluster's size × nodes on both sides, attributed to its ManagedDatabase", () => {
        const md = lines("do-cost-database-resize");
        const before = 2 * DB_NODE_SIZES["db-s-1vcpu-2gb"]!, after = 2 * DB_NODE_SIZES["db-s-2vcpu-4gb"]!;
        assert.strictEqual(md[3], `**Monthly cost: ${money(old)} → ${money(old - before + after)} (+${money(after - before)})**`);
        assert.ok(md.some(l => l.startsWith(`- ManagedDatabase \`db\`: ${money(before)} → ${money(after)} (+${money(after - before)})`)), md.join("\n"));
        assert.ok(md.some(l => l.startsWith("<details><summary><b>ManagedDatabase <code>db</code></b>: 1 to update · ") && l.includes(`${money(before)} → ${money(after)}/month`)), "the change group says it too");
    });

    it("a deleted cluster goes to $0; a docker preview (nothing priced) has no cost line", () => {
        assert.ok(lines("do-database-cluster-delete").some(l => /^- ManagedDatabase `orders`: \$\d+\.00 → \$0\.00 \(-\$\d+\.00\) · removed$/.test(l)));
        assert.ok(!lines("postgres-volume-replace").some(l => l.includes("Monthly cost")));
    });
});
