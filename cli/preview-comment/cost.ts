// The preview's monthly cost, old → new, from the old and new INPUTS of the resources it changes,
// priced by the one price list (components/core/prices.ts, imported, never copied). A side whose
// inputs hide what is priced (a secret or unknown value) is unknown, never guessed. The total
// starts from the stack's `monthlyCost` output of the last update (the Stack's old outputs).
import { CostItem, MonthlyCost, appInstancesCost, dbClusterCost, devDatabaseCost, notEstimated, sumCosts } from "../../components/core/prices";
import { Change, ComponentRef, compareComponents } from "./changes";
import { isObject, isSecret, isUnknown } from "./values";

const APP = "digitalocean:index/app:App";
const CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster";
/** App spec lists whose entries run instances (jobs run on demand and are not priced). */
const INSTANCE_LISTS = ["services", "workers"] as const;

export interface CostChange {
    component: ComponentRef;
    old: MonthlyCost;
    new: MonthlyCost;
}

export interface PreviewCost {
    /** Per component, only those whose priced inputs changed, in the comment's component order. */
    components: CostChange[];
    /** The changed resources' sum on each side. */
    changed: { old: MonthlyCost; new: MonthlyCost };
    /** The stack's total: the last update's `monthlyCost` output, plus the change. Unknown without it. */
    total: { old: MonthlyCost; new: MonthlyCost };
}

const hidden = (v: unknown) => isSecret(v) || isUnknown(v);
const basisOf = (o: Record<string, unknown>, keys: readonly string[]) => (keys.some(k => hidden(o[k])) ? undefined : JSON.stringify(keys.map(k => o[k] ?? null)));
const ZERO: MonthlyCost = { usd: 0, items: [] };

/** `basis`: the inputs the price reads, as JSON; undefined when hidden (never equal to anything). */
interface Priced { component: ComponentRef; cost: MonthlyCost; basis?: string }

/** One App spec list entry's instances, or why they cannot be priced. */
function instances(entry: unknown, list: string): MonthlyCost {
    if (!isObject(entry)) return notEstimated(`an App ${list} entry is hidden`);
    const size = entry.instanceSizeSlug, count = entry.instanceCount ?? 1;
    if (hidden(size) || hidden(count)) return notEstimated(`the instance size or count of App ${list} entry ${String(entry.name)} is secret or not known yet`);
    if (typeof size !== "string" || typeof count !== "number") return notEstimated(`App ${list} entry ${String(entry.name)} names no instance size`);
    return appInstancesCost(size, count);
}

/**
 * An App's priced parts, by the component that owns them: Slipway names a service after its
 * ApiService and a dev database after its ManagedDatabase. A production database's price is its
 * cluster's (priced as that resource).
 */
function priceApp(spec: unknown, owner: ComponentRef, other: unknown): Priced[] {
    if (!isObject(spec)) return [{ component: owner, cost: notEstimated("the App's spec is secret or not known yet") }];
    const out: Priced[] = [];
    const service = (e: unknown): ComponentRef => ({ type: "slipway:service:ApiService", name: isObject(e) && typeof e.name === "string" ? e.name : undefined });
    for (const list of INSTANCE_LISTS) {
        const entries = spec[list];
        if (entries === undefined) continue;
        if (!Array.isArray(entries)) {
            // One secret list (a refreshed state): unknown for each entry the other side names.
            const cost = notEstimated(`the state holds the App's \`spec.${list}\` as one secret`);
            const named = isObject(other) && Array.isArray(other[list]) ? (other[list] as unknown[]).map(service) : [owner];
            out.push(...named.map(component => ({ component, cost })));
            continue;
        }
        for (const e of entries) out.push({ component: service(e), cost: instances(e, list), basis: basisOf(e, ["instanceSizeSlug", "instanceCount"]) });
    }
    const dbs = spec.databases;
    if (dbs !== undefined && !Array.isArray(dbs)) out.push({ component: owner, cost: notEstimated("the state holds the App's `spec.databases` as one secret") });
    for (const d of Array.isArray(dbs) ? dbs : []) {
        if (!isObject(d) || d.production === true) continue;
        const component = { type: "slipway:database:ManagedDatabase", name: typeof d.name === "string" ? d.name : undefined };
        out.push({ component, cost: d.engine === "PG" || d.engine === undefined ? devDatabaseCost() : notEstimated(`no price for a ${String(d.engine)} dev database in the price list`), basis: basisOf(d, ["engine", "production"]) });
    }
    return out;
}

function priceCluster(inputs: Record<string, unknown>, owner: ComponentRef): Priced[] {
    const { size, nodeCount } = inputs;
    if (hidden(size) || hidden(nodeCount)) return [{ component: owner, cost: notEstimated("the cluster's size or node count is secret or not known yet") }];
    if (typeof size !== "string") return [{ component: owner, cost: notEstimated("the cluster names no size") }];
    return [{ component: owner, cost: dbClusterCost(size, typeof nodeCount === "number" ? nodeCount : 1), basis: basisOf(inputs, ["size", "nodeCount"]) }];
}

/** Input paths the price reads, and their ancestors: a change elsewhere leaves the price as it was. */
const PRICED_PATHS: Readonly<Record<string, RegExp>> = {
    [APP]: /^spec(\.(services|workers)(\[\d+\](\.(instanceCount|instanceSizeSlug))?)?|\.databases.*)?$/,
    [CLUSTER]: /^(size|nodeCount)$/,
};

/** Whether the change can move the price: always for a create, delete or replace, else by its changed keys. */
function touchesPrice(c: Change): boolean {
    const priced = PRICED_PATHS[c.type];
    if (!priced) return false;
    if (c.op !== "update") return true;
    return c.keys.some(k => priced.test(k.path));
}

/** The priced parts of one side of a change; none for what the price list does not cover. */
function priceState(c: Change, side: "old" | "new"): Priced[] {
    const inputs = c[side]?.inputs;
    if (!inputs) return [];
    if (c.type === APP) return priceApp(inputs.spec, c.component, c[side === "old" ? "new" : "old"]?.inputs?.spec);
    if (c.type === CLUSTER) return priceCluster(inputs, c.component);
    return [];
}

const keyOf = (c: ComponentRef) => `${c.type ?? ""}|${c.name ?? ""}`;
const same = (a: MonthlyCost, b: MonthlyCost) => a.usd !== undefined && a.usd === b.usd && JSON.stringify(a.items) === JSON.stringify(b.items);

/** The last update's total, from the Stack's old outputs (`monthlyCost`, exported by index.ts). */
function lastTotal(changes: readonly Change[]): MonthlyCost {
    const stack = changes.find(c => c.type === "pulumi:pulumi:Stack");
    const exported = stack?.old?.outputs?.monthlyCost;
    if (isObject(exported) && typeof exported.usd === "number") return { usd: exported.usd, items: [] };
    return notEstimated("the last update exported no `monthlyCost`");
}

/** The preview's cost; undefined when it changes nothing the price list covers. */
export function previewCost(changes: readonly Change[]): PreviewCost | undefined {
    const sides = new Map<string, { component: ComponentRef; old: MonthlyCost[]; new: MonthlyCost[]; basis: { old: (string | undefined)[]; new: (string | undefined)[] } }>();
    for (const c of changes) {
        if (c.op === "same" || c.op === "read" || c.op === "refresh" || !touchesPrice(c)) continue;
        for (const side of ["old", "new"] as const) {
            // A create has no old side and a delete no new one: those are 0, not unknown.
            if ((side === "old" && c.op === "create") || (side === "new" && c.op === "delete")) continue;
            for (const p of priceState(c, side)) {
                const entry = sides.get(keyOf(p.component)) ?? { component: p.component, old: [], new: [], basis: { old: [], new: [] } };
                entry[side].push(p.cost);
                entry.basis[side].push(p.basis);
                sides.set(keyOf(p.component), entry);
            }
        }
    }
    const components = [...sides.values()]
        // What the price reads is the same on both sides: unchanged, even where it cannot be priced.
        .filter(s => !(s.basis.old.every(b => b !== undefined) && JSON.stringify(s.basis.old) === JSON.stringify(s.basis.new)))
        .map(s => ({ component: s.component, old: s.old.length ? sumCosts(s.old) : ZERO, new: s.new.length ? sumCosts(s.new) : ZERO }))
        .filter(s => !same(s.old, s.new))
        .sort((a, b) => compareComponents(a.component, b.component));
    if (components.length === 0) return undefined;
    const changed = { old: sumCosts(components.map(c => c.old)), new: sumCosts(components.map(c => c.new)) };
    const last = lastTotal(changes);
    const delta = changed.old.usd !== undefined && changed.new.usd !== undefined ? changed.new.usd - changed.old.usd : undefined;
    const total = {
        old: last,
        new: last.usd !== undefined && delta !== undefined ? { usd: Math.round((last.usd + delta) * 100) / 100, items: [] }
            : notEstimated(last.usd === undefined ? last.note! : changed.old.note ?? changed.new.note!),
    };
    return { components, changed, total };
}

/** `2 × apps-s-1vcpu-1gb` style summary of the line items. */
export function itemsText(items: readonly CostItem[]): string {
    return items.map(i => `${i.quantity} × ${i.what} ($${i.unitUsd.toFixed(2)})`).join(" + ");
}
