// JWT validation at the edge (seed: "JWT validation at the gateway"): a route's `jwt` block,
// validated here (pure: normalize.ts calls it before anything registers) and turned into the
// `slipway_jwt` handler of Slipway's Caddy module (docker/caddy/jwtauth). The HMAC secret never
// enters the normalized gateway or the Caddy JSON: the config names a file, which docker.ts uploads.
import { createHash, createPublicKey, KeyObject } from "crypto";
import { ErrorContext, invalid } from "../core/errors";
import type { GatewayJwtAlgorithm, GatewayJwtArgs } from "./args";

/** Every algorithm the module verifies; `none` is not one of them, on purpose. */
export const JWT_ALGORITHMS = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512",
] as const satisfies readonly GatewayJwtAlgorithm[];

export const JWT_DEFAULTS = {
    /** How often Caddy fetches the JWKS again; a new `kid` also fetches it (at most every 30 s). */
    jwksRefresh: "15m",
    jwksAlgorithms: ["RS256", "ES256"] as GatewayJwtAlgorithm[],
    hmacAlgorithms: ["HS256"] as GatewayJwtAlgorithm[],
    clockSkew: "30s",
    forwardClaims: { sub: "X-User-Id" } as Record<string, string>,
    /** Where the docker target mounts the HMAC secrets (the project's secret files). */
    secretDir: "/run/secrets",
} as const;

/** RFC 7518 3.2: an HS256 key at least as long as the hash. */
export const MIN_HMAC_SECRET_BYTES = 32;

export type NormalizedJwtKeys =
    | { kind: "jwks"; url: string; refresh: string }
    | { kind: "publicKey"; pem: string }
    /** `secretName` is the file under the secret directory; `routeIndex` points at the route as written (args.routes). */
    | { kind: "hmac"; secretName: string; routeIndex: number };

export interface NormalizedJwt {
    /** Not checked when undefined (only with an HMAC secret). */
    issuer?: string;
    audience?: string;
    /** Sorted. */
    algorithms: GatewayJwtAlgorithm[];
    keys: NormalizedJwtKeys;
    /** Claim → header, sorted by claim. */
    forwardClaims: Record<string, string>;
    clockSkew: string;
}

// Headers the gateway, the proxy or HTTP itself own: a claim must not overwrite them.
const RESERVED_HEADERS = new Set([
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer", "trailers",
    "transfer-encoding", "upgrade", "host", "authorization", "content-length", "content-type", "content-encoding", "cookie",
    "forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "x-request-id", "via",
]);
const HEADER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
const CLAIM_NAME = /^[\x21-\x7e]{1,128}$/;
const PRINTABLE = /^[\x20-\x7e]+$/;
const DURATION = /^(\d+)(s|m|h)$/;

/** Seconds of a "30s" / "15m" / "1h" duration; undefined if malformed. */
function seconds(s: unknown): number | undefined {
    const m = typeof s === "string" ? DURATION.exec(s) : null;
    return m ? Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as "s" | "m" | "h"] : undefined;
}

/**
 * A route's `jwt`, checked: exactly one key source, issuer and audience (optional only with an
 * HMAC secret, which nobody but the issuer and the gateway holds), algorithms that suit it
 * (the key type decides, so HS* only with an HMAC secret), a JWKS URL that is https (or http to a
 * loopback address or a one-label name: a container on the stack's own network), and claim
 * headers the gateway does not own.
 */
export function normalizeJwt(ctx: ErrorContext, path: string, routeIndex: number, prefix: string, j: GatewayJwtArgs): NormalizedJwt {
    const sources = (["jwksUrl", "publicKey", "hmacSecret"] as const).filter(k => j[k] !== undefined);
    if (sources.length !== 1) {
        invalid(ctx, path, sources.length ? `sets ${sources.join(" and ")}; the keys must come from one place` : "has no key source",
            "set exactly one of jwksUrl (the issuer's published keys), publicKey (a PEM public key) or hmacSecret (a shared secret)");
    }
    for (const k of ["issuer", "audience"] as const) {
        const example = k === "issuer" ? `"https://auth.example.com/"` : `"shop-api"`;
        if (j[k] === undefined && sources[0] !== "hmacSecret") {
            // A public key verifies what its issuer minted for every API it serves; iss and aud make a token this route's.
            invalid(ctx, `${path}.${k}`, `is required with ${sources[0]}: the issuer's keys also sign tokens meant for other APIs`,
                `set it to the "${k === "issuer" ? "iss" : "aud"}" your tokens carry for this API, e.g. ${example}`);
        }
        if (j[k] !== undefined && (typeof j[k] !== "string" || !PRINTABLE.test(j[k]) || j[k].trim() !== j[k])) {
            invalid(ctx, `${path}.${k}`, `must be a non-empty string without control characters or surrounding spaces, got ${JSON.stringify(j[k])}`,
                `set it to the "${k === "issuer" ? "iss" : "aud"}" your tokens carry, e.g. ${example}`);
        }
    }
    const keys = normalizeKeys(ctx, path, routeIndex, prefix, j);
    const algorithms = normalizeAlgorithms(ctx, `${path}.algorithms`, j.algorithms, keys, j.publicKey);
    const clockSkew = j.clockSkew ?? JWT_DEFAULTS.clockSkew;
    const skew = seconds(clockSkew);
    if (skew === undefined || skew > 300) {
        invalid(ctx, `${path}.clockSkew`, `${JSON.stringify(j.clockSkew)} is not a leeway up to 5m`, `use a whole number of seconds or minutes up to 5m, e.g. "30s" or "0s"`);
    }
    return { issuer: j.issuer, audience: j.audience, algorithms, keys, forwardClaims: normalizeForwardClaims(ctx, `${path}.forwardClaims`, j.forwardClaims), clockSkew };
}

function normalizeKeys(ctx: ErrorContext, path: string, routeIndex: number, prefix: string, j: GatewayJwtArgs): NormalizedJwtKeys {
    if (j.jwksUrl !== undefined) {
        checkJwksUrl(ctx, `${path}.jwksUrl`, j.jwksUrl);
        const refresh = j.jwksRefresh ?? JWT_DEFAULTS.jwksRefresh;
        const s = seconds(refresh);
        if (s === undefined || s < 1 || s > 86_400) {
            invalid(ctx, `${path}.jwksRefresh`, `${JSON.stringify(j.jwksRefresh)} is not a refresh period from 1s to 24h`, `use e.g. "15m" or "1h"`);
        }
        return { kind: "jwks", url: j.jwksUrl, refresh };
    }
    if (j.jwksRefresh !== undefined) invalid(ctx, `${path}.jwksRefresh`, "only applies to jwksUrl", "remove jwksRefresh, or publish the keys at a jwksUrl");
    if (j.publicKey !== undefined) {
        publicKeyObject(ctx, `${path}.publicKey`, j.publicKey);
        return { kind: "publicKey", pem: j.publicKey.replace(/\r\n/g, "\n").trim() + "\n" };
    }
    if (typeof j.hmacSecret === "string" && Buffer.byteLength(j.hmacSecret.replace(/[\r\n]+$/, "")) < MIN_HMAC_SECRET_BYTES) {
        invalid(ctx, `${path}.hmacSecret`, `is shorter than ${MIN_HMAC_SECRET_BYTES} bytes, which RFC 7518 requires for HS256`,
            "use a random secret of at least 32 bytes, e.g. `openssl rand -base64 48`, kept in a Pulumi secret");
    }
    return { kind: "hmac", secretName: jwtSecretName(prefix), routeIndex };
}

/** The secret file's name for a route: a hash of its prefix, so it is stable and the same on every run. */
export function jwtSecretName(prefix: string): string {
    return `JWT_SECRET_${createHash("sha256").update(prefix).digest("hex").slice(0, 12).toUpperCase()}`;
}

function checkJwksUrl(ctx: ErrorContext, path: string, url: string): void {
    let u: URL | undefined;
    try { u = new URL(url); } catch { /* reported below */ }
    if (!u || (u.protocol !== "https:" && u.protocol !== "http:") || u.username || u.password || u.hash) {
        invalid(ctx, path, `${JSON.stringify(url)} is not an https URL`, `use the issuer's JWKS URL, e.g. "https://auth.example.com/.well-known/jwks.json"`);
    }
    const host = u.hostname.replace(/^\[|\]$/g, "");
    const local = host === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(host) || host === "::1" || /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i.test(host) && !/^\d+$/.test(host);
    if (u.protocol === "http:" && !local) {
        invalid(ctx, path, `fetches the signing keys over plain http from ${host}, where anyone on the way could replace them`,
            "use https; plain http is allowed only to a loopback address or a container on the stack's own network (a one-label name such as http://auth:8080/jwks)");
    }
}

function publicKeyObject(ctx: ErrorContext, path: string, pem: unknown): KeyObject {
    if (typeof pem !== "string" || !/-----BEGIN (RSA )?PUBLIC KEY-----/.test(pem)) {
        const priv = typeof pem === "string" && /PRIVATE KEY-----/.test(pem);
        invalid(ctx, path, priv ? "holds a private key, which would be a secret in the config" : "is not a PEM public key",
            priv ? "give its public half (`openssl pkey -in key.pem -pubout`); the gateway only verifies" : "paste the issuer's PEM public key (-----BEGIN PUBLIC KEY-----), or use jwksUrl");
    }
    if (/PRIVATE KEY-----/.test(pem)) invalid(ctx, path, "holds a private key next to the public one", "keep only the -----BEGIN PUBLIC KEY----- block");
    try {
        return createPublicKey(pem);
    } catch (e) {
        return invalid(ctx, path, `does not parse as a public key (${(e as Error).message})`, "paste the whole PEM block, with its BEGIN and END lines");
    }
}

/** The algorithms a static public key verifies: its type and curve decide. */
function algorithmsOf(key: KeyObject): GatewayJwtAlgorithm[] {
    switch (key.asymmetricKeyType) {
        case "rsa": return ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
        case "rsa-pss": return ["PS256", "PS384", "PS512"];
        case "ed25519": return ["EdDSA"];
        case "ec": {
            const curve = key.asymmetricKeyDetails?.namedCurve;
            return curve === "prime256v1" ? ["ES256"] : curve === "secp384r1" ? ["ES384"] : curve === "secp521r1" ? ["ES512"] : [];
        }
        default: return [];
    }
}

function normalizeAlgorithms(ctx: ErrorContext, path: string, given: GatewayJwtArgs["algorithms"], keys: NormalizedJwtKeys, pem: string | undefined): GatewayJwtAlgorithm[] {
    let suitable: readonly GatewayJwtAlgorithm[];
    let fallback: GatewayJwtAlgorithm[];
    if (keys.kind === "hmac") {
        suitable = JWT_ALGORITHMS.filter(a => a.startsWith("HS"));
        fallback = JWT_DEFAULTS.hmacAlgorithms;
    } else if (keys.kind === "jwks") {
        suitable = JWT_ALGORITHMS.filter(a => !a.startsWith("HS"));
        fallback = JWT_DEFAULTS.jwksAlgorithms;
    } else {
        const key = createPublicKey(pem!);
        suitable = algorithmsOf(key);
        if (suitable.length === 0) {
            invalid(ctx, path.replace(/algorithms$/, "publicKey"), `is a ${key.asymmetricKeyType} key, which JWTs are not signed with here`, "use an RSA, EC (P-256, P-384, P-521) or Ed25519 key");
        }
        fallback = [suitable[0]!];
    }
    const algs = given ?? fallback;
    if (!Array.isArray(algs) || algs.length === 0) invalid(ctx, path, "is empty", `list the algorithms your issuer signs with, e.g. ["${fallback[0]}"]`);
    for (const [i, a] of algs.entries()) {
        if (!(JWT_ALGORITHMS as readonly string[]).includes(a)) {
            invalid(ctx, `${path}[${i}]`, `${JSON.stringify(a)} is not a supported algorithm${(a as string) === "none" ? " (unsigned tokens are never accepted)" : ""}`, `use one of ${suitable.join(", ")}`);
        }
        if (!suitable.includes(a)) {
            invalid(ctx, `${path}[${i}]`, `${a} does not suit the key source (${keys.kind === "hmac" ? "an HMAC secret verifies HS* only" : keys.kind === "jwks" ? "HS* would need a shared secret, never a published key" : "the public key's type decides"})`,
                `use ${suitable.join(", ")}`);
        }
    }
    if (new Set(algs).size !== algs.length) invalid(ctx, path, "lists an algorithm twice", "list each algorithm once");
    return [...algs].sort();
}

function normalizeForwardClaims(ctx: ErrorContext, path: string, given: Record<string, string> | undefined): Record<string, string> {
    const claims = given ?? JWT_DEFAULTS.forwardClaims;
    if (claims === null || typeof claims !== "object" || Array.isArray(claims)) {
        invalid(ctx, path, "must map claim names to header names", `use e.g. { sub: "X-User-Id" }`);
    }
    const seen = new Map<string, string>();
    for (const claim of Object.keys(claims).sort()) {
        const header = claims[claim];
        if (!CLAIM_NAME.test(claim)) invalid(ctx, `${path}.${claim}`, `${JSON.stringify(claim)} is not a claim name`, "use the claim's name as it appears in the token, e.g. sub");
        if (typeof header !== "string" || !HEADER_NAME.test(header)) {
            invalid(ctx, `${path}.${claim}`, `${JSON.stringify(header)} is not a header name`, `use letters, digits and '-', e.g. "X-User-Id"`);
        }
        if (RESERVED_HEADERS.has(header.toLowerCase())) {
            invalid(ctx, `${path}.${claim}`, `${header} is a header that HTTP or the gateway itself sets`, `forward the claim in a header of its own, e.g. "X-User-Id"`);
        }
        const dup = seen.get(header.toLowerCase());
        if (dup !== undefined) invalid(ctx, `${path}.${claim}`, `forwards into ${header}, as ${dup} does`, "give each claim its own header");
        seen.set(header.toLowerCase(), claim);
    }
    return Object.fromEntries(Object.keys(claims).sort().map(c => [c, claims[c]!]));
}

/** `http.handlers.slipway_jwt` (docker/caddy/jwtauth/jwtauth.go documents each field). */
export interface CaddyJwtAuth {
    handler: "slipway_jwt";
    issuer?: string;
    audience?: string;
    algorithms: string[];
    leeway: string;
    forward_claims?: Record<string, string>;
    jwks_url?: string;
    jwks_refresh?: string;
    public_key_pem?: string;
    hmac_secret_file?: string;
}

/** The `slipway_jwt` handler for one route; `secretDir` holds the HMAC secret files. */
export function jwtHandler(j: NormalizedJwt, secretDir: string = JWT_DEFAULTS.secretDir): CaddyJwtAuth {
    const h: CaddyJwtAuth = { handler: "slipway_jwt", algorithms: j.algorithms, leeway: j.clockSkew };
    if (j.issuer !== undefined) h.issuer = j.issuer;
    if (j.audience !== undefined) h.audience = j.audience;
    if (Object.keys(j.forwardClaims).length) h.forward_claims = j.forwardClaims;
    if (j.keys.kind === "jwks") Object.assign(h, { jwks_url: j.keys.url, jwks_refresh: j.keys.refresh });
    else if (j.keys.kind === "publicKey") h.public_key_pem = j.keys.pem;
    else h.hmac_secret_file = `${secretDir}/${j.keys.secretName}`;
    return h;
}
