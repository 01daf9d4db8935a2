/**
 * Redaction by meaning. Pulumi wraps the values it knows are secret, and the digest prints those
 * as `"[secret]"`; but a provider input that was never marked secret (`password: "hunter2"`, an
 * `envs` entry `STRIPE_SECRET_KEY=sk_live_...`, a connection string in an error message) arrives
 * in clear text. This module is the one place that recognises such values, by the name they are
 * stored under and by their shape, and replaces them with `[secret]`:
 *
 * - keys named like credentials ({@link isCredentialKey}): the whole value;
 * - keys named like URLs (`DATABASE_URL`, `redisUri`, `SENTRY_DSN`; {@link isUrlKey}): the userinfo
 *   of a URL in the value (`postgres://[secret]@db`), which there is a user name, a token or both;
 * - name/value pairs whose name is credential-named (`{key: "API_TOKEN", value}`,
 *   `{file: "/run/secrets/DB_PASSWORD", content}`, `{type: "SECRET", value}` in an App Platform
 *   spec) and `KEY=value` strings (Docker `envs`): the value;
 * - shapes, anywhere in any string ({@link redactText}): URLs with a password
 *   (`scheme://user:[secret]@host`), `Bearer` and `Basic` credentials, `key=value` and
 *   `"key": "value"` with a credential-named key, PEM private keys, JWTs, and the token formats
 *   of Stripe, GitHub, Slack, AWS, New Relic, DigitalOcean, Google, SendGrid and npm.
 *
 * - fields the providers' own schemas call secret (provider-secrets.ts, generated from the
 *   installed SDKs by scripts/gen-provider-secrets.ts): a resource type's secret properties, and
 *   entries typed `secret_text` (a Cloudflare Workers binding's `text`, a Pages env var's `value`),
 *   whatever their names, even when the preview shows them in plain text.
 *
 * It is deliberately conservative the other way too: image tags, host names, URLs without a
 * password, `*_FILE` paths, `secretName`-style references, ids and hashes stay readable.
 *
 * {@link sanitizePreview} applies this, together with control-character stripping, to everything
 * in a {@link Preview} that can reach the comment; renderPreviewComment calls it first.
 */
import { CREDENTIAL_SHAPES, isCredentialKey, isUrlKey } from "../../components/core/credentials";
export { CREDENTIAL_SHAPES, isCredentialKey, isUrlKey };
import { Diagnostic, Preview, PropertyDiff, ResourceState, Step } from "./model";
import { SECRET_TEXT, UNKNOWN, isObject, isSecret, stripColour } from "./values";
import { PROVIDER_SECRETS } from "./provider-secrets";

const S = SECRET_TEXT;

/** Each known shape, with what a match becomes: `[secret]`, or as the shape says (a Slack webhook keeps its host). */
const SHAPES = CREDENTIAL_SHAPES.map(c => ({ ...c, replace: c.replace?.replace(/\{SECRET\}/g, S) }));

/** `scheme://user:password@` (also `redis://:password@`). */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/)([^/\s:@?#[\]]*):([^/\s@?#]+)@/gi;
/** `scheme://anything@`: the whole userinfo, for values stored under a URL-named key. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@?#]+@/gi;
const BEARER = /\b(Bearer)(\s+)([0-9A-Za-z._~+/-]+=*)/gi;
const BASIC = /\b(Basic)(\s+)([0-9A-Za-z+/]{8,}={0,2})(?![0-9A-Za-z+/=])/g;
/** `"password": "..."` / `'token': '...'` (JSON, Python reprs in provider errors). */
const QUOTED_PAIR = /(["'])([A-Za-z_][A-Za-z0-9_.-]*)\1(\s*:\s*)(["'])((?:(?!\4)[^\\]|\\.)*)\4/g;
/** `password=...` in a query string, a libpq DSN, a command line, a `;`-separated connection string. */
const EQ_PAIR = /(^|[^A-Za-z0-9_.])([A-Za-z_][A-Za-z0-9_.-]*)=(\[secret\]|"(?:[^"\\]|\\.)*"|'[^']*'|[^\s&;,'")\]}]+)/g;
/** An HTTP-header-like line `X-Api-Key: ...`. */
const HEADER_LINE = /^([ \t]*)([A-Za-z][A-Za-z0-9-]*)(:[ \t]+)(\S.*)$/gm;

/** A token after `Bearer` is redacted when it looks like one (has a digit, or is long), so prose ("a Bearer token") survives. */
const looksLikeToken = (t: string) => (t.length >= 8 && /\d/.test(t)) || t.length >= 20;

function basicCredentials(b64: string): boolean {
    const decoded = Buffer.from(b64, "base64").toString("utf8");
    return decoded.includes(":") && /^[\x20-\x7e]+$/.test(decoded);
}

const quote = (v: string) => (/^["']/.test(v) ? `${v[0]}${S}${v[0]}` : S);

/**
 * Replace credentials found by shape in free text (diagnostics, strings anywhere in a value).
 * Idempotent: redacting twice gives the same text.
 */
export function redactText(text: string): string {
    let s = text;
    for (const shape of SHAPES) s = s.replace(shape.pattern, shape.replace ?? S);
    s = s.replace(URL_PASSWORD, `$1$2:${S}@`);
    s = s.replace(BEARER, (m, word: string, sp: string, token: string) => (looksLikeToken(token) ? `${word}${sp}${S}` : m));
    s = s.replace(BASIC, (m, word: string, sp: string, b64: string) => (basicCredentials(b64) ? `${word}${sp}${S}` : m));
    s = s.replace(QUOTED_PAIR, (m, q: string, key: string, sep: string, vq: string, value: string) => {
        if (value === "" || value === S) return m;
        if (isCredentialKey(key)) return `${q}${key}${q}${sep}${vq}${S}${vq}`;
        if (isUrlKey(key)) return `${q}${key}${q}${sep}${vq}${value.replace(URL_USERINFO, `$1${S}@`)}${vq}`;
        return m;
    });
    s = s.replace(EQ_PAIR, (m, pre: string, key: string, value: string) => {
        if (isCredentialKey(key) && value !== S) return `${pre}${key}=${quote(value)}`;
        if (isUrlKey(key)) return `${pre}${key}=${value.replace(URL_USERINFO, `$1${S}@`)}`;
        return m;
    });
    s = s.replace(HEADER_LINE, (m, indent: string, name: string, sep: string, value: string) =>
        (isCredentialKey(name) && !value.includes(S) ? `${indent}${name}${sep}${S}` : m));
    return s;
}

/** How a value is to be treated because of where it is stored. */
type Context = "credential" | "url" | undefined;

const keyContext = (name: string): Context => (isCredentialKey(name) ? "credential" : isUrlKey(name) ? "url" : undefined);

/** Fields of a name/value pair object that hold the value, and those that name it. */
const PAIR_VALUES = new Set(["value", "content", "contents", "data"]);
const PAIR_NAMES = ["key", "name", "file", "path", "env", "variable"];

/** Entries whose `type` makes them secret in a provider's schema, and the fields holding the secret. */
const SECRET_TYPES = new Set(PROVIDER_SECRETS.typedSecrets.types);
const TYPED_SECRET_FIELDS = new Set(PROVIDER_SECRETS.typedSecrets.fields);
/** Per resource type, the properties its provider's schema marks secret. */
const SECRET_PROPERTIES: Readonly<Record<string, readonly string[]>> = PROVIDER_SECRETS.properties;

const secretTyped = (o: Record<string, unknown>) =>
    typeof o.type === "string" && (o.type.toUpperCase() === "SECRET" || SECRET_TYPES.has(o.type));

/** The context a pair object's value field gets from its sibling name (`{key: "API_TOKEN", value}`). */
function pairContext(o: Record<string, unknown>): Context {
    if (secretTyped(o)) return "credential";
    for (const f of PAIR_NAMES) {
        const n = o[f];
        if (typeof n !== "string") continue;
        const ctx = keyContext(n.split("/").pop() ?? n);
        if (ctx) return ctx;
    }
    return undefined;
}

/** An env-style `NAME=value` string: the value by the name's meaning, then by shape. */
function redactString(raw: string, ctx: Context): string {
    const s = stripColour(raw);
    if (ctx === "credential") return s === "" || s === UNKNOWN || s === S ? s : S;
    const env = /^([A-Za-z_][A-Za-z0-9_.-]*)=([\s\S]*)$/.exec(s);
    if (env && env[2] !== "") {
        const [, name = "", value = ""] = env;
        if (isCredentialKey(name)) return `${name}=${S}`;
        if (isUrlKey(name)) return `${name}=${redactText(value).replace(URL_USERINFO, `$1${S}@`)}`;
    }
    const r = redactText(s);
    return ctx === "url" ? r.replace(URL_USERINFO, `$1${S}@`) : r;
}

/**
 * A copy of `v` with credentials replaced by `[secret]` and control characters stripped from
 * every string and key. Secrets Pulumi wrapped become the `[secret]` string, so no plaintext or
 * ciphertext survives. Booleans and nulls are kept even under a credential-named key.
 */
export function redactValue(v: unknown, ctx?: Context): unknown {
    if (isSecret(v)) return S;
    if (typeof v === "string") return redactString(v, ctx);
    if (typeof v === "number") return ctx === "credential" ? S : v;
    if (Array.isArray(v)) return v.map(x => redactValue(x, ctx));
    if (isObject(v)) {
        const pair = pairContext(v);
        const typed = secretTyped(v);
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) {
            const key = stripColour(k);
            const own = keyContext(key) ?? (PAIR_VALUES.has(key) || (typed && TYPED_SECRET_FIELDS.has(key)) ? pair : undefined);
            out[key] = redactValue(x, ctx === "credential" ? ctx : own ?? ctx);
        }
        return out;
    }
    return v;
}

const text = (s: string) => redactText(stripColour(s));
const opt = (s: unknown) => (typeof s === "string" ? stripColour(s) : undefined);

/** `props` with the properties `type`'s provider schema marks secret in credential context. */
function redactProperties(type: string | undefined, props: Record<string, unknown>): Record<string, unknown> {
    const secret = new Set(SECRET_PROPERTIES[type ?? ""] ?? []);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(props)) out[stripColour(k)] = redactValue(v, secret.has(k) ? "credential" : undefined);
    // A second pass for what the object as a whole says (a top-level `{type: "SECRET", value}`); idempotent.
    return redactValue(out) as Record<string, unknown>;
}

function state(st: ResourceState | undefined, stepType: string): ResourceState | undefined {
    if (!st) return undefined;
    const type = typeof st.type === "string" ? st.type : stepType;
    const inputs = isObject(st.inputs) ? redactProperties(type, st.inputs) : undefined;
    const outputs = isObject(st.outputs) ? redactProperties(type, st.outputs) : undefined;
    return {
        type: opt(st.type), urn: opt(st.urn), custom: st.custom === true, id: opt(st.id), parent: opt(st.parent),
        protect: st.protect === true, retainOnDelete: st.retainOnDelete === true, inputs, outputs,
        ...(Array.isArray(st.dependencies) ? { dependencies: st.dependencies.filter((d): d is string => typeof d === "string").map(stripColour) } : {}),
    };
}

function step(s: Step): Step {
    let detailedDiff: Record<string, PropertyDiff> | null = null;
    if (s.detailedDiff) {
        detailedDiff = {};
        for (const [path, d] of Object.entries(s.detailedDiff)) detailedDiff[stripColour(path)] = { kind: stripColour(d.kind), inputDiff: d.inputDiff };
    }
    return {
        op: stripColour(s.op), urn: stripColour(s.urn), type: stripColour(s.type),
        old: state(s.old, s.type), new: state(s.new, s.type),
        diffReasons: s.diffReasons.map(stripColour), replaceReasons: s.replaceReasons.map(stripColour),
        detailedDiff, ...(s.failed ? { failed: true } : {}), ...(s.deleteFirst ? { deleteFirst: true } : {}),
    };
}

const diagnostic = (d: Diagnostic): Diagnostic => ({ severity: stripColour(d.severity), urn: opt(d.urn), message: text(d.message) });

/**
 * Everything of a preview that can reach the comment, with control characters stripped and
 * credentials redacted: URNs, types, names, property paths, values (old and new, inputs and
 * outputs), diagnostics and notes. Fields the comment does not use are dropped. Idempotent.
 */
export function sanitizePreview(p: Preview): Preview {
    const changeSummary = p.changeSummary
        ? Object.fromEntries(Object.entries(p.changeSummary).map(([op, n]) => [stripColour(op), n])) : undefined;
    return {
        steps: p.steps.map(step),
        diagnostics: p.diagnostics.map(diagnostic),
        ...(changeSummary ? { changeSummary } : {}),
        ...(p.engineResult !== undefined ? { engineResult: stripColour(p.engineResult) } : {}),
        maybeCorrupt: p.maybeCorrupt,
        ...(p.incomplete ? { incomplete: p.incomplete.map(text) } : {}),
    };
}
