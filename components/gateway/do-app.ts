import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { AppIngressRuleSpec, AppSpecPart } from "../targets/app-spec";
import { rulesets, zoneSettings } from "./cloudflare";
import type { GatewayCloudflareArgs } from "./index";
import { DEFAULTS, NormalizedCors, NormalizedGateway } from "./normalize";

export interface GatewayDoAppResources {
    appSpec: AppSpecPart;
    url?: string;
    zoneSettings: cloudflare.ZoneSetting[];
    rulesets: cloudflare.Ruleset[];
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

/** Pure: the App-spec part (ingress rules, domains, edge records) for a normalized gateway. */
export function gatewayAppSpec(name: string, n: NormalizedGateway, zoneId?: pulumi.Input<string>): AppSpecPart {
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
        source: `Gateway "${name}"`,
        ingressRules,
        domainNames: n.domains.length ? n.domains.map((d, i) => ({ name: d, type: i === 0 ? "PRIMARY" : "ALIAS" })) : undefined,
        edgeRecords: zoneId !== undefined && n.domains.length ? n.domains.map(hostname => ({ zoneId, hostname, proxied: true })) : undefined,
    };
}

/**
 * App Platform routes and domains (returned as a part for DoApp to merge) plus the Cloudflare
 * edge that App Platform lacks: zone TLS settings, rate limits, WAF and security headers.
 * The DNS records themselves need the App's ingress, so DoApp creates them from `edgeRecords`.
 */
export function createGatewayDoApp(
    name: string,
    parent: pulumi.Resource,
    n: NormalizedGateway,
    cf: GatewayCloudflareArgs | undefined,
): GatewayDoAppResources {
    const appSpec = gatewayAppSpec(name, n, cf?.zoneId);
    const settings: cloudflare.ZoneSetting[] = [];
    const sets: cloudflare.Ruleset[] = [];
    if (cf && n.domains.length && (cf.manageZone ?? DEFAULTS.cloudflare.manageZone)) {
        for (const s of zoneSettings(n)) {
            settings.push(new cloudflare.ZoneSetting(`${name}-cf-${s.settingId.replace(/_/g, "-")}`, {
                zoneId: cf.zoneId,
                settingId: s.settingId,
                value: s.value,
            }, { parent }));
        }
        for (const r of rulesets(n, cf.wafManagedRuleset ?? DEFAULTS.cloudflare.wafManagedRuleset)) {
            sets.push(new cloudflare.Ruleset(`${name}-cf-${r.suffix}`, {
                zoneId: cf.zoneId,
                kind: "zone",
                phase: r.phase,
                name: r.name,
                description: r.description,
                rules: r.rules,
            }, { parent }));
        }
    }
    return { appSpec, url: n.domains[0] ? `https://${n.domains[0]}` : undefined, zoneSettings: settings, rulesets: sets };
}
