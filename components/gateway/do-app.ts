import * as pulumi from "@pulumi/pulumi";
import type { EdgeRecord } from "../core/edge";
import { ErrorContext, describe, invalid } from "../core/errors";
import type { DoAppTarget } from "../core/target";
import type { AppIngressRuleSpec, AppPart } from "../targets/app-spec";
import { CLOUDFLARE_PERIODS, CloudflareZoneResources, createCloudflareZone, periodLabel } from "./cloudflare";
import type { GatewayDoAppTransform } from "./transforms/do-app";

export type { GatewayDoAppTransform } from "./transforms/do-app";
import type { GatewayArgs, GatewayCloudflareArgs } from "./args";
import { DEFAULTS, NormalizedCors, NormalizedGateway, isLocalHost } from "./normalize";

export interface GatewayDoAppResources extends CloudflareZoneResources {
    appPart: AppPart;
    /** The hostnames a Cloudflare edge must point at the App, once it exists. */
    edgeRecords: EdgeRecord[];
    url?: string;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** App Platform takes one origin matcher per rule: one exact origin, or an RE2 alternation. */
export function doCors(c: NormalizedCors): NonNullable<AppIngressRuleSpec["cors"]> {
    const origins = c.allowOrigins;
    const allowOrigins = origins.length === 1 && origins[0] !== "*"
        ? { exact: origins[0] }
        : { regex: origins[0] === "*" ? ".*" : `^(${origins.map(escapeRegex).join("|")})$` };
    return {
        allowOrigins,
        allowMethods: c.allowMethods,
        allowHeaders: c.allowHeaders,
        exposeHeaders: c.exposeHeaders,
        maxAge: `${c.maxAgeSeconds}s`,
        allowCredentials: c.allowCredentials,
    };
}

/** Pure: the App part (ingress rules, domains) for a normalized gateway. */
export function gatewayAppSpec(name: string, n: NormalizedGateway): AppPart {
    const ingressRules: AppIngressRuleSpec[] = n.routes.map(r => {
        const rule: AppIngressRuleSpec = {
            match: { path: { prefix: r.pathPrefix } },
            // App Platform strips the matched prefix unless told to keep it: the opposite default.
            component: { name: r.service.name, preservePathPrefix: !r.stripPrefix },
        };
        if (n.cors) rule.cors = doCors(n.cors);
        return rule;
    });
    return {
        owner: describe({ kind: "Gateway", name }),
        ingressRules,
        domainNames: n.domains.length ? n.domains.map((d, i) => ({ name: d, type: i === 0 ? "PRIMARY" : "ALIAS" })) : undefined,
    };
}

/**
 * App Platform routes and domains (returned as a part for DoApp to merge) plus the Cloudflare
 * edge that App Platform lacks: zone TLS settings, rate limits, WAF and security headers.
 * The DNS records themselves need the App's ingress: `CloudflareEdge` creates them from
 * `edgeRecords` after the App.
 */
export function createGatewayDoApp(
    name: string,
    parent: pulumi.Resource,
    n: NormalizedGateway,
    cf: GatewayCloudflareArgs | undefined,
    target: DoAppTarget,
    t: GatewayDoAppTransform = {},
    metricsToken?: pulumi.Input<string>,
): GatewayDoAppResources {
    const appPart = gatewayAppSpec(name, n);
    const provider = target.providers?.cloudflare;
    const edgeRecords = cf ? n.domains.map(hostname => ({ zoneId: cf.zoneId, hostname, proxied: true })) : [];
    const zone = cf ? createCloudflareZone(name, parent, n, cf, provider, t, metricsToken) : { zoneSettings: [], rulesets: [] };
    return { appPart, edgeRecords, url: n.domains[0] ? `https://${n.domains[0]}` : undefined, ...zone };
}

// --- What only the do-app target accepts ---------------------------------------------------------

/**
 * The do-app half of `validateGateway`, run after the target-neutral `normalizeGateway`: what App
 * Platform and Cloudflare cannot do. App Platform terminates TLS itself, has no body limit, no log
 * files and no public name for `localhost`; Cloudflare counts rate limits over fixed periods,
 * always compresses, and must be given the zone that holds the domains.
 */
export function checkGatewayDoApp(name: string, args: GatewayArgs & { target: DoAppTarget }, n: NormalizedGateway): void {
    const ctx: ErrorContext = { kind: "Gateway", name };
    if (n.tls !== "auto" && args.tls !== undefined) {
        invalid(ctx, "tls", `App Platform always serves HTTPS with its own certificates; ${JSON.stringify(n.tls)} cannot apply`,
            "remove tls on the do-app target");
    }
    args.routes.forEach((r, i) => {
        if (r.jwt !== undefined) {
            invalid(ctx, `routes[${i}].jwt`, "App Platform has no hook to check tokens before the service, so the gateway cannot validate JWTs on do-app",
                "remove jwt and validate tokens in the service, or turn on Cloudflare API Shield's JWT validation for the zone where the plan has it");
        }
    });
    if (args.acme !== undefined) {
        invalid(ctx, "acme", "App Platform and Cloudflare obtain and renew the certificates of the domains themselves; no ACME CA can be chosen",
            "remove acme on the do-app target");
    }
    for (const z of n.rateLimits) {
        if (!(CLOUDFLARE_PERIODS as readonly number[]).includes(z.windowMs / 1000)) {
            invalid(ctx, `rateLimits.${z.name}.window`, `Cloudflare rate limits count over fixed periods, and ${z.window} is not one`,
                `use one of ${CLOUDFLARE_PERIODS.map(periodLabel).join(", ")}`);
        }
    }
    if (n.maxBodySizeExplicit) {
        invalid(ctx, "maxBodySize", "App Platform has no request body limit at the origin, and Cloudflare's (max_upload, 100MB and up by plan) cannot go lower",
            "remove maxBodySize on do-app and enforce the limit in the service");
    }
    if (n.compression.length === 0) {
        invalid(ctx, "compression", "Cloudflare always compresses eligible responses; it cannot be turned off per gateway",
            "remove compression on do-app");
    }
    if (n.accessLog?.file !== undefined) {
        invalid(ctx, "accessLog.file", "App Platform has no writable log files; access logs are its runtime logs", "remove accessLog.file on do-app");
    }
    if (typeof args.accessLog === "object" && args.accessLog.sampleHealthChecks !== undefined) {
        invalid(ctx, "accessLog.sampleHealthChecks", "App Platform logs the requests itself; no access log of the gateway's is there to sample",
            "remove accessLog.sampleHealthChecks on do-app");
    }
    checkCloudflare(ctx, args.cloudflare, n.domains);
    if (n.rateLimits.length && n.cloudflare?.edgeRateLimits === false) {
        invalid(ctx, "cloudflare.edgeRateLimits", "is false, and on do-app Cloudflare's rules are the only rate limits (App Platform has none)",
            "remove edgeRateLimits on do-app, or remove the rate-limit zones");
    }
    // The metrics path is guarded by a rule in the Cloudflare zone; without one, asking for it would
    // leave a stack believing the path is closed while the App serves it.
    if (args.publicMetrics !== undefined && !(n.domains.length && (args.cloudflare?.manageZone ?? DEFAULTS.cloudflare.manageZone))) {
        invalid(ctx, "publicMetrics", n.domains.length
            ? "is enforced by a Cloudflare rule, and cloudflare.manageZone is false, so nothing would guard the path"
            : "is enforced by a Cloudflare rule on the gateway's domains, and there are none, so nothing would guard the path",
        "add domains and cloudflare (with manageZone), or remove publicMetrics and have the service refuse the path without its token");
    }
}

/** Domains on do-app are served through Cloudflare: its zone is required with them, and only then. */
function checkCloudflare(ctx: ErrorContext, cf: GatewayArgs["cloudflare"], domains: string[]): void {
    if (domains.length > 0 && !cf?.zoneId) {
        invalid(ctx, "cloudflare.zoneId", "domains on do-app are served through Cloudflare, and no zone is given",
            "pass cloudflare: { zoneId } for the zone that holds the domains");
    }
    if (domains.length === 0 && cf !== undefined) {
        invalid(ctx, "cloudflare", "is set but there are no domains to put behind it", "add domains, or remove cloudflare");
    }
    const localDomains = domains.filter(isLocalHost);
    if (localDomains.length > 0) {
        invalid(ctx, "domains", `${localDomains.join(", ")} cannot be served by App Platform`, "use public hostnames on do-app");
    }
    // The zone id, plan and managed WAF were checked by normalizeCloudflare, as on docker.
    for (const key of ["originIpv4", "originIpv6", "proxied", "originLock", "trustedProxies"] as const) {
        if (cf?.[key] !== undefined) {
            invalid(ctx, `cloudflare.${key}`, "applies to a docker origin; on do-app App Platform is the origin, and Cloudflare points at its ingress",
                `remove cloudflare.${key} on do-app`);
        }
    }
}
