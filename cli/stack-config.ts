import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";

export interface LoadedConfig {
    project: string;
    /** Pulumi config as the runtime wants it: `project:key` -> string (objects as JSON). */
    values: Record<string, string>;
    /** Keys whose values are secret (`secure:` in the file, or injected as secret). */
    secretKeys: string[];
    /** Keys whose `secure:` values could not be decrypted here and became placeholders. */
    placeholders: string[];
}

const isSecure = (v: unknown): v is { secure: string } =>
    typeof v === "object" && v !== null && typeof (v as { secure?: unknown }).secure === "string";

function containsSecure(v: unknown): boolean {
    if (isSecure(v)) return true;
    if (Array.isArray(v)) return v.some(containsSecure);
    if (v && typeof v === "object") return Object.values(v).some(containsSecure);
    return false;
}

/** Replace `secure:` leaves with a placeholder naming their path. */
function fillSecure(v: unknown, at: string): unknown {
    if (isSecure(v)) return `synth-placeholder:${at}`;
    if (Array.isArray(v)) return v.map((x, i) => fillSecure(x, `${at}[${i}]`));
    if (v && typeof v === "object") {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillSecure(x, `${at}.${k}`)]));
    }
    return v;
}

/**
 * Read `Pulumi.yaml` and `Pulumi.<stack>.yaml` from `dir`. Encrypted values cannot be read without
 * the stack's secrets provider, so each becomes a placeholder that is itself marked secret: it
 * flows through the program exactly like the real value would and is redacted on output.
 * `overrides` (e.g. from a test) replace values by key, and `secretOverrides` do so as secrets.
 */
export function loadStackConfig(dir: string, stack: string, overrides: Record<string, unknown> = {},
    secretOverrides: Record<string, unknown> = {}): LoadedConfig {
    const projectFile = path.join(dir, "Pulumi.yaml");
    if (!fs.existsSync(projectFile)) throw new Error(`No Pulumi.yaml in ${dir}`);
    const project = String(YAML.parse(fs.readFileSync(projectFile, "utf8")).name);
    const stackFile = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(stackFile)) {
        const known = fs.readdirSync(dir).filter(f => /^Pulumi\.[^.]+\.yaml$/.test(f)).map(f => f.slice(7, -5));
        throw new Error(`No stack "${stack}": ${stackFile} does not exist. Known stacks: ${known.join(", ") || "none"}`);
    }
    const raw = (YAML.parse(fs.readFileSync(stackFile, "utf8"))?.config ?? {}) as Record<string, unknown>;
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    const placeholders: string[] = [];
    const put = (key: string, v: unknown, secret: boolean) => {
        const full = key.includes(":") ? key : `${project}:${key}`;
        values[full] = typeof v === "string" ? v : JSON.stringify(v);
        if (secret && !secretKeys.includes(full)) secretKeys.push(full);
    };
    for (const [k, v] of Object.entries(raw)) {
        const secret = containsSecure(v);
        if (secret) placeholders.push(k);
        put(k, fillSecure(v, k), secret);
    }
    // `a.b.c` sets a path inside the block, as `pulumi config set --path` does.
    const putPath = (key: string, v: unknown, secret: boolean) => {
        const [top, ...rest] = key.split(".");
        if (!rest.length) return put(key, v, secret);
        const full = top!.includes(":") ? top! : `${project}:${top}`;
        const block = values[full] === undefined ? {} : JSON.parse(values[full]!) as unknown;
        put(full, setPath(block, rest, v, key), secret);
    };
    for (const [k, v] of Object.entries(overrides)) putPath(k, v, false);
    for (const [k, v] of Object.entries(secretOverrides)) putPath(k, v, true);
    return { project, values, secretKeys: secretKeys.sort(), placeholders: placeholders.sort() };
}

/** `value` with `v` set at `segments` (numeric segments index lists), creating mappings on the way. */
function setPath(value: unknown, segments: string[], v: unknown, key: string): unknown {
    if (!segments.length) return v;
    const [head, ...rest] = segments;
    if (Array.isArray(value) && /^\d+$/.test(head!)) {
        const copy = [...value];
        copy[Number(head)] = setPath(copy[Number(head)], rest, v, key);
        return copy;
    }
    if (value !== undefined && (typeof value !== "object" || value === null || Array.isArray(value))) {
        throw new Error(`--set ${key}: "${head}" is inside a value that is not a mapping`);
    }
    const obj = { ...(value as Record<string, unknown> | undefined) };
    obj[head!] = setPath(obj[head!], rest, v, key);
    return obj;
}
