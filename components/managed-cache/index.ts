import * as pulumi from "@pulumi/pulumi";
import { describe } from "../core/errors";
import { Link, LinkRequest, Linkable } from "../core/link";
import { MonthlyCost, targetCost } from "../core/prices";
import { unknownTarget } from "../core/target";
import type { AppContributor, AppPart } from "../targets/app-spec";
import type { CacheConnection, ManagedCacheArgs } from "./args";
import type { ManagedCacheDockerNodes } from "./docker";
import { cacheMetricsHost, checkManagedCacheDocker, createManagedCacheDocker } from "./docker";
import type { ManagedCacheDoAppNodes } from "./do-app";
import { checkManagedCacheDoApp, createManagedCacheDoApp, managedCacheMonthlyCost } from "./do-app";
import { DEFAULTS, normalizeManagedCache, NormalizedManagedCache } from "./normalize";

export type { CacheConnection, EvictionPolicy, ManagedCacheArgs, ManagedCacheTransform } from "./args";
export { cacheMetricsHost } from "./docker";

/** The resources a ManagedCache created (`transform` changes how they are made). */
export interface ManagedCacheNodes {
    /** docker: the server image (`docker.RemoteImage`). */
    readonly image?: ManagedCacheDockerNodes["image"];
    /** docker: the server `docker.Container`. */
    readonly container?: ManagedCacheDockerNodes["container"];
    /** docker, with `persistence`: the AOF `docker.Volume`. */
    readonly volume?: ManagedCacheDockerNodes["volume"];
    /** docker, unless `password` is given: the generated `random.RandomPassword`. */
    readonly password?: ManagedCacheDockerNodes["password"];
    /** docker, unless `metrics: false`: the exporter `docker.Container`. */
    readonly exporter?: ManagedCacheDockerNodes["exporter"];
    /** docker, with an exporter image other than the server's: its `docker.RemoteImage`. */
    readonly exporterImage?: ManagedCacheDockerNodes["exporterImage"];
    /** do-app: the Valkey `digitalocean.DatabaseCluster`. */
    readonly cluster?: ManagedCacheDoAppNodes["cluster"];
}

/**
 * Everything the ManagedCache constructor checks before it registers anything: the target-neutral
 * `normalizeManagedCache`, then what only the chosen target reads. Pure, so a stack runs it for
 * every component first (stack/plan.ts `preflight`).
 */
export function validateManagedCache(name: string, args: ManagedCacheArgs): NormalizedManagedCache {
    const n = normalizeManagedCache(name, args);
    const target = args.target;
    switch (target.kind) {
        case "docker": return { ...n, docker: checkManagedCacheDocker(name, { ...args, target }, n) };
        case "do-app": return { ...n, do: checkManagedCacheDoApp(name, { ...args, target }, n) };
        default: return unknownTarget(target);
    }
}

/** Where Prometheus finds the cache's exporter on docker (a host on the target's network); none on do-app or with `metrics: false`. */
export function cacheMetricsTarget(n: NormalizedManagedCache): { name: string; port: number } | undefined {
    return n.docker?.exporterImage ? { name: cacheMetricsHost(n.name), port: DEFAULTS.exporterPort } : undefined;
}

/**
 * A Valkey cache: a container (with a Prometheus exporter beside it) on Docker, a managed Valkey
 * cluster on DigitalOcean. Link it to an ApiService to hand it REDIS_URL (secret).
 */
export class ManagedCache extends pulumi.ComponentResource implements Linkable, AppContributor {
    readonly host: pulumi.Output<string>;
    readonly port: pulumi.Output<string>;
    /** Secret. */
    readonly password: pulumi.Output<string>;
    /** Secret: `redis://` on docker, `rediss://` on DigitalOcean. */
    readonly url: pulumi.Output<string>;
    /** do-app: the cluster's entry in the App and the firewall it needs. */
    readonly appPart?: AppPart;
    readonly linkLabel: string;
    /** The underlying resources this component created: the ones `transform` reaches. */
    readonly nodes: ManagedCacheNodes;
    /** USD per month with its line items (components/core/prices.ts); on docker the host's price covers it. */
    readonly monthlyCost: pulumi.Output<MonthlyCost>;
    /** docker: the exporter as an extra scrape target for Observability's `prometheus.scrape`. */
    readonly metricsTarget?: { name: string; port: number };

    constructor(name: string, args: ManagedCacheArgs, opts?: pulumi.ComponentResourceOptions) {
        const n = validateManagedCache(name, args);
        super("slipway:cache:ManagedCache", name, {}, opts);
        this.linkLabel = describe({ kind: "ManagedCache", name });
        this.metricsTarget = cacheMetricsTarget(n);
        let c: CacheConnection;
        switch (args.target.kind) {
            case "docker": {
                const built = createManagedCacheDocker(name, this, n, args.target, args.password, args.transform);
                c = built.connection;
                this.nodes = built.nodes;
                break;
            }
            case "do-app": {
                const built = createManagedCacheDoApp(name, this, n, args.target, args.transform);
                c = built.connection;
                this.appPart = built.part;
                this.nodes = built.nodes;
                break;
            }
            default: unknownTarget(args.target);
        }
        this.host = c.host;
        this.port = c.port;
        this.password = c.password;
        this.url = c.url;
        this.monthlyCost = pulumi.output(targetCost(args.target, () => managedCacheMonthlyCost(n)));
        this.registerOutputs({ monthlyCost: this.monthlyCost, host: this.host, port: this.port, password: this.password, url: this.url });
    }

    /** See {@link cacheLink}. */
    link(_request: LinkRequest): Link {
        return cacheLink(this.url, this.nodes.container);
    }
}

/**
 * REDIS_URL, secret: on docker a file under /run/secrets with REDIS_URL_FILE (ApiService's file
 * delivery), on App Platform an App-level SECRET env. Nothing else: the URL carries all of it.
 */
function cacheLink(url: pulumi.Output<string>, server?: pulumi.Resource): Link {
    return {
        // An ordering only, like the database's: a value from the server's outputs would turn
        // unknown whenever it is replaced and replace every linked replica with it.
        docker: server ? { dependsOn: [server] } : undefined,
        env: [{ key: "REDIS_URL", value: url, secret: true }],
    };
}

/** What linking the cache named `name` gives a service, with a placeholder and no resources (preflight). */
export function managedCacheLinkStandIn(name: string): Linkable {
    return { linkLabel: describe({ kind: "ManagedCache", name }), link: () => cacheLink(pulumi.secret("preflight")) };
}
