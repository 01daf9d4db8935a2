import * as pulumi from "@pulumi/pulumi";
import { ErrorContext, invalid, requireInt, requireOneOf } from "../core/errors";
import { DO_NAME, isHostname } from "../core/naming";
import { Target } from "../core/target";
import { Shape, checkShape, shape } from "../core/shape";
import { checkTransform } from "../core/transform";
import type { AlertmanagerSlackWebhook, AlertmanagerWebhookReceiver, ObservabilityArgs, ObservabilityTransform } from "./args";

/** Alert thresholds: P95 latency and 5xx ratio per the API's SLOs, resource alerts per service. */
export const DEFAULTS = {
    alerts: {
        latencyP95WarningMs: 500,
        latencyP95CriticalMs: 2000,
        errorRateWarning: 0.01,
        errorRateCritical: 0.05,
        /** Traffic below half of the baseline window's is a drop, above three times it a spike. */
        requestRateDrop: 0.5,
        requestRateSpike: 3,
        /** Requests per second under which neither fires: an idle stack stays quiet. */
        requestRateFloor: 1,
        requestRateBaseline: "1d",
        goroutines: 1000,
        /** 80 % of ApiService's default memory limit (512 MiB). */
        residentMemoryMiB: 400,
        cpuPercent: 80,
        memoryPercent: 80,
        restartCount: 3,
    },
    /** `for:` minutes per rule family and profile: dev waits longer, so a blip on a laptop stays quiet. */
    alertFor: {
        production: { latency: 5, errorRate: 5, targetDown: 2, replicas: 5, requestRate: 15, runtime: 15 },
        dev: { latency: 15, errorRate: 15, targetDown: 10, replicas: 15, requestRate: 30, runtime: 30 },
    },
    /**
     * The services' request metrics: what examples/api exposes (`LatencyBuckets` in server.go, a
     * test keeps the two equal). 0.5 and 2 are bounds, so the default latency lines are exact.
     */
    metrics: {
        histogram: "http_request_duration_seconds",
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10],
        requests: "http_requests_total",
        statusLabel: "status",
    },
    newRelicEndpoint: { us: "https://otlp.nr-data.net", eu: "https://otlp.eu01.nr-data.net" },
    otelProtocol: "http/protobuf",
    uptimeRegions: ["us_east", "eu_west"],
    prometheus: { image: "prom/prometheus:v2.53.0", metricsPath: "/metrics", scrapeIntervalSeconds: 15, retentionDays: 15 },
} as const;

/** Every `transform` key, of both targets: a key of the other target is accepted and unused. */
export const TRANSFORM_KEYS = {
    image: true, container: true, volume: true, targetsWriter: true, alertmanagerImage: true, alertmanager: true, uptimeCheck: true, uptimeAlert: true,
} as const satisfies Record<keyof ObservabilityTransform, true>;

export const OTEL_PROTOCOLS = ["http/protobuf", "grpc"] as const;
export const UPTIME_REGIONS = ["us_east", "us_west", "eu_west", "se_asia"] as const;
const LOG_DESTINATION_KINDS = ["papertrail", "datadog", "logtail", "openSearch"] as const;
/** App Platform's rule for log destination names (2 to 42 characters). */
const LOG_DESTINATION_NAME = /^[A-Za-z0-9()[\]'"][-A-Za-z0-9_. /()[\]]{0,40}[A-Za-z0-9()[\]'"]$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const EMAIL = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;

export const ALERT_PROFILES = ["dev", "production"] as const;
export const REQUEST_RATE_BASELINES = ["1h", "1d", "1w"] as const;
/** The rule families a `for:` is set per (`alerts.for`). */
export const ALERT_FOR_KEYS = ["latency", "errorRate", "targetDown", "replicas", "requestRate", "runtime"] as const;
export type AlertForKey = typeof ALERT_FOR_KEYS[number];

export interface NormalizedAlerts {
    profile: typeof ALERT_PROFILES[number];
    /** Both are bounds of `metrics.buckets`. */
    latencyP95WarningMs: number;
    latencyP95CriticalMs: number;
    errorRateWarning: number;
    errorRateCritical: number;
    requestRate: { drop: number; spike: number; floorPerSecond: number; baseline: typeof REQUEST_RATE_BASELINES[number] };
    goroutines: number;
    residentMemoryMiB: number;
    cpuPercent: number;
    memoryPercent: number;
    restartCount: number;
    /** The App Platform alert window (and the latency and error-rate `for:` unless set apart). */
    forMinutes: number;
    /** Prometheus `for:` minutes per rule family. */
    for: Record<AlertForKey, number>;
    /** The services' request histogram and counter the rules read. */
    metrics: { histogram: string; buckets: number[]; requests: string; statusLabel: string };
    /** A gateway metrics job (`gateway`) exists: its 5xx rules are added. */
    gateway: boolean;
}

export interface NormalizedDestinationSet { emails: string[]; slackWebhooks: { url: pulumi.Output<string>; channel: string }[] }

export interface NormalizedLogDestination {
    name: string;
    kind: typeof LOG_DESTINATION_KINDS[number];
    /** The provider block, secrets already wrapped. */
    config: Record<string, unknown>;
}

export interface NormalizedObservability {
    name: string;
    environment: string;
    /** `service.namespace`: the App name on DO, the Docker name prefix otherwise. */
    namespace: string;
    sentry?: { dsn: pulumi.Input<string>; environment: string; release?: pulumi.Input<string> };
    otel?: { endpoint: string; protocol: typeof OTEL_PROTOCOLS[number]; headers: [string, pulumi.Input<string>][] };
    logFormat: "json" | "text";
    alerts: NormalizedAlerts;
    /** Critical alerts (and warnings, unless `warning` names others); `warning`: warning-level ones. */
    destinations: NormalizedDestinationSet & { warning: NormalizedDestinationSet };
    uptime?: { url: pulumi.Input<string>; regions: string[]; https: boolean };
    logDestinations: NormalizedLogDestination[];
    prometheus?: NormalizedPrometheus;
    /** Docker, with Prometheus: where firing alerts go. */
    alertmanager?: NormalizedAlertmanager;
}

export interface NormalizedPrometheus {
    image: string;
    /** Extra targets that are not linked: one static job each, named after the host. */
    scrape: { name: string; port: number }[];
    /** The port every linked service is scraped on; undefined: each on its own port. */
    port?: number;
    metricsPath: string;
    scrapeIntervalSeconds: number;
    retentionDays: number;
    publishPort?: number;
    /** `host:port` of the gateway's internal metrics listener: the static job `gateway`. */
    gateway?: string;
}

function httpUrl(ctx: ErrorContext, path: string, value: unknown, example: string): string {
    let u: URL | undefined;
    try { u = new URL(String(value)); } catch { u = undefined; }
    if (typeof value !== "string" || !u || !["http:", "https:"].includes(u.protocol) || !u.hostname) {
        invalid(ctx, path, `${JSON.stringify(value)} is not an http(s) URL`, `use a full URL such as "${example}"`);
    }
    return value.replace(/\/+$/, "");
}

function fraction(ctx: ErrorContext, path: string, value: number): number {
    if (typeof value !== "number" || !(value > 0 && value < 1)) {
        invalid(ctx, path, `must be a ratio between 0 and 1, got ${JSON.stringify(value)}`, `write 1% as 0.01`);
    }
    return value;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function metricName(ctx: ErrorContext, path: string, value: unknown, example: string): string {
    if (typeof value !== "string" || !METRIC_NAME.test(value)) invalid(ctx, path, `${JSON.stringify(value)} is not a Prometheus metric name`, `use e.g. "${example}"`);
    return value;
}

/** `metrics`: the histogram (base name and bounds) and counter the services expose. */
function normalizeMetrics(ctx: ErrorContext, m: NonNullable<ObservabilityArgs["metrics"]>): NormalizedAlerts["metrics"] {
    const d = DEFAULTS.metrics;
    const histogram = metricName(ctx, "metrics.histogram", m.histogram ?? d.histogram, d.histogram);
    const suffix = /_(bucket|count|sum)$/.exec(histogram);
    if (suffix) invalid(ctx, "metrics.histogram", `"${histogram}" names one of the histogram's series`, `give its base name, "${histogram.slice(0, -suffix[0].length)}"`);
    const buckets = m.buckets ?? [...d.buckets];
    if (!Array.isArray(buckets) || !buckets.length || buckets.some(b => typeof b !== "number" || !Number.isFinite(b) || b <= 0)) {
        invalid(ctx, "metrics.buckets", `${JSON.stringify(buckets)} is not a list of bucket bounds`, "list the histogram's upper bounds in seconds, as the service declares them (no +Inf), e.g. [0.1, 0.25, 0.5, 1, 2, 2.5, 5]");
    }
    buckets.forEach((b, i) => {
        if (i > 0 && b <= buckets[i - 1]!) invalid(ctx, `metrics.buckets[${i}]`, `${b} does not follow ${buckets[i - 1]}`, "list the bounds in ascending order, each once");
    });
    const requests = metricName(ctx, "metrics.requests", m.requests ?? d.requests, d.requests);
    const statusLabel = m.statusLabel ?? d.statusLabel;
    if (typeof statusLabel !== "string" || !LABEL_NAME.test(statusLabel)) invalid(ctx, "metrics.statusLabel", `${JSON.stringify(statusLabel)} is not a label name`, `use e.g. "${d.statusLabel}"`);
    return { histogram, buckets: [...buckets], requests, statusLabel };
}

/**
 * A latency threshold must be a bucket bound: "P95 above T" is then exactly "fewer than 95 % of
 * requests in le=T". Between two bounds the histogram cannot tell (interpolation once turned
 * requests of 1.01 s into a 2.4 s P95), so say which bucket to add.
 */
function latencyBound(ctx: ErrorContext, path: string, ms: number, metrics: NormalizedAlerts["metrics"]): number {
    const le = ms / 1000;
    if (metrics.buckets.some(b => Math.abs(b - le) < 1e-9)) return ms;
    const below = [...metrics.buckets].reverse().find(b => b < le);
    const above = metrics.buckets.find(b => b > le);
    const near = [below, above].filter((b): b is number => b !== undefined).map(b => `${+(b * 1000).toFixed(3)}`).join(" or ");
    invalid(ctx, path, `${ms} ms is not a bound of ${metrics.histogram}'s buckets (${metrics.buckets.join(", ")} s), so a P95 above it cannot be told exactly`,
        `add ${le} to the service's histogram buckets and to metrics.buckets, or use a bound${near ? ` (${near} ms)` : ""}`);
}

function positive(ctx: ErrorContext, path: string, value: unknown, min: number, max: number, fix: string): number {
    if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
        invalid(ctx, path, `must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`, fix);
    }
    return value;
}

function normalizeAlerts(
    ctx: ErrorContext, a: NonNullable<ObservabilityArgs["alerts"]>, m: NonNullable<ObservabilityArgs["metrics"]>, target: Target, gateway: boolean,
): NormalizedAlerts {
    const d = DEFAULTS.alerts;
    const profile = requireOneOf(ctx, "alerts.profile", a.profile ?? (target.production ? "production" : "dev"), ALERT_PROFILES);
    const F = DEFAULTS.alertFor[profile];
    const metrics = normalizeMetrics(ctx, m);
    const forMinutes = requireInt(ctx, "alerts.forMinutes", a.forMinutes ?? F.latency, 1, 60);
    const given = a.for ?? {};
    if (typeof given !== "object" || given === null) invalid(ctx, "alerts.for", `${JSON.stringify(given)} is not a mapping`, `give minutes per rule family, e.g. { latency: 10 } (${ALERT_FOR_KEYS.join(", ")})`);
    for (const k of Object.keys(given)) {
        if (!(ALERT_FOR_KEYS as readonly string[]).includes(k)) invalid(ctx, `alerts.for.${k}`, "is not a rule family", `use one of ${ALERT_FOR_KEYS.join(", ")}`);
    }
    const forOf = (k: AlertForKey, fallback: number) => requireInt(ctx, `alerts.for.${k}`, given[k] ?? fallback, 1, 1440);
    const out: NormalizedAlerts = {
        profile,
        latencyP95WarningMs: requireInt(ctx, "alerts.latencyP95WarningMs", a.latencyP95WarningMs ?? d.latencyP95WarningMs, 1, 600_000),
        latencyP95CriticalMs: requireInt(ctx, "alerts.latencyP95CriticalMs", a.latencyP95CriticalMs ?? d.latencyP95CriticalMs, 1, 600_000),
        errorRateWarning: fraction(ctx, "alerts.errorRateWarning", a.errorRateWarning ?? d.errorRateWarning),
        errorRateCritical: fraction(ctx, "alerts.errorRateCritical", a.errorRateCritical ?? d.errorRateCritical),
        requestRate: {
            drop: fraction(ctx, "alerts.requestRateDrop", a.requestRateDrop ?? d.requestRateDrop),
            spike: positive(ctx, "alerts.requestRateSpike", a.requestRateSpike ?? d.requestRateSpike, 1.01, 1000, "write \"three times the baseline\" as 3"),
            floorPerSecond: positive(ctx, "alerts.requestRateFloor", a.requestRateFloor ?? d.requestRateFloor, 0, 1_000_000, "give requests per second, e.g. 1"),
            baseline: requireOneOf(ctx, "alerts.requestRateBaseline", a.requestRateBaseline ?? d.requestRateBaseline, REQUEST_RATE_BASELINES),
        },
        goroutines: requireInt(ctx, "alerts.goroutines", a.goroutines ?? d.goroutines, 1, 10_000_000),
        residentMemoryMiB: requireInt(ctx, "alerts.residentMemoryMiB", a.residentMemoryMiB ?? d.residentMemoryMiB, 1, 1_048_576),
        cpuPercent: requireInt(ctx, "alerts.cpuPercent", a.cpuPercent ?? d.cpuPercent, 1, 100),
        memoryPercent: requireInt(ctx, "alerts.memoryPercent", a.memoryPercent ?? d.memoryPercent, 1, 100),
        restartCount: requireInt(ctx, "alerts.restartCount", a.restartCount ?? d.restartCount, 1, 100),
        forMinutes,
        for: {
            latency: forOf("latency", a.forMinutes ?? F.latency),
            errorRate: forOf("errorRate", a.forMinutes ?? F.errorRate),
            targetDown: forOf("targetDown", F.targetDown),
            replicas: forOf("replicas", F.replicas),
            requestRate: forOf("requestRate", F.requestRate),
            runtime: forOf("runtime", F.runtime),
        },
        metrics,
        gateway,
    };
    if (out.latencyP95WarningMs >= out.latencyP95CriticalMs) {
        invalid(ctx, "alerts.latencyP95WarningMs", `warning (${out.latencyP95WarningMs} ms) must be below critical (${out.latencyP95CriticalMs} ms)`,
            "lower the warning threshold or raise alerts.latencyP95CriticalMs");
    }
    latencyBound(ctx, "alerts.latencyP95WarningMs", out.latencyP95WarningMs, metrics);
    latencyBound(ctx, "alerts.latencyP95CriticalMs", out.latencyP95CriticalMs, metrics);
    if (out.errorRateWarning >= out.errorRateCritical) {
        invalid(ctx, "alerts.errorRateWarning", `warning (${out.errorRateWarning}) must be below critical (${out.errorRateCritical})`,
            "lower the warning ratio or raise alerts.errorRateCritical");
    }
    return out;
}

function normalizeLogDestinations(ctx: ErrorContext, list: NonNullable<ObservabilityArgs["logDestinations"]>): NormalizedLogDestination[] {
    const seen = new Set<string>();
    return list.map((dst, i) => {
        const path = `logDestinations[${i}]`;
        if (typeof dst?.name !== "string" || !LOG_DESTINATION_NAME.test(dst.name)) {
            invalid(ctx, `${path}.name`, `${JSON.stringify(dst?.name)} is not a log destination name`, "use 2 to 42 letters, digits, spaces, '-', '_' or '.'");
        }
        if (seen.has(dst.name)) invalid(ctx, `${path}.name`, `"${dst.name}" is used twice`, "give each log destination a unique name");
        seen.add(dst.name);
        const kinds = LOG_DESTINATION_KINDS.filter(k => dst[k] !== undefined);
        if (kinds.length !== 1) {
            invalid(ctx, path, kinds.length ? `sets ${kinds.join(" and ")}` : "sets no destination",
                `set exactly one of ${LOG_DESTINATION_KINDS.join(", ")}`);
        }
        const kind = kinds[0]!;
        let config: Record<string, unknown>;
        switch (kind) {
            case "papertrail":
                config = { endpoint: dst.papertrail!.endpoint };
                break;
            case "datadog":
                config = { apiKey: pulumi.secret(dst.datadog!.apiKey), endpoint: dst.datadog!.endpoint };
                break;
            case "logtail":
                config = { token: pulumi.secret(dst.logtail!.token) };
                break;
            case "openSearch": {
                const o = dst.openSearch!;
                config = {
                    endpoint: httpUrl(ctx, `${path}.openSearch.endpoint`, o.endpoint, "https://search.example.com:25060"),
                    indexName: o.indexName,
                    basicAuth: { user: o.basicAuth.user, password: pulumi.secret(o.basicAuth.password) },
                };
                break;
            }
        }
        return { name: dst.name, kind, config };
    });
}

/** An alias a Docker network resolves: a container name, network alias or hostname. */
const SCRAPE_HOST = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,126}[A-Za-z0-9])?$/;
export const isScrapeHost = (h: unknown): h is string => typeof h === "string" && SCRAPE_HOST.test(h);
/** Jobs prometheus.yml defines itself: Prometheus' own and the one for linked services. */
export const RESERVED_JOBS = ["prometheus", "linked-services"] as const;

/**
 * An extra scrape target: `"host:port"` or `{ name, port }`. Linked services are scraped without
 * being listed, so an ApiService here is a mistake with a known fix.
 */
function normalizeScrapeTarget(ctx: ErrorContext, path: string, s: unknown): { name: string; port: number } {
    const fix = `list targets that are not linked as "host:port" or { name, port }, e.g. ["worker:9100", { name: "billing", port: 8080 }]`;
    let name: unknown;
    let port: unknown;
    if (typeof s === "string") {
        const m = /^(.*):(\d+)$/.exec(s);
        if (!m) invalid(ctx, path, `${JSON.stringify(s)} has no port`, fix);
        if (!(Number(m[2]) >= 1 && Number(m[2]) <= 65535)) invalid(ctx, path, `port ${m[2]} is not from 1 to 65535`, fix);
        [name, port] = [m[1], Number(m[2])];
    } else if (s !== null && typeof s === "object" && "endpoint" in s) {
        invalid(ctx, path, "is a service: linked services are scraped on their own port without being listed",
            "remove it here and add the Observability to the service's `link` list instead");
    } else if (s !== null && typeof s === "object") {
        ({ name, port } = s as { name?: unknown; port?: unknown });
        if (port === undefined) invalid(ctx, `${path}.port`, "is missing", "give the port its metrics are served on, e.g. { name: \"worker\", port: 9100 }");
    } else {
        invalid(ctx, path, `${JSON.stringify(s)} is not a scrape target`, fix);
    }
    if (!isScrapeHost(name)) invalid(ctx, path, `${JSON.stringify(name)} is not a host name`, fix);
    if ((RESERVED_JOBS as readonly string[]).includes(name)) invalid(ctx, path, `"${name}" is the name of a job Prometheus' config defines itself`, "scrape it under another name");
    return { name, port: requireInt(ctx, typeof s === "string" ? path : `${path}.port`, port as number, 1, 65535) };
}

function normalizePrometheus(ctx: ErrorContext, p: NonNullable<ObservabilityArgs["prometheus"]>): NormalizedPrometheus {
    const d = DEFAULTS.prometheus;
    const scrape = (p.scrape ?? []).map((s, i) => normalizeScrapeTarget(ctx, `prometheus.scrape[${i}]`, s));
    scrape.forEach((s, i) => {
        if (scrape.findIndex(x => x.name === s.name) !== i) invalid(ctx, `prometheus.scrape[${i}]`, `"${s.name}" is listed twice`, "list each host once");
    });
    const metricsPath = p.metricsPath ?? d.metricsPath;
    if (!/^\/[A-Za-z0-9._~/-]*$/.test(metricsPath)) invalid(ctx, "prometheus.metricsPath", `${JSON.stringify(metricsPath)} is not a path`, "use e.g. \"/metrics\"");
    const gateway = p.scrapeGateway === undefined ? undefined : normalizeScrapeGateway(ctx, p.scrapeGateway, scrape);
    return {
        image: p.image ?? d.image,
        scrape,
        port: p.port === undefined ? undefined : requireInt(ctx, "prometheus.port", p.port, 1, 65535),
        metricsPath,
        scrapeIntervalSeconds: requireInt(ctx, "prometheus.scrapeIntervalSeconds", p.scrapeIntervalSeconds ?? d.scrapeIntervalSeconds, 5, 300),
        retentionDays: requireInt(ctx, "prometheus.retentionDays", p.retentionDays ?? d.retentionDays, 1, 365),
        publishPort: p.publishPort === undefined ? undefined : requireInt(ctx, "prometheus.publishPort", p.publishPort, 1024, 65535),
        gateway,
    };
}

/** `prometheus.scrapeGateway`: a `host:port` on the target's network, scraped as the job `gateway`. */
function normalizeScrapeGateway(ctx: ErrorContext, value: unknown, scrape: { name: string; port: number }[]): string {
    const path = "prometheus.scrapeGateway";
    const m = typeof value === "string" ? /^(.*):(\d+)$/.exec(value) : null;
    if (!m || !isScrapeHost(m[1]) || !(Number(m[2]) >= 1 && Number(m[2]) <= 65535)) {
        invalid(ctx, path, `${JSON.stringify(value)} is not a host:port`, "give the gateway's network alias and metrics port, e.g. \"gateway:2020\"");
    }
    const listed = scrape.findIndex(s => s.name === GATEWAY_JOB || `${s.name}:${s.port}` === value);
    if (listed >= 0) {
        invalid(ctx, `prometheus.scrape[${listed}]`, `scrapes the gateway too (job "${GATEWAY_JOB}" or ${value})`, "remove it from prometheus.scrape: scrapeGateway adds that job");
    }
    return value as string;
}

// ---- Alertmanager (docker) ----

/** Alertmanager's own defaults for grouping; Debian bookworm's alertmanager is 0.25. */
export const ALERTMANAGER_DEFAULTS = {
    image: "prom/alertmanager:v0.25.0",
    groupWaitSeconds: 30,
    groupIntervalSeconds: 300,
    repeatIntervalMinutes: 240,
} as const;

/** The static job Prometheus scrapes the gateway's metrics listener under (`prometheus.scrapeGateway`). */
export const GATEWAY_JOB = "gateway";
/** The static job Prometheus scrapes its Alertmanager under. */
export const ALERTMANAGER_JOB = "alertmanager";

/** Every job prometheus.yml defines itself: a linked service must not share a name with one. */
export function definedJobs(n: Pick<NormalizedObservability, "prometheus" | "alertmanager">): string[] {
    return [...RESERVED_JOBS, ...(n.alertmanager ? [ALERTMANAGER_JOB] : []), ...(n.prometheus?.gateway ? [GATEWAY_JOB] : [])];
}
const SLACK_CHANNEL = /^#?[a-z0-9][a-z0-9._-]{0,79}$/;
const RECEIVER_NAME = /^[a-z0-9][a-z0-9-]{0,30}$/;

/** One place Alertmanager posts to, its URL a secret delivered as the file `secretFile(id)`. */
export interface NormalizedAlertDestination {
    /** File name stem, unique: `slack-warning`, `slack-critical`, `webhook-<name>`. */
    id: string;
    url: pulumi.Output<string>;
    channel?: string;
    severities: ("warning" | "critical")[];
}

export interface NormalizedAlertmanager {
    image: string;
    destinations: NormalizedAlertDestination[];
    groupWaitSeconds: number;
    groupIntervalSeconds: number;
    repeatIntervalMinutes: number;
    publishPort?: number;
}

/**
 * `alertmanager`: Docker only (a program moves between targets unchanged, so on do-app it is
 * accepted and unused) and only beside Prometheus. Off unless given; given, it needs somewhere to
 * send alerts. URLs become secrets here, whatever the caller passed.
 */
function normalizeAlertmanager(ctx: ErrorContext, a: NonNullable<ObservabilityArgs["alertmanager"]>, prometheus: boolean): NormalizedAlertmanager | undefined {
    if (typeof a !== "object" || a === null) invalid(ctx, "alertmanager", `${JSON.stringify(a)} is not a mapping`, "give e.g. { slackWebhooks: { critical: { url } } }");
    if (a.enabled === false) return undefined;
    if (!prometheus) {
        invalid(ctx, "alertmanager", "is set but Prometheus is disabled, and Alertmanager only receives Prometheus' alerts",
            "remove prometheus.enabled: false, or set alertmanager.enabled: false");
    }
    const d = ALERTMANAGER_DEFAULTS;
    const destinations: NormalizedAlertDestination[] = [];
    for (const severity of ["warning", "critical"] as const) {
        const s = a.slackWebhooks?.[severity];
        if (s === undefined) continue;
        const path = `alertmanager.slackWebhooks.${severity}`;
        if (s === null || typeof s !== "object" || s.url === undefined || s.url === "") {
            invalid(ctx, `${path}.url`, "is missing", "pass the Slack incoming-webhook URL as a secret, e.g. { url: config.requireSecret(\"slackCritical\") }");
        }
        if (typeof s.url === "string" && !/^https:\/\/hooks\.slack\.com\/\S+$/.test(s.url)) {
            invalid(ctx, `${path}.url`, "is not a Slack incoming-webhook URL", "use the https://hooks.slack.com/services/... URL Slack gives you (from a config secret), or list other endpoints in alertmanager.webhookReceivers");
        }
        if (s.channel !== undefined && (typeof s.channel !== "string" || !SLACK_CHANNEL.test(s.channel))) {
            invalid(ctx, `${path}.channel`, `${JSON.stringify(s.channel)} is not a Slack channel`, "use a channel such as \"#alerts-critical\"");
        }
        // A webhook URL lets anyone post to the channel: a credential.
        destinations.push({ id: `slack-${severity}`, url: pulumi.secret(s.url), channel: s.channel, severities: [severity] });
    }
    const names = new Set<string>();
    (a.webhookReceivers ?? []).forEach((w, i) => {
        const path = `alertmanager.webhookReceivers[${i}]`;
        if (typeof w?.name !== "string" || !RECEIVER_NAME.test(w.name)) {
            invalid(ctx, `${path}.name`, `${JSON.stringify(w?.name)} cannot name a receiver's secret file`, "use 1 to 31 lowercase letters, digits and hyphens");
        }
        if (names.has(w.name)) invalid(ctx, `${path}.name`, `"${w.name}" is used twice`, "give each webhook receiver a unique name");
        names.add(w.name);
        if (w.url === undefined || w.url === "") invalid(ctx, `${path}.url`, "is missing", "pass the endpoint's URL as a secret");
        if (typeof w.url === "string") httpUrl(ctx, `${path}.url`, w.url, "http://alert-relay:8080/slack");
        const severity = w.severity === undefined ? undefined : requireOneOf(ctx, `${path}.severity`, w.severity, ["warning", "critical"] as const);
        destinations.push({ id: `webhook-${w.name}`, url: pulumi.secret(w.url), severities: severity ? [severity] : ["warning", "critical"] });
    });
    if (!destinations.length) {
        invalid(ctx, "alertmanager", "has nowhere to send alerts", "add alertmanager.slackWebhooks.warning / .critical (or webhookReceivers), or set alertmanager.enabled: false");
    }
    const groupWaitSeconds = requireInt(ctx, "alertmanager.groupWaitSeconds", a.groupWaitSeconds ?? d.groupWaitSeconds, 0, 3600);
    const groupIntervalSeconds = requireInt(ctx, "alertmanager.groupIntervalSeconds", a.groupIntervalSeconds ?? d.groupIntervalSeconds, 1, 86_400);
    const repeatIntervalMinutes = requireInt(ctx, "alertmanager.repeatIntervalMinutes", a.repeatIntervalMinutes ?? d.repeatIntervalMinutes, 1, 10_080);
    if (repeatIntervalMinutes * 60 < groupIntervalSeconds) {
        invalid(ctx, "alertmanager.repeatIntervalMinutes", `${repeatIntervalMinutes} min is shorter than groupIntervalSeconds (${groupIntervalSeconds} s)`,
            "repeat no more often than a group is re-checked: raise repeatIntervalMinutes");
    }
    if (a.image !== undefined && (typeof a.image !== "string" || !a.image.trim())) invalid(ctx, "alertmanager.image", `${JSON.stringify(a.image)} is not an image reference`, "use e.g. \"prom/alertmanager:v0.25.0\"");
    return {
        image: a.image ?? d.image,
        destinations,
        groupWaitSeconds, groupIntervalSeconds, repeatIntervalMinutes,
        publishPort: a.publishPort === undefined ? undefined : requireInt(ctx, "alertmanager.publishPort", a.publishPort, 1024, 65535),
    };
}

function normalizeSentry(ctx: ErrorContext, s: NonNullable<ObservabilityArgs["sentry"]>, environment: string): NormalizedObservability["sentry"] {
    const dsn = s.dsn;
    // A DSN is a public client key (browsers ship it), so it stays plain and SDKs can read it from env.
    if (typeof dsn === "string" && !/^https:\/\/[^@\s]+@[^/\s]+\/\S+$/.test(dsn)) {
        invalid(ctx, "sentry.dsn", "is not a Sentry DSN", `copy it from Sentry's Client Keys page, e.g. "https://<key>@o1.ingest.sentry.io/123"`);
    }
    return { dsn, environment: s.environment ?? environment, release: s.release };
}

/** localhost, 127.0.0.0/8, ::1, 0.0.0.0: a container's own address. */
function isLoopback(hostname: string): boolean {
    const h = hostname.toLowerCase().replace(/^\[|\]$/g, "");
    return h === "localhost" || h.endsWith(".localhost") || /^127(\.\d{1,3}){3}$/.test(h) || h === "::1" || h === "0.0.0.0" || h === "::" || /^::ffff:127\./.test(h);
}

/** `otel` as given, or New Relic's OTLP endpoint with the license key as the `api-key` header. */
function normalizeOtel(ctx: ErrorContext, args: ObservabilityArgs): NormalizedObservability["otel"] {
    if (args.otel && args.newRelic) {
        invalid(ctx, "newRelic", "is set together with otel, and both name the OTLP endpoint",
            "keep newRelic (it sets the New Relic endpoint and api-key header) or otel, not both");
    }
    if (args.otel) {
        const headers = Object.entries(args.otel.headers ?? {}).sort(([a], [b]) => a.localeCompare(b));
        headers.forEach(([k]) => {
            if (!HEADER_NAME.test(k)) invalid(ctx, `otel.headers.${k}`, "is not an HTTP header name", "use letters, digits and '-'");
        });
        const endpoint = httpUrl(ctx, "otel.endpoint", args.otel.endpoint, "http://otel-collector:4318");
        if (isLoopback(new URL(endpoint).hostname)) {
            invalid(ctx, "otel.endpoint", `"${endpoint}" is the loopback of each service's own container, where no collector listens`,
                args.target?.kind === "do-app"
                    ? "App Platform runs no sidecar: use the collector's or vendor's public OTLP URL (or newRelic)"
                    : "run a collector on the Docker host's network and use its name, e.g. \"http://otel-collector:4318\", or remove otel");
        }
        return {
            endpoint,
            protocol: requireOneOf(ctx, "otel.protocol", args.otel.protocol ?? DEFAULTS.otelProtocol, OTEL_PROTOCOLS),
            headers,
        };
    }
    if (!args.newRelic) return undefined;
    const region = requireOneOf(ctx, "newRelic.region", args.newRelic.region ?? "us", ["us", "eu"] as const);
    if (args.newRelic.licenseKey === undefined || args.newRelic.licenseKey === "") {
        invalid(ctx, "newRelic.licenseKey", "is empty", "pass the ingest license key, e.g. `config.requireSecret(\"newRelicLicenseKey\")`");
    }
    return {
        endpoint: DEFAULTS.newRelicEndpoint[region],
        protocol: requireOneOf(ctx, "newRelic.protocol", args.newRelic.protocol ?? DEFAULTS.otelProtocol, OTEL_PROTOCOLS),
        headers: [["api-key", args.newRelic.licenseKey]],
    };
}

function destinationSet(ctx: ErrorContext, path: string, d: { emails?: string[]; slackWebhooks?: { url: pulumi.Input<string>; channel: string }[] }): NormalizedDestinationSet {
    const emails = (d.emails ?? []).map((e, i) => {
        if (typeof e !== "string" || !EMAIL.test(e)) invalid(ctx, `${path}.emails[${i}]`, `${JSON.stringify(e)} is not an email address`, "use an address such as \"oncall@example.com\"");
        return e;
    });
    const slackWebhooks = (d.slackWebhooks ?? []).map((s, i) => {
        if (typeof s?.channel !== "string" || !/^#?[a-z0-9][a-z0-9._-]{0,79}$/.test(s.channel)) {
            invalid(ctx, `${path}.slackWebhooks[${i}].channel`, `${JSON.stringify(s?.channel)} is not a Slack channel`, "use a channel such as \"#alerts-critical\"");
        }
        if (typeof s.url === "string" && !/^https:\/\/hooks\.slack\.com\/\S+$/.test(s.url)) {
            invalid(ctx, `${path}.slackWebhooks[${i}].url`, "is not a Slack incoming-webhook URL", "use the https://hooks.slack.com/services/... URL Slack gives you (from a config secret)");
        }
        // A webhook URL lets anyone post to the channel: a credential.
        return { url: pulumi.secret(s.url), channel: s.channel };
    });
    return { emails, slackWebhooks };
}

/** The top-level set takes critical alerts, and warnings too unless `warning` gives their own. */
function normalizeDestinations(ctx: ErrorContext, d: NonNullable<ObservabilityArgs["destinations"]>): NormalizedObservability["destinations"] {
    const critical = destinationSet(ctx, "destinations", d);
    const warning = d.warning === undefined ? critical : destinationSet(ctx, "destinations.warning", d.warning);
    return { ...critical, warning };
}

function normalizeUptime(ctx: ErrorContext, up: NonNullable<ObservabilityArgs["uptime"]>, destinations: NormalizedObservability["destinations"]): NormalizedObservability["uptime"] {
    const u = up.url;
    if (typeof u === "string") {
        httpUrl(ctx, "uptime.url", u, "https://api.example.com/health");
        if (!isHostname(new URL(u).hostname)) invalid(ctx, "uptime.url", `"${u}" has no public hostname`, "check a public URL, e.g. \"https://api.example.com/health\"");
    }
    const regions = (up.regions ?? [...DEFAULTS.uptimeRegions]).map((r, i) => requireOneOf(ctx, `uptime.regions[${i}]`, r, UPTIME_REGIONS));
    if (!regions.length) invalid(ctx, "uptime.regions", "is empty", `use at least one of ${UPTIME_REGIONS.join(", ")}`);
    if (!destinations.emails.length && !destinations.slackWebhooks.length) {
        invalid(ctx, "uptime", "has nowhere to send its alerts", "add destinations.emails or destinations.slackWebhooks");
    }
    return { url: u, regions, https: typeof u !== "string" || u.startsWith("https:") };
}

export function normalizeObservability(name: string, args: ObservabilityArgs): NormalizedObservability {
    const ctx: ErrorContext = { kind: "Observability", name };
    const target: Target | undefined = args?.target;
    if (!target || (target.kind !== "docker" && target.kind !== "do-app")) {
        invalid(ctx, "target", "is missing", "pass `target` from a DockerHost (`host.target`) or `doAppTarget(...)`");
    }
    if (!DO_NAME.test(name)) {
        invalid(ctx, "name", `${JSON.stringify(name)} cannot name containers and DO checks`, "use 2 to 32 lowercase letters, digits and hyphens, starting with a letter");
    }
    checkTransform(ctx, args.transform, Object.keys(TRANSFORM_KEYS));
    checkShape(ctx, OBSERVABILITY_SHAPE, args);
    const environment = target.environment;
    const namespace = args.namespace ?? (target.kind === "do-app" ? target.appName : target.namePrefix);
    if (!/^[A-Za-z0-9._-]{1,63}$/.test(namespace)) {
        invalid(ctx, "namespace", `${JSON.stringify(namespace)} cannot be an OTEL resource attribute value here`, "use letters, digits, '.', '_' and '-'");
    }
    const sentry = args.sentry && normalizeSentry(ctx, args.sentry, environment);
    const otel = normalizeOtel(ctx, args);
    const logFormat = requireOneOf(ctx, "logs.format", args.logs?.format ?? "json", ["json", "text"] as const);
    const destinations = normalizeDestinations(ctx, args.destinations ?? {});
    const uptime = args.uptime && normalizeUptime(ctx, args.uptime, destinations);
    const logDestinations = normalizeLogDestinations(ctx, args.logDestinations ?? []);
    const p = args.prometheus ?? {};
    const prometheus = target.kind === "docker" && p.enabled !== false ? normalizePrometheus(ctx, p) : undefined;
    const alerts = normalizeAlerts(ctx, args.alerts ?? {}, args.metrics ?? {}, target, !!prometheus?.gateway);
    const alertmanager = target.kind === "docker" && args.alertmanager !== undefined ? normalizeAlertmanager(ctx, args.alertmanager, !!prometheus) : undefined;
    const listed = alertmanager ? prometheus!.scrape.findIndex(s => s.name === ALERTMANAGER_JOB) : -1;
    if (listed >= 0) invalid(ctx, `prometheus.scrape[${listed}]`, `"${ALERTMANAGER_JOB}" is the job Prometheus scrapes its Alertmanager under`, "scrape it under another name");
    if (alertmanager?.publishPort !== undefined && alertmanager.publishPort === prometheus?.publishPort) {
        invalid(ctx, "alertmanager.publishPort", `${alertmanager.publishPort} is Prometheus' publishPort too`, "publish them on two ports, e.g. 9090 and 9093");
    }
    return { name, environment, namespace, sentry, otel, logFormat, alerts, destinations, uptime, logDestinations, prometheus, alertmanager };
}

type Block<K extends keyof ObservabilityArgs> = NonNullable<ObservabilityArgs[K]>;
const secretValue = shape.input("a secret: { secret: <configKey> } or { env: <VAR> } in a stack file");
const slackWebhook = shape.object<Block<"destinations">["slackWebhooks"] extends (infer W)[] | undefined ? W : never>({ url: secretValue, channel: shape.string() }, ["url", "channel"]);
const destinationSetShape = { emails: shape.list(shape.string()), slackWebhooks: shape.list(slackWebhook) };
const amSlack = shape.object<AlertmanagerSlackWebhook>({ url: secretValue, channel: shape.string() }, ["url"]);

/** Every ObservabilityArgs key at every depth (issue 9): checked first, exported for the stack's JSON Schema. */
export const OBSERVABILITY_SHAPE: Shape = shape.object<ObservabilityArgs>({
    target: shape.program("the target"),
    namespace: shape.string(),
    sentry: shape.object<Block<"sentry">>({ dsn: shape.input(), environment: shape.string(), release: shape.input() }, ["dsn"]),
    otel: shape.object<Block<"otel">>({ endpoint: shape.string(), headers: shape.record(secretValue), protocol: shape.string(OTEL_PROTOCOLS) }, ["endpoint"]),
    newRelic: shape.object<Block<"newRelic">>({ licenseKey: secretValue, region: shape.string(["us", "eu"]), protocol: shape.string(OTEL_PROTOCOLS) }, ["licenseKey"]),
    logs: shape.object<Block<"logs">>({ format: shape.string(["json", "text"]) }),
    alerts: shape.object<Block<"alerts">>({
        profile: shape.string(ALERT_PROFILES), latencyP95WarningMs: shape.number(), latencyP95CriticalMs: shape.number(),
        errorRateWarning: shape.number(), errorRateCritical: shape.number(), requestRateDrop: shape.number(), requestRateSpike: shape.number(),
        requestRateFloor: shape.number(), requestRateBaseline: shape.string(REQUEST_RATE_BASELINES), goroutines: shape.int(),
        residentMemoryMiB: shape.int(), cpuPercent: shape.number(), memoryPercent: shape.number(), restartCount: shape.int(), forMinutes: shape.int(),
        for: shape.object<NonNullable<Block<"alerts">["for"]>>(Object.fromEntries(ALERT_FOR_KEYS.map(k => [k, shape.int()])) as Record<typeof ALERT_FOR_KEYS[number], Shape>),
    }),
    metrics: shape.object<Block<"metrics">>({ histogram: shape.string(), buckets: shape.list(shape.number()), requests: shape.string(), statusLabel: shape.string() }),
    destinations: shape.object<Block<"destinations">>({ ...destinationSetShape, warning: shape.object<NonNullable<Block<"destinations">["warning"]>>(destinationSetShape) }),
    uptime: shape.object<Block<"uptime">>({ url: shape.input(), regions: shape.list(shape.string(UPTIME_REGIONS)) }, ["url"]),
    logDestinations: shape.list(shape.object<Block<"logDestinations">[number]>({
        name: shape.string(),
        papertrail: shape.object<NonNullable<Block<"logDestinations">[number]["papertrail"]>>({ endpoint: shape.string() }, ["endpoint"]),
        datadog: shape.object<NonNullable<Block<"logDestinations">[number]["datadog"]>>({ apiKey: secretValue, endpoint: shape.string() }, ["apiKey"]),
        logtail: shape.object<NonNullable<Block<"logDestinations">[number]["logtail"]>>({ token: secretValue }, ["token"]),
        openSearch: shape.object<NonNullable<Block<"logDestinations">[number]["openSearch"]>>({
            endpoint: shape.string(), indexName: shape.string(),
            basicAuth: shape.object<NonNullable<Block<"logDestinations">[number]["openSearch"]>["basicAuth"]>({ user: shape.string(), password: secretValue }, ["user", "password"]),
        }, ["endpoint", "basicAuth"]),
    }, ["name"])),
    prometheus: shape.object<Block<"prometheus">>({
        enabled: shape.bool(), image: shape.string(),
        // Entries are checked by normalize, whose messages know a linked service from a typo.
        scrape: shape.list(shape.program("\"host:port\" or { name, port }")),
        port: shape.int(), metricsPath: shape.string(), scrapeIntervalSeconds: shape.int(), retentionDays: shape.int(), publishPort: shape.int(), scrapeGateway: shape.string(),
    }),
    alertmanager: shape.object<Block<"alertmanager">>({
        enabled: shape.bool(), image: shape.string(),
        slackWebhooks: shape.object<NonNullable<Block<"alertmanager">["slackWebhooks"]>>({ warning: amSlack, critical: amSlack }),
        webhookReceivers: shape.list(shape.object<AlertmanagerWebhookReceiver>({ name: shape.string(), url: secretValue, severity: shape.string(["warning", "critical"]) }, ["name", "url"])),
        groupWaitSeconds: shape.int(), groupIntervalSeconds: shape.int(), repeatIntervalMinutes: shape.int(), publishPort: shape.int(),
    }),
    transform: shape.object<ObservabilityTransform>(Object.fromEntries(Object.keys(TRANSFORM_KEYS).map(k => [k, shape.program("a transform")])) as Record<keyof ObservabilityTransform, Shape>),
});
