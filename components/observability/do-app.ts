import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { DoAppTarget } from "../core/target";
import { describe } from "../core/errors";
import { Transform, transform } from "../core/transform";
import type { AppAlertSpec, AppPart, AppServiceAlertSpec, AppServiceLogDestinationSpec } from "../targets/app-spec";
import { NormalizedObservability } from "./normalize";

/** `transform` keys of the do-app target (see `ObservabilityArgs.transform`); created only with `uptime`. */
export interface ObservabilityDoAppTransform {
    /** The `digitalocean.UptimeCheck` (`<name>-uptime`). @example `{ regions: ["us_east", "eu_west", "se_asia"] }` */
    uptimeCheck?: Transform<digitalocean.UptimeCheckArgs>;
    /** Each `digitalocean.UptimeAlert`: `<name>-uptime-down`, `-latency` and, for https, `-ssl-expiry`. @example `(args, opts, name) => { if (name.endsWith("-down")) args.period = "3m"; }` */
    uptimeAlert?: Transform<digitalocean.UptimeAlertArgs>;
}

/** What the do-app target created (`Observability.nodes`). */
export interface ObservabilityDoAppNodes {
    uptimeCheck?: digitalocean.UptimeCheck;
    uptimeAlerts: digitalocean.UptimeAlert[];
}

/** The smallest App Platform alert window that covers `forMinutes`. */
export function alertWindow(forMinutes: number): string {
    if (forMinutes <= 5) return "FIVE_MINUTES";
    if (forMinutes <= 10) return "TEN_MINUTES";
    if (forMinutes <= 30) return "THIRTY_MINUTES";
    return "ONE_HOUR";
}

/** Pulumi sends alert destinations through DO's separate destinations endpoint; undefined when none. */
function alertDestinations(n: NormalizedObservability) {
    const { emails, slackWebhooks } = n.destinations;
    if (!emails.length && !slackWebhooks.length) return undefined;
    return {
        emails: emails.length ? [...emails] : undefined,
        slackWebhooks: slackWebhooks.length ? slackWebhooks.map(s => ({ url: s.url, channel: s.channel })) : undefined,
    };
}

/**
 * The service's CPU, memory and restart alerts. They mail the `emails` only: a Slack webhook is
 * a credential, and a secret anywhere in `spec.services` hides every service setting from a
 * preview (see DoApp). Slack gets the App's deploy and domain alerts and the uptime alerts.
 */
export function serviceAlerts(n: NormalizedObservability): AppServiceAlertSpec[] {
    const window = alertWindow(n.alerts.forMinutes);
    const destinations = n.destinations.emails.length ? { emails: [...n.destinations.emails] } : undefined;
    const alert = (rule: string, value: number): AppServiceAlertSpec => ({ rule, operator: "GREATER_THAN", value, window, destinations });
    return [
        alert("CPU_UTILIZATION", n.alerts.cpuPercent),
        alert("MEM_UTILIZATION", n.alerts.memoryPercent),
        alert("RESTART_COUNT", n.alerts.restartCount),
    ];
}

export function serviceLogDestinations(n: NormalizedObservability): AppServiceLogDestinationSpec[] {
    return n.logDestinations.map(d => ({ name: d.name, [d.kind]: d.config }) as AppServiceLogDestinationSpec);
}

export function createObservabilityDoApp(
    name: string, parent: pulumi.ComponentResource, n: NormalizedObservability, target: DoAppTarget,
    t: ObservabilityDoAppTransform = {},
): { part: AppPart; uptimeCheckId?: pulumi.Output<string>; nodes: ObservabilityDoAppNodes } {
    const destinations = alertDestinations(n);
    const alerts: AppAlertSpec[] = ["DEPLOYMENT_FAILED", "DOMAIN_FAILED"].map(rule => ({ rule, destinations }));
    const part: AppPart = { owner: describe({ kind: "Observability", name }), alerts };
    const provider = target.providers?.digitalocean;
    if (!n.uptime) return { part, nodes: { uptimeAlerts: [] } };

    const check = new digitalocean.UptimeCheck(...transform(t.uptimeCheck, `${name}-uptime`, {
        name: `${target.appName}-${name}`,
        target: n.uptime.url,
        type: n.uptime.https ? "https" : "http",
        regions: n.uptime.regions,
        enabled: true,
    }, { parent, provider }));
    const notifications = [{
        emails: n.destinations.emails.length ? n.destinations.emails : undefined,
        slacks: n.destinations.slackWebhooks.length ? n.destinations.slackWebhooks.map(s => ({ url: s.url, channel: s.channel })) : undefined,
    }];
    const uptimeAlerts: digitalocean.UptimeAlert[] = [];
    const alert = (suffix: string, args: Omit<digitalocean.UptimeAlertArgs, "checkId" | "notifications" | "name">) => uptimeAlerts.push(new digitalocean.UptimeAlert(
        ...transform(t.uptimeAlert, `${name}-uptime-${suffix}`, { checkId: check.id, name: `${target.appName} ${suffix}`, notifications, ...args }, { parent, provider })));
    alert("down", { type: "down", period: "2m" });
    // One slow probe is noise; a sustained one past the critical P95 line is worth a page.
    alert("latency", { type: "latency", comparison: "greater_than", threshold: n.alerts.latencyP95CriticalMs, period: "5m" });
    if (n.uptime.https) alert("ssl-expiry", { type: "ssl_expiry", comparison: "less_than", threshold: 14, period: "5m" });
    return { part, uptimeCheckId: check.id, nodes: { uptimeCheck: check, uptimeAlerts } };
}
