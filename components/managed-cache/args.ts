// ManagedCache's public Args types, apart from index.ts so normalize.ts and the target files can
// import them without an import cycle.
import type * as pulumi from "@pulumi/pulumi";
import type { Target } from "../core/target";
import type { ManagedCacheDockerTransform } from "./transforms/docker";
import type { ManagedCacheDoAppTransform } from "./transforms/do-app";

/**
 * Per child resource, args to merge over the ones ManagedCache builds, or a function that edits
 * copies of them and of the resource options (see `Transform` in core/transform.ts). Keys of both
 * targets: docker `image`, `container`, `volume`, `password`, `exporter`, `exporterImage`; do-app `cluster`.
 */
export type ManagedCacheTransform = ManagedCacheDockerTransform & ManagedCacheDoAppTransform;

/**
 * What the cache drops when it is full, in Valkey's own words (`maxmemory-policy`). The six that
 * both Valkey and DigitalOcean's managed Valkey take.
 */
export type EvictionPolicy = "allkeys-lru" | "allkeys-random" | "volatile-lru" | "volatile-random" | "volatile-ttl" | "noeviction";

export interface ManagedCacheArgs {
    /** Where the cache runs. */
    target: Target;
    /**
     * What goes when the memory is full. `allkeys-lru` suits a cache: the least recently used key
     * goes, whether or not it has a TTL. `noeviction` makes writes fail instead (a store, not a cache).
     * @default `"allkeys-lru"`
     * @example `"volatile-ttl"`
     */
    evictionPolicy?: EvictionPolicy;
    /**
     * Docker: Valkey's `maxmemory`, in MB, 16 to 65536: keys are evicted past it. On DigitalOcean
     * the node size sets it.
     * @default `128`
     * @example `512`
     */
    maxMemoryMb?: number;
    /**
     * Docker: the container's memory limit, in MB. At least `maxMemoryMb` + 32: Valkey needs room
     * beyond its data (buffers, fork for a rewrite), and at the limit the kernel kills it.
     * @default `maxMemoryMb` + 64
     */
    memoryMb?: number;
    /**
     * Docker: an append-only file on the named volume `<prefix>-<name>-data`, so the keys survive a
     * restart. The volume is protected and retained in production. Off by default: a cache is
     * rebuilt from its source. DigitalOcean's managed Valkey persists on its own.
     * @default `false`
     * @example `true`
     */
    persistence?: boolean;
    /**
     * Overrides the target's production flag: production protects and retains the AOF volume
     * (docker) and the cluster (DigitalOcean).
     * @default `target.production`
     */
    production?: boolean;
    /**
     * Docker: the server image; it must have `valkey-server` (or a `redis-server` renamed so) and
     * `valkey-cli` on PATH, and run as uid 999. images/valkey in this repository builds one from
     * Debian bookworm-backports' valkey-server 8 with the exporter beside it.
     * @default `"valkey/valkey:8.0-bookworm"`
     * @example `"registry.example.com/valkey:8"`
     */
    image?: string;
    /**
     * Docker: an existing password instead of a generated one (e.g. from a config secret). It
     * reaches the server as a config file under /run/secrets, never env or the command line, and
     * linked services as the secret REDIS_URL.
     * @default a generated 32-character alphanumeric password
     * @example `config.requireSecret("cachePassword")`
     */
    password?: pulumi.Input<string>;
    /**
     * Docker: publish 6379 on `target.publishAddress` at this port, for local tools.
     * @default not published
     * @example `16379`
     */
    publishPort?: number;
    /**
     * Docker: a Prometheus exporter beside the server (alias `<name>-metrics`, port 9121), which a
     * stack's Observability scrapes. `false` leaves it out.
     * @default on, image `"oliver006/redis_exporter:v1.45.0"`
     * @example `{ image: "slipway/valkey:local" }`
     */
    metrics?: { /** An image with the exporter at /redis_exporter. */ image?: string } | false;
    /** DigitalOcean settings. */
    do?: {
        /** Node size slug (components/managed-cache/do-options.ts). @default `"db-s-1vcpu-1gb"` */
        size?: string;
        /** Nodes, standbys included, 1 to 3; the 1 GB size runs one only. @default `1` */
        nodes?: number;
        /** Datacenter slug. @default the App region's datacenter, e.g. `"fra1"` for `"fra"` */
        region?: string;
    };
    /**
     * Transform how this component creates its underlying resources: per child, args merged over
     * the component's (shallow), or a function editing copies of the args and options in place.
     * Docker: `image`, `container`, `volume`, `password`, `exporter`, `exporterImage`; do-app:
     * `cluster`. A key of the other target is accepted and unused.
     * @default none
     * @example `{ container: { cpuShares: 512 } }`
     */
    transform?: ManagedCacheTransform;
}

/** What the target builders hand back. */
export interface CacheConnection {
    host: pulumi.Output<string>;
    port: pulumi.Output<string>;
    /** Secret. */
    password: pulumi.Output<string>;
    /** Secret: `redis://` on docker, `rediss://` (TLS) on DigitalOcean. */
    url: pulumi.Output<string>;
}
