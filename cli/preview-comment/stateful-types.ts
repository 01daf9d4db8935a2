/**
 * Which resource types hold state or carry traffic, and what replacing or deleting one costs.
 * This table is the whole policy: risks.ts applies it and holds no type names of its own. To flag
 * another type, add a row here (and a test).
 */

/** What kind of harm a change can do. The order is the order of the Risks section. */
export type RiskKind = "error" | "data-loss" | "protected" | "credential" | "traffic" | "warning" | "notice";

/** Operations a row can react to, after replace steps are folded into one change (see changes.ts). */
export type RiskOp = "replace" | "delete";

/**
 * A row applies only when the resource's inputs satisfy this. Conditions are data so the table
 * stays declarative: `nonEmpty` = at least one of the inputs is a non-empty list or object
 * (a container that mounts volumes); `oneOf` = the input is one of the values (a DNS record type).
 */
export type Condition =
    | { nonEmpty: string[] }
    | { input: string; oneOf: string[] };

export interface StatefulType {
    /** Exact Pulumi type token. */
    type: string;
    /** Short human name used in the comment. */
    label: string;
    /** The risk for each op this row reacts to; ops not listed are not flagged by this row (none: listed for its URN only). */
    ops: Partial<Record<RiskOp, RiskKind>>;
    /** What the reviewer stands to lose, one sentence, per op. */
    consequence: Partial<Record<RiskOp, string>>;
    when?: Condition;
    /** Inputs worth naming in the risk entry (non-secret identifiers such as a volume or record name). */
    identify?: string[];
}

export const STATEFUL_TYPES: readonly StatefulType[] = [
    // Docker target
    {
        type: "docker:index/volume:Volume", label: "Docker volume",
        ops: { replace: "data-loss", delete: "data-loss" },
        consequence: {
            replace: "a new, empty volume takes its place; whatever the old one held is not copied",
            delete: "the volume and everything stored in it are removed",
        },
        identify: ["name"],
    },
    {
        // No risk of its own in a preview: a container's data lives in its volumes, which are
        // resources of their own (the row above), and what replacing one costs is downtime, judged
        // per service (REPLICA_TYPES below). Listed for scripts/record-urns.ts, which keeps the URN
        // of a container that mounts volumes stable (a new URN recreates the database).
        type: "docker:index/container:Container", label: "Container with mounted volumes",
        ops: {},
        when: { nonEmpty: ["volumes", "mounts"] },
        consequence: {
            replace: "the container is recreated: downtime, and anything written outside its mounted volumes is lost",
            delete: "the container is removed; its data survives only in volumes that are kept",
        },
        identify: ["image"],
    },
    // DigitalOcean managed databases
    {
        type: "digitalocean:index/databaseCluster:DatabaseCluster", label: "DigitalOcean database cluster",
        ops: { replace: "data-loss", delete: "data-loss" },
        consequence: {
            replace: "a new, empty cluster is created and the old one is destroyed with its data",
            delete: "the cluster and all of its databases are destroyed",
        },
        identify: ["name", "engine", "version"],
    },
    {
        type: "digitalocean:index/databaseDb:DatabaseDb", label: "DigitalOcean database",
        ops: { replace: "data-loss", delete: "data-loss" },
        consequence: {
            replace: "the database is dropped and created again, empty",
            delete: "the database and all of its tables are dropped",
        },
        identify: ["name"],
    },
    {
        type: "digitalocean:index/databaseUser:DatabaseUser", label: "DigitalOcean database user",
        ops: { replace: "credential", delete: "data-loss" },
        consequence: {
            replace: "the user is recreated with a new password; clients holding the old one fail until they get the new one",
            delete: "the user and its grants are dropped; clients that log in as it lose access",
        },
        identify: ["name"],
    },
    {
        type: "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool", label: "DigitalOcean connection pool",
        ops: { replace: "traffic", delete: "traffic" },
        consequence: {
            replace: "open connections through the pool drop while it is recreated",
            delete: "clients connecting through the pool can no longer connect",
        },
        identify: ["name", "dbName"],
    },
    {
        type: "digitalocean:index/databaseReplica:DatabaseReplica", label: "DigitalOcean read replica",
        ops: { replace: "traffic", delete: "traffic" },
        consequence: {
            replace: "reads served by the replica fail until the new one has synced",
            delete: "reads served by the replica fail",
        },
        identify: ["name"],
    },
    {
        type: "digitalocean:index/volume:Volume", label: "DigitalOcean block volume",
        ops: { replace: "data-loss", delete: "data-loss" },
        consequence: {
            replace: "a new, empty volume takes its place",
            delete: "the volume and its data are destroyed",
        },
        identify: ["name"],
    },
    {
        type: "digitalocean:index/spacesBucket:SpacesBucket", label: "DigitalOcean Spaces bucket",
        ops: { replace: "data-loss", delete: "data-loss" },
        consequence: {
            replace: "a new, empty bucket takes its place",
            delete: "the bucket and its objects are destroyed",
        },
        identify: ["name"],
    },
    {
        type: "digitalocean:index/app:App", label: "DigitalOcean App Platform app",
        ops: { replace: "traffic", delete: "traffic" },
        consequence: {
            replace: "a new app with a new default URL is created; traffic stops until DNS points at it and it is deployed",
            delete: "the app and every service in it stop serving",
        },
    },
    // Cloudflare edge
    {
        type: "cloudflare:index/zone:Zone", label: "Cloudflare zone",
        ops: { replace: "traffic", delete: "traffic" },
        consequence: {
            replace: "the zone is recreated: every record in it and its settings are rebuilt, and nameservers may change",
            delete: "every DNS record in the zone stops resolving",
        },
        identify: ["zone", "name"],
    },
    {
        type: "cloudflare:index/dnsRecord:DnsRecord", label: "Cloudflare DNS record",
        ops: { replace: "traffic", delete: "traffic" },
        when: { input: "type", oneOf: ["A", "AAAA", "CNAME"] },
        consequence: {
            replace: "the record is deleted and created again; resolvers may briefly get no answer",
            delete: "the name stops resolving, so traffic to it stops",
        },
        identify: ["name", "type"],
    },
    {
        type: "cloudflare:index/record:Record", label: "Cloudflare DNS record",
        ops: { replace: "traffic", delete: "traffic" },
        when: { input: "type", oneOf: ["A", "AAAA", "CNAME"] },
        consequence: {
            replace: "the record is deleted and created again; resolvers may briefly get no answer",
            delete: "the name stops resolving, so traffic to it stops",
        },
        identify: ["name", "type"],
    },
    // Generated credentials: a replace means a new value.
    {
        type: "random:index/randomPassword:RandomPassword", label: "Generated password",
        ops: { replace: "credential" },
        consequence: {
            replace: "a new password is generated; everything that uses it must pick up the new value (rotation)",
        },
    },
    {
        type: "tls:index/privateKey:PrivateKey", label: "TLS private key",
        ops: { replace: "credential" },
        consequence: {
            replace: "a new key is generated; certificates and clients pinned to the old key stop matching",
        },
    },
];

const BY_TYPE = new Map(STATEFUL_TYPES.map(t => [t.type, t]));

export function statefulType(type: string): StatefulType | undefined {
    return BY_TYPE.get(type);
}

/**
 * Types that serve as replicas of a service. Replacing one that is deleted before its replacement
 * is created takes that replica down; when every replica of a service is replaced so in the same
 * update, the service is out until a new one is up (risks.ts).
 */
export interface ReplicaType {
    type: string;
    /** What one replica is called in the comment. */
    label: string;
    /**
     * The provider always deletes the old one first. `docker.Container` is mapped with
     * `DeleteBeforeReplace: true` (docs/pulumi-docker-provider-facts.md, "Replacement"); for other
     * types only the event log's order of steps tells.
     */
    deletesFirst: boolean;
    /** Labels whose values name the service (replicas with equal values are one service); a resource without them is a service of its own. */
    serviceLabels: string[];
    /** The type of the volumes it mounts (inputs `volumes[].volumeName`, `mounts[].source`), to say whether their data stays. */
    volumeType?: string;
}

export const REPLICA_TYPES: readonly ReplicaType[] = [
    {
        type: "docker:index/container:Container", label: "container", deletesFirst: true,
        serviceLabels: ["slipway.component", "slipway.name", "slipway.role"],
        volumeType: "docker:index/volume:Volume",
    },
];

const REPLICAS_BY_TYPE = new Map(REPLICA_TYPES.map(t => [t.type, t]));

export function replicaType(type: string): ReplicaType | undefined {
    return REPLICAS_BY_TYPE.get(type);
}
