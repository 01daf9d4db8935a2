/**
 * Builds `pulumi preview --json` digests (and matching event logs) the way the engine lays them
 * out, so the constructed previews of our own stacks are generated rather than hand-written.
 * Shapes follow display.PreviewDigest / apitype.EngineEvent (see cli/preview-comment/model.ts).
 */
import { SECRET_SIG, SIG_KEY, UNKNOWN } from "../../cli/preview-comment/values";

/** A secret as a state file or event log carries it. The renderer must never print `plaintext`. */
export function secret(plaintext: string): Record<string, string> {
    return { [SIG_KEY]: SECRET_SIG, plaintext: JSON.stringify(plaintext) };
}
export { UNKNOWN };

export interface StateSpec {
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    protect?: boolean;
    retainOnDelete?: boolean;
    id?: string;
}

export interface StepSpec {
    type: string;
    name: string;
    parent?: string;
    old?: StateSpec;
    new?: StateSpec;
    replaceReasons?: string[];
    diffReasons?: string[];
    /** Digest form: `{ path: kind }`; null = the provider gave none. */
    detailedDiff?: Record<string, string> | null;
}

interface DigestStep {
    op: string;
    urn: string;
    provider?: string;
    oldState?: Record<string, unknown>;
    newState?: Record<string, unknown>;
    diffReasons?: string[];
    replaceReasons?: string[];
    detailedDiff: Record<string, { kind: string; inputDiff: boolean }> | null;
}

const LOGICAL: Record<string, string> = { "create-replacement": "", "delete-replaced": "" };

export class DigestBuilder {
    readonly root: string;
    private readonly steps: DigestStep[] = [];
    private readonly diagnostics: Array<{ urn?: string; message: string; severity: string }> = [];
    private readonly sameCount: number;

    constructor(readonly stack: string, readonly project = "slipway-demo", unchanged = 0) {
        this.root = `urn:pulumi:${stack}::${project}::pulumi:pulumi:Stack::${project}-${stack}`;
        this.sameCount = unchanged;
        this.steps.push({
            op: "same", urn: this.root,
            oldState: { urn: this.root, custom: false, type: "pulumi:pulumi:Stack" },
            newState: { urn: this.root, custom: false, type: "pulumi:pulumi:Stack" },
            detailedDiff: null,
        });
    }

    /** The stack's outputs of the last update, as the Stack's old state carries them (e.g. `monthlyCost`). */
    lastOutputs(outputs: Record<string, unknown>): this {
        const root = this.steps[0]!;
        root.oldState = { ...root.oldState, outputs };
        return this;
    }

    /** URN of `name` of `type` under `parent` (default: the stack). The root stack is not part of the type chain. */
    urn(type: string, name: string, parent = this.root): string {
        const parentChain = parent === this.root ? "" : `${parent.split("::")[2]}$`;
        return `urn:pulumi:${this.stack}::${this.project}::${parentChain}${type}::${name}`;
    }

    private provider(type: string): string | undefined {
        const pkg = type.split(":")[0] ?? "";
        if (pkg.startsWith("slipway")) return undefined;
        return `urn:pulumi:${this.stack}::${this.project}::pulumi:providers:${pkg}::default::4a547cf7-0a04-4cf2-ae86-2eab499efc48`;
    }

    private state(s: StepSpec, st: StateSpec | undefined, urn: string): Record<string, unknown> | undefined {
        if (!st) return undefined;
        const custom = !s.type.startsWith("slipway:");
        return {
            urn, custom, ...(st.id ? { id: st.id } : {}), type: s.type,
            ...(custom ? { inputs: st.inputs ?? {}, outputs: st.outputs ?? {} } : {}),
            parent: s.parent ?? this.root,
            ...(st.protect ? { protect: true } : {}),
            ...(st.retainOnDelete ? { retainOnDelete: true } : {}),
            ...(this.provider(s.type) ? { provider: this.provider(s.type) } : {}),
        };
    }

    private push(op: string, s: StepSpec, withOld: boolean, withNew: boolean): string {
        const urn = this.urn(s.type, s.name, s.parent);
        const dd = s.detailedDiff === undefined || s.detailedDiff === null ? null
            : Object.fromEntries(Object.entries(s.detailedDiff).map(([k, kind]) => [k, { kind, inputDiff: true }]));
        const step: DigestStep = {
            op, urn,
            ...(this.provider(s.type) ? { provider: this.provider(s.type) } : {}),
            ...(withOld && s.old ? { oldState: this.state(s, s.old, urn) } : {}),
            ...(withNew && s.new ? { newState: this.state(s, s.new, urn) } : {}),
            ...(s.diffReasons?.length ? { diffReasons: s.diffReasons } : {}),
            ...(s.replaceReasons?.length ? { replaceReasons: s.replaceReasons } : {}),
            detailedDiff: op === "delete-replaced" ? null : dd,
        };
        this.steps.push(step);
        return urn;
    }

    create(s: StepSpec): string { return this.push("create", s, false, true); }
    update(s: StepSpec): string { return this.push("update", s, true, true); }
    delete(s: StepSpec): string { return this.push("delete", s, true, false); }
    /** An unchanged resource, as an event log lists it (a real digest leaves these out). */
    same(s: StepSpec): string { return this.push("same", s, true, true); }
    /** Create-before-delete replace: the engine's three steps. */
    replace(s: StepSpec): string {
        this.push("create-replacement", s, true, true);
        this.push("replace", s, true, true);
        return this.push("delete-replaced", s, true, false);
    }

    diagnostic(severity: string, message: string, urn?: string): this {
        this.diagnostics.push({ ...(urn ? { urn } : {}), message, severity });
        return this;
    }

    digest(): Record<string, unknown> {
        const summary: Record<string, number> = {};
        for (const s of this.steps) {
            if (s.op in LOGICAL) continue;
            summary[s.op] = (summary[s.op] ?? 0) + 1;
        }
        summary.same = (summary.same ?? 0) + this.sameCount;
        const sorted = Object.fromEntries(Object.entries(summary).sort(([a], [b]) => (a < b ? -1 : 1)));
        return {
            config: { "slipway-demo:target": this.stack === "dev" ? "docker" : "do-app", "slipway-demo:dbPassword": "[secret]" },
            steps: this.steps,
            ...(this.diagnostics.length ? { diagnostics: this.diagnostics } : {}),
            duration: 4_200_000_000,
            changeSummary: sorted,
        };
    }

    /**
     * The event log of the same run, as `--event-log` writes it: pre and outputs events per step
     * (event metadata uses `old`/`new`, `keys`, `diffs` and `diffKind`), diagnostics with Pulumi's
     * raw colour directives, and a summary that says whether the preview failed.
     */
    eventLog(result?: "failed"): string {
        const lines: unknown[] = [{ sequence: 0, timestamp: 0, preludeEvent: { config: {} } }];
        let seq = 1;
        for (const s of this.steps) {
            const meta = {
                op: s.op, urn: s.urn, type: s.urn.split("::")[2]?.split("$").pop(),
                old: s.oldState ?? null, new: s.newState ?? null,
                ...(s.replaceReasons ? { keys: s.replaceReasons } : {}),
                ...(s.diffReasons ? { diffs: s.diffReasons } : {}),
                detailedDiff: s.detailedDiff === null ? null
                    : Object.fromEntries(Object.entries(s.detailedDiff).map(([k, v]) => [k, { diffKind: v.kind, inputDiff: v.inputDiff }])),
                provider: s.provider ?? "",
            };
            lines.push({ sequence: seq++, timestamp: 0, resourcePreEvent: { metadata: meta, planning: true } });
            lines.push({ sequence: seq++, timestamp: 0, resOutputsEvent: { metadata: meta, planning: true } });
        }
        for (const d of this.diagnostics) {
            const [, prefix = "", rest = d.message] = /^(\w+: )?([\s\S]*)$/.exec(d.message) ?? [];
            lines.push({
                sequence: seq++, timestamp: 0,
                diagnosticEvent: { ...(d.urn ? { urn: d.urn } : {}), prefix: `<{%fg 1%}>${prefix}<{%reset%}>`, message: `<{%reset%}>${rest}<{%reset%}>\n`, color: "raw", severity: d.severity },
            });
        }
        const digest = this.digest();
        lines.push({ sequence: seq++, timestamp: 0, summaryEvent: { maybeCorrupt: false, durationSeconds: 4, resourceChanges: digest.changeSummary, PolicyPacks: {}, isPreview: true, ...(result ? { result } : {}) } });
        lines.push({ sequence: seq++, timestamp: 0, cancelEvent: {} });
        return `${lines.map(l => JSON.stringify(l)).join("\n")}\n`;
    }
}
