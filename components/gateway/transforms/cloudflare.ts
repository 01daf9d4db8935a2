import type * as cloudflare from "@pulumi/cloudflare";
import type { Transform } from "../../core/transform";

/** `transform` keys of the Cloudflare edge of a do-app Gateway (see `GatewayArgs.transform`). */
export interface GatewayCloudflareTransform {
    /** Each `cloudflare.ZoneSetting`; `name` is `<gateway>-cf-<setting-id>`, e.g. `edge-cf-min-tls-version`. @example `(args, opts, name) => { if (name.endsWith("-min-tls-version")) args.value = "1.3"; }` */
    zoneSetting?: Transform<cloudflare.ZoneSettingArgs>;
    /** Each entry-point `cloudflare.Ruleset`; `name` is `<gateway>-cf-<ratelimit|waf-managed|waf-custom|headers>`. @example `(args, opts) => { opts.protect = true; }` */
    ruleset?: Transform<cloudflare.RulesetArgs>;
}
