import { Diagnostic, Preview, PropertyDiff, ResourceState, Step } from "./model";
import { isObject, stripColour } from "./values";

const asStrings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
const asState = (v: unknown): ResourceState | undefined => (isObject(v) ? (v as ResourceState) : undefined);

function asCounts(v: unknown): Record<string, number> | undefined {
    if (!isObject(v)) return undefined;
    const out: Record<string, number> = {};
    for (const [k, n] of Object.entries(v)) if (typeof n === "number") out[k] = n;
    return out;
}

/** Digest entries say `kind`, event-log entries say `diffKind`; accept both. */
function asDetailedDiff(v: unknown): Record<string, PropertyDiff> | null {
    if (!isObject(v)) return null;
    const out: Record<string, PropertyDiff> = {};
    for (const [path, d] of Object.entries(v)) {
        const o = isObject(d) ? d : {};
        const kind = typeof o.kind === "string" ? o.kind : typeof o.diffKind === "string" ? o.diffKind : "update";
        out[path] = { kind, inputDiff: o.inputDiff === true };
    }
    return out;
}

/** The type token is the last `$`-separated part of the URN's qualified type. */
export function typeFromUrn(urn: string): string {
    const parts = urn.split("::");
    const qualified = parts[2] ?? "";
    return qualified.split("$").pop() ?? qualified;
}

function step(op: unknown, urn: unknown, type: unknown, old: unknown, nu: unknown,
    diffs: unknown, keys: unknown, detailed: unknown): Step | undefined {
    if (typeof op !== "string" || typeof urn !== "string") return undefined;
    const o = asState(old);
    const n = asState(nu);
    return {
        op, urn,
        type: typeof type === "string" && type ? type : n?.type ?? o?.type ?? typeFromUrn(urn),
        old: o, new: n,
        diffReasons: asStrings(diffs),
        replaceReasons: asStrings(keys),
        detailedDiff: asDetailedDiff(detailed),
    };
}

function diagnostic(severity: unknown, urn: unknown, text: string): Diagnostic {
    return {
        severity: typeof severity === "string" ? severity : "info",
        urn: typeof urn === "string" && urn ? urn : undefined,
        message: stripColour(text).trim(),
    };
}

/**
 * Parse `pulumi preview --json` output. Tolerates text around the JSON document (some wrappers
 * print a banner) but not a document that is not a digest.
 */
export function parseDigest(text: string): Preview {
    const empty: Preview = { steps: [], diagnostics: [], maybeCorrupt: false };
    if (text.trim() === "") return { ...empty, inputProblem: "the preview printed no JSON (it probably failed before planning; see the job log)" };
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch {
        const start = text.indexOf("{");
        const end = text.lastIndexOf("}");
        try {
            doc = start >= 0 && end > start ? JSON.parse(text.slice(start, end + 1)) : undefined;
        } catch { doc = undefined; }
    }
    if (!isObject(doc)) return { ...empty, inputProblem: "the preview output is not a JSON object (see the job log)" };
    const steps: Step[] = [];
    for (const s of Array.isArray(doc.steps) ? doc.steps : []) {
        if (!isObject(s)) continue;
        const st = step(s.op, s.urn, undefined, s.oldState, s.newState, s.diffReasons, s.replaceReasons, s.detailedDiff);
        if (st) steps.push(st);
    }
    const diagnostics: Diagnostic[] = [];
    for (const d of Array.isArray(doc.diagnostics) ? doc.diagnostics : []) {
        if (!isObject(d)) continue;
        const prefix = typeof d.prefix === "string" ? d.prefix : "";
        diagnostics.push(diagnostic(d.severity, d.urn, prefix + (typeof d.message === "string" ? d.message : "")));
    }
    return {
        steps, diagnostics,
        changeSummary: asCounts(doc.changeSummary),
        maybeCorrupt: doc.maybeCorrupt === true,
    };
}

/**
 * Parse an engine event log (one JSON event per line). A planning step shows up as a
 * resourcePreEvent and again as a resOutputsEvent; we keep one step per (op, URN), preferring the
 * pre-event, and mark steps that a resOpFailedEvent names.
 */
export function parseEventLog(text: string): Preview {
    const byKey = new Map<string, Step>();
    const fromPre = new Set<string>();
    const failed = new Set<string>();
    const diagnostics: Diagnostic[] = [];
    let changeSummary: Record<string, number> | undefined;
    let engineResult: string | undefined;
    let maybeCorrupt = false;
    let bad = 0;
    for (const line of text.split("\n")) {
        if (line.trim() === "") continue;
        let e: unknown;
        try { e = JSON.parse(line); } catch { bad++; continue; }
        if (!isObject(e)) continue;
        const pre = isObject(e.resourcePreEvent) ? e.resourcePreEvent : undefined;
        const outs = isObject(e.resOutputsEvent) ? e.resOutputsEvent : undefined;
        const meta = isObject(pre?.metadata) ? pre?.metadata : isObject(outs?.metadata) ? outs?.metadata : undefined;
        if (meta) {
            const st = step(meta.op, meta.urn, meta.type, meta.old, meta.new, meta.diffs, meta.keys, meta.detailedDiff);
            const key = st && `${st.op} ${st.urn}`;
            // The pre-event wins; an outputs event only stands in when no pre-event was logged.
            if (st && key && (pre ? !fromPre.has(key) : !byKey.has(key))) {
                byKey.set(key, st);
                if (pre) fromPre.add(key);
            }
        }
        const fail = isObject(e.resOpFailedEvent) ? e.resOpFailedEvent : undefined;
        if (fail && isObject(fail.metadata) && typeof fail.metadata.urn === "string") {
            failed.add(`${String(fail.metadata.op)} ${fail.metadata.urn}`);
        }
        const d = isObject(e.diagnosticEvent) ? e.diagnosticEvent : undefined;
        if (d && d.ephemeral !== true && d.severity !== "debug") {
            const prefix = typeof d.prefix === "string" ? d.prefix : "";
            diagnostics.push(diagnostic(d.severity, d.urn, prefix + (typeof d.message === "string" ? d.message : "")));
        }
        const sum = isObject(e.summaryEvent) ? e.summaryEvent : undefined;
        if (sum) {
            changeSummary = asCounts(sum.resourceChanges);
            maybeCorrupt = sum.maybeCorrupt === true;
            if (typeof sum.result === "string") engineResult = sum.result;
        }
        if (isObject(e.errorEvent) && typeof e.errorEvent.error === "string") {
            diagnostics.push(diagnostic("error", undefined, `error: ${e.errorEvent.error}`));
        }
    }
    const steps = [...byKey.values()];
    for (const s of steps) if (failed.has(`${s.op} ${s.urn}`)) s.failed = true;
    return {
        steps, diagnostics, changeSummary, engineResult, maybeCorrupt,
        inputProblem: bad > 0 && steps.length === 0 && diagnostics.length === 0
            ? "the event log has no readable events" : undefined,
    };
}

/**
 * Combine a digest with the event log of the same run. The digest is the reference for steps and
 * counts; the event log adds what the digest lacks: the engine's own result, failed operations,
 * and diagnostics (deduplicated, since the digest usually has them too).
 */
export function mergePreviews(digest: Preview | undefined, events: Preview | undefined): Preview {
    if (!digest) return events ?? { steps: [], diagnostics: [], maybeCorrupt: false, inputProblem: "no input" };
    if (!events) return digest;
    const useEventSteps = digest.steps.length === 0 && events.steps.length > 0;
    const seen = new Set(digest.diagnostics.map(d => `${d.severity}|${d.urn ?? ""}|${d.message}`));
    const extra = events.diagnostics.filter(d => !seen.has(`${d.severity}|${d.urn ?? ""}|${d.message}`));
    const failedKeys = new Set(events.steps.filter(s => s.failed).map(s => `${s.op} ${s.urn}`));
    const steps = (useEventSteps ? events.steps : digest.steps).map(s =>
        failedKeys.has(`${s.op} ${s.urn}`) ? { ...s, failed: true } : s);
    return {
        steps,
        diagnostics: [...digest.diagnostics, ...extra],
        changeSummary: digest.changeSummary ?? events.changeSummary,
        engineResult: events.engineResult ?? digest.engineResult,
        maybeCorrupt: digest.maybeCorrupt || events.maybeCorrupt,
        inputProblem: useEventSteps ? undefined : digest.inputProblem,
    };
}
