// Pure, target-neutral validation and defaults for Gateway. Runs before `super()`, so bad input
// never registers anything. Both targets (Caddy on Docker, App Platform + Cloudflare) are
// generated from the NormalizedGateway this returns, which is what keeps their routes and limits
// in step. What only one target accepts is checked in that target's file (docker.ts, do-app.ts).
import { X509Certificate } from "crypto";
import { requireTarget } from "../core/checks";
import { ErrorContext, invalid, requireInt } from "../core/errors";
import { DO_NAME, isHostname } from "../core/naming";
import type { ServiceEndpoint } from "../core/service";
import { Shape, checkShape, shape } from "../core/shape";
import { checkTransform } from "../core/transform";
import type {
    GatewayAccessLogArgs, GatewayAcmeArgs, GatewayArgs, GatewayCloudflareArgs, GatewayCorsArgs, GatewayImageBuild, GatewayImageBuildArgs, GatewayJwtArgs,
    GatewayOriginLockArgs, GatewayPublicMetricsArgs, GatewayRateLimitArgs, GatewayRouteArgs, GatewaySecurityHeadersArgs, GatewayTransform, GatewayUpstreamArgs,
} from "./args";
import { NormalizedCloudflare, normalizeCloudflare } from "./cloudflare-normalize";
import { JWT_ALGORITHMS, normalizeJwt, NormalizedJwt } from "./jwt";
import { PUBLISHED_CADDY_IMAGE } from "./published-image";

export const DEFAULTS = {
    /** docker/caddy/Dockerfile as the release workflow publishes it: stock Caddy images lack the rate-limit module. */
    image: PUBLISHED_CADDY_IMAGE,
    maxBodySize: "10MB",
    compression: ["zstd", "gzip"] as const,
    localHttpPort: 8080,
    httpPort: 80,
    httpsPort: 443,
    hsts: { maxAgeSeconds: 31_536_000, includeSubDomains: true, preload: false },
    // An API returns JSON, never documents to render or frame: deny everything.
    contentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'",
    frameOptions: "DENY",
    referrerPolicy: "strict-origin-when-cross-origin",
    cors: {
        allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allowHeaders: ["Authorization", "Content-Type", "X-Request-ID"],
        exposeHeaders: ["X-Request-ID"],
        maxAgeSeconds: 600,
        allowCredentials: false,
    },
    upstream: {
        healthInterval: "10s",
        healthTimeout: "5s",
        failDuration: "30s",
        maxFails: 3,
        tryDuration: "5s",
        tryInterval: "250ms",
        dialTimeout: "5s",
        responseHeaderTimeout: "30s",
        healthCheck: "health" as const,
    },
    accessLog: { stdout: true, rollSizeMb: 100, rollKeep: 5, rollKeepDays: 30, sampleHealthChecks: 100 },
    rateLimitKey: "ip",
    /** `wafManagedRuleset` is "none" on the Free plan (the default), "cloudflare" on the paid ones (cloudflare-normalize.ts). */
    cloudflare: { manageZone: true, wafManagedRuleset: "none" as const, plan: "free" as const },
    publicMetrics: { path: "/metrics" },
} as const;

// ---- the Args shape (issue 9): types and known keys, before any meaning --------------------------

type HstsArgs = Exclude<NonNullable<GatewaySecurityHeadersArgs["hsts"]>, false>;

const ROUTE_SHAPE = shape.object<GatewayRouteArgs>({
    pathPrefix: shape.string(undefined, "requests under this path prefix go to the service, e.g. /v1"),
    service: shape.program("the ApiService (a stack file names one of its services; the stack maps the name)"),
    stripPrefix: shape.bool("remove the prefix before proxying"),
    rateLimit: shape.string(undefined, "a zone of rateLimits"),
    jwt: shape.object<GatewayJwtArgs>({
        issuer: shape.string(undefined, "the iss every token must carry"),
        audience: shape.string(undefined, "the aud tokens for this API carry"),
        algorithms: shape.list(shape.string(JWT_ALGORITHMS)),
        jwksUrl: shape.string(undefined, "the issuer's JWKS URL (https)"),
        jwksRefresh: shape.string(undefined, "how often the JWKS is fetched again, e.g. 15m"),
        publicKey: shape.string(undefined, "a PEM public key"),
        hmacSecret: shape.input("a shared HMAC secret of at least 32 bytes (a secret)"),
        forwardClaims: shape.record(shape.string(undefined, "a header name"), "claim name to request header"),
        clockSkew: shape.string(undefined, "leeway for exp/nbf/iat, e.g. 30s"),
    }, [], "JWT validation at the edge (docker)"),
}, ["pathPrefix", "service"]);

const RATE_LIMIT_SHAPE = shape.object<GatewayRateLimitArgs>({
    events: shape.int("requests per window"),
    window: shape.string(undefined, "10s, 1m, 1h..."),
    burst: shape.int("requests allowed at once"),
    key: shape.string(undefined, "ip or header:<Name>"),
}, ["events", "window"]);

const HSTS_SHAPE = shape.object<HstsArgs>({ maxAgeSeconds: shape.int(), includeSubDomains: shape.bool(), preload: shape.bool() });

const SECURITY_HEADERS_SHAPE = shape.object<GatewaySecurityHeadersArgs>({
    hsts: shape.oneOf("an object such as { maxAgeSeconds: 31536000 }, or false", HSTS_SHAPE, shape.bool()),
    contentSecurityPolicy: shape.oneOf("a header value, or false to omit the header", shape.string(), shape.bool()),
    frameOptions: shape.oneOf(`"DENY", "SAMEORIGIN" or false`, shape.string(["DENY", "SAMEORIGIN"]), shape.bool()),
    referrerPolicy: shape.oneOf("a header value, or false to omit the header", shape.string(), shape.bool()),
    stripServer: shape.bool(),
});

const CORS_SHAPE = shape.object<GatewayCorsArgs>({
    allowOrigins: shape.list(shape.string()),
    allowMethods: shape.list(shape.string()),
    allowHeaders: shape.list(shape.string()),
    exposeHeaders: shape.list(shape.string()),
    maxAgeSeconds: shape.int(),
    allowCredentials: shape.bool(),
}, ["allowOrigins"]);

const ACME_SHAPE = shape.object<GatewayAcmeArgs>({
    directory: shape.string(undefined, "the ACME CA's directory URL (https)"),
    caRoot: shape.string(undefined, "PEM of the root(s) the ACME server's HTTPS certificate chains to"),
});

const ACCESS_LOG_SHAPE = shape.object<GatewayAccessLogArgs>({
    stdout: shape.bool(), file: shape.string(),
    redactHeaders: shape.list(shape.string(undefined, "a header name")), redactQuery: shape.list(shape.string(undefined, "a query parameter name")),
    sampleHealthChecks: shape.int("log one in this many successful health checks"),
});

const UPSTREAM_SHAPE = shape.object<GatewayUpstreamArgs>({
    healthInterval: shape.string(), healthTimeout: shape.string(), failDuration: shape.string(), maxFails: shape.int(),
    tryDuration: shape.string(), tryInterval: shape.string(), dialTimeout: shape.string(), responseHeaderTimeout: shape.string(),
    healthCheck: shape.string(["ready", "health"]),
});

const IMAGE_BUILD_SHAPE = shape.object<GatewayImageBuildArgs>({
    args: shape.object<NonNullable<GatewayImageBuildArgs["args"]>>({
        GO_IMAGE: shape.string(undefined, "the Go toolchain image of the build stage"),
        BASE_IMAGE: shape.string(undefined, "the Debian bookworm image Caddy runs on"),
        GOPROXY: shape.string(undefined, "the Go module proxy the build fetches from"),
        GOSUMDB: shape.string(undefined, "the checksum database the modules are checked against"),
    }, [], "build args of the package's docker/caddy/Dockerfile"),
    platform: shape.string(undefined, "e.g. linux/arm64; the engine's own by default"),
});

const IMAGE_SHAPE = shape.oneOf("an image reference, or { build: true } to build the package's Dockerfile on the engine",
    shape.input("a Caddy image reference with the rate-limit module"),
    shape.object<GatewayImageBuild>({
        build: shape.oneOf("true, or { args, platform }", shape.bool(), IMAGE_BUILD_SHAPE),
    }, ["build"]));

const CLOUDFLARE_SHAPE = shape.object<GatewayCloudflareArgs>({
    zoneId: shape.input("the zone's id: 32 hexadecimal digits"),
    accountId: shape.input(),
    manageZone: shape.bool(),
    wafManagedRuleset: shape.string(["cloudflare", "free", "none"]),
    plan: shape.string(["free", "pro", "business", "enterprise"]),
    edgeRateLimits: shape.bool("mirror the rate-limit zones as Cloudflare rules"),
    originIpv4: shape.input("the host's public IPv4 address (docker)"),
    originIpv6: shape.input("the host's public IPv6 address (docker)"),
    proxied: shape.bool("the records go through Cloudflare (false for the first ACME issuance)"),
    originLock: shape.oneOf("true, false, or { clientCa }", shape.bool(),
        shape.object<GatewayOriginLockArgs>({ clientCa: shape.string(undefined, "PEM of the origin-pull CA") })),
    trustedProxies: shape.list(shape.string(), "CIDRs whose CF-Connecting-IP is believed (docker)"),
}, ["zoneId"]);

const PUBLIC_METRICS_SHAPE = shape.object<GatewayPublicMetricsArgs>({
    path: shape.string(undefined, "the path the services serve metrics on"),
    allowWithToken: shape.input("the bearer token that lets a scraper through (a secret)"),
});

/**
 * Every GatewayArgs key with its type, at every depth: `checkShape` runs it first in
 * `normalizeGateway` (unknown keys with a did-you-mean, YAML 1.1 booleans, types before meaning),
 * and `toJsonSchema(GATEWAY_SHAPE)` is the schema of a stack file's `slipway:gateway` block
 * (`target`, `transform` and a route's `service` are the program's: a stack file names services,
 * and the stack maps the names). Meaning (formats, ranges, cross-field rules) stays below.
 */
export const GATEWAY_SHAPE: Shape = shape.object<GatewayArgs>({
    target: shape.program("host.target from a DockerHost, or doAppTarget(...)"),
    routes: shape.list(ROUTE_SHAPE, "path-prefix routes to services, at least one"),
    domains: shape.list(shape.string(), "public hostnames"),
    tls: shape.string(["auto", "internal", "off"]),
    email: shape.string(undefined, "ACME account email"),
    acme: ACME_SHAPE,
    rateLimits: shape.record(RATE_LIMIT_SHAPE, "named rate-limit zones"),
    securityHeaders: SECURITY_HEADERS_SHAPE,
    cors: CORS_SHAPE,
    maxBodySize: shape.string(undefined, "e.g. 10MB"),
    compression: shape.list(shape.string(["zstd", "gzip"])),
    accessLog: shape.oneOf("an object such as { stdout: true }, or false", ACCESS_LOG_SHAPE, shape.bool()),
    upstream: UPSTREAM_SHAPE,
    publishPort: shape.int(),
    publishHttpsPort: shape.int(),
    image: IMAGE_SHAPE,
    cloudflare: CLOUDFLARE_SHAPE,
    publicMetrics: PUBLIC_METRICS_SHAPE,
    transform: shape.program("per child resource, args to merge or a function"),
}, ["target", "routes"]);

export type TlsMode = "auto" | "internal" | "off";
export type Encoding = "zstd" | "gzip";

export type RateLimitKey = { kind: "ip" } | { kind: "header"; header: string };

export interface NormalizedRateLimitZone {
    name: string;
    /** Sustained rate: `events` per `windowMs`. */
    events: number;
    window: string;
    windowMs: number;
    /** Requests allowed at once; `events` when not set. See {@link caddyRateLimit}. */
    burst: number;
    key: RateLimitKey;
    /** Which requests count against this zone (derived from the routes that name it). */
    members: ZoneMember[];
}

/** One route's share of a zone: its prefix, minus longer prefixes that other routes own. */
export interface ZoneMember {
    prefix: string;
    exclude: string[];
}

export interface NormalizedRoute {
    /** Normalized: leading "/", no trailing "/" (except the root route "/"). */
    pathPrefix: string;
    service: ServiceEndpoint;
    stripPrefix: boolean;
    rateLimit?: string;
    /** JWT validation before the proxy (docker only; do-app refuses it). */
    jwt?: NormalizedJwt;
}

export interface NormalizedCors {
    allowOrigins: string[];
    allowMethods: string[];
    allowHeaders: string[];
    exposeHeaders: string[];
    maxAgeSeconds: number;
    allowCredentials: boolean;
}

export interface NormalizedUpstream {
    healthInterval: string;
    healthTimeout: string;
    failDuration: string;
    maxFails: number;
    tryDuration: string;
    tryInterval: string;
    dialTimeout: string;
    responseHeaderTimeout: string;
    healthCheck: "ready" | "health";
}

export interface NormalizedAccessLog {
    stdout: boolean;
    file?: string;
    /** Headers logged as ["REDACTED"] besides those slipway_edge always redacts: sorted, lowercase, no duplicates. */
    redactHeaders: string[];
    /** Query parameters logged as REDACTED besides access_token (slipway_edge always): sorted, lowercase, no duplicates. */
    redactQuery: string[];
    rollSizeMb: number;
    rollKeep: number;
    rollKeepDays: number;
    /** Successful health checks logged one in `logEvery`, at these paths (sorted); absent when every one is logged. */
    healthChecks?: { paths: string[]; logEvery: number };
}

export interface NormalizedPublicMetrics {
    /** Normalized like a route prefix; it and everything below it are refused without the token. */
    path: string;
    /** Whether a token lets requests through (the token itself never enters the normalized gateway). */
    withToken: boolean;
}

/** The ACME CA of tls "auto", when not Caddy's default (Let's Encrypt production, system roots). */
export interface NormalizedAcme {
    /** The directory URL; undefined means Let's Encrypt production. */
    directory?: string;
    /** PEM of the root(s) the ACME server's HTTPS certificate chains to, certificates only, normalized line endings. */
    caRoot?: string;
}

export interface NormalizedGateway {
    name: string;
    /** Longest prefix first: the order both Caddy and App Platform must match in. */
    routes: NormalizedRoute[];
    domains: string[];
    tls: TlsMode;
    email?: string;
    /** Only with tls "auto", and only when `acme` was given. */
    acme?: NormalizedAcme;
    /** Sorted by name. */
    rateLimits: NormalizedRateLimitZone[];
    /** Response headers set on every response, sorted by name. */
    securityHeaders: Record<string, string>;
    stripServerHeader: boolean;
    cors?: NormalizedCors;
    maxBodyBytes: number;
    /** Whether maxBodySize was given (App Platform cannot honour it, so that is an error there). */
    maxBodySizeExplicit: boolean;
    compression: Encoding[];
    accessLog?: NormalizedAccessLog;
    upstream: NormalizedUpstream;
    publishPorts: { http: number; https?: number };
    publicMetrics: NormalizedPublicMetrics;
    /** With `cloudflare`: plan, rules and (docker) the real client address and origin lock. */
    cloudflare?: NormalizedCloudflare;
    production: boolean;
}

const ZONE_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const HEADER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
const METHOD = /^[A-Z]{3,10}$/;
const DURATION = /^(\d+(ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parse a Go-style duration ("250ms", "1m30s") to milliseconds; undefined if malformed. */
export function parseDuration(value: unknown, units: readonly string[] = ["ms", "s", "m", "h"]): number | undefined {
    if (typeof value !== "string" || !DURATION.test(value)) return undefined;
    let total = 0;
    for (const [, n, unit] of value.matchAll(/(\d+)(ms|s|m|h)/g)) {
        if (!units.includes(unit!)) return undefined;
        total += Number(n) * UNIT_MS[unit!]!;
    }
    return total;
}

const SIZE_UNITS: Record<string, number> = {
    "": 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3,
};

/**
 * Parse "10MB" / "512KiB" / "1048576" to bytes. KB/MB/GB are decimal and KiB/MiB/GiB binary,
 * which is how Caddy itself reads `max_size 10MB` in a Caddyfile.
 */
export function parseSize(value: unknown): number | undefined {
    if (typeof value !== "string") return undefined;
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
    if (!m) return undefined;
    const unit = SIZE_UNITS[m[2]!.toUpperCase()];
    if (unit === undefined) return undefined;
    const bytes = Math.round(Number(m[1]) * unit);
    return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Does `path` fall under route prefix `prefix` (segment-wise: "/v1" covers "/v1/x", not "/v10")? */
export function underPrefix(path: string, prefix: string): boolean {
    return prefix === "/" || path === prefix || path.startsWith(prefix + "/");
}

/** `localhost` and `*.localhost`: names that never leave the machine, so no public certificate or DNS. */
export const isLocalHost = (h: string) => h === "localhost" || h.endsWith(".localhost");

/** Every `transform` key, of both targets: a key of the other target is accepted and unused. */
export const TRANSFORM_KEYS = {
    image: true, container: true, loader: true, volume: true, zoneSetting: true, ruleset: true, dnsRecord: true, originPulls: true,
} as const satisfies Record<keyof GatewayTransform, true>;

/**
 * The target-neutral part of a Gateway's validation: what both targets accept, with the defaults
 * both are generated from. It reads nothing of the target but `production`. What only one target
 * accepts is checked after it, by `checkGatewayDocker` (docker.ts) or `checkGatewayDoApp`
 * (do-app.ts); `validateGateway` (index.ts) runs the three in that order.
 */
export function normalizeGateway(name: string, args: GatewayArgs): NormalizedGateway {
    const ctx: ErrorContext = { kind: "Gateway", name };
    if (args === null || typeof args !== "object") invalid(ctx, "args", "no arguments were given", "pass { target, routes }");
    const target = requireTarget(ctx, args.target, "is missing or not a Slipway target", "pass `host.target` from a DockerHost, or doAppTarget(...)");
    // Missing routes are left to normalizeRoutes, whose message shows what a route is; a typo'd key
    // (`route:`) is still reported first, as an unknown key with its did-you-mean.
    checkShape(ctx, GATEWAY_SHAPE, args.routes === undefined ? { ...args, routes: [] } : args);
    checkTransform(ctx, args.transform, Object.keys(TRANSFORM_KEYS));

    const domains = normalizeDomains(ctx, args.domains);
    const tls = normalizeTls(ctx, args.tls, domains);
    const email = normalizeEmail(ctx, args.email, tls);
    const acme = normalizeAcme(ctx, args.acme, tls);
    // Zones first: routes name them, and a zone's members come from the sorted routes.
    const zones = normalizeZones(ctx, args.rateLimits ?? {});
    const routes = normalizeRoutes(ctx, args.routes, zones);
    const rateLimits = zoneMembers(ctx, zones, routes);
    const { headers: securityHeaders, stripServer } = normalizeSecurityHeaders(ctx, args.securityHeaders);
    return {
        name,
        routes,
        domains,
        tls,
        email,
        ...(acme && { acme }),
        rateLimits,
        securityHeaders,
        stripServerHeader: stripServer,
        cors: args.cors === undefined ? undefined : normalizeCors(ctx, args.cors),
        maxBodyBytes: normalizeMaxBodySize(ctx, args.maxBodySize),
        maxBodySizeExplicit: args.maxBodySize !== undefined,
        compression: normalizeCompression(ctx, args.compression),
        accessLog: normalizeAccessLog(ctx, args.accessLog, rateLimits, routes),
        upstream: normalizeUpstream(ctx, args.upstream),
        publishPorts: normalizePublishPorts(ctx, args, tls),
        publicMetrics: normalizePublicMetrics(ctx, args.publicMetrics, target.production),
        ...(args.cloudflare !== undefined && { cloudflare: normalizeCloudflare(ctx, args.cloudflare, rateLimits) }),
        production: target.production,
    };
}

/** Where the Caddy image comes from: a reference to resolve (pull or local), or the package's Dockerfile to build. */
export type GatewayImageSource =
    | { kind: "reference"; ref: Exclude<GatewayArgs["image"], GatewayImageBuild | undefined> }
    | { kind: "build"; args: Record<string, string>; platform?: string };

/** `{ build: ... }`, not a reference (a string, or an Output or promise of one). */
function isImageBuild(image: NonNullable<GatewayArgs["image"]>): image is GatewayImageBuild {
    return typeof image === "object" && image !== null && "build" in image && typeof (image as { apply?: unknown }).apply !== "function";
}

const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;

/**
 * `image` after its shape was checked: the default reference, the given one, or a build of
 * docker/caddy/Dockerfile with its build args. Only the docker target runs Caddy, so only it calls this.
 */
export function normalizeGatewayImage(ctx: ErrorContext, image: GatewayArgs["image"]): GatewayImageSource {
    if (image === undefined) return { kind: "reference", ref: DEFAULTS.image };
    if (!isImageBuild(image)) {
        if (image === "") invalid(ctx, "image", "is empty", `omit it for the published image (${DEFAULTS.image}), or give a reference`);
        return { kind: "reference", ref: image };
    }
    // The type says true; a stack file (or plain JS) can still write false.
    const build = image.build as boolean | GatewayImageBuildArgs;
    if (build === false) {
        invalid(ctx, "image.build", "is false, which builds nothing", `omit image for the published image (${DEFAULTS.image}), or give a reference`);
    }
    const b: GatewayImageBuildArgs = build === true ? {} : build as GatewayImageBuildArgs;
    const args: Record<string, string> = {};
    for (const [k, v] of Object.entries(b.args ?? {})) {
        if (v === undefined) continue;
        if (v.trim() === "") invalid(ctx, `image.build.args.${k}`, "is empty", "omit it to use the Dockerfile's default");
        args[k] = v;
    }
    if (b.platform !== undefined && !PLATFORM.test(b.platform)) {
        invalid(ctx, "image.build.platform", `${JSON.stringify(b.platform)} is not an os/arch platform`, `use e.g. "linux/amd64" or "linux/arm64"`);
    }
    return { kind: "build", args, platform: b.platform };
}

/** RFC 6750's b64token: what may follow "Bearer " in a header, with no `*` (Caddy's header matcher reads it as a wildcard). */
const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;
export const METRICS_TOKEN_LENGTH = { min: 32, max: 512 } as const;

/**
 * What is wrong with a metrics token, or undefined. Never quotes the token. Also run on a secret's
 * value once it is known (index.ts), since a `pulumi.Output` cannot be read here.
 */
export function metricsTokenProblem(token: unknown): string | undefined {
    if (typeof token !== "string") return "is not a string";
    const { min, max } = METRICS_TOKEN_LENGTH;
    if (token.length < min || token.length > max) return `is ${token.length} characters long; a scrape token has ${min} to ${max}`;
    if (!BEARER_TOKEN.test(token)) return "has characters a bearer token cannot carry (letters, digits and - . _ ~ + / only, then = padding)";
    return undefined;
}

export const METRICS_TOKEN_FIX = `generate one, e.g. a random.RandomPassword with { length: 48, special: false }, and pass its result (a secret)`;

/** The public metrics path and whether a token opens it. A plain-text token is refused in production. */
function normalizePublicMetrics(ctx: ErrorContext, a: GatewayArgs["publicMetrics"], production: boolean): NormalizedPublicMetrics {
    const path = a?.path === undefined ? DEFAULTS.publicMetrics.path : normalizePrefix(ctx, "publicMetrics.path", a.path);
    if (path === "/") {
        invalid(ctx, "publicMetrics.path", `"/" would refuse every request without the token`, `use the path the services serve metrics on, e.g. "/metrics"`);
    }
    const token = a?.allowWithToken;
    if (typeof token === "string") {
        const problem = metricsTokenProblem(token);
        if (problem) invalid(ctx, "publicMetrics.allowWithToken", problem, METRICS_TOKEN_FIX);
        if (production) {
            invalid(ctx, "publicMetrics.allowWithToken", "is plain text in a production program, so it would sit in the program or the stack file",
                `pass a secret: a random.RandomPassword's result, pulumi.secret(...), or { secret: <configKey> } in the stack file`);
        }
    }
    return { path, withToken: token !== undefined };
}

/** The TLS mode, defaulted from the domains: "auto" (ACME) for public names, "off" for none or local ones. */
function normalizeTls(ctx: ErrorContext, given: GatewayArgs["tls"], domains: string[]): TlsMode {
    const local = domains.every(isLocalHost);
    const tls: TlsMode = given ?? (local ? "off" : "auto");
    if (!["auto", "internal", "off"].includes(tls)) {
        invalid(ctx, "tls", `${JSON.stringify(tls)} is not a TLS mode`, `use "auto", "internal" or "off"`);
    }
    if (tls === "auto" && local) {
        invalid(ctx, "tls", domains.length === 0
            ? `"auto" needs public domains and none are set`
            : `"auto" cannot get a public certificate for ${domains.join(", ")}`,
        domains.length === 0 ? `add domains, or use tls: "off" for a local gateway` : `use tls: "internal" (local CA) or "off"`);
    }
    if (tls === "internal" && domains.length === 0) {
        invalid(ctx, "tls", `"internal" needs domains to issue certificates for`, `add domains, or use tls: "off"`);
    }
    return tls;
}

function normalizeEmail(ctx: ErrorContext, email: unknown, tls: TlsMode): string | undefined {
    if (email === undefined) return undefined;
    if (typeof email !== "string" || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
        invalid(ctx, "email", `${JSON.stringify(email)} is not an email address`, "use the address ACME should send expiry notices to");
    }
    if (tls !== "auto") invalid(ctx, "email", `is only used by tls "auto" (ACME), but tls is "${tls}"`, "remove email");
    return email;
}

export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

/**
 * Hosts of ACME CAs on the public internet: their challenges come from the internet, so they can
 * never reach a gateway that publishes on loopback only (checkGatewayDocker). Any other directory
 * is taken for a private CA, which may sit on the stack's own network.
 */
export const PUBLIC_ACME_HOSTS = [
    "acme-v02.api.letsencrypt.org", "acme-staging-v02.api.letsencrypt.org", "acme.zerossl.com",
    "dv.acme-v02.api.pki.goog", "dv.acme-v02.test-api.pki.goog", "api.buypass.com", "api.test4.buypass.no", "acme.ssl.com",
] as const;

/** Whether ACME with this directory (undefined: Let's Encrypt) is a public CA's. */
export function isPublicAcme(directory: string | undefined): boolean {
    const host = new URL(directory ?? LETS_ENCRYPT_DIRECTORY).hostname;
    return PUBLIC_ACME_HOSTS.some(h => host === h || host.endsWith(`.${h}`));
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
/** A CA bundle is a few KB; the cap keeps an accidental file (a whole trust store, a log) out of the config. */
const CA_ROOT_MAX_BYTES = 64 * 1024;

function normalizeAcme(ctx: ErrorContext, a: GatewayArgs["acme"], tls: TlsMode): NormalizedAcme | undefined {
    if (a === undefined) return undefined;
    if (tls !== "auto") invalid(ctx, "acme", `is only used by tls "auto" (ACME), but tls is "${tls}"`, `remove acme, or use tls: "auto" with public domains`);
    const out: NormalizedAcme = {};
    if (a.directory !== undefined) out.directory = normalizeDirectory(ctx, a.directory);
    if (a.caRoot !== undefined) out.caRoot = normalizeCaRoot(ctx, a.caRoot);
    return out;
}

function normalizeDirectory(ctx: ErrorContext, directory: string): string {
    const fix = `give the CA's ACME directory URL, e.g. "${LETS_ENCRYPT_DIRECTORY}"`;
    let url: URL;
    try { url = new URL(directory); } catch { return invalid(ctx, "acme.directory", `${JSON.stringify(directory)} is not a URL`, fix); }
    if (url.protocol !== "https:") {
        invalid(ctx, "acme.directory", `${JSON.stringify(directory)} is not https: ACME (RFC 8555) runs over HTTPS only`,
            "use the CA's https:// directory URL; for a private CA, give its root in acme.caRoot");
    }
    if (url.username || url.password || url.hash) {
        invalid(ctx, "acme.directory", "carries credentials or a fragment", "use the plain directory URL; an account needing credentials is not supported yet");
    }
    return directory;
}

/** Certificates only (a private key is refused, never echoed), each a CA certificate that parses. */
function normalizeCaRoot(ctx: ErrorContext, pem: string): string {
    const fix = "give the PEM text of the CA's root certificate(s) (-----BEGIN CERTIFICATE----- ...), e.g. fs.readFileSync(\"root.pem\", \"utf8\")";
    if (Buffer.byteLength(pem) > CA_ROOT_MAX_BYTES) {
        invalid(ctx, "acme.caRoot", `is ${Buffer.byteLength(pem)} bytes; a CA root bundle is a few KB (at most ${CA_ROOT_MAX_BYTES})`, fix);
    }
    const blocks = [...pem.matchAll(PEM_BLOCK)];
    if (blocks.some(b => /PRIVATE KEY/.test(b[1]!))) {
        invalid(ctx, "acme.caRoot", "contains a private key", "remove the key (and rotate it if this file was shared): only the certificate is needed");
    }
    const certs = blocks.filter(b => b[1] === "CERTIFICATE");
    if (certs.length === 0) invalid(ctx, "acme.caRoot", "holds no PEM certificate", fix);
    const out = certs.map((b, i) => {
        const text = `-----BEGIN CERTIFICATE-----\n${b[2]!.replace(/\r\n/g, "\n")}-----END CERTIFICATE-----\n`;
        let cert: X509Certificate;
        try { cert = new X509Certificate(text); } catch (e) {
            return invalid(ctx, "acme.caRoot", `certificate ${i + 1} does not parse (${(e as Error).message})`, fix);
        }
        if (!cert.ca) {
            invalid(ctx, "acme.caRoot", `certificate ${i + 1} (${cert.subject.replace(/\n/g, ", ")}) is not a CA certificate`,
                "give the root (or intermediate) CA that signed the ACME server's certificate, not the server's own certificate");
        }
        return text;
    });
    return out.join("");
}

type Zone = Omit<NormalizedRateLimitZone, "members">;

/** The named rate-limit zones, by name in sorted order (so errors and configs come out the same every run). */
function normalizeZones(ctx: ErrorContext, zoneArgs: GatewayArgs["rateLimits"]): Map<string, Zone> {
    if (zoneArgs === null || typeof zoneArgs !== "object" || Array.isArray(zoneArgs)) {
        invalid(ctx, "rateLimits", "must be an object of named zones", `use e.g. { general: { events: 100, window: "1m" } }`);
    }
    const zones = new Map<string, Zone>();
    for (const zoneName of Object.keys(zoneArgs).sort()) {
        const z = zoneArgs[zoneName]!;
        const path = `rateLimits.${zoneName}`;
        if (!ZONE_NAME.test(zoneName)) {
            invalid(ctx, path, `"${zoneName}" is not a valid zone name`, "use lowercase letters, digits and '_', starting with a letter");
        }
        if (z === null || typeof z !== "object") invalid(ctx, path, "must be an object", `use { events: 100, window: "1m" }`);
        requireInt(ctx, `${path}.events`, z.events, 1, 1_000_000);
        const windowMs = parseDuration(z.window, ["s", "m", "h"]);
        if (windowMs === undefined || windowMs <= 0) {
            invalid(ctx, `${path}.window`, `${JSON.stringify(z.window)} is not a window`,
                `use a positive whole number of seconds, minutes or hours, e.g. "10s", "1m" or "1h"`);
        }
        const burst = z.burst ?? z.events;
        requireInt(ctx, `${path}.burst`, burst, z.events, 1_000_000);
        const key = parseKey(ctx, `${path}.key`, z.key ?? DEFAULTS.rateLimitKey);
        zones.set(zoneName, { name: zoneName, events: z.events, window: z.window, windowMs, burst, key });
    }
    return zones;
}

/** The routes, longest prefix first: the order both Caddy and App Platform must match in. */
function normalizeRoutes(ctx: ErrorContext, routeArgs: GatewayArgs["routes"], zones: Map<string, Zone>): NormalizedRoute[] {
    if (!Array.isArray(routeArgs) || routeArgs.length === 0) {
        invalid(ctx, "routes", "no routes are defined", `add at least one route, e.g. routes: [{ pathPrefix: "/", service: api }]`);
    }
    const seen = new Map<string, number>();
    const routes: NormalizedRoute[] = routeArgs.map((r, i) => {
        const path = `routes[${i}]`;
        if (r === null || typeof r !== "object") invalid(ctx, path, "must be an object", "use { pathPrefix, service }");
        const prefix = normalizePrefix(ctx, `${path}.pathPrefix`, r.pathPrefix);
        const prev = seen.get(prefix);
        if (prev !== undefined) {
            invalid(ctx, `${path}.pathPrefix`, `"${r.pathPrefix}" duplicates routes[${prev}] ("${prefix}" after removing the trailing slash)`,
                "give every route a distinct prefix, or merge the two routes");
        }
        seen.set(prefix, i);
        const service = validateEndpoint(ctx, `${path}.service`, r.service);
        if (r.stripPrefix !== undefined && typeof r.stripPrefix !== "boolean") {
            invalid(ctx, `${path}.stripPrefix`, "must be true or false", "remove it, or set true to drop the prefix before proxying");
        }
        const jwt = r.jwt === undefined ? undefined : normalizeJwt(ctx, `${path}.jwt`, i, prefix, r.jwt);
        if (r.rateLimit !== undefined && !zones.has(r.rateLimit)) {
            const known = [...zones.keys()];
            invalid(ctx, `${path}.rateLimit`, `names the zone ${JSON.stringify(r.rateLimit)}, which rateLimits does not define`,
                known.length ? `use one of ${known.join(", ")}, or add it to rateLimits` : `define it in rateLimits, e.g. rateLimits: { ${r.rateLimit}: { events: 100, window: "1m" } }`);
        }
        return { pathPrefix: prefix, service, stripPrefix: r.stripPrefix ?? false, rateLimit: r.rateLimit, ...(jwt ? { jwt } : {}) };
    });
    return routes.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length || a.pathPrefix.localeCompare(b.pathPrefix));
}

/** Each zone with the requests that count against it; a zone no route names is an error. */
function zoneMembers(ctx: ErrorContext, zones: Map<string, Zone>, routes: NormalizedRoute[]): NormalizedRateLimitZone[] {
    return [...zones.values()].map(z => {
        const members = routes.filter(r => r.rateLimit === z.name).map(r => ({
            prefix: r.pathPrefix,
            // A request under a longer route's prefix belongs to that route (longest match wins).
            exclude: routes.filter(o => o.pathPrefix !== r.pathPrefix && underPrefix(o.pathPrefix, r.pathPrefix))
                .map(o => o.pathPrefix).sort(),
        })).sort((a, b) => a.prefix.localeCompare(b.prefix));
        if (members.length === 0) {
            invalid(ctx, `rateLimits.${z.name}`, "no route uses this zone", `set rateLimit: "${z.name}" on a route, or remove the zone`);
        }
        return { ...z, members };
    });
}

function normalizeMaxBodySize(ctx: ErrorContext, given: string | undefined): number {
    const bytes = parseSize(given ?? DEFAULTS.maxBodySize);
    if (bytes === undefined) {
        invalid(ctx, "maxBodySize", `${JSON.stringify(given)} is not a size`, `use a size such as "10MB", "512KB" or "1MiB"`);
    }
    return bytes;
}

function normalizeCompression(ctx: ErrorContext, given: GatewayArgs["compression"]): Encoding[] {
    const compression = (given ?? [...DEFAULTS.compression]) as Encoding[];
    if (!Array.isArray(compression) || compression.some(c => c !== "zstd" && c !== "gzip") || new Set(compression).size !== compression.length) {
        invalid(ctx, "compression", `${JSON.stringify(given)} is not a list of encodings`, `use ["zstd", "gzip"], ["gzip"] or [] to turn it off`);
    }
    return compression;
}

/** Host ports: 80/443 with TLS, 8080 without (a local gateway should not need root's ports). */
function normalizePublishPorts(ctx: ErrorContext, args: GatewayArgs, tls: TlsMode): NormalizedGateway["publishPorts"] {
    const tlsOn = tls !== "off";
    const http = args.publishPort ?? (tlsOn ? DEFAULTS.httpPort : DEFAULTS.localHttpPort);
    requireInt(ctx, "publishPort", http, 1, 65535);
    let https: number | undefined;
    if (tlsOn) {
        https = requireInt(ctx, "publishHttpsPort", args.publishHttpsPort ?? DEFAULTS.httpsPort, 1, 65535);
        if (https === http) invalid(ctx, "publishHttpsPort", `is the same port as publishPort (${http})`, "publish HTTP and HTTPS on different ports");
    } else if (args.publishHttpsPort !== undefined) {
        invalid(ctx, "publishHttpsPort", `is set but tls is "off"`, "remove publishHttpsPort, or turn TLS on");
    }
    return { http, https };
}

function normalizeDomains(ctx: ErrorContext, domains: unknown): string[] {
    if (domains === undefined) return [];
    if (!Array.isArray(domains)) invalid(ctx, "domains", "must be a list of hostnames", `use e.g. ["api.example.com"]`);
    const out: string[] = [];
    domains.forEach((d, i) => {
        if (typeof d !== "string" || !isHostname(d.toLowerCase()) || d !== d.toLowerCase()) {
            invalid(ctx, `domains[${i}]`, `${JSON.stringify(d)} is not a hostname`,
                `use a lowercase DNS name such as "api.example.com" (no scheme, port, path or wildcard)`);
        }
        if (out.includes(d)) invalid(ctx, `domains[${i}]`, `"${d}" is listed twice`, "list each domain once");
        out.push(d);
    });
    return out;
}

function normalizePrefix(ctx: ErrorContext, path: string, value: unknown): string {
    if (typeof value !== "string" || value.length === 0) {
        invalid(ctx, path, "is empty", `set a path prefix starting with "/", e.g. "/v1/core"`);
    }
    const url = asUrl(value);
    if (url) {
        invalid(ctx, path, `"${value}" is a URL, but a route matches only the path`,
            `write the path "${url.path}" here and put the host "${url.host}" in domains`);
    }
    if (!value.startsWith("/")) {
        invalid(ctx, path, `"${value}" does not start with "/"`, `write it as "/${value}"`);
    }
    if (/[*?[\]{}]/.test(value)) {
        invalid(ctx, path, `"${value}" contains a wildcard or pattern character`,
            `give a plain prefix such as "/v1/core": it already covers everything below it`);
    }
    if (/[\s#%\\]/.test(value) || value.includes("//") || /(^|\/)\.\.?(\/|$)/.test(value)) {
        invalid(ctx, path, `"${value}" is not a clean URL path`, `use segments of letters, digits, '-', '_' and '.', e.g. "/v1/core"`);
    }
    if (value.length > 256) invalid(ctx, path, "is longer than 256 characters", "use a shorter prefix");
    return value.length > 1 ? value.replace(/\/+$/, "") : value;
}

/**
 * `https://api.example.com/v1` or `api.example.com/v1` split into host and path: a host in a
 * prefix would otherwise be "fixed" by a leading slash into a path no request ever has.
 */
function asUrl(value: string): { host: string; path: string } | undefined {
    const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?((?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?)(\/[^?#]*)?(?:[?#].*)?$/i.exec(value);
    const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
    if (!m || (!hasScheme && m[2] === undefined)) return undefined;
    const path = (m[2] ?? "/").replace(/(.)\/+$/, "$1");
    return { host: m[1]!.replace(/:\d+$/, "").toLowerCase(), path };
}

/** The service's endpoint, as both targets read it. Docker also dials `dialHosts`: checkGatewayDocker checks those. */
function validateEndpoint(ctx: ErrorContext, path: string, service: unknown): ServiceEndpoint {
    const e = (service as { endpoint?: ServiceEndpoint } | undefined)?.endpoint;
    if (!e || typeof e !== "object") {
        invalid(ctx, path, "is not a routable service (it has no endpoint)", "pass an ApiService (or any object with an `endpoint`)");
    }
    if (typeof e.name !== "string" || !DO_NAME.test(e.name)) {
        invalid(ctx, `${path}.endpoint.name`, `${JSON.stringify(e.name)} is not a service name`, "use the ApiService's logical name (lowercase, digits, '-')");
    }
    requireInt(ctx, `${path}.endpoint.port`, e.port, 1, 65535);
    requireInt(ctx, `${path}.endpoint.replicas`, e.replicas, 1, 250);
    for (const p of ["healthPath", "readyPath"] as const) {
        if (typeof e[p] !== "string" || !e[p].startsWith("/")) {
            invalid(ctx, `${path}.endpoint.${p}`, `${JSON.stringify(e[p])} is not a path`, `use a path starting with "/", e.g. "/health"`);
        }
    }
    if (!Array.isArray(e.dialHosts)) invalid(ctx, `${path}.endpoint.dialHosts`, "is not a list", "pass the ApiService itself, not a copy of its endpoint");
    return e;
}

function parseKey(ctx: ErrorContext, path: string, key: unknown): RateLimitKey {
    if (key === "ip") return { kind: "ip" };
    if (typeof key === "string" && key.startsWith("header:")) {
        const header = key.slice("header:".length);
        if (HEADER_NAME.test(header)) return { kind: "header", header };
    }
    return invalid(ctx, path, `${JSON.stringify(key)} is not a rate-limit key`, `use "ip" or "header:<Name>", e.g. "header:X-Api-Key"`);
}

function normalizeSecurityHeaders(ctx: ErrorContext, s: GatewayArgs["securityHeaders"]): { headers: Record<string, string>; stripServer: boolean } {
    const a = s ?? {};
    if (typeof a !== "object" || a === null) invalid(ctx, "securityHeaders", "must be an object", "remove it to get the defaults");
    const headers: Record<string, string> = {};
    if (a.hsts !== false) {
        const h = a.hsts ?? {};
        const maxAge = requireInt(ctx, "securityHeaders.hsts.maxAgeSeconds", h.maxAgeSeconds ?? DEFAULTS.hsts.maxAgeSeconds, 0, 63_072_000);
        const preload = h.preload ?? DEFAULTS.hsts.preload;
        const sub = h.includeSubDomains ?? DEFAULTS.hsts.includeSubDomains;
        if (preload && (!sub || maxAge < 31_536_000)) {
            invalid(ctx, "securityHeaders.hsts.preload", "the preload list requires includeSubDomains and a max-age of at least one year",
                "set includeSubDomains: true and maxAgeSeconds >= 31536000, or drop preload");
        }
        headers["Strict-Transport-Security"] = [`max-age=${maxAge}`, sub ? "includeSubDomains" : "", preload ? "preload" : ""].filter(Boolean).join("; ");
    }
    const text = (key: "contentSecurityPolicy" | "referrerPolicy", header: string, dflt: string) => {
        const v = a[key];
        if (v === false) return;
        if (v !== undefined && (typeof v !== "string" || v.trim() === "" || /[\r\n]/.test(v))) {
            invalid(ctx, `securityHeaders.${key}`, `${JSON.stringify(v)} is not a header value`, "give a one-line value, or false to omit the header");
        }
        headers[header] = v ?? dflt;
    };
    text("contentSecurityPolicy", "Content-Security-Policy", DEFAULTS.contentSecurityPolicy);
    text("referrerPolicy", "Referrer-Policy", DEFAULTS.referrerPolicy);
    if (a.frameOptions !== false) {
        const f = a.frameOptions ?? DEFAULTS.frameOptions;
        if (f !== "DENY" && f !== "SAMEORIGIN") invalid(ctx, "securityHeaders.frameOptions", `${JSON.stringify(f)} is not supported`, `use "DENY", "SAMEORIGIN" or false`);
        headers["X-Frame-Options"] = f;
    }
    headers["X-Content-Type-Options"] = "nosniff";
    return { headers: sortKeys(headers), stripServer: a.stripServer ?? true };
}

function normalizeCors(ctx: ErrorContext, c: NonNullable<GatewayArgs["cors"]>): NormalizedCors {
    if (c === null || typeof c !== "object") invalid(ctx, "cors", "must be an object", `use { allowOrigins: ["https://app.example.com"] }`);
    if (!Array.isArray(c.allowOrigins) || c.allowOrigins.length === 0) {
        invalid(ctx, "cors.allowOrigins", "is empty", `list the browser origins that may call the API, e.g. ["https://app.example.com"]`);
    }
    const allowCredentials = c.allowCredentials ?? DEFAULTS.cors.allowCredentials;
    c.allowOrigins.forEach((o, i) => {
        const path = `cors.allowOrigins[${i}]`;
        if (o === "*") {
            if (allowCredentials) {
                invalid(ctx, path, `"*" cannot be combined with allowCredentials (browsers reject it, and it would let any site act as the user)`,
                    "list the exact origins, or set allowCredentials: false");
            }
            if (c.allowOrigins.length > 1) invalid(ctx, path, `"*" already allows every origin`, `use ["*"] alone, or exact origins`);
            return;
        }
        if (!isOrigin(o)) {
            invalid(ctx, path, `${JSON.stringify(o)} is not an origin`,
                `use "https://host[:port]" with no path, or "http://localhost:<port>" for development`);
        }
    });
    const tokens = (key: "allowMethods" | "allowHeaders" | "exposeHeaders", re: RegExp, dflt: readonly string[]) => {
        const v = c[key] ?? [...dflt];
        if (!Array.isArray(v) || v.some(x => typeof x !== "string" || !re.test(x))) {
            invalid(ctx, `cors.${key}`, `${JSON.stringify(v)} is not a list of ${key === "allowMethods" ? "HTTP methods" : "header names"}`,
                key === "allowMethods" ? `use uppercase methods, e.g. ["GET", "POST"]` : `use header names, e.g. ["Content-Type"]`);
        }
        return [...new Set(v)];
    };
    return {
        allowOrigins: [...c.allowOrigins].sort(),
        allowMethods: tokens("allowMethods", METHOD, DEFAULTS.cors.allowMethods),
        allowHeaders: tokens("allowHeaders", HEADER_NAME, DEFAULTS.cors.allowHeaders),
        exposeHeaders: tokens("exposeHeaders", HEADER_NAME, DEFAULTS.cors.exposeHeaders),
        maxAgeSeconds: requireInt(ctx, "cors.maxAgeSeconds", c.maxAgeSeconds ?? DEFAULTS.cors.maxAgeSeconds, 0, 86_400),
        allowCredentials,
    };
}

function isOrigin(o: unknown): boolean {
    if (typeof o !== "string") return false;
    const m = /^(https?):\/\/([^/:?#]+)(?::(\d{1,5}))?$/.exec(o);
    if (!m) return false;
    const [, scheme, host, port] = m;
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return false;
    if (scheme === "http") return host === "localhost" || host === "127.0.0.1";
    return isHostname(host!) && host === host!.toLowerCase();
}

/** Credential headers common enough to redact without being told (slipway_edge always redacts Authorization, Proxy-Authorization, Cookie and Set-Cookie). */
export const REDACTED_BY_DEFAULT = ["Api-Key", "X-Api-Key", "X-Auth-Token"] as const;

/**
 * Query parameters that carry credentials often enough to redact without being told: API keys and
 * tokens in links, OAuth's code and client secret, S3-style presigned URLs (slipway_edge always
 * redacts access_token). A country `code` is hidden too: a log loses a little, never a secret.
 */
export const REDACTED_QUERY_BY_DEFAULT = [
    "api_key", "apikey", "auth", "client_secret", "code", "id_token", "password", "refresh_token", "secret", "sig", "signature", "token",
    "x-amz-credential", "x-amz-security-token", "x-amz-signature",
] as const;

/** A query parameter name as a URL carries it: no separator, space or escape. */
const QUERY_NAME = /^[A-Za-z0-9._~-]+$/;

/** The request headers and query parameters a log hides (lower case, sorted): the defaults, the zones' key headers, and the user's own. */
export interface LogRedaction { headers: string[]; query: string[] }

function logRedaction(zones: readonly NormalizedRateLimitZone[], headers: readonly string[] = [], query: readonly string[] = []): LogRedaction {
    // A header a zone counts requests by identifies the client: a key, as good as a password.
    const keyed = zones.flatMap(z => (z.key.kind === "header" ? [z.key.header] : []));
    return {
        headers: [...new Set([...REDACTED_BY_DEFAULT, ...keyed, ...headers].map(h => h.toLowerCase()))].sort(),
        query: [...new Set([...REDACTED_QUERY_BY_DEFAULT, ...query].map(q => q.toLowerCase()))].sort(),
    };
}

/**
 * What Caddy's runtime log hides in the requests it writes: the access log's lists, or the defaults
 * when the access log is off (a runtime line about a failed request is written either way).
 */
export function runtimeLogRedaction(n: Pick<NormalizedGateway, "accessLog" | "rateLimits">): LogRedaction {
    return n.accessLog ? { headers: n.accessLog.redactHeaders, query: n.accessLog.redactQuery } : logRedaction(n.rateLimits);
}

function normalizeAccessLog(
    ctx: ErrorContext, a: GatewayArgs["accessLog"], zones: readonly NormalizedRateLimitZone[], routes: readonly NormalizedRoute[],
): NormalizedAccessLog | undefined {
    if (a === false) return undefined;
    const v = a ?? {};
    if (typeof v !== "object" || v === null) invalid(ctx, "accessLog", "must be an object or false", "use { stdout: true } or false");
    if (v.file !== undefined) {
        if (typeof v.file !== "string" || !/^\/[A-Za-z0-9._/-]+\/[A-Za-z0-9._-]+$/.test(v.file) || v.file.includes("..")) {
            invalid(ctx, "accessLog.file", `${JSON.stringify(v.file)} is not an absolute file path`, `use e.g. "/var/log/caddy/access.log"`);
        }
    }
    const stdout = v.stdout ?? DEFAULTS.accessLog.stdout;
    if (!stdout && v.file === undefined) invalid(ctx, "accessLog", "logs nowhere (stdout is off and no file is set)", "use accessLog: false to turn logging off");
    const own = v.redactHeaders ?? [];
    if (!Array.isArray(own)) invalid(ctx, "accessLog.redactHeaders", "must be a list of header names", `use e.g. ["X-Partner-Token"]`);
    own.forEach((h, i) => {
        if (typeof h !== "string" || !HEADER_NAME.test(h)) {
            invalid(ctx, `accessLog.redactHeaders[${i}]`, `${JSON.stringify(h)} is not a header name`, `use the name alone, e.g. "X-Partner-Token" (letters, digits and "-")`);
        }
    });
    const query = v.redactQuery ?? [];
    if (!Array.isArray(query)) invalid(ctx, "accessLog.redactQuery", "must be a list of query parameter names", `use e.g. ["partner_key"]`);
    query.forEach((q, i) => {
        if (typeof q !== "string" || !QUERY_NAME.test(q)) {
            invalid(ctx, `accessLog.redactQuery[${i}]`, `${JSON.stringify(q)} is not a query parameter name`, `use the name alone, e.g. "partner_key" for ?partner_key=... (letters, digits, ".", "_", "~" and "-")`);
        }
    });
    const redaction = logRedaction(zones, own, query);
    const logEvery = requireInt(ctx, "accessLog.sampleHealthChecks", v.sampleHealthChecks ?? DEFAULTS.accessLog.sampleHealthChecks, 1, 1_000_000);
    const paths = healthCheckPaths(routes);
    return {
        stdout,
        file: v.file,
        redactHeaders: redaction.headers,
        redactQuery: redaction.query,
        rollSizeMb: DEFAULTS.accessLog.rollSizeMb,
        rollKeep: DEFAULTS.accessLog.rollKeep,
        rollKeepDays: DEFAULTS.accessLog.rollKeepDays,
        ...(logEvery > 1 && paths.length > 0 && { healthChecks: { paths, logEvery } }),
    };
}

/**
 * Where clients reach the services' health and ready endpoints through the gateway: the path itself,
 * or under the route's prefix when the route strips it, if that route is the one serving it (a
 * longer prefix may own the path instead). A route with a token check is left out: its checks are
 * logged whole, and slipway_edge rebuilds a skipped request only from headers no other handler edits.
 */
export function healthCheckPaths(routes: readonly NormalizedRoute[]): string[] {
    const owner = (path: string) => routes.find(r => underPrefix(path, r.pathPrefix)); // longest prefix first
    const paths = new Set<string>();
    for (const r of routes.filter(x => !x.jwt)) {
        for (const p of [r.service.healthPath, r.service.readyPath]) {
            const reached = r.stripPrefix && r.pathPrefix !== "/" ? r.pathPrefix + p : p;
            if (!reached.includes("?") && owner(reached) === r) paths.add(reached);
        }
    }
    return [...paths].sort();
}

function normalizeUpstream(ctx: ErrorContext, u: GatewayArgs["upstream"]): NormalizedUpstream {
    const a = u ?? {};
    const dur = (key: Exclude<keyof NormalizedUpstream, "maxFails" | "healthCheck">): string => {
        const v = a[key] ?? DEFAULTS.upstream[key];
        const ms = parseDuration(v);
        if (ms === undefined || ms <= 0) invalid(ctx, `upstream.${key}`, `${JSON.stringify(v)} is not a duration`, `use e.g. "250ms", "5s" or "1m"`);
        return v;
    };
    const out: NormalizedUpstream = {
        healthInterval: dur("healthInterval"),
        healthTimeout: dur("healthTimeout"),
        failDuration: dur("failDuration"),
        maxFails: requireInt(ctx, "upstream.maxFails", a.maxFails ?? DEFAULTS.upstream.maxFails, 1, 100),
        tryDuration: dur("tryDuration"),
        tryInterval: dur("tryInterval"),
        dialTimeout: dur("dialTimeout"),
        responseHeaderTimeout: dur("responseHeaderTimeout"),
        healthCheck: a.healthCheck ?? DEFAULTS.upstream.healthCheck,
    };
    if (out.healthCheck !== "ready" && out.healthCheck !== "health") {
        invalid(ctx, "upstream.healthCheck", `${JSON.stringify(out.healthCheck)} is not supported`, `use "ready" or "health"`);
    }
    if (parseDuration(out.healthTimeout)! >= parseDuration(out.healthInterval)!) {
        invalid(ctx, "upstream.healthTimeout", `(${out.healthTimeout}) is not shorter than healthInterval (${out.healthInterval})`,
            "make the timeout shorter than the interval, so checks cannot pile up");
    }
    return out;
}

export function sortKeys<T>(o: Record<string, T>): Record<string, T> {
    return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
