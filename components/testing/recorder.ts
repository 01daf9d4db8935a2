import * as pulumi from "@pulumi/pulumi";
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
    options: {
        protect: boolean;
        retainOnDelete: boolean;
        deleteBeforeReplace: boolean;
        ignoreChanges: string[];
        replaceOnChanges: string[];
        dependsOn: string[];
        provider?: string;
    };
    /** What a component passed to `registerOutputs`, once it did. */
    outputs?: Record<string, unknown>;
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

    static async start(opts: RecorderOptions = {}): Promise<Recorder> {
        const rec = new Recorder();
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
        }, opts.project ?? "slipway", opts.stack ?? "test", opts.preview ?? false);
        rec.wrapMonitor();
        return rec;
    }

    private wrapMonitor() {
        const monitor = settings.getMonitor();
        const register = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req: any, cb: (err: unknown, resp: any) => void) => {
            register(req, (err: unknown, resp: any) => {
                if (!err && resp) {
                    this.resources.push({
                        urn: resp.getUrn(),
                        type: req.getType(),
                        name: req.getName(),
                        parent: req.getParent() || undefined,
                        custom: req.getCustom(),
                        inputs: rpc.deserializeProperties(req.getObject(), true),
                        options: {
                            protect: req.getProtect() ?? false,
                            retainOnDelete: req.getRetainondelete() ?? false,
                            deleteBeforeReplace: req.getDeletebeforereplace(),
                            ignoreChanges: req.getIgnorechangesList(),
                            replaceOnChanges: req.getReplaceonchangesList(),
                            dependsOn: req.getDependenciesList(),
                            provider: req.getProvider() || undefined,
                        },
                    });
                }
                cb(err, resp);
            });
        };
        const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
        monitor.registerResourceOutputs = (req: any, cb: (err: unknown, resp: any) => void) => {
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
