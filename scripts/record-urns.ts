#!/usr/bin/env node
/**
 * Records the URNs of Slipway's committed stacks (Pulumi.dev.yaml, Pulumi.prod.yaml) under Pulumi
 * mocks, with the stateful ones flagged. Run from the project directory:
 *
 *   TS_NODE_TRANSPILE_ONLY=true npx ts-node scripts/record-urns.ts [--out=DIR] [dev prod]
 *       writes DIR/<stack>.json (default test/fixtures/urns/): the baseline that
 *       test/unit/urns-stable.test.ts compares every later program with
 *   TS_NODE_TRANSPILE_ONLY=true npx ts-node scripts/record-urns.ts --json <stack>
 *       prints the program's current registrations (with their aliases) as the last line of
 *       stdout (the program may log before it); the test runs this, one process per stack,
 *       because Pulumi mocks are global to a process
 *
 * REGENERATING THE FIXTURE IS RIGHT ONLY FOR A STATEFUL CHANGE THAT IS INTENDED AND ALIASED.
 * The fixture stands for what the deployed stacks hold. A rename must first pass the test against
 * the fixture as it is (that is what proves its alias reaches the deployed resource); regenerate
 * after that, in the release that retires the alias (docs/aliases.md: at least two minor releases
 * later), or for a deliberate removal or replacement of stateful data that the pull request states
 * and reviewers accepted. Never regenerate to turn a failing urns-stable test green: a URN the
 * test reports missing is a volume, database, password or DNS record `pulumi up` would delete.
 *
 * Which resources are stateful (their loss loses data or cuts a live path) is decided here, in
 * {@link statefulReason}; test/fixtures/urns/README.md explains the choice.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { recordStack } from "../cli/synth";
import { statefulType } from "../cli/preview-comment/stateful-types";
import { RecordedResource, redact, resolveAliases } from "../components/testing/recorder";

/** Types the preview's risk table (cli/preview-comment/stateful-types.ts) does not list but whose loss still costs. */
const MORE_STATEFUL: Record<string, string> = {
    "docker:index/network:Network":
        "every container joins it by name: a new or deleted network cuts the containers off from each other and the gateway",
    "pulumi:providers:docker":
        "every Docker resource is managed through it: a provider the engine cannot match is a new one, and if its config diff asks for a replace, every resource it manages is replaced",
    "digitalocean:index/databaseFirewall:DatabaseFirewall":
        "the App's trusted source on the cluster: while it is recreated or gone, the API cannot reach its database",
    "random:index/randomBytes:RandomBytes":
        "a new value is a new credential: everything that uses it must rotate",
};

/**
 * Revision-scoped names (API replicas by release, the gateway's config loader by config hash):
 * they change on purpose, and the release machinery starts the new one before it retires the
 * old, so they are never stateful. The same pattern as test/integration's `shape()`.
 */
const REVISION_SCOPED = /-[0-9a-f]{8,10}(?=-\d+$|$)/;

/** Why losing this resource loses data or cuts a live path; undefined when it does neither. */
export function statefulReason(r: Pick<RecordedResource, "type" | "name" | "inputs" | "options">): string | undefined {
    const keep = [r.options.protect && "protect", r.options.retainOnDelete && "retainOnDelete"].filter(Boolean);
    const why = [REVISION_SCOPED.test(r.name) ? undefined : typeReason(r), keep.length ? `its component sets ${keep.join(" and ")}` : undefined];
    return why.filter(Boolean).join("; ") || undefined;
}

function typeReason(r: Pick<RecordedResource, "type" | "inputs">): string | undefined {
    const more = MORE_STATEFUL[r.type];
    if (more) return more;
    const row = statefulType(r.type);
    if (!row) return undefined;
    // The risk table's conditions, on the recorded inputs (secrets opened: only their shape is read).
    const inputs = redact(r.inputs, true) as Record<string, unknown>;
    const nonEmpty = (v: unknown) => (Array.isArray(v) ? v.length > 0 : !!v && typeof v === "object" && Object.keys(v).length > 0);
    const w = row.when;
    if (w && "nonEmpty" in w && !w.nonEmpty.some(k => nonEmpty(inputs[k]))) return undefined;
    if (w && "input" in w && !(typeof inputs[w.input] === "string" && w.oneOf.includes((inputs[w.input] as string).toUpperCase()))) return undefined;
    return `${row.label}: ${row.consequence.replace ?? row.consequence.delete}`;
}

/** One resource as the test needs it: the recorded URN (mock monitor), its aliases and options. */
export interface CurrentResource {
    urn: string;
    type: string;
    name: string;
    parent?: string;
    custom: boolean;
    protect: boolean;
    retainOnDelete: boolean;
    aliases: string[];
    aliasSpecs: NonNullable<RecordedResource["aliasSpecs"]>;
    stateful?: string;
}

export interface UrnFixture {
    stack: string;
    project: string;
    /** The commit the program was recorded at, and whether the program's files differed from it. */
    recordedAt: string;
    resources: {
        urn: string; type: string; parent?: string; custom: boolean; protect: boolean; retainOnDelete: boolean;
        stateful: boolean; why?: string;
    }[];
}

/** Run one stack under mocks; resources stay in registration order (parents first). */
export async function currentResources(dir: string, stack: string): Promise<CurrentResource[]> {
    const { resources } = await recordStack({ dir, stack });
    return resources.map(r => ({
        urn: r.urn, type: r.type, name: r.name, parent: r.parent, custom: r.custom,
        protect: r.options.protect, retainOnDelete: r.options.retainOnDelete,
        aliases: r.aliases ?? [], aliasSpecs: r.aliasSpecs ?? [],
        stateful: statefulReason(r),
    }));
}

function recordedAt(dir: string): string {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();
    try {
        const program = ["index.ts", "stack", "components", "cli", "Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", ":!components/testing"];
        return git("rev-parse", "--short", "HEAD") + (git("status", "--porcelain", "--", ...program) ? " (program files modified)" : "");
    } catch {
        return "unknown (not a git checkout)";
    }
}

export async function fixtureFor(dir: string, stack: string): Promise<UrnFixture> {
    const rs = await currentResources(dir, stack);
    // The URN the engine computes (the whole parent type chain), which is what a state file holds.
    const engine = resolveAliases(rs, []);
    const project = rs[0] ? rs[0].urn.split("::")[1]! : "";
    return {
        stack, project, recordedAt: recordedAt(dir),
        resources: rs.map(r => ({
            urn: engine.get(r.urn)!.urn, type: r.type, ...(r.parent && { parent: engine.get(r.parent)?.urn ?? r.parent }), custom: r.custom, protect: r.protect, retainOnDelete: r.retainOnDelete,
            stateful: !!r.stateful, ...(r.stateful && { why: r.stateful }),
        })).sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0)),
    };
}

async function main(argv: string[]): Promise<void> {
    const dir = path.resolve(__dirname, "..");
    const json = argv.includes("--json");
    const out = argv.find(a => a.startsWith("--out="))?.slice("--out=".length) ?? path.join(dir, "test/fixtures/urns");
    const stacks = argv.filter(a => !a.startsWith("--"));
    if (json) {
        if (stacks.length !== 1) throw new Error("--json takes exactly one stack");
        fs.writeSync(1, JSON.stringify(await currentResources(dir, stacks[0]!)) + "\n");
        return;
    }
    // One process, several stacks: fine here (nothing else runs in it), unlike in mocha.
    for (const stack of stacks.length ? stacks : ["dev", "prod"]) {
        const f = await fixtureFor(dir, stack);
        fs.mkdirSync(out, { recursive: true });
        fs.writeFileSync(path.join(out, `${stack}.json`), JSON.stringify(f, null, 2) + "\n");
        console.log(`${stack}: ${f.resources.length} resources, ${f.resources.filter(r => r.stateful).length} stateful -> ${path.join(out, `${stack}.json`)}`);
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(() => process.exit(0), err => {
        console.error(err instanceof Error ? err.stack ?? err.message : err);
        process.exit(1);
    });
}
