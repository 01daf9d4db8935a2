import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { Target } from "../../components/core/target";
import { Recorder } from "../../components/testing/recorder";
import { expectConfigError } from "../helpers/config-error";
import { dockerTarget, doTarget, freshRecorder } from "../helpers/harness";

const svc = (name = "api", replicas = 2) => ({
    endpoint: {
        name, port: 8080, replicas,
        dialHosts: Array.from({ length: replicas }, (_, i) => `${name}-${i + 1}`),
        healthPath: "/health", readyPath: "/ready",
    },
});

const FIXTURES = path.join(__dirname, "..", "fixtures", "acme");
const CA_PEM = fs.readFileSync(path.join(FIXTURES, "private-ca.pem"), "utf8");
const LEAF_PEM = fs.readFileSync(path.join(FIXTURES, "server-leaf.pem"), "utf8");
const PRIVATE_DIR = "https://pebble:14000/dir";

/** A Cloudflare zone id as the API gives it (32 hex digits). */
const ZONE = "023e105f4ecef8ad9ca31a8372d0c353";

describe("Gateway bad input", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    /** Build with a target made beforehand (see expectConfigError). */
    async function rejects(target: Target, args: Record<string, unknown>, path: string, problem: RegExp, fix: RegExp, name = "edge") {
        const { Gateway } = await import("../../components/gateway");
        return expectConfigError(rec, () => new Gateway(name, { target, routes: [{ pathPrefix: "/v1", service: svc() }], ...args } as any),
            { component: `Gateway "${name}"`, path, problem, fix });
    }

    it("rejects a domain that is not a hostname", async () => {
        const t = await dockerTarget();
        await rejects(t, { domains: ["https://api.example.com"] }, "domains[0]", /not a hostname/, /no scheme, port, path/);
        await rejects(t, { domains: ["*.example.com"] }, "domains[0]", /not a hostname/, /wildcard/);
        await rejects(t, { domains: ["api.example.com", "api.example.com"] }, "domains[1]", /twice/, /once/);
    });

    it("rejects an access-log redaction that is not a header name", async () => {
        const t = await dockerTarget();
        await rejects(t, { accessLog: { redactHeaders: ["X-Api-Key", "X Partner: Token"] } }, "accessLog.redactHeaders[1]", /is not a header name/, /the name alone/);
        await rejects(t, { accessLog: { redactHeaders: "X-Api-Key" } }, "accessLog.redactHeaders", /list/, /.+/);
    });

    it("rejects a query redaction that is not a parameter name", async () => {
        const t = await dockerTarget();
        await rejects(t, { accessLog: { redactQuery: ["token", "?partner_key="] } }, "accessLog.redactQuery[1]", /is not a query parameter name/, /"partner_key" for \?partner_key=/);
        await rejects(t, { accessLog: { redactQuery: "token" } }, "accessLog.redactQuery", /list/, /.+/);
    });

    it("rejects a health-check sample that is not a whole number from 1", async () => {
        const t = await dockerTarget();
        await rejects(t, { accessLog: { sampleHealthChecks: 0 } }, "accessLog.sampleHealthChecks", /0/, /1/);
        await rejects(t, { accessLog: { sampleHealthChecks: 2.5 } }, "accessLog.sampleHealthChecks", /2\.5/, /.+/);
        await rejects(t, { accessLog: { sampleHealthChecks: "100" } }, "accessLog.sampleHealthChecks", /.+/, /.+/);
    });

    it("rejects duplicate routes, also after trailing-slash normalisation", async () => {
        const t = await dockerTarget();
        const routes = [{ pathPrefix: "/v1/core", service: svc() }, { pathPrefix: "/v1/core/", service: svc("other") }];
        const err = await rejects(t, { routes }, "routes[1].pathPrefix", /duplicates routes\[0\]/, /distinct prefix/);
        assert.match(err.message, /"\/v1\/core" after removing the trailing slash/);
    });

    it("rejects a route naming an undefined rate-limit zone", async () => {
        const t = await dockerTarget();
        await rejects(t, {
            routes: [{ pathPrefix: "/v1", service: svc(), rateLimit: "genral" }],
            rateLimits: { general: { events: 100, window: "1m" } },
        }, "routes[0].rateLimit", /"genral", which rateLimits does not define/, /use one of general/);
    });

    it("rejects a zone with zero events, a bad window, and a burst below events", async () => {
        const t = await dockerTarget();
        const routes = [{ pathPrefix: "/v1", service: svc(), rateLimit: "general" }];
        await rejects(t, { routes, rateLimits: { general: { events: 0, window: "1m" } } },
            "rateLimits.general.events", /whole number from 1/, /between 1 and/);
        await rejects(t, { routes, rateLimits: { general: { events: 5, window: "abc" } } },
            "rateLimits.general.window", /"abc" is not a window/, /"10s", "1m" or "1h"/);
        await rejects(t, { routes, rateLimits: { general: { events: 5, window: "500ms" } } },
            "rateLimits.general.window", /not a window/, /seconds, minutes or hours/);
        await rejects(t, { routes, rateLimits: { general: { events: 10, window: "1m", burst: 5 } } },
            "rateLimits.general.burst", /from 10/, /between 10 and/);
        await rejects(t, { routes, rateLimits: { general: { events: 10, window: "1m", key: "cookie:sid" } } },
            "rateLimits.general.key", /not a rate-limit key/, /header:<Name>/);
    });

    it("rejects a zone no route uses (usually a typo)", async () => {
        await rejects(await dockerTarget(), { rateLimits: { general: { events: 1, window: "1s" } } },
            "rateLimits.general", /no route uses/, /rateLimit: "general"/);
    });

    it("rejects CORS \"*\" with credentials, and origins with a path", async () => {
        const t = await dockerTarget();
        await rejects(t, { cors: { allowOrigins: ["*"], allowCredentials: true } },
            "cors.allowOrigins[0]", /"\*" cannot be combined with allowCredentials/, /exact origins/);
        await rejects(t, { cors: { allowOrigins: ["https://app.example.com/"] } },
            "cors.allowOrigins[0]", /not an origin/, /https:\/\/host\[:port\]/);
        await rejects(t, { cors: { allowOrigins: ["http://app.example.com"] } },
            "cors.allowOrigins[0]", /not an origin/, /http:\/\/localhost/);
    });

    it("rejects a gateway without routes", async () => {
        const t = await dockerTarget();
        await rejects(t, { routes: [] }, "routes", /no routes/, /at least one route/);
        await rejects(t, { routes: undefined }, "routes", /no routes/, /at least one route/);
    });

    it("rejects prefixes that are not plain absolute paths", async () => {
        const t = await dockerTarget();
        await rejects(t, { routes: [{ pathPrefix: "v1", service: svc() }] }, "routes[0].pathPrefix", /does not start with "\/"/, /"\/v1"/);
        await rejects(t, { routes: [{ pathPrefix: "/v1/*", service: svc() }] }, "routes[0].pathPrefix", /wildcard/, /plain prefix/);
        await rejects(t, { routes: [{ pathPrefix: "", service: svc() }] }, "routes[0].pathPrefix", /is empty/, /starting with "\/"/);
    });

    it("a URL as prefix: suggests its path and sends the host to domains", async () => {
        const t = await dockerTarget();
        const cases: [string, string, string][] = [
            ["https://api.example.com/v1", "/v1", "api.example.com"],
            ["http://API.example.com:8080/v1/core/", "/v1/core", "api.example.com"],
            ["https://api.example.com", "/", "api.example.com"],
            ["api.example.com/v1", "/v1", "api.example.com"],
        ];
        for (const [prefix, path, host] of cases) {
            const err = await rejects(t, { routes: [{ pathPrefix: prefix, service: svc() }] }, "routes[0].pathPrefix",
                /is a URL, but a route matches only the path/, new RegExp(`path "${path.replace(/\//g, "\\/")}" here and put the host "${host.replace(/\./g, "\\.")}" in domains`));
            assert.doesNotMatch(err.fix, /"\/https?:|"\/api\./, `must not suggest a slash in front of the URL: ${err.fix}`);
        }
        // A relative path that merely contains a dot is not a host.
        await rejects(t, { routes: [{ pathPrefix: "v1.2/x", service: svc() }] }, "routes[0].pathPrefix", /does not start with "\/"/, /"\/v1\.2\/x"/);
    });

    it("rejects a route to something that is not a service, or a service without replicas", async () => {
        const t = await dockerTarget();
        await rejects(t, { routes: [{ pathPrefix: "/v1", service: {} }] }, "routes[0].service", /no endpoint/, /ApiService/);
        const broken = { endpoint: { ...svc().endpoint, dialHosts: [] } };
        await rejects(t, { routes: [{ pathPrefix: "/v1", service: broken }] }, "routes[0].service.endpoint.dialHosts", /nothing to proxy to/, /same docker target/);
    });

    it("rejects an unparseable body size", async () => {
        await rejects(await dockerTarget(), { maxBodySize: "lots" }, "maxBodySize", /"lots" is not a size/, /"10MB"/);
        await rejects(await dockerTarget(), { maxBodySize: "0MB" }, "maxBodySize", /not a size/, /"512KB"/);
    });

    it("rejects tls auto without public domains", async () => {
        const t = await dockerTarget();
        await rejects(t, { domains: ["localhost"], tls: "auto" }, "tls", /cannot get a public certificate for localhost/, /"internal"/);
        await rejects(t, { tls: "auto" }, "tls", /needs public domains/, /tls: "off"/);
        await rejects(t, { tls: "internal" }, "tls", /needs domains/, /add domains/);
    });

    it("rejects ACME for public domains when the DockerHost publishes on loopback only", async () => {
        const t = await dockerTarget(); // DockerHost's default publishAddress, 127.0.0.1
        const fix = /publishAddress: "0\.0\.0\.0".*tls: "internal"/;
        await rejects(t, { domains: ["api.example.com"] }, "tls", /the default with public domains.*publishes on 127\.0\.0\.1/, fix);
        await rejects(t, { domains: ["api.example.com"], tls: "auto" }, "tls", /ACME's challenges.*127\.0\.0\.1/, fix);
    });

    it("rejects ACME with a public CA on a loopback DockerHost, whatever the directory's spelling", async () => {
        const t = await dockerTarget();
        for (const directory of ["https://acme-staging-v02.api.letsencrypt.org/directory", "https://ACME-v02.api.letsencrypt.org/directory", "https://acme.zerossl.com/v2/DV90"]) {
            await rejects(t, { domains: ["api.example.com"], acme: { directory } }, "tls", /ACME's challenges.*127\.0\.0\.1/, /private ACME CA/);
        }
    });

    it("accepts ACME from a private CA on a loopback DockerHost, which the CA reaches over the stack's network", async () => {
        const { Gateway } = await import("../../components/gateway");
        const gw = new Gateway("edge", {
            target: await dockerTarget(), domains: ["api.slipway.test"], routes: [{ pathPrefix: "/v1", service: svc() }],
            acme: { directory: PRIVATE_DIR, caRoot: CA_PEM },
        });
        const issuer = JSON.parse(gw.caddyJson!).apps.tls.automation.policies[0].issuers[0];
        assert.equal(issuer.ca, PRIVATE_DIR);
    });

    it("rejects an ACME directory that is not an https URL, and acme without tls \"auto\"", async () => {
        const t = await dockerTarget();
        const domains = ["api.example.com"];
        await rejects(t, { domains, acme: { directory: "ca.internal/acme/dir" } }, "acme.directory", /not a URL/, /directory URL/);
        await rejects(t, { domains, acme: { directory: "http://pebble:14000/dir" } }, "acme.directory", /not https: ACME \(RFC 8555\) runs over HTTPS only/, /acme\.caRoot/);
        await rejects(t, { domains, acme: { directory: "https://user:pw@ca.internal/dir" } }, "acme.directory", /credentials/, /plain directory URL/);
        await rejects(t, { domains, tls: "internal", acme: { directory: PRIVATE_DIR } }, "acme", /only used by tls "auto".*"internal"/, /remove acme/);
        await rejects(t, { acme: { directory: PRIVATE_DIR } }, "acme", /only used by tls "auto".*"off"/, /remove acme/);
        await rejects(t, { domains, acme: { dir: PRIVATE_DIR } }, "acme.dir", /not a known setting/, /directory/);
    });

    it("rejects a CA root that is not a CA certificate in PEM, and never echoes a private key", async () => {
        const t = await dockerTarget();
        const acme = (caRoot: unknown) => ({ domains: ["api.slipway.test"], acme: { directory: PRIVATE_DIR, caRoot } });
        await rejects(t, acme("/etc/ssl/root.pem"), "acme.caRoot", /no PEM certificate/, /BEGIN CERTIFICATE/);
        await rejects(t, acme(LEAF_PEM), "acme.caRoot", /certificate 1 \(CN=acme\.internal\) is not a CA certificate/, /not the server's own certificate/);
        const broken = CA_PEM.replace(/\n([A-Za-z0-9+/]{20})/, "\n!!!!");
        await rejects(t, acme(broken), "acme.caRoot", /certificate 1 does not parse/, /PEM text/);
        // Assembled from parts, so the repository holds no key-shaped literal.
        const frame = (edge: string) => `-----${edge} ${["PRIVATE", "KEY"].join(" ")}-----`;
        const key = `${frame("BEGIN")}\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETSECRET\n${frame("END")}\n`;
        const err = await rejects(t, acme(CA_PEM + key), "acme.caRoot", /contains a private key/, /only the certificate/);
        assert.doesNotMatch(err.message, /SECRETSECRET/);
        await rejects(t, acme(CA_PEM.repeat(200)), "acme.caRoot", /bytes; a CA root bundle is a few KB/, /PEM text/);
    });

    it("refuses plain HTTP on a production docker target", async () => {
        await rejects(await dockerTarget("prod", true), {}, "tls", /HTTPS only/, /tls: "internal"/);
    });

    it("rejects a JWT route without a key source (the rest: gateway-jwt.test.ts)", async () => {
        await rejects(await dockerTarget(), {
            routes: [{ pathPrefix: "/v1", service: svc(), jwt: { issuer: "https://auth.example.com/", audience: "api" } }],
        }, "routes[0].jwt", /has no key source/, /exactly one of jwksUrl/);
    });

    it("rejects upstream timing that cannot work", async () => {
        const t = await dockerTarget();
        await rejects(t, { upstream: { tryInterval: "soon" } }, "upstream.tryInterval", /not a duration/, /"250ms"/);
        await rejects(t, { upstream: { healthInterval: "5s", healthTimeout: "5s" } }, "upstream.healthTimeout", /not shorter/, /shorter than the interval/);
    });

    describe("on do-app", () => {
        it("requires a Cloudflare zone when domains are set", async () => {
            await rejects(await doTarget(), { domains: ["api.example.com"] }, "cloudflare.zoneId", /no zone is given/, /cloudflare: \{ zoneId \}/);
        });

        it("rejects a window Cloudflare cannot count over", async () => {
            await rejects(await doTarget(), {
                domains: ["api.example.com"], cloudflare: { zoneId: ZONE, plan: "enterprise" },
                routes: [{ pathPrefix: "/v1", service: svc(), rateLimit: "general" }],
                rateLimits: { general: { events: 100, window: "90s" } },
            }, "rateLimits.general.window", /not one/, /"10s", "1m", "2m", "5m", "10m", "1h"/);
        });

        it("rejects what App Platform cannot do: body limit, TLS mode, log files, log sampling, no compression", async () => {
            const t = await doTarget();
            await rejects(t, { maxBodySize: "1MB" }, "maxBodySize", /no request body limit at the origin/, /enforce the limit in the service/);
            await rejects(t, { domains: ["api.example.com"], cloudflare: { zoneId: ZONE }, tls: "internal" }, "tls", /always serves HTTPS/, /remove tls/);
            await rejects(t, { accessLog: { file: "/var/log/caddy/access.log" } }, "accessLog.file", /no writable log files/, /remove accessLog.file/);
            await rejects(t, { accessLog: { sampleHealthChecks: 10 } }, "accessLog.sampleHealthChecks", /logs the requests itself/, /remove accessLog.sampleHealthChecks/);
            await rejects(t, { compression: [] }, "compression", /always compresses/, /remove compression/);
        });

        it("rejects an ACME CA: App Platform and Cloudflare manage the certificates", async () => {
            await rejects(await doTarget(), { domains: ["api.example.com"], cloudflare: { zoneId: ZONE }, acme: { directory: PRIVATE_DIR } },
                "acme", /App Platform and Cloudflare obtain and renew the certificates/, /remove acme on the do-app target/);
        });

        it("leaves nothing behind when the input is bad: no resource, and the target as it was", async () => {
            const t = await doTarget();
            const before = structuredClone(t);
            await rejects(t, { domains: ["api.example.com"] }, "cloudflare.zoneId", /no zone/, /zoneId/);
            assert.deepEqual(t, before, "the target is plain data that no component writes to");
        });
    });
});
