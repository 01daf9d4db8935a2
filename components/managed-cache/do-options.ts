// DigitalOcean's own facts about Managed Valkey, kept as data with where they came from. Read by
// do-app.ts only (its checks); pure, no SDK.
//
// Source (read offline from a stored copy on 2026-12-07; no live API call was made): the example
// response of `GET /v2/databases/options` in DigitalOcean's OpenAPI spec,
// github.com/digitalocean/openapi, specification/resources/databases/responses/options.yml at
// commit 182c72f8 (the copy ManagedDatabase's do-options.ts reads too). Its in-memory engine entry
// is still keyed `redis` (version "7"): DigitalOcean moved Managed Redis to Managed Valkey on the
// same sizes and regions, and the Pulumi provider's own Valkey example (`engine: "valkey"`,
// `version: "8"`, node_modules/@pulumi/digitalocean/databaseCluster.d.ts) uses those sizes.
// Per `num_nodes` it lists the sizes a cluster of that many nodes may use: 13 for one node, 12
// for two or three (db-s-1vcpu-1gb runs as a single node only). `doctl databases options slugs
// --engine valkey` on a real account is the check when this list is in doubt.
// Eviction policies: godo's EvictionPolicy constants (digitalocean/godo databases.go), the values
// the cluster's `eviction_policy` takes, written with underscores (allkeys_lru).

/** Datacenters DigitalOcean offers its in-memory engine in (`options.redis.regions`). */
export const DO_VALKEY_REGIONS = [
    "ams3", "blr1", "fra1", "lon1", "nyc1", "nyc2", "nyc3", "sfo2", "sfo3", "sgp1", "syd1", "tor1",
] as const;

/** The only size that cannot take standby nodes. */
export const SINGLE_NODE_SIZES: readonly string[] = ["db-s-1vcpu-1gb"];

/** Node sizes (`options.redis.layouts`, one node), in the source's order. */
export const DO_VALKEY_SIZES = [
    "db-s-1vcpu-1gb", "db-s-1vcpu-2gb", "db-s-2vcpu-4gb", "db-s-4vcpu-8gb", "db-s-6vcpu-16gb", "db-s-8vcpu-32gb", "db-s-16vcpu-64gb",
    "m-2vcpu-16gb", "m-4vcpu-32gb", "m-8vcpu-64gb", "m-16vcpu-128gb", "m-24vcpu-192gb", "m-32vcpu-256gb",
] as const;

/** The Valkey major the cluster runs (the provider's example; the Docker image runs the same major). */
export const DO_VALKEY_VERSION = "8";

/**
 * App Platform region -> the datacenter its cache should live in (same metro). `atl1` has no
 * managed databases, so an App in `atl` names one in `do.region` (the check says so).
 */
export const VALKEY_REGION_FOR_APP = {
    atl: "atl1", nyc: "nyc3", sfo: "sfo3", tor: "tor1", ams: "ams3",
    fra: "fra1", lon: "lon1", blr: "blr1", sgp: "sgp1", syd: "syd1",
} as const;
