import { Change, ChangeOp, ComponentRef, OP_ORDER, cmp, compareComponents, collectChanges, opCounts, stackFromUrn } from "./changes";
import { PreviewCost, itemsText, previewCost } from "./cost";
import { Preview } from "./model";
import { RISK_ORDER, RISK_TITLE, Risk, findRisks, previewFailed } from "./risks";
import { sanitizePreview } from "./redact";
import { RiskKind } from "./stateful-types";
import { SECRET_TEXT, code, formatPropertyPath, isSecret, isUnknown, parsePropertyPath, secretAncestor, shortValue, stripColour, valueAt } from "./values";

/** GitHub rejects comment bodies over 65,536 characters; stay well below, leaving room for the marker. */
export const DEFAULT_MAX_CHARS = 60_000;

export interface RenderOptions {
    /** Stack name for the header; derived from the URNs when absent. */
    stack?: string;
    /** Limit on the output, counted in UTF-8 bytes (never fewer than the characters GitHub counts). */
    maxChars?: number;
    /** `pulumi preview`'s exit code, when the caller knows it. Non-zero means failed. */
    exitCode?: number;
}

/**
 * The header's verdict on the preview: failed (errors, a failed engine result or a non-zero exit
 * code), incomplete (no errors seen, but the input cannot confirm the outcome: the event log is
 * missing, empty or cut short), or succeeded.
 */
export type PreviewStatus = "succeeded" | "failed" | "incomplete";

export interface RenderResult {
    markdown: string;
    status: PreviewStatus;
    failed: boolean;
    risks: Risk[];
    changes: Change[];
    /** What had to be left out to fit `maxChars`, in the order it was cut. Empty when nothing was. */
    cuts: string[];
}

const OP_VERB: Record<ChangeOp, string> = {
    create: "to create", update: "to update", replace: "to replace", delete: "to delete", import: "to import",
    read: "to read", discard: "to forget", refresh: "to refresh", other: "other", same: "unchanged",
};
const OP_SIGN: Record<ChangeOp, string> = {
    create: "+", update: "~", replace: "+-", delete: "-", import: "=", read: ">", discard: "<", refresh: "~", other: "?", same: " ",
};
const RISK_ICON: Record<RiskKind, string> = {
    "error": "❌", "data-loss": "💥", "protected": "🔒", "credential": "🔑", "traffic": "🚦", "warning": "⚠️", "notice": "ℹ️",
};
const VERDICT_NOUN: Record<RiskKind, [string, string]> = {
    "error": ["error", "errors"], "data-loss": ["data-loss risk", "data-loss risks"],
    "protected": ["protected-resource change", "protected-resource changes"],
    "credential": ["credential rotation", "credential rotations"], "traffic": ["traffic risk", "traffic risks"],
    "warning": ["warning", "warnings"], "notice": ["notice", "notices"],
};

/** Ops that are not changes to review: listed in the header counts only. */
const QUIET: ReadonlySet<ChangeOp> = new Set(["same", "read", "refresh"]);

export const bytes = (s: string): number => Buffer.byteLength(s, "utf8");
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export { code };

const html = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const shortType = (t: string) => t.split(":").pop() ?? t;

export function componentLabel(c: ComponentRef, asHtml = false): string {
    if (!c.type) return "Not in a Slipway component";
    const name = c.name === undefined ? "(name not in preview)" : asHtml ? `<code>${html(c.name)}</code>` : code(c.name);
    return `${shortType(c.type)} ${name}`;
}

interface Group {
    key: string;
    component: ComponentRef;
    changes: Change[];
    risky: boolean;
    /** Higher = keep detail longer when trimming. */
    importance: number;
}

const riskyUrnsOf = (risks: Risk[]) => new Set(risks.flatMap(r => [r.urn, ...r.related ?? []]).filter((u): u is string => !!u));

function groupChanges(changes: Change[], risks: Risk[]): Group[] {
    const riskyUrns = riskyUrnsOf(risks);
    const groups = new Map<string, Group>();
    for (const c of changes) {
        if (QUIET.has(c.op)) continue;
        const key = `${c.component.type ?? "\uffff"}|${c.component.name ?? ""}`;
        const g = groups.get(key) ?? { key, component: c.component, changes: [], risky: false, importance: 0 };
        g.changes.push(c);
        if (riskyUrns.has(c.urn)) g.risky = true;
        groups.set(key, g);
    }
    const list = [...groups.values()];
    for (const g of list) {
        g.changes.sort((a, b) => OP_ORDER.indexOf(a.op) - OP_ORDER.indexOf(b.op) || cmp(a.type, b.type) || cmp(a.name, b.name) || cmp(a.urn, b.urn));
        // Risky groups keep their lines longest, then groups that replace or delete anything.
        const destructive = g.changes.some(c => c.op === "replace" || c.op === "delete");
        g.importance = (g.risky ? 2 : 0) + (destructive ? 1 : 0);
    }
    return list.sort((a, b) => compareComponents(a.component, b.component));
}

function countsText(counts: Map<string, number>): string {
    const ops = [...counts.keys()].sort((a, b) => {
        const ia = OP_ORDER.indexOf(a as ChangeOp), ib = OP_ORDER.indexOf(b as ChangeOp);
        return (ia < 0 ? 50 : ia) - (ib < 0 ? 50 : ib) || cmp(a, b);
    });
    const parts = ops.map(op => `${counts.get(op)} ${OP_VERB[op as ChangeOp] ?? op}`);
    return parts.length > 0 ? parts.join(" · ") : "no resources";
}

function verdict(risks: Risk[], incomplete: boolean): string {
    const counts = new Map<RiskKind, number>();
    for (const r of risks) counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
    const order: RiskKind[] = ["data-loss", "protected", "credential", "traffic", "error", "warning", "notice"];
    const parts = order.filter(k => counts.has(k)).map(k => plural(counts.get(k) ?? 0, ...VERDICT_NOUN[k]));
    if (parts.length === 0 && incomplete) return "**⚠ No data-loss, credential, traffic or protected-resource risks found in what could be read, but the input is incomplete.**";
    if (parts.length === 0) return "**✅ No data-loss, credential, traffic or protected-resource risks found.**";
    return `**⚠ ${parts.join(" · ")}**`;
}

/** A fenced block whose fence is longer than any backtick run in the text. */
function fenced(text: string): string {
    const runs = text.match(/`{3,}/g) ?? [];
    const fence = "`".repeat(Math.max(3, ...runs.map(r => r.length + 1)));
    return `${fence}text\n${text}\n${fence}`;
}

function indent(s: string, by = "  "): string {
    return s.split("\n").map(l => (l ? by + l : l)).join("\n");
}

const MESSAGE_COMPACT = 400;

function riskEntry(r: Risk, compact: boolean): string {
    const what = r.change ? `${r.subject ?? code(r.change.name)} (${code(r.change.type)})` : r.urn ? code(r.urn) : "";
    const where = r.component.type ? ` in ${componentLabel(r.component)}` : "";
    const head = `- ${RISK_ICON[r.kind]} **${RISK_TITLE[r.kind]}**${what ? `: ${what}` : ""}${where}`;
    const lines = [head];
    if (compact) {
        const msg = r.message ? ` ${code(truncate(firstLines(r.message), MESSAGE_COMPACT))}` : "";
        lines[0] = `${head} ${r.change || r.urn ? "— " : ""}${r.reason}.${msg}`;
        return lines.join("\n");
    }
    lines.push(`  - Why: ${r.reason}.`);
    if (r.consequence) lines.push(`  - Impact: ${r.consequence}.`);
    for (const d of r.details) lines.push(`  - ${d}`);
    if (r.message) lines.push(indent(fenced(r.message)));
    return lines.join("\n");
}

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const firstLines = (s: string) => s.split("\n").filter(l => l.trim()).join(" ⏎ ");

/**
 * `old → new` for a changed scalar, from the inputs (per-value secrecy) and, for an old value the
 * inputs lack, the outputs. A secret value is never shown, and an old value from the outputs next
 * to a new secret prints as `[secret]` too (the outputs may hold it in the clear). An old value hidden only because a whole ancestor is one
 * secret (an App's `spec.services` after a refresh) is said to be hidden, so a plain new value does
 * not read as a secret.
 */
function valueChange(c: Change, path: string): string | undefined {
    const p = parsePropertyPath(path);
    if (!p) return undefined;
    const oldRoot = c.old?.inputs && valueAt(c.old.inputs, p) !== undefined ? c.old.inputs : c.old?.outputs;
    let before = valueAt(oldRoot, p);
    const after = valueAt(c.new?.inputs, p);
    const scalar = (v: unknown) => v === undefined || v === null || isSecret(v) || isUnknown(v) || ["string", "number", "boolean"].includes(typeof v);
    if (!scalar(before) || !scalar(after) || (before === undefined && after === undefined)) return undefined;
    // Outputs carry no per-value secrecy: an old value read there is shown only if the new one is not secret.
    if (oldRoot !== c.old?.inputs && isSecret(after) && before !== undefined) before = SECRET_TEXT;
    const hiddenBy = isSecret(before) && !isSecret(after) && after !== undefined ? secretAncestor(oldRoot, p) : undefined;
    if (hiddenBy) return `now ${code(shortValue(after))} (old value not shown: the state holds ${code(formatPropertyPath(hiddenBy))} as one secret)`;
    return `${code(shortValue(before))} → ${code(shortValue(after))}`;
}

function keyText(c: Change, values: boolean): string {
    if (c.keys.length === 0) return "";
    const parts = c.keys.map(k => {
        const replace = k.kind.endsWith("-replace") || c.replaceReasons.includes(k.path);
        const v = values && (c.op === "update" || c.op === "replace") ? valueChange(c, k.path) : undefined;
        return `${code(k.path)}${replace ? " (forces replace)" : ""}${v ? `: ${v}` : ""}`;
    });
    const source = c.hasDetailedDiff ? "" : " _(from diff reasons; no detailed diff)_";
    return `: ${parts.join(", ")}${source}`;
}

interface Detail {
    values: boolean;
    keys: "all" | "risky";
    collapsed: Set<string>;
    dropChanges: boolean;
    compactRisks: boolean;
    riskLimit: number;
}

interface Model {
    header: string;
    verdict: string;
    /** The monthly cost lines; empty when the preview changes nothing the price list covers. */
    cost: string[];
    /** Per group key, the component's `old → new` cost, shown in its group's summary. */
    groupCost: Map<string, string>;
    /** Why the input is incomplete; empty when it is not. */
    incomplete: string[];
    risks: Risk[];
    groups: Group[];
    riskyUrns: Set<string>;
    changeCount: number;
}

function changeLine(c: Change, d: Detail, riskyUrns: Set<string>): string {
    const risky = riskyUrns.has(c.urn);
    const showKeys = d.keys === "all" || risky;
    const flags = [c.protect ? "protected" : "", c.failed ? "failed" : ""].filter(Boolean).map(f => ` _[${f}]_`).join("");
    return `- ${risky ? "⚠ " : ""}\`${OP_SIGN[c.op]}\` **${c.op}** ${code(c.name)} ${code(c.type)}${flags}${showKeys ? keyText(c, d.values) : ""}`;
}

function groupSummary(g: Group, cost: Map<string, string>): string {
    const counts = new Map<string, number>();
    for (const c of g.changes) counts.set(c.op, (counts.get(c.op) ?? 0) + 1);
    const money = cost.get(g.key);
    return `${countsText(counts)}${money ? ` · ${money}/month` : ""}`;
}

function compose(m: Model, d: Detail, cuts: string[]): string {
    const out: string[] = [m.header, m.verdict, "", ...m.cost];
    if (m.incomplete.length > 0) {
        out.push("> ⚠ **Incomplete input**: this comment shows what could be read and does not report the preview as succeeded.",
            ...m.incomplete.map(n => `> - ${n.replace(/\s+/g, " ")}.`), "");
    }
    if (cuts.length > 0) {
        out.push(`> ✂ **Trimmed to fit the comment size limit.** Left out: ${cuts.join("; ")}. The Risks section is complete${d.riskLimit < m.risks.length ? " except as noted" : ""}; run \`pulumi preview --diff\` or read the job log for everything.`, "");
    }
    out.push(`#### Risks (${m.risks.length})`, "");
    if (m.risks.length === 0) out.push("None found.", "");
    else {
        const shown = m.risks.slice(0, d.riskLimit).map(r => riskEntry(r, d.compactRisks));
        const hidden = m.risks.length - shown.length;
        if (hidden > 0) shown.push(`- …and ${plural(hidden, "more risk", "more risks")} not shown here (comment size limit); see the job log.`);
        out.push(shown.join("\n"), "");
    }
    out.push(`#### Changes by component (${plural(m.changeCount, "resource", "resources")})`, "");
    if (m.changeCount === 0) out.push("No resource changes.", "");
    else if (d.dropChanges) out.push(`_Per-component details cut for size (${m.groups.length} groups)._`, "");
    else {
        for (const g of m.groups) {
            const label = componentLabel(g.component, true);
            if (d.collapsed.has(g.key)) {
                out.push(`- **${componentLabel(g.component)}**: ${groupSummary(g, m.groupCost)} _(details cut for size)_`, "");
                continue;
            }
            out.push(`<details${g.risky ? " open" : ""}><summary><b>${label}</b>: ${groupSummary(g, m.groupCost)}${g.risky ? " ⚠" : ""}</summary>`, "");
            out.push(...g.changes.map(c => changeLine(c, d, m.riskyUrns)), "", "</details>", "");
        }
    }
    out.push(`<sub>Unknown values are shown as ${code("(known after apply)")}, secrets as ${code("[secret]")}. Rendered by slipway preview-comment.</sub>`);
    return `${out.join("\n")}\n`;
}

const usd = (v: number | undefined) => (v === undefined ? "not known" : `$${v.toFixed(2)}`);
const delta = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? "" : ` (${b - a < 0 ? "-" : "+"}$${Math.abs(b - a).toFixed(2)})`;

/**
 * "Monthly cost: $27.00 → $39.00 (+$12.00)" and one line per component whose priced inputs
 * change (cost.ts). Without the last update's total, the change alone; a side that cannot be
 * priced says why instead of a figure.
 */
function costLines(cost: PreviewCost | undefined): string[] {
    if (!cost) return [];
    const { total, changed } = cost;
    const head = total.old.usd !== undefined && total.new.usd !== undefined
        ? `**Monthly cost: ${usd(total.old.usd)} → ${usd(total.new.usd)}${delta(total.old.usd, total.new.usd)}**`
        : `**Monthly cost of what changes: ${usd(changed.old.usd)} → ${usd(changed.new.usd)}${delta(changed.old.usd, changed.new.usd)}** _(${[total.old.note, changed.old.note ?? changed.new.note].filter((n, i, a): n is string => !!n && a.indexOf(n) === i).join("; ")})_`;
    const lines = cost.components.map(c => {
        const items = c.new.items.length ? ` · ${itemsText(c.new.items)}` : c.new.usd === 0 && c.old.items.length ? " · removed" : "";
        return `- ${componentLabel(c.component)}: ${usd(c.old.usd)} → ${usd(c.new.usd)}${delta(c.old.usd, c.new.usd)}${items}`;
    });
    return [head, "", ...lines, "", "<sub>Estimated from DigitalOcean list prices (components/core/prices.ts, with their sources); usage-billed items not included.</sub>", ""];
}

const STATUS_TEXT: Record<PreviewStatus, string> = { succeeded: "✅ succeeded", failed: "❌ failed", incomplete: "⚠ incomplete" };

function buildModel(preview: Preview, changes: Change[], risks: Risk[], opts: RenderOptions, status: PreviewStatus): Model {
    const fromUrn = changes.map(c => stackFromUrn(c.urn)).find(s => s.stack);
    const stack = stripColour(opts.stack ?? fromUrn?.stack ?? "unknown stack");
    const project = fromUrn?.project ? ` (${code(fromUrn.project)})` : "";
    const result = STATUS_TEXT[status];
    const incomplete = preview.incomplete ?? [];
    const counts = countsText(opCounts(preview, changes));
    const groups = groupChanges(changes, risks);
    const cost = previewCost(changes);
    return {
        header: `### Pulumi preview for ${code(stack)}${project}: ${result} · ${counts}`,
        verdict: verdict(risks, incomplete.length > 0),
        cost: costLines(cost),
        groupCost: new Map((cost?.components ?? []).map(c => [`${c.component.type ?? "\uffff"}|${c.component.name ?? ""}`, `${usd(c.old.usd)} → ${usd(c.new.usd)}`])),
        incomplete,
        risks,
        groups,
        riskyUrns: riskyUrnsOf(risks),
        changeCount: groups.reduce((n, g) => n + g.changes.length, 0),
    };
}

/**
 * Render one stack's preview as a PR comment body. The preview is sanitized first (control
 * characters stripped, credentials redacted by wrapper and by meaning: redact.ts), so nothing
 * below sees a raw string. Detail is removed in this order until the body fits: property values,
 * property keys of resources without risks, whole component groups (least important first), the
 * Changes section; only then are risk entries shortened, and as a last resort (a body that cannot
 * fit otherwise) dropped from the end with a note.
 */
export function renderPreviewComment(input: Preview, opts: RenderOptions = {}): RenderResult {
    const max = opts.maxChars ?? DEFAULT_MAX_CHARS;
    const preview = sanitizePreview(input);
    const changes = collectChanges(preview);
    const risks = findRisks(preview, changes, opts.exitCode);
    const failed = previewFailed(preview, risks) || (opts.exitCode !== undefined && opts.exitCode !== 0);
    const status: PreviewStatus = failed ? "failed" : (preview.incomplete?.length ?? 0) > 0 ? "incomplete" : "succeeded";
    const m = buildModel(preview, changes, risks, opts, status);
    const d: Detail = { values: true, keys: "all", collapsed: new Set(), dropChanges: false, compactRisks: false, riskLimit: risks.length };
    const cuts: string[] = [];
    const fits = () => bytes(compose(m, d, cuts)) <= max;
    const result = (): RenderResult => ({ markdown: compose(m, d, cuts), status, failed, risks, changes, cuts });
    if (fits()) return result();

    /** Apply one trimming step; name it in the cut note only if it removed something. */
    const trim = (label: string, mutate: () => void): boolean => {
        const before = compose(m, d, cuts);
        mutate();
        if (compose(m, d, cuts) !== before) cuts.push(label);
        return fits();
    };
    if (trim("before/after values", () => { d.values = false; })) return result();

    const quiet = m.groups.flatMap(g => g.changes).filter(c => !m.riskyUrns.has(c.urn) && c.keys.length > 0).length;
    if (trim(`changed property names of ${plural(quiet, "resource", "resources")} without risks`, () => { d.keys = "risky"; })) return result();

    // Least important first; among equals the biggest first, since it frees the most room.
    const order = [...m.groups].sort((a, b) => a.importance - b.importance || b.changes.length - a.changes.length || cmp(a.key, b.key));
    const collapsedCut = cuts.length;
    for (const g of order) {
        d.collapsed.add(g.key);
        cuts[collapsedCut] = `per-resource lines of ${plural(d.collapsed.size, "component group", "component groups")} (counts kept)`;
        if (fits()) return result();
    }

    d.dropChanges = true;
    cuts[collapsedCut] = "the Changes section (see the counts in the header)";
    if (fits()) return result();

    if (trim("risk details (one line per risk)", () => { d.compactRisks = true; })) return result();

    // Last resort: the limit is hard, so the Risks list itself is shortened, loudly.
    const riskCut = cuts.length;
    const tryLimit = (n: number) => { d.riskLimit = n; cuts[riskCut] = plural(risks.length - n, "risk entry", "risk entries"); return fits(); };
    let lo = 0, hi = risks.length - 1;
    while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (tryLimit(mid)) lo = mid; else hi = mid - 1;
    }
    tryLimit(lo);
    const md = compose(m, d, cuts);
    return { markdown: bytes(md) <= max ? md : hardTruncate(md, max), status, failed, risks, changes, cuts };
}

function hardTruncate(md: string, max: number): string {
    const note = "\n\n_…cut at the comment size limit._\n";
    let s = md;
    while (bytes(s) + bytes(note) > max && s.length > 0) s = s.slice(0, Math.max(0, s.length - Math.max(1, bytes(s) + bytes(note) - max)));
    return s + note;
}

export { RISK_ORDER };
