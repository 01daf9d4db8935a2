import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceOutputsRequest, RegisterResourceRequest, RegisterResourceResponse } from "@pulumi/pulumi/proto/resource_pb";
// Internal runtime modules: the public `setMocks` hides resource options and parents, which the
// tests need (protect, retainOnDelete, ignoreChanges, the component tree).
// eslint-disable-next-line @typescript-eslint/no-var-requires
const settings = require("@pulumi/pulumi/runtime/settings");
// eslint-disable-next-line @typescript-eslint/no-var-requires
const rpc = require("@pulumi/pulumi/runtime/rpc");

/** One registered resource, as the engine would have received it. */
export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    /** The parent's URN; undefined for the stack itself. */
    parent?: string;
    /** false for component resources. */
    custom: boolean;
    /** Inputs, deserialized. Secrets stay wrapped (see {@link isSecretValue}); unknowns are {@link UNKNOWN}. */
    inputs: Record<string, unknown>;
    /**
     * Inputs as they went over the wire to the engine. Unlike `inputs` (the SDK's deserializer
     * lifts a nested secret to the whole top-level property), a secret is wrapped exactly where
     * the program made it: what the engine, and so a preview, can tell apart.
     */
    wire: Record<string, unknown>;
    options: {
        protect: boolean;
        retainOnDelete: boolean;
        deleteBeforeReplace: boolean;
        ignoreChanges: string[];
        replaceOnChanges: string[];
        dependsOn: string[];
        provider?: string;
        /** Outputs the engine stores as secrets whatever the provider returns (absent in hand-made records). */
        additionalSecretOutputs?: string[];
    };
    /**
     * Per input key, the URNs of the resources whose outputs its value was built from (the
     * request's property dependencies). The engine makes such an input unknown in a preview when
     * one of them is replaced. Absent in hand-made records.
     */
    propertyDependencies?: Record<string, string[]>;
    /** What a component passed to `registerOutputs`, once it did. */
    outputs?: Record<string, unknown>;
    /**
     * Aliases the program passed as URNs (`aliases: ["urn:pulumi:..."]`), as sent. Set by the
     * Recorder on every record (empty when there are none); absent only in hand-made records.
     */
    aliases?: string[];
    /** Aliases the program passed as specs (`aliases: [{ name, type, parent, ... }]`), unresolved: see {@link resolveAliases}. */
    aliasSpecs?: RecordedAliasSpec[];
}

/**
 * One structured alias as the engine receives it (proto `Alias.Spec`). A field left out means
 * "the resource's own": its name, its type, its parent, this stack and project. The SDK fills
 * `parentUrn` with the resource's parent when the alias names none.
 */
export interface RecordedAliasSpec {
    name?: string;
    type?: string;
    stack?: string;
    project?: string;
    parentUrn?: string;
    /** `parent: undefined` in the alias: the old resource had no parent (sat at the stack's root). */
    noParent?: boolean;
}

export const UNKNOWN = rpc.unknownValue as string;

/** True for a value that went over the wire as a Pulumi secret. */
export function isSecretValue(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[rpc.specialSigKey] === rpc.specialSecretSig;
}

/** Replace every secret by `replacement` (default `"[secret]"`) or, with `reveal`, by its plain value. */
export function redact(v: unknown, reveal = false, replacement = "[secret]"): unknown {
    if (isSecretValue(v)) return reveal ? redact(v.value, reveal, replacement) : replacement;
    if (Array.isArray(v)) return v.map(x => redact(x, reveal, replacement));
    if (v !== null && typeof v === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = redact(x, reveal, replacement);
        return out;
    }
    return v;
}

export interface RecorderOptions {
    project?: string;
    stack?: string;
    /** Run as a preview (`true`) or as an update (`false`, the default: applies resolve). */
    preview?: boolean;
    /** Outputs to return for a resource, on top of its inputs. Used to fake provider-computed fields. */
    outputs?: (r: pulumi.runtime.MockResourceArgs) => Record<string, unknown> | undefined;
    /** Results for provider functions (invokes), keyed by token. */
    calls?: Record<string, (args: Record<string, unknown>) => Record<string, unknown>>;
}

/**
 * Runs Pulumi programs under mocks and records every registration with its options and parent.
 * Used by `npm run synth` and by the tests; consumers can use it to test their own stacks.
 */
export class Recorder {
    readonly resources: RecordedResource[] = [];

    private constructor() {}

    /** The recorder whose mocks are installed now: Pulumi's mocks are process-global, so a later `start` replaces an earlier one. */
    static current?: Recorder;

    static async start(opts: RecorderOptions = {}): Promise<Recorder> {
        const rec = new Recorder();
        Recorder.current = rec;
        let ids = 0;
        await pulumi.runtime.setMocks({
            newResource: (args) => {
                const extra = opts.outputs?.(args) ?? {};
                return { id: args.custom === false ? "" : `${args.name}-id-${++ids}`, state: { ...args.inputs, ...extra } };
            },
            call: (args) => {
                const f = opts.calls?.[args.token];
                if (!f) throw new Error(`No mock result for the provider function ${args.token}`);
                return f(args.inputs);
            },
        // "organization" is what a local (file) backend calls every org.
        }, opts.project ?? "slipway", opts.stack ?? "test", opts.preview ?? false, "organization");
        rec.wrapMonitor();
        return rec;
    }

    private wrapMonitor() {
        const monitor = settings.getMonitor();
        const register = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req: RegisterResourceRequest, cb: (err: unknown, resp?: RegisterResourceResponse) => void) => {
            register(req, (err: unknown, resp?: RegisterResourceResponse) => {
                if (!err && resp) {
                    this.resources.push({
                        urn: resp.getUrn(),
                        type: req.getType(),
                        name: req.getName(),
                        parent: req.getParent() || undefined,
                        custom: req.getCustom(),
                        inputs: rpc.deserializeProperties(req.getObject(), true),
                        wire: req.getObject()?.toJavaScript() ?? {},
                        options: {
                            protect: req.getProtect() ?? false,
                            retainOnDelete: req.getRetainondelete() ?? false,
                            deleteBeforeReplace: req.getDeletebeforereplace(),
                            ignoreChanges: req.getIgnorechangesList(),
                            replaceOnChanges: req.getReplaceonchangesList(),
                            dependsOn: req.getDependenciesList(),
                            provider: req.getProvider() || undefined,
                            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                        },
                        propertyDependencies: propertyDependenciesOf(req),
                        ...aliasesOf(req),
                    });
                }
                cb(err, resp);
            });
        };
        const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
        monitor.registerResourceOutputs = (req: RegisterResourceOutputsRequest, cb: (err: unknown, resp?: unknown) => void) => {
            const r = this.resources.find(x => x.urn === req.getUrn());
            if (r) r.outputs = rpc.deserializeProperties(req.getOutputs(), true);
            registerOutputs(req, cb);
        };
    }

    /** Wait until every pending registration and apply has finished. */
    async settle(): Promise<void> {
        await settings.waitForRPCs();
    }

    /** Resources of one type token, e.g. `docker:index/container:Container`. */
    ofType(type: string): RecordedResource[] {
        return this.resources.filter(r => r.type === type);
    }

    /** The single resource with this type and logical name; throws with the known names otherwise. */
    get(type: string, name: string): RecordedResource {
        const found = this.resources.filter(r => r.type === type && r.name === name);
        if (found.length !== 1) {
            const names = this.ofType(type).map(r => r.name).join(", ") || "none";
            throw new Error(`expected one ${type} named "${name}", found ${found.length} (have: ${names})`);
        }
        return found[0]!;
    }

    /** Direct and indirect children of the resource with this URN. */
    descendants(urn: string): RecordedResource[] {
        const out: RecordedResource[] = [];
        const walk = (u: string) => this.resources.filter(r => r.parent === u).forEach(r => { out.push(r); walk(r.urn); });
        walk(urn);
        return out;
    }

    clear(): void {
        this.resources.length = 0;
    }
}

/** Resolve an Output in a test or script. */
export function valueOf<T>(o: pulumi.Input<T>): Promise<T> {
    return new Promise(resolve => pulumi.output(o).apply(v => { resolve(v as T); return v; }));
}

/** Whether an Output is marked secret. */
export function secretness(o: pulumi.Input<unknown>): Promise<boolean> {
    return pulumi.isSecret(pulumi.output(o));
}

/** The aliases in a RegisterResourceRequest: URN strings (either wire form) and specs, apart. */
function aliasesOf(req: RegisterResourceRequest): { aliases: string[]; aliasSpecs: RecordedAliasSpec[] } {
    const aliases: string[] = [...req.getAliasurnsList()];
    const aliasSpecs: RecordedAliasSpec[] = [];
    for (const a of req.getAliasesList()) {
        if (a.hasUrn()) aliases.push(a.getUrn());
        const s = a.getSpec();
        if (!s) continue;
        const spec: RecordedAliasSpec = {};
        if (s.getName()) spec.name = s.getName();
        if (s.getType()) spec.type = s.getType();
        if (s.getStack()) spec.stack = s.getStack();
        if (s.getProject()) spec.project = s.getProject();
        if (s.getParenturn()) spec.parentUrn = s.getParenturn();
        if (s.getNoparent()) spec.noParent = true;
        aliasSpecs.push(spec);
    }
    return { aliases, aliasSpecs };
}

const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** The parts of `urn:pulumi:<stack>::<project>::<qualified type>::<name>`; `type` is the last of the `$`-joined chain. */
export function parseUrn(urn: string): { stack: string; project: string; qualifiedType: string; type: string; name: string } {
    const parts = urn.startsWith("urn:pulumi:") ? urn.slice("urn:pulumi:".length).split("::") : [];
    if (parts.length < 4) throw new Error(`not a Pulumi URN: ${urn}`);
    const [stack, project, qualifiedType] = parts as [string, string, string];
    return { stack, project, qualifiedType, type: qualifiedType.split("$").pop()!, name: parts.slice(3).join("::") };
}

/**
 * A URN the way the engine builds one (resource.CreateURN): under a parent, the parent's whole
 * qualified type chain then `$`; under the root stack or no parent, nothing.
 */
export function createUrn(name: string, type: string, parent: string | undefined, project: string, stack: string): string {
    const chain = parent ? parseUrn(parent).qualifiedType : ROOT_STACK_TYPE;
    return `urn:pulumi:${stack}::${project}::${chain === ROOT_STACK_TYPE ? "" : `${chain}$`}${type}::${name}`;
}

/** What the engine makes of a resource's aliases, see {@link resolveAliases}. */
export interface AliasResolution {
    /** The URN the engine gives the resource. The mock monitor puts only the parent's own type in front, the engine the whole chain. */
    urn: string;
    /** The URNs the engine looks for after `urn`, in its order: the resource's own aliases, then those inherited from its parent's alias. */
    aliases: string[];
    /** The URN in `previous` the engine takes this resource to be: `urn` itself, else the first alias found; undefined = a create. */
    previous?: string;
}

/**
 * Resolve recorded aliases against a previous state's URNs as the engine's step generator does
 * (collapseAliasToUrn, generateAliases, inheritedChildAlias in pkg/resource/deploy/step_generator.go):
 * a spec's missing fields come from the resource; a parent found under an alias lends that old URN
 * to its children's specs and gives each child an inherited alias (the child's name re-prefixed
 * with the parent's old name when it started with the parent's name). URN aliases are tried before
 * specs. `resources` must be in registration order (parents first), as a Recorder keeps them.
 * Keyed by recorded URN.
 */
export function resolveAliases(
    resources: Pick<RecordedResource, "urn" | "type" | "name" | "parent" | "aliases" | "aliasSpecs">[],
    previous: Iterable<string>,
): Map<string, AliasResolution> {
    const olds = new Set(previous);
    const byUrn = new Map(resources.map(r => [r.urn, r]));
    const engineUrns = new Map<string, string>();
    const engineUrn = (urn: string): string => {
        const r = byUrn.get(urn);
        if (!r) return urn; // not recorded (e.g. a root stack): as given
        let u = engineUrns.get(urn);
        if (u === undefined) {
            const { stack, project } = parseUrn(r.urn);
            u = createUrn(r.name, r.type, r.parent && engineUrn(r.parent), project, stack);
            engineUrns.set(urn, u);
        }
        return u;
    };
    const adopted = new Map<string, string>(); // engine URN -> the old URN it was found under through an alias
    const out = new Map<string, AliasResolution>();
    for (const r of resources) {
        const { stack, project } = parseUrn(r.urn);
        const urn = engineUrn(r.urn);
        const parent = r.parent && engineUrn(r.parent);
        const collapse = (a: RecordedAliasSpec): string => {
            let p = a.parentUrn ? engineUrn(a.parentUrn) : parent;
            if (a.parentUrn) p = adopted.get(p!) ?? p;
            if (a.noParent) p = undefined;
            return createUrn(a.name || r.name, a.type || r.type, p, a.project || project, a.stack || stack);
        };
        const own = [...(r.aliases ?? []), ...(r.aliasSpecs ?? []).map(collapse)];
        const aliases = [...own];
        const parentOld = parent && adopted.get(parent);
        if (parentOld) {
            const parentName = parseUrn(parent).name;
            const inherit = (type: string, name: string) => createUrn(
                name.startsWith(parentName) ? parseUrn(parentOld).name + name.slice(parentName.length) : name, type, parentOld, project, stack);
            aliases.push(inherit(r.type, r.name), ...own.map(a => inherit(parseUrn(a).type, parseUrn(a).name)));
        }
        const unique = [...new Set(aliases)].filter(a => a !== urn);
        const found = olds.has(urn) ? urn : unique.find(a => olds.has(a));
        if (found && found !== urn) adopted.set(urn, found);
        out.set(r.urn, { urn, aliases: unique, previous: found });
    }
    return out;
}

function propertyDependenciesOf(req: RegisterResourceRequest): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => {
        const urns = deps.getUrnsList();
        if (urns.length) out[key] = [...urns].sort();
    });
    return out;
}
