// The Cloudflare edge of a Gateway, on both targets, as data: zone settings and ruleset rules built
// from the same NormalizedGateway as the Caddy config, within what the zone's plan accepts
// (cloudflare-normalize.ts). do-app.ts and cloudflare-docker.ts turn them into resources.
//
// What maps where (App Platform itself has no rate limits, security headers or WAF):
//   rate-limit zones  -> one rule each in the zone's `http_ratelimit` entry point
//                        (`events` per `window`, same key; Cloudflare has no burst, see below)
//   security headers  -> HSTS via the `security_header` zone setting; the others via a
//                        response-header transform rule (`http_response_headers_transform`);
//                        Cloudflare always sends `Server: cloudflare`, so that one stays
//   TLS               -> zone settings ssl=strict, min_tls_version=1.2, always_use_https=on
//   WAF               -> a managed ruleset (`http_request_firewall_managed`) and custom rules
//                        (`http_request_firewall_custom`) refusing TRACE/TRACK/CONNECT, and the
//                        metrics path unless it carries the scrape token (`publicMetrics`)
//   CORS, routing     -> App Platform ingress rules (do-app.ts)
//   compression       -> Cloudflare compresses eligible responses on its own
//   body size limit   -> not expressible below Cloudflare's plan limit: rejected by checkGatewayDoApp
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { transform } from "../core/transform";
import type { GatewayCloudflareArgs } from "./args";
import type { GatewayCloudflareTransform } from "./transforms/cloudflare";

export type { GatewayCloudflareTransform } from "./transforms/cloudflare";
import { DEFAULTS, NormalizedGateway, NormalizedRateLimitZone, ZoneMember } from "./normalize";
import { RATE_LIMIT_PLAN } from "./cloudflare-normalize";

export type RulesetRule = cloudflare.types.input.RulesetRule;

/** Well-known ids of Cloudflare's managed WAF rulesets. */
export const MANAGED_RULESETS = {
    cloudflare: "efb7b8c949ac4650a09736fc376e9aee",
    free: "77454fe2d30c4220b5701f6fdfb893ba",
} as const;

export interface ZoneSettingSpec {
    settingId: string;
    value: unknown;
}

export interface RulesetSpec {
    /** Logical-name suffix, e.g. `ratelimit`. */
    suffix: string;
    phase: string;
    name: string;
    description: string;
    rules: RulesetRule[];
}

/** Cloudflare rate-limiting rule periods, in seconds (the API rejects any other value). */
export const CLOUDFLARE_PERIODS = [10, 60, 120, 300, 600, 3600] as const;

/** A period as a Gateway window is written: 60 -> `"1m"`, 3600 -> `"1h"`, 10 -> `"10s"`. */
export function periodLabel(s: number): string {
    return s % 3600 === 0 ? `"${s / 3600}h"` : s % 60 === 0 ? `"${s / 60}m"` : `"${s}s"`;
}

const quote = (s: string) => JSON.stringify(s);

/** Segment-wise prefix test, the same semantics as the Caddy path matchers. */
export function pathExpression(prefix: string): string {
    if (prefix === "/") return `starts_with(http.request.uri.path, "/")`;
    return `(http.request.uri.path eq ${quote(prefix)} or starts_with(http.request.uri.path, ${quote(prefix + "/")}))`;
}

function memberExpression(m: ZoneMember): string {
    const own = pathExpression(m.prefix);
    return m.exclude.length ? `(${own} and not (${m.exclude.map(pathExpression).join(" or ")}))` : own;
}

/** The metrics path and below, lowercased on both sides (Caddy's path matcher ignores case too). */
export function metricsPathExpression(path: string): string {
    const p = path.toLowerCase();
    return `(lower(http.request.uri.path) eq ${quote(p)} or starts_with(lower(http.request.uri.path), ${quote(p + "/")}))`;
}

export function hostExpression(domains: readonly string[]): string {
    return `(http.host in {${[...domains].sort().map(quote).join(" ")}})`;
}

/**
 * Cloudflare counts `requestsPerPeriod` over a fixed `period` and has no burst, so it enforces
 * the zone's sustained rate (`events` per `window`); Caddy's stretched window allows `burst` at
 * once. The block lasts one period (`mitigationTimeout`), then counting starts again. On the Free
 * plan the expression may name the path only (so the rule covers every host of the zone) and the
 * answer is Cloudflare's own 429 page; the paid plans get the host and a JSON body.
 */
export function rateLimitRule(n: NormalizedGateway, z: NormalizedRateLimitZone): RulesetRule {
    const period = z.windowMs / 1000;
    const plan = RATE_LIMIT_PLAN[n.cloudflare?.plan ?? "free"];
    const characteristics = ["cf.colo.id", z.key.kind === "ip" ? "ip.src" : `http.request.headers[${quote(z.key.header.toLowerCase())}]`];
    const paths = `(${z.members.map(memberExpression).join(" or ")})`;
    return {
        ref: ruleRef(n.name, z.name),
        description: `Gateway "${n.name}" zone ${z.name}: ${z.events} requests per ${z.window}`,
        expression: plan.hostField ? `${hostExpression(n.domains)} and ${paths}` : paths,
        action: "block",
        ...(plan.customResponse && {
            actionParameters: { response: { statusCode: 429, contentType: "application/json", content: '{"error":"Too Many Requests"}' } },
        }),
        ratelimit: { characteristics, period, requestsPerPeriod: z.events, mitigationTimeout: period },
        enabled: true,
    };
}

export function zoneSettings(n: NormalizedGateway): ZoneSettingSpec[] {
    const settings: ZoneSettingSpec[] = [
        { settingId: "always_use_https", value: "on" },
        { settingId: "min_tls_version", value: "1.2" },
        // Full (strict): Cloudflare verifies the origin's certificate (App Platform's, or Caddy's), no plain hop.
        { settingId: "ssl", value: "strict" },
    ];
    const hsts = n.securityHeaders["Strict-Transport-Security"];
    if (hsts !== undefined) {
        const maxAge = Number(/max-age=(\d+)/.exec(hsts)![1]);
        settings.push({
            settingId: "security_header",
            // Snake case, as Cloudflare's API spells it: `value` is untyped (`any`), so Pulumi passes
            // it through without renaming keys, and camelCase keys never match what the API reads
            // back (a diff on every preview, pulumi/pulumi-cloudflare#1579).
            value: {
                strict_transport_security: {
                    enabled: true,
                    max_age: maxAge,
                    include_subdomains: hsts.includes("includeSubDomains"),
                    preload: hsts.includes("preload"),
                    nosniff: true,
                },
            },
        });
    }
    return settings;
}

/**
 * Blocks the metrics path on the gateway's hosts, unless a token is given and the request carries
 * `Authorization: Bearer <token>` (Cloudflare's header values are compared exactly; names are
 * lowercase). The token makes the expression a secret: the preview shows it as `[secret]`. A
 * plain block (Cloudflare's 403 page), as the method rule: a custom response is not on every plan.
 */
export function metricsRule(n: NormalizedGateway, token?: pulumi.Input<string>): RulesetRule {
    const base = `${hostExpression(n.domains)} and ${metricsPathExpression(n.publicMetrics.path)}`;
    return {
        ref: ruleRef(n.name, "metrics"),
        description: token === undefined
            ? `Metrics (${n.publicMetrics.path}) are not public`
            : `Metrics (${n.publicMetrics.path}) only with the scrape token`,
        // Bearer tokens hold no quote or backslash (normalize.ts checks), so quoting is exact.
        expression: token === undefined
            ? base
            : pulumi.secret(pulumi.output(token).apply(t => `${base} and not any(http.request.headers["authorization"][*] eq ${quote(`Bearer ${t}`)})`)),
        action: "block",
        enabled: true,
    };
}

export function rulesets(n: NormalizedGateway, waf: "cloudflare" | "free" | "none", metricsToken?: pulumi.Input<string>): RulesetSpec[] {
    const hosts = hostExpression(n.domains);
    const out: RulesetSpec[] = [];
    if (n.rateLimits.length && (n.cloudflare?.edgeRateLimits ?? true)) {
        out.push({
            suffix: "ratelimit",
            phase: "http_ratelimit",
            name: `slipway ${n.name} rate limits`,
            description: `Rate-limit zones of Gateway "${n.name}"`,
            rules: n.rateLimits.map(z => rateLimitRule(n, z)),
        });
    }
    if (waf !== "none") {
        out.push({
            suffix: "waf-managed",
            phase: "http_request_firewall_managed",
            name: `slipway ${n.name} managed WAF`,
            description: `Managed WAF rules for Gateway "${n.name}"`,
            rules: [{
                ref: ruleRef(n.name, "managed"),
                description: `Run the ${waf === "free" ? "Free " : ""}Cloudflare Managed Ruleset`,
                expression: hosts,
                action: "execute",
                actionParameters: { id: MANAGED_RULESETS[waf] },
                enabled: true,
            }],
        });
    }
    out.push({
        suffix: "waf-custom",
        phase: "http_request_firewall_custom",
        name: `slipway ${n.name} custom firewall`,
        description: `Custom firewall rules for Gateway "${n.name}"`,
        rules: [metricsRule(n, metricsToken), {
            ref: ruleRef(n.name, "methods"),
            description: "An API has no use for TRACE, TRACK or CONNECT",
            expression: `${hosts} and (http.request.method in {"CONNECT" "TRACE" "TRACK"})`,
            action: "block",
            enabled: true,
        }],
    });
    const headers: Record<string, { operation: string; value: string }> = {};
    for (const [k, v] of Object.entries(n.securityHeaders)) {
        if (k !== "Strict-Transport-Security") headers[k] = { operation: "set", value: v };
    }
    if (Object.keys(headers).length) {
        out.push({
            suffix: "headers",
            phase: "http_response_headers_transform",
            name: `slipway ${n.name} security headers`,
            description: `Security response headers of Gateway "${n.name}"`,
            rules: [{
                ref: ruleRef(n.name, "headers"),
                description: "Set security headers on every response",
                expression: hosts,
                action: "rewrite",
                actionParameters: { headers },
                enabled: true,
            }],
        });
    }
    return out;
}

/** Cloudflare rule refs allow letters, digits and underscores only; stable across runs. */
function ruleRef(gateway: string, rule: string): string {
    return `slipway_${gateway}_${rule}`.replace(/[^a-zA-Z0-9_]/g, "_");
}

export interface CloudflareZoneResources {
    zoneSettings: cloudflare.ZoneSetting[];
    rulesets: cloudflare.Ruleset[];
}

/**
 * The edge App Platform lacks, on the gateway's Cloudflare zone: TLS settings, rate limits, WAF
 * and security headers. Nothing without domains, or with `manageZone: false`.
 */
export function createCloudflareZone(
    name: string, parent: pulumi.Resource, n: NormalizedGateway, cf: GatewayCloudflareArgs, provider?: pulumi.ProviderResource,
    t: GatewayCloudflareTransform = {}, metricsToken?: pulumi.Input<string>,
): CloudflareZoneResources {
    if (!n.domains.length || !(cf.manageZone ?? DEFAULTS.cloudflare.manageZone)) return { zoneSettings: [], rulesets: [] };
    const zoneSettingsCreated = zoneSettings(n).map(s => new cloudflare.ZoneSetting(...transform(t.zoneSetting, `${name}-cf-${s.settingId.replace(/_/g, "-")}`, {
        zoneId: cf.zoneId,
        settingId: s.settingId,
        value: s.value,
    }, { parent, provider })));
    const rulesetsCreated = rulesets(n, n.cloudflare?.waf ?? DEFAULTS.cloudflare.wafManagedRuleset, metricsToken).map(r => new cloudflare.Ruleset(...transform(t.ruleset, `${name}-cf-${r.suffix}`, {
        zoneId: cf.zoneId,
        kind: "zone",
        phase: r.phase,
        name: r.name,
        description: r.description,
        rules: r.rules,
    }, { parent, provider })));
    return { zoneSettings: zoneSettingsCreated, rulesets: rulesetsCreated };
}
