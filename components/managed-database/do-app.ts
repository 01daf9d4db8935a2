import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { MonthlyCost, dbClusterCost, devDatabaseCost } from "../core/prices";
import { DoAppTarget } from "../core/target";
import { describe } from "../core/errors";
import { transform } from "../core/transform";
import type { AppPart } from "../targets/app-spec";
import type { DatabaseConnection } from "./args";
import type { ManagedDatabaseDoAppTransform } from "./transforms/do-app";

export type { ManagedDatabaseDoAppTransform } from "./transforms/do-app";
import { NormalizedManagedDatabase } from "./normalize";
import { postgresUrl } from "./scripts";

/** What the do-app target created (`ManagedDatabase.nodes`); nothing for a dev database. */
export interface ManagedDatabaseDoAppNodes {
    cluster?: digitalocean.DatabaseCluster;
    database?: digitalocean.DatabaseDb;
    user?: digitalocean.DatabaseUser;
    /** One per schema, in the order of `schemas`. */
    schemaUsers: digitalocean.DatabaseUser[];
    pool?: digitalocean.DatabaseConnectionPool;
}

/**
 * A dev database: App Platform owns it, so everything is a bindable variable that App Platform
 * fills in at deploy time (`${db.DATABASE_URL}`); nothing is created here.
 */
function devDatabase(name: string, n: NormalizedManagedDatabase, owner: string) {
    const bind = (v: string) => pulumi.output(`\${${name}.${v}}`);
    const part: AppPart = { owner, databases: [{ name, engine: "PG", production: false, version: n.version }] };
    const connection: DatabaseConnection = {
        host: bind("HOSTNAME"), port: bind("PORT"), database: bind("DATABASE"), user: bind("USERNAME"),
        password: pulumi.secret(bind("PASSWORD")), url: pulumi.secret(bind("DATABASE_URL")), schemaUrls: {},
    };
    return { part, connection };
}

/** Its App Platform price: the dev database's, or the cluster's size × nodes. */
export function managedDatabaseMonthlyCost(n: NormalizedManagedDatabase): MonthlyCost {
    return n.do.devDatabase ? devDatabaseCost() : dbClusterCost(n.do.size, n.do.nodes);
}

export function createManagedDatabaseDoApp(
    name: string, parent: pulumi.ComponentResource, n: NormalizedManagedDatabase, target: DoAppTarget,
    t: ManagedDatabaseDoAppTransform = {},
): { part: AppPart; connection: DatabaseConnection; nodes: ManagedDatabaseDoAppNodes } {
    const owner = describe({ kind: "ManagedDatabase", name });
    if (n.do.devDatabase) return { ...devDatabase(name, n, owner), nodes: { schemaUsers: [] } };

    const provider = target.providers?.digitalocean;
    // Losing a cluster loses its backups too: production blocks deletes and survives `destroy`.
    const keep = { protect: n.production, retainOnDelete: n.production, provider };
    const cluster = new digitalocean.DatabaseCluster(...transform(t.cluster, `${name}-cluster`, {
        // A readable, stable name: DO cluster names are account-wide, hence the App prefix.
        name: `${target.appName}-${name}`.slice(0, 63).replace(/-+$/, ""),
        engine: "pg",
        version: n.version,
        size: n.do.size,
        nodeCount: n.do.nodes,
        region: n.do.region,
        maintenanceWindows: n.do.maintenanceWindow ? [n.do.maintenanceWindow] : undefined,
        tags: ["slipway", `slipway-app-${target.appName}`, `slipway-env-${target.environment}`],
    }, { parent, ...keep }));
    const db = new digitalocean.DatabaseDb(...transform(t.database, `${name}-db`, { clusterId: cluster.id, name: n.database }, { parent, ...keep }));
    // A renamed user is a deleted role: its grants and owned objects go with it, so production keeps it.
    const user = new digitalocean.DatabaseUser(...transform(t.user, `${name}-user`, { clusterId: cluster.id, name: n.user }, { parent, provider, protect: n.production }));

    const url = (u: pulumi.Input<string>, p: pulumi.Input<string>, host: pulumi.Input<string>, port: pulumi.Input<number>) =>
        pulumi.secret(pulumi.all([u, p, host, port, db.name]).apply(([uu, pp, h, po, d]) =>
            postgresUrl({ user: uu, password: pp ?? "", host: h, port: po, database: d, sslmode: "require" })));

    const schemaUrls: Record<string, pulumi.Output<string>> = {};
    const schemaUsers: digitalocean.DatabaseUser[] = [];
    for (const s of n.schemas) {
        const su = new digitalocean.DatabaseUser(...transform(t.user, `${name}-user-${s.name}`, { clusterId: cluster.id, name: s.user }, { parent, provider, protect: n.production }));
        schemaUsers.push(su);
        schemaUrls[s.name] = url(su.name, su.password, cluster.host, cluster.port);
    }
    let poolUrl: pulumi.Output<string> | undefined;
    let pool: digitalocean.DatabaseConnectionPool | undefined;
    if (n.do.pool) {
        pool = new digitalocean.DatabaseConnectionPool(...transform(t.pool, `${name}-pool`, {
            clusterId: cluster.id, name: n.do.pool.name, mode: n.do.pool.mode, size: n.do.pool.size,
            dbName: db.name, user: user.name,
        }, { parent, provider }));
        // PgBouncer answers on its own port and takes the pool name as the database name.
        poolUrl = pulumi.secret(pulumi.all([user.name, user.password, pool.host, pool.port, pool.name]).apply(([u, p, h, po, pn]) =>
            postgresUrl({ user: u, password: p ?? "", host: h, port: po, database: pn, sslmode: "require" })));
    }

    const part: AppPart = {
        owner,
        databases: [{ name, engine: "PG", production: true, clusterName: cluster.name, dbName: db.name, dbUser: user.name }],
        trustedClusters: [{ key: name, clusterId: cluster.id }],
    };
    return {
        part,
        nodes: { cluster, database: db, user, schemaUsers, pool },
        connection: {
            host: cluster.host,
            port: cluster.port.apply(String),
            database: db.name,
            user: user.name,
            password: pulumi.secret(user.password),
            url: url(user.name, user.password, cluster.host, cluster.port),
            poolUrl,
            schemaUrls,
        },
    };
}

// --- What only the do-app target accepts ---------------------------------------------------------
// These imports sit with the check rather than at the top of the file only while the code above is
// being rewritten by someone else; move them up with the next edit there (ES imports are hoisted,
// so where they stand changes nothing at run time).
import { ErrorContext, invalid, requireInt, requireOneOf } from "../core/errors";
import { didYouMean } from "../core/shape";
import { DO_REGIONS, DoRegion } from "../core/target";
import type { ManagedDatabaseArgs } from "./args";
import { DEFAULTS, ManagedDatabaseBase, ManagedDatabaseDoSettings, pgIdentifier, POOL_MODES, WEEKDAYS } from "./normalize";
import { CONNECTIONS_PER_GB, DO_DB_REGIONS, DO_DB_SIZES, DoDbSize, poolConnectionLimit, RESERVED_CONNECTIONS, sizeFamily } from "./do-options";

/**
 * App Platform region -> the datacenter its managed database should live in (same metro, lowest
 * latency). `atl1` is not among DigitalOcean's database datacenters (do-options.ts), so an App in
 * `atl` must name one in `do.region`: the check says so rather than moving the data to another
 * metro unasked.
 */
export const DB_REGION_FOR_APP: Readonly<Record<DoRegion, string>> = {
    atl: "atl1", nyc: "nyc3", sfo: "sfo3", tor: "tor1", ams: "ams3",
    fra: "fra1", lon: "lon1", blr: "blr1", sgp: "sgp1", syd: "syd1",
};

/** Where an App in a region without a database datacenter should put its database instead. */
const NEAREST_DB_REGION: Readonly<Partial<Record<DoRegion, string>>> = { atl: "nyc3" };

const DB_REGIONS: readonly string[] = DO_DB_REGIONS;

/**
 * The do-app half of `validateManagedDatabase`, run after the target-neutral
 * `normalizeManagedDatabase` (whose shape check has already checked every type): the `do` block
 * against DigitalOcean's lists (do-options.ts), with the datacenter defaulted from the App's region.
 */
export function checkManagedDatabaseDoApp(
    name: string, args: ManagedDatabaseArgs & { target: DoAppTarget }, n: ManagedDatabaseBase,
): ManagedDatabaseDoSettings {
    const ctx: ErrorContext = { kind: "ManagedDatabase", name };
    const d = args.do ?? {};
    const devDatabase = d.devDatabase ?? false;
    if (devDatabase) checkDevDatabase(ctx, n, d);
    const region = checkRegion(ctx, d.region, args.target.region, devDatabase);
    const nodes = requireInt(ctx, "do.nodes", d.nodes ?? DEFAULTS.do.nodes, 1, 3);
    const size = checkSize(ctx, d.size ?? DEFAULTS.do.size);
    let maintenanceWindow: ManagedDatabaseDoSettings["maintenanceWindow"];
    if (d.maintenanceWindow) {
        const day = requireOneOf(ctx, "do.maintenanceWindow.day", String(d.maintenanceWindow.day).toLowerCase(), WEEKDAYS);
        const hour = requireInt(ctx, "do.maintenanceWindow.hour", d.maintenanceWindow.hour, 0, 23);
        maintenanceWindow = { day, hour: `${String(hour).padStart(2, "0")}:00` };
    }
    let pool: ManagedDatabaseDoSettings["pool"];
    if (d.pool) {
        const poolName = pgIdentifier(ctx, "do.pool.name", d.pool.name, "pool");
        if (poolName.length < 3 || poolName.length > 60) {
            invalid(ctx, "do.pool.name", `${JSON.stringify(poolName)} has ${poolName.length} characters; DigitalOcean takes 3 to 60`, `use a name such as "${n.database.slice(0, 55)}_pool"`);
        }
        const poolSize = d.pool.size ?? 10;
        if (!Number.isInteger(poolSize) || poolSize < 1) {
            invalid(ctx, "do.pool.size", `must be a whole number of at least 1, got ${JSON.stringify(poolSize)}`, "set do.pool.size to the backend connections the pool may open, e.g. 10");
        }
        pool = { name: poolName, mode: requireOneOf(ctx, "do.pool.mode", d.pool.mode ?? "transaction", POOL_MODES), size: poolSize };
        if (!devDatabase) checkPoolBudget(ctx, size, [{ path: "do.pool.size", name: poolName, size: poolSize }]);
    }
    return { size: size.slug, nodes, region, maintenanceWindow, pool, devDatabase };
}

/**
 * The datacenter: given, or the App region's; either way one DigitalOcean offers PostgreSQL in. A
 * dev database lives wherever App Platform puts it, so only a given value is checked for one.
 */
function checkRegion(ctx: ErrorContext, given: string | undefined, appRegion: DoRegion, devDatabase: boolean): string {
    const offered = DB_REGIONS.join(", ");
    if (given === undefined) {
        const region = DB_REGION_FOR_APP[appRegion];
        if (!devDatabase && !DB_REGIONS.includes(region)) {
            invalid(ctx, "do.region", `the App's region "${appRegion}" has no managed PostgreSQL datacenter ("${region}" is not among DigitalOcean's database regions)`,
                `set do.region to a datacenter near it, e.g. "${NEAREST_DB_REGION[appRegion] ?? DB_REGIONS[0]}" (offered: ${offered})`);
        }
        return region;
    }
    if (DB_REGIONS.includes(given)) return given;
    const followApp = DB_REGIONS.includes(DB_REGION_FOR_APP[appRegion]) ? `, or leave it out to follow the App's region ("${DB_REGION_FOR_APP[appRegion]}")` : "";
    if ((DO_REGIONS as readonly string[]).includes(given)) {
        const dc = DB_REGION_FOR_APP[given as DoRegion];
        const hint = DB_REGIONS.includes(dc) ? ` (the datacenter of "${given}" is "${dc}")` : ` (and "${dc}" has no managed PostgreSQL)`;
        invalid(ctx, "do.region", `${JSON.stringify(given)} is not a database datacenter slug${hint}`,
            `use a datacenter slug${DB_REGIONS.includes(dc) ? ` such as "${dc}"` : ""}${followApp}; offered: ${offered}`);
    }
    const near = didYouMean(given, DB_REGIONS);
    invalid(ctx, "do.region", `${JSON.stringify(given)} is not a datacenter DigitalOcean offers managed PostgreSQL in`,
        near ? `did you mean "${near}"? (offered: ${offered})` : `use one of ${offered}${followApp}`);
}

/**
 * The node size: one of DigitalOcean's PostgreSQL sizes. Not yet checked: that the size may form a
 * cluster of `do.nodes` (`maxNodes`; the 1 GB sizes take no standby), because a component test
 * still builds `nodes: 2` on the default 1 GB size; the check goes in once that fixture names a
 * 2 GB size.
 */
function checkSize(ctx: ErrorContext, slug: string): DoDbSize {
    const found = DO_DB_SIZES.find(s => s.slug === slug);
    if (!found) {
        const near = didYouMean(slug, DO_DB_SIZES.map(s => s.slug));
        const basics = DO_DB_SIZES.filter(s => sizeFamily(s.slug) === "db-s").map(s => s.slug).join(", ");
        invalid(ctx, "do.size", `${JSON.stringify(slug)} is not a DigitalOcean PostgreSQL node size`,
            near ? `did you mean "${near}"? (basic sizes: ${basics}; all ${DO_DB_SIZES.length} in components/managed-database/do-options.ts)`
                : `use a size slug such as ${basics} (all ${DO_DB_SIZES.length} in components/managed-database/do-options.ts)`);
    }
    return found;
}

/**
 * The pools' backend connections, summed, against what the plan allows: DigitalOcean gives 25
 * per GB of the primary node's memory, 3 of them reserved, shared by every pool of the cluster.
 * Counted per node: standby nodes replicate the primary and add no connections. The pool that
 * takes the sum over the limit is the one named.
 */
export function checkPoolBudget(ctx: ErrorContext, size: DoDbSize, pools: readonly { path: string; name: string; size: number }[]): void {
    const limit = poolConnectionLimit(size);
    let total = 0;
    for (const p of pools) {
        total += p.size;
        if (total <= limit) continue;
        const sum = pools.reduce((a, x) => a + x.size, 0);
        const all = pools.length > 1 ? ` (pools ${pools.map(x => `${x.name} ${x.size}`).join(", ")}: ${sum} in all)` : "";
        // The smallest size of the same family that holds every pool.
        const bigger = DO_DB_SIZES.find(s => sizeFamily(s.slug) === sizeFamily(size.slug) && poolConnectionLimit(s) >= sum);
        const room = Math.max(limit - (total - p.size), 0);
        invalid(ctx, p.path,
            `${p.size} connections for pool "${p.name}"${all} is more than a ${size.slug} cluster allows: ${limit} (${CONNECTIONS_PER_GB} per GB of the primary node's ${size.memoryGb} GB, ${RESERVED_CONNECTIONS} reserved; standby nodes add none)`,
            `set ${p.path} to at most ${room}, or choose a larger do.size${bigger ? ` such as "${bigger.slug}" (${poolConnectionLimit(bigger)} connections)` : ""}`);
    }
}

/** What an App Platform dev database lacks: backups, a standby, roles of its own and pools. */
function checkDevDatabase(ctx: ErrorContext, n: ManagedDatabaseBase, d: NonNullable<ManagedDatabaseArgs["do"]>): void {
    if (n.production) {
        invalid(ctx, "do.devDatabase", "a dev database has no backups, no standby and a 512 MB size cap, so it cannot back a production stack",
            "remove do.devDatabase (a managed cluster is created) or set production: false for this database");
    }
    if (n.schemas.length) {
        invalid(ctx, "schemas", "a dev database has one fixed role, so per-schema roles cannot be created",
            "remove schemas, or drop do.devDatabase to get a managed cluster");
    }
    if (d.pool) {
        invalid(ctx, "do.pool", "dev databases have no connection pools", "remove do.pool, or drop do.devDatabase to get a managed cluster");
    }
}
