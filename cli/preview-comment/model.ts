/**
 * The shapes we read. Two inputs describe the same preview:
 *
 * - the digest printed by `pulumi preview --json` (Go `display.PreviewDigest`): `steps[]` with
 *   `op`, `urn`, `provider`, `oldState`/`newState` (apitype.ResourceV3, secrets as `"[secret]"`),
 *   `diffReasons`, `replaceReasons`, `detailedDiff` (may be null; entries `{kind, inputDiff}`),
 *   plus `diagnostics[]`, `changeSummary`, `duration` (ns), `maybeCorrupt`, `config`;
 * - the engine event log written by `--event-log` (NDJSON of apitype.EngineEvent): one of
 *   `preludeEvent`, `resourcePreEvent`/`resOutputsEvent`/`resOpFailedEvent` (`metadata` is a
 *   StepEventMetadata: `op`, `urn`, `type`, `old`/`new`, `keys`, `diffs`, `detailedDiff` with
 *   `{diffKind, inputDiff}`), `diagnosticEvent`, `stdoutEvent`, `summaryEvent`
 *   (`resourceChanges`, `maybeCorrupt`, `isPreview`, newer CLIs also `result`), `cancelEvent`, ...
 *
 * Both are normalised into {@link Preview}; nothing downstream looks at the raw JSON again.
 */

/** Resource state as far as we use it (digest ResourceV3 and event StepEventStateMetadata agree on these). */
export interface ResourceState {
    type?: string;
    urn?: string;
    custom?: boolean;
    id?: string;
    parent?: string;
    protect?: boolean;
    retainOnDelete?: boolean;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    /** URNs the resource depends on. */
    dependencies?: string[];
}

export interface PropertyDiff {
    /** add, add-replace, delete, delete-replace, update, update-replace. */
    kind: string;
    inputDiff: boolean;
}

/** One engine step, normalised from either input. */
export interface Step {
    op: string;
    urn: string;
    type: string;
    old?: ResourceState;
    new?: ResourceState;
    diffReasons: string[];
    replaceReasons: string[];
    /** null when the provider gave no detailed diff (common: then only the reasons are known). */
    detailedDiff: Record<string, PropertyDiff> | null;
    failed?: boolean;
    /**
     * True when the event log shows this replacement deleting the old resource before creating the
     * new one (its `delete-replaced` step comes before `create-replacement`). The digest does not
     * show the order; see also the provider facts in stateful-types.ts.
     */
    deleteFirst?: boolean;
}

export type Severity = "error" | "warning" | "info" | "info#err" | "debug" | string;

export interface Diagnostic {
    severity: Severity;
    urn?: string;
    /** Colour-free text, prefix included (as the digest does). */
    message: string;
}

export interface Preview {
    steps: Step[];
    diagnostics: Diagnostic[];
    /** Counts per op as the engine reported them, when it did. */
    changeSummary?: Record<string, number>;
    /** "failed" when the engine said so; undefined when the input does not tell. */
    engineResult?: string;
    maybeCorrupt: boolean;
    /**
     * Why the input cannot confirm the preview's outcome (an event log that is missing, empty or
     * cut before its summary). The comment lists these and never reports such a preview as
     * succeeded. Input that is not a digest or an event log at all is refused instead (InputError).
     */
    incomplete?: string[];
}
