// Pure, target-neutral validation and defaults for ManagedCache: its name, eviction policy and
// production flag. What only one target reads (image, memory, persistence and port on docker; the
// `do` block on do-app) is checked in that target's file.
import { requireDoName, requireTarget } from "../core/checks";
import { ErrorContext, invalid } from "../core/errors";
import { checkShape, didYouMean, shape, Shape } from "../core/shape";
import { checkTransform } from "../core/transform";
import type { EvictionPolicy, ManagedCacheArgs, ManagedCacheTransform } from "./args";

export const DEFAULTS = {
    evictionPolicy: "allkeys-lru",
    maxMemoryMb: 128,
    /** Room above maxmemory: client buffers, replication backlog, the fork of an AOF rewrite. */
    headroomMb: 64,
    minHeadroomMb: 32,
    port: 6379,
    image: "valkey/valkey:8.0-bookworm",
    exporterImage: "oliver006/redis_exporter:v1.45.0",
    exporterPort: 9121,
    do: { size: "db-s-1vcpu-1gb", nodes: 1 },
} as const;

/** Valkey's `maxmemory-policy` values that DigitalOcean's managed Valkey also takes (godo's EvictionPolicy constants). */
export const EVICTION_POLICIES = ["allkeys-lru", "allkeys-random", "volatile-lru", "volatile-random", "volatile-ttl", "noeviction"] as const satisfies readonly EvictionPolicy[];
/** The LFU policies Valkey has and DigitalOcean's eviction_policy does not: named in the error. */
const LFU_POLICIES = ["allkeys-lfu", "volatile-lfu"];

export const TRANSFORM_KEYS = {
    image: true, container: true, volume: true, password: true, exporter: true, exporterImage: true, cluster: true,
} as const satisfies Record<keyof ManagedCacheTransform, true>;

type DoBlock = NonNullable<ManagedCacheArgs["do"]>;
const child = (what: string) => shape.program(`${what}: args to merge over the component's, or (args, opts, name) => void`);

/** Every key ManagedCacheArgs takes, with its type: the `slipway:cache` block's schema too. */
export const MANAGED_CACHE_SHAPE: Shape = shape.object<ManagedCacheArgs>({
    target: shape.program("where the cache runs: a DockerHost's target or doAppTarget(...)"),
    evictionPolicy: shape.string(undefined, `what goes when memory is full: ${EVICTION_POLICIES.join(", ")}`),
    maxMemoryMb: shape.int("Docker: Valkey's maxmemory in MB, 16 to 65536"),
    memoryMb: shape.int("Docker: container memory limit in MB, at least maxMemoryMb + 32"),
    persistence: shape.bool("Docker: an append-only file on a named volume"),
    production: shape.bool("protect and retain the data; defaults to the target's flag"),
    image: shape.string(undefined, "Docker: the server image (valkey-server, valkey-cli, uid 999)"),
    password: shape.input("Docker: an existing password, e.g. { secret: cachePassword }"),
    publishPort: shape.int("Docker: host port for 6379"),
    metrics: shape.oneOf("a mapping such as { image: slipway/valkey:local }, or false",
        shape.object<Exclude<NonNullable<ManagedCacheArgs["metrics"]>, false>>({
            image: shape.string(undefined, "an image with the exporter at /redis_exporter"),
        }),
        shape.bool()),
    do: shape.object<DoBlock>({
        size: shape.string(undefined, "node size slug, e.g. db-s-1vcpu-2gb"),
        nodes: shape.int("nodes, standbys included: 1 to 3"),
        region: shape.string(undefined, "datacenter slug, e.g. fra1"),
    }, [], "DigitalOcean settings"),
    transform: shape.object<ManagedCacheTransform>({
        image: child("docker: the server image"),
        container: child("docker: the server container"),
        volume: child("docker: the AOF volume"),
        password: child("docker: the generated password"),
        exporter: child("docker: the exporter container"),
        exporterImage: child("docker: the exporter's own image"),
        cluster: child("do-app: the Valkey cluster"),
    }, [], "program only: per child resource, how it is created"),
});

/** The docker settings: `checkManagedCacheDocker` (docker.ts) fills them in. */
export interface ManagedCacheDockerSettings {
    image: string;
    maxMemoryMb: number;
    memoryMb: number;
    persistence: boolean;
    publishPort?: number;
    /** undefined: no exporter. */
    exporterImage?: string;
}

/** The `do` block: `checkManagedCacheDoApp` (do-app.ts) fills it in. */
export interface ManagedCacheDoSettings {
    size: string;
    nodes: number;
    region: string;
}

export interface ManagedCacheBase {
    name: string;
    evictionPolicy: EvictionPolicy;
    production: boolean;
}

/** A cache validated for its target by `validateManagedCache` (index.ts): exactly one of the two is set. */
export interface NormalizedManagedCache extends ManagedCacheBase {
    docker?: ManagedCacheDockerSettings;
    do?: ManagedCacheDoSettings;
}

export function normalizeManagedCache(name: string, args: ManagedCacheArgs): ManagedCacheBase {
    const ctx: ErrorContext = { kind: "ManagedCache", name };
    const t: unknown = (args as { transform?: unknown } | undefined)?.transform;
    if (t !== undefined && (typeof t !== "object" || t === null || Array.isArray(t))) checkTransform(ctx, t, Object.keys(TRANSFORM_KEYS));
    checkShape(ctx, MANAGED_CACHE_SHAPE, args);
    const target = requireTarget(ctx, args?.target, "is missing", "pass `target` from a DockerHost (`host.target`) or `doAppTarget(...)`");
    requireDoName(ctx, name, `${JSON.stringify(name)} cannot be a network alias and App Platform database name`);
    checkTransform(ctx, args.transform, Object.keys(TRANSFORM_KEYS));
    return {
        name,
        evictionPolicy: evictionPolicy(ctx, args.evictionPolicy ?? DEFAULTS.evictionPolicy),
        production: args.production ?? target.production,
    };
}

function evictionPolicy(ctx: ErrorContext, given: string): EvictionPolicy {
    if ((EVICTION_POLICIES as readonly string[]).includes(given)) return given as EvictionPolicy;
    const all = EVICTION_POLICIES.join(", ");
    if (LFU_POLICIES.includes(given)) {
        invalid(ctx, "evictionPolicy", `${JSON.stringify(given)} is a Valkey policy DigitalOcean's managed Valkey does not offer`,
            `use one both targets take (${all}); "allkeys-lru" is the usual cache choice`);
    }
    // DigitalOcean's API spelling (allkeys_lru) is the one most often pasted here.
    const near = didYouMean(given.replace(/_/g, "-"), EVICTION_POLICIES);
    invalid(ctx, "evictionPolicy", `${JSON.stringify(given)} is not an eviction policy`,
        near ? `did you mean "${near}"? (policies: ${all})` : `use one of ${all}`);
}
