import * as pulumi from "@pulumi/pulumi";
import { MonthlyCost, free, targetCost } from "../core/prices";
import { SlipwayConfigError } from "../core/errors";
import type { EdgeRecord } from "../core/edge";
import { unknownTarget } from "../core/target";
import type { AppContributor, AppPart } from "../targets/app-spec";
import type { GatewayArgs } from "./args";
import type { GatewayDockerResources } from "./docker";
import { checkGatewayDocker, createGatewayDocker, jwtSecrets } from "./docker";
import type { GatewayDoAppResources } from "./do-app";
import { checkGatewayDoApp, createGatewayDoApp } from "./do-app";
import { createGatewayDockerCloudflare } from "./cloudflare-docker";
import type { GatewayDockerCloudflareResources } from "./cloudflare-docker";
import { gatewayMetricsTarget } from "./caddy-config";
import { METRICS_TOKEN_FIX, NormalizedGateway, metricsTokenProblem, normalizeGateway } from "./normalize";

export { buildCaddyConfig, renderCaddyJson, EDGE_METRICS, gatewayMetricsTarget } from "./caddy-config";
export type { CaddyConfig, CaddyBuildOptions } from "./caddy-config";
export { normalizeGateway, DEFAULTS as GATEWAY_DEFAULTS, GATEWAY_SHAPE } from "./normalize";
export type { NormalizedGateway } from "./normalize";
export type {
    GatewayAccessLogArgs, GatewayAcmeArgs, GatewayArgs, GatewayCloudflareArgs, GatewayCorsArgs, GatewayImageBuild, GatewayImageBuildArgs, GatewayJwtArgs,
    GatewayPublicMetricsArgs, GatewayRateLimitArgs, GatewayRouteArgs, GatewaySecurityHeadersArgs, GatewayTransform, GatewayUpstreamArgs,
    GatewayCloudflarePlan, GatewayOriginLockArgs,
} from "./args";
export { CLOUDFLARE_IPV4_RANGES, CLOUDFLARE_IPV6_RANGES, CLOUDFLARE_ORIGIN_PULL_CA } from "./cloudflare-data";
export type { GatewayJwtAlgorithm } from "./args";

/** The resources a Gateway created (`transform` changes how they are made). */
export interface GatewayNodes {
    /** docker: the Caddy image (`docker.RemoteImage`, or `docker.Image` with `image: { build }`). */
    readonly image?: GatewayDockerResources["image"];
    /** docker: Caddy's `docker.Container`. */
    readonly container?: GatewayDockerResources["container"];
    /** docker: the current config revision's loader `docker.Container`. */
    readonly loader?: GatewayDockerResources["loader"];
    /** docker: Caddy's /config volume. */
    readonly configVolume?: GatewayDockerResources["configVolume"];
    /** docker, with TLS: the certificates volume (/data). */
    readonly dataVolume?: GatewayDockerResources["dataVolume"];
    /** docker, with `accessLog.file`: the access-log volume. */
    readonly logVolume?: GatewayDockerResources["logVolume"];
    /** With `cloudflare` (and `manageZone`): the zone's `cloudflare.ZoneSetting`s; empty otherwise. */
    readonly zoneSettings: readonly GatewayDoAppResources["zoneSettings"][number][];
    /** With `cloudflare` (and `manageZone`): the zone's entry-point `cloudflare.Ruleset`s; empty otherwise. */
    readonly rulesets: readonly GatewayDoAppResources["rulesets"][number][];
    /** docker with `cloudflare`: the proxied `cloudflare.DnsRecord`s (A and/or AAAA per domain). */
    readonly dnsRecords?: readonly GatewayDockerCloudflareResources["dnsRecords"][number][];
    /** docker with `cloudflare.originLock`: the zone's `cloudflare.AuthenticatedOriginPullsSettings`. */
    readonly originPulls?: GatewayDockerCloudflareResources["originPulls"];
}

/**
 * Everything the Gateway constructor checks before it registers anything: the target-neutral
 * `normalizeGateway`, then what only the chosen target accepts (docker.ts, do-app.ts). Pure, so a
 * stack can run it for every component first (stack/preflight.ts does).
 */
export function validateGateway(name: string, args: GatewayArgs): NormalizedGateway {
    const n = normalizeGateway(name, args);
    const target = args.target;
    switch (target.kind) {
        case "docker": checkGatewayDocker(name, { ...args, target }, n); return n;
        case "do-app": checkGatewayDoApp(name, { ...args, target }, n); return n;
        default: return unknownTarget(target);
    }
}

/**
 * The single entry point: TLS, routing by path prefix, rate limits, security headers, CORS,
 * body limits and compression. On docker it is a Caddy container configured with native JSON;
 * on do-app it is App Platform ingress rules and domains, with Cloudflare at the edge.
 *
 * On docker, routes, limits, headers, CORS and the other config reach the running Caddy as a graceful
 * in-place reload (no restart, listening sockets kept): a small loader container per config revision
 * pushes them over Caddy's admin unix socket, and `pulumi up` waits until the new config is live. Only an
 * image, port, TLS on/off or access-log file change replaces the Caddy container, delete-before-create
 * (the published host ports cannot belong to two containers at once): a gap of a few seconds.
 */
export class Gateway extends pulumi.ComponentResource implements AppContributor {
    /**
     * Base URL clients use, e.g. `http://127.0.0.1:8080` or `https://api.example.com`.
     * Undefined on do-app without domains: the App's own URL is `DoApp.liveUrl`.
     */
    readonly url: pulumi.Output<string | undefined>;
    /** The normalized route table both targets were generated from. */
    readonly routes: NormalizedGateway["routes"];
    /** Docker: the full Caddy JSON config, as the config loader pushes it (uploaded to it at /etc/caddy/caddy.json). */
    readonly caddyJson?: string;
    /**
     * Docker: the config revision, the first 10 hex digits of the SHA-256 of {@link caddyJson}. The
     * loader container that pushes it is the child named `${name}-config-${configRevision}`.
     */
    readonly configRevision?: string;
    /** do-app: this gateway's part of the App (ingress rules, domains). */
    readonly appPart?: AppPart;
    /** do-app: the routed services, which DoApp adds to the App with the gateway. */
    readonly appDependencies?: readonly unknown[];
    /** do-app with `cloudflare`: the records a `CloudflareEdge` points at the App. */
    readonly edgeRecords?: readonly EdgeRecord[];
    /**
     * Docker: where Prometheus scrapes the gateway's metrics, `<name>:2020` (the container's alias on
     * the stack's network; the port is published nowhere). Request counts and durations per status
     * code and method, requests in flight; upstream health per replica. See `EDGE_METRICS` for the
     * series and the histogram buckets. `gatewayMetricsTarget(name)` gives the same address before the
     * Gateway exists (an Observability built first). Undefined on do-app (no Caddy).
     */
    readonly metricsTarget?: string;
    /** The underlying resources this component created: the ones `transform` reaches. */
    readonly nodes: GatewayNodes;
    /** USD per month with its line items (components/core/prices.ts); on docker the host's price covers it. */
    readonly monthlyCost: pulumi.Output<MonthlyCost>;

    constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        const n = validateGateway(name, args);
        super("slipway:gateway:Gateway", name, {}, opts);
        this.routes = n.routes;
        const metricsToken = scrapeToken(name, args.publicMetrics?.allowWithToken);
        switch (args.target.kind) {
            case "docker": {
                const upstreams: pulumi.Resource[] = args.routes.map(r => r.service).filter((x): x is typeof x & pulumi.Resource => pulumi.Resource.isInstance(x));
                const cf = args.cloudflare && createGatewayDockerCloudflare(name, this, n, args.cloudflare, args.transform, metricsToken, n.production);
                // Cloudflare presents its client certificate before Caddy's config requires one.
                if (cf?.originPulls) upstreams.push(cf.originPulls);
                const d = createGatewayDocker(name, this, n, args.target, args.image, upstreams, args.transform, metricsToken, jwtSecrets(n, args.routes));
                this.nodes = {
                    image: d.image, container: d.container, loader: d.loader,
                    configVolume: d.configVolume, dataVolume: d.dataVolume, logVolume: d.logVolume,
                    zoneSettings: cf?.zoneSettings ?? [], rulesets: cf?.rulesets ?? [],
                    ...(cf && { dnsRecords: cf.dnsRecords, originPulls: cf.originPulls }),
                };
                this.caddyJson = d.caddyJson;
                this.configRevision = d.configRevision;
                this.metricsTarget = gatewayMetricsTarget(name);
                this.url = pulumi.output(d.url);
                break;
            }
            case "do-app": {
                const d = createGatewayDoApp(name, this, n, args.cloudflare, args.target, args.transform, metricsToken);
                this.nodes = { zoneSettings: d.zoneSettings, rulesets: d.rulesets };
                this.appPart = d.appPart;
                this.appDependencies = args.routes.map(r => r.service);
                this.edgeRecords = d.edgeRecords;
                this.url = pulumi.output(d.url);
                break;
            }
            default: unknownTarget(args.target);
        }
        this.monthlyCost = pulumi.output(targetCost(args.target, () => free("App Platform's ingress and the Cloudflare edge settings add no priced resource")));
        this.registerOutputs({
            url: this.url, monthlyCost: this.monthlyCost,
            routes: n.routes.map(r => ({ pathPrefix: r.pathPrefix, service: r.service.name })),
            ...(this.metricsTarget !== undefined && { metricsTarget: this.metricsTarget }),
        });
    }
}

/**
 * The scrape token as both targets use it: always a secret, and checked once its value is known
 * (a plain string was checked by normalizeGateway already). A bad generated value fails the update
 * at the first resource that reads it, with the same message, never quoting the token.
 */
function scrapeToken(name: string, token: pulumi.Input<string> | undefined): pulumi.Output<string> | undefined {
    if (token === undefined) return undefined;
    return pulumi.secret(pulumi.output(token).apply(t => {
        const problem = metricsTokenProblem(t);
        if (problem) throw new SlipwayConfigError(`Gateway "${name}"`, "publicMetrics.allowWithToken", problem, METRICS_TOKEN_FIX);
        return t;
    }));
}
