import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    buildBootstrapConfig, buildCaddyConfig, caddyRateLimit, CaddyConfig, CaddyEdgeHandler, CaddyHandler, CaddyReverseProxy, configRevision, CONTAINER,
    dialAddresses, renderCaddyJson,
} from "../../components/gateway/caddy-config";
import type { GatewayArgs } from "../../components/gateway";
import { normalizeGateway, REDACTED_QUERY_BY_DEFAULT } from "../../components/gateway/normalize";
import { chainRoutes } from "../helpers/caddy";
import { domainArgs, localArgs, plainDocker, publicDocker, svc } from "./gateway-fixtures";

const GOLDEN = path.join(__dirname, "..", "golden");

function golden(file: string, actual: string) {
    const p = path.join(GOLDEN, file);
    if (process.env.UPDATE_GOLDEN === "1") { fs.mkdirSync(GOLDEN, { recursive: true }); fs.writeFileSync(p, actual); }
    assert.ok(fs.existsSync(p), `missing golden ${file}: run with UPDATE_GOLDEN=1`);
    assert.equal(actual, fs.readFileSync(p, "utf8"), `${file} changed: review the diff, then UPDATE_GOLDEN=1`);
}

/** The edge's handling chain: the edge server's routes after slipway_edge (and the host routes with domains). */
const edgeRoutes = chainRoutes;
/** The primary slipway_edge instance: the edge server's first route, in front of every host. */
const edgeHandler = (c: CaddyConfig): CaddyEdgeHandler => {
    const first = c.apps.http.servers.edge!.routes[0]!;
    assert.equal(first.match, undefined, "before any host matcher");
    assert.equal(first.terminal, undefined, "non-terminal: it wraps what follows");
    assert.equal(first.handle.length, 1);
    const h = first.handle[0]!;
    assert.ok(h.handler === "slipway_edge" && !("finish" in h));
    return h;
};
const handlers = (c: CaddyConfig): CaddyHandler[] => edgeRoutes(c).flatMap(r => r.handle);
const proxied = (c: CaddyConfig) => edgeRoutes(c).filter(r => r.handle.some(h => h.handler === "reverse_proxy"));

describe("Gateway Caddy JSON", () => {
    const local = normalizeGateway("edge", localArgs(plainDocker()));
    const domains = normalizeGateway("edge", domainArgs(publicDocker(true)));

    it("matches the golden configs byte for byte", () => {
        golden("gateway-caddy-local.json", renderCaddyJson(buildCaddyConfig(local)));
        golden("gateway-caddy-domains.json", renderCaddyJson(buildCaddyConfig(domains)));
        golden("gateway-caddy-bootstrap.json", renderCaddyJson(buildBootstrapConfig()));
    });

    it("issues from Let's Encrypt production unless acme names another CA, and trusts a private CA's root from a file", () => {
        const issuers = (extra: Record<string, unknown>) => buildCaddyConfig(normalizeGateway("edge", { ...domainArgs(publicDocker(true)), ...extra })).apps.tls?.automation.policies[0]!.issuers;
        assert.deepEqual(issuers({}), [{ module: "acme", email: "ops@example.com" }], "no ca: Caddy's default, Let's Encrypt production");
        assert.equal(issuers({ email: undefined }), undefined, "no email and no acme: Caddy's default issuers, as before");
        const staging = "https://acme-staging-v02.api.letsencrypt.org/directory";
        assert.deepEqual(issuers({ email: undefined, acme: { directory: staging } }), [{ module: "acme", ca: staging }]);
        const pem = fs.readFileSync(path.join(__dirname, "..", "fixtures", "acme", "private-ca.pem"), "utf8");
        const [issuer] = issuers({ acme: { directory: "https://ca.internal/acme/directory", caRoot: pem.replace(/\n/g, "\r\n") } })! as any[];
        assert.match(issuer.trusted_roots_pem_files[0], /^\/config\/acme\/ca-root-[0-9a-f]{16}\.pem$/);
        const same = issuers({ acme: { directory: "https://ca.internal/acme/directory", caRoot: pem } })! as any[];
        assert.deepEqual(same[0].trusted_roots_pem_files, issuer.trusted_roots_pem_files, "line endings do not make a new file");
    });

    it("limits the body in slipway_edge, before anything else of the chain (the real-Caddy test sends the bodies)", () => {
        assert.equal(edgeHandler(buildCaddyConfig(local)).max_request_body_bytes, 10_000_000, "the default 10MB");
        const small = buildCaddyConfig(normalizeGateway("edge", { ...localArgs(plainDocker()), maxBodySize: "1KiB" }));
        assert.equal(edgeHandler(small).max_request_body_bytes, 1024);
        const order = handlers(small).map(h => h.handler);
        assert.ok(!order.includes("request_body") && !order.includes("error"), "no body-limit handlers of Caddy's left");
    });

    it("does not depend on the order routes and zones were given in", () => {
        const args = localArgs(plainDocker());
        const shuffled = { ...args, routes: [...args.routes].reverse(), rateLimits: { general: args.rateLimits!.general!, waitlist: args.rateLimits!.waitlist! } };
        assert.equal(renderCaddyJson(buildCaddyConfig(normalizeGateway("edge", shuffled))), renderCaddyJson(buildCaddyConfig(local)));
    });

    it("emits sorted object keys everywhere", () => {
        const check = (v: unknown, at: string) => {
            if (Array.isArray(v)) return v.forEach((x, i) => check(x, `${at}[${i}]`));
            if (v && typeof v === "object") {
                const keys = Object.keys(v);
                assert.deepEqual(keys, [...keys].sort(), `keys of ${at}`);
                keys.forEach(k => check((v as Record<string, unknown>)[k], `${at}.${k}`));
            }
        };
        check(JSON.parse(renderCaddyJson(buildCaddyConfig(domains))), "$");
    });

    it("matches routes longest prefix first, each covering itself and what lies below", () => {
        const paths = proxied(buildCaddyConfig(local)).map(r => r.match![0]!.path);
        assert.deepEqual(paths, [["/v1/waitlist", "/v1/waitlist/*"], ["/media", "/media/*"], ["/v1", "/v1/*"]]);
        assert.deepEqual(proxied(buildCaddyConfig(domains)).map(r => r.match![0]!.path!.at(-1)), ["/v1/media/*", "/v1/core/*", "/*"]);
        assert.ok(proxied(buildCaddyConfig(local)).every(r => r.terminal === true));
    });

    it("limits the rate before compressing and proxying", () => {
        const order = handlers(buildCaddyConfig(local)).map(h => h.handler);
        const first = (h: CaddyHandler["handler"]) => order.indexOf(h);
        assert.equal(edgeHandler(buildCaddyConfig(local)).handler, "slipway_edge", "slipway_edge wraps everything");
        assert.ok(!order.includes("slipway_edge"), "once per request");
        assert.ok(first("static_response") < first("rate_limit"), "CORS preflight is answered before the limiter");
        assert.ok(first("rate_limit") < first("encode"));
        assert.ok(first("encode") < first("reverse_proxy"));
        assert.equal(edgeRoutes(buildCaddyConfig(local)).at(-1)!.handle[0]!.handler, "static_response");
        assert.equal((edgeRoutes(buildCaddyConfig(local)).at(-1)!.handle[0] as { status_code: number }).status_code, 404);
    });

    it("sets the security headers, X-Request-ID and X-Real-IP in slipway_edge, and strips Server and Via (and the upstream's Date)", () => {
        const h = edgeHandler(buildCaddyConfig(local));
        assert.equal(h.request_id_header, "X-Request-ID");
        assert.equal(h.client_ip_header, "X-Real-IP");
        assert.equal(h.omit_forwarded_host, true, "Host goes through unchanged: X-Forwarded-Host would repeat it");
        assert.deepEqual(h.strip_response_headers, ["Date", "Server", "Via"], "Go's server stamps its own Date");
        assert.deepEqual(h.response_headers!["X-Frame-Options"], ["DENY"]);
        assert.deepEqual(h.response_headers!["Strict-Transport-Security"], ["max-age=31536000; includeSubDomains"]);
        assert.ok(!("X-Request-ID" in h.response_headers!), "the request id is request_id_header's, not a fixed header");
        assert.equal(h.metrics, true);
        assert.equal(h.error_routes, true);
        const noStrip = edgeHandler(buildCaddyConfig(normalizeGateway("edge", { ...localArgs(plainDocker()), securityHeaders: { stripServer: false, hsts: false } })));
        assert.deepEqual(noStrip.strip_response_headers, ["Date"]);
        assert.ok(!("Strict-Transport-Security" in noStrip.response_headers!));
    });

    it("leaves X-Real-IP and X-Request-ID to slipway_edge: the proxy sets no request headers of its own", () => {
        for (const c of [buildCaddyConfig(local), buildCaddyConfig(domains)]) {
            for (const r of proxied(c)) {
                const p = r.handle.find(h => h.handler === "reverse_proxy");
                assert.ok(p && p.handler === "reverse_proxy" && p.headers === undefined);
            }
        }
    });

    it("finishes error answers with slipway_edge first, then CORS, then the JSON body, without a headers handler of its own", () => {
        const errors = buildCaddyConfig(local).apps.http.servers.edge!.errors!.routes;
        assert.deepEqual(errors[0], { handle: [{ handler: "slipway_edge", finish: true }] }, "non-terminal, no matcher: every error");
        assert.ok(errors.slice(1, -1).every(r => r.match?.[0]?.header?.Origin), "CORS headers for allowed origins");
        assert.deepEqual(errors.at(-1)!.handle.map(h => h.handler), ["static_response"]);
        assert.equal(errors.at(-1)!.terminal, true);
    });

    it("answers an unknown host with a JSON 404 behind the same slipway_edge, and names the domains on a route of the server's own", () => {
        const routes = buildCaddyConfig(domains).apps.http.servers.edge!.routes;
        const host = { host: ["api.example.com", "api.example.net"] };
        assert.equal(routes[0]!.handle[0]!.handler, "slipway_edge");
        assert.deepEqual(routes[1], { match: [host], handle: [] }, "automatic HTTPS reads the names from a host matcher on the server's routes");
        assert.deepEqual(routes[2]!.match, [{ not: [host] }]);
        assert.equal(routes[2]!.terminal, true);
        assert.equal((routes[2]!.handle[0] as { status_code: number }).status_code, 404);
        assert.deepEqual(routes.slice(3), chainRoutes(buildCaddyConfig(domains)));
        assert.deepEqual(buildCaddyConfig(local).apps.http.servers.edge!.routes.slice(1), chainRoutes(buildCaddyConfig(local)), "no host routes without domains");
    });

    it("puts the chain on the server's own routes, never in a subroute (Caddy compiles a subroute on every request)", () => {
        for (const c of [buildCaddyConfig(local), buildCaddyConfig(domains)]) {
            assert.ok(!JSON.stringify(c.apps.http.servers.edge).includes('"subroute"'));
        }
    });

    it("gives each zone exactly the requests its routes own", () => {
        const rl = handlers(buildCaddyConfig(local)).find(h => h.handler === "rate_limit");
        assert.ok(rl && rl.handler === "rate_limit");
        // "/v1" is general, but "/v1/waitlist" below it is another route: excluded there.
        assert.deepEqual(rl.rate_limits.general!.match, [
            { path: ["/media", "/media/*"] },
            { path: ["/v1", "/v1/*"], not: [{ path: ["/v1/waitlist", "/v1/waitlist/*"] }] },
        ]);
        assert.deepEqual(rl.rate_limits.waitlist!.match, [{ path: ["/v1/waitlist", "/v1/waitlist/*"] }]);
        assert.equal(rl.rate_limits.general!.key, "{http.request.remote.host}");
        const byHeader = handlers(buildCaddyConfig(domains)).find(h => h.handler === "rate_limit");
        assert.ok(byHeader && byHeader.handler === "rate_limit");
        assert.equal(byHeader.rate_limits.partner!.key, "{http.request.header.X-Api-Key}");
    });

    it("maps burst onto the sliding window without changing the sustained rate", () => {
        assert.deepEqual(caddyRateLimit({ events: 5, burst: 10, windowMs: 60_000 }), { maxEvents: 10, window: "2m" });
        assert.deepEqual(caddyRateLimit({ events: 100, burst: 150, windowMs: 60_000 }), { maxEvents: 150, window: "90s" });
        assert.deepEqual(caddyRateLimit({ events: 100, burst: 100, windowMs: 60_000 }), { maxEvents: 100, window: "1m" });
        // 7 per minute, burst 10: 85714.28...ms, rounded up so the limit is never looser.
        const odd = caddyRateLimit({ events: 7, burst: 10, windowMs: 60_000 });
        assert.deepEqual(odd, { maxEvents: 10, window: "85715ms" });
        assert.ok(10 / 85_715 <= 7 / 60_000);
    });

    it("strips the prefix only where asked, after normalising the trailing slash", () => {
        const media = proxied(buildCaddyConfig(local)).find(r => r.match![0]!.path![0] === "/media")!;
        assert.deepEqual(media.handle[0], { handler: "rewrite", strip_path_prefix: "/media" });
        const v1 = proxied(buildCaddyConfig(local)).find(r => r.match![0]!.path![0] === "/v1")!;
        assert.equal(v1.handle[0]!.handler, "reverse_proxy");
    });

    it("balances over every replica and checks liveness, or readiness when asked; a 503 is the app's answer", () => {
        const core = proxied(buildCaddyConfig(domains)).find(r => r.match![0]!.path![0] === "/v1/core")!.handle[0]!;
        assert.ok(core.handler === "reverse_proxy");
        assert.deepEqual(core.upstreams, [{ dial: "core-1:8080" }, { dial: "core-2:8080" }, { dial: "core-3:8080" }]);
        assert.equal(core.load_balancing.selection_policy.policy, "round_robin");
        assert.equal(core.health_checks.active.uri, "/health");
        assert.deepEqual(core.health_checks.passive.unhealthy_status, [502, 504]);
        const ready = normalizeGateway("edge", { ...domainArgs(publicDocker(true)), upstream: { healthCheck: "ready", maxFails: 5 } });
        const h = proxied(buildCaddyConfig(ready))[0]!.handle[0]!;
        assert.ok(h.handler === "reverse_proxy" && h.health_checks.active.uri === "/ready" && h.health_checks.passive.max_fails === 5);
    });

    it("dials host:port, keeping a port the endpoint already carries", () => {
        assert.deepEqual(dialAddresses(svc("api", 2, 3000).endpoint), ["api-1:3000", "api-2:3000"]);
        assert.deepEqual(dialAddresses({ ...svc().endpoint, dialHosts: ["api-1:9999"] }), ["api-1:9999"]);
    });

    it("serves plain HTTP locally and HTTPS with certificates for domains", () => {
        const l = buildCaddyConfig(local);
        assert.deepEqual(l.apps.http.servers.edge!.listen, [":8080"]);
        assert.deepEqual(l.apps.http.servers.edge!.automatic_https, { disable: true });
        assert.equal(l.apps.tls, undefined);
        const d = buildCaddyConfig(domains);
        assert.deepEqual(d.apps.http.servers.edge!.listen, [":8443"]);
        assert.deepEqual(d.apps.http.servers.edge!.automatic_https, { disable_redirects: true }, "HTTPS on, Caddy's own redirects off");
        assert.equal(l.apps.http.servers.redirects, undefined, "no HTTP-port server of ours without TLS");
        const redirects = d.apps.http.servers.redirects!;
        assert.deepEqual(redirects.listen, [":8080"], "the HTTP port, which Caddy would otherwise take for its redirects");
        assert.equal(redirects.routes[0]!.handle[0]!.handler, "slipway_edge", "redirects are counted and logged");
        assert.deepEqual(redirects.routes[1]!.match, [{ host: ["api.example.com", "api.example.net"] }]);
        assert.deepEqual((redirects.routes[1]!.handle[0] as { headers?: unknown }).headers, { Location: ["https://{http.request.host}{http.request.uri}"] }, "published on 443: no port");
        assert.deepEqual(d.apps.http.servers.edge!.routes[1]!.match, [{ host: ["api.example.com", "api.example.net"] }], "behind slipway_edge");
        assert.deepEqual(d.apps.tls!.automation.policies, [{ subjects: ["api.example.com", "api.example.net"], issuers: [{ module: "acme", email: "ops@example.com" }] }]);
        const internal = buildCaddyConfig(normalizeGateway("edge", { ...domainArgs(plainDocker()), email: undefined, tls: "internal" }));
        assert.deepEqual(internal.apps.tls!.automation.policies[0]!.issuers, [{ module: "internal" }]);
        assert.equal(internal.apps.pki!.certificate_authorities.local.install_trust, false);
    });

    it("serves the admin API on a unix socket only, persisted, the same block as the bootstrap's", () => {
        const admin = { listen: "unix//config/admin.sock", config: { persist: true } };
        for (const c of [buildCaddyConfig(local), buildCaddyConfig(domains), buildBootstrapConfig()]) assert.deepEqual(c.admin, admin);
        assert.equal(CONTAINER.adminSocket.startsWith(`${CONTAINER.configDir}/`), true, "the socket lives in the config volume");
        // Tests run Caddy on the host with a socket in a temp dir.
        assert.deepEqual(buildCaddyConfig(local, { adminSocket: "/tmp/x/admin.sock" }).admin.listen, "unix//tmp/x/admin.sock");
        assert.deepEqual(buildBootstrapConfig({ adminSocket: "/tmp/x/admin.sock" }).admin.listen, "unix//tmp/x/admin.sock");
        assert.throws(() => buildBootstrapConfig({ adminSocket: "admin.sock" }), /absolute path/);
    });

    it("bootstraps with the admin socket and the health listener only, the same for every gateway", () => {
        const b = buildBootstrapConfig();
        assert.deepEqual(Object.keys(b.apps.http.servers), ["health"]);
        assert.deepEqual(b.apps.http.servers.health, buildCaddyConfig(domains).apps.http.servers.health, "the health listener is the same in both");
        assert.equal(b.apps.http.grace_period, buildCaddyConfig(local).apps.http.grace_period);
        assert.equal(renderCaddyJson(buildBootstrapConfig()), renderCaddyJson(b), "pure");
    });

    it("names a config revision by the SHA-256 of the rendered JSON", () => {
        const json = renderCaddyJson(buildCaddyConfig(local));
        assert.match(configRevision(json), /^[0-9a-f]{10}$/);
        assert.equal(configRevision(json), configRevision(renderCaddyJson(buildCaddyConfig(local))));
        assert.notEqual(configRevision(json), configRevision(renderCaddyJson(buildCaddyConfig(domains))));
        assert.equal(configRevision(""), "e3b0c44298", "sha256 of the empty string");
    });

    it("redacts in the access log every header a zone counts clients by, and the ones the stack names, besides the defaults", () => {
        const base = domainArgs(publicDocker(true));
        const n = normalizeGateway("edge", {
            ...base,
            rateLimits: { ...base.rateLimits, core: { events: 100, window: "1m", key: "header:X-Client-Id" } },
            accessLog: { file: "/var/log/caddy/access.log", redactHeaders: ["X-Partner-Token", "x-api-key"], redactQuery: ["Partner_Key", "token"] },
        });
        const log = edgeHandler(buildCaddyConfig(n)).access_log!;
        assert.deepEqual(log.redact_headers,
            ["api-key", "x-api-key", "x-auth-token", "x-client-id", "x-partner-token"], "sorted, each once, whatever the case it was written in");
        assert.deepEqual(log.redact_query, [...REDACTED_QUERY_BY_DEFAULT, "partner_key"].sort(), "the stack's query parameters added to the defaults, each once");
        const runtime = buildCaddyConfig(n).logging.logs.default!.encoder;
        assert.deepEqual(runtime, { format: "slipway_deferred", wrap: { format: "json" }, redact_headers: log.redact_headers, redact_query: log.redact_query },
            "Caddy's runtime log hides in the requests it writes what the access log hides");
    });

    it("hides credentials in the runtime log's requests when the access log is off too", () => {
        const base = domainArgs(publicDocker(true));
        const n = normalizeGateway("edge", { ...base, rateLimits: { ...base.rateLimits, core: { events: 100, window: "1m", key: "header:X-Client-Id" } }, accessLog: false });
        const runtime = buildCaddyConfig(n).logging.logs.default!.encoder;
        assert.ok(runtime.format === "slipway_deferred");
        assert.deepEqual(runtime.redact_headers, ["api-key", "x-api-key", "x-auth-token", "x-client-id"], "the defaults and the zones' key headers");
        assert.deepEqual(runtime.redact_query, [...REDACTED_QUERY_BY_DEFAULT].sort());
    });

    it("logs access through slipway_edge to stdout (and a rolled file when set), flushed every 250 ms; Caddy's own logger stays off", () => {
        const d = buildCaddyConfig(domains);
        assert.deepEqual(edgeHandler(d).access_log, {
            writers: [{ output: "stdout" }, { output: "file", filename: "/var/log/caddy/access.log", roll_size_mb: 100, roll_keep: 5, roll_keep_days: 30 }],
            flush_interval: "250ms",
            // The defaults; the "partner" zone counts by X-Api-Key, one of them.
            redact_headers: ["api-key", "x-api-key", "x-auth-token"],
            redact_query: [
                "api_key", "apikey", "auth", "client_secret", "code", "id_token", "password", "refresh_token", "secret", "sig", "signature", "token",
                "x-amz-credential", "x-amz-security-token", "x-amz-signature",
            ],
            // "/" routes to web, whose checks are /health and /ready
            health_checks: { paths: ["/health", "/ready"], log_every: 100 },
        });
        assert.equal(d.apps.http.servers.edge!.logs, undefined, "no Caddy access logger");
        const { redact_headers, redact_query } = edgeHandler(d).access_log!;
        assert.deepEqual(d.logging.logs, { default: { writer: { output: "stderr" }, encoder: { format: "slipway_deferred", wrap: { format: "json" }, redact_headers, redact_query } } },
            "Caddy's runtime log on stderr (JSON, With objects encoded when written, redacted as the access log), nothing else");
        const fileOnly = buildCaddyConfig(normalizeGateway("edge", { ...domainArgs(publicDocker(true)), accessLog: { stdout: false, file: "/logs/a.log" } }));
        assert.deepEqual(edgeHandler(fileOnly).access_log!.writers.map(w => w.output), ["file"]);
        const quiet = buildCaddyConfig(normalizeGateway("edge", { ...localArgs(plainDocker()), accessLog: false }));
        assert.equal(edgeHandler(quiet).access_log, undefined);
        assert.deepEqual(Object.keys(quiet.logging.logs), ["default"]);
    });

    it("samples successful health checks at the paths clients reach them through the routes", () => {
        const sampled = (args: GatewayArgs) => edgeHandler(buildCaddyConfig(normalizeGateway("edge", args))).access_log?.health_checks;
        // /v1 and /v1/waitlist do not cover the api's /health; /media/ strips its prefix, so media's
        // checks are reached under it
        assert.deepEqual(sampled(localArgs(plainDocker())), { paths: ["/media/health", "/media/ready"], log_every: 100 });
        const api = svc("api");
        const routes = [
            { pathPrefix: "/", service: api },
            { pathPrefix: "/health", service: svc("status"), stripPrefix: false }, // a longer prefix owns /health: not api's check
            { pathPrefix: "/admin", service: svc("admin"), stripPrefix: true, jwt: { jwksUrl: "https://auth.example.com/.well-known/jwks.json", issuer: "https://auth.example.com/", audience: "admin" } },
        ];
        assert.deepEqual(sampled({ ...localArgs(plainDocker()), rateLimits: {}, routes }), { paths: ["/health", "/ready"], log_every: 100 },
            "/health is the status service's own (its /health), /ready api's; /admin/* checks sit behind a token and are logged whole");
        assert.deepEqual(sampled({ ...localArgs(plainDocker()), accessLog: { sampleHealthChecks: 20 } })?.log_every, 20);
        assert.equal(sampled({ ...localArgs(plainDocker()), accessLog: { sampleHealthChecks: 1 } }), undefined, "1: every check logged");
        assert.equal(sampled({ ...localArgs(plainDocker()), rateLimits: {}, routes: [{ pathPrefix: "/v1", service: api }] }), undefined, "no check reachable");
    });

    it("forwards the client's Accept-Encoding as it came: no gzip asked of a service to be unzipped here", () => {
        const proxies = edgeRoutes(buildCaddyConfig(local)).flatMap(r => r.handle).filter(h => h.handler === "reverse_proxy") as CaddyReverseProxy[];
        assert.ok(proxies.length > 0 && proxies.every(p => p.transport.compression === false));
    });

    it("drops Caddy's own HTTP metrics: slipway_edge counts each request once", () => {
        assert.equal(buildCaddyConfig(local).apps.http.metrics, undefined);
        assert.equal(buildCaddyConfig(domains).apps.http.metrics, undefined);
    });

    it("compresses with the configured encodings, or not at all", () => {
        const enc = handlers(buildCaddyConfig(local)).find(h => h.handler === "encode");
        assert.ok(enc && enc.handler === "encode");
        assert.deepEqual(enc.prefer, ["zstd", "gzip"]);
        const off = buildCaddyConfig(normalizeGateway("edge", { ...localArgs(plainDocker()), compression: [] }));
        assert.equal(handlers(off).find(h => h.handler === "encode"), undefined);
    });
});
