// Prometheus documents as typed data, rendered to YAML deterministically: same input, same bytes,
// so the upload (and its diff) changes only when a threshold or a scrape target does.
import * as YAML from "yaml";
import { GATEWAY_JOB } from "./normalize";
import type { NormalizedAlerts } from "./normalize";

export type Severity = "warning" | "critical";
export type Profile = "dev" | "production";

export { GATEWAY_JOB };
/**
 * The gateway's request counter with a status label: the `_count` of slipway_edge's duration
 * histogram (docker/caddy/edge), which counts requests by `code`. Unlike Caddy's, that histogram
 * has a 2 s bound, so a gateway latency rule could read exact bucket shares; none does yet (the
 * latency rules read the services' own histograms).
 */
export const GATEWAY_METRICS = { requests: "slipway_gateway_request_duration_seconds_count", statusLabel: "code" } as const;
/** The target label a linked service's target file carries: the replica count it declares. */
export const REPLICAS_LABEL = "replicas";
/** The largest replica count the replicas rule covers: ApiService's own upper bound. */
export const MAX_DECLARED_REPLICAS = 20;
/** The window every rate is taken over. */
export const RATE_WINDOW = "5m";
/** The window the request-rate anomaly compares (now against the same window one baseline ago). */
export const ANOMALY_WINDOW = "10m";
const MIB = 1024 * 1024;

export interface AlertRule {
    alert: string;
    expr: string;
    for: string;
    /** `service` is the job the alert is about (a template): Alertmanager groups and inhibits by it. */
    /**
     * `family` names the condition without its severity (`SlipwayLatencyP95` for both lines), so
     * Alertmanager's inhibition can silence the warning while the critical of the same family fires.
     */
    labels: { severity: Severity; service: string; family: string };
    annotations: { summary: string; description: string };
}

export interface RuleGroup {
    name: string;
    rules: AlertRule[];
}

const SERVICE = "{{ $labels.job }}";
/** 500 -> 0.5: thresholds compare against seconds, the histogram's unit. */
const seconds = (ms: number) => ms / 1000;
const percent = (ratio: number) => `${+(ratio * 100).toFixed(4)}%`;
const title = (s: Severity) => (s === "warning" ? "Warning" : "Critical");
const esc = (s: string) => s.replace(/[.+*?()[\]{}|^$\\]/g, "\\$&");

/**
 * A matcher for the bucket whose upper bound is `le` seconds, whichever way the scrape wrote it:
 * the Prometheus text format writes `2`, OpenMetrics (and Prometheus 3's normalisation) `2.0`.
 */
export function leMatcher(le: number): string {
    const text = String(le);
    return Number.isInteger(le) ? `le=~"${esc(text)}|${esc(text)}\\\\.0"` : `le="${text}"`;
}

function rule(alert: string, severity: Severity, minutes: number, expr: string, summary: string, description: string): AlertRule {
    const family = alert.replace(/(Warning|Critical)$/, "");
    return { alert, expr, for: `${minutes}m`, labels: { severity, service: SERVICE, family }, annotations: { summary, description } };
}

/**
 * P95 above T, stated exactly: fewer than 95 % of the requests fell in the `le="T"` bucket. T is a
 * bucket bound (normalize refuses others), so this is true exactly when the true P95 exceeds T:
 * no interpolation inside a bucket, whatever the distribution. Idle: 0/0 = NaN, which compares false.
 */
function latencyRule(a: NormalizedAlerts, severity: Severity, ms: number): AlertRule {
    const h = a.metrics.histogram;
    const le = seconds(ms);
    return rule(`SlipwayLatencyP95${title(severity)}`, severity, a.for.latency,
        `sum by (job) (rate(${h}_bucket{${leMatcher(le)}}[${RATE_WINDOW}])) / sum by (job) (rate(${h}_count[${RATE_WINDOW}])) < 0.95`,
        `P95 latency of ${SERVICE} is above ${ms}ms`,
        `Only {{ $value | humanizePercentage }} of the requests to ${SERVICE} finished within ${ms}ms over ${RATE_WINDOW} (P95 at or below ${ms}ms needs 95%), for ${a.for.latency} minutes.`);
}

/** The 5xx share of the service's own counter. */
function errorRateRule(a: NormalizedAlerts, severity: Severity, ratio: number): AlertRule {
    const { requests, statusLabel } = a.metrics;
    return rule(`SlipwayErrorRate${title(severity)}`, severity, a.for.errorRate,
        `sum by (job) (rate(${requests}{${statusLabel}=~"5.."}[${RATE_WINDOW}])) / sum by (job) (rate(${requests}[${RATE_WINDOW}])) > ${ratio}`,
        `5xx ratio of ${SERVICE} is above ${percent(ratio)}`,
        `{{ $value | humanizePercentage }} of the requests to ${SERVICE} failed with a 5xx over ${RATE_WINDOW} (threshold ${percent(ratio)}), for ${a.for.errorRate} minutes.`);
}

/** The 5xx share as the gateway saw it: it also counts what never reached a service (502, 504). */
function gatewayErrorRateRule(a: NormalizedAlerts, severity: Severity, ratio: number): AlertRule {
    const { requests, statusLabel } = GATEWAY_METRICS;
    const sel = `job="${GATEWAY_JOB}"`;
    return rule(`SlipwayGatewayErrorRate${title(severity)}`, severity, a.for.errorRate,
        `sum by (job) (rate(${requests}{${sel},${statusLabel}=~"5.."}[${RATE_WINDOW}])) / sum by (job) (rate(${requests}{${sel}}[${RATE_WINDOW}])) > ${ratio}`,
        `5xx ratio at the gateway is above ${percent(ratio)}`,
        `{{ $value | humanizePercentage }} of the requests through the gateway were answered with a 5xx over ${RATE_WINDOW} (threshold ${percent(ratio)}), for ${a.for.errorRate} minutes.`);
}

/**
 * A service whose histogram lacks a bucket a latency rule reads: the rule's numerator is empty, so
 * it could never fire. This says so instead of staying silent.
 */
function bucketMissingRule(a: NormalizedAlerts): AlertRule {
    const h = a.metrics.histogram;
    const les = [a.latencyP95WarningMs, a.latencyP95CriticalMs].map(seconds);
    const count = `sum by (job) (rate(${h}_count[${RATE_WINDOW}]))`;
    const expr = les.map(le => `(${count} unless on (job) sum by (job) (rate(${h}_bucket{${leMatcher(le)}}[${RATE_WINDOW}])))`).join(" or ");
    return rule("SlipwayLatencyBucketMissing", "warning", a.for.latency, expr,
        `${SERVICE} exposes ${h} without the ${les.join(" s or ")} s bucket`,
        `The latency alerts compare the share of requests in the le=${les.join(" and le=")} buckets; ${SERVICE} has no such bucket, so they cannot fire for it. Add ${les.join(" and ")} to its histogram's buckets (and to the Observability's metrics.buckets).`);
}

/** Traffic now against the same window one baseline earlier; quiet below the floor on both sides. */
function requestRateRules(a: NormalizedAlerts): AlertRule[] {
    const r = a.requestRate;
    const now = `sum by (job) (rate(${a.metrics.requests}[${ANOMALY_WINDOW}]))`;
    const before = `sum by (job) (rate(${a.metrics.requests}[${ANOMALY_WINDOW}] offset ${r.baseline}))`;
    return [
        rule("SlipwayRequestRateDrop", "warning", a.for.requestRate,
            `${now} < ${r.drop} * ${before} and on (job) ${before} >= ${r.floorPerSecond}`,
            `Traffic to ${SERVICE} fell below ${percent(r.drop)} of ${r.baseline} ago`,
            `${SERVICE} serves {{ $value | humanize }} requests/s over ${ANOMALY_WINDOW}, under ${percent(r.drop)} of the same window ${r.baseline} earlier, for ${a.for.requestRate} minutes.`),
        rule("SlipwayRequestRateSpike", "warning", a.for.requestRate,
            `${now} > ${r.spike} * ${before} and ${now} >= ${r.floorPerSecond}`,
            `Traffic to ${SERVICE} rose above ${r.spike}x ${r.baseline} ago`,
            `${SERVICE} serves {{ $value | humanize }} requests/s over ${ANOMALY_WINDOW}, over ${r.spike} times the same window ${r.baseline} earlier, for ${a.for.requestRate} minutes.`),
    ];
}

/** Every target: which instance is down (a stopped replica reads `up == 0`, it does not vanish). */
function targetDownRule(a: NormalizedAlerts): AlertRule {
    return rule("SlipwayTargetDown", "warning", a.for.targetDown, "up == 0",
        `${SERVICE} target {{ $labels.instance }} is down`,
        `Prometheus has failed to scrape {{ $labels.instance }} of ${SERVICE} for ${a.for.targetDown} minutes.`);
}

/**
 * Fewer healthy replicas than the service declares (its target file's `replicas` label). PromQL
 * cannot read a label as a number, so the rule lists each count a service can declare. Summed by
 * job and declared count, so the two releases of a rollout count together.
 */
function replicasRule(a: NormalizedAlerts): AlertRule {
    const terms = Array.from({ length: MAX_DECLARED_REPLICAS }, (_, i) =>
        `sum by (job, ${REPLICAS_LABEL}) (up{${REPLICAS_LABEL}="${i + 1}"}) < ${i + 1}`);
    return rule("SlipwayReplicasMissing", "critical", a.for.replicas, terms.join(" or "),
        `${SERVICE} runs {{ $value }} of {{ $labels.${REPLICAS_LABEL} }} declared replicas`,
        `Only {{ $value }} of the {{ $labels.${REPLICAS_LABEL} }} replicas ${SERVICE} declares answered Prometheus' scrapes, for ${a.for.replicas} minutes.`);
}

/** Go runtime of every target that exposes it (services, and Prometheus, Caddy themselves). */
function runtimeRules(a: NormalizedAlerts): AlertRule[] {
    return [
        rule("SlipwayGoroutinesHigh", "warning", a.for.runtime, `go_goroutines > ${a.goroutines}`,
            `${SERVICE} on {{ $labels.instance }} runs more than ${a.goroutines} goroutines`,
            `{{ $labels.instance }} of ${SERVICE} has run {{ $value }} goroutines for ${a.for.runtime} minutes (threshold ${a.goroutines}): a leak, or requests piling up.`),
        rule("SlipwayMemoryHigh", "warning", a.for.runtime, `process_resident_memory_bytes > ${a.residentMemoryMiB * MIB}`,
            `${SERVICE} on {{ $labels.instance }} uses more than ${a.residentMemoryMiB} MiB`,
            `{{ $labels.instance }} of ${SERVICE} has held {{ $value | humanize1024 }}B resident for ${a.for.runtime} minutes (threshold ${a.residentMemoryMiB} MiB).`),
    ];
}

/** Share of maxmemory past which the cache alert warns. */
export const CACHE_MEMORY_RATIO = 0.9;

/**
 * A cache's redis exporter (ManagedCache's sidecar, or any redis_exporter scraped): the server it
 * reads is unreachable (the exporter answers, so `up` stays 1 and only `redis_up` says so), or its
 * memory is near `maxmemory`, where keys are evicted (or, under noeviction, writes fail). No
 * maxmemory (0) never warns.
 */
function cacheRules(a: NormalizedAlerts): AlertRule[] {
    return [
        rule("SlipwayCacheDown", "critical", a.for.targetDown, "redis_up == 0",
            `The cache scraped by ${SERVICE} is down`,
            `The exporter {{ $labels.instance }} of ${SERVICE} has not reached its Valkey/Redis server for ${a.for.targetDown} minutes; services read from their database meanwhile.`),
        rule("SlipwayCacheMemoryNearLimit", "warning", a.for.runtime,
            `redis_memory_used_bytes / (redis_memory_max_bytes > 0) > ${CACHE_MEMORY_RATIO}`,
            `The cache scraped by ${SERVICE} uses more than ${percent(CACHE_MEMORY_RATIO)} of its maxmemory`,
            `{{ $labels.instance }} of ${SERVICE} has used {{ $value | humanizePercentage }} of its maxmemory for ${a.for.runtime} minutes: keys are being evicted (under noeviction, writes fail). Raise maxMemoryMb or the node size.`),
    ];
}

/**
 * The rule groups. Production: every rule, warning and critical (both fire past the critical
 * line; Alertmanager's inhibition keeps one notification). Dev: the criticals only, with the dev
 * `for:` defaults (longer), so a laptop stack pages for an outage and for nothing else.
 */
export function alertRules(a: NormalizedAlerts): { groups: RuleGroup[] } {
    const groups: RuleGroup[] = [
        {
            name: "slipway-http",
            rules: [
                latencyRule(a, "warning", a.latencyP95WarningMs),
                latencyRule(a, "critical", a.latencyP95CriticalMs),
                errorRateRule(a, "warning", a.errorRateWarning),
                errorRateRule(a, "critical", a.errorRateCritical),
                ...(a.gateway ? [gatewayErrorRateRule(a, "warning", a.errorRateWarning), gatewayErrorRateRule(a, "critical", a.errorRateCritical)] : []),
                bucketMissingRule(a),
                ...requestRateRules(a),
            ],
        },
        { name: "slipway-targets", rules: [targetDownRule(a), replicasRule(a)] },
        { name: "slipway-runtime", rules: runtimeRules(a) },
        { name: "slipway-cache", rules: cacheRules(a) },
    ];
    const keep = (r: AlertRule) => a.profile === "production" || r.labels.severity === "critical";
    return { groups: groups.map(g => ({ ...g, rules: g.rules.filter(keep) })).filter(g => g.rules.length) };
}

const HEADER = "# Generated by Slipway Observability. Do not edit: change the component's alerts instead.\n";
const render = (doc: unknown) => HEADER + YAML.stringify(doc, { lineWidth: 0, sortMapEntries: false });

export function rulesYaml(a: NormalizedAlerts): string {
    return render(alertRules(a));
}

/** Every alert name the rules can hold, in file order (both profiles, gateway rules included). */
export function alertNames(a: NormalizedAlerts): string[] {
    return alertRules({ ...a, profile: "production", gateway: true }).groups.flatMap(g => g.rules.map(r => r.alert));
}
