import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { SlipwayConfigError } from "../components/core/errors";

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
    const project = String((readYamlFile(projectFile) as { name?: unknown } | null)?.name);
    const stackFile = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(stackFile)) {
        const known = fs.readdirSync(dir).filter(f => /^Pulumi\.[^.]+\.yaml$/.test(f)).map(f => f.slice(7, -5));
        throw new Error(`No stack "${stack}": ${stackFile} does not exist. Known stacks: ${known.join(", ") || "none"}`);
    }
    const raw = ((readYamlFile(stackFile) as { config?: unknown } | null)?.config ?? {}) as Record<string, unknown>;
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

/** What to say for the YAML mistakes people make by hand; anything else gets the parser's own words. */
function yamlProblem(code: string, message: string, lineText: string): { problem: string; fix: string } {
    const key = /^\s*(?:- )?(.+?):(?:\s|$)/.exec(lineText)?.[1];
    if (code === "DUPLICATE_KEY") {
        return {
            problem: `${key ? `key ${JSON.stringify(key)}` : "a key"} appears twice in the same mapping`,
            fix: "keep one of them (Pulumi refuses a file with duplicate keys)",
        };
    }
    if (code === "TAB_AS_INDENT") {
        return { problem: "the line is indented with a tab", fix: "indent with spaces; YAML does not allow tabs for indentation" };
    }
    const said = message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    return { problem: `invalid YAML (${said})`, fix: "correct the YAML at that line" };
}

/**
 * Parse a Pulumi YAML file; a syntax mistake becomes one {@link SlipwayConfigError} line naming
 * file, line, problem and fix, instead of the parser's stack trace.
 */
export function readYamlFile(file: string): unknown {
    const text = fs.readFileSync(file, "utf8");
    const doc = YAML.parseDocument(text, { prettyErrors: true });
    const first = doc.errors[0];
    if (!first) return doc.toJS();
    const line = first.linePos?.[0].line ?? text.slice(0, first.pos[0]).split("\n").length;
    const { problem, fix } = yamlProblem(first.code, first.message, text.split("\n")[line - 1] ?? "");
    throw new SlipwayConfigError(path.relative(process.cwd(), file) || file, `line ${line}`, problem, fix);
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
