import type * as digitalocean from "@pulumi/digitalocean";
import type { Transform } from "../../core/transform";

/** `transform` keys of the do-app target (see `ObservabilityArgs.transform`); created only with `uptime`. */
export interface ObservabilityDoAppTransform {
    /** The `digitalocean.UptimeCheck` (`<name>-uptime`). @example `{ regions: ["us_east", "eu_west", "se_asia"] }` */
    uptimeCheck?: Transform<digitalocean.UptimeCheckArgs>;
    /** Each `digitalocean.UptimeAlert`: `<name>-uptime-down`, `-latency` and, for https, `-ssl-expiry`. @example `(args, opts, name) => { if (name.endsWith("-down")) args.period = "3m"; }` */
    uptimeAlert?: Transform<digitalocean.UptimeAlertArgs>;
}
