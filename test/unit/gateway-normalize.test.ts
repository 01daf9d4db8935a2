import { strict as assert } from "assert";
import { validateGateway } from "../../components/gateway";
import { normalizeGateway, parseDuration, parseSize, underPrefix } from "../../components/gateway/normalize";
import { localArgs, plainDo, plainDocker, publicDocker, svc } from "./gateway-fixtures";

describe("Gateway normalize", () => {
    it("parses sizes the way Caddy reads them (KB decimal, KiB binary)", () => {
        assert.equal(parseSize("10MB"), 10_000_000);
        assert.equal(parseSize("1KiB"), 1024);
        assert.equal(parseSize("1.5 MiB"), 1_572_864);
        assert.equal(parseSize("4096"), 4096);
        for (const bad of ["lots", "", "-1MB", "10 parsecs", "0"]) assert.equal(parseSize(bad), undefined, bad);
    });

    it("parses Go-style durations, optionally limited to some units", () => {
        assert.equal(parseDuration("250ms"), 250);
        assert.equal(parseDuration("1m30s"), 90_000);
        assert.equal(parseDuration("500ms", ["s", "m", "h"]), undefined);
        for (const bad of ["abc", "1", "1d", "-1s", " 1s"]) assert.equal(parseDuration(bad), undefined, bad);
    });

    it("matches prefixes segment-wise", () => {
        assert.ok(underPrefix("/v1/x", "/v1"));
        assert.ok(underPrefix("/v1", "/v1"));
        assert.ok(!underPrefix("/v10", "/v1"));
        assert.ok(underPrefix("/anything", "/"));
    });

    it("defaults TLS from the domains: off locally, auto for public names", () => {
        assert.equal(normalizeGateway("g", localArgs(plainDocker())).tls, "off");
        assert.equal(normalizeGateway("g", { ...localArgs(plainDocker()), domains: ["localhost"] }).tls, "off");
        assert.equal(normalizeGateway("g", { ...localArgs(publicDocker()), domains: ["api.example.com"] }).tls, "auto");
        assert.equal(normalizeGateway("g", { ...localArgs(plainDocker()), domains: ["api.example.com"], tls: "off" }).tls, "off");
    });

    it("keeps public domains on a loopback-only host possible with the internal CA, not with ACME", () => {
        const args = { ...localArgs(plainDocker()), domains: ["api.example.com"] };
        assert.equal(validateGateway("g", { ...args, tls: "internal" }).tls, "internal");
        assert.equal(validateGateway("g", { ...args, tls: "off" }).tls, "off");
        assert.throws(() => validateGateway("g", args), /publishes on 127\.0\.0\.1/);
        assert.throws(() => validateGateway("g", { ...args, target: plainDocker(false, "127.0.0.2") }), /publishes on 127\.0\.0\.2/);
        assert.equal(validateGateway("g", { ...args, target: plainDocker(false, "203.0.113.7") }).tls, "auto");
        // The loopback rule is docker's: the target-neutral normalize does not know where a host publishes.
        assert.equal(normalizeGateway("g", args).tls, "auto");
    });

    it("publishes 8080 locally and 80/443 with TLS", () => {
        assert.deepEqual(normalizeGateway("g", localArgs(plainDocker())).publishPorts, { http: 8080, https: undefined });
        assert.deepEqual(normalizeGateway("g", { ...localArgs(publicDocker()), domains: ["api.example.com"] }).publishPorts, { http: 80, https: 443 });
    });

    it("fills burst and key defaults, and keeps zones sorted", () => {
        const n = normalizeGateway("g", {
            target: plainDocker(),
            routes: [{ pathPrefix: "/b", service: svc(), rateLimit: "zeta" }, { pathPrefix: "/a", service: svc(), rateLimit: "alpha" }],
            rateLimits: { zeta: { events: 3, window: "10s" }, alpha: { events: 1, window: "1h", burst: 4, key: "header:X-Api-Key" } },
        });
        assert.deepEqual(n.rateLimits.map(z => [z.name, z.burst, z.key, z.windowMs]), [
            ["alpha", 4, { kind: "header", header: "X-Api-Key" }, 3_600_000],
            ["zeta", 3, { kind: "ip" }, 10_000],
        ]);
    });

    it("builds the security headers from defaults and overrides", () => {
        const d = normalizeGateway("g", localArgs(plainDocker())).securityHeaders;
        assert.deepEqual(Object.keys(d), ["Content-Security-Policy", "Referrer-Policy", "Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options"]);
        const o = normalizeGateway("g", {
            ...localArgs(plainDocker()),
            securityHeaders: { hsts: { preload: true }, contentSecurityPolicy: false, frameOptions: "SAMEORIGIN" },
        }).securityHeaders;
        assert.equal(o["Strict-Transport-Security"], "max-age=31536000; includeSubDomains; preload");
        assert.equal(o["Content-Security-Policy"], undefined);
        assert.equal(o["X-Frame-Options"], "SAMEORIGIN");
    });

    it("accepts do-app without a dial host list (App Platform routes by component name)", () => {
        const e = { ...svc().endpoint, dialHosts: [] };
        const n = validateGateway("g", { target: plainDo(), routes: [{ pathPrefix: "/", service: { endpoint: e } }] });
        assert.equal(n.routes[0]!.service.name, "api");
    });
});
