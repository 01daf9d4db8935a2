// The escape hatch of every component (SST's `transform`): per child resource, args to merge over
// the component's, or a function that edits them and the resource options. Target-neutral: the
// per-target keys and SDK types live in each component's docker.ts / do-app.ts / cloudflare*.ts.
import type * as pulumi from "@pulumi/pulumi";
import { ErrorContext, invalid } from "./errors";

/**
 * How a component creates one of its child resources, changed by the caller:
 * - an object: shallow-merged over the args the component built (`{ ...args, ...transform }`);
 * - a function: called with copies of the args and options, which it edits in place (its return
 *   value is ignored). `name` is the child's logical name, to tell several children of one kind
 *   apart; it cannot be changed (it is the resource's identity).
 * @example `{ restart: "always" }`
 * @example `(args, opts) => { args.restart = "always"; opts.ignoreChanges = ["labels"]; }`
 */
export type Transform<Args> = Partial<Args> | ((args: Args, opts: pulumi.CustomResourceOptions, name: string) => void);

/**
 * Apply `t` to what a component is about to pass to `new X(name, args, opts)`, and return the
 * three to spread into it. Without a transform the very same objects come back, so a component
 * without one registers exactly what it always did. The function form gets copies (arrays and
 * plain objects copied all the way down; Outputs, resources and other class instances shared), so
 * an edit never leaks into an object the component shares between children (one env list for
 * every replica, one options object for several volumes).
 */
export function transform<Args extends object>(
    t: Transform<Args> | undefined, name: string, args: Args, opts: pulumi.CustomResourceOptions,
): [string, Args, pulumi.CustomResourceOptions] {
    if (t === undefined) return [name, args, opts];
    // Case: transform is a function
    if (typeof t === "function") {
        const a = copyPlain(args);
        const o = copyPlain(opts);
        t(a, o, name);
        return [name, a, o];
    }
    // Case: transform is args to merge
    return [name, { ...args, ...t } as Args, opts];
}

/** Arrays and plain objects copied recursively; anything else (Outputs, resources, functions) as is. */
function copyPlain<T>(v: T): T {
    if (Array.isArray(v)) return v.map(copyPlain) as T;
    if (isPlainObject(v)) {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = copyPlain(x);
        return out as T;
    }
    return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    if (v === null || typeof v !== "object") return false;
    const proto = Object.getPrototypeOf(v);
    return proto === Object.prototype || proto === null;
}

/**
 * Throws unless `given` is a valid `transform` arg: undefined, or an object whose keys are among
 * `keys` (every target's, so a program moves between targets unchanged) and whose values are
 * objects or functions. Pure; components run it in their normalize step, before anything registers.
 */
export function checkTransform(ctx: ErrorContext, given: unknown, keys: readonly string[]): void {
    if (given === undefined) return;
    const listed = keys.join(", ");
    if (!isRecord(given)) {
        invalid(ctx, "transform", `must be an object keyed by child resource, got ${kindOf(given)}`,
            `pass e.g. { ${keys[0]}: { ... } } with keys among ${listed}, or leave transform out`);
    }
    for (const [key, value] of Object.entries(given)) {
        if (!keys.includes(key)) {
            invalid(ctx, `transform.${key}`, `${JSON.stringify(key)} is not a child resource ${ctx.kind} creates`, `use one of ${listed}`);
        }
        if (value !== undefined && typeof value !== "function" && !isRecord(value)) {
            invalid(ctx, `transform.${key}`, `must be args to merge (an object) or a function (args, opts, name) => void, got ${kindOf(value)}`,
                `pass e.g. { ${key}: { ... } } or { ${key}: (args, opts) => { ... } }`);
        }
    }
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

function kindOf(v: unknown): string {
    if (v === null) return "null";
    if (Array.isArray(v)) return "an array";
    return typeof v === "string" ? `the string ${JSON.stringify(v)}` : `${typeof v} ${String(v)}`;
}
