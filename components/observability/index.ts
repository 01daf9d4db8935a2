import * as pulumi from "@pulumi/pulumi";
import { MonthlyCost, free, targetCost } from "../core/prices";
import { EnvVar, envVar, plainEnv } from "../core/env";
import { describe } from "../core/errors";
import { Link, LinkRequest, Linkable, ScrapeSink } from "../core/link";
import { Target, unknownTarget } from "../core/target";
import type { AppPart } from "../targets/app-spec";
import type { ObservabilityArgs } from "./args";
import type { ObservabilityDockerNodes } from "./docker";
import { checkObservabilityDocker, createObservabilityDocker, preflightScrapeSink } from "./docker";
import type { ObservabilityDoAppNodes } from "./do-app";
import { createObservabilityDoApp, serviceAlerts, serviceLogDestinations } from "./do-app";
import { dashboardJson } from "./dashboard";
import { normalizeObservability, NormalizedObservability } from "./normalize";

export type { AlertmanagerSlackWebhook, AlertmanagerWebhookReceiver, ObservabilityArgs, ObservabilityScrapeTarget, ObservabilityTransform } from "./args";

/** The resources an Observability created (`transform` changes how they are made). */
export interface ObservabilityNodes {
    /** docker, with Prometheus: its image (`docker.RemoteImage`). */
    readonly image?: ObservabilityDockerNodes["image"];
    /** docker, with Prometheus: its `docker.Container`. */
    readonly prometheus?: ObservabilityDockerNodes["prometheus"];
    /** docker, with Prometheus: the TSDB `docker.Volume`. */
    readonly dataVolume?: ObservabilityDockerNodes["dataVolume"];
    /** docker, with Prometheus: the scrape targets `docker.Volume`. */
    readonly targetsVolume?: ObservabilityDockerNodes["targetsVolume"];
    /** docker, with `alertmanager`: its image (`docker.RemoteImage`). */
    readonly alertmanagerImage?: ObservabilityDockerNodes["alertmanagerImage"];
    /** docker, with `alertmanager`: its `docker.Container`. */
    readonly alertmanager?: ObservabilityDockerNodes["alertmanager"];
    /** docker, with `alertmanager`: its `docker.Volume` (silences, notification log). */
    readonly alertmanagerDataVolume?: ObservabilityDockerNodes["alertmanagerDataVolume"];
    /**
     * docker: the target writer `docker.Container`s, one added as each linked service is declared
     * (so read it after the services); empty on do-app.
     */
    readonly writers: readonly ObservabilityDockerNodes["writers"][number][];
    /** do-app, with `uptime`: the `digitalocean.UptimeCheck`. */
    readonly uptimeCheck?: ObservabilityDoAppNodes["uptimeCheck"];
    /** do-app, with `uptime`: its `digitalocean.UptimeAlert`s; empty otherwise. */
    readonly uptimeAlerts: readonly ObservabilityDoAppNodes["uptimeAlerts"][number][];
}

/** Target-neutral normalize, then the target's own checks: everything before the first resource registers. */
export function validateObservability(name: string, args: ObservabilityArgs): NormalizedObservability {
    const n = normalizeObservability(name, args);
    const target = args.target;
    switch (target.kind) {
        case "docker": checkObservabilityDocker(name, target, n); return n;
        case "do-app": return n;
        default: return unknownTarget(target);
    }
}

/**
 * Observability wiring: environment for SDKs (Sentry, OpenTelemetry, log format) through `link`,
 * Prometheus with alert rules on Docker, App Platform alerts, log forwarding and uptime checks on
 * DigitalOcean.
 */
export class Observability extends pulumi.ComponentResource implements Linkable {
    readonly linkLabel: string;
    /** do-app: what it adds to the App (app-level alerts). */
    readonly appPart?: AppPart;
    /** Docker: the generated alert rules (also uploaded at /etc/prometheus/rules/slipway-alerts.yml). */
    readonly rulesYaml?: string;
    /** Docker: the generated prometheus.yml. */
    readonly prometheusYaml?: string;
    /** Docker, with `alertmanager`: the generated alertmanager.yml (file paths only, no URL). */
    readonly alertmanagerYaml?: string;
    /**
     * Docker, with Prometheus: a Grafana dashboard (JSON, importable) of the scraped services'
     * request rate, 5xx rate, latency, replicas and Go runtime, on the metrics the rules read.
     */
    readonly dashboardJson?: string;
    /** DigitalOcean: the uptime check's id. */
    readonly uptimeCheckId?: pulumi.Output<string>;
    /** The underlying resources this component created: the ones `transform` reaches. */
    readonly nodes: ObservabilityNodes;
    /** USD per month with its line items (components/core/prices.ts); on docker the host's price covers it. */
    readonly monthlyCost: pulumi.Output<MonthlyCost>;
    private readonly n: NormalizedObservability;
    private readonly otlpHeaders?: pulumi.Output<string>;
    /** Docker: Prometheus, as the scraper linked services hand their replicas to. */
    private readonly scrape?: ScrapeSink;

    constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
        const n = validateObservability(name, args);
        super("slipway:observability:Observability", name, {}, opts);
        this.n = n;
        this.linkLabel = describe({ kind: "Observability", name });
        // One Output for every service: App Platform merges equal secrets by identity.
        this.otlpHeaders = n.otel?.headers.length ? pulumi.secret(otlpHeaders(n.otel.headers)) : undefined;
        switch (args.target.kind) {
            case "docker": {
                const docs = createObservabilityDocker(name, this, n, args.target, args.transform);
                this.rulesYaml = docs?.rulesYaml;
                this.prometheusYaml = docs?.prometheusYaml;
                this.alertmanagerYaml = docs?.alertmanagerYaml;
                this.dashboardJson = n.prometheus && dashboardJson(n);
                this.scrape = docs?.scrape;
                this.nodes = { ...docs?.nodes, writers: docs?.nodes.writers ?? [], uptimeAlerts: [] };
                break;
            }
            case "do-app": {
                const built = createObservabilityDoApp(name, this, n, args.target, args.transform);
                this.appPart = built.part;
                this.uptimeCheckId = built.uptimeCheckId;
                this.nodes = { ...built.nodes, writers: [] };
                break;
            }
            default: unknownTarget(args.target);
        }
        this.monthlyCost = pulumi.output(targetCost(args.target, () => free("alert policies and the uptime check are not in the price list")));
        this.registerOutputs({
            monthlyCost: this.monthlyCost,
            rulesYaml: this.rulesYaml, prometheusYaml: this.prometheusYaml, alertmanagerYaml: this.alertmanagerYaml, uptimeCheckId: this.uptimeCheckId,
            dashboardJson: this.dashboardJson,
        });
    }

    /** See {@link observabilityLink}. */
    link({ service }: LinkRequest): Link {
        return observabilityLink(this.n, service, this.otlpHeaders, this.scrape);
    }
}

/**
 * SDK environment (only what is configured; the OTLP headers are the one secret), on App
 * Platform the service's CPU, memory and restart alerts and log destinations, and on Docker
 * the service's replicas as Prometheus targets.
 */
function observabilityLink(n: NormalizedObservability, service: string, otlpHeaders?: pulumi.Output<string>, scrape?: ScrapeSink): Link {
    const logDestinations = serviceLogDestinations(n);
    return {
        env: sdkEnv(n, service, otlpHeaders),
        doApp: { alerts: serviceAlerts(n), logDestinations: logDestinations.length ? logDestinations : undefined },
        docker: scrape && { scrape },
    };
}

function sdkEnv(n: NormalizedObservability, serviceName: string, otlpHeaders?: pulumi.Output<string>): EnvVar[] {
    const env: EnvVar[] = [plainEnv("LOG_FORMAT", n.logFormat)];
    if (n.sentry) {
        // A DSN given as `secret(...)` (or `{ secret: ... }` in a stack file) stays one.
        env.push(envVar("SENTRY_DSN", n.sentry.dsn), plainEnv("SENTRY_ENVIRONMENT", n.sentry.environment));
        if (n.sentry.release !== undefined) env.push(envVar("SENTRY_RELEASE", n.sentry.release));
    }
    if (n.otel) {
        env.push(
            plainEnv("OTEL_SERVICE_NAME", serviceName),
            plainEnv("OTEL_RESOURCE_ATTRIBUTES", `deployment.environment=${n.environment},service.namespace=${n.namespace}`),
            envVar("OTEL_EXPORTER_OTLP_ENDPOINT", n.otel.endpoint),
            plainEnv("OTEL_EXPORTER_OTLP_PROTOCOL", n.otel.protocol),
        );
        if (otlpHeaders) env.push({ key: "OTEL_EXPORTER_OTLP_HEADERS", value: otlpHeaders, secret: true });
    }
    return env.sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * What linking the Observability named `name` gives a service, with placeholder values and no
 * resources (its scrape sink checks, writes nothing): a stack's preflight validates each service
 * against it before anything registers.
 */
export function observabilityLinkStandIn(name: string, n: NormalizedObservability, target: Target): Linkable {
    const headers = n.otel?.headers.length ? pulumi.secret("preflight") : undefined;
    const scrape = target.kind === "docker" ? preflightScrapeSink(name, n) : undefined;
    return { linkLabel: describe({ kind: "Observability", name }), link: ({ service }) => observabilityLink(n, service, headers, scrape) };
}

/** `k1=v1,k2=v2` with percent-encoded values, as the OTLP exporter spec reads them. */
export function otlpHeaders(headers: [string, pulumi.Input<string>][]): pulumi.Output<string> {
    return pulumi.all(headers.map(([k, v]) => pulumi.output(v).apply(x => `${k}=${encodeURIComponent(x)}`))).apply(parts => parts.join(","));
}
