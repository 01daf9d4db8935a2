import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Recorder, isSecretValue, redact, valueOf } from "../../components/testing/recorder";
import { AppPart, toApiSpec } from "../../components/targets/app-spec";
import { doTarget, freshRecorder } from "../helpers/harness";
import { appSpecErrors, upperCaseKeys } from "../helpers/do-schema";
import { domainArgs, svc } from "../unit/gateway-fixtures";

const ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting";
const RULESET = "cloudflare:index/ruleset:Ruleset";
const DNS = "cloudflare:index/dnsRecord:DnsRecord";
const GATEWAY = "slipway:gateway:Gateway";
/** A zone id as Cloudflare's API gives it: 32 hex digits (a domain name or a made-up id is refused). */
const ZONE = "023e105f4ecef8ad9ca31a8372d0c353";

const servicePart = (name: string): AppPart => ({
    owner: `ApiService "${name}"`,
    services: [{ name, httpPort: 8080, image: { registryType: "DOCR", repository: name, tag: "1" } }],
});
/** A routable stand-in that also contributes its App part, as an ApiService on do-app does. */
const appSvc = (name: string, replicas?: number, port?: number) => ({ ...svc(name, replicas, port), appPart: servicePart(name) });

/** domainArgs without what App Platform cannot do (a log file), plus the Cloudflare zone. */
function doArgs(target: any, extra: Record<string, unknown> = {}) {
    const { accessLog: _drop, ...args } = domainArgs(target);
    return {
        ...args,
        cors: { allowOrigins: ["https://app.example.com", "https://admin.example.com"], allowCredentials: true, maxAgeSeconds: 3600 },
        // Enterprise: two zones, one counting by a header (the Free plan takes one 10s zone by IP).
        cloudflare: { zoneId: ZONE, plan: "enterprise" },
        ...extra,
    };
}

describe("Gateway on do-app", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    async function build(extra: Record<string, unknown> = {}) {
        const target = await doTarget();
        const { Gateway } = await import("../../components/gateway");
        const gw = new Gateway("edge", doArgs(target, extra) as any);
        await rec.settle();
        return { gw, target };
    }

    it("contributes one ingress rule per route, longest prefix first, with App Platform's prefix semantics", async () => {
        const { gw, target } = await build();
        assert.equal(gw.appPart!.owner, 'Gateway "edge"');
        // DoApp reaches the routed services through the gateway.
        assert.deepEqual(gw.appDependencies, doArgs(target).routes.map(r => r.service));
        const rules = gw.appPart!.ingressRules!;
        assert.deepEqual(rules.map(r => [(r.match as any).path.prefix, (r.component as any).name]), [
            ["/v1/media", "media"], ["/v1/core", "core"], ["/", "web"],
        ]);
        // App Platform strips the prefix by default; the gateway keeps it unless stripPrefix.
        assert.ok(rules.every(r => (r.component as any).preservePathPrefix === true));
        assert.deepEqual(rules[0]!.cors, {
            allowOrigins: { regex: "^(https://admin\\.example\\.com|https://app\\.example\\.com)$" },
            allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allowHeaders: ["Authorization", "Content-Type", "X-Request-ID"],
            exposeHeaders: ["X-Request-ID"],
            maxAge: "3600s",
            allowCredentials: true,
        });
        assert.equal(rec.ofType("docker:index/container:Container").length, 0);
    });

    it("uses an exact origin matcher for a single origin and honours stripPrefix", async () => {
        const { gw } = await build({
            cors: { allowOrigins: ["https://app.example.com"] },
            routes: [{ pathPrefix: "/media", service: svc("media"), stripPrefix: true }],
            rateLimits: undefined,
        });
        const rule = gw.appPart!.ingressRules![0]!;
        assert.deepEqual((rule.cors as any).allowOrigins, { exact: "https://app.example.com" });
        assert.equal((rule.component as any).preservePathPrefix, false);
    });

    it("declares the domains (first PRIMARY) and the proxied Cloudflare records an edge must point at the App", async () => {
        const { gw } = await build();
        assert.deepEqual(gw.appPart!.domainNames, [{ name: "api.example.com", type: "PRIMARY" }, { name: "api.example.net", type: "ALIAS" }]);
        assert.deepEqual(gw.edgeRecords, [
            { zoneId: ZONE, hostname: "api.example.com", proxied: true },
            { zoneId: ZONE, hostname: "api.example.net", proxied: true },
        ]);
        assert.equal(await valueOf(gw.url), "https://api.example.com");
        assert.equal(rec.ofType(DNS).length, 0, "the records need the App: CloudflareEdge creates them, not the gateway");
    });

    it("hardens the Cloudflare zone: strict TLS from 1.2, HTTPS only, HSTS", async () => {
        await build();
        const byId = Object.fromEntries(rec.ofType(ZONE_SETTING).map(r => [r.inputs.settingId, r.inputs]));
        assert.deepEqual(Object.keys(byId).sort(), ["always_use_https", "min_tls_version", "security_header", "ssl"]);
        assert.equal(byId.ssl!.value, "strict");
        assert.equal(byId.min_tls_version!.value, "1.2");
        assert.equal(byId.always_use_https!.value, "on");
        // Snake case inside `value`: it is untyped, so Pulumi sends it to Cloudflare's API unrenamed.
        assert.deepEqual(byId.security_header!.value, {
            strict_transport_security: { enabled: true, max_age: 31536000, include_subdomains: true, preload: false, nosniff: true },
        });
        assert.ok(rec.ofType(ZONE_SETTING).every(r => r.inputs.zoneId === ZONE));
    });

    it("carries the gateway's own HSTS policy into Cloudflare's security_header, keyed as the API reads it", async () => {
        const sts = () => (rec.ofType(ZONE_SETTING).find(r => r.inputs.settingId === "security_header")!.inputs.value as any);
        await build({ securityHeaders: { hsts: { maxAgeSeconds: 63072000, includeSubDomains: true, preload: true } } });
        assert.deepEqual(sts(), {
            strict_transport_security: { enabled: true, max_age: 63072000, include_subdomains: true, preload: true, nosniff: true },
        });
        rec.clear();
        await build({ securityHeaders: { hsts: { maxAgeSeconds: 600, includeSubDomains: false } } });
        assert.deepEqual(sts(), {
            strict_transport_security: { enabled: true, max_age: 600, include_subdomains: false, preload: false, nosniff: true },
        });
        rec.clear();
        await build({ securityHeaders: { hsts: false } });
        assert.equal(rec.ofType(ZONE_SETTING).find(r => r.inputs.settingId === "security_header"), undefined, "no HSTS, no setting");
    });

    it("derives Cloudflare rate-limit rules from the same zones Caddy uses", async () => {
        await build();
        const rl = rec.get(RULESET, "edge-cf-ratelimit").inputs as Record<string, any>;
        assert.equal(rl.phase, "http_ratelimit");
        assert.equal(rl.kind, "zone");
        const [core, partner] = rl.rules;
        assert.deepEqual(core.ratelimit, { characteristics: ["cf.colo.id", "ip.src"], period: 60, requestsPerPeriod: 100, mitigationTimeout: 60 });
        assert.equal(core.action, "block");
        assert.equal(core.actionParameters.response.statusCode, 429);
        assert.equal(core.expression,
            '(http.host in {"api.example.com" "api.example.net"}) and ((http.request.uri.path eq "/v1/core" or starts_with(http.request.uri.path, "/v1/core/")))');
        assert.deepEqual(partner.ratelimit.characteristics, ["cf.colo.id", 'http.request.headers["x-api-key"]']);
        assert.equal(partner.ratelimit.period, 10);
    });

    it("excludes longer routes from a zone, as Caddy does", async () => {
        await build({
            routes: [
                { pathPrefix: "/v1", service: svc("core"), rateLimit: "core" },
                { pathPrefix: "/v1/media", service: svc("media"), rateLimit: "partner" },
            ],
        });
        const rl = rec.get(RULESET, "edge-cf-ratelimit").inputs as Record<string, any>;
        assert.match(rl.rules[0].expression,
            /\(\(http\.request\.uri\.path eq "\/v1" or starts_with\(http\.request\.uri\.path, "\/v1\/"\)\) and not \(\(http\.request\.uri\.path eq "\/v1\/media"/);
    });

    it("adds managed WAF, a custom method rule and the security headers Cloudflare can set", async () => {
        await build();
        const managed = rec.get(RULESET, "edge-cf-waf-managed").inputs as Record<string, any>;
        assert.equal(managed.phase, "http_request_firewall_managed");
        assert.equal(managed.rules[0].action, "execute");
        assert.equal(managed.rules[0].actionParameters.id, "efb7b8c949ac4650a09736fc376e9aee");
        const custom = rec.get(RULESET, "edge-cf-waf-custom").inputs as Record<string, any>;
        assert.equal(custom.phase, "http_request_firewall_custom");
        assert.deepEqual(custom.rules.map((r: any) => r.ref), ["slipway_edge_metrics", "slipway_edge_methods"]);
        assert.match(custom.rules[1].expression, /http\.request\.method in \{"CONNECT" "TRACE" "TRACK"\}/);
        const headers = rec.get(RULESET, "edge-cf-headers").inputs as Record<string, any>;
        assert.equal(headers.phase, "http_response_headers_transform");
        assert.deepEqual(headers.rules[0].actionParameters.headers["X-Frame-Options"], { operation: "set", value: "DENY" });
        assert.equal(headers.rules[0].actionParameters.headers["Strict-Transport-Security"], undefined, "HSTS is the zone setting's job");
        const gw = rec.ofType(GATEWAY)[0]!;
        for (const r of [...rec.ofType(RULESET), ...rec.ofType(ZONE_SETTING)]) assert.equal(r.parent, gw.urn);
    });

    it("uses the Free Managed Ruleset or none when asked, and leaves the zone alone without manageZone", async () => {
        await build({ cloudflare: { zoneId: ZONE, plan: "enterprise", wafManagedRuleset: "free" } });
        assert.equal((rec.get(RULESET, "edge-cf-waf-managed").inputs as any).rules[0].actionParameters.id, "77454fe2d30c4220b5701f6fdfb893ba");
        rec.clear();
        const target = await doTarget();
        const { Gateway } = await import("../../components/gateway");
        new Gateway("nowaf", doArgs(target, { cloudflare: { zoneId: ZONE, plan: "enterprise", wafManagedRuleset: "none" } }) as any);
        await rec.settle();
        assert.deepEqual(rec.ofType(RULESET).map(r => r.name).sort(), ["nowaf-cf-headers", "nowaf-cf-ratelimit", "nowaf-cf-waf-custom"]);
        rec.clear();
        const gw = new Gateway("quiet", doArgs(target, { cloudflare: { zoneId: ZONE, manageZone: false } }) as any);
        await rec.settle();
        assert.equal(rec.ofType(RULESET).length + rec.ofType(ZONE_SETTING).length, 0);
        assert.equal(gw.edgeRecords!.length, 2, "DNS records are still asked for");
    });

    describe("the public metrics path", () => {
        const metricsRule = () => (redact(rec.get(RULESET, "edge-cf-waf-custom").inputs.rules, true) as any[]).find((r: any) => r.ref === "slipway_edge_metrics");
        const hostsAndPath = '(http.host in {"api.example.com" "api.example.net"}) and '
            + '(lower(http.request.uri.path) eq "/metrics" or starts_with(lower(http.request.uri.path), "/metrics/"))';

        it("is blocked on the gateway's hosts by default, by a plain custom firewall rule", async () => {
            await build();
            const rule = metricsRule();
            assert.equal(rule.expression, hostsAndPath);
            assert.equal(rule.action, "block");
            assert.equal(rule.actionParameters, undefined, "Cloudflare's own block page: a custom response is not on every plan");
            assert.equal(rule.enabled, true);
        });

        it("lets through exactly `Authorization: Bearer <token>`, the token a secret input that no description holds", async () => {
            const token = "s3cr3tScrapeToken0123456789abcdefXYZ";
            await build({ publicMetrics: { path: "/Internal/Metrics", allowWithToken: pulumi.secret(token) } });
            const custom = rec.get(RULESET, "edge-cf-waf-custom");
            const rule = (redact(custom.inputs.rules, true) as any[]).find((r: any) => r.ref === "slipway_edge_metrics");
            assert.equal(rule.expression, '(http.host in {"api.example.com" "api.example.net"}) and '
                + '(lower(http.request.uri.path) eq "/internal/metrics" or starts_with(lower(http.request.uri.path), "/internal/metrics/"))'
                + ` and not any(http.request.headers["authorization"][*] eq "Bearer ${token}")`);
            // As sent to the engine: the expression alone is a secret, the rest of the rule stays readable.
            const wire = (custom.wire as any).rules.find((r: any) => r.ref === "slipway_edge_metrics");
            assert.ok(isSecretValue(wire.expression), "the expression is sent as a secret");
            assert.equal(wire.action, "block");
            assert.ok(!JSON.stringify({ ...wire, expression: undefined }).includes(token));
            assert.ok(!JSON.stringify(rec.resources.map(r => redact(r.wire))).includes(token), "nothing but that secret carries it");
            // Nothing of it reaches the App spec.
            const { gw } = await build({ publicMetrics: { allowWithToken: pulumi.secret(token) } });
            assert.ok(!JSON.stringify(gw.appPart).includes(token));
        });

        it("takes a plain token outside production too (a dev stack), and still sends it as a secret", async () => {
            const target = await doTarget("staging", false);
            const { Gateway } = await import("../../components/gateway");
            new Gateway("edge", doArgs(target, { publicMetrics: { allowWithToken: "plainButLongEnoughToken_0123456789" } }) as any);
            await rec.settle();
            const wire = (rec.get(RULESET, "edge-cf-waf-custom").wire as any).rules[0];
            assert.ok(isSecretValue(wire.expression));
        });

        it("is refused without a Cloudflare zone to enforce it in", async () => {
            const target = await doTarget();
            const { Gateway } = await import("../../components/gateway");
            assert.throws(() => new Gateway("edge", { target, routes: [{ pathPrefix: "/", service: svc("core") }], publicMetrics: {} }),
                /Gateway "edge": publicMetrics: is enforced by a Cloudflare rule on the gateway's domains, and there are none.*Fix: add domains and cloudflare/);
            assert.throws(() => new Gateway("edge", doArgs(target, { cloudflare: { zoneId: ZONE, manageZone: false }, publicMetrics: {} }) as any),
                /publicMetrics: is enforced by a Cloudflare rule, and cloudflare\.manageZone is false/);
        });
    });

    it("without domains: routes only, no Cloudflare, no URL of its own", async () => {
        const target = await doTarget();
        const { Gateway } = await import("../../components/gateway");
        const gw = new Gateway("edge", { target, routes: [{ pathPrefix: "/", service: svc("core") }] });
        await rec.settle();
        assert.equal(gw.appPart!.domainNames, undefined);
        assert.deepEqual(gw.edgeRecords, [], "no records to point");
        assert.equal(rec.resources.filter(r => r.type.startsWith("cloudflare:")).length, 0);
        assert.equal(await valueOf(gw.url), undefined);
    });

    it("merges with its services into an App spec DigitalOcean's schema accepts, and CloudflareEdge creates the DNS records", async () => {
        const { gw, target } = await build({
            routes: [
                { pathPrefix: "/", service: appSvc("web", 1, 3000) },
                { pathPrefix: "/v1/core", service: appSvc("core", 3), rateLimit: "core" },
                { pathPrefix: "/v1/media", service: appSvc("media", 1, 9000), rateLimit: "partner" },
            ],
        });
        const { DoApp } = await import("../../components/targets/do-app");
        const { CloudflareEdge } = await import("../../components/targets/cloudflare-edge");
        // The gateway alone: it brings the services it routes to.
        const app = new DoApp("app", { target, components: [gw], secretValues: "send" });
        new CloudflareEdge("edge-dns", { app, records: gw.edgeRecords!, production: target.production });
        await app.app;
        await rec.settle();
        assert.deepEqual((app.spec.services as { name: string }[]).map(s => s.name), ["core", "media", "web"]);
        const api = toApiSpec(await valueOf(pulumi.output(app.spec)));
        assert.deepEqual(appSpecErrors(api), []);
        assert.deepEqual(upperCaseKeys(api), []);
        assert.deepEqual((api as any).domains.map((d: any) => [d.domain, d.type]), [["api.example.com", "PRIMARY"], ["api.example.net", "ALIAS"]]);
        assert.deepEqual((api as any).ingress.rules[0].cors.allow_origins, [{ regex: "^(https://admin\\.example\\.com|https://app\\.example\\.com)$" }]);
        assert.deepEqual(rec.ofType(DNS).map(r => [r.inputs.name, r.inputs.proxied, r.inputs.zoneId]).sort(),
            [["api.example.com", true, ZONE], ["api.example.net", true, ZONE]]);
    });

    it("builds both targets from the same normalized routes", async () => {
        const { gw: onDo } = await build();
        // Public domains with ACME on docker need a host the internet reaches.
        const { DockerHost } = await import("../../components/targets/docker-host");
        const docker = new DockerHost("host-public", { environment: "dev", publishAddress: "0.0.0.0" }).target;
        const { Gateway } = await import("../../components/gateway");
        const { cloudflare: _cf, cors: _c, ...shared } = doArgs(docker);
        const onDocker = new Gateway("edge-docker", shared as any);
        await rec.settle();
        const table = (routes: typeof onDo.routes) => routes.map(r => [r.pathPrefix, r.service.name, r.stripPrefix, r.rateLimit]);
        assert.deepEqual(table(onDocker.routes), table(onDo.routes));
        const caddyPrefixes = [...onDocker.caddyJson!.matchAll(/"handler": "reverse_proxy"/g)].length;
        assert.equal(caddyPrefixes, onDo.appPart!.ingressRules!.length);
    });
});
