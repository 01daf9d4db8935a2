// Issue 10, pure: the public metrics path (refused, or open with a bearer token) in the Caddy JSON
// and the Cloudflare rule, the loader's token file, and the gateway's internal metrics listener.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import {
    buildBootstrapConfig, buildCaddyConfig, EDGE_METRICS, CaddyConfig, CaddyMatcherSet, CONTAINER, gatewayMetricsTarget, renderCaddyJson,
} from "../../components/gateway/caddy-config";
import { metricsPathExpression, metricsRule, rulesets } from "../../components/gateway/cloudflare";
import { loaderScript } from "../../components/gateway/docker";
import { DEFAULTS, metricsTokenProblem, normalizeGateway } from "../../components/gateway/normalize";
import { GATEWAY_METRICS } from "../../components/observability/rules";
import { chainRoutes } from "../helpers/caddy";
import { domainArgs, localArgs, plainDocker, publicDocker } from "./gateway-fixtures";

const TOKEN = "Zm9vYmFyLXNjcmFwZS10b2tlbi0wMTIzNDU2Nzg5";
const TOKEN_FILE = CONTAINER.metricsTokenFile;

/** The edge's handling chain: the edge server's routes after slipway_edge (and the host routes with domains). */
const edgeRoutes = chainRoutes;

interface Req { path: string; headers?: Record<string, string> }

/**
 * The subset of Caddy's matching the guard uses, for reading the config (the real Caddy test in
 * test/tools/gateway-caddy-validate.test.ts is the authority): path patterns (exact or `prefix/*`,
 * case-insensitive), header values with `{file.*}` placeholders, `vars` keyed by a placeholder, `not`.
 */
function matches(sets: CaddyMatcherSet[] | undefined, req: Req, files: Record<string, string>): boolean {
    const expand = (v: string) => v.replace(/\{file\.([^}]+)\}/g, (_, f: string) => (files[f] ?? "").replace(/\n$/, ""));
    const one = (m: CaddyMatcherSet): boolean => {
        if (m.path && !m.path.some(p => {
            const path = req.path.toLowerCase(), pat = p.toLowerCase();
            return pat.endsWith("/*") ? path.startsWith(pat.slice(0, -1)) : path === pat;
        })) return false;
        if (m.header && !Object.entries(m.header).every(([k, vals]) => vals.some(v => req.headers?.[k] === expand(v)))) return false;
        if (m.vars && !Object.entries(m.vars).every(([k, vals]) => vals.includes(expand(k)))) return false;
        if (m.not && m.not.some(one)) return false;
        return true;
    };
    return sets === undefined || sets.some(one);
}

/** Where a request ends in the edge's routes: the 404 guard, or on past it toward the service routes. */
function fate(c: CaddyConfig, req: Req, files: Record<string, string> = {}): "refused" | "passed" {
    const guard = edgeRoutes(c)[0]!;
    return matches(guard.match, req, files) ? "refused" : "passed";
}

describe("Gateway metrics (issue 10)", () => {
    describe("the public metrics path in the Caddy JSON", () => {
        const closed = buildCaddyConfig(normalizeGateway("edge", localArgs(plainDocker())));
        const open = buildCaddyConfig(normalizeGateway("edge", { ...localArgs(plainDocker()), publicMetrics: { allowWithToken: pulumi.secret(TOKEN) } }));

        it("is a JSON 404 first in the subroute (behind slipway_edge), before CORS, rate limits and routing", () => {
            for (const c of [closed, open, buildCaddyConfig(normalizeGateway("edge", domainArgs(publicDocker(true))))]) {
                assert.equal(c.apps.http.servers.edge!.routes[0]!.handle[0]!.handler, "slipway_edge");
                const routes = edgeRoutes(c);
                const guard = routes[0]!;
                assert.equal(guard.terminal, true);
                assert.deepEqual(guard.handle, [{ handler: "static_response", status_code: 404, headers: { "Content-Type": ["application/json"] }, body: '{"error":"Not Found"}\n' }],
                    "the same answer as an unknown path: it does not say the path exists");
                assert.ok(guard.match!.every(m => JSON.stringify(m.path) === JSON.stringify(["/metrics", "/metrics/*"])));
                assert.ok(routes.slice(1).some(r => r.handle.some(h => h.handler === "rate_limit")));
            }
        });

        it("refuses everyone without a token: no header opens it", () => {
            assert.deepEqual(edgeRoutes(closed)[0]!.match, [{ path: ["/metrics", "/metrics/*"] }]);
            for (const req of [
                { path: "/metrics" }, { path: "/metrics/x" }, { path: "/METRICS" },
                { path: "/metrics", headers: { Authorization: `Bearer ${TOKEN}` } },
            ]) assert.equal(fate(closed, req, { [TOKEN_FILE]: TOKEN }), "refused", JSON.stringify(req));
            assert.equal(fate(closed, { path: "/metricsx" }), "passed", "segment-wise, as a route prefix");
            assert.equal(fate(closed, { path: "/v1/metrics" }), "passed");
        });

        it("with a token, lets exactly `Authorization: Bearer <token>` through, read from the token file", () => {
            assert.deepEqual(edgeRoutes(open)[0]!.match, [
                { path: ["/metrics", "/metrics/*"], not: [{ header: { Authorization: [`Bearer {file.${TOKEN_FILE}}`] } }] },
                { path: ["/metrics", "/metrics/*"], vars: { [`{file.${TOKEN_FILE}}`]: [""] } },
            ]);
            const files = { [TOKEN_FILE]: `${TOKEN}\n` };
            assert.equal(fate(open, { path: "/metrics", headers: { Authorization: `Bearer ${TOKEN}` } }, files), "passed");
            assert.equal(fate(open, { path: "/metrics" }, files), "refused");
            assert.equal(fate(open, { path: "/metrics", headers: { Authorization: `Bearer ${TOKEN}x` } }, files), "refused");
            assert.equal(fate(open, { path: "/metrics", headers: { Authorization: TOKEN } }, files), "refused");
            assert.equal(fate(open, { path: "/metrics", headers: { Authorization: "Bearer " } }, { [TOKEN_FILE]: "" }), "refused", "an empty token file opens nothing");
            assert.equal(fate(open, { path: "/metrics", headers: { Authorization: "Bearer" } }, {}), "refused", "nor a missing one");
        });

        it("keeps the token out of the config: only the file's path is in it", () => {
            const json = renderCaddyJson(open);
            assert.ok(!json.includes(TOKEN));
            // The config is the same whatever the token, so a new token is not a new config revision.
            const other = buildCaddyConfig(normalizeGateway("edge", { ...localArgs(plainDocker()), publicMetrics: { allowWithToken: pulumi.secret("x".repeat(40)) } }));
            assert.equal(renderCaddyJson(other), json);
            assert.notEqual(renderCaddyJson(closed), json);
        });

        it("guards another path when asked, and tests read the token from a file of their own", () => {
            const c = buildCaddyConfig(normalizeGateway("edge", { ...localArgs(plainDocker()), publicMetrics: { path: "/internal/metrics/", allowWithToken: TOKEN } }),
                { metricsTokenFile: "/tmp/t/token" });
            assert.deepEqual(edgeRoutes(c)[0]!.match![1], { path: ["/internal/metrics", "/internal/metrics/*"], vars: { "{file./tmp/t/token}": [""] } });
            assert.equal(fate(c, { path: "/metrics" }), "passed", "only the configured path is guarded");
        });
    });

    describe("the gateway's own metrics", () => {
        const c = buildCaddyConfig(normalizeGateway("edge", localArgs(plainDocker())));

        it("are slipway_edge's (no host label: clients choose Host), with Caddy's HTTP metrics off", () => {
            const edge = c.apps.http.servers.edge!.routes[0]!.handle[0]!;
            assert.ok(edge.handler === "slipway_edge" && !("finish" in edge) && edge.metrics === true);
            assert.equal(c.apps.http.metrics, undefined);
        });

        it("serves them on an internal listener, :2020 on any path, with no TLS", () => {
            assert.deepEqual(c.apps.http.servers.metrics, {
                listen: [":2020"], routes: [{ handle: [{ handler: "metrics" }], terminal: true }], automatic_https: { disable: true },
            });
            assert.deepEqual(buildCaddyConfig(normalizeGateway("edge", localArgs(plainDocker())), { metricsListen: "127.0.0.1:1234" }).apps.http.servers.metrics!.listen, ["127.0.0.1:1234"]);
            assert.deepEqual(Object.keys(buildBootstrapConfig().apps.http.servers), ["health"], "the bootstrap (Caddy's own inputs) is unchanged");
        });

        it("are scraped at <gateway>:2020; the 5xx rules read the histogram's count by code", () => {
            assert.equal(gatewayMetricsTarget("gateway"), "gateway:2020");
            assert.equal(EDGE_METRICS.port, 2020);
            assert.equal(GATEWAY_METRICS.requests, `${EDGE_METRICS.requestDuration}_count`);
            assert.equal(GATEWAY_METRICS.statusLabel, EDGE_METRICS.statusLabel);
            // Sorted, and a 0.5 s and a 2 s bound, as the example API's histogram (the real-Caddy test reads them back).
            assert.deepEqual([...EDGE_METRICS.durationBuckets].sort((a, b) => a - b), EDGE_METRICS.durationBuckets);
            assert.ok(EDGE_METRICS.durationBuckets.includes(0.5) && EDGE_METRICS.durationBuckets.includes(2));
        });
    });

    describe("the Cloudflare rule (do-app)", () => {
        const n = normalizeGateway("edge", { ...domainArgs(plainDocker()), accessLog: undefined });

        it("blocks the path on the gateway's hosts, lowercased, segment-wise", () => {
            assert.equal(metricsPathExpression("/Metrics"), '(lower(http.request.uri.path) eq "/metrics" or starts_with(lower(http.request.uri.path), "/metrics/"))');
            const rule = metricsRule(n);
            assert.equal(rule.expression, `(http.host in {"api.example.com" "api.example.net"}) and ${metricsPathExpression("/metrics")}`);
            assert.equal(rule.action, "block");
            assert.equal(rule.ref, "slipway_edge_metrics");
            const custom = rulesets(n, "cloudflare").find(r => r.phase === "http_request_firewall_custom")!;
            assert.deepEqual(custom.rules.map(r => r.ref), ["slipway_edge_metrics", "slipway_edge_methods"]);
        });

        it("with a token, passes exactly its bearer header, as a secret expression", async () => {
            const rule = metricsRule(n, pulumi.secret(TOKEN));
            const expr = rule.expression as pulumi.Output<string>;
            assert.equal(await pulumi.isSecret(expr), true);
            const value = await new Promise<string>(r => expr.apply(v => { r(v); return v; }));
            assert.equal(value, `(http.host in {"api.example.com" "api.example.net"}) and ${metricsPathExpression("/metrics")}`
                + ` and not any(http.request.headers["authorization"][*] eq "Bearer ${TOKEN}")`);
            assert.doesNotMatch(String(rule.description), new RegExp(TOKEN));
            // A plain string in a non-production program is still sent as a secret.
            assert.equal(await pulumi.isSecret(metricsRule(n, TOKEN).expression as pulumi.Output<string>), true);
        });
    });

    describe("the config loader's token file", () => {
        const base = { configPath: "/etc/caddy/caddy.json", adminAddress: "unix//config/admin.sock", marker: "/tmp/m", attempts: 3, delaySeconds: 1 };

        it("installs the uploaded token owner-only and atomically before the push, or removes it", () => {
            const install = loaderScript({ ...base, tokenFile: { source: CONTAINER.metricsTokenUpload, file: TOKEN_FILE } });
            assert.match(install, /elif ! \{ umask 077 && mkdir -p '\/config\/secrets' && rm -f '\/config\/secrets\/\.metrics-token\.new' && cp '\/etc\/caddy\/metrics-token' '\/config\/secrets\/\.metrics-token\.new' && mv -f '\/config\/secrets\/\.metrics-token\.new' '\/config\/secrets\/metrics-token'; \}; then/);
            assert.ok(install.indexOf("umask 077") < install.indexOf("caddy reload"), "the file is in place before Caddy gets a config reading it");
            assert.ok(install.indexOf("was loaded before") < install.indexOf("umask 077"), "a restarted old loader (marker set) writes no old token");
            const remove = loaderScript({ ...base, tokenFile: { file: TOKEN_FILE } });
            assert.match(remove, /elif ! \{ rm -f '\/config\/secrets\/metrics-token'; \}; then\n {2}log 'could not remove the metrics token file/);
            assert.doesNotMatch(loaderScript(base), /metrics-token/, "left alone when not given");
            assert.throws(() => loaderScript({ ...base, tokenFile: { file: "secrets/token" } }), /absolute file path/);
        });
    });

    describe("normalize", () => {
        it("defaults to /metrics, refused for everyone", () => {
            assert.deepEqual(normalizeGateway("edge", localArgs(plainDocker())).publicMetrics, { path: DEFAULTS.publicMetrics.path, withToken: false });
            assert.deepEqual(normalizeGateway("edge", { ...localArgs(plainDocker()), publicMetrics: { path: "/m/", allowWithToken: TOKEN } }).publicMetrics,
                { path: "/m", withToken: true });
        });

        it("checks a token without ever quoting it", () => {
            assert.equal(metricsTokenProblem(TOKEN), undefined);
            assert.equal(metricsTokenProblem("abc+/_-.~" + "A".repeat(30) + "=="), undefined);
            for (const bad of ["short", "*".repeat(40), `${"a".repeat(40)} `, `${"a".repeat(40)}"`, `${"a".repeat(40)}{x}`, "a".repeat(513), 42]) {
                const p = metricsTokenProblem(bad);
                assert.ok(p, JSON.stringify(bad));
                if (typeof bad === "string") assert.ok(!p.includes(bad), p);
            }
        });
    });
});
