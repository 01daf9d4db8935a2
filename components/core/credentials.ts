/**
 * What a credential looks like, by name and by shape: the one list, used wherever a value must be
 * recognised as secret by meaning rather than by its wrapper (plain text in a production stack
 * file; the preview comment's redaction in cli/preview-comment/redact.ts).
 */

/** `STRIPE_SECRET_KEY` -> stripe secret key; `apiKey` -> api key; `PGPASSWORD` -> pgpassword. */
function words(name: string): string[] {
    return name
        .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
        .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
        .toLowerCase()
        .split(/[^a-z0-9]+/)
        .filter(Boolean);
}

/** A last word ending in one of these names the value itself (`password`, `pgpassword`, `clientSecret`, `GITHUB_TOKEN`). */
const SECRET_WORD = /(password|passwd|passphrase|secret|token|apikey|credentials?|authorization)$/;
/** Exact last words with the same meaning (`DB_PASS`, `basic_auth`). */
const SECRET_EXACT = new Set(["pass", "auth"]);
/** `<x>Key` in camelCase is a credential for these `<x>` (an `objectKey` or `sortKey` is not). */
const KEY_QUALIFIERS = new Set([
    "api", "private", "secret", "access", "signing", "encryption", "master", "license", "licence", "auth", "client",
    "session", "shared", "hmac", "webhook", "deploy", "account", "admin", "service", "app", "application",
    "ingest", "insert", "write", "rest", "server", "sdk", "integration", "stripe", "sentry",
]);
/** `<X>_KEY` in an environment variable is a credential except for these `<X>`. */
const NOT_KEY_QUALIFIERS = new Set(["public", "primary", "foreign", "sort", "partition", "cache", "routing", "idempotency", "object", "host", "kms", "lookup", "hash"]);
/** Last words that say the value is about a credential rather than the credential (`privateKeyFile`). */
const ABOUT_WORDS = new Set(["file", "path", "name", "id", "arn", "ref", "version", "type", "length", "size", "algorithm", "format", "ttl", "url", "uri"]);

/**
 * True when a property, variable or header name says its value is a credential: `password`,
 * `DB_PASSWORD`, `PGPASSWORD`, `apiKey`, `api_key`, `STRIPE_SECRET_KEY`, `privateKeyPem`,
 * `client_secret`, `GITHUB_TOKEN`, `Authorization`, `credentials`. Not: `POSTGRES_PASSWORD_FILE`,
 * `secretName`, `tokenUrl`, `maxTokens`, `publicKey`, `PUBLIC_KEY`, `sortKey`, `key`.
 */
export function isCredentialKey(name: string): boolean {
    const w = words(name);
    const last = w[w.length - 1];
    if (!last) return false;
    if (SECRET_WORD.test(last) || SECRET_EXACT.has(last)) return true;
    if (last === "key" && w.length > 1) {
        const prev = w[w.length - 2] ?? "";
        const envStyle = /^[A-Z0-9_]+$/.test(name) && name.includes("_");
        if (envStyle ? !NOT_KEY_QUALIFIERS.has(prev) : KEY_QUALIFIERS.has(prev)) return true;
    }
    // `privateKeyPem`, `PRIVATE_KEY_DATA`, but not `private_key_file`.
    const at = w.findIndex((x, i) => x === "private" && w[i + 1] === "key");
    return at >= 0 && !ABOUT_WORDS.has(last);
}

/** True for names of URL-valued settings whose userinfo is a credential: `DATABASE_URL`, `redisUri`, `SENTRY_DSN`, `connectionString`. */
export function isUrlKey(name: string): boolean {
    const w = words(name);
    const last = w[w.length - 1] ?? "";
    return /(url|uri|dsn)$/.test(last) || (last === "string" && w[w.length - 2] === "connection");
}

/** Known shapes of live keys and tokens (global patterns); `replace` keeps a frame around `{SECRET}`. */
export const CREDENTIAL_SHAPES: ReadonlyArray<{ name: string; pattern: RegExp; replace?: string }> = [
    // The whole block, frame included ("[ ]" keeps the source free of the literal marker scanners look for).
    { name: "PEM private key", pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE[ ]KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE[ ]KEY-----|$)/g },
    { name: "JWT", pattern: /\beyJ[0-9A-Za-z_-]{5,}\.eyJ[0-9A-Za-z_-]{5,}\.[0-9A-Za-z_-]*/g },
    { name: "Stripe key", pattern: /\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{8,}/g },
    { name: "Stripe webhook secret", pattern: /\bwhsec_[0-9A-Za-z]{16,}/g },
    { name: "GitHub token", pattern: /\b(?:ghp|gho|ghu|ghs|ghr)_[0-9A-Za-z]{20,}|\bgithub_pat_[0-9A-Za-z_]{20,}/g },
    { name: "Slack token", pattern: /\bxox[abprs]-[0-9A-Za-z-]{10,}/g },
    { name: "Slack webhook", pattern: /(hooks\.slack\.com\/services\/)[0-9A-Za-z/_-]+/g, replace: "$1{SECRET}" },
    { name: "AWS access key id", pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
    { name: "New Relic key", pattern: /\bNRAK-[0-9A-Z]{20,}\b|\b[0-9a-f]{36}NRAL\b/g },
    { name: "DigitalOcean token", pattern: /\bdo[opr]_v1_[0-9a-f]{64}\b/g },
    { name: "Google API key", pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g },
    { name: "SendGrid key", pattern: /\bSG\.[0-9A-Za-z_-]{16,}\.[0-9A-Za-z_-]{16,}/g },
    { name: "npm token", pattern: /\bnpm_[0-9A-Za-z]{36}\b/g },
];


/** `scheme://user:password@` anywhere in a string. */
const URL_WITH_PASSWORD = /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@?#[\]]*:[^/\s@?#]+@/i;

/** The kind of credential `value` looks like, or undefined. */
export function credentialShape(value: string): string | undefined {
    if (URL_WITH_PASSWORD.test(value)) return "a URL with a password";
    const found = CREDENTIAL_SHAPES.find(c => { c.pattern.lastIndex = 0; return c.pattern.test(value); });
    return found && `a ${found.name}`;
}
