import { Change, ComponentRef, cmp, compareComponents, nameFromUrn } from "./changes";
import { Diagnostic, Preview } from "./model";
import { isCredentialKey } from "./redact";
import { Condition, ReplicaType, RiskKind, replicaType, statefulType } from "./stateful-types";
import { SECRET_TEXT, code, containsSecret, isObject, isSecret, parsePropertyPath, secretAncestor, shortValue, valueAt } from "./values";

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
    /** What the entry is about when it is more than `change` (all replicas of a service). */
    subject?: string;
    /** Further resources the risk is about (the other replicas), marked in the Changes section too. */
    related?: string[];
    /** Why it was flagged: the op and the keys that cause it. */
    reason: string;
    consequence?: string;
    /** Extra, secret-free facts (a volume name, a retainOnDelete note). */
    details: string[];
    /** Diagnostic text, colour-free. */
    message?: string;
}

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

function statefulRisk(c: Change): Risk | undefined {
    if (c.op !== "replace" && c.op !== "delete") return undefined;
    const row = statefulType(c.type);
    const kind = row?.ops[c.op];
    if (!row || !kind || !holds(row.when, c)) return undefined;
    const details = identifyDetails(c, row.identify);
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

/** `protect` stops a replace or a delete; an update in place is what protection allows, so it is no risk. */
function protectedRisk(c: Change): Risk | undefined {
    if (!c.protect || (c.op !== "replace" && c.op !== "delete")) return undefined;
    return {
        kind: "protected", component: c.component, change: c, urn: c.urn,
        reason: `protected resource ${why(c)}`,
        consequence: "the engine refuses to replace or delete a protected resource, so this change cannot be applied as is: remove `protect` deliberately, or change the program so no replace is needed",
        details: [],
    };
}

/** A string that redaction changed (`STRIPE_SECRET_KEY=[secret]`, `postgres://app:[secret]@db`). */
const redacted = (v: unknown) => typeof v === "string" && v.includes(SECRET_TEXT);

/**
 * The old value at `p` as far as it speaks for itself: a value hidden only because a whole
 * ancestor is one secret (`spec.services` of an App after a refresh, whose inputs then carry the
 * outputs' list-level secrecy) says nothing about whether the value itself is secret.
 */
function ownValue(root: Record<string, unknown> | undefined, p: Array<string | number>): unknown {
    return secretAncestor(root, p) ? undefined : valueAt(root, p);
}

/**
 * Changed paths whose value is secret, or whose name says credential. The new inputs are what the
 * program sends, with per-value secrecy: a value secret there (or under a secret the program
 * wrapped) is a secret that changes. On the old side only a value that is itself secret counts.
 */
function credentialPaths(c: Change): string[] {
    if (c.op !== "update" && c.op !== "replace") return [];
    const found: string[] = [];
    for (const k of c.keys) {
        const p = parsePropertyPath(k.path);
        const names = p ? p.filter((x): x is string => typeof x === "string") : [k.path];
        if (names.some(isCredentialKey)) { found.push(k.path); continue; }
        if (!p) continue;
        const sides = [valueAt(c.new?.inputs, p), ownValue(c.old?.inputs, p), ownValue(c.old?.outputs, p)];
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

type Labels = Record<string, string>;

/** Docker labels as the provider takes them (`[{label, value}]`) or as a plain map. */
function labelsOf(c: Change): Labels {
    const raw = (c.new?.inputs ?? c.old?.inputs)?.labels;
    const out: Labels = {};
    if (Array.isArray(raw)) {
        for (const l of raw) if (isObject(l) && typeof l.label === "string" && typeof l.value === "string") out[l.label] = l.value;
    } else if (isObject(raw)) {
        for (const [k, v] of Object.entries(raw)) if (typeof v === "string") out[k] = v;
    }
    return out;
}

interface Service { key: string; role?: string; labelled: boolean; row: ReplicaType; members: Change[] }

/** Replicas with the same service labels are one service; a resource without them is one of its own. */
function serviceKey(c: Change, row: ReplicaType): { key: string; role?: string; labelled: boolean } {
    const labels = labelsOf(c);
    const values = row.serviceLabels.map(l => labels[l]);
    if (values.every(v => v === undefined)) return { key: `${c.type}|${c.urn}`, labelled: false };
    return { key: `${c.type}|${values.map(v => v ?? "").join("|")}`, role: values[2], labelled: true };
}

const isStack = (c: Change) => c.type === "pulumi:pulumi:Stack";

/**
 * A service whose every replica is replaced in place, each deleted before its replacement is
 * created, has nothing serving until a new one is up. Replicas renamed by a release (new ones
 * created, old ones deleted at the end of the update) are not replaced in place and keep serving.
 */
function outageRisks(changes: Change[]): Risk[] {
    const services = new Map<string, Service>();
    for (const c of changes) {
        const row = replicaType(c.type);
        if (!row) continue;
        const { key, role, labelled } = serviceKey(c, row);
        const svc = services.get(key) ?? { key, role, labelled, row, members: [] };
        svc.members.push(c);
        services.set(key, svc);
    }
    // A digest leaves unchanged resources out; an event log lists them.
    const listsUnchanged = changes.some(c => c.op === "same" && !isStack(c));
    const risks: Risk[] = [];
    for (const svc of services.values()) {
        const before = svc.members.filter(c => c.op !== "create" && c.op !== "import");
        const down = before.filter(c => c.op === "replace" && (svc.row.deletesFirst || c.deleteFirst));
        if (down.length === 0 || down.length < before.length) continue;
        risks.push(outageRisk(svc, down, changes, listsUnchanged));
    }
    return risks;
}

/** Volumes a replica mounts, and whether this preview replaces or deletes them (else their data stays). */
function volumeDetails(c: Change, row: ReplicaType, changes: Change[]): string[] {
    if (!row.volumeType) return [];
    const going = new Set(changes.filter(v => v.type === row.volumeType && (v.op === "replace" || v.op === "delete"))
        .map(v => (v.old?.inputs ?? v.new?.inputs)?.name).filter((n): n is string => typeof n === "string"));
    const inputs = c.old?.inputs ?? c.new?.inputs;
    const mounted = [...asList(inputs?.volumes).map(m => m.volumeName), ...asList(inputs?.mounts).filter(m => m.type === "volume").map(m => m.source)];
    return mounted.filter((v): v is string => typeof v === "string").map(v => going.has(v)
        ? `volume ${code(shortValue(v))} goes too (see its own entry)`
        : `volume ${code(shortValue(v))} stays: the data in it is kept`);
}

const asList = (v: unknown): Array<Record<string, unknown>> => (Array.isArray(v) ? v.filter(isObject) : []);

function outageRisk(svc: Service, down: Change[], changes: Change[], listsUnchanged: boolean): Risk {
    const first = down[0] as Change;
    const n = down.length;
    const downUrns = new Set(down.map(c => c.urn));
    const replacedUrns = new Set(changes.filter(c => c.op === "replace").map(c => c.urn));
    const chained = down.some(c => (c.new?.dependencies ?? []).some(d => downUrns.has(d)));
    const keys = [...new Set(down.flatMap(c => (c.replaceReasons.length > 0 ? c.replaceReasons : c.keys.map(k => k.path))))];
    const upstream = [...new Set(down.flatMap(c => c.new?.dependencies ?? []).filter(d => replacedUrns.has(d) && !downUrns.has(d)))];
    const they = n === 1 ? "it depends" : "they depend";
    const cause = keys.length > 0 ? `because ${keys.map(code).join(", ")} changed`
        : upstream.length > 0 ? `(the engine gave no reason; ${they} on ${upstream.map(u => code(nameFromUrn(u))).join(", ")}, which is replaced too)`
            : "(the engine gave no reason)";
    const what = `${svc.role ? `${code(svc.role)} ` : ""}${svc.row.label}${n === 1 ? "" : "s"}`;
    const subject = !svc.labelled ? `the only ${svc.row.label} ${code(first.name)}` : n === 1 ? `the only ${what}` : `${n === 2 ? "both" : `all ${n}`} ${what}`;
    const healthy = down.some(c => c.new?.inputs?.wait === true) ? " and healthy" : "";
    const details = volumeDetails(first, svc.row, changes);
    // A resource without service labels is a service of its own: there is no other replica to miss.
    if (!listsUnchanged && svc.labelled) details.push("counted from the resources the digest lists, which leaves unchanged ones out: pass `--event-log` to see whether another replica keeps serving");
    return {
        kind: "traffic", component: first.component, change: first, urn: first.urn,
        related: down.map(c => c.urn), subject,
        reason: n === 1
            ? `${code(first.name)} will be **replaced** ${cause}, and the old one is deleted before the new one is created`
            : `${down.map(c => code(c.name)).join(", ")} will be **replaced** ${cause}, each deleted before its replacement is created${chained ? "" : ", all at once"}`,
        consequence: n === 1
            ? `nothing serves in its place from the delete until the new one is up${healthy}: its clients fail meanwhile`
            : `no replica is left serving from the first delete until a new one is up${healthy}: requests fail meanwhile`,
        details,
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
    risks.push(...outageRisks(changes));
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
