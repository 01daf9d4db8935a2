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

/** Input that is not what `pulumi preview --json` or `--event-log` writes. The CLI exits 1 with the message; nothing is rendered. */
export class InputError extends Error {}

/** An engine event: an object with one `<kind>Event` payload (`resourcePreEvent`, `summaryEvent`, ...). */
const isEngineEvent = (e: unknown): boolean => isObject(e) && Object.keys(e).some(k => /^[a-z][A-Za-z]*Event$/.test(k) && isObject(e[k]));

/** Names from foreign input, made safe and short for a one-line error message. */
const shown = (keys: string[]) => keys.slice(0, 5).map(k => JSON.stringify(stripColour(k).slice(0, 40))).join(", ") + (keys.length > 5 ? ", ..." : "");

/** The whole text as JSON, or the part from the first `{` to the last `}` (a wrapper printed a banner). */
function jsonDocument(text: string): unknown {
    try { return JSON.parse(text); } catch { /* try without the banner */ }
    const start = text.indexOf("{");
    const end = text.lastIndexOf("}");
    try { return start >= 0 && end > start ? JSON.parse(text.slice(start, end + 1)) : undefined; } catch { return undefined; }
}

/**
 * What makes `doc` not a PreviewDigest, or undefined. The digest's fields are all optional
 * (`omitempty`), so the test is: the ones present have their types, steps carry an `op` and a
 * Pulumi URN, diagnostics a message, and at least one of steps, diagnostics or changeSummary is
 * there (every real preview has the root stack step and a summary; a crashed program still has
 * its diagnostics). Unknown extra fields are allowed, for newer CLIs.
 */
function digestProblem(doc: unknown): string | undefined {
    if (Array.isArray(doc)) return "the JSON is a list, not an object";
    if (!isObject(doc)) return `the JSON is ${doc === null ? "null" : `a ${typeof doc}`}, not an object`;
    if (isEngineEvent(doc)) return "it is an engine event (an event log goes to --event-log)";
    const types: Record<string, [string, (v: unknown) => boolean]> = {
        config: ["an object", isObject], steps: ["a list", Array.isArray], diagnostics: ["a list", Array.isArray],
        duration: ["a number", v => typeof v === "number"], maybeCorrupt: ["a boolean", v => typeof v === "boolean"],
        changeSummary: ["an object of counts", v => isObject(v) && Object.values(v).every(n => typeof n === "number")],
    };
    for (const [key, [what, ok]] of Object.entries(types)) {
        if (key in doc && !ok(doc[key])) return `\`${key}\` is not ${what}`;
    }
    if (!("steps" in doc) && !("diagnostics" in doc) && !("changeSummary" in doc)) {
        const keys = Object.keys(doc);
        return `it has no \`steps\`, \`diagnostics\` or \`changeSummary\` (${keys.length ? `its fields: ${shown(keys)}` : "it is empty"})`;
    }
    const steps = Array.isArray(doc.steps) ? doc.steps : [];
    const badStep = steps.findIndex(s => !isObject(s) || typeof s.op !== "string" || typeof s.urn !== "string" || !s.urn.startsWith("urn:pulumi:"));
    if (badStep >= 0) return `\`steps[${badStep}]\` is not a step (an \`op\` and a \`urn:pulumi:\` URN)`;
    const diags = Array.isArray(doc.diagnostics) ? doc.diagnostics : [];
    const badDiag = diags.findIndex(d => !isObject(d) || typeof d.message !== "string");
    if (badDiag >= 0) return `\`diagnostics[${badDiag}]\` has no message`;
    return undefined;
}

/**
 * Parse `pulumi preview --json` output (display.PreviewDigest). Tolerates text around the JSON
 * document (some wrappers print a banner). Anything else throws {@link InputError}: empty input,
 * text that is not JSON, an event log, or JSON that is not a digest; a wrong input must never
 * render as a preview that succeeded.
 */
export function parseDigest(text: string): Preview {
    if (text.trim() === "") throw new InputError("the digest is empty: `pulumi preview --json` printed nothing (see its log)");
    const doc = jsonDocument(text);
    if (doc === undefined) {
        const first = text.split("\n").find(l => l.trim() !== "") ?? "";
        let event = false;
        try { event = isEngineEvent(JSON.parse(first)); } catch { /* not JSON either */ }
        throw new InputError(event
            ? "this is an engine event log (one JSON event per line), not a `pulumi preview --json` digest; pass it with --event-log"
            : "not a `pulumi preview --json` digest: the input is not JSON");
    }
    const problem = digestProblem(doc);
    if (problem || !isObject(doc)) throw new InputError(`not a \`pulumi preview --json\` digest: ${problem ?? "not an object"}`);
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

/** URNs whose replacement deletes the old resource first: `delete-replaced` logged before `create-replacement`. */
function deleteFirstUrns(steps: Step[]): Set<string> {
    const firstAt = new Map<string, { del?: number; create?: number }>();
    steps.forEach((s, i) => {
        const at = firstAt.get(s.urn) ?? {};
        if (s.op === "delete-replaced" && at.del === undefined) at.del = i;
        if (s.op === "create-replacement" && at.create === undefined) at.create = i;
        firstAt.set(s.urn, at);
    });
    return new Set([...firstAt].filter(([, a]) => a.del !== undefined && (a.create === undefined || a.del < a.create)).map(([urn]) => urn));
}

/** Why an event log cannot be trusted to be whole. */
export const EVENT_LOG_EMPTY = "the event log is empty: the engine wrote no events (the preview probably stopped before it started; see the job log)";
export const EVENT_LOG_TRUNCATED = "the event log ends before the engine's summary event: it was cut short (the preview was stopped or timed out, or the file is incomplete), so changes, errors and the engine's result after the cut are missing";

/**
 * Parse an engine event log (one JSON event per line). A planning step shows up as a
 * resourcePreEvent and again as a resOutputsEvent; we keep one step per (op, URN), preferring the
 * pre-event, and mark steps that a resOpFailedEvent names. Every complete log ends with the
 * engine's summaryEvent (then a cancelEvent); a log without one was cut short and is marked
 * `incomplete`, as is an empty one. Text with no engine event in it throws {@link InputError}.
 */
export function parseEventLog(text: string): Preview {
    if (text.trim() === "") return { steps: [], diagnostics: [], maybeCorrupt: false, incomplete: [EVENT_LOG_EMPTY] };
    const byKey = new Map<string, Step>();
    const fromPre = new Set<string>();
    const failed = new Set<string>();
    const diagnostics: Diagnostic[] = [];
    let changeSummary: Record<string, number> | undefined;
    let engineResult: string | undefined;
    let maybeCorrupt = false;
    let events = 0;
    let summary = false;
    const lines = text.split("\n").filter(l => l.trim() !== "");
    const bad: number[] = [];
    lines.forEach((line, i) => {
        let e: unknown;
        try { e = JSON.parse(line); } catch { bad.push(i); return; }
        if (!isObject(e) || !isEngineEvent(e)) return;
        events++;
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
            summary = true;
            changeSummary = asCounts(sum.resourceChanges);
            maybeCorrupt = sum.maybeCorrupt === true;
            if (typeof sum.result === "string") engineResult = sum.result;
        }
        if (isObject(e.errorEvent) && typeof e.errorEvent.error === "string") {
            diagnostics.push(diagnostic("error", undefined, `error: ${e.errorEvent.error}`));
        }
    });
    if (events === 0) {
        const digest = isObject(jsonDocument(text)) && digestProblem(jsonDocument(text)) === undefined;
        throw new InputError(digest
            ? "this is a `pulumi preview --json` digest, not an engine event log; pass it as the digest argument"
            : "not an engine event log: no line of it is an engine event");
    }
    const steps = [...byKey.values()];
    const deletesFirst = deleteFirstUrns(steps);
    for (const s of steps) {
        if (failed.has(`${s.op} ${s.urn}`)) s.failed = true;
        if (deletesFirst.has(s.urn)) s.deleteFirst = true;
    }
    const incomplete: string[] = [];
    // A log cut mid-write ends in half a line: that is part of the truncation, not a separate problem.
    const cutLine = !summary && bad.length > 0 && bad[bad.length - 1] === lines.length - 1;
    if (!summary) incomplete.push(EVENT_LOG_TRUNCATED + (cutLine ? " (its last line stops mid-event)" : ""));
    const unreadable = bad.length - (cutLine ? 1 : 0);
    if (unreadable > 0) incomplete.push(`${unreadable} ${unreadable === 1 ? "line" : "lines"} of the event log ${unreadable === 1 ? "is" : "are"} not JSON and ${unreadable === 1 ? "was" : "were"} skipped, so events may be missing`);
    return { steps, diagnostics, changeSummary, engineResult, maybeCorrupt, ...(incomplete.length ? { incomplete } : {}) };
}

/**
 * Combine a digest with the event log of the same run. The digest is the reference for steps and
 * counts; the event log adds what the digest lacks: the engine's own result, failed operations,
 * the order of each replacement (delete first or create first), the unchanged resources, and diagnostics (deduplicated, since the digest usually has them too); when the digest has no
 * steps (the program failed early) the event log's steps are used. Notes on incomplete input are
 * kept from both.
 */
export function mergePreviews(digest: Preview | undefined, events: Preview | undefined): Preview {
    if (!digest) return events ?? { steps: [], diagnostics: [], maybeCorrupt: false, incomplete: ["no input was given"] };
    if (!events) return digest;
    const useEventSteps = digest.steps.length === 0 && events.steps.length > 0;
    const seen = new Set(digest.diagnostics.map(d => `${d.severity}|${d.urn ?? ""}|${d.message}`));
    const extra = events.diagnostics.filter(d => !seen.has(`${d.severity}|${d.urn ?? ""}|${d.message}`));
    const failedKeys = new Set(events.steps.filter(s => s.failed).map(s => `${s.op} ${s.urn}`));
    const deleteFirst = new Set(events.steps.filter(s => s.deleteFirst).map(s => s.urn));
    const fromDigest = (useEventSteps ? events.steps : digest.steps).map(s => ({
        ...s,
        ...(failedKeys.has(`${s.op} ${s.urn}`) ? { failed: true } : {}),
        ...(deleteFirst.has(s.urn) ? { deleteFirst: true } : {}),
    }));
    // The digest leaves unchanged resources out; the log lists them, which tells whether a
    // service keeps a running replica while others are replaced.
    const listed = new Set(fromDigest.map(s => s.urn));
    const steps = useEventSteps ? fromDigest : [...fromDigest, ...events.steps.filter(s => s.op === "same" && !listed.has(s.urn))];
    const incomplete = [...digest.incomplete ?? [], ...events.incomplete ?? []];
    return {
        steps,
        diagnostics: [...digest.diagnostics, ...extra],
        changeSummary: digest.changeSummary ?? events.changeSummary,
        engineResult: events.engineResult ?? digest.engineResult,
        maybeCorrupt: digest.maybeCorrupt || events.maybeCorrupt,
        ...(incomplete.length ? { incomplete } : {}),
    };
}
