// Stateful resources keep their URNs: both committed stacks (Pulumi.dev.yaml, Pulumi.prod.yaml)
// are run under Pulumi mocks and compared with test/fixtures/urns/<stack>.json, recorded at
// b1e036c (before the component refactor) by scripts/record-urns.ts.
//
// The engine knows a resource by its URN (stack, project, the chain of parent type tokens, its type
// token, its name). Change any of them and `pulumi up` creates a new resource and deletes the old
// one, unless the new one lists the old URN as an alias. For a volume or a database that is data
// loss; so every baseline resource flagged stateful must still be registered under the same URN, or
// be found by the engine's alias rules (components/testing/recorder.ts `resolveAliases`, which also
// follows a renamed parent's alias down to its children), as a resource of the same type, claimed
// by exactly one resource; and it must keep the protect/retainOnDelete it had.
//
// Stateful = its loss loses data or cuts a live path (decided in scripts/record-urns.ts, reasons in
// each fixture entry's "why", the full argument in test/fixtures/urns/README.md):
//   - every type in the preview's risk table (cli/preview-comment/stateful-types.ts) whose condition
//     holds: Docker volumes, containers that mount volumes (Postgres, its backup job, Prometheus,
//     Caddy), DO database clusters, dbs, users, connection pools, replicas, volumes, Spaces buckets,
//     the App Platform app, Cloudflare zones and A/AAAA/CNAME records, generated passwords (a new
//     one is a rotation: in dev the Postgres data directory keeps the old password), TLS keys;
//   - and the Docker network (every container joins it by name), the Docker provider (every Docker
//     resource hangs off it), the DO database firewall (the App's way into the cluster), RandomBytes;
//   - and anything a component marks protect or retainOnDelete;
//   - but never a revision-scoped name (API replicas per release, the gateway's config loader per
//     config hash): those change on purpose, and the release machinery starts the new one first.
// Everything else (components, images, zone settings, rulesets, uptime checks) may change URN: the
// test prints those changes, it does not fail on them. docs/aliases.md says when they still deserve
// an alias.
//
// Each stack is recorded in its own child process (`scripts/record-urns.ts --json <stack>`, the two
// in parallel), as test/synth/synth.test.ts does with runSynth: recordStack installs process-global
// Pulumi mocks, config and SLIPWAY_SYNTH, and mocha runs every unit and component test file in one
// process, where test/helpers/harness.ts keeps one Recorder wrapped around the first mock monitor:
// a second setMocks in this process would leave the component tests that run after this file
// recording nothing. The alias resolution itself is tested in-process, on that shared Recorder.
//
// Fixing a failure: add `aliases` to the resource that replaced the old one (docs/aliases.md), e.g.
// `aliases: [{ name: "db-data" }]` for a rename, `[{ type: "slipway:database:ManagedDatabase" }]` on
// a re-typed component (its children follow), `[{ parent: oldParentUrn }]` for a move. Do not
// regenerate the fixture to make this test pass: see scripts/record-urns.ts.
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { AliasResolution, createUrn, parseUrn, resolveAliases } from "../../components/testing/recorder";
import { freshRecorder } from "../helpers/harness";
import type { CurrentResource, UrnFixture } from "../../scripts/record-urns";

const ROOT = path.resolve(__dirname, "../..");
const FIXTURES = path.join(ROOT, "test/fixtures/urns");
const STACKS = ["dev", "prod"] as const;

/** Record a stack's current registrations in a child process (see the header: mocks are process-global). */
function recordInChild(stack: string): Promise<CurrentResource[]> {
    return new Promise((resolve, reject) => {
        execFile(process.execPath, ["-r", "ts-node/register", "scripts/record-urns.ts", "--json", stack], {
            cwd: ROOT, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" }, encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20,
        }, (err, stdout, stderr) => {
            if (err) return reject(new Error(`recording the ${stack} stack failed: ${err.message}\n${stderr}`));
            // The program may log to stdout while it runs (pulumi.log under mocks); the recording is the last line.
            const last = stdout.trimEnd().split("\n").pop() ?? "";
            try { resolve(JSON.parse(last)); } catch (e) { reject(new Error(`recording the ${stack} stack printed no JSON: ${e}\n${stdout}\n${stderr}`)); }
        });
    });
}

interface Comparison {
    baseline: UrnFixture;
    current: CurrentResource[];
    resolved: Map<string, AliasResolution>;
    /** Baseline URN -> the current resources the engine would take for it. */
    claims: Map<string, CurrentResource[]>;
}

function compare(baseline: UrnFixture, current: CurrentResource[]): Comparison {
    const resolved = resolveAliases(current, baseline.resources.map(r => r.urn));
    const claims = new Map<string, CurrentResource[]>();
    for (const r of current) {
        const previous = resolved.get(r.urn)!.previous;
        if (previous) claims.set(previous, [...(claims.get(previous) ?? []), r]);
    }
    return { baseline, current, resolved, claims };
}

const short = (urn: string) => urn.replace(/^urn:pulumi:[^:]+::[^:]+::/, "");

type Entry = UrnFixture["resources"][number];

/**
 * The resources created now (found under no old URN) that look like `old`'s successor: same type
 * under another name or parent, or same name under another type; each with the alias spec that
 * would make the engine find `old` again.
 */
function successors(c: Comparison, old: Entry): { urn: string; spec: string }[] {
    const o = parseUrn(old.urn);
    const chain = (qualified: string) => qualified.split("$").slice(0, -1).join("$");
    // A new resource named like another old one of its type is more likely that one's successor.
    const named = new Set(c.baseline.resources.filter(b => b.urn !== old.urn).map(b => `${b.type}::${parseUrn(b.urn).name}`));
    return c.current.filter(r => !c.resolved.get(r.urn)!.previous && r.custom === old.custom && (r.type === old.type || r.name === o.name))
        .filter(r => r.name === o.name || !named.has(`${r.type}::${r.name}`))
        .map(r => {
            const n = parseUrn(c.resolved.get(r.urn)!.urn);
            const spec: string[] = [];
            if (n.name !== o.name) spec.push(`name: "${o.name}"`);
            if (n.type !== o.type) spec.push(`type: "${o.type}"`);
            if (chain(n.qualifiedType) !== chain(o.qualifiedType)) spec.push(old.parent ? `parent: "${old.parent}"` : "parent: undefined");
            return { urn: c.resolved.get(r.urn)!.urn, spec: `aliases: [{ ${spec.join(", ")} }]` };
        });
}

/** What to write so the engine finds `old` again. */
function howToFix(c: Comparison, old: Entry): string {
    const o = parseUrn(old.urn);
    const lines: string[] = [];
    const parent = old.parent ? c.baseline.resources.find(r => r.urn === old.parent) : undefined;
    if (parent && !c.claims.has(parent.urn)) {
        // A renamed or re-typed component takes its children along once it has its alias.
        const guesses = successors(c, parent);
        lines.push(`its parent ${short(parent.urn)} is gone as well: alias the parent component and this resource follows it ` +
            `(children whose names start with the parent's name are re-prefixed)` +
            (guesses.length ? `: ${guesses.map(g => `give ${short(g.urn)} \`${g.spec}\``).join(", or ")}`
                : `: \`aliases: [{ name: "${parseUrn(parent.urn).name}" }]\` if renamed, \`[{ type: "${parent.type}" }]\` if re-typed`));
        for (const g of successors(c, old).filter(g => parseUrn(g.urn).name !== o.name && parseUrn(g.urn).type === old.type)) {
            lines.push(`if ${short(g.urn)} replaced it, its own name changed too: give it \`aliases: [{ name: "${o.name}" }]\` as well ` +
                `(the engine resolves it under the parent's old URN)`);
        }
    } else {
        for (const g of successors(c, old)) lines.push(`if ${short(g.urn)} replaced it: give it \`${g.spec}\``);
        if (!lines.length) {
            lines.push(`no new ${old.type} is registered: if it was renamed or moved, give the new resource ` +
                `\`aliases: [{ name: "${o.name}" }]\` (with \`parent: ${old.parent ? `"${old.parent}"` : "undefined"}\` if its parent changed); ` +
                `if it was removed on purpose, the pull request must say so (data loss) before the fixture is regenerated`);
        }
    }
    return lines.map(l => `    fix: ${l}`).join("\n");
}

describe("URNs of the committed stacks: nothing stateful is replaced or deleted (test/fixtures/urns)", function () {
    this.timeout(180_000);

    describe("alias resolution as the engine does it (components/testing/recorder.ts)", () => {
        const U = (chain: string, name: string) => `urn:pulumi:dev::slipway::${chain}::${name}`;
        const DB = "slipway:database:ManagedDatabase", VOL = "docker:index/volume:Volume";
        const rec = (urn: string, parent?: string, aliasSpecs: CurrentResource["aliasSpecs"] = [], aliases: string[] = []) =>
            ({ urn, type: parseUrn(urn).type, name: parseUrn(urn).name, parent, aliases, aliasSpecs });

        it("builds URNs with the whole parent type chain; the root stack adds nothing", () => {
            assert.strictEqual(createUrn("db-data", VOL, U(DB, "db"), "slipway", "dev"), U(`${DB}$${VOL}`, "db-data"));
            assert.strictEqual(createUrn("x", VOL, U(`${DB}$slipway:a:B`, "b"), "slipway", "dev"), U(`${DB}$slipway:a:B$${VOL}`, "x"));
            assert.strictEqual(createUrn("db", DB, "urn:pulumi:dev::slipway::pulumi:pulumi:Stack::slipway-dev", "slipway", "dev"), U(DB, "db"));
            assert.deepStrictEqual(parseUrn(U(`${DB}$${VOL}`, "a::b")), { stack: "dev", project: "slipway", qualifiedType: `${DB}$${VOL}`, type: VOL, name: "a::b" });
        });

        it("fills a spec from the resource and follows a renamed parent to its children (name prefix re-written)", () => {
            const olds = [U(DB, "db"), U(`${DB}$${VOL}`, "db-data"), U(`${DB}$${VOL}`, "backups")];
            const parent = rec(U(DB, "database"), undefined, [{ name: "db" }]);
            const data = rec(U(`${DB}$${VOL}`, "database-data"), parent.urn, []); // no alias of its own
            const other = rec(U(`${DB}$${VOL}`, "backups"), parent.urn);
            const r = resolveAliases([parent, data, other], olds);
            assert.strictEqual(r.get(parent.urn)!.previous, U(DB, "db"));
            assert.strictEqual(r.get(data.urn)!.previous, U(`${DB}$${VOL}`, "db-data"));
            assert.strictEqual(r.get(other.urn)!.previous, U(`${DB}$${VOL}`, "backups"), "its own URN comes first");
        });

        it("follows a re-typed parent, and a child's own spec resolves against the parent's old URN", () => {
            const NEW = "slipway:data:Postgres";
            const olds = [U(DB, "db"), U(`${DB}$${VOL}`, "db-pgdata")];
            const parent = rec(U(NEW, "db"), undefined, [{ type: DB }]);
            // The SDK puts the resource's (new) parent into a spec that names none; the engine swaps in the parent's old URN.
            const data = rec(U(`${NEW}$${VOL}`, "db-data"), parent.urn, [{ name: "db-pgdata", parentUrn: parent.urn }]);
            const r = resolveAliases([parent, data], olds);
            assert.strictEqual(r.get(data.urn)!.previous, U(`${DB}$${VOL}`, "db-pgdata"));
        });

        it("inherits nothing from a parent found under its own URN; honours noParent, parentUrn and URN aliases", () => {
            const olds = [U(DB, "db"), U(VOL, "data"), U(`${DB}$${VOL}`, "db-data"), U(VOL, "legacy")];
            const parent = rec(U(DB, "db"), undefined, [{ name: "unused" }]);
            const moved = rec(U(`${DB}$${VOL}`, "data"), parent.urn, [{ noParent: true }]);
            const renamed = rec(U(`${DB}$${VOL}`, "db-volume"), parent.urn);
            const byUrn = rec(U(`${DB}$${VOL}`, "x"), parent.urn, [], [U(VOL, "legacy")]);
            const r = resolveAliases([parent, moved, renamed, byUrn], olds);
            assert.strictEqual(r.get(parent.urn)!.previous, U(DB, "db"));
            assert.strictEqual(r.get(moved.urn)!.previous, U(VOL, "data"));
            assert.strictEqual(r.get(renamed.urn)!.previous, undefined, "an unaliased rename is a create (and the old one a delete)");
            assert.strictEqual(r.get(byUrn.urn)!.previous, U(VOL, "legacy"));
            const top = rec(U(VOL, "top"), undefined, [{ parentUrn: parent.urn, name: "db-data" }]);
            assert.strictEqual(resolveAliases([parent, top], olds).get(top.urn)!.previous, U(`${DB}$${VOL}`, "db-data"));
        });

        it("records the aliases a program passes, as the engine receives them", async () => {
            const recorder = await freshRecorder();
            class Thing extends pulumi.CustomResource {
                constructor(name: string, opts: pulumi.CustomResourceOptions) { super("test:index:Thing", name, {}, opts); }
            }
            const comp = new pulumi.ComponentResource("test:index:Box", "box2", {}, { aliases: [{ name: "box" }] });
            new Thing("box2-thing", { parent: comp, aliases: [{ type: "test:index:Old" }, "urn:pulumi:test::slipway::test:index:Thing::legacy"] });
            new Thing("loose", { parent: comp, aliases: [{ parent: undefined }] });
            await recorder.settle();
            const [box, thing, loose] = [recorder.get("test:index:Box", "box2"), recorder.get("test:index:Thing", "box2-thing"), recorder.get("test:index:Thing", "loose")];
            assert.deepStrictEqual([box.aliases, box.aliasSpecs], [[], [{ name: "box" }]]);
            assert.deepStrictEqual([thing.aliases, thing.aliasSpecs], [["urn:pulumi:test::slipway::test:index:Thing::legacy"], [{ type: "test:index:Old", parentUrn: box.urn }]]);
            assert.deepStrictEqual(loose.aliasSpecs, [{ noParent: true }]);
            const r = resolveAliases(recorder.resources, ["urn:pulumi:test::slipway::test:index:Box::box", "urn:pulumi:test::slipway::test:index:Box$test:index:Old::box-thing"]);
            assert.strictEqual(r.get(thing.urn)!.previous, "urn:pulumi:test::slipway::test:index:Box$test:index:Old::box-thing");
            assert.deepStrictEqual(r.get(loose.urn)!.aliases.slice(0, 1), ["urn:pulumi:test::slipway::test:index:Thing::loose"]);
        });
    });

    const comparisons: Partial<Record<(typeof STACKS)[number], Comparison>> = {};
    let recordings: Promise<CurrentResource[]>[] | undefined;

    for (const stack of STACKS) {
        describe(`${stack} stack`, () => {
            const c = () => comparisons[stack]!;
            before(async () => {
                // Both children start with the first stack's hook and run side by side; a stack whose
                // program fails to run fails its own tests only.
                recordings ??= STACKS.map(s => { const p = recordInChild(s); p.catch(() => undefined); return p; });
                const current = await recordings[STACKS.indexOf(stack)]!;
                const baseline = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${stack}.json`), "utf8")) as UrnFixture;
                comparisons[stack] = compare(baseline, current);
            });

            it("records a baseline with stateful resources in it", () => {
                assert.strictEqual(c().baseline.stack, stack);
                assert.ok(c().baseline.resources.filter(r => r.stateful).length >= 5, "the fixture flags the stack's stateful resources");
                assert.ok(c().current.length > 0, "the program registered resources");
            });

            it("still registers every stateful resource under its URN, or aliases it", () => {
                const problems: string[] = [];
                for (const old of c().baseline.resources.filter(r => r.stateful)) {
                    const claims = c().claims.get(old.urn) ?? [];
                    if (claims.length === 0) {
                        problems.push(`  ${old.urn} disappeared: \`pulumi up\` on ${stack} would create its successor and DELETE it\n` +
                            `    (${old.why})\n${howToFix(c(), old)}`);
                    } else if (claims.length > 1) {
                        problems.push(`  ${old.urn} is claimed by ${claims.length} resources (${claims.map(r => short(r.urn)).join(", ")}): ` +
                            `the engine fails with "Duplicate resource alias"; keep the alias on one of them only`);
                    } else if (claims[0]!.type !== old.type) {
                        problems.push(`  ${old.urn} is now aliased by a ${claims[0]!.type} (${short(claims[0]!.urn)}): a stateful resource keeps its type; ` +
                            `a different provider type cannot take over its state`);
                    }
                }
                assert.ok(problems.length === 0, `${problems.length} stateful resource(s) of the ${stack} stack would be replaced or deleted:\n` +
                    `${problems.join("\n")}\n  See docs/aliases.md. The fixture (test/fixtures/urns/${stack}.json) is regenerated only for an intended, aliased change.`);
            });

            it("keeps protect and retainOnDelete on the stateful resources that had them", () => {
                const problems: string[] = [];
                for (const old of c().baseline.resources.filter(r => r.stateful && (r.protect || r.retainOnDelete))) {
                    const now = c().claims.get(old.urn)?.[0];
                    if (!now) continue; // reported by the test above
                    if (old.protect && !now.protect) problems.push(`  ${short(now.urn)} lost protect (it had it as ${short(old.urn)})`);
                    if (old.retainOnDelete && !now.retainOnDelete) problems.push(`  ${short(now.urn)} lost retainOnDelete (it had it as ${short(old.urn)})`);
                }
                assert.ok(problems.length === 0, `the ${stack} stack drops safety rails on stateful resources:\n${problems.join("\n")}\n` +
                    "  keep `protect`/`retainOnDelete` (the target's `production` flag sets them) on resources that hold data");
            });

            after(function () {
                // Not a failure: non-stateful resources may come and go. Useful when reviewing a refactor.
                const cmp = comparisons[stack];
                if (!cmp) return;
                const gone = cmp.baseline.resources.filter(r => !r.stateful && !cmp.claims.has(r.urn));
                const created = cmp.current.filter(r => !cmp.resolved.get(r.urn)!.previous);
                const aliased = cmp.current.filter(r => { const p = cmp.resolved.get(r.urn)!.previous; return p && p !== cmp.resolved.get(r.urn)!.urn; });
                if (gone.length + created.length + aliased.length === 0) return;
                console.log(`      ${stack}: against the baseline, ${aliased.length} found through an alias, ` +
                    `${gone.length} non-stateful deleted, ${created.length} created`);
                for (const r of aliased) console.log(`        ~ ${short(cmp.resolved.get(r.urn)!.previous!)} -> ${short(cmp.resolved.get(r.urn)!.urn)}`);
                for (const r of gone) console.log(`        - ${short(r.urn)}`);
                for (const r of created) console.log(`        + ${short(cmp.resolved.get(r.urn)!.urn)}`);
            });
        });
    }
});
