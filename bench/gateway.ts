/**
 * The Gateway's Caddy config against bare Caddy, same binary, same static upstream, same run:
 * requests per second with wrk, several rounds with the order rotated, loopback only. Each entry
 * of {@link GATEWAY_VARIANTS} is one more config measured in every round: a Gateway feature that
 * costs per request (a client-IP header, a token check) is an entry whose `args` turn it on, and
 * its row also shows its ratio to the config it extends (`vs`).
 *
 *   npm run bench                      the dev stack bench, then this one
 *   BENCH=gateway npm run bench        this one only
 *   BENCH_GATEWAY_ROUNDS=8 BENCH_GATEWAY_SECONDS=2 BENCH_GATEWAY_ABLATIONS=1   (what each part costs;
 *   or name parts: BENCH_GATEWAY_ABLATIONS="access log,as before")
 */
import { generateKeyPairSync, sign } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import type { GatewayArgs } from "../components/gateway";
import {
    buildCaddyConfig, CaddyConfig, CaddyEdgeHandler, CaddyHandler, CaddyLog, CaddyReverseProxy, CaddyRoute, EDGE_HEADERS,
} from "../components/gateway/caddy-config";
import { CLIENT_IP_PLACEHOLDER, REMOTE_HOST_PLACEHOLDER } from "../components/gateway/client-ip";
import { normalizeGateway, NormalizedGateway } from "../components/gateway/normalize";
import { CLOUDFLARE_IPV4_RANGES, CLOUDFLARE_IPV6_RANGES } from "../components/gateway/cloudflare-data";
import { CLIENT_IP_HEADER } from "../components/gateway/cloudflare-normalize";
import type { Target } from "../components/core/target";
import { CaddyProc, caddyBinary, freePort, startCaddy } from "./caddy-procs";
import { reloadResets, ReloadResult } from "./gateway-reloads";
import { ensureWrk, wrk } from "./wrk";

const ROOT = path.join(__dirname, "..");

export interface GatewayVariant {
    name: string;
    /** The Gateway's Args from the dev stack's (a feature turned on is a spread over `base`). */
    args?: (base: GatewayArgs) => GatewayArgs;
    /** An ablation: the generated config with one part removed, to see what that part costs. */
    config?: (c: CaddyConfig) => CaddyConfig;
    /** The variant this one extends: its row also prints the ratio to it. */
    vs?: string;
    /** Only with BENCH_GATEWAY_ABLATIONS=1. */
    ablation?: boolean;
    /** Also count the requests lost to 10 reloads of this variant (the first variant's always are). */
    reloads?: boolean;
    /** A budget: the least ratio to `vs` this variant must keep, or the bench fails (issue 17, acceptance 5: 0.90). */
    within?: number;
    /** The request path for this variant, instead of the run's (bare Caddy's answer does not depend on it). */
    path?: string;
}

const clone = (c: CaddyConfig): CaddyConfig => JSON.parse(JSON.stringify(c));
const edgeHandlersOf = (c: CaddyConfig): CaddyHandler[] => {
    const flat = (routes: CaddyRoute[]): CaddyHandler[] => routes.flatMap(r => r.handle).flatMap(h => (h.handler === "subroute" ? [h, ...flat(h.routes)] : [h]));
    return flat(c.apps.http.servers.edge!.routes);
};

/** An ablation: the config without the non-terminal routes (of the edge's handling chain) that run `handler`. */
function without(handler: string): (c: CaddyConfig) => CaddyConfig {
    return c => {
        const x = clone(c);
        const strip = (routes: CaddyRoute[]): CaddyRoute[] => routes
            .filter(r => r.terminal || !r.handle.some(h => h.handler === handler))
            .map(r => ({ ...r, handle: r.handle.map(h => (h.handler === "subroute" ? { ...h, routes: strip(h.routes) } : h)) }));
        const edge = x.apps.http.servers.edge!;
        edge.routes = strip(edge.routes);
        return x;
    };
}

/** With domains, the gateway's routes after slipway_edge that only check the host (the names, then a 404 for other hosts). */
const isHostRoute = (r: CaddyRoute) => !!r.match?.some(m => m.host || m.not?.some(n => n.host));

/**
 * The routes of the edge's handling chain (metrics guard, CORS, rate limits, encode, the services)
 * and where they start: the server's own routes after slipway_edge and the host routes, or a
 * subroute's when an ablation put them back in one.
 */
function chainOf(c: CaddyConfig): { routes: CaddyRoute[]; start: number } {
    const edge = c.apps.http.servers.edge!;
    const sub = edge.routes.flatMap(r => r.handle).find(h => h.handler === "subroute");
    if (sub?.handler === "subroute") return { routes: sub.routes, start: 0 };
    const start = edge.routes.findIndex((r, i) => i > 0 && !isHostRoute(r));
    return { routes: edge.routes, start: start < 0 ? edge.routes.length : start };
}

/**
 * The chain as it was before it became the server's own routes: in one subroute, behind the host
 * matcher when there are domains (then a 404 for other hosts). Caddy compiles a subroute's routes
 * on every request.
 */
function inSubroute(c: CaddyConfig): CaddyConfig {
    const x = clone(c);
    const edge = x.apps.http.servers.edge!;
    const { start } = chainOf(x);
    const [first, ...hostRoutes] = edge.routes.slice(0, start);
    const subroute: CaddyRoute = { handle: [{ handler: "subroute", routes: edge.routes.slice(start) }], terminal: true };
    const names = hostRoutes.find(r => r.handle.length === 0);
    const notFound = hostRoutes.find(r => r.handle.length > 0);
    edge.routes = names && notFound
        ? [first!, { ...subroute, match: names.match }, { handle: notFound.handle, terminal: true }]
        : [first!, subroute];
    return x;
}

/** The primary slipway_edge instance (the edge server's first route), for ablations to edit. */
function edgeOf(c: CaddyConfig): CaddyEdgeHandler {
    const h = c.apps.http.servers.edge!.routes[0]!.handle[0]!;
    if (h.handler !== "slipway_edge" || "finish" in h) throw new Error("bench: the edge server does not start with slipway_edge");
    return h;
}

/** An ablation that edits the primary slipway_edge instance of a copy. */
function editEdge(edit: (h: CaddyEdgeHandler) => void): (c: CaddyConfig) => CaddyConfig {
    return c => { const x = clone(c); edit(edgeOf(x)); return x; };
}

/** The edge server without slipway_edge at all (primary and finishing instances): what it costs in total. */
function withoutEdge(c: CaddyConfig): CaddyConfig {
    const x = clone(c);
    const edge = x.apps.http.servers.edge!;
    edgeOf(x);
    edge.routes = edge.routes.slice(1);
    edge.errors!.routes = edge.errors!.routes.filter(r => !r.handle.some(h => h.handler === "slipway_edge"));
    return x;
}

/**
 * The route a `/health` request takes, with nothing else: what is left when routing, CORS, rate
 * limits and compression cost nothing. With `edge: false`, slipway_edge goes too (and the finishing
 * instance in the error routes). These rows bound what moving more work into slipway_edge could gain.
 */
function proxyOnly(edge: boolean): (c: CaddyConfig) => CaddyConfig {
    return c => {
        const x = edge ? clone(c) : withoutEdge(c);
        const server = x.apps.http.servers.edge!;
        const all = (routes: CaddyRoute[]): CaddyRoute[] => routes.flatMap(r => [r, ...all(r.handle.flatMap(h => (h.handler === "subroute" ? h.routes : [])))]);
        const proxies = all(server.routes).filter(r => r.handle.some(h => h.handler === "reverse_proxy"));
        const proxy = proxies.find(r => r.match?.some(m => m.path?.includes("/*"))) ?? proxies[0];
        if (!proxy) throw new Error("bench: the edge server has no proxy route");
        server.routes = [...(edge ? [server.routes[0]!] : []), { handle: proxy.handle }];
        return x;
    };
}

// The config before slipway_edge (docker/caddy/edge), rebuilt part by part from today's, so one run
// shows what each part gained: Caddy's access logger, Caddy's HTTP metrics, a deferred `headers`
// handler plus the proxy's request headers, and the body-limit routes. Each takes its part out of
// slipway_edge.
const CADDY_ACCESS_LOGGER = "http.log.access.access";

/** Caddy's access logger (server `logs`, two log cores with include/exclude) instead of slipway_edge's. */
function caddyAccessLog(c: CaddyConfig): CaddyConfig {
    const x = clone(c);
    const h = edgeOf(x);
    const writers = h.access_log?.writers ?? [];
    delete h.access_log;
    if (!writers.length) return x;
    x.apps.http.servers.edge!.logs = { default_logger_name: "access" };
    const logs: Record<string, CaddyLog> = { default: { ...x.logging.logs.default!, exclude: [CADDY_ACCESS_LOGGER] } };
    for (const w of writers) {
        logs[w.output === "file" ? "access_file" : "access_stdout"] = { writer: w, encoder: { format: "json" }, include: [CADDY_ACCESS_LOGGER] };
    }
    x.logging.logs = logs;
    return x;
}

/** Caddy's own HTTP metrics (app level, no host label) instead of slipway_edge's. */
function caddyMetrics(c: CaddyConfig): CaddyConfig {
    const x = clone(c);
    delete edgeOf(x).metrics;
    x.apps.http.metrics = {};
    return x;
}

/**
 * Caddy's headers handlers instead of slipway_edge's headers: the response headers deferred first
 * in the edge's chain, again (immediate) in the terminal error route and the unknown-host 404, and
 * X-Real-IP / X-Request-ID set by every reverse_proxy.
 */
function caddyHeaders(c: CaddyConfig): CaddyConfig {
    const x = clone(c);
    const h = edgeOf(x);
    const edge = x.apps.http.servers.edge!;
    const set = { ...h.response_headers, [h.request_id_header ?? EDGE_HEADERS.requestId]: ["{http.request.uuid}"] };
    const response = { set, ...(h.strip_response_headers && { delete: h.strip_response_headers }) };
    const clientIp = edge.trusted_proxies ? CLIENT_IP_PLACEHOLDER : REMOTE_HOST_PLACEHOLDER;
    for (const k of ["response_headers", "strip_response_headers", "request_id_header", "client_ip_header"] as const) delete h[k];
    const chain = chainOf(x);
    chain.routes.splice(chain.start, 0, { handle: [{ handler: "headers", response: { ...response, deferred: true } }] });
    const immediate: CaddyHandler = { handler: "headers", response };
    const terminal = (routes: CaddyRoute[]) => routes.filter(r => r.terminal && r.handle[0]?.handler === "static_response");
    for (const r of [...terminal(edge.routes), ...terminal(edge.errors!.routes)]) r.handle.unshift(immediate);
    for (const p of edgeHandlersOf(x).filter(y => y.handler === "reverse_proxy") as CaddyReverseProxy[]) {
        p.headers = { request: { set: { [EDGE_HEADERS.clientIp]: [clientIp], [EDGE_HEADERS.requestId]: ["{http.request.uuid}"] } } };
    }
    return x;
}

/**
 * An RE2 pattern matching exactly the decimal integers above `max` (leading zeros allowed, as Go's
 * HTTP server parses Content-Length): more digits, or as many with a larger digit after a common
 * prefix. The Gateway's 413 route matched Content-Length with it before slipway_edge.
 */
export function integerAbove(max: number): string {
    const d = String(Math.floor(max));
    const alts = [`[1-9][0-9]{${d.length},}`];
    for (let i = 0; i < d.length; i++) {
        const digit = Number(d[i]);
        if (digit === 9) continue;
        const rest = d.length - i - 1;
        alts.push(`${d.slice(0, i)}[${digit + 1}-9]${rest ? `[0-9]{${rest}}` : ""}`);
    }
    return `^0*(?:${alts.join("|")})$`;
}

/**
 * Caddy's body limit instead of slipway_edge's: a 413 route on a declared Content-Length over the
 * limit, then `request_body`, right before compression and the routes (after the rate limiter).
 */
function caddyBodyLimit(c: CaddyConfig): CaddyConfig {
    const x = clone(c);
    const h = edgeOf(x);
    const max = h.max_request_body_bytes;
    delete h.max_request_body_bytes;
    if (!max) return x;
    const chain = chainOf(x);
    const at = chain.routes.findIndex((r, i) => i >= chain.start && r.handle.some(y => ["encode", "reverse_proxy", "rewrite", "slipway_jwt"].includes(y.handler)));
    chain.routes.splice(at, 0,
        { match: [{ header_regexp: { "Content-Length": { pattern: integerAbove(max) } } }], handle: [{ handler: "error", status_code: 413 }] },
        { handle: [{ handler: "request_body", max_size: max }] });
    return x;
}

/** Caddy's runtime log with its own JSON encoder, which encodes a logger's With objects at once (no slipway_deferred). */
function eagerRuntimeLog(c: CaddyConfig): CaddyConfig {
    const x = clone(c);
    x.logging.logs.default = { ...x.logging.logs.default!, encoder: { format: "json" } };
    return x;
}

/** Caddy's own HTTP→HTTPS redirects (a server of its making, outside the access log and metrics) instead of the Gateway's redirect server. */
function caddyRedirects(c: CaddyConfig): CaddyConfig {
    const x = clone(c);
    if (!x.apps.http.servers.redirects) return x;
    delete x.apps.http.servers.redirects;
    delete x.apps.http.servers.edge!.automatic_https;
    return x;
}

/** The upstream's Date passed on (it made the response's header map outgrow one map group), not stamped by Go's server. */
function upstreamDate(c: CaddyConfig): CaddyConfig {
    const x = clone(c);
    const h = edgeOf(x);
    h.strip_response_headers = h.strip_response_headers?.filter(k => k !== "Date");
    if (!h.strip_response_headers?.length) delete h.strip_response_headers;
    return x;
}

/** Go's transport asking the upstream for gzip (and unzipping it) when the client did not ask for it. */
function upstreamGzip(c: CaddyConfig): CaddyConfig {
    const x = clone(c);
    for (const p of edgeHandlersOf(x).filter(y => y.handler === "reverse_proxy") as CaddyReverseProxy[]) {
        delete (p.transport as Partial<CaddyReverseProxy["transport"]>).compression;
    }
    return x;
}

/** X-Forwarded-Host sent upstream again (reverse_proxy sets it to the Host it passes on anyway). */
function forwardedHost(c: CaddyConfig): CaddyConfig {
    return editEdge(h => { delete h.omit_forwarded_host; })(c);
}

/** All of them: the config as it was before slipway_edge (which is then left with nothing to do, so removed). */
function beforeEdge(c: CaddyConfig): CaddyConfig {
    return withoutEdge(caddyBodyLimit(caddyHeaders(caddyMetrics(caddyAccessLog(eagerRuntimeLog(caddyRedirects(inSubroute(upstreamGzip(upstreamDate(c))))))))));
}

// Issue 17's edge features. The key pair and the token are made for this run (no key in the
// repository); the token is valid for an hour, longer than any run.
const EDGE_ISSUER = "https://auth.bench.invalid/", EDGE_AUDIENCE = "slipway-bench";
let edgeKeys: { publicPem: string; token: string } | undefined;
function benchEdgeKeys(): { publicPem: string; token: string } {
    if (edgeKeys) return edgeKeys;
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const signed = `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ iss: EDGE_ISSUER, aud: EDGE_AUDIENCE, sub: "bench-user", iat: now, nbf: now, exp: now + 3600 })}`;
    const token = `${signed}.${sign("sha256", Buffer.from(signed), privateKey).toString("base64url")}`;
    edgeKeys = { publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(), token };
    return edgeKeys;
}

/**
 * Every request of the run, to every config (bare Caddy too), carries both headers, so the
 * configs differ in the work Caddy does with them, not in the bytes on the wire. The address in
 * CF-Connecting-IP is a documentation one (RFC 5737): only a header value, never dialled.
 */
export function benchHeaders(): Record<string, string> {
    return { Authorization: `Bearer ${benchEdgeKeys().token}`, [CLIENT_IP_HEADER]: "203.0.113.7" };
}

/**
 * Cloudflare in front: the docker target also requires domains, `tls: "auto"` and (by default) the
 * origin lock with `cloudflare` (checkGatewayDocker, not run here), which a plain-HTTP loopback bench
 * cannot have. The args still go through normalizeGateway and buildCaddyConfig, so the edge server
 * gets the generated `trusted_proxies` + `client_ip_headers`, and the rate-limit keys read
 * `{http.vars.client_ip}` (slipway_edge's X-Real-IP and access log read Caddy's client_ip var in
 * every config): the per-request work of the feature. Cloudflare's
 * published ranges come first and the bench's stand-in proxy (127.0.0.1/32) last, so Caddy's
 * trusted-proxy scan per request is as long as in production. Not measured: TLS and the origin
 * lock's client certificate, which are per connection, and the Cloudflare rules, which run at
 * Cloudflare (edgeRateLimits off only skips their plan check).
 */
function cloudflareInFront(b: GatewayArgs): GatewayArgs {
    return {
        ...b,
        cloudflare: {
            zoneId: "0123456789abcdef0123456789abcdef", originLock: false, edgeRateLimits: false,
            trustedProxies: [...CLOUDFLARE_IPV4_RANGES, ...CLOUDFLARE_IPV6_RANGES, "127.0.0.1/32"],
        },
    };
}

/** JWT on every route (the bench's request included), a static RS256 public key, `sub` forwarded as X-User-Id (the default). */
function jwtOnEveryRoute(b: GatewayArgs): GatewayArgs {
    const jwt = { publicKey: benchEdgeKeys().publicPem, issuer: EDGE_ISSUER, audience: EDGE_AUDIENCE };
    return { ...b, routes: b.routes.map(r => ({ ...r, jwt })) };
}

/** Issue 17, acceptance 5: each feature within 10 % of the gateway without it, same run. */
const ISSUE17_BUDGET = 0.9;

/** The configs measured against bare Caddy. Add a feature as one more entry (with `vs: "gateway"`). */
export const GATEWAY_VARIANTS: GatewayVariant[] = [
    { name: "gateway" },
    // The run's path is a service's health path, whose successful requests the access log samples
    // (accessLog.sampleHealthChecks); an API path's are all logged.
    { name: "gateway, an API path (every request logged)", path: "/v1/items/1", vs: "gateway" },
    { name: "with Cloudflare client IP", args: cloudflareInFront, vs: "gateway", within: ISSUE17_BUDGET },
    { name: "with JWT (RS256 static key)", args: jwtOnEveryRoute, vs: "gateway", within: ISSUE17_BUDGET },
    { name: "with Cloudflare client IP and JWT", args: b => jwtOnEveryRoute(cloudflareInFront(b)), vs: "gateway", within: ISSUE17_BUDGET },
    { name: "  as before (Caddy's log, metrics, headers and body-limit handlers, eager runtime log)", config: beforeEdge, vs: "gateway", ablation: true },
    { name: "  as before: Caddy's access log", config: caddyAccessLog, vs: "gateway", ablation: true },
    { name: "  as before: Caddy's HTTP metrics", config: caddyMetrics, vs: "gateway", ablation: true },
    { name: "  as before: headers handlers", config: caddyHeaders, vs: "gateway", ablation: true },
    { name: "  as before: 413 route and request_body", config: caddyBodyLimit, vs: "gateway", ablation: true },
    { name: "  as before: runtime log encodes With at once", config: eagerRuntimeLog, vs: "gateway", ablation: true },
    { name: "  as before: the chain in a subroute (compiled per request)", config: inSubroute, vs: "gateway", ablation: true },
    { name: "  as before: the upstream's Date passed on", config: upstreamDate, vs: "gateway", ablation: true },
    { name: "  as before: gzip asked of the upstream", config: upstreamGzip, vs: "gateway", ablation: true },
    { name: "  as before: X-Forwarded-Host sent upstream", config: forwardedHost, vs: "gateway", ablation: true },
    { name: "  as before: every health check logged", args: b => ({ ...b, accessLog: { sampleHealthChecks: 1 } }), vs: "gateway", ablation: true },
    {
        // The config before issue 15: before slipway_edge, with the edge's handlers as the server's
        // own routes (Caddy then instruments each one), and no handoff listener.
        name: "  as before issue 15 (per-handler metrics, no handoff)", vs: "gateway", ablation: true, reloads: true,
        config: c => {
            const x = beforeEdge(c);
            const edge = x.apps.http.servers.edge!;
            const only = edge.routes.length === 1 ? edge.routes[0]!.handle[0]! : undefined;
            if (only?.handler === "subroute" && !edge.routes[0]!.match) edge.routes = only.routes;
            delete edge.listener_wrappers;
            return x;
        },
    },
    {
        name: "  without the handoff listener", vs: "gateway", ablation: true,
        config: c => { const x = clone(c); delete x.apps.http.servers.edge!.listener_wrappers; return x; },
    },
    { name: "  without slipway_edge's access log", args: b => ({ ...b, accessLog: false }), vs: "gateway", ablation: true },
    { name: "  without slipway_edge's metrics", config: editEdge(h => { delete h.metrics; }), vs: "gateway", ablation: true },
    { name: "  without slipway_edge's log and metrics", args: b => ({ ...b, accessLog: false }), config: editEdge(h => { delete h.metrics; }), vs: "gateway", ablation: true },
    {
        name: "  without slipway_edge's headers", vs: "gateway", ablation: true,
        config: editEdge(h => { for (const k of ["response_headers", "strip_response_headers", "request_id_header", "client_ip_header"] as const) delete h[k]; }),
    },
    { name: "  without slipway_edge's body limit", config: editEdge(h => { delete h.max_request_body_bytes; }), vs: "gateway", ablation: true },
    { name: "  without slipway_edge (no log, metrics, headers, body limit)", config: withoutEdge, vs: "gateway", ablation: true },
    { name: "  without rate_limit", config: without("rate_limit"), vs: "gateway", ablation: true },
    { name: "  without encode", config: without("encode"), vs: "gateway", ablation: true },
    { name: "  floor: slipway_edge straight to the proxy (no routes, CORS, rate limits, encode)", config: proxyOnly(true), vs: "gateway", ablation: true },
    { name: "  floor: the gateway's proxy handler alone", config: proxyOnly(false), vs: "gateway", ablation: true },
];

/** The dev stack's Gateway block (Pulumi.dev.yaml), its routes pointing at services named as in the file. */
export function devGatewayArgs(): GatewayArgs {
    const cfg = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")).config;
    const { routes, ...gw } = cfg["slipway:gateway"];
    const target = { kind: "docker", production: false, environment: "dev", publishAddress: "127.0.0.1" } as unknown as Target;
    const service = (name: string) => ({ endpoint: { name, port: 8080, replicas: 2, dialHosts: [`${name}-1`, `${name}-2`], healthPath: "/health", readyPath: "/ready" } });
    return { ...gw, target, routes: routes.map((r: { service: string }) => ({ ...r, service: service(r.service) })) };
}

/**
 * Zones that never refuse the bench's one client, with rings of the size the dev stack's zones
 * have: caddy-ratelimit keeps `max_events` timestamps per key, so a limit lifted to millions would
 * measure that ring, not the gateway. The window is shortened instead (below the 1 s users may
 * set, hence after normalize): 150 events per 1 ms is 150,000 requests per second.
 */
export function neverRefusing(n: NormalizedGateway): NormalizedGateway {
    return { ...n, rateLimits: n.rateLimits.map(z => ({ ...z, events: 150, burst: 150, windowMs: 1 })) };
}

interface Ports { port: number; health: number; metrics: number }

export function gatewayConfig(v: GatewayVariant, dir: string, upstream: string, p: Ports): CaddyConfig {
    const base = devGatewayArgs();
    const n = neverRefusing(normalizeGateway("gateway", v.args ? v.args(base) : base));
    if (n.accessLog?.file) n.accessLog.file = path.join(dir, "access.log");
    const c = buildCaddyConfig(n, {
        bindHost: "127.0.0.1", httpPort: p.port, healthListen: `127.0.0.1:${p.health}`, metricsListen: `127.0.0.1:${p.metrics}`,
        adminSocket: path.join(dir, "admin.sock"), storageRoot: path.join(dir, "data"), acmeCaRootDir: path.join(dir, "acme"),
        metricsTokenFile: path.join(dir, "metrics-token"), dial: () => [upstream],
    });
    return v.config ? v.config(c) : c;
}

/** A one-server Caddy on 127.0.0.1:`port` with its admin socket and storage under `dir`, serving `handler`. */
function oneServerConfig(dir: string, name: string, port: number, handler: object): object {
    return {
        admin: { listen: `unix/${path.join(dir, "admin.sock")}` },
        storage: { module: "file_system", root: path.join(dir, "data") },
        apps: { http: { servers: { [name]: { listen: [`127.0.0.1:${port}`], automatic_https: { disable: true }, routes: [{ handle: [handler] }] } } } },
    };
}

/** Bare Caddy: one reverse_proxy to the same upstream, nothing else (no log, no metrics, no headers). */
function bareConfig(dir: string, upstream: string, port: number): object {
    return oneServerConfig(dir, "bare", port, { handler: "reverse_proxy", upstreams: [{ dial: upstream }] });
}

/** The static upstream both proxy to: a small JSON body, as the API's health answer is. */
export function upstreamConfig(dir: string, port: number): object {
    return oneServerConfig(dir, "upstream", port, { handler: "static_response", status_code: 200, headers: { "Content-Type": ["application/json"] }, body: '{"status":"ok"}\n' });
}

export interface GatewayRow {
    name: string;
    rps: number[];
    median: number;
    /** Median over the rounds of this round's req/s over bare Caddy's. */
    ratio: number;
    cpuUs: number;
    vsRatio?: number;
    vs?: string;
    within?: number;
    /** Measured on this path instead of the run's. */
    path?: string;
}

export interface GatewayFigures {
    rows: GatewayRow[];
    bare: number[];
    /** Caddy's CPU time per request (user + system), microseconds, median over the rounds. */
    bareCpuUs: number;
    rounds: number;
    seconds: number;
    connections: number;
    /** The gateway's first, then those of variants marked `reloads`. */
    reloads: (ReloadResult & { name: string })[];
}

/** User + system CPU time of a process so far, ms (from /proc/<pid>/stat, in clock ticks of 10 ms). */
function cpuMs(p: CaddyProc): number {
    const stat = fs.readFileSync(`/proc/${p.proc.pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };

/** Measure every variant and bare Caddy, rounds with the order rotated (and reversed every other round); then the reload figure. */
export async function benchGateway(o: { rounds?: number; seconds?: number; connections?: number; ablations?: boolean | string; path?: string } = {}): Promise<GatewayFigures> {
    const rounds = o.rounds ?? 8, seconds = o.seconds ?? 2, connections = o.connections ?? 8, reqPath = o.path ?? "/health";
    const wrkBin = ensureWrk();
    const bin = caddyBinary();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-bench-gw-"));
    const procs: CaddyProc[] = [];
    try {
        const upPort = await freePort();
        procs.push(await startCaddy(bin, "upstream", path.join(tmp, "upstream"), upstreamConfig(path.join(tmp, "upstream"), upPort), upPort));
        const upstream = `127.0.0.1:${upPort}`;
        // `ablations`: true for all, or a comma-separated list of name parts.
        const wanted = (v: GatewayVariant) => !v.ablation || o.ablations === true
            || (typeof o.ablations === "string" && o.ablations.split(",").some(part => v.name.includes(part)));
        const variants = GATEWAY_VARIANTS.filter(wanted);
        const targets: { name: string; proc: CaddyProc; path?: string }[] = [];
        const barePort = await freePort();
        targets.push({ name: "bare", proc: await startCaddy(bin, "bare", path.join(tmp, "bare"), bareConfig(path.join(tmp, "bare"), upstream, barePort), barePort) });
        procs.push(targets[0]!.proc);
        for (const [i, v] of variants.entries()) {
            const dir = path.join(tmp, `gw${i}`);
            fs.mkdirSync(dir, { recursive: true });
            const p: Ports = { port: await freePort(), health: await freePort(), metrics: await freePort() };
            const proc = await startCaddy(bin, v.name.trim(), dir, gatewayConfig(v, dir, upstream, p), p.port);
            procs.push(proc);
            targets.push({ name: v.name, proc, path: v.path });
        }
        // Warm up each (connections, the first rate-limit keys, the upstream's pool), unmeasured.
        const headers = benchHeaders();
        for (const t of targets) wrk(wrkBin, `http://127.0.0.1:${t.proc.port}${t.path ?? reqPath}`, { seconds: 1, connections, headers });
        const rps = new Map<string, number[]>(targets.map(t => [t.name, []]));
        const cpu = new Map<string, number[]>(targets.map(t => [t.name, []]));
        for (let r = 0; r < rounds; r++) {
            for (let k = 0; k < targets.length; k++) {
                // Rotated, and reversed every other round: a plain rotation keeps each config after the
                // same neighbour in every round, whose after-load (GC, log writes) it would always pay.
                const t = targets[(r + (r % 2 ? targets.length - 1 - k : k)) % targets.length]!;
                const before = cpuMs(t.proc);
                const run = wrk(wrkBin, `http://127.0.0.1:${t.proc.port}${t.path ?? reqPath}`, { seconds, connections, headers });
                if (run.non2xx || run.socketErrors) {
                    throw new Error(`${t.name.trim()}: ${run.non2xx} non-2xx answers and ${run.socketErrors} socket errors in ${run.requests} requests: the figure would not measure the gateway (a rate limit refusing?)`);
                }
                rps.get(t.name)!.push(run.rps);
                cpu.get(t.name)!.push(((cpuMs(t.proc) - before) * 1000) / run.requests);
            }
        }
        const bareRps = rps.get("bare")!;
        const bareCpu = median(cpu.get("bare")!);
        // Each round's ratio pairs runs seconds apart, so a neighbour's load on this shared machine
        // moves both; the median of those ratios is the figure.
        const paired = (xs: number[], ys: number[]) => median(xs.map((x, i) => x / ys[i]!));
        const rows = variants.map(v => {
            const xs = rps.get(v.name)!;
            return { name: v.name, rps: xs, median: median(xs), ratio: paired(xs, bareRps), cpuUs: median(cpu.get(v.name)!), vs: v.vs, within: v.within, path: v.path } as GatewayRow;
        }).map((row, _, all) => {
            const base = all.find(x => x.name === row.vs);
            return base ? { ...row, vsRatio: paired(row.rps, base.rps) } : row;
        });
        // Reloads: the gateway config (and any variant marked `reloads`), each on a process of its
        // own, under a non-retrying client at concurrency 8.
        const reloads: GatewayFigures["reloads"] = [];
        for (const [i, v] of variants.entries()) {
            if (i > 0 && !v.reloads) continue;
            const dir = path.join(tmp, `reloads${i}`);
            fs.mkdirSync(dir, { recursive: true });
            const p: Ports = { port: await freePort(), health: await freePort(), metrics: await freePort() };
            const cfg = gatewayConfig(v, dir, upstream, p);
            const gw = await startCaddy(bin, `reloads of ${v.name.trim()}`, dir, cfg, p.port);
            procs.push(gw);
            reloads.push({ name: v.name.trim(), ...(await reloadResets(bin, gw, cfg, { reloads: 10, concurrency: 8 })) });
            await gw.stop();
        }
        return { rows, bare: bareRps, bareCpuUs: bareCpu, rounds, seconds, connections, reloads };
    } finally {
        for (const p of procs.reverse()) await p.stop().catch(() => undefined);
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

export function gatewayTable(f: GatewayFigures): string {
    const k = (x: number) => `${(x / 1000).toFixed(2)}k`;
    const rows = [
        ["config", "req/s (median)", "rounds (req/s)", "Caddy CPU/req", "vs bare Caddy", "vs its base"],
        ["bare Caddy", k(median(f.bare)), f.bare.map(k).join(" "), `${f.bareCpuUs.toFixed(0)} µs`, "1.00×", "-"],
        ...f.rows.map(r => [r.name, k(r.median), r.rps.map(k).join(" "), `${r.cpuUs.toFixed(0)} µs`, `${r.ratio.toFixed(2)}×`, r.vsRatio ? `${r.vsRatio.toFixed(2)}× ${r.vs}` : "-"]),
    ];
    const w = rows[0]!.map((_, i) => Math.max(...rows.map(r => r[i]!.length)));
    const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(" | ")} |`;
    const g = f.rows[0]!;
    return [
        `Gateway vs bare Caddy: wrk, ${f.rounds} rounds of ${f.seconds} s, ${f.connections} connections, order rotated and reversed every other round, 127.0.0.1; same static upstream`,
        line(rows[0]!), `|${w.map(n => "-".repeat(n + 2)).join("|")}|`, ...rows.slice(1).map(line),
        `gateway / bare Caddy: ${g.ratio.toFixed(2)}× req/s (median of the rounds' ratios; target ≥ 0.95); CPU per request ${(g.cpuUs / f.bareCpuUs).toFixed(2)}× bare's`,
        ...f.rows.filter(r => r.path).map(r => `${r.name.trim()} / bare Caddy: ${r.ratio.toFixed(2)}× req/s; CPU per request ${(r.cpuUs / f.bareCpuUs).toFixed(2)}× bare's`),
        ...f.rows.filter(r => r.within !== undefined).map(r =>
            `${r.name.trim()} / ${r.vs}: ${r.vsRatio!.toFixed(2)}× req/s (budget ≥ ${r.within!.toFixed(2)}: ${withinBudget(r) ? "within" : "OVER"})`),
        ...f.reloads.map(rl => `reloads, ${rl.name}: ${rl.reloads} reloads under a non-retrying client (GET and POST, concurrency ${rl.concurrency}): ` +
            `${rl.failed} failed of ${rl.sent} (${rl.perReload.join(", ")} per reload; target 0)` +
            (rl.examples.length ? `; e.g. ${rl.examples.slice(0, 3).join("; ")}` : "")),
    ].join("\n");
}

const withinBudget = (r: GatewayRow) => r.within === undefined || (r.vsRatio ?? 0) >= r.within;

/** The bench's verdict: the gateway near bare Caddy, no request lost to reloads, each feature within its budget. */
export function gatewayPasses(f: GatewayFigures): boolean {
    return f.rows[0]!.ratio >= 0.95 && f.reloads[0]!.failed === 0 && f.rows.every(withinBudget);
}

/** BENCH_GATEWAY_ABLATIONS: "1" for every ablation, or name parts, comma-separated ("log,metrics"). */
export function ablationsFromEnv(): boolean | string {
    const a = process.env.BENCH_GATEWAY_ABLATIONS;
    return a === "1" ? true : a ? a : false;
}

if (require.main === module) {
    benchGateway({
        rounds: Number(process.env.BENCH_GATEWAY_ROUNDS ?? 8), seconds: Number(process.env.BENCH_GATEWAY_SECONDS ?? 2),
        ablations: ablationsFromEnv(),
    }).then(f => {
        console.log(gatewayTable(f));
        process.exitCode = gatewayPasses(f) ? 0 : 1;
    }, e => { console.error(e); process.exitCode = 1; });
}
