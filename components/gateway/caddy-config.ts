// Caddy's native JSON, built from typed objects (no Caddyfile, no templates), from the same
// NormalizedGateway that do-app.ts turns into App Platform ingress rules.
//
// The edge server's first route is Slipway's own handler, `slipway_edge` (docker/caddy/edge), in
// front of everything else, unknown hosts included: it gives each request its X-Request-ID (on
// the upstream request and the response) and X-Real-IP (Caddy's `client_ip`, so the Cloudflare
// case needs no other path), sets the security headers on every response over whatever the
// upstream sent and strips Server/Via, counts the request in the gateway's metrics and writes the
// access log line, all with one ResponseWriter wrapper. It also enforces `maxBodySize` before
// anything else runs: a declared Content-Length over it is a 413 without reading the body (an
// upstream that answers without reading would otherwise let a 30 MB body through a 10 MB
// gateway), and a chunked body read past it is a 413 too. It replaces Caddy's access log, Caddy's
// HTTP metrics, a deferred `headers` handler, the proxy's request headers and the body-limit
// routes, which together cost about a quarter of the gateway's throughput.
//
// The edge server's routes after slipway_edge (and, with domains, a JSON 404 for any other host);
// each is non-terminal until the service routes:
//   0. the metrics path (`publicMetrics.path`, default /metrics, and below it): a JSON 404 unless
//      the request carries `Authorization: Bearer <token>` and a token is configured (see
//      `metricsGuard`); the token is read from a file in the config volume, never from this JSON;
//   1. CORS preflight: answered here with 204, never reaches a service (nor the rate limiter);
//   2. CORS response headers for allowed origins;
//   3. rate_limit: one handler, one zone per configured limit, each zone matching exactly the
//      requests its routes own (longest prefix wins, so longer routes are excluded);
//   4. encode: zstd/gzip, wrapping the proxy;
//   5. the service routes, longest prefix first, terminal; a route with `jwt` checks the token
//      first (slipway_jwt, docker/caddy/jwtauth: 401 JSON + WWW-Authenticate, claims as headers);
//   6. 404 JSON for anything else.
// Errors (413, 429, 502...) leave the chain as Go errors: the server's `errors` routes start with
// slipway_edge's finishing instance (the same response headers, the real status in the metrics
// and the log), then the CORS headers, then a small JSON body.
//
// Behind Cloudflare (`cloudflare`), the edge server believes `CF-Connecting-IP` from Cloudflare's
// ranges only and keys, forwards and logs the client address (client-ip.ts), and with the origin
// lock requires Cloudflare's client certificate on HTTPS (origin-lock.ts).
//
// Besides the edge, two internal servers that are never published on the host: `health` (the
// container healthcheck) and `metrics`, the gateway's Prometheus metrics for the stack's network.
import { createHash } from "crypto";
import type { ServiceEndpoint } from "../core/service";
import { NormalizedGateway, NormalizedRateLimitZone, NormalizedRoute, RateLimitKey, runtimeLogRedaction, sortKeys } from "./normalize";
import { CLIENT_IP_HEADER } from "./cloudflare-normalize";
import { CLIENT_IP_PLACEHOLDER, CaddyClientIpFields, REMOTE_HOST_PLACEHOLDER, clientIpServerFields } from "./client-ip";
import { CaddyTlsConnectionPolicy, originLockPolicies } from "./origin-lock";
import { CaddyJwtAuth, jwtHandler } from "./jwt";

// ---- the subset of Caddy's JSON schema this module emits ------------------------------------

export type HeaderMap = Record<string, string[]>;

export interface CaddyMatcherSet {
    host?: string[];
    path?: string[];
    method?: string[];
    header?: HeaderMap;
    header_regexp?: Record<string, { pattern: string }>;
    /** Keys may be a single placeholder (`{file./path}`): matches when it expands to one of the values. */
    vars?: Record<string, string[]>;
    not?: CaddyMatcherSet[];
}

export interface CaddyHeaderOps {
    set?: HeaderMap;
    add?: HeaderMap;
    delete?: string[];
}

export interface CaddyHeadersHandler {
    handler: "headers";
    request?: CaddyHeaderOps;
    response?: CaddyHeaderOps & { deferred?: boolean };
}

export interface CaddyStaticResponse {
    handler: "static_response";
    status_code: number | string;
    headers?: HeaderMap;
    body?: string;
    /** Close the connection after the response (Caddy's own HTTP→HTTPS redirects do). */
    close?: boolean;
}

/** Not generated since slipway_edge (`max_request_body_bytes`); bench/ rebuilds the old config with it. */
export interface CaddyRequestBody {
    handler: "request_body";
    max_size: number;
}

/** Fails the request with a status; the server's `errors` routes write the response. (Not generated since slipway_edge; bench/.) */
export interface CaddyErrorHandler {
    handler: "error";
    status_code: number;
}

export interface CaddyRateLimitZone {
    key: string;
    window: string;
    max_events: number;
    match: CaddyMatcherSet[];
}

/** `http.handlers.rate_limit` from github.com/mholt/caddy-ratelimit (sliding window, no burst field). */
export interface CaddyRateLimit {
    handler: "rate_limit";
    rate_limits: Record<string, CaddyRateLimitZone>;
}

export interface CaddyEncode {
    handler: "encode";
    encodings: { zstd?: Record<string, never>; gzip?: Record<string, never> };
    prefer: string[];
}

export interface CaddyRewrite {
    handler: "rewrite";
    strip_path_prefix: string;
}

export interface CaddyReverseProxy {
    handler: "reverse_proxy";
    upstreams: { dial: string }[];
    load_balancing: {
        selection_policy: { policy: "round_robin" };
        try_duration: string;
        try_interval: string;
    };
    health_checks: {
        active: { uri: string; interval: string; timeout: string; expect_status: number };
        passive: { fail_duration: string; max_fails: number; unhealthy_status: number[] };
    };
    /** Unset by the gateway (slipway_edge sets X-Request-ID and X-Real-IP); kept for configs built around it (bench/). */
    headers?: { request: CaddyHeaderOps };
    transport: { protocol: "http"; dial_timeout: string; response_header_timeout: string; compression: false };
}

/** Unused by the gateway (its chain is the server's own routes); kept for configs built around it (bench/). */
export interface CaddySubroute {
    handler: "subroute";
    routes: CaddyRoute[];
}

/** `http.handlers.metrics`: serves the Prometheus registry of the running config. */
export interface CaddyMetricsHandler {
    handler: "metrics";
}

/** A Caddy log writer module (`caddy.logging.writers.*`): the forms the gateway uses. */
export type CaddyLogWriter =
    | { output: "stdout" | "stderr" }
    | { output: "file"; filename: string; roll_size_mb: number; roll_keep: number; roll_keep_days: number };

/** slipway_edge's access log: JSON lines, buffered, to Caddy's own writer modules. */
export interface CaddyEdgeAccessLog {
    writers: CaddyLogWriter[];
    /** How long a line may wait in the buffer (a Go duration). @default `"250ms"` in the module */
    flush_interval?: string;
    /** @default `65536` in the module */
    buffer_bytes?: number;
    /** Request headers logged as ["REDACTED"], besides Authorization, Proxy-Authorization, Cookie and Set-Cookie (always). */
    redact_headers?: string[];
    /** Query parameters whose values the uri shows as REDACTED, besides access_token (always). */
    redact_query?: string[];
    /** Successful requests to these exact paths are logged one in `log_every` (the line says `"sampled_1_in"`); failed ones always. */
    health_checks?: { paths: string[]; log_every: number };
}

/**
 * `http.handlers.slipway_edge` (docker/caddy/edge), the primary instance: the edge server's first
 * handler. Every field is optional; an absent one turns its part off.
 */
export interface CaddyEdgeHandler {
    handler: "slipway_edge";
    /** Set on the upstream request and the response to a random (version 4) UUID per request, the access log's `request_id`. */
    request_id_header?: string;
    /** Set on the upstream request to Caddy's `client_ip` var (trusted_proxies honoured). */
    client_ip_header?: string;
    /** No X-Forwarded-Host upstream (the request's header set to nil: the proxy's "omit"). */
    omit_forwarded_host?: boolean;
    /** Set on every response, replacing the upstream's values. */
    response_headers?: HeaderMap;
    strip_response_headers?: string[];
    /** 413 for a larger declared body (unread) or a chunked one read past it; before the rest of the chain. */
    max_request_body_bytes?: number;
    /** `slipway_gateway_request_duration_seconds{code,method}` and `slipway_gateway_requests_in_flight`. */
    metrics?: boolean;
    access_log?: CaddyEdgeAccessLog;
    /** The server's error routes start with {@link CaddyEdgeFinish}: errors are left to it. */
    error_routes?: boolean;
}

/** slipway_edge's finishing instance, the first route of the server's `errors.routes` (non-terminal). */
export interface CaddyEdgeFinish {
    handler: "slipway_edge";
    finish: true;
}

export type CaddyHandler =
    | CaddyHeadersHandler | CaddyStaticResponse | CaddyRequestBody | CaddyErrorHandler | CaddyRateLimit
    | CaddyEncode | CaddyRewrite | CaddyReverseProxy | CaddySubroute | CaddyMetricsHandler | CaddyJwtAuth
    | CaddyEdgeHandler | CaddyEdgeFinish;

export interface CaddyRoute {
    match?: CaddyMatcherSet[];
    handle: CaddyHandler[];
    terminal?: boolean;
}

export interface CaddyServer extends Partial<CaddyClientIpFields> {
    listen: string[];
    /** With `cloudflare.originLock` and TLS: client certificates required (origin-lock.ts). */
    tls_connection_policies?: CaddyTlsConnectionPolicy[];
    routes: CaddyRoute[];
    errors?: { routes: CaddyRoute[] };
    /** `disable_redirects`: the Gateway serves its own HTTP→HTTPS redirects (redirectServer), observed by slipway_edge. */
    automatic_https?: { disable?: boolean; disable_redirects?: boolean };
    /** Caddy's own access logger: off in the gateway (slipway_edge logs); kept for configs built around it (bench/). */
    logs?: { default_logger_name: string };
    read_header_timeout?: string;
    idle_timeout?: string;
    /** Caddy puts the TLS handshake before these when TLS is on. */
    listener_wrappers?: { wrapper: "slipway_handoff" }[];
}

/** `caddy.logging.encoders.slipway_deferred` (docker/caddy/edge/deferred.go). */
export interface CaddyDeferredEncoder {
    format: "slipway_deferred";
    wrap: { format: "json" };
    /** Request headers written as ["REDACTED"], besides Authorization, Proxy-Authorization, Cookie and Set-Cookie (always). */
    redact_headers?: string[];
    /** Query parameters whose values a written `uri` shows as REDACTED, besides access_token (always). */
    redact_query?: string[];
}

export interface CaddyLog {
    writer: CaddyLogWriter;
    /** `slipway_deferred` (docker/caddy/edge) encodes a logger's With objects only when it writes. */
    encoder: { format: "json" } | CaddyDeferredEncoder;
    include?: string[];
    exclude?: string[];
}

/** `tls.issuance.acme`: `ca` unset is Let's Encrypt production; `trusted_roots_pem_files` replace the system roots for talking to the CA. */
export interface CaddyAcmeIssuer {
    module: "acme";
    ca?: string;
    email?: string;
    trusted_roots_pem_files?: string[];
}

export interface CaddyTlsApp {
    automation: {
        policies: { subjects: string[]; issuers: (CaddyAcmeIssuer | { module: "internal" })[] }[];
    };
}

/**
 * The admin API on a unix socket only (never TCP), and the active config autosaved, so that a
 * restarted Caddy resumes it (`caddy run --resume`). The bootstrap and the full config carry the
 * same block, so a reload never moves or closes the socket the next reload goes through.
 */
export interface CaddyAdmin {
    listen: `unix/${string}`;
    config: { persist: true };
}

/** Caddy's first config on an empty config volume: the admin socket and the health listener, no routes. */
export interface CaddyBootstrapConfig {
    admin: CaddyAdmin;
    logging: { logs: Record<string, CaddyLog> };
    apps: { http: { grace_period: string; servers: { health: CaddyServer } } };
}

export interface CaddyConfig {
    admin: CaddyAdmin;
    storage: { module: "file_system"; root: string };
    logging: { logs: Record<string, CaddyLog> };
    apps: {
        http: {
            http_port: number;
            https_port: number;
            grace_period: string;
            /**
             * Caddy's own request metrics for every handler of every server (Caddy 2.10: app level).
             * Off in the gateway (slipway_edge counts); kept for configs built around it (bench/).
             */
            metrics?: { per_host?: boolean };
            servers: Record<string, CaddyServer>;
        };
        tls?: CaddyTlsApp;
        pki?: { certificate_authorities: { local: { install_trust: boolean } } };
    };
}

/** Where things live inside the container; tests override them to run Caddy on the host. */
export interface CaddyBuildOptions {
    /** Interface to bind; empty means all (inside the container). @default `""` */
    bindHost?: string;
    /** @default `8080` (unprivileged, so Caddy runs as non-root; Docker maps host 80 to it) */
    httpPort?: number;
    /** @default `8443` */
    httpsPort?: number;
    /** Internal health listener for the container health check. @default `"127.0.0.1:9180"` */
    healthListen?: string;
    /** Internal listener serving the gateway's metrics (the stack's network, never the host). @default `":2020"` */
    metricsListen?: string;
    /** The file holding the public metrics path's bearer token. @default `"/config/secrets/metrics-token"` */
    metricsTokenFile?: string;
    /** Absolute path of the admin API's unix socket. @default `"/config/admin.sock"` */
    adminSocket?: string;
    /** Certificates and ACME state. @default `"/data/caddy"` */
    storageRoot?: string;
    /** Directory of the ACME CA root files (`acme.caRoot`), which the config loader writes. @default `"/config/acme"` */
    acmeCaRootDir?: string;
    /** Directory of the routes' JWT HMAC secret files. @default `"/run/secrets"` */
    jwtSecretDir?: string;
    /** Replace a service's dial addresses (tests point them at a local upstream). */
    dial?: (service: ServiceEndpoint) => string[];
}

export const CONTAINER = {
    httpPort: 8080,
    httpsPort: 8443,
    healthListen: "127.0.0.1:9180",
    healthPath: "/healthz",
    storageRoot: "/data/caddy",
    /** The full config, as the config loader uploads and pushes it. */
    configPath: "/etc/caddy/caddy.json",
    /** What Caddy starts on when its config volume holds no autosave yet. */
    bootstrapPath: "/etc/caddy/bootstrap.json",
    /** XDG_CONFIG_HOME in the image: Caddy autosaves to `<dir>/caddy/autosave.json`. A volume. */
    configDir: "/config",
    /** In the config volume, so the loader reaches it by mounting the volume; no network path exists. */
    adminSocket: "/config/admin.sock",
    /** The gateway's metrics (Caddy's registry), on every interface of the container: reachable as `<gateway>:2020` on the stack's network, published nowhere. */
    metricsPort: 2020,
    /**
     * The public metrics path's bearer token, in the config volume (mode 0400, Caddy's uid). The
     * config loader writes it from its own upload before it pushes, and removes it when no token is
     * set; Caddy reads it per request through a `{file.*}` placeholder, so no config holds it.
     */
    metricsTokenFile: "/config/secrets/metrics-token",
    /** Where the loader receives the token (a secret upload) before copying it into the volume. */
    metricsTokenUpload: "/etc/caddy/metrics-token",
    /**
     * The ACME CA root files (`acme.caRoot`), in the config volume, one per PEM named by its hash
     * (see {@link acmeCaRootFile}): the loader writes the file before it pushes a config naming it,
     * and an autosaved config a restarted Caddy resumes always finds its file there.
     */
    acmeCaRootDir: "/config/acme",
    /** Where the loader receives the CA root before copying it into the config volume. */
    acmeCaRootUpload: "/etc/caddy/acme-ca-root.pem",
} as const;

/**
 * The gateway's request metrics, which slipway_edge registers in Caddy's metrics registry and the
 * internal `metrics` listener serves (`<gateway>:2020`, any path). Each request is observed once,
 * at the edge, with the status the client got, whatever answered it (a service, a refusal of the
 * gateway's, or an error route):
 * - `slipway_gateway_request_duration_seconds{code,method}`, a histogram of the round trip: its
 *   `_count` counts requests by status, so a service that cannot be reached is `code="502"` (or
 *   503 once health checks took it out). `method` is one of the standard methods or `OTHER`, so
 *   clients cannot add series; there is no `host` label for the same reason;
 * - `slipway_gateway_requests_in_flight`, a gauge;
 * - `caddy_reverse_proxy_upstreams_healthy{upstream="api-1:8080"}` (1 or 0), from the proxy.
 * Caddy's own `caddy_http_*` request metrics are off (no `apps.http.metrics`): they cost a
 * ResponseWriter wrapper and several observations per request. Counters restart at zero on every
 * config reload (a new registry per config): `rate()` and `increase()` treat that as a reset.
 */
export const EDGE_METRICS = {
    port: CONTAINER.metricsPort,
    requestDuration: "slipway_gateway_request_duration_seconds",
    inFlight: "slipway_gateway_requests_in_flight",
    /** The status label of the duration histogram. */
    statusLabel: "code",
    /**
     * Buckets (upper bounds, seconds) of the duration histogram, fixed in docker/caddy/edge: the
     * example API's own, so a 0.5 s and a 2 s threshold are both exact bounds.
     */
    durationBuckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10] as readonly number[],
} as const;

/** The scrape address of a docker Gateway's own metrics on the stack's network: its alias (the logical name) and the internal port. */
export function gatewayMetricsTarget(gatewayName: string): string {
    return `${gatewayName}:${CONTAINER.metricsPort}`;
}

/** Reloads drain the old server instances for this long; the same in both configs. */
const GRACE_PERIOD = "10s";

/** How long slipway_edge may hold an access-log line before writing it (also on config unload). */
export const ACCESS_LOG_FLUSH_INTERVAL = "250ms";
const JSON_TYPE = { "Content-Type": ["application/json"] };

/** Path patterns for a prefix: the prefix itself and everything below it, segment-wise. */
export function prefixPatterns(prefix: string): string[] {
    return prefix === "/" ? ["/*"] : [prefix, `${prefix}/*`];
}

/** The dial address of each replica: `host:port` (dialHosts may already carry a port). */
export function dialAddresses(e: ServiceEndpoint): string[] {
    return e.dialHosts.map(h => (h.includes(":") ? h : `${h}:${e.port}`));
}

/**
 * The rate limiter is a sliding window without a burst setting: up to `max_events` requests may
 * arrive at once, then the oldest must leave the window. A zone of `events` per `window` with a
 * larger `burst` keeps its sustained rate and allows the burst by stretching the window:
 * `burst` events per `window × burst / events` (rounded up to the millisecond, so never looser).
 */
export function caddyRateLimit(z: Pick<NormalizedRateLimitZone, "events" | "burst" | "windowMs">): { maxEvents: number; window: string } {
    const ms = Math.ceil((z.windowMs * z.burst) / z.events);
    return { maxEvents: z.burst, window: formatMs(ms) };
}

function formatMs(ms: number): string {
    if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
    if (ms % 60_000 === 0) return `${ms / 60_000}m`;
    if (ms % 1000 === 0) return `${ms / 1000}s`;
    return `${ms}ms`;
}

function keyPlaceholder(k: RateLimitKey, clientIp: string): string {
    return k.kind === "ip" ? clientIp : `{http.request.header.${k.header}}`;
}

/** The client's address: behind Cloudflare, the one its trusted proxies vouch for (client-ip.ts). */
function clientAddress(n: NormalizedGateway): string {
    return n.cloudflare ? CLIENT_IP_PLACEHOLDER : REMOTE_HOST_PLACEHOLDER;
}

function zoneMatch(z: NormalizedRateLimitZone): CaddyMatcherSet[] {
    return z.members.map(m => {
        const set: CaddyMatcherSet = { path: prefixPatterns(m.prefix) };
        if (m.exclude.length) set.not = [{ path: m.exclude.flatMap(prefixPatterns) }];
        return set;
    });
}

/** The headers the gateway owns on the upstream request and the response. */
export const EDGE_HEADERS = { requestId: "X-Request-ID", clientIp: "X-Real-IP" } as const;

/**
 * The primary slipway_edge instance. The client address is always Caddy's `client_ip` var: without
 * trusted proxies it is the connection's address, behind Cloudflare the one its ranges vouch for.
 */
export function edgeHandler(n: NormalizedGateway): CaddyEdgeHandler {
    const response: HeaderMap = {};
    for (const [k, v] of Object.entries(n.securityHeaders)) response[k] = [v];
    const h: CaddyEdgeHandler = {
        handler: "slipway_edge",
        request_id_header: EDGE_HEADERS.requestId,
        client_ip_header: EDGE_HEADERS.clientIp,
        // The proxy passes Host through unchanged, so X-Forwarded-Host only repeated it (or, behind
        // Cloudflare, passed on a client's own value): one header less on every upstream request.
        omit_forwarded_host: true,
        response_headers: sortKeys(response),
        max_request_body_bytes: n.maxBodyBytes,
        metrics: true,
        error_routes: true,
    };
    // The upstream's Date goes (Go's server then stamps its own, as nginx's proxy does): with the
    // security headers and X-Request-ID, keeping it made the response's header map outgrow the
    // eight entries Go keeps in one map group, a larger map twice per response (set, then cloned).
    // reverse_proxy adds `Via: 1.1 Caddy`, which names the software as much as Server does.
    h.strip_response_headers = n.stripServerHeader ? ["Date", "Server", "Via"] : ["Date"];
    if (n.accessLog) {
        h.access_log = { writers: accessLogWriters(n.accessLog), flush_interval: ACCESS_LOG_FLUSH_INTERVAL };
        if (n.accessLog.redactHeaders.length) h.access_log.redact_headers = n.accessLog.redactHeaders;
        if (n.accessLog.redactQuery.length) h.access_log.redact_query = n.accessLog.redactQuery;
        const hc = n.accessLog.healthChecks;
        if (hc) h.access_log.health_checks = { paths: hc.paths, log_every: hc.logEvery };
    }
    return h;
}

/** The access log's destinations: stdout and/or a file Caddy's writer rolls. */
function accessLogWriters(a: NonNullable<NormalizedGateway["accessLog"]>): CaddyLogWriter[] {
    const writers: CaddyLogWriter[] = [];
    if (a.stdout) writers.push({ output: "stdout" });
    if (a.file) writers.push({ output: "file", filename: a.file, roll_size_mb: a.rollSizeMb, roll_keep: a.rollKeep, roll_keep_days: a.rollKeepDays });
    return writers;
}

/** The first error route: finishes what the primary began (headers, metrics, log) for an error answer. */
const EDGE_FINISH: CaddyRoute = { handle: [{ handler: "slipway_edge", finish: true }] };

function corsResponseHeaders(n: NormalizedGateway): HeaderMap {
    const c = n.cors!;
    const wildcard = c.allowOrigins.length === 1 && c.allowOrigins[0] === "*";
    const set: HeaderMap = {
        // Echo the origin only after the matcher checked it against the allow list.
        "Access-Control-Allow-Origin": [wildcard ? "*" : "{http.request.header.Origin}"],
    };
    if (c.allowCredentials) set["Access-Control-Allow-Credentials"] = ["true"];
    if (c.exposeHeaders.length) set["Access-Control-Expose-Headers"] = [c.exposeHeaders.join(", ")];
    return sortKeys(set);
}

function corsRoutes(n: NormalizedGateway, deferred: boolean): CaddyRoute[] {
    if (!n.cors) return [];
    const c = n.cors;
    const origin: HeaderMap = { Origin: c.allowOrigins };
    const paths = n.routes.flatMap(r => prefixPatterns(r.pathPrefix));
    const preflight: CaddyRoute = {
        match: [{ method: ["OPTIONS"], path: paths, header: { "Access-Control-Request-Method": ["*"], ...origin } }],
        handle: [
            {
                handler: "headers",
                response: {
                    set: sortKeys({
                        ...corsResponseHeaders(n),
                        "Access-Control-Allow-Methods": [c.allowMethods.join(", ")],
                        "Access-Control-Allow-Headers": [c.allowHeaders.join(", ")],
                        "Access-Control-Max-Age": [String(c.maxAgeSeconds)],
                    }),
                    add: { Vary: ["Origin"] },
                },
            },
            { handler: "static_response", status_code: 204 },
        ],
        terminal: true,
    };
    const actual: CaddyRoute = {
        match: [{ header: origin }],
        handle: [{ handler: "headers", response: { set: corsResponseHeaders(n), add: { Vary: ["Origin"] }, ...(deferred ? { deferred } : {}) } }],
    };
    return deferred ? [preflight, actual] : [actual];
}

function proxyRoute(n: NormalizedGateway, r: NormalizedRoute, dial: (e: ServiceEndpoint) => string[], jwtSecretDir?: string): CaddyRoute {
    const u = n.upstream;
    // The token is checked before anything else of the route, so a refused request never reaches the service.
    const handle: CaddyHandler[] = r.jwt ? [jwtHandler(r.jwt, jwtSecretDir)] : [];
    if (r.stripPrefix && r.pathPrefix !== "/") handle.push({ handler: "rewrite", strip_path_prefix: r.pathPrefix });
    handle.push({
        handler: "reverse_proxy",
        upstreams: dial(r.service).map(d => ({ dial: d })),
        load_balancing: { selection_policy: { policy: "round_robin" }, try_duration: u.tryDuration, try_interval: u.tryInterval },
        health_checks: {
            active: {
                uri: u.healthCheck === "ready" ? r.service.readyPath : r.service.healthPath,
                interval: u.healthInterval,
                timeout: u.healthTimeout,
                expect_status: 2,
            },
            // Gateway-level failures only: a 500 or a 503 is the app's own answer (a 503 says "my
            // database is down" or "I am draining"), not a dead replica; counting 503s would take
            // every replica out during a shared outage, for failDuration after it ends.
            passive: { fail_duration: u.failDuration, max_fails: u.maxFails, unhealthy_status: [502, 504] },
        },
        // X-Forwarded-For/-Proto are set by reverse_proxy itself (client values are replaced,
        // except from a trusted proxy: behind Cloudflare, its X-Forwarded-For is appended to);
        // X-Real-IP and X-Request-ID by slipway_edge, which also has it send no X-Forwarded-Host.
        // compression: false forwards the client's Accept-Encoding as it came. Go's transport would
        // otherwise ask the service for gzip whenever the client did not, and unzip the answer
        // again here: CPU on both ends to save bytes on a host-local network.
        transport: { protocol: "http", dial_timeout: u.dialTimeout, response_header_timeout: u.responseHeaderTimeout, compression: false },
    });
    return { match: [{ path: prefixPatterns(r.pathPrefix) }], handle, terminal: true };
}

/**
 * With domains: a route that only names them, since automatic HTTPS learns which names to certify
 * from host matchers on a server's own routes, then a JSON 404 for any other host.
 */
function hostRoutes(n: NormalizedGateway): CaddyRoute[] {
    if (!n.domains.length) return [];
    const host: CaddyMatcherSet = { host: [...n.domains].sort() };
    return [{ match: [host], handle: [] }, { ...notFound(), match: [{ not: [host] }] }];
}

function notFound(): CaddyRoute {
    return { handle: [{ handler: "static_response", status_code: 404, headers: JSON_TYPE, body: '{"error":"Not Found"}\n' }], terminal: true };
}

/**
 * The metrics path, refused with the same JSON 404 as an unknown path (so it does not even say it
 * exists), before CORS, rate limits and routing. With a token, a request carrying
 * `Authorization: Bearer <token>` passes on to the routes as any other (the service checks the
 * token again). The token is not in this JSON: `{file.<path>}` reads it per request from the
 * file the config loader writes, so the config, its hash and the autosave hold no secret. A
 * missing or empty file refuses everyone (the second matcher set; Go would also never deliver a
 * header equal to "Bearer " with its trailing space). The header matcher compares with `==` and
 * treats a leading or trailing `*` as a wildcard: tokens are checked to hold neither (normalize.ts).
 * Caddy's path matcher ignores case, so `/METRICS` is refused too.
 */
function metricsGuard(n: NormalizedGateway, tokenFile: string): CaddyRoute {
    const path = prefixPatterns(n.publicMetrics.path);
    const refuse = notFound();
    if (!n.publicMetrics.withToken) return { match: [{ path }], ...refuse };
    const token = `{file.${tokenFile}}`;
    return {
        match: [
            { path, not: [{ header: { Authorization: [`Bearer ${token}`] } }] },
            { path, vars: { [token]: [""] } },
        ],
        ...refuse,
    };
}

/** The admin block both configs share. */
export function caddyAdmin(socket: string = CONTAINER.adminSocket): CaddyAdmin {
    if (!socket.startsWith("/")) throw new Error(`caddyAdmin: the admin socket must be an absolute path, got ${JSON.stringify(socket)}`);
    // "unix/" + "/config/admin.sock" = "unix//config/admin.sock", Caddy's network-address form.
    return { listen: `unix/${socket}`, config: { persist: true } };
}

/** The internal listener the container healthcheck probes; never published. */
function healthServer(listen: string): CaddyServer {
    return {
        listen: [listen],
        routes: [{ match: [{ path: [CONTAINER.healthPath] }], handle: [{ handler: "static_response", status_code: 200, body: "ok\n" }], terminal: true }],
        automatic_https: { disable: true },
    };
}

/**
 * The internal listener that serves Caddy's metrics registry (see {@link EDGE_METRICS}) on any path, so
 * Prometheus's `metrics_path` does not matter. Not published on the host: reachable from the
 * stack's network only, where Prometheus runs.
 */
function metricsServer(listen: string): CaddyServer {
    return { listen: [listen], routes: [{ handle: [{ handler: "metrics" }], terminal: true }], automatic_https: { disable: true } };
}

/** Caddy's own (non-access) log: JSON lines on stderr. */
const runtimeLog = (): CaddyLog => ({ writer: { output: "stderr" }, encoder: { format: "json" } });
/**
 * The running config's runtime log: the same JSON lines, but a logger's With objects are encoded
 * only when a line is written. Caddy's reverse proxy makes such a logger per request, with the
 * whole request, for a debug line that is off: encoded at once it cost about a sixth of the
 * Gateway's throughput (bench/gateway.ts). The bootstrap config keeps plain JSON: it is among the
 * container's inputs, and Caddy never proxies on it.
 */
const deferredRuntimeLog = (n: NormalizedGateway): CaddyLog => {
    // Caddy writes a request into a line about it (an upstream that broke a response off, a failed
    // error route): the encoder hides there what the access log hides.
    const r = runtimeLogRedaction(n);
    return { writer: { output: "stderr" }, encoder: { format: "slipway_deferred", wrap: { format: "json" }, redact_headers: r.headers, redact_query: r.query } };
};

/**
 * What the Caddy container starts on: constant for a given socket and health listener, so no route,
 * limit or header is among the container's inputs. It serves the health listener (so the container
 * turns healthy) and the admin socket; the config loader then pushes the full config. With an
 * autosave in the config volume, `caddy run --resume` ignores this file and resumes that config.
 */
export function buildBootstrapConfig(opts: Pick<CaddyBuildOptions, "adminSocket" | "healthListen"> = {}): CaddyBootstrapConfig {
    return {
        admin: caddyAdmin(opts.adminSocket),
        logging: { logs: { default: runtimeLog() } },
        apps: { http: { grace_period: GRACE_PERIOD, servers: { health: healthServer(opts.healthListen ?? CONTAINER.healthListen) } } },
    };
}

/** The config revision: the first 10 hex digits of the SHA-256 of the rendered config. */
export function configRevision(rendered: string): string {
    return createHash("sha256").update(rendered).digest("hex").slice(0, 10);
}

/**
 * The CA root's file name: its content hash, so a new root is a new path, hence a new config
 * revision that Caddy reloads (it reads the file while loading a config, never after).
 */
export function acmeCaRootFile(pem: string, dir: string = CONTAINER.acmeCaRootDir): string {
    return `${dir}/ca-root-${createHash("sha256").update(pem).digest("hex").slice(0, 16)}.pem`;
}

/**
 * The certificate policy for the gateway's domains: Caddy's local CA, or one ACME issuer. Without
 * an email or an `acme` block, tls "auto" leaves issuance to Caddy's defaults (Let's Encrypt, then
 * ZeroSSL), as before `acme` existed.
 */
function tlsApp(n: NormalizedGateway, opts: CaddyBuildOptions): CaddyTlsApp | undefined {
    const subjects = [...n.domains].sort();
    if (n.tls === "internal") return { automation: { policies: [{ subjects, issuers: [{ module: "internal" }] }] } };
    if (n.tls !== "auto" || (!n.email && !n.acme)) return undefined;
    const issuer: CaddyAcmeIssuer = { module: "acme" };
    if (n.acme?.directory) issuer.ca = n.acme.directory;
    if (n.email) issuer.email = n.email;
    if (n.acme?.caRoot) issuer.trusted_roots_pem_files = [acmeCaRootFile(n.acme.caRoot, opts.acmeCaRootDir)];
    return { automation: { policies: [{ subjects, issuers: [issuer] }] } };
}

/** The whole Caddy config for a normalized gateway. Pure: same input, same object. */
export function buildCaddyConfig(n: NormalizedGateway, opts: CaddyBuildOptions = {}): CaddyConfig {
    const httpPort = opts.httpPort ?? CONTAINER.httpPort;
    const httpsPort = opts.httpsPort ?? CONTAINER.httpsPort;
    const config: CaddyConfig = {
        // The same block as the bootstrap's: the loader pushes the next config through this socket.
        admin: caddyAdmin(opts.adminSocket),
        storage: { module: "file_system", root: opts.storageRoot ?? CONTAINER.storageRoot },
        // Caddy's runtime log only: the access log is slipway_edge's.
        logging: { logs: { default: deferredRuntimeLog(n) } },
        apps: {
            http: {
                http_port: httpPort,
                https_port: httpsPort,
                grace_period: GRACE_PERIOD,
                servers: {
                    edge: edgeServer(n, opts, httpPort, httpsPort),
                    ...(n.tls !== "off" ? { redirects: redirectServer(n, opts, httpPort) } : {}),
                    health: healthServer(opts.healthListen ?? CONTAINER.healthListen),
                    metrics: metricsServer(opts.metricsListen ?? `:${CONTAINER.metricsPort}`),
                },
            },
        },
    };
    const tls = tlsApp(n, opts);
    if (tls) config.apps.tls = tls;
    if (n.tls === "internal") config.apps.pki = { certificate_authorities: { local: { install_trust: false } } };
    return config;
}

/**
 * What every request to a served host goes through, in order (after slipway_edge and its body
 * limit): the metrics path guard, CORS, rate limits, compression, the routes, and a JSON 404 for
 * any path no route claims.
 */
function handlingRoutes(n: NormalizedGateway, dial: NonNullable<CaddyBuildOptions["dial"]>, tokenFile: string, jwtSecretDir?: string): CaddyRoute[] {
    const inner: CaddyRoute[] = [metricsGuard(n, tokenFile)];
    inner.push(...corsRoutes(n, true));
    if (n.rateLimits.length) {
        const zones: Record<string, CaddyRateLimitZone> = {};
        for (const z of n.rateLimits) {
            const { maxEvents, window } = caddyRateLimit(z);
            zones[z.name] = { key: keyPlaceholder(z.key, clientAddress(n)), window, max_events: maxEvents, match: zoneMatch(z) };
        }
        inner.push({ handle: [{ handler: "rate_limit", rate_limits: zones }] });
    }
    if (n.compression.length) {
        const encodings: CaddyEncode["encodings"] = {};
        for (const e of [...n.compression].sort()) encodings[e] = {};
        inner.push({ handle: [{ handler: "encode", encodings, prefer: [...n.compression] }] });
    }
    inner.push(...n.routes.map(r => proxyRoute(n, r, dial, jwtSecretDir)));
    inner.push(notFound());
    return inner;
}

/**
 * The public server: slipway_edge, then the handling routes as the server's own routes, and JSON
 * error answers. Not in a `subroute`: Caddy compiles a subroute's routes into a handler chain on
 * every request (one closure per route), which cost about a tenth of the gateway's CPU per request
 * (bench/gateway.ts); the server's routes are compiled once per config.
 */
function edgeServer(n: NormalizedGateway, opts: CaddyBuildOptions, httpPort: number, httpsPort: number): CaddyServer {
    const tlsOn = n.tls !== "off";
    const inner = handlingRoutes(n, opts.dial ?? dialAddresses, opts.metricsTokenFile ?? CONTAINER.metricsTokenFile, opts.jwtSecretDir);
    // slipway_edge first, before the host check, so an unknown host's 404 has the headers and is
    // counted and logged too.
    const routes: CaddyRoute[] = [{ handle: [edgeHandler(n)] }, ...hostRoutes(n), ...inner];
    const edge: CaddyServer = {
        listen: [`${opts.bindHost ?? ""}:${tlsOn ? httpsPort : httpPort}`],
        routes,
        errors: {
            routes: [
                EDGE_FINISH,
                ...corsRoutes(n, false),
                {
                    handle: [{ handler: "static_response", status_code: "{http.error.status_code}", headers: JSON_TYPE, body: '{"error":"{http.error.status_text}"}\n' }],
                    terminal: true,
                },
            ],
        },
        read_header_timeout: "10s",
        idle_timeout: "2m",
        // A reload hands idle keep-alive connections to the new config's server instead of closing
        // them under a client's next request (docker/caddy/handoff, built into the Gateway's Caddy).
        listener_wrappers: [{ wrapper: "slipway_handoff" }],
    };
    edge.automatic_https = tlsOn ? { disable_redirects: true } : { disable: true };
    if (n.cloudflare) Object.assign(edge, clientIpServerFields(n.cloudflare.trustedProxies, CLIENT_IP_HEADER));
    if (n.cloudflare?.originLock && tlsOn) edge.tls_connection_policies = originLockPolicies(n.cloudflare.originLock.clientCaPems);
    return edge;
}

/**
 * With TLS, plain HTTP on the HTTP port: a 308 to https for the Gateway's domains (to the published
 * HTTPS port), the JSON 404 for any other host, both through slipway_edge so they are counted and
 * logged like every other answer. Caddy would add the same redirects on a server of its own that
 * the access log and metrics never see. ACME's HTTP challenges are answered before any route.
 */
function redirectServer(n: NormalizedGateway, opts: CaddyBuildOptions, httpPort: number): CaddyServer {
    // No error routes on this server, and nothing here reads a body.
    const { error_routes: _errorRoutes, max_request_body_bytes: _maxBody, ...edge } = edgeHandler(n);
    const port = n.publishPorts.https === undefined || n.publishPorts.https === 443 ? "" : `:${n.publishPorts.https}`;
    const routes: CaddyRoute[] = [{ handle: [edge] }];
    if (n.domains.length) {
        routes.push({
            match: [{ host: [...n.domains].sort() }],
            handle: [{ handler: "static_response", status_code: 308, headers: { Location: [`https://{http.request.host}${port}{http.request.uri}`] }, close: true }],
            terminal: true,
        });
    }
    routes.push(notFound());
    const server: CaddyServer = { listen: [`${opts.bindHost ?? ""}:${httpPort}`], routes, read_header_timeout: "10s", idle_timeout: "2m" };
    if (n.cloudflare) Object.assign(server, clientIpServerFields(n.cloudflare.trustedProxies, CLIENT_IP_HEADER));
    return server;
}

/** Stable JSON: object keys sorted (arrays keep their meaningful order), 2-space indent, final newline. */
export function renderCaddyJson(config: CaddyConfig | CaddyBootstrapConfig): string {
    const sort = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(sort);
        if (v !== null && typeof v === "object") {
            return Object.fromEntries(Object.keys(v as object).sort().map(k => [k, sort((v as Record<string, unknown>)[k])]));
        }
        return v;
    };
    return JSON.stringify(sort(config), null, 2) + "\n";
}
