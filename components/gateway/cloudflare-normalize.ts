// The target-neutral half of a Gateway's `cloudflare` block: what both targets check the same way
// (zone id, plan, managed WAF, what the plan accepts of the rate-limit zones), with the defaults
// both targets' rulesets are generated from. Pure (no SDK, no I/O). What only one target accepts
// (origin addresses, origin lock and trusted proxies on docker) is checked in that target's file.
import { X509Certificate } from "crypto";
import { ErrorContext, invalid } from "../core/errors";
import { isHostname } from "../core/naming";
import type { GatewayCloudflareArgs, GatewayCloudflarePlan } from "./args";
import { CLOUDFLARE_IPV4_RANGES, CLOUDFLARE_IPV6_RANGES, CLOUDFLARE_ORIGIN_PULL_CA } from "./cloudflare-data";
import { parseCidr } from "./client-ip";

export const CLOUDFLARE_PLANS: readonly GatewayCloudflarePlan[] = ["free", "pro", "business", "enterprise"];

/** Rate-limiting rules per plan (Cloudflare's "Rate limiting rules: availability" table, developers.cloudflare.com/waf/rate-limiting-rules/). */
export const RATE_LIMIT_PLAN = {
    free: { rules: 1, maxPeriod: 10, hostField: false, customResponse: false, headerKey: false },
    pro: { rules: 2, maxPeriod: 60, hostField: true, customResponse: true, headerKey: false },
    business: { rules: 5, maxPeriod: 600, hostField: true, customResponse: true, headerKey: false },
    // Header characteristics need Advanced Rate Limiting, an Enterprise add-on.
    enterprise: { rules: 100, maxPeriod: 3600, hostField: true, customResponse: true, headerKey: true },
} as const satisfies Record<GatewayCloudflarePlan, unknown>;

/** What the rulesets and, on docker, Caddy are generated from. */
export interface NormalizedCloudflare {
    plan: GatewayCloudflarePlan;
    manageZone: boolean;
    waf: "cloudflare" | "free" | "none";
    /** Mirror the rate-limit zones as Cloudflare rules. */
    edgeRateLimits: boolean;
    /** Docker: the CIDRs whose `CF-Connecting-IP` Caddy believes. */
    trustedProxies: string[];
    /** Docker: the CA certificates (PEM each) Caddy accepts client certificates from; undefined: no origin lock. */
    originLock?: { clientCaPems: string[] };
}

/** A Cloudflare zone id: 32 lowercase hexadecimal digits (as the API returns them). */
const ZONE_ID = /^[0-9a-f]{32}$/;

/** The header Cloudflare sets to the visitor's address (one address, replaced on every request). */
export const CLIENT_IP_HEADER = "CF-Connecting-IP";

/** The rate-limit zone as far as the plan check needs it. */
interface ZoneLike { name: string; window: string; windowMs: number; key: { kind: string } }

/** Defaults and plan checks of `cloudflare`; undefined when it is not set. */
export function normalizeCloudflare(ctx: ErrorContext, cf: GatewayCloudflareArgs | undefined, zones: readonly ZoneLike[]): NormalizedCloudflare | undefined {
    if (cf === undefined) return undefined;
    const zoneId = cf.zoneId;
    if (typeof zoneId === "string" && !ZONE_ID.test(zoneId)) {
        const kind = ZONE_ID.test(zoneId.toLowerCase()) ? " (in capitals)" : isHostname(zoneId.toLowerCase()) ? " (it is a domain name)" : "";
        invalid(ctx, "cloudflare.zoneId", `${JSON.stringify(zoneId)} is not a zone id${kind}`,
            "use the zone's id, 32 lowercase hexadecimal digits (Cloudflare dashboard: the zone's Overview, API section; or `GET /zones?name=<domain>`)");
    }
    const plan = cf.plan ?? "free";
    if (!CLOUDFLARE_PLANS.includes(plan)) invalid(ctx, "cloudflare.plan", `${JSON.stringify(plan)} is not a Cloudflare plan`, `use one of ${CLOUDFLARE_PLANS.join(", ")}`);
    const waf = cf.wafManagedRuleset ?? (plan === "free" ? "none" : "cloudflare");
    if (!["cloudflare", "free", "none"].includes(waf)) {
        invalid(ctx, "cloudflare.wafManagedRuleset", `${JSON.stringify(waf)} is not supported`, `use "cloudflare", "free" or "none"`);
    }
    if (waf === "cloudflare" && plan === "free") {
        invalid(ctx, "cloudflare.wafManagedRuleset", `"cloudflare" (the Cloudflare Managed Ruleset) needs a Pro plan or higher, and plan is "free"`,
            `use "free" (the Free Managed Ruleset) or "none", or set cloudflare.plan to the zone's paid plan`);
    }
    const manageZone = cf.manageZone ?? true;
    const edgeRateLimits = cf.edgeRateLimits ?? true;
    if (manageZone && edgeRateLimits) checkZonesFitPlan(ctx, plan, zones);
    return {
        plan, manageZone, waf, edgeRateLimits,
        trustedProxies: normalizeTrustedProxies(ctx, cf.trustedProxies),
        ...(cf.originLock !== false && { originLock: { clientCaPems: normalizeClientCa(ctx, cf.originLock) } }),
    };
}

/** A zone the plan cannot express is refused, never silently dropped. */
function checkZonesFitPlan(ctx: ErrorContext, plan: GatewayCloudflarePlan, zones: readonly ZoneLike[]): void {
    const p = RATE_LIMIT_PLAN[plan];
    const off = "or set cloudflare.edgeRateLimits: false to leave the zones to Caddy (docker only)";
    if (zones.length > p.rules) {
        invalid(ctx, "rateLimits", `the ${plan} plan allows ${p.rules} rate-limiting rule${p.rules > 1 ? "s" : ""} and there are ${zones.length} zones`,
            `merge zones, set cloudflare.plan to a plan that allows more, ${off}`);
    }
    for (const z of zones) {
        if (z.windowMs / 1000 > p.maxPeriod) {
            invalid(ctx, `rateLimits.${z.name}.window`, `the ${plan} plan counts over at most ${p.maxPeriod} s, and ${z.window} is longer`,
                `use a window of ${p.maxPeriod}s or less with the same rate, set cloudflare.plan to a plan that allows it, ${off}`);
        }
        if (z.key.kind === "header" && !p.headerKey) {
            invalid(ctx, `rateLimits.${z.name}.key`, "counting by a header value needs Cloudflare's Advanced Rate Limiting (Enterprise)",
                `use key "ip", set cloudflare.plan: "enterprise" if the zone has it, ${off}`);
        }
    }
}

/** The default is Cloudflare's published ranges; a catch-all range would let anyone choose their address. */
function normalizeTrustedProxies(ctx: ErrorContext, given: string[] | undefined): string[] {
    if (given === undefined) return [...CLOUDFLARE_IPV4_RANGES, ...CLOUDFLARE_IPV6_RANGES];
    if (given.length === 0) invalid(ctx, "cloudflare.trustedProxies", "is empty, so Caddy would never see a client's real address", "omit it for Cloudflare's published ranges");
    return given.map((r, i) => {
        const cidr = parseCidr(r);
        if (!cidr) invalid(ctx, `cloudflare.trustedProxies[${i}]`, `${JSON.stringify(r)} is not an IP address or CIDR range`, `use e.g. "173.245.48.0/20" or "2400:cb00::/32"`);
        if (cidr.bits === 0) {
            invalid(ctx, `cloudflare.trustedProxies[${i}]`, `${JSON.stringify(r)} trusts every address, so any client could set its own address with ${CLIENT_IP_HEADER}`,
                "list only the proxies in front of the gateway, or omit trustedProxies for Cloudflare's ranges");
        }
        return cidr.text;
    });
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----\r?\n([\s\S]*?)-----END CERTIFICATE-----/g;

/** Certificates only (a key is refused, never echoed), each a CA certificate that parses. */
function normalizeClientCa(ctx: ErrorContext, lock: GatewayCloudflareArgs["originLock"]): string[] {
    const pem = typeof lock === "object" && lock !== null && lock.clientCa !== undefined ? lock.clientCa : CLOUDFLARE_ORIGIN_PULL_CA;
    const path = "cloudflare.originLock.clientCa";
    const fix = "give the PEM text of the CA certificate that signs the origin-pull client certificates (-----BEGIN CERTIFICATE----- ...)";
    if (/PRIVATE KEY/.test(pem)) invalid(ctx, path, "contains a private key", "remove the key (and rotate it if this file was shared): only the CA certificate is needed");
    const certs = [...pem.matchAll(PEM_CERT)].map(m => `-----BEGIN CERTIFICATE-----\n${m[1]!.replace(/\r\n/g, "\n")}-----END CERTIFICATE-----\n`);
    if (certs.length === 0) invalid(ctx, path, "holds no PEM certificate", fix);
    certs.forEach((text, i) => {
        let cert: X509Certificate;
        try { cert = new X509Certificate(text); } catch (e) {
            return invalid(ctx, path, `certificate ${i + 1} does not parse (${(e as Error).message})`, fix);
        }
        if (!cert.ca) invalid(ctx, path, `certificate ${i + 1} (${cert.subject.replace(/\n/g, ", ")}) is not a CA certificate`, fix);
    });
    return certs;
}
