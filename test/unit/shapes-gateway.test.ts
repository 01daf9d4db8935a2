// Gateway's strict Args (issue 9): GATEWAY_SHAPE checked first in normalizeGateway (unknown keys at
// every depth with a did-you-mean, YAML 1.1 booleans refused, types before meaning), then meaning;
// and the shape's JSON Schema agreeing with the constructor key by key. Every bad input asserts
// component, exact path, problem, fix and that nothing registered (expectConfigError).
import { clone, getAt, setAt, shapePaths } from "../helpers/shape-paths";
import { strict as assert } from "assert";
import Ajv2020 from "ajv/dist/2020";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { Shape, toJsonSchema } from "../../components/core/shape";
import type { Target } from "../../components/core/target";
import { GATEWAY_SHAPE } from "../../components/gateway/normalize";
import { Recorder } from "../../components/testing/recorder";
import { expectConfigError } from "../helpers/config-error";
import { dockerTarget, doTarget, freshRecorder } from "../helpers/harness";
import { svc } from "./gateway-fixtures";

type On = "docker" | "do-app";
const BOTH: On[] = ["docker", "do-app"];
const ROOT = path.resolve(__dirname, "../..");
const ZONE = "023e105f4ecef8ad9ca31a8372d0c353";
const TOKEN = "c2hhcGVzLXRlc3Qtc2NyYXBlLXRva2VuLTAxMjM0NTY";
const CA_PEM = fs.readFileSync(path.join(ROOT, "test", "fixtures", "acme", "private-ca.pem"), "utf8");

/**
 * A stack-file block that sets every typed path of the shape (routes name services, as in a
 * stack file). Not accepted as a whole by either target: see `acceptedOn`.
 */
const FULL = {
    routes: [
        { pathPrefix: "/v1", service: "api", stripPrefix: false, rateLimit: "general", jwt: {
            issuer: "https://auth.example.com/", audience: "api", algorithms: ["RS256"], jwksUrl: "https://auth.example.com/jwks", jwksRefresh: "5m",
            // Every key source, for the paths; acceptedOn keeps one.
            publicKey: "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n", hmacSecret: "s".repeat(32),
            forwardClaims: { sub: "X-User-Id", general: "X-Claim-General" }, clockSkew: "30s",
        } },
    ],
    domains: ["api.example.com"],
    tls: "auto",
    email: "ops@example.com",
    acme: { directory: "https://acme-staging-v02.api.letsencrypt.org/directory", caRoot: CA_PEM },
    rateLimits: { general: { events: 100, window: "1m", burst: 150, key: "ip" } },
    securityHeaders: {
        hsts: { maxAgeSeconds: 31536000, includeSubDomains: true, preload: false },
        contentSecurityPolicy: "default-src 'none'", frameOptions: "SAMEORIGIN", referrerPolicy: "no-referrer", stripServer: true,
    },
    cors: {
        allowOrigins: ["https://app.example.com"], allowMethods: ["GET"], allowHeaders: ["Content-Type"], exposeHeaders: ["X-Request-ID"],
        maxAgeSeconds: 600, allowCredentials: true,
    },
    maxBodySize: "10MB",
    compression: ["gzip"],
    accessLog: { stdout: true, file: "/var/log/caddy/access.log", redactHeaders: ["X-Partner-Token"], redactQuery: ["partner_key"], sampleHealthChecks: 10 },
    upstream: {
        healthInterval: "10s", healthTimeout: "5s", failDuration: "30s", maxFails: 3, tryDuration: "5s", tryInterval: "250ms",
        dialTimeout: "5s", responseHeaderTimeout: "30s", healthCheck: "health",
    },
    publishPort: 8081,
    publishHttpsPort: 8443,
    // The build form: it has the nested paths (a reference is a plain string, checked below).
    image: { build: { args: { GO_IMAGE: "golang:1.26.8-bookworm", BASE_IMAGE: "debian:bookworm-slim", GOPROXY: "https://proxy.golang.org", GOSUMDB: "sum.golang.org" }, platform: "linux/amd64" } },
    cloudflare: {
        zoneId: ZONE, accountId: "0123456789abcdef0123456789abcdef", manageZone: true, wafManagedRuleset: "free", plan: "business", edgeRateLimits: true,
        originIpv4: "203.0.113.10", originIpv6: "2001:db8::10", proxied: true, originLock: { clientCa: CA_PEM }, trustedProxies: ["173.245.48.0/20"],
    },
    publicMetrics: { path: "/metrics", allowWithToken: TOKEN },
};

/** FULL without what a target refuses on meaning (one JWT key source on docker; no JWT on do-app). */
function acceptedOn(on: On): Record<string, unknown> {
    const b = clone(FULL) as Record<string, unknown> & typeof FULL;
    const route = b.routes[0] as { jwt?: { publicKey?: string; hmacSecret?: string } };
    delete route.jwt!.publicKey;
    delete route.jwt!.hmacSecret;
    if (on === "do-app") delete route.jwt;
    if (on === "docker") {
        // Everything: docker takes the whole cloudflare block too.
    } else {
        for (const k of ["originIpv4", "originIpv6", "proxied", "originLock", "trustedProxies"]) delete (b.cloudflare as Record<string, unknown>)[k];
        delete (b as { maxBodySize?: unknown }).maxBodySize;
        delete (b.accessLog as { file?: string }).file;
        delete (b.accessLog as { sampleHealthChecks?: number }).sampleHealthChecks;
        delete (b as { publishHttpsPort?: unknown }).publishHttpsPort;
        delete (b as { acme?: unknown }).acme;
    }
    return b;
}

/**
 * The schema a stack file's block is checked against: toJsonSchema(GATEWAY_SHAPE), with a route's
 * `service` (a program value in the shape) as the service name the stack maps, as stack/schema.ts does.
 */
function stackBlockSchema(): Record<string, unknown> {
    const j = toJsonSchema(GATEWAY_SHAPE)! as { properties: Record<string, { items?: { properties: Record<string, unknown>; required?: string[] } }> };
    j.properties.routes!.items!.properties.service = { type: "string" };
    return j;
}

let validateJson: ((x: unknown) => boolean) & { errors?: unknown } | undefined;
function schemaAccepts(block: unknown): boolean {
    validateJson ??= new Ajv2020({ allErrors: true, strict: false }).compile(stackBlockSchema());
    return validateJson(block);
}


/** The block as the program passes it: the target added, each route's service name mapped to a stand-in service. */
function toArgs(block: Record<string, unknown>, target: Target): Record<string, unknown> {
    const routes = Array.isArray(block.routes)
        ? block.routes.map(r => (r && typeof r === "object" && typeof (r as { service?: unknown }).service === "string"
            ? { ...r, service: svc((r as { service: string }).service) } : r))
        : block.routes;
    return { ...block, target, routes };
}



/** A value of the wrong type for `s`, as a YAML author might write one (no option of a oneOf takes a number here). */
function wrongTyped(s: Shape): unknown {
    switch (s.kind) {
        case "string": case "input": case "oneOf": return 15;
        case "number": return "many";
        case "boolean": return 1;
        case "list": case "object": case "record": return "x";
        case "program": return undefined;
    }
}

describe("Gateway strict Args (issue 9)", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    /** Targets as the checks need them: docker publishing on 0.0.0.0 (ACME), do-app outside production (a plain token). */
    async function targetFor(on: On, production = false): Promise<Target> {
        if (on === "do-app") return doTarget(production ? "prod" : "staging", production);
        const { DockerHost } = await import("../../components/targets/docker-host");
        return new DockerHost(`host-${production ? "prod" : "dev"}`, { environment: production ? "prod" : "dev", production, publishAddress: "0.0.0.0" }).target;
    }

    async function rejects(target: Target, args: Record<string, unknown>, at: string, problem: RegExp, fix: RegExp) {
        const { Gateway } = await import("../../components/gateway");
        return expectConfigError(rec, () => new Gateway("gateway", args as never), { component: 'Gateway "gateway"', path: at, problem, fix });
    }

    /** A small valid gateway with `extra` over it (stack-file form). */
    const small = (extra: Record<string, unknown> = {}) => ({ routes: [{ pathPrefix: "/", service: "api", rateLimit: "general" }], rateLimits: { general: { events: 100, window: "1m" } }, ...extra });

    describe("bad input, each with its exact path, problem and fix", () => {
        interface Case { name: string; on?: On[]; production?: boolean; block: Record<string, unknown>; path: string; problem: RegExp; fix: RegExp }
        const cases: Case[] = [
            // Unknown keys at every depth, with a did-you-mean.
            { name: "rateLimit (singular) at the top", block: small({ rateLimit: { general: { events: 1, window: "1m" } } }),
                path: "rateLimit", problem: /is not a known setting/, fix: /did you mean "rateLimits"\?/ },
            { name: "a key with nothing near it", block: small({ loadBalancer: { policy: "least_conn" } }),
                path: "loadBalancer", problem: /is not a known setting/, fix: /remove it; the known settings are target, routes, domains/ },
            { name: "pathprefix in a route", block: { routes: [{ pathprefix: "/", service: "api" }] },
                path: "routes[0].pathprefix", problem: /is not a known setting/, fix: /did you mean "pathPrefix"\?/ },
            { name: "strip_prefix in a route", block: { routes: [{ pathPrefix: "/v1", service: "api", strip_prefix: true }] },
                path: "routes[0].strip_prefix", problem: /is not a known setting/, fix: /did you mean "stripPrefix"\?/ },
            { name: "burts in a rate-limit zone", block: small({ rateLimits: { general: { events: 5, window: "1m", burts: 10 } } }),
                path: "rateLimits.general.burts", problem: /is not a known setting/, fix: /did you mean "burst"\?/ },
            { name: "allowOrigin in cors", block: small({ cors: { allowOrigin: ["https://app.example.com"] } }),
                path: "cors.allowOrigin", problem: /is not a known setting/, fix: /did you mean "allowOrigins"\?/ },
            { name: "maxAge in hsts (too far from maxAgeSeconds for a guess)", block: small({ securityHeaders: { hsts: { maxAge: 600 } } }),
                path: "securityHeaders.hsts.maxAge", problem: /is not a known setting/, fix: /remove it; the known settings are maxAgeSeconds, includeSubDomains, preload/ },
            { name: "healthcheck (lowercase) in upstream", block: small({ upstream: { healthcheck: "ready" } }),
                path: "upstream.healthcheck", problem: /is not a known setting/, fix: /did you mean "healthCheck"\?/ },
            { name: "fil in the access log", block: small({ accessLog: { stdout: true, fil: "/var/log/caddy/access.log" } }),
                path: "accessLog.fil", problem: /is not a known setting/, fix: /did you mean "file"\?/ },
            { name: "zoneID in cloudflare", on: ["do-app"], block: small({ domains: ["api.example.com"], cloudflare: { zoneID: ZONE } }),
                path: "cloudflare.zoneID", problem: /is not a known setting/, fix: /did you mean "zoneId"\?/ },
            { name: "allowWithTokens in publicMetrics", block: small({ publicMetrics: { allowWithTokens: TOKEN } }),
                path: "publicMetrics.allowWithTokens", problem: /is not a known setting/, fix: /did you mean "allowWithToken"\?/ },
            // YAML 1.1 booleans, as the yaml package (YAML 1.2) reads them: strings.
            { name: "allowCredentials: no", block: small({ cors: (parse("allowOrigins: [\"https://app.example.com\"]\nallowCredentials: no") as object) }),
                path: "cors.allowCredentials", problem: /is the string "no", not a boolean \(YAML 1\.2 reads yes\/no\/on\/off as text\)/, fix: /write false/ },
            { name: "stripPrefix: yes", block: { routes: [{ pathPrefix: "/v1", service: "api", stripPrefix: "yes" }] },
                path: "routes[0].stripPrefix", problem: /is the string "yes", not a boolean/, fix: /write true/ },
            { name: "manageZone: off", on: ["do-app"], block: small({ domains: ["api.example.com"], cloudflare: { zoneId: ZONE, manageZone: "off" } }),
                path: "cloudflare.manageZone", problem: /is the string "off", not a boolean/, fix: /write false/ },
            { name: "stdout: on in the access log", block: small({ accessLog: { stdout: "on" } }),
                path: "accessLog.stdout", problem: /is the string "on", not a boolean/, fix: /write true/ },
            // Types before meaning.
            { name: "a quoted publishPort", on: ["docker"], block: small({ publishPort: "8080" }),
                path: "publishPort", problem: /must be a number, got the string "8080"/, fix: /write it without quotes: 8080/ },
            { name: "one domain as a string", block: small({ domains: "api.example.com" }),
                path: "domains", problem: /must be a list, got the string "api\.example\.com"/, fix: /write \[api\.example\.com\]/ },
            { name: "a quoted events count", block: small({ rateLimits: { general: { events: "100", window: "1m" } } }),
                path: "rateLimits.general.events", problem: /must be a number, got the string "100"/, fix: /without quotes: 100/ },
            { name: "a window in seconds as a number (type, before \"not a window\")", block: small({ rateLimits: { general: { events: 100, window: 60 } } }),
                path: "rateLimits.general.window", problem: /must be a string, got the number 60/, fix: /quote it: "60"/ },
            { name: "compression as one encoding", block: small({ compression: "gzip" }),
                path: "compression", problem: /must be a list, got the string "gzip"/, fix: /write \[gzip\]/ },
            { name: "routes as a mapping", block: { routes: { "/": "api" } },
                path: "routes", problem: /must be a list, got a mapping/, fix: /one "- item" per line/ },
            { name: "a route given as its prefix", block: { routes: [{ pathPrefix: "/", service: "api" }, "/v2"] },
                path: "routes[1]", problem: /must be a mapping, got the string "\/v2"/, fix: /key: value pairs/ },
            { name: "a route without its service", block: { routes: [{ pathPrefix: "/" }] },
                path: "routes[0].service", problem: /is missing/, fix: /add service/ },
            { name: "maxBodySize as a bare number", on: ["docker"], block: small({ maxBodySize: 10 }),
                path: "maxBodySize", problem: /must be a string, got the number 10/, fix: /quote it: "10"/ },
            { name: "a quoted CORS max age", block: small({ cors: { allowOrigins: ["https://app.example.com"], maxAgeSeconds: "600" } }),
                path: "cors.maxAgeSeconds", problem: /must be a number, got the string "600"/, fix: /without quotes: 600/ },
            { name: "cors without its origins", block: small({ cors: { allowCredentials: true } }),
                path: "cors.allowOrigins", problem: /is missing/, fix: /add allowOrigins/ },
            { name: "an image given as a number", block: small({ image: 42 }),
                path: "image", problem: /must be an image reference, or \{ build: true \} .*, got the number 42/, fix: /write an image reference/ },
            { name: "accessLog: stdout (a word, not a block)", block: small({ accessLog: "stdout" }),
                path: "accessLog", problem: /must be an object such as \{ stdout: true \}, or false, got the string "stdout"/, fix: /write an object/ },
            { name: "frameOptions: 1", block: small({ securityHeaders: { frameOptions: 1 } }),
                path: "securityHeaders.frameOptions", problem: /must be "DENY", "SAMEORIGIN" or false, got the number 1/, fix: /write "DENY"/ },
            { name: "rateLimits as a list", block: small({ rateLimits: [{ general: { events: 1, window: "1m" } }] }),
                path: "rateLimits", problem: /must be a mapping, got a list/, fix: /key: value pairs/ },
            { name: "a zone written as a rate", block: small({ rateLimits: { general: "100/1m" } }),
                path: "rateLimits.general", problem: /must be a mapping, got the string "100\/1m"/, fix: /key: value pairs/ },
            { name: "email as a list", on: ["docker"], block: small({ domains: ["api.example.com"], email: ["ops@example.com"] }),
                path: "email", problem: /must be a string, got a list/, fix: /write it as text/ },
            { name: "tls: true", on: ["docker"], block: small({ tls: true }),
                path: "tls", problem: /must be a string, got the boolean true/, fix: /use one of auto, internal, off/ },
            { name: "a scrape token as a number", block: small({ publicMetrics: { allowWithToken: 12345 } }),
                path: "publicMetrics.allowWithToken", problem: /must be a string, got the number 12345/, fix: /quote it/ },
            // Meaning, once the types are right.
            { name: "a domain name as the Cloudflare zone id", on: ["do-app"], block: small({ domains: ["api.example.com"], cloudflare: { zoneId: "example.com" } }),
                path: "cloudflare.zoneId", problem: /"example\.com" is not a zone id \(it is a domain name\)/, fix: /32 lowercase hexadecimal digits/ },
            { name: "a zone id one digit short", on: ["do-app"], block: small({ domains: ["api.example.com"], cloudflare: { zoneId: ZONE.slice(1) } }),
                path: "cloudflare.zoneId", problem: /is not a zone id$/, fix: /32 lowercase hexadecimal digits/ },
            { name: "a zone id in capitals", on: ["do-app"], block: small({ domains: ["api.example.com"], cloudflare: { zoneId: ZONE.toUpperCase() } }),
                path: "cloudflare.zoneId", problem: /is not a zone id \(in capitals\)/, fix: /lowercase/ },
            { name: "a metrics path without its slash", block: small({ publicMetrics: { path: "metrics" } }),
                path: "publicMetrics.path", problem: /"metrics" does not start with "\/"/, fix: /write it as "\/metrics"/ },
            { name: "the root as the metrics path", block: small({ publicMetrics: { path: "/" } }),
                path: "publicMetrics.path", problem: /"\/" would refuse every request without the token/, fix: /"\/metrics"/ },
            { name: "a short scrape token (never quoted back)", block: small({ publicMetrics: { allowWithToken: "hunter2-hunter2" } }),
                path: "publicMetrics.allowWithToken", problem: /^is 15 characters long; a scrape token has 32 to 512$/, fix: /random\.RandomPassword/ },
            { name: "a scrape token with a wildcard", block: small({ publicMetrics: { allowWithToken: `${TOKEN}*` } }),
                path: "publicMetrics.allowWithToken", problem: /characters a bearer token cannot carry/, fix: /special: false/ },
            { name: "a plain-text scrape token in production", on: ["docker"], production: true,
                block: small({ domains: ["api.example.com"], publicMetrics: { allowWithToken: TOKEN } }),
                path: "publicMetrics.allowWithToken", problem: /is plain text in a production program/, fix: /\{ secret: <configKey> \} in the stack file/ },
        ];
        for (const c of cases) {
            for (const on of c.on ?? BOTH) {
                it(`${on}: ${c.name}`, async () => {
                    const target = await targetFor(on, c.production);
                    const err = await rejects(target, toArgs(clone(c.block), target), c.path, c.problem, c.fix);
                    assert.ok(!err.message.includes(TOKEN), "no message quotes the token");
                });
            }
        }
    });

    describe("the JSON Schema and the constructor agree, key by key", () => {
        const all = shapePaths(GATEWAY_SHAPE, "general");
        const typed = all.filter(p => p.shape.kind !== "program");
        const keyed = all.filter(p => p.key !== undefined);

        it("covers every property path: 98 typed (3 program-only: target, routes[0].service, transform), 88 keys; FULL sets each typed one", () => {
            assert.equal(all.length, 101);
            assert.equal(typed.length, 98);
            assert.deepEqual(all.filter(p => p.shape.kind === "program").map(p => p.path), ["target", "routes[0].service", "transform"]);
            assert.equal(keyed.length, 88);
            for (const p of typed) assert.notEqual(getAt(FULL, p.path), undefined, `FULL does not set ${p.path}`);
        });

        it("FULL is accepted by ajv, and what each target allows of it by the constructor", async () => {
            assert.ok(schemaAccepts(FULL), JSON.stringify(validateJson?.errors));
            const { Gateway } = await import("../../components/gateway");
            for (const on of BOTH) {
                const block = acceptedOn(on);
                assert.ok(schemaAccepts(block), `${on}: ${JSON.stringify(validateJson?.errors)}`);
                new Gateway(`full-${on}`, toArgs(block, await targetFor(on)) as never);
            }
        });

        for (const on of BOTH) {
            it(`${on}: a wrong-typed value at every path is refused by both, at that path`, async () => {
                const target = await targetFor(on);
                for (const p of typed) {
                    const block = clone(FULL) as Record<string, unknown>;
                    setAt(block, p.path, wrongTyped(p.shape));
                    assert.equal(schemaAccepts(block), false, `ajv accepted ${p.path} = ${JSON.stringify(wrongTyped(p.shape))}`);
                    await rejects(target, toArgs(block, target), p.path, /must be|not a boolean/, /./);
                }
            });

            it(`${on}: an unknown key beside every key is refused by both, with a did-you-mean`, async () => {
                const target = await targetFor(on);
                for (const p of keyed) {
                    const block = clone(FULL) as Record<string, unknown>;
                    const sibling = p.parent ? `${p.parent}.${p.key}x` : `${p.key}x`;
                    setAt(block, sibling, 1);
                    assert.equal(schemaAccepts(block), false, `ajv accepted ${sibling}`);
                    await rejects(target, toArgs(block, target), sibling, /is not a known setting/, new RegExp(`did you mean "${p.key}"\\?`));
                }
            });
        }
    });

    describe("the committed stacks' slipway:gateway blocks", () => {
        const config = (stack: string) => (parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> }).config;

        it("dev (docker) is accepted by ajv and, with its services as stand-ins, by the constructor", async () => {
            const block = config("dev")["slipway:gateway"] as Record<string, unknown>;
            assert.ok(block, "Pulumi.dev.yaml has a slipway:gateway block");
            assert.ok(schemaAccepts(block), JSON.stringify(validateJson?.errors));
            const { Gateway } = await import("../../components/gateway");
            new Gateway("gateway", toArgs(block, await dockerTarget("dev", false)) as never);
        });

        it("prod (do-app) is accepted by ajv and by the constructor", async () => {
            const block = config("prod")["slipway:gateway"] as Record<string, unknown>;
            assert.ok(block, "Pulumi.prod.yaml has a slipway:gateway block");
            assert.ok(schemaAccepts(block), JSON.stringify(validateJson?.errors));
            const { Gateway } = await import("../../components/gateway");
            new Gateway("gateway", toArgs(block, await doTarget("prod", true)) as never);
        });

        it("a secret reference is what a stack file writes for a token", () => {
            assert.ok(schemaAccepts({ ...small(), publicMetrics: { allowWithToken: { secret: "metricsToken" } } }), JSON.stringify(validateJson?.errors));
            assert.equal(schemaAccepts({ ...small(), publicMetrics: { allowWithToken: { secert: "metricsToken" } } }), false);
        });
    });
});
