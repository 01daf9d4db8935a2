import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { didYouMean } from "../core/shape";
import { ErrorContext, describe, invalid, requireInt } from "../core/errors";
import { MonthlyCost, valkeyClusterCost } from "../core/prices";
import { DO_REGIONS, DoAppTarget } from "../core/target";
import { transform } from "../core/transform";
import type { AppPart } from "../targets/app-spec";
import type { CacheConnection, ManagedCacheArgs } from "./args";
import type { ManagedCacheDoAppTransform } from "./transforms/do-app";
import { DO_VALKEY_REGIONS, DO_VALKEY_SIZES, DO_VALKEY_VERSION, SINGLE_NODE_SIZES, VALKEY_REGION_FOR_APP } from "./do-options";
import { DEFAULTS, ManagedCacheBase, ManagedCacheDoSettings, NormalizedManagedCache } from "./normalize";

export type { ManagedCacheDoAppTransform } from "./transforms/do-app";

/** What the do-app target created (`ManagedCache.nodes`). */
export interface ManagedCacheDoAppNodes {
    cluster: digitalocean.DatabaseCluster;
}

const REGIONS: readonly string[] = DO_VALKEY_REGIONS;
const SIZES: readonly string[] = DO_VALKEY_SIZES;

/** The do-app half of `validateManagedCache`: the `do` block against DigitalOcean's lists (do-options.ts). */
export function checkManagedCacheDoApp(name: string, args: ManagedCacheArgs & { target: DoAppTarget }, n: ManagedCacheBase): ManagedCacheDoSettings {
    const ctx: ErrorContext = { kind: "ManagedCache", name };
    void n;
    const d = args.do ?? {};
    const size = d.size ?? DEFAULTS.do.size;
    if (!SIZES.includes(size)) {
        const near = didYouMean(size, SIZES);
        invalid(ctx, "do.size", `${JSON.stringify(size)} is not a DigitalOcean Valkey node size`,
            near ? `did you mean "${near}"? (sizes: ${SIZES.join(", ")})` : `use one of ${SIZES.join(", ")}`);
    }
    const nodes = requireInt(ctx, "do.nodes", d.nodes ?? DEFAULTS.do.nodes, 1, 3);
    if (nodes > 1 && SINGLE_NODE_SIZES.includes(size)) {
        invalid(ctx, "do.nodes", `${size} runs as a single node; DigitalOcean offers standby nodes from db-s-1vcpu-2gb up`,
            `set do.nodes: 1, or do.size: "db-s-1vcpu-2gb" for ${nodes} nodes`);
    }
    return { size, nodes, region: checkRegion(ctx, d.region, args.target.region) };
}

function checkRegion(ctx: ErrorContext, given: string | undefined, appRegion: DoAppTarget["region"]): string {
    const offered = REGIONS.join(", ");
    const own = VALKEY_REGION_FOR_APP[appRegion];
    if (given === undefined) {
        if (!REGIONS.includes(own)) {
            invalid(ctx, "do.region", `the App's region "${appRegion}" has no managed Valkey datacenter ("${own}" is not among DigitalOcean's)`,
                `set do.region to a datacenter near it, e.g. "nyc3" (offered: ${offered})`);
        }
        return own;
    }
    if (REGIONS.includes(given)) return given;
    if ((DO_REGIONS as readonly string[]).includes(given)) {
        const dc = VALKEY_REGION_FOR_APP[given as DoAppTarget["region"]];
        invalid(ctx, "do.region", `${JSON.stringify(given)} is an App Platform region, not a datacenter slug`,
            REGIONS.includes(dc) ? `use "${dc}" (offered: ${offered})` : `use one of ${offered}`);
    }
    const near = didYouMean(given, REGIONS);
    invalid(ctx, "do.region", `${JSON.stringify(given)} is not a datacenter DigitalOcean offers managed Valkey in`,
        near ? `did you mean "${near}"? (offered: ${offered})` : `use one of ${offered}`);
}

/** `rediss://` built from the parts, so the scheme (TLS) never depends on the provider's `uri` format. */
function valkeyUrl(c: digitalocean.DatabaseCluster): pulumi.Output<string> {
    return pulumi.secret(pulumi.all([c.user, c.password, c.host, c.port]).apply(([u, p, h, port]) =>
        `rediss://${encodeURIComponent(u || "default")}:${encodeURIComponent(p ?? "")}@${h}:${port}`));
}

/** Its App Platform price: size × nodes (core/prices.ts). */
export function managedCacheMonthlyCost(n: NormalizedManagedCache): MonthlyCost {
    return valkeyClusterCost(n.do!.size, n.do!.nodes);
}

/**
 * A managed Valkey cluster, entered in the App spec as a database (engine VALKEY) and trusted
 * by its firewall for the App only (DoApp creates the `DatabaseFirewall` from `trustedClusters`).
 * DigitalOcean's Valkey takes TLS connections only: the URL is the cluster's `rediss://` one.
 */
export function createManagedCacheDoApp(
    name: string, parent: pulumi.ComponentResource, n: NormalizedManagedCache, target: DoAppTarget, t: ManagedCacheDoAppTransform = {},
): { part: AppPart; connection: CacheConnection; nodes: ManagedCacheDoAppNodes } {
    if (!n.do) throw new Error(`ManagedCache "${name}": createManagedCacheDoApp needs a cache validated for do-app (validateManagedCache)`);
    const provider = target.providers?.digitalocean;
    const cluster = new digitalocean.DatabaseCluster(...transform(t.cluster, `${name}-cluster`, {
        name: `${target.appName}-${name}`.slice(0, 63).replace(/-+$/, ""),
        engine: "valkey",
        version: DO_VALKEY_VERSION,
        size: n.do.size,
        nodeCount: n.do.nodes,
        region: n.do.region,
        // The API's spelling: allkeys_lru for Valkey's allkeys-lru.
        evictionPolicy: n.evictionPolicy.replace(/-/g, "_"),
        tags: ["slipway", `slipway-app-${target.appName}`, `slipway-env-${target.environment}`],
    }, { parent, provider, protect: n.production, retainOnDelete: n.production }));
    const part: AppPart = {
        owner: describe({ kind: "ManagedCache", name }),
        databases: [{ name, engine: "VALKEY", production: true, clusterName: cluster.name }],
        trustedClusters: [{ key: name, clusterId: cluster.id }],
    };
    return {
        part,
        nodes: { cluster },
        connection: {
            host: cluster.host,
            port: cluster.port.apply(String),
            password: pulumi.secret(cluster.password),
            url: valkeyUrl(cluster),
        },
    };
}
