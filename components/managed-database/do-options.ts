// DigitalOcean's own facts about Managed PostgreSQL, kept as data with where each came from.
// Read by do-app.ts only (its checks); pure, no SDK. When DigitalOcean adds a region or a size,
// update the lists from the same sources and say in the commit which version of them you read.
//
// Sources (read offline from stored copies; no live API call was made):
// - Regions and sizes: the example response of `GET /v2/databases/options` in DigitalOcean's
//   OpenAPI spec, github.com/digitalocean/openapi,
//   specification/resources/databases/responses/options.yml at commit 182c72f8 (the newest copy
//   found; an older one, 011f7634, lacked nyc2 and PostgreSQL 17). Its `pg` entry lists 12
//   regions and, per `num_nodes`, the sizes a cluster of that many nodes may use: 33 sizes for
//   one node, 30 for two or three (the three 1 GB sizes run as a single node only, which the
//   databases overview page, docs.digitalocean.com/products/databases/, also states: the
//   smallest single-node plan is the one plan that cannot take standby nodes).
//   The example is an example: `doctl databases options regions`/`slugs --engine pg` on a real
//   account is the check when this list is in doubt. It has no atl1: App Platform's `atl`
//   region has no database datacenter in it.
// - vCPUs and memory: the size slug itself (`<family>-<n>vcpu-<m>gb`), written out below.
// - Connection limit: the description of `size` in the same spec's connection pool model,
//   specification/resources/databases/models/connection_pool.yml (commit 178a2f9a): the limit
//   follows the primary node's memory, 25 backend connections per GB, 3 of them reserved for
//   maintenance (its examples: 22 on 1 GB, 97 on 4 GB), and all pools of a cluster share it.
//   The same model gives a pool name 3 to 60 characters. DigitalOcean's docs page "How to
//   Manage Connection Pools for PostgreSQL Database Clusters" states the rule too (the stored copy of
//   docs.digitalocean.com/products/databases/postgresql/how-to/manage-connection-pools/ is cut
//   off at "Clusters provide 25"; the older www.digitalocean.com/docs/databases/postgresql/how-to/
//   manage-connection-pools/ has the whole rule, and its example splits the 1 GB plan's 22
//   connections into pools of 12 and 7). The stored copy of the PostgreSQL limits page
//   (docs.digitalocean.com/products/databases/postgresql/details/limits) gives the 3-node cap
//   (do.nodes) but no connection figures.

/** Datacenters DigitalOcean offers Managed PostgreSQL in (`options.pg.regions`). */
export const DO_DB_REGIONS = [
    "ams3", "blr1", "fra1", "lon1", "nyc1", "nyc2", "nyc3", "sfo2", "sfo3", "sgp1", "syd1", "tor1",
] as const;

export interface DoDbSize {
    readonly slug: string;
    readonly vcpus: number;
    /** Memory of one node, in GB as DigitalOcean counts it for connections. */
    readonly memoryGb: number;
    /** Largest cluster (primary plus standbys) this size may form: 1 for the 1 GB sizes, else 3. */
    readonly maxNodes: 1 | 3;
}

const size = (slug: string, vcpus: number, memoryGb: number, maxNodes: 1 | 3 = 3): DoDbSize => ({ slug, vcpus, memoryGb, maxNodes });

/** Node sizes for Managed PostgreSQL (`options.pg.layouts`), in the source's order for one node. */
export const DO_DB_SIZES: readonly DoDbSize[] = [
    // Basic (shared CPU)
    size("db-s-1vcpu-1gb", 1, 1, 1),
    size("db-s-1vcpu-2gb", 1, 2),
    size("db-s-2vcpu-4gb", 2, 4),
    size("db-s-4vcpu-8gb", 4, 8),
    size("db-s-6vcpu-16gb", 6, 16),
    // General purpose (dedicated CPU)
    size("gd-2vcpu-8gb", 2, 8),
    size("gd-4vcpu-16gb", 4, 16),
    size("gd-8vcpu-32gb", 8, 32),
    size("gd-16vcpu-64gb", 16, 64),
    size("gd-32vcpu-128gb", 32, 128),
    size("gd-40vcpu-160gb", 40, 160),
    // Storage optimized
    size("so1_5-2vcpu-16gb", 2, 16),
    size("so1_5-4vcpu-32gb", 4, 32),
    size("so1_5-8vcpu-64gb", 8, 64),
    size("so1_5-16vcpu-128gb", 16, 128),
    size("so1_5-24vcpu-192gb", 24, 192),
    size("so1_5-32vcpu-256gb", 32, 256),
    // Basic, premium Intel and AMD
    size("db-intel-1vcpu-1gb", 1, 1, 1),
    size("db-amd-1vcpu-1gb", 1, 1, 1),
    size("db-intel-1vcpu-2gb", 1, 2),
    size("db-amd-1vcpu-2gb", 1, 2),
    size("db-amd-2vcpu-4gb", 2, 4),
    size("db-intel-2vcpu-4gb", 2, 4),
    size("db-amd-2vcpu-8gb", 2, 8),
    size("db-intel-2vcpu-8gb", 2, 8),
    size("db-intel-4vcpu-8gb", 4, 8),
    size("db-amd-4vcpu-8gb", 4, 8),
    size("db-amd-4vcpu-16gb", 4, 16),
    size("db-intel-4vcpu-16gb", 4, 16),
    size("db-intel-8vcpu-32gb", 8, 32),
    size("db-amd-8vcpu-32gb", 8, 32),
    size("db-intel-16vcpu-64gb", 16, 64),
    size("db-amd-16vcpu-64gb", 16, 64),
];

/** Connections per GB of a node's memory, and how many of them DigitalOcean keeps for maintenance. */
export const CONNECTIONS_PER_GB = 25;
export const RESERVED_CONNECTIONS = 3;

/**
 * Backend connections the pools of a cluster of this size may use in all: 25 per GB of the
 * primary node's memory minus 3 reserved (22 on 1 GB, 47 on 2 GB, 97 on 4 GB). Per node: pools
 * run on the primary, so standby nodes do not add to it.
 */
export function poolConnectionLimit(s: DoDbSize): number {
    return CONNECTIONS_PER_GB * s.memoryGb - RESERVED_CONNECTIONS;
}

/** The size family a slug belongs to (`db-s`, `gd`, `so1_5`, `db-intel`, `db-amd`): what it is called before `-<n>vcpu`. */
export function sizeFamily(slug: string): string {
    return slug.replace(/-\d+vcpu-\d+gb$/, "");
}
