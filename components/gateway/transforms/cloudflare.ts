import type * as cloudflare from "@pulumi/cloudflare";
import type { Transform } from "../../core/transform";

/** `transform` keys of a Gateway's Cloudflare edge, on both targets (see `GatewayArgs.transform`). */
export interface GatewayCloudflareTransform {
    /** Each `cloudflare.ZoneSetting`; `name` is `<gateway>-cf-<setting-id>`, e.g. `edge-cf-min-tls-version`. @example `(args, opts, name) => { if (name.endsWith("-min-tls-version")) args.value = "1.3"; }` */
    zoneSetting?: Transform<cloudflare.ZoneSettingArgs>;
    /** Each entry-point `cloudflare.Ruleset`; `name` is `<gateway>-cf-<ratelimit|waf-managed|waf-custom|headers>`. @example `(args, opts) => { opts.protect = true; }` */
    ruleset?: Transform<cloudflare.RulesetArgs>;
    /** Docker: each proxied `cloudflare.DnsRecord`; `name` is `<gateway>-cf-dns-<a|aaaa>-<hostname>`. @example `{ comment: "API origin (managed by Pulumi)" }` */
    dnsRecord?: Transform<cloudflare.DnsRecordArgs>;
    /** Docker with `originLock`: the zone's `cloudflare.AuthenticatedOriginPullsSettings` (`<gateway>-cf-origin-pulls`). @example `(args, opts) => { opts.protect = true; }` */
    originPulls?: Transform<cloudflare.AuthenticatedOriginPullsSettingsArgs>;
}
