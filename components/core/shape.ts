import { ErrorContext, invalid } from "./errors";

/**
 * The shape of an Args object, written once per component: the validator checks input against
 * it (unknown keys at every depth, with a did-you-mean; types before meaning), and `toJsonSchema`
 * turns it into the schema editors and CI use for `Pulumi.<stack>.yaml`. One source of truth, so
 * the two cannot disagree. Meaning (ranges, formats, cross-field rules) stays in normalize.
 */
export type Shape =
    | { readonly kind: "string"; readonly enum?: readonly string[]; readonly doc?: string }
    /** A string the program may also pass as a `pulumi.Output`, and a stack file as a secret reference. */
    | { readonly kind: "input"; readonly doc?: string }
    | { readonly kind: "number"; readonly integer: boolean; readonly doc?: string }
    | { readonly kind: "boolean"; readonly doc?: string }
    | { readonly kind: "list"; readonly items: Shape; readonly doc?: string }
    | { readonly kind: "object"; readonly props: Readonly<Record<string, Shape>>; readonly required: readonly string[]; readonly doc?: string }
    | { readonly kind: "record"; readonly values: Shape; readonly doc?: string }
    | { readonly kind: "oneOf"; readonly options: readonly Shape[]; readonly doc: string }
    /** Only a program can give it (a target, a component, a function): not in a stack file. */
    | { readonly kind: "program"; readonly doc: string };

/** Every key of `T`, each with its shape: adding an Args field without a shape fails to compile. */
export type PropsOf<T> = { readonly [K in keyof Required<T>]: Shape };

export const shape = {
    string: (e?: readonly string[], doc?: string): Shape => ({ kind: "string", enum: e, doc }),
    input: (doc?: string): Shape => ({ kind: "input", doc }),
    int: (doc?: string): Shape => ({ kind: "number", integer: true, doc }),
    number: (doc?: string): Shape => ({ kind: "number", integer: false, doc }),
    bool: (doc?: string): Shape => ({ kind: "boolean", doc }),
    list: (items: Shape, doc?: string): Shape => ({ kind: "list", items, doc }),
    record: (values: Shape, doc?: string): Shape => ({ kind: "record", values, doc }),
    oneOf: (doc: string, ...options: Shape[]): Shape => ({ kind: "oneOf", options, doc }),
    program: (doc: string): Shape => ({ kind: "program", doc }),
    object<T>(props: PropsOf<T>, required: readonly (keyof T & string)[] = [], doc?: string): Shape {
        return { kind: "object", props, required, doc };
    },
};

/** Values a program passes for an `input`: a plain string, or something Pulumi resolves later. */
function isDeferred(v: unknown): boolean {
    return typeof v === "object" && v !== null && (typeof (v as { apply?: unknown }).apply === "function" || typeof (v as { then?: unknown }).then === "function");
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v) && !isDeferred(v);

/** What a value is, in the words a YAML author uses. */
export function describeValue(v: unknown): string {
    if (v === null) return "null";
    if (Array.isArray(v)) return "a list";
    if (isDeferred(v)) return "a secret or computed value";
    if (typeof v === "object") return "a mapping";
    if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}`;
    return `the ${typeof v} ${JSON.stringify(v)}`;
}

const YAML11_BOOLEANS: Record<string, boolean> = { yes: true, no: false, on: true, off: false, y: true, n: false, true: true, false: false };

/** Edit distance, for did-you-mean on keys. */
export function distance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
        }
    }
    return d[a.length]![b.length]!;
}

/** The known key closest to `key`, when it is close enough to be a typo. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestD = Infinity;
    for (const k of known) {
        const dist = distance(key, k);
        if (dist < bestD) { best = k; bestD = dist; }
    }
    return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/** The fix for a key that is not a known setting. */
export function unknownKeyFix(key: string, known: readonly string[]): string {
    const near = didYouMean(key, known);
    return near ? `did you mean "${near}"? (known: ${known.join(", ")})` : `remove it; the known settings are ${known.join(", ") || "(none)"}`;
}

const join = (path: string, key: string | number) =>
    typeof key === "number" ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/**
 * Check `value` against `s`, throwing the first problem as a SlipwayConfigError of `ctx` at its
 * property path. Undefined optional values pass; meaning is left to the caller.
 */
export function checkShape(ctx: ErrorContext, s: Shape, value: unknown, path = ""): void {
    if (value === undefined) return;
    const where = path || "(args)";
    const bad = (what: string, fix: string): never => invalid(ctx, where, `must be ${what}, got ${describeValue(value)}`, fix);
    switch (s.kind) {
        case "program": return;
        case "string":
            if (typeof value === "number") return bad("a string", `quote it: "${value}"`);
            if (typeof value !== "string") return bad("a string", s.enum ? `use one of ${s.enum.join(", ")}` : "write it as text");
            return;
        case "input":
            if (typeof value === "number") return bad("a string", `quote it: "${value}"`);
            if (typeof value !== "string" && !isDeferred(value)) return bad("a string", "write it as text, or as a reference such as { secret: <configKey> }");
            return;
        case "number":
            if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return bad("a number", `write it without quotes: ${value}`);
            // Infinity is a number: its meaning (e.g. "no +Inf bucket") is the caller's to judge.
            if (typeof value !== "number" || Number.isNaN(value)) return bad(s.integer ? "a whole number" : "a number", "write a number, e.g. 3");
            return;
        case "boolean":
            if (typeof value === "string" && value.toLowerCase() in YAML11_BOOLEANS) {
                return invalid(ctx, where, `is the string ${JSON.stringify(value)}, not a boolean (YAML 1.2 reads yes/no/on/off as text)`,
                    `write ${YAML11_BOOLEANS[value.toLowerCase()]}`);
            }
            if (typeof value !== "boolean") return bad("true or false", "write true or false");
            return;
        case "list":
            if (!Array.isArray(value)) {
                const one = typeof value === "string" || typeof value === "number" ? `[${value}]` : "a list, one \"- item\" per line";
                return bad("a list", `write ${one}`);
            }
            value.forEach((v, i) => checkShape(ctx, s.items, v, join(path, i)));
            return;
        case "record":
            if (!isMapping(value)) return bad("a mapping", "write it as key: value pairs");
            for (const [k, v] of Object.entries(value)) checkShape(ctx, s.values, v, join(path, k));
            return;
        case "object":
            return checkObject(ctx, s, value, path);
        case "oneOf": {
            const problems: string[] = [];
            for (const o of s.options) {
                try { checkShape(ctx, o, value, path); return; } catch (e) { problems.push(String(e)); }
            }
            // A mapping that is nearly one of the options says which key is wrong rather than "none matched".
            const objects = s.options.filter(o => o.kind === "object");
            if (isMapping(value) && objects.length === 1) return checkObject(ctx, objects[0] as Extract<Shape, { kind: "object" }>, value, path);
            return bad(s.doc, `write ${s.doc}`);
        }
    }
}

function checkObject(ctx: ErrorContext, s: Extract<Shape, { kind: "object" }>, value: unknown, path: string): void {
    if (!isMapping(value)) {
        return invalid(ctx, path || "(args)", `must be a mapping, got ${describeValue(value)}`, "write it as key: value pairs");
    }
    const known = Object.keys(s.props);
    for (const k of Object.keys(value)) {
        if (!(k in s.props)) invalid(ctx, join(path, k), "is not a known setting", unknownKeyFix(k, known));
    }
    for (const k of s.required) {
        if (value[k] === undefined) invalid(ctx, join(path, k), "is missing", `add ${k}`);
    }
    for (const [k, sub] of Object.entries(s.props)) checkShape(ctx, sub, value[k], join(path, k));
}

/** A `{ secret: <configKey> }` or `{ env: <VAR> }` reference, as a stack file writes a secret. */
export const SECRET_REF_SCHEMA = {
    oneOf: [
        { type: "object", properties: { secret: { type: "string", description: "a `pulumi config set --secret` key" } }, required: ["secret"], additionalProperties: false },
        { type: "object", properties: { env: { type: "string", description: "an environment variable of the deploying shell" } }, required: ["env"], additionalProperties: false },
    ],
};

/** JSON Schema (draft 2020-12 subset) of what a stack file may write for `s`. */
export function toJsonSchema(s: Shape): Record<string, unknown> | undefined {
    const doc = s.doc ? { description: s.doc } : {};
    switch (s.kind) {
        case "program": return undefined;
        case "string": return { type: "string", ...(s.enum && { enum: [...s.enum] }), ...doc };
        case "input": return { anyOf: [{ type: "string" }, SECRET_REF_SCHEMA], ...doc };
        case "number": return { type: s.integer ? "integer" : "number", ...doc };
        case "boolean": return { type: "boolean", ...doc };
        case "list": return { type: "array", items: toJsonSchema(s.items) ?? {}, ...doc };
        case "record": return { type: "object", additionalProperties: toJsonSchema(s.values) ?? {}, ...doc };
        case "oneOf": return { anyOf: s.options.map(toJsonSchema).filter(x => x !== undefined), ...doc };
        case "object": {
            const properties: Record<string, unknown> = {};
            for (const [k, sub] of Object.entries(s.props)) {
                const j = toJsonSchema(sub);
                if (j) properties[k] = j;
            }
            const required = s.required.filter(k => k in properties);
            return { type: "object", properties, additionalProperties: false, ...(required.length && { required }), ...doc };
        }
    }
}
