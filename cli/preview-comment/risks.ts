import { Change, ComponentRef, cmp, compareComponents } from "./changes";
import { Diagnostic, Preview } from "./model";
import { isCredentialKey } from "./redact";
import { Condition, RiskKind, statefulType } from "./stateful-types";
import { SECRET_TEXT, code, containsSecret, isObject, isSecret, parsePropertyPath, shortValue, valueAt } from "./values";

export const RISK_ORDER: readonly RiskKind[] = ["error", "data-loss", "protected", "credential", "traffic", "warning", "notice"];

export const RISK_TITLE: Record<RiskKind, string> = {
    "error": "Error",
    "data-loss": "Data loss",
    "protected": "Protected resource",
    "credential": "Credential rotation",
    "traffic": "Traffic interruption",
    "warning": "Warning",
    "notice": "Notice",
};

export interface Risk {
    kind: RiskKind;
    component: ComponentRef;
    /** The resource concerned, when there is one (diagnostics without a URN have none). */
    change?: Change;
    urn?: string;
    /** Why it was flagged: the op and the keys that cause it. */
    reason: string;
    consequence?: string;
    /** Extra, secret-free facts (a volume name, a retainOnDelete note). */
    details: string[];
    /** Diagnostic text, colour-free. */
    message?: string;
}

const SKIP_OPS = new Set(["same", "read", "refresh"]);

function inputsOf(c: Change): Array<Record<string, unknown>> {
    return [c.new?.inputs, c.old?.inputs].filter(isObject);
}

function holds(cond: Condition | undefined, c: Change): boolean {
    if (!cond) return true;
    return inputsOf(c).some(inputs => {
        if ("nonEmpty" in cond) {
            return cond.nonEmpty.some(k => {
                const v = inputs[k];
                // A secret or unknown list might well be non-empty: flag rather than miss.
                if (isSecret(v) || typeof v === "string") return true;
                return Array.isArray(v) ? v.length > 0 : isObject(v) && Object.keys(v).length > 0;
            });
        }
        const v = inputs[cond.input];
        return typeof v === "string" && cond.oneOf.includes(v.toUpperCase());
    });
}

/** "replaced because `a`, `b` changed" from replaceReasons, else from the diff keys. */
function why(c: Change): string {
    const codes = (xs: string[]) => xs.map(code).join(", ");
    if (c.op === "replace") {
        const replaceKeys = c.replaceReasons.length > 0 ? c.replaceReasons
            : c.keys.filter(k => k.kind.endsWith("-replace")).map(k => k.path);
        if (replaceKeys.length > 0) return `will be **replaced** because ${codes(replaceKeys)} changed`;
        const any = c.keys.map(k => k.path);
        return any.length > 0 ? `will be **replaced** (changed: ${codes(any)})` : "will be **replaced** (the engine gave no reason; often a provider or `replaceOnChanges` setting)";
    }
    if (c.op === "delete") return "will be **deleted** (it is no longer in the program)";
    const keys = c.keys.map(k => k.path);
    return `will be **${c.op === "update" ? "updated" : c.op}**${keys.length > 0 ? ` (changed: ${codes(keys)})` : ""}`;
}

function identifyDetails(c: Change, keys: string[] | undefined): string[] {
    const out: string[] = [];
    // The old side names what is at stake (the volume that holds the data), the new side only what replaces it.
    const inputs = c.old?.inputs ?? c.new?.inputs;
    for (const k of keys ?? []) {
        if (inputs && k in inputs) out.push(`${k}: ${code(shortValue(inputs[k]))}`);
    }
    return out;
}

/** Volumes a container mounts, named without opening anything secret. */
function mountDetails(c: Change): string[] {
    const inputs = c.old?.inputs ?? c.new?.inputs;
    if (!inputs) return [];
    const out: string[] = [];
    for (const key of ["volumes", "mounts"]) {
        const list = inputs[key];
        if (!Array.isArray(list)) continue;
        for (const m of list) {
            if (!isObject(m)) continue;
            const from = m.volumeName ?? m.hostPath ?? m.source;
            const to = m.containerPath ?? m.target;
            out.push(`mounts ${code(shortValue(from))} at ${code(shortValue(to))}`);
        }
    }
    return out;
}

function statefulRisk(c: Change): Risk | undefined {
    if (c.op !== "replace" && c.op !== "delete") return undefined;
    const row = statefulType(c.type);
    const kind = row?.ops[c.op];
    if (!row || !kind || !holds(row.when, c)) return undefined;
    const details = [...identifyDetails(c, row.identify), ...(c.type.endsWith("container:Container") ? mountDetails(c) : [])];
    if (c.retainOnDelete && c.op === "delete") {
        return {
            kind: "notice", component: c.component, change: c, urn: c.urn,
            reason: `${row.label} ${why(c)}`,
            consequence: "`retainOnDelete` is set: Pulumi stops managing it but the resource and its data stay in place",
            details,
        };
    }
    if (c.retainOnDelete) details.push("`retainOnDelete` is set: the old one is left in place, but the program will use the new one");
    return { kind, component: c.component, change: c, urn: c.urn, reason: `${row.label} ${why(c)}`, consequence: row.consequence[c.op], details };
}

function protectedRisk(c: Change): Risk | undefined {
    if (!c.protect || SKIP_OPS.has(c.op)) return undefined;
    const blocked = c.op === "replace" || c.op === "delete";
    return {
        kind: "protected", component: c.component, change: c, urn: c.urn,
        reason: `protected resource ${why(c)}`,
        consequence: blocked
            ? "the engine refuses to replace or delete a protected resource, so this change cannot be applied as is: remove `protect` deliberately, or change the program so no replace is needed"
            : "protected resources may be updated in place; review the change",
        details: [],
    };
}

/** A string that redaction changed (`STRIPE_SECRET_KEY=[secret]`, `postgres://app:[secret]@db`). */
const redacted = (v: unknown) => typeof v === "string" && v.includes(SECRET_TEXT);

/**
 * Changed paths whose value is secret (either side; wrapped by Pulumi or redacted by meaning, see
 * redact.ts) or whose name says credential.
 */
function credentialPaths(c: Change): string[] {
    if (c.op !== "update" && c.op !== "replace") return [];
    const found: string[] = [];
    for (const k of c.keys) {
        const p = parsePropertyPath(k.path);
        const names = p ? p.filter((x): x is string => typeof x === "string") : [k.path];
        if (names.some(isCredentialKey)) { found.push(k.path); continue; }
        if (!p) continue;
        const sides = [c.old?.inputs, c.new?.inputs, c.old?.outputs].map(root => valueAt(root, p));
        if (sides.some(redacted)) { found.push(k.path); continue; }
        // A precise detailedDiff path may point at an object that holds a secret (an upload with
        // secret content); a reasons-only top-level key must itself be secret, or every change to
        // a big document input that happens to embed one secret would be flagged.
        const secret = c.hasDetailedDiff ? sides.some(containsSecret) : sides.some(isSecret);
        if (secret) found.push(k.path);
    }
    return found;
}

function credentialRisk(c: Change, already: Risk[]): Risk | undefined {
    if (already.some(r => r.kind === "credential")) return undefined;
    const paths = credentialPaths(c);
    if (paths.length === 0) return undefined;
    return {
        kind: "credential", component: c.component, change: c, urn: c.urn,
        reason: `secret ${paths.length === 1 ? "input" : "inputs"} ${paths.map(code).join(", ")} ${paths.length === 1 ? "changes" : "change"} (values not shown) and the resource ${why(c)}`,
        consequence: "a password or key changes: everything that holds the old value must pick up the new one",
        details: [],
    };
}

function diagnosticRisk(d: Diagnostic, byUrn: ReadonlyMap<string, Change>): Risk | undefined {
    const kind: RiskKind | undefined = d.severity === "error" ? "error" : d.severity === "warning" ? "warning" : undefined;
    if (!kind) return undefined;
    const change = d.urn ? byUrn.get(d.urn) : undefined;
    return {
        kind, component: change?.component ?? {}, change, urn: d.urn,
        reason: d.urn ? `reported for ${code(change?.name ?? d.urn)}` : "reported by the engine",
        message: d.message, details: [],
    };
}

export function findRisks(preview: Preview, changes: Change[], exitCode?: number): Risk[] {
    const risks: Risk[] = [];
    for (const c of changes) {
        const mine: Risk[] = [];
        for (const r of [statefulRisk(c), protectedRisk(c)]) if (r) mine.push(r);
        const cred = credentialRisk(c, mine);
        if (cred) mine.push(cred);
        if (c.failed) {
            mine.push({ kind: "error", component: c.component, change: c, urn: c.urn, reason: `the ${code(c.rawOps.join("/"))} operation failed`, details: [] });
        }
        risks.push(...mine);
    }
    const byUrn = new Map(changes.map(c => [c.urn, c]));
    for (const d of preview.diagnostics) {
        const r = diagnosticRisk(d, byUrn);
        if (r) risks.push(r);
    }
    if (preview.maybeCorrupt) {
        risks.push({ kind: "warning", component: {}, reason: "the engine reports that some resources may be in an inconsistent state (`maybeCorrupt`)", details: [] });
    }
    const hasError = risks.some(r => r.kind === "error");
    if (!hasError && exitCode !== undefined && exitCode !== 0) {
        risks.push({ kind: "error", component: {}, reason: `\`pulumi preview\` exited with code ${exitCode} without an error diagnostic; see the job log`, details: [] });
    }
    return risks.sort(compareRisks);
}

export function compareRisks(a: Risk, b: Risk): number {
    return RISK_ORDER.indexOf(a.kind) - RISK_ORDER.indexOf(b.kind)
        || compareComponents(a.component, b.component)
        // Entries about a resource before engine-wide ones ("preview failed" closes the list).
        || cmp(a.urn ?? "\uffff", b.urn ?? "\uffff")
        || cmp(a.message ?? a.reason, b.message ?? b.reason);
}

export function previewFailed(preview: Preview, risks: Risk[]): boolean {
    return preview.engineResult === "failed" || risks.some(r => r.kind === "error");
}
