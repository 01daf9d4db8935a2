/**
 * What a credential looks like, by name and by shape. One list, used wherever a value must be
 * recognised as secret by meaning rather than by its wrapper: plain text in a production stack
 * file, and the preview comment's redaction.
 */

/** Keys whose value is a credential: `password`, `DB_PASSWORD`, `apiKey`, `STRIPE_SECRET_KEY`, ... */
export const CREDENTIAL_KEY = /(^|[_.-])(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credentials?|auth(orization)?|license[_-]?key)$|^(password|passwd|secret|token|apikey|privatekey|credentials|authorization|licensekey)$|(Password|Secret|Token|ApiKey|PrivateKey|Credentials|LicenseKey)$|_KEY$/i;

/** Known shapes of live keys and tokens. */
export const CREDENTIAL_SHAPES: readonly { name: string; pattern: RegExp }[] = [
    { name: "a Stripe key", pattern: /\b(sk|rk)_(live|test)_[0-9A-Za-z]{8,}/ },
    { name: "a GitHub token", pattern: /\b(ghp|gho|ghu|ghs|ghr)_[0-9A-Za-z]{20,}|\bgithub_pat_[0-9A-Za-z_]{20,}/ },
    { name: "a Slack token", pattern: /\bxox[abprs]-[0-9A-Za-z-]{10,}/ },
    { name: "a Slack webhook", pattern: /hooks\.slack\.com\/services\/[0-9A-Za-z/]+/ },
    { name: "an AWS access key", pattern: /\bAKIA[0-9A-Z]{16}\b/ },
    { name: "a New Relic key", pattern: /\bNRAK-[0-9A-Z]{20,}|\b[0-9a-f]{36}NRAL\b/i },
    { name: "a private key", pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
    { name: "a JWT", pattern: /\beyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}/ },
    { name: "a URL with a password", pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i },
    { name: "a bearer token", pattern: /\bBearer\s+[0-9A-Za-z._~+/=-]{12,}/ },
];

/** The kind of credential `value` looks like, or undefined. */
export function credentialShape(value: string): string | undefined {
    return CREDENTIAL_SHAPES.find(s => s.pattern.test(value))?.name;
}

export function isCredentialKey(key: string): boolean {
    return CREDENTIAL_KEY.test(key);
}
