/**
 * How Pulumi encodes special values in `pulumi preview --json` and in `--event-log` files, and how
 * we print them. The one rule that matters: the content of a secret is never read into a string.
 */

/** Key that marks a special value (secret, asset, archive, ...) in serialized Pulumi state. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
/** Pulumi's placeholder for a value that is computed during the update. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The wording we print for {@link UNKNOWN}; Terraform's, because reviewers already know it. */
export const UNKNOWN_TEXT = "(known after apply)";
export const SECRET_TEXT = "[secret]";

/**
 * True for a secret in any of its serialized forms: the signature object (state files, event
 * logs; its `plaintext`/`ciphertext` field is never looked at) or the `"[secret]"` string that the
 * preview digest substitutes.
 */
export function isSecret(v: unknown): boolean {
    if (v === SECRET_TEXT) return true;
    return isObject(v) && v[SIG_KEY] === SECRET_SIG;
}

/** True when `v` is, or contains anywhere, a secret. */
export function containsSecret(v: unknown): boolean {
    if (isSecret(v)) return true;
    if (Array.isArray(v)) return v.some(containsSecret);
    if (isObject(v)) return Object.values(v).some(containsSecret);
    return false;
}

export function isUnknown(v: unknown): boolean {
    return v === UNKNOWN;
}

export function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A short, single-line, secret-free rendering of a value for a Markdown code span. Objects and
 * arrays are summarised rather than dumped: a PR comment is the wrong place for a whole document,
 * and summarising means nothing nested can leak.
 */
export function shortValue(v: unknown, max = 60): string {
    if (isSecret(v)) return SECRET_TEXT;
    if (v === undefined) return "(none)";
    if (v === null) return "null";
    if (typeof v === "string") {
        if (v === UNKNOWN) return UNKNOWN_TEXT;
        const s = v.split(UNKNOWN).join(UNKNOWN_TEXT);
        const oneLine = s.replace(/\s+/g, " ");
        return JSON.stringify(oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine);
    }
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    if (Array.isArray(v)) return `[${v.length} item${v.length === 1 ? "" : "s"}]`;
    if (isObject(v)) {
        const sig = v[SIG_KEY];
        if (sig === ASSET_SIG) return "(asset)";
        if (sig === ARCHIVE_SIG) return "(archive)";
        if (sig !== undefined) return "(special value)";
        const n = Object.keys(v).length;
        return `{${n} key${n === 1 ? "" : "s"}}`;
    }
    return "(value)";
}

/**
 * Pulumi property paths as they appear in `detailedDiff` keys: `a.b[0].c`, `tags["x.y"]`.
 * Returns the segments, or undefined when the path does not parse (we then fall back to its first
 * identifier).
 */
export function parsePropertyPath(path: string): Array<string | number> | undefined {
    const out: Array<string | number> = [];
    let i = 0;
    const ident = /^[^.[\]]+/;
    while (i < path.length) {
        const rest = path.slice(i);
        if (rest.startsWith("[")) {
            const num = /^\[(\d+)\]/.exec(rest);
            const quoted = /^\["((?:[^"\\]|\\.)*)"\]/.exec(rest);
            if (num) { out.push(Number(num[1])); i += num[0].length; }
            else if (quoted) { out.push(JSON.parse(`"${quoted[1]}"`) as string); i += quoted[0].length; }
            else return undefined;
        } else if (rest.startsWith(".")) {
            if (out.length === 0) return undefined;
            i += 1;
        } else {
            const m = ident.exec(rest);
            if (!m) return undefined;
            out.push(m[0]);
            i += m[0].length;
        }
    }
    return out.length > 0 ? out : undefined;
}

/** The top-level property a diff path belongs to (`volumes[0].volumeName` -> `volumes`). */
export function topLevelKey(path: string): string {
    const p = parsePropertyPath(path);
    const first = p?.[0];
    return typeof first === "string" ? first : path;
}

/**
 * Walk `path` into `root`. Stops (and returns what it reached) at a secret, so a secret anywhere on
 * the way counts as "the value is secret" and nothing beneath it is opened.
 */
export function valueAt(root: unknown, path: Array<string | number>): unknown {
    let cur: unknown = root;
    for (const seg of path) {
        if (isSecret(cur)) return cur;
        if (typeof seg === "number" && Array.isArray(cur)) cur = cur[seg];
        else if (typeof seg === "string" && isObject(cur)) cur = cur[seg];
        else return undefined;
    }
    return cur;
}

/**
 * The prefix of `path` at which a secret hides the value from view, when that secret is an
 * ancestor of the value rather than the value itself (`spec.services` held as one secret hides
 * `spec.services[0].image.tag`). Undefined when no ancestor is secret.
 */
export function secretAncestor(root: unknown, path: Array<string | number>): Array<string | number> | undefined {
    let cur: unknown = root;
    for (let i = 0; i < path.length; i++) {
        if (isSecret(cur)) return i > 0 ? path.slice(0, i) : undefined;
        const seg = path[i];
        if (typeof seg === "number" && Array.isArray(cur)) cur = cur[seg];
        else if (typeof seg === "string" && isObject(cur)) cur = cur[seg];
        else return undefined;
    }
    return undefined;
}

/** A property path written as in `detailedDiff` keys: `spec.services[0]`, `tags["a.b"]`. */
export function formatPropertyPath(path: Array<string | number>): string {
    return path.map((seg, i) => (typeof seg === "number" ? `[${seg}]`
        : /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(seg) ? `${i > 0 ? "." : ""}${seg}` : `[${JSON.stringify(seg)}]`)).join("");
}

/**
 * Remove terminal control: ANSI escape sequences (CSI, OSC, DCS/PM/APC strings and two-byte
 * forms, in their 7-bit and 8-bit C1 spellings), Pulumi's own colour directives (`<{%fg 1%}>`,
 * `<{%reset%}>`, used when an event log was written with color "raw"), every other C0 control
 * except newline and tab, DEL, the C1 range, and the Unicode bidirectional controls (which can
 * make a name read differently from what it is). `\r\n` and a lone `\r` become `\n`.
 * Applied to every string that reaches the Markdown (see redact.ts, sanitizePreview).
 */
export function stripColour(s: string): string {
    /* eslint-disable no-control-regex -- matching terminal control sequences is the point */
    return s
        // String sequences: OSC (ESC ] / 0x9d), DCS (ESC P / 0x90), PM (ESC ^ / 0x9e), APC (ESC _ / 0x9f),
        // ended by BEL, ST (ESC \) or the 8-bit ST (0x9c).
        .replace(/(?:\u001b[\]P^_]|[\u0090\u009d\u009e\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)/g, "")
        // CSI (ESC [ / 0x9b) with parameters.
        .replace(/(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]/g, "")
        // Other escapes (nF such as ESC ( B, Fp/Fe/Fs such as ESC 7), and a lone ESC.
        .replace(/\u001b(?:[ -/]*[0-~])?/g, "")
        /* eslint-enable no-control-regex */
        .replace(/<\{%[^%]*%\}>/g, "")
        .replace(/\r\n?/g, "\n")
        // eslint-disable-next-line no-control-regex
        .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "");
}

/** A Markdown code span that survives backticks in the text (and stays on one line). */
export function code(s: string): string {
    const clean = s.replace(/[\r\n]+/g, " ");
    const runs = clean.match(/`+/g) ?? [];
    const fence = "`".repeat(Math.max(0, ...runs.map(r => r.length)) + 1);
    const pad = clean.startsWith("`") || clean.endsWith("`") ? " " : "";
    return `${fence}${pad}${clean}${pad}${fence}`;
}
