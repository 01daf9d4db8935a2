// Gateway on docker with `cloudflare` (issue 17): the Cloudflare resources next to the containers,
// their inputs against the installed provider's declared types, the same rules as on do-app from
// one route and zone table, what the Free plan changes, the Caddy side (trusted proxies, client
// address, origin lock) and the bad input of the new args.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { Target } from "../../components/core/target";
import { Recorder } from "../../components/testing/recorder";
import { CLOUDFLARE_IPV4_RANGES, CLOUDFLARE_IPV6_RANGES, CLOUDFLARE_ORIGIN_PULL_CA } from "../../components/gateway/cloudflare-data";
import { cloudflareShapeProblems } from "../helpers/cloudflare-schema";
import { expectConfigError } from "../helpers/config-error";
import { doTarget, freshRecorder } from "../helpers/harness";
import { svc } from "../unit/gateway-fixtures";

const DNS = "cloudflare:index/dnsRecord:DnsRecord";
const ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting";
const RULESET = "cloudflare:index/ruleset:Ruleset";
const AOP = "cloudflare:index/authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings";
const CONTAINER = "docker:index/container:Container";
const ZONE = "023e105f4ecef8ad9ca31a8372d0c353";
const CA_PEM = fs.readFileSync(path.join(__dirname, "..", "fixtures", "acme", "private-ca.pem"), "utf8");
const LEAF_PEM = fs.readFileSync(path.join(__dirname, "..", "fixtures", "acme", "server-leaf.pem"), "utf8");

/** One zone by IP over 10 s: what the Free plan takes. */
function cfArgs(target: Target, cloudflare: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
    return {
        target,
        domains: ["api.example.com", "api.example.net"],
        routes: [{ pathPrefix: "/", service: svc("web", 1, 3000) }, { pathPrefix: "/v1", service: svc("api"), rateLimit: "general" }],
        rateLimits: { general: { events: 20, window: "10s", burst: 40 } },
        cloudflare: { zoneId: ZONE, originIpv4: "203.0.113.10", originIpv6: "2001:db8::10", ...cloudflare },
        ...extra,
    };
}

describe("Gateway on docker behind Cloudflare", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    async function publicTarget(publishAddress = "0.0.0.0", production = false): Promise<Target> {
        const { DockerHost } = await import("../../components/targets/docker-host");
        return new DockerHost(production ? "host-prod" : "host-dev", { environment: production ? "prod" : "dev", production, publishAddress }).target;
    }

    async function build(cloudflare: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
        const target = await publicTarget();
        const { Gateway } = await import("../../components/gateway");
        const gw = new Gateway("edge", cfArgs(target, cloudflare, extra) as never);
        await rec.settle();
        return gw;
    }

    const caddy = (gw: { caddyJson?: string }) => JSON.parse(gw.caddyJson!) as Record<string, any>;

    it("creates proxied A and AAAA records per domain, the zone settings, the rulesets and origin pulls, beside the containers", async () => {
        const gw = await build();
        const records = rec.ofType(DNS).map(r => r.inputs as Record<string, any>);
        assert.deepEqual(records.map(r => [r.type, r.name, r.content, r.proxied, r.ttl]).sort(), [
            ["A", "api.example.com", "203.0.113.10", true, 1], ["A", "api.example.net", "203.0.113.10", true, 1],
            ["AAAA", "api.example.com", "2001:db8::10", true, 1], ["AAAA", "api.example.net", "2001:db8::10", true, 1],
        ]);
        assert.ok(records.every(r => r.zoneId === ZONE));
        const settings = Object.fromEntries(rec.ofType(ZONE_SETTING).map(r => [r.inputs.settingId, r.inputs.value]));
        assert.deepEqual(Object.keys(settings).sort(), ["always_use_https", "min_tls_version", "security_header", "ssl"]);
        assert.equal(settings.ssl, "strict");
        assert.equal(settings.min_tls_version, "1.2");
        assert.equal((settings.security_header as any).strict_transport_security.max_age, 31536000);
        assert.deepEqual(rec.ofType(RULESET).map(r => r.inputs.phase).sort(),
            ["http_ratelimit", "http_request_firewall_custom", "http_response_headers_transform"], "Free plan: no managed WAF ruleset by default");
        assert.deepEqual(rec.ofType(AOP).map(r => r.inputs), [{ zoneId: ZONE, enabled: true }]);
        // The containers are still there, and the loader waits for Cloudflare to present its certificate.
        const loader = rec.ofType(CONTAINER).find(c => c.name.startsWith("edge-config-"))!;
        assert.ok(rec.ofType(CONTAINER).some(c => c.name === "edge-caddy"));
        assert.ok(loader.options.dependsOn.includes(rec.ofType(AOP)[0]!.urn), "the config requiring client certificates loads after origin pulls are on");
        assert.equal(gw.nodes.dnsRecords!.length, 4);
        assert.equal(gw.nodes.rulesets.length, 3);
        assert.equal(gw.nodes.zoneSettings.length, 4);
    });

    it("records inputs in the shapes the installed @pulumi/cloudflare declares (and the check is a real one)", async () => {
        await build({ plan: "enterprise" }, { rateLimits: { general: { events: 20, window: "10s", key: "header:X-Api-Key" } } });
        const kinds = { [DNS]: "DnsRecordArgs", [ZONE_SETTING]: "ZoneSettingArgs", [RULESET]: "RulesetArgs", [AOP]: "AuthenticatedOriginPullsSettingsArgs" } as const;
        const all = rec.resources.filter(r => r.type in kinds);
        assert.equal(all.length, 4 + 4 + 4 + 1);
        for (const r of all) assert.deepEqual(cloudflareShapeProblems(kinds[r.type as keyof typeof kinds], r.inputs), [], `${r.type} ${r.name}`);
        const rl = rec.get(RULESET, "edge-cf-ratelimit").inputs as Record<string, any>;
        const wrong = { ...rl, rules: [{ ...rl.rules[0], ratelimit: { ...rl.rules[0].ratelimit, requests_per_period: 5 } }] };
        assert.match(cloudflareShapeProblems("RulesetArgs", wrong).join("\n"), /rules\[0\]\.ratelimit\.requests_per_period: not a property/);
        assert.match(cloudflareShapeProblems("DnsRecordArgs", { zoneId: ZONE, name: "x", type: "A" }).join("\n"), /ttl: required by the provider, missing/);
    });

    it("derives the same rules as the do-app target from the same table", async () => {
        await build({ plan: "pro", wafManagedRuleset: "cloudflare" });
        const docker = rec.ofType(RULESET).map(r => [r.name, r.inputs]);
        rec.clear();
        const { Gateway } = await import("../../components/gateway");
        const { cloudflare } = cfArgs(await doTarget());
        const { originIpv4: _4, originIpv6: _6, ...doCf } = cloudflare;
        new Gateway("edge", { ...cfArgs(await doTarget()), cloudflare: { ...doCf, plan: "pro", wafManagedRuleset: "cloudflare" } } as never);
        await rec.settle();
        assert.deepEqual(rec.ofType(RULESET).map(r => [r.name, r.inputs]), docker);
        assert.equal(docker.length, 4);
    });

    it("on the Free plan: path-only rate-limit expressions, Cloudflare's own 429 page; paid plans add the host and a JSON body", async () => {
        await build();
        const free = (rec.get(RULESET, "edge-cf-ratelimit").inputs as any).rules[0];
        assert.equal(free.expression, '((http.request.uri.path eq "/v1" or starts_with(http.request.uri.path, "/v1/")))');
        assert.doesNotMatch(free.expression, /http\.host/);
        assert.equal(free.actionParameters, undefined);
        assert.deepEqual(free.ratelimit, { characteristics: ["cf.colo.id", "ip.src"], period: 10, requestsPerPeriod: 20, mitigationTimeout: 10 });
        rec.clear();
        await build({ plan: "pro" });
        const pro = (rec.get(RULESET, "edge-cf-ratelimit").inputs as any).rules[0];
        assert.match(pro.expression, /^\(http\.host in \{"api\.example\.com" "api\.example\.net"\}\) and /);
        assert.equal(pro.actionParameters.response.statusCode, 429);
        assert.equal((rec.get(RULESET, "edge-cf-waf-managed").inputs as any).rules[0].actionParameters.id, "efb7b8c949ac4650a09736fc376e9aee", "paid plans run the Cloudflare Managed Ruleset by default");
    });

    it("leaves the zones to Caddy with edgeRateLimits: false, and the zone alone with manageZone: false", async () => {
        await build({ edgeRateLimits: false }, { rateLimits: { general: { events: 100, window: "1m" } } });
        assert.equal(rec.ofType(RULESET).find(r => r.inputs.phase === "http_ratelimit"), undefined);
        rec.clear();
        await build({ manageZone: false });
        assert.equal(rec.ofType(RULESET).length + rec.ofType(ZONE_SETTING).length, 0);
        assert.equal(rec.ofType(DNS).length, 4, "the records are still needed");
        rec.clear();
        await build({ proxied: false });
        assert.deepEqual(rec.ofType(DNS).map(r => r.inputs.proxied), [false, false, false, false], "the first deploy: ACME reaches the host directly");
    });

    it("makes Caddy trust CF-Connecting-IP from Cloudflare's ranges only, and key limits, X-Real-IP and logs on the client address", async () => {
        const gw = await build();
        const edge = caddy(gw).apps.http.servers.edge;
        assert.deepEqual(edge.trusted_proxies, { source: "static", ranges: [...CLOUDFLARE_IPV4_RANGES, ...CLOUDFLARE_IPV6_RANGES] });
        assert.deepEqual(edge.client_ip_headers, ["CF-Connecting-IP"]);
        assert.equal(edge.trusted_proxies_strict, 1);
        const json = gw.caddyJson!;
        assert.doesNotMatch(json, /remote\.host/, "nothing keys on the proxy's address");
        assert.match(json, /"key": "\{http\.vars\.client_ip\}"/);
        // slipway_edge sets X-Real-IP from Caddy's client_ip var, which the fields above make the CF-Connecting-IP address.
        assert.equal(edge.routes[0].handle[0].handler, "slipway_edge");
        assert.equal(edge.routes[0].handle[0].client_ip_header, "X-Real-IP");
        assert.doesNotMatch(json, /"X-Real-IP": \[/, "no placeholder of its own that could read another address");
        rec.clear();
        const own = await build({ trustedProxies: ["10.20.0.0/16", "2001:DB8:1::/48"] });
        assert.deepEqual(caddy(own).apps.http.servers.edge.trusted_proxies.ranges, ["10.20.0.0/16", "2001:db8:1::/48"]);
    });

    it("requires Cloudflare's client certificate on HTTPS by default, another CA when given, none with originLock: false", async () => {
        const der = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, "");
        const policies = (gw: { caddyJson?: string }) => caddy(gw).apps.http.servers.edge.tls_connection_policies;
        assert.deepEqual(policies(await build()), [{ client_authentication: { ca: { provider: "inline", trusted_ca_certs: [der(CLOUDFLARE_ORIGIN_PULL_CA)] }, mode: "require_and_verify" } }]);
        rec.clear();
        assert.deepEqual(policies(await build({ originLock: { clientCa: CA_PEM } }))[0].client_authentication.ca.trusted_ca_certs, [der(CA_PEM)]);
        rec.clear();
        const off = await build({ originLock: false });
        assert.equal(policies(off), undefined);
        assert.equal(rec.ofType(AOP).length, 0);
    });

    it("lets transform reach the records and origin pulls (object and function forms), with the zone's own keys", async () => {
        await build({}, {
            transform: {
                dnsRecord: (a: Record<string, unknown>, _o: unknown, name: string) => { if (name.includes("-aaaa-")) a.comment = "v6"; },
                originPulls: { enabled: false },
                zoneSetting: { zoneId: "ffffffffffffffffffffffffffffffff" },
            },
        });
        assert.deepEqual(rec.ofType(DNS).map(r => r.inputs.comment === "v6").sort(), [false, false, true, true]);
        assert.equal(rec.ofType(AOP)[0]!.inputs.enabled, false);
        assert.ok(rec.ofType(ZONE_SETTING).every(r => r.inputs.zoneId === "ffffffffffffffffffffffffffffffff"));
    });

    describe("bad input: component, path, problem and fix, and nothing registered", () => {
        async function rejects(cloudflare: Record<string, unknown>, at: string, problem: RegExp, fix: RegExp, extra: Record<string, unknown> = {}, target?: Target) {
            const t = target ?? await publicTarget();
            const { Gateway } = await import("../../components/gateway");
            return expectConfigError(rec, () => new Gateway("edge", cfArgs(t, cloudflare, extra) as never), { component: 'Gateway "edge"', path: at, problem, fix });
        }
        const none = { originIpv4: undefined, originIpv6: undefined };

        it("refuses a missing or unusable origin address", async () => {
            await rejects(none, "cloudflare.originIpv4", /is missing \(and so is originIpv6\)/, /droplet's ipv4Address/);
            await rejects({ originIpv4: "203.0.113.10:443" }, "cloudflare.originIpv4", /is not an IPv4 address/, /no port/);
            await rejects({ originIpv4: "2001:db8::1" }, "cloudflare.originIpv4", /is not an IPv4 address/, /public IPv4/);
            await rejects({ originIpv4: "10.0.0.5" }, "cloudflare.originIpv4", /not a public address \(it is in 10\.0\.0\.0\/8\)/, /reached at from the internet/);
            await rejects({ originIpv6: "fd00::1" }, "cloudflare.originIpv6", /not a public address \(it is in fc00::\/7\)/, /from the internet/);
        });

        it("refuses what Cloudflare cannot reach or verify: a loopback host, a TLS mode other than ACME, no domains", async () => {
            await rejects({}, "tls", /is "internal", and Cloudflare's SSL mode "strict"/, /remove tls/, { tls: "internal" });
            await rejects({}, "cloudflare", /published on 127\.0\.0\.1, which Cloudflare cannot reach/, /publishAddress: "0\.0\.0\.0"/,
                { acme: { directory: "https://ca.internal/acme/directory" } }, await publicTarget("127.0.0.1"));
            await rejects({}, "cloudflare", /no domains to put behind it/, /add domains/, { domains: [] , tls: "off" });
        });

        it("refuses trusted proxies that would let anyone pick their address", async () => {
            await rejects({ trustedProxies: ["0.0.0.0/0"] }, "cloudflare.trustedProxies[0]", /trusts every address/, /only the proxies in front/);
            await rejects({ trustedProxies: ["173.245.48.0/20", "::/0"] }, "cloudflare.trustedProxies[1]", /trusts every address/, /Cloudflare's ranges/);
            await rejects({ trustedProxies: ["10.0.0.1/8"] }, "cloudflare.trustedProxies[0]", /not an IP address or CIDR range/, /173\.245\.48\.0\/20/);
            await rejects({ trustedProxies: [] }, "cloudflare.trustedProxies", /is empty/, /omit it/);
        });

        it("refuses an origin-lock CA that is not one (a leaf, a key, no PEM)", async () => {
            await rejects({ originLock: { clientCa: LEAF_PEM } }, "cloudflare.originLock.clientCa", /is not a CA certificate/, /CA certificate that signs/);
            await rejects({ originLock: { clientCa: "not a pem" } }, "cloudflare.originLock.clientCa", /holds no PEM certificate/, /BEGIN CERTIFICATE/);
            const key = ["-----BEGIN", "PRIVATE KEY-----\nAAAA\n-----END", "PRIVATE KEY-----\n"].join(" ");
            await rejects({ originLock: { clientCa: `${CA_PEM}${key}` } }, "cloudflare.originLock.clientCa", /contains a private key/, /only the CA certificate/);
        });

        it("refuses rules the plan does not accept, naming the plan that does", async () => {
            await rejects({}, "rateLimits.general.window", /the free plan counts over at most 10 s, and 1m is longer/, /cloudflare\.plan.*edgeRateLimits: false/,
                { rateLimits: { general: { events: 100, window: "1m" } } });
            await rejects({}, "rateLimits", /the free plan allows 1 rate-limiting rule and there are 2 zones/, /merge zones/, {
                routes: [{ pathPrefix: "/", service: svc("web", 1, 3000), rateLimit: "web" }, { pathPrefix: "/v1", service: svc("api"), rateLimit: "general" }],
                rateLimits: { general: { events: 20, window: "10s" }, web: { events: 20, window: "10s" } },
            });
            await rejects({ plan: "business" }, "rateLimits.general.key", /needs Cloudflare's Advanced Rate Limiting \(Enterprise\)/, /key "ip"/,
                { rateLimits: { general: { events: 20, window: "10s", key: "header:X-Api-Key" } } });
            await rejects({ wafManagedRuleset: "cloudflare" }, "cloudflare.wafManagedRuleset", /needs a Pro plan or higher, and plan is "free"/, /use "free".*or "none"/);
            await rejects({ plan: "gold" }, "cloudflare.plan", /must be one of|is not/, /free/);
        });

        it("refuses the docker-only keys on do-app, where App Platform is the origin", async () => {
            const t = await doTarget();
            for (const [key, value] of [["originIpv4", "203.0.113.10"], ["proxied", false], ["originLock", false], ["trustedProxies", ["173.245.48.0/20"]]] as const) {
                const { Gateway } = await import("../../components/gateway");
                const { originIpv4: _4, originIpv6: _6, ...cf } = cfArgs(t).cloudflare;
                await expectConfigError(rec, () => new Gateway("edge", { ...cfArgs(t), cloudflare: { ...cf, [key]: value } } as never),
                    { component: 'Gateway "edge"', path: `cloudflare.${key}`, problem: /applies to a docker origin/, fix: new RegExp(`remove cloudflare\\.${key} on do-app`) });
            }
            const { Gateway } = await import("../../components/gateway");
            const { originIpv4: _4, originIpv6: _6, ...cf } = cfArgs(t).cloudflare;
            await expectConfigError(rec, () => new Gateway("edge", { ...cfArgs(t), cloudflare: { ...cf, edgeRateLimits: false } } as never),
                { component: 'Gateway "edge"', path: "cloudflare.edgeRateLimits", problem: /the only rate limits/, fix: /remove edgeRateLimits on do-app/ });
        });
    });
});
