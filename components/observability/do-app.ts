import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { DoAppTarget } from "../core/target";
import { describe } from "../core/errors";
import { transform } from "../core/transform";
import type { ObservabilityDoAppTransform } from "./transforms/do-app";

export type { ObservabilityDoAppTransform } from "./transforms/do-app";
import type { AppAlertSpec, AppPart, AppServiceAlertSpec, AppServiceLogDestinationSpec } from "../targets/app-spec";
import { NormalizedObservability } from "./normalize";

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

/** Uptime alert periods App Platform accepts, in minutes. */
const UPTIME_PERIODS: [number, string][] = [[2, "2m"], [3, "3m"], [5, "5m"], [10, "10m"], [15, "15m"], [30, "30m"], [60, "1h"]];

/** The smallest uptime alert period that covers `minutes`. */
export function uptimePeriod(minutes: number): string {
    return (UPTIME_PERIODS.find(([m]) => minutes <= m) ?? UPTIME_PERIODS[UPTIME_PERIODS.length - 1]!)[1];
}

type Severity = "warning" | "critical";
const destinationSet = (n: NormalizedObservability, severity: Severity) => (severity === "critical" ? n.destinations : n.destinations.warning);

/** Pulumi sends alert destinations through DO's separate destinations endpoint; undefined when none. */
function alertDestinations(n: NormalizedObservability, severity: Severity) {
    const { emails, slackWebhooks } = destinationSet(n, severity);
    if (!emails.length && !slackWebhooks.length) return undefined;
    return {
        emails: emails.length ? [...emails] : undefined,
        slackWebhooks: slackWebhooks.length ? slackWebhooks.map(s => ({ url: s.url, channel: s.channel })) : undefined,
    };
}

/**
 * The service's CPU and memory (warning) and restart (critical) alerts: the component rules the
 * provider accepts (its schema refuses the API's REQUEST_DURATION_P95_MS and REQUESTS_PER_SECOND).
 * They mail the `emails` of their severity only: a Slack webhook is a credential, and a secret
 * anywhere in `spec.services` hides every service setting from a preview (see DoApp). Slack gets
 * the App's deploy and domain alerts and the uptime alerts.
 */
export function serviceAlerts(n: NormalizedObservability): AppServiceAlertSpec[] {
    const window = alertWindow(n.alerts.forMinutes);
    const alert = (rule: string, value: number, severity: Severity): AppServiceAlertSpec => {
        const { emails } = destinationSet(n, severity);
        return { rule, operator: "GREATER_THAN", value, window, destinations: emails.length ? { emails: [...emails] } : undefined };
    };
    return [
        alert("CPU_UTILIZATION", n.alerts.cpuPercent, "warning"),
        alert("MEM_UTILIZATION", n.alerts.memoryPercent, "warning"),
        alert("RESTART_COUNT", n.alerts.restartCount, "critical"),
    ];
}

export function serviceLogDestinations(n: NormalizedObservability): AppServiceLogDestinationSpec[] {
    return n.logDestinations.map(d => ({ name: d.name, [d.kind]: d.config }) as AppServiceLogDestinationSpec);
}

export function createObservabilityDoApp(
    name: string, parent: pulumi.ComponentResource, n: NormalizedObservability, target: DoAppTarget,
    t: ObservabilityDoAppTransform = {},
): { part: AppPart; uptimeCheckId?: pulumi.Output<string>; nodes: ObservabilityDoAppNodes } {
    // Both leave users without the new code or without the site: critical.
    const destinations = alertDestinations(n, "critical");
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
    const notifications = (severity: Severity) => {
        const d = destinationSet(n, severity);
        return [{
            emails: d.emails.length ? d.emails : undefined,
            slacks: d.slackWebhooks.length ? d.slackWebhooks.map(s => ({ url: s.url, channel: s.channel })) : undefined,
        }];
    };
    const uptimeAlerts: digitalocean.UptimeAlert[] = [];
    const alert = (suffix: string, severity: Severity, args: Omit<digitalocean.UptimeAlertArgs, "checkId" | "notifications" | "name">) => uptimeAlerts.push(new digitalocean.UptimeAlert(
        ...transform(t.uptimeAlert, `${name}-uptime-${suffix}`, { checkId: check.id, name: `${target.appName} ${suffix}`, notifications: notifications(severity), ...args }, { parent, provider })));
    const a = n.alerts;
    alert("down", "critical", { type: "down", period: uptimePeriod(a.for.targetDown) });
    // The nearest DO has to a P95 rule: one probe's latency, sustained for the period. One slow
    // probe is noise; a sustained one past the critical line is worth a page. There is no warning
    // twin: a probe from another continent spends a good part of 500 ms on the network alone.
    alert("latency", "critical", { type: "latency", comparison: "greater_than", threshold: a.latencyP95CriticalMs, period: uptimePeriod(a.for.latency) });
    if (n.uptime.https) alert("ssl-expiry", "warning", { type: "ssl_expiry", comparison: "less_than", threshold: 14, period: "5m" });
    return { part, uptimeCheckId: check.id, nodes: { uptimeCheck: check, uptimeAlerts } };
}
