import { Preview, PropertyDiff, ResourceState, Step } from "./model";
import { typeFromUrn } from "./parse";

/**
 * One resource's change, after the engine's replace triple (create-replacement, replace,
 * delete-replaced) is folded into a single "replace".
 */
export type ChangeOp = "create" | "update" | "replace" | "delete" | "import" | "read" | "discard" | "refresh" | "same" | "other";

/** Display order of ops, most consequential first; also the header's count order. */
export const OP_ORDER: readonly ChangeOp[] = ["replace", "delete", "create", "update", "import", "read", "discard", "refresh", "other", "same"];

const LOGICAL_OP: Record<string, ChangeOp> = {
    "same": "same", "create": "create", "update": "update", "delete": "delete",
    "replace": "replace", "create-replacement": "replace", "delete-replaced": "replace", "import-replacement": "replace",
    "read": "read", "read-replacement": "read", "import": "import",
    "discard": "discard", "discard-replaced": "discard", "refresh": "refresh",
};

export interface ChangedKey {
    path: string;
    /** detailedDiff kind, or "update-replace"/"update" when only the reasons were known. */
    kind: string;
}

/** The Slipway component a resource belongs to. `type` is undefined for resources outside any. */
export interface ComponentRef {
    type?: string;
    /** Undefined when the preview does not name it (no parent URN and only the type chain to go on). */
    name?: string;
}

export interface Change {
    urn: string;
    type: string;
    name: string;
    op: ChangeOp;
    /** The engine ops seen for this URN, in input order. */
    rawOps: string[];
    old?: ResourceState;
    new?: ResourceState;
    keys: ChangedKey[];
    replaceReasons: string[];
    diffReasons: string[];
    /** False when no step carried a detailedDiff and the keys come from the reasons. */
    hasDetailedDiff: boolean;
    protect: boolean;
    retainOnDelete: boolean;
    failed: boolean;
    /** The event log shows the old resource deleted before its replacement is created. */
    deleteFirst: boolean;
    component: ComponentRef;
}

export function nameFromUrn(urn: string): string {
    return urn.split("::").slice(3).join("::") || urn;
}

/** Stack and project as encoded in a URN (`urn:pulumi:<stack>::<project>::...`). */
export function stackFromUrn(urn: string): { stack?: string; project?: string } {
    const m = /^urn:pulumi:([^:]+)::([^:]+)::/.exec(urn);
    return m ? { stack: m[1], project: m[2] } : {};
}

const isSlipway = (type: string | undefined): type is string => !!type && type.startsWith("slipway:");

function lastSlipwayInChain(urn: string, skipOwn: boolean): string | undefined {
    const chain = (urn.split("::")[2] ?? "").split("$");
    if (skipOwn) chain.pop();
    return [...chain].reverse().find(isSlipway);
}

/**
 * Find the owning component: walk parent URNs (the parent URN names the component exactly), using
 * the parents that other steps reveal; when the chain leaves what the preview shows, or no parent
 * is recorded, fall back to the type chain encoded in the URN, which gives the type but no name.
 */
export function componentOf(urn: string, type: string, parent: string | undefined,
    parents: ReadonlyMap<string, string | undefined>): ComponentRef {
    if (isSlipway(type)) return { type, name: nameFromUrn(urn) };
    let p = parent;
    for (let depth = 0; p && depth < 64; depth++) {
        const t = typeFromUrn(p);
        if (isSlipway(t)) return { type: t, name: nameFromUrn(p) };
        if (!parents.has(p)) {
            const viaChain = lastSlipwayInChain(p, false);
            return viaChain ? { type: viaChain } : {};
        }
        p = parents.get(p);
    }
    if (parent) return {};
    const viaChain = lastSlipwayInChain(urn, true);
    return viaChain ? { type: viaChain } : {};
}

function keysOf(steps: Step[]): { keys: ChangedKey[]; hasDetailed: boolean } {
    const detailed: Record<string, PropertyDiff> = {};
    let hasDetailed = false;
    for (const s of steps) {
        if (s.detailedDiff && Object.keys(s.detailedDiff).length > 0) {
            hasDetailed = true;
            Object.assign(detailed, s.detailedDiff);
        }
    }
    if (hasDetailed) {
        return { hasDetailed, keys: Object.entries(detailed).map(([path, d]) => ({ path, kind: d.kind })).sort((a, b) => cmp(a.path, b.path)) };
    }
    // detailedDiff is null (or empty) for many providers: the reasons are all we have.
    const replace = new Set(steps.flatMap(s => s.replaceReasons));
    const diff = new Set(steps.flatMap(s => s.diffReasons));
    const all = [...new Set([...replace, ...diff])].sort(cmp);
    return { hasDetailed, keys: all.map(path => ({ path, kind: replace.has(path) ? "update-replace" : "update" })) };
}

export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Slipway component order in the comment: edge first, then services, data, the rest; outsiders last. */
const COMPONENT_ORDER = [
    "slipway:gateway:Gateway", "slipway:service:ApiService", "slipway:database:ManagedDatabase",
    "slipway:secrets:SecretsSync", "slipway:observability:Observability", "slipway:targets:DoApp", "slipway:targets:DockerHost",
];

export function compareComponents(a: ComponentRef, b: ComponentRef): number {
    const rank = (t?: string) => (t === undefined ? 1000 : COMPONENT_ORDER.includes(t) ? COMPONENT_ORDER.indexOf(t) : 100);
    return rank(a.type) - rank(b.type) || cmp(a.type ?? "", b.type ?? "")
        // A named component before the "(name not in preview)" one of the same type.
        || cmp(a.name ?? "\uffff", b.name ?? "\uffff");
}

/** Fold steps into one change per URN, with component attribution. Order: first appearance. */
export function collectChanges(preview: Preview): Change[] {
    const parents = new Map<string, string | undefined>();
    for (const s of preview.steps) {
        for (const st of [s.new, s.old]) {
            if (st && !parents.has(s.urn)) parents.set(s.urn, st.parent || undefined);
        }
        if (!parents.has(s.urn)) parents.set(s.urn, undefined);
        // A known parent beats an unknown one seen earlier.
        const p = s.new?.parent || s.old?.parent;
        if (p) parents.set(s.urn, p);
    }
    const byUrn = new Map<string, Step[]>();
    for (const s of preview.steps) {
        const list = byUrn.get(s.urn) ?? [];
        list.push(s);
        byUrn.set(s.urn, list);
    }
    const out: Change[] = [];
    for (const [urn, steps] of byUrn) {
        const ops = steps.map(s => LOGICAL_OP[s.op] ?? "other");
        const op = OP_ORDER.find(o => ops.includes(o)) ?? "other";
        const old = steps.find(s => s.old)?.old;
        const nu = steps.find(s => s.new)?.new;
        const { keys, hasDetailed } = keysOf(steps);
        const type = steps[0]?.type ?? typeFromUrn(urn);
        out.push({
            urn, type, name: nameFromUrn(urn), op,
            rawOps: steps.map(s => s.op),
            old, new: nu, keys,
            replaceReasons: [...new Set(steps.flatMap(s => s.replaceReasons))].sort(cmp),
            diffReasons: [...new Set(steps.flatMap(s => s.diffReasons))].sort(cmp),
            hasDetailedDiff: hasDetailed,
            protect: !!(old?.protect || nu?.protect),
            retainOnDelete: !!(old?.retainOnDelete || nu?.retainOnDelete),
            failed: steps.some(s => s.failed),
            deleteFirst: steps.some(s => s.deleteFirst),
            component: componentOf(urn, type, nu?.parent || old?.parent || undefined, parents),
        });
    }
    return out;
}

/** Counts per logical op: the engine's changeSummary when given, else counted from the changes. */
export function opCounts(preview: Preview, changes: Change[]): Map<string, number> {
    const counts = new Map<string, number>();
    if (preview.changeSummary && Object.keys(preview.changeSummary).length > 0) {
        for (const [op, n] of Object.entries(preview.changeSummary)) {
            const logical = LOGICAL_OP[op] ?? op;
            if (n > 0) counts.set(logical, (counts.get(logical) ?? 0) + n);
        }
        return counts;
    }
    for (const c of changes) counts.set(c.op, (counts.get(c.op) ?? 0) + 1);
    return counts;
}
