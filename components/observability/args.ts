// Observability's public Args types, apart from index.ts so normalize.ts and the target files can
// import them without an import cycle.
import type * as pulumi from "@pulumi/pulumi";
import type { Target } from "../core/target";
import type { ObservabilityDockerTransform } from "./transforms/docker";
import type { ObservabilityDoAppTransform } from "./transforms/do-app";

type Secret = pulumi.Input<string>;

/** A target Prometheus scrapes that is not a linked service: a host on the target's network. */
export interface ObservabilityScrapeTarget {
    /** Its network alias or container name; also the job name. @example `"worker"` */
    name: string;
    /** Port of its metrics endpoint. @example `9100` */
    port: number;
}

/** A Slack incoming webhook for one severity. */
export interface AlertmanagerSlackWebhook {
    /** The `https://hooks.slack.com/services/...` URL: a credential, so pass a secret. */
    url: Secret;
    /** Channel override; a current Slack app posts to the channel its webhook was made for. @default the webhook's own */
    channel?: string;
}

/** An endpoint that takes Slack's incoming-webhook message. */
export interface AlertmanagerWebhookReceiver {
    /** Unique; names its secret file. @example `"relay"` */
    name: string;
    /** Its URL, a secret (it often carries a token). @example `config.requireSecret("relayUrl")` */
    url: Secret;
    /** Only alerts of this severity. @default both */
    severity?: "warning" | "critical";
}

/**
 * Per child resource, args to merge over the ones Observability builds, or a function that edits
 * copies of them and of the resource options (see `Transform` in core/transform.ts). Keys of both
 * targets: docker `image`, `container`, `volume`, `targetsWriter`, `alertmanagerImage`, `alertmanager`;
 * do-app `uptimeCheck`, `uptimeAlert`.
 */
export type ObservabilityTransform = ObservabilityDockerTransform & ObservabilityDoAppTransform;

export interface ObservabilityArgs {
    /** Where the services it observes run. */
    target: Target;
    /**
     * `service.namespace` in OTEL_RESOURCE_ATTRIBUTES.
     * @default the App name on DigitalOcean, the Docker name prefix otherwise
     * @example `"shop"`
     */
    namespace?: string;
    /**
     * Sentry error tracking. The DSN is a public client key (it ships in browser bundles), so it is
     * handed over as a plain variable that every Sentry SDK reads from SENTRY_DSN.
     * @default off
     * @example `{ dsn: "https://abc@o1.ingest.sentry.io/42", release: process.env.GIT_SHA }`
     */
    sentry?: {
        dsn: pulumi.Input<string>;
        /** @default `target.environment` */
        environment?: string;
        /** @default unset (the SDK's own detection) */
        release?: pulumi.Input<string>;
    };
    /**
     * An OTLP exporter. Header values are credentials: they travel as one secret
     * OTEL_EXPORTER_OTLP_HEADERS. On Docker, secrets arrive as `*_FILE`; use the ApiService's
     * `secretDelivery: "env"` for SDKs that only read the variable itself.
     * @default off
     * @example `{ endpoint: "http://otel-collector:4318" }`
     */
    otel?: {
        endpoint: string;
        /** @default `{}` */
        headers?: Record<string, Secret>;
        /** @default `"http/protobuf"` */
        protocol?: "http/protobuf" | "grpc";
    };
    /**
     * New Relic over OTLP: its endpoint plus the license key as the secret `api-key` header.
     * Exclusive with `otel`.
     * @default off
     * @example `{ licenseKey: config.requireSecret("newRelicLicenseKey") }`
     */
    newRelic?: {
        licenseKey: Secret;
        /** @default `"us"` */
        region?: "us" | "eu";
        /** @default `"http/protobuf"` */
        protocol?: "http/protobuf" | "grpc";
    };
    /** Log format the services are told to use (LOG_FORMAT). @default `{ format: "json" }` */
    logs?: { format: "json" | "text" };
    /**
     * Thresholds and `for:` minutes. On Docker they become Prometheus rules (README, "Alerts on
     * each target"); on DigitalOcean, per-service App Platform alerts (CPU, memory, restarts, via
     * `link`) and uptime alerts. Latency thresholds must be bounds of `metrics.buckets`.
     * @default `{ latencyP95WarningMs: 500, latencyP95CriticalMs: 2000, errorRateWarning: 0.01, errorRateCritical: 0.05, requestRateDrop: 0.5, requestRateSpike: 3, requestRateFloor: 1, requestRateBaseline: "1d", goroutines: 1000, residentMemoryMiB: 400, cpuPercent: 80, memoryPercent: 80, restartCount: 3 }`
     * @example `{ latencyP95WarningMs: 250, for: { latency: 10 } }`
     */
    alerts?: {
        /**
         * `"dev"`: critical rules only, each with a longer `for:` (nothing but an outage notifies).
         * `"production"`: every rule.
         * @default `"production"` when `target.production`, else `"dev"`
         */
        profile?: "dev" | "production";
        /** P95 above this many ms: a bound of `metrics.buckets` (in ms). @default `500` */
        latencyP95WarningMs?: number;
        /** @default `2000` */
        latencyP95CriticalMs?: number;
        /** A ratio: 0.01 is 1% of requests answered with a 5xx (the service's counter, and the gateway's when scraped). @default `0.01` */
        errorRateWarning?: number;
        /** @default `0.05` */
        errorRateCritical?: number;
        /** Traffic under this share of the baseline window's is a drop. @default `0.5` */
        requestRateDrop?: number;
        /** Traffic over this multiple of the baseline window's is a spike. @default `3` */
        requestRateSpike?: number;
        /** Requests per second under which no request-rate anomaly fires (either way). @default `1` */
        requestRateFloor?: number;
        /** How far back the baseline window lies. @default `"1d"` */
        requestRateBaseline?: "1h" | "1d" | "1w";
        /** `go_goroutines` above this. @default `1000` */
        goroutines?: number;
        /** `process_resident_memory_bytes` above this many MiB. @default `400` (80 % of ApiService's default 512 MiB) */
        residentMemoryMiB?: number;
        /** DigitalOcean: per-service CPU alert. @default `80` */
        cpuPercent?: number;
        /** DigitalOcean: per-service memory alert. @default `80` */
        memoryPercent?: number;
        /** DigitalOcean: alert when a service restarts more than this many times in the window. @default `3` */
        restartCount?: number;
        /**
         * The `for:` of the latency and error-rate rules (unless `for` sets them apart) and the App
         * Platform alert window.
         * @default `5` (production profile), `15` (dev)
         */
        forMinutes?: number;
        /**
         * Prometheus `for:` minutes per rule family.
         * @default production `{ latency: 5, errorRate: 5, targetDown: 2, replicas: 5, requestRate: 15, runtime: 15 }`; dev `{ latency: 15, errorRate: 15, targetDown: 10, replicas: 15, requestRate: 30, runtime: 30 }`
         */
        for?: { latency?: number; errorRate?: number; targetDown?: number; replicas?: number; requestRate?: number; runtime?: number };
    };
    /**
     * The request metrics every linked service exposes: the latency histogram (base name and
     * upper bounds, as the service declares them) and the request counter with its status label.
     * Latency rules read exactly these buckets, so each latency threshold must be one of them.
     * @default what examples/api exposes: `{ histogram: "http_request_duration_seconds", buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10], requests: "http_requests_total", statusLabel: "status" }`
     * @example `{ buckets: [0.1, 0.25, 0.5, 1, 2, 2.5, 5] }`
     */
    metrics?: { histogram?: string; buckets?: number[]; requests?: string; statusLabel?: string };
    /**
     * Where DigitalOcean alerts (app, per-service, uptime) go: critical ones (deploy or domain
     * failed, restarts, down, latency past the critical line) here, warnings to `warning` when it
     * is given. Webhook URLs are credentials.
     * @default none (App Platform then notifies the team's email)
     * @example `{ emails: ["oncall@example.com"], slackWebhooks: [{ url: config.requireSecret("slackCritical"), channel: "#alerts" }] }`
     */
    destinations?: {
        emails?: string[];
        slackWebhooks?: { url: Secret; channel: string }[];
        /** Where warning-level alerts go instead (SSL expiry, CPU, memory). @default the same as critical */
        warning?: { emails?: string[]; slackWebhooks?: { url: Secret; channel: string }[] };
    };
    /**
     * DigitalOcean uptime check on a public URL, with down, latency (critical threshold) and, for
     * https, certificate-expiry alerts. Needs at least one destination.
     * @default off
     * @example `{ url: "https://api.example.com/health" }`
     */
    uptime?: { url: pulumi.Input<string>; /** @default `["us_east", "eu_west"]` */ regions?: string[] };
    /**
     * DigitalOcean log forwarding, added to every linked service. Exactly one provider each.
     * @default `[]`
     * @example `[{ name: "logtail", logtail: { token: config.requireSecret("logtailToken") } }]`
     */
    logDestinations?: {
        name: string;
        papertrail?: { endpoint: string };
        datadog?: { apiKey: Secret; endpoint?: string };
        logtail?: { token: Secret };
        openSearch?: { endpoint: string; indexName?: string; basicAuth: { user: string; password: Secret } };
    }[];
    /**
     * Docker: a Prometheus with the alert rules. It scrapes itself and every replica of each
     * service that links it (`link: [observability]`), on the service's own port: a service hands
     * its replicas over when it is declared, so nothing here lists them and a rollout does not
     * touch Prometheus. A stopped replica reads `up == 0` (SlipwayTargetDown), it does not vanish.
     */
    prometheus?: {
        /** @default `true` */
        enabled?: boolean;
        /** Also runs the small per-service target writers (it needs `/bin/sh`). @default `"prom/prometheus:v2.53.0"` */
        image?: string;
        /**
         * Extra targets that do not link this Observability (an exporter, a sidecar), as
         * `"host:port"` or `{ name, port }`: one job per entry, named after the host, scraped at
         * that name (a name several containers share answers from one of them per scrape).
         * A linked service listed here as well is an error: it would be scraped twice.
         * @default `[]`
         * @example `["node-exporter:9100", { name: "worker", port: 9100 }]`
         */
        scrape?: (string | ObservabilityScrapeTarget)[];
        /**
         * A dedicated metrics port that every linked service serves its metrics on, used
         * instead of each service's own port.
         * @default each linked service's own `port`
         * @example `9100`
         */
        port?: number;
        /** @default `"/metrics"` */
        metricsPath?: string;
        /** @default `15` */
        scrapeIntervalSeconds?: number;
        /** @default `15` */
        retentionDays?: number;
        /** Publish the UI on `target.publishAddress` at this port. @default not published @example `9090` */
        publishPort?: number;
        /**
         * The gateway's internal metrics listener, as `"host:port"` on the target's network (not
         * published): scraped at `/metrics` as the job `gateway`, whatever `metricsPath` says.
         * The stack root sets it from the Gateway it builds.
         * @default not scraped
         * @example `"gateway:2020"`
         */
        scrapeGateway?: string;
    };
    /**
     * Docker: an Alertmanager that Prometheus sends its alerts to, routed by the `severity` label:
     * warnings to the warning destinations, criticals (and alerts without a severity) to the
     * critical ones. Notifications are grouped by alertname and service, a firing critical
     * silences the warning of the same alertname and service, and resolved alerts are sent too.
     * Webhook URLs are secrets delivered as files (`api_url_file`): the generated
     * alertmanager.yml (`alertmanagerYaml`) names only the files. Needs Prometheus; ignored on
     * DigitalOcean, whose alerts go to `destinations`.
     * @default off
     * @example `{ slackWebhooks: { warning: { url: config.requireSecret("slackWarning"), channel: "#alerts" }, critical: { url: config.requireSecret("slackCritical"), channel: "#oncall" } } }`
     */
    alertmanager?: {
        /** @default `true` when `alertmanager` is given */
        enabled?: boolean;
        /**
         * Runs `--config.file=... --storage.path=/alertmanager` as its command (flags only, like
         * prom/alertmanager's image); needs `wget` for the healthcheck.
         * @default `"prom/alertmanager:v0.25.0"`
         * @example `"slipway/alertmanager:local"`
         */
        image?: string;
        /**
         * Slack incoming webhooks, one per severity. A severity without one is not notified.
         * @default none
         * @example `{ warning: { url: config.requireSecret("slackWarning"), channel: "#alerts" }, critical: { url: config.requireSecret("slackCritical") } }`
         */
        slackWebhooks?: {
            warning?: AlertmanagerSlackWebhook;
            critical?: AlertmanagerSlackWebhook;
        };
        /**
         * Other endpoints that take Slack's incoming-webhook message (Mattermost, Rocket.Chat, a
         * relay, a test's own HTTP receiver on the target's network): any http(s) URL, a secret
         * delivered as a file like the Slack ones. (Alertmanager 0.25, Debian bookworm's, reads
         * no generic `webhook_configs` URL from a file, so this is the form a secret URL can take.)
         * @default `[]`
         * @example `[{ name: "mattermost", url: config.requireSecret("mattermostHook"), severity: "critical" }]`
         */
        webhookReceivers?: AlertmanagerWebhookReceiver[];
        /** How long the first notification of a new group waits for more alerts. @default `30` */
        groupWaitSeconds?: number;
        /** How often a group with changes (a new or resolved alert) is notified again. @default `300` */
        groupIntervalSeconds?: number;
        /** How often a group that is still firing, unchanged, is repeated. @default `240` */
        repeatIntervalMinutes?: number;
        /** Publish the UI and API on `target.publishAddress` at this port. @default not published @example `9093` */
        publishPort?: number;
    };
    /**
     * Transform how this component creates its underlying resources, for what the args above do
     * not cover: per child, args merged over the component's (shallow), or a function editing
     * copies of the args and options in place. Docker: `image`, `container` (Prometheus),
     * `volume` (each), `targetsWriter` (each linked service's), `alertmanagerImage`,
     * `alertmanager` (its container); do-app: `uptimeCheck`, `uptimeAlert` (each). A key of the
     * other target is accepted and unused, so a program moves between targets unchanged; logical
     * names never change. The generated prometheus.yml, alertmanager.yml and rules still come
     * from the args above.
     * @default none
     * @example `{ container: (args) => { args.memory = 1024; args.memorySwap = 1024; }, uptimeCheck: { regions: ["eu_west"] } }`
     */
    transform?: ObservabilityTransform;
}
