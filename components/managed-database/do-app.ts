import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { DoAppTarget } from "../core/target";
import { describe } from "../core/errors";
import { Transform, transform } from "../core/transform";
import type { AppPart } from "../targets/app-spec";
import type { DatabaseConnection } from "./index";
import { NormalizedManagedDatabase } from "./normalize";
import { postgresUrl } from "./scripts";

/** `transform` keys of the do-app target (see `ManagedDatabaseArgs.transform`); a dev database creates none of them. */
export interface ManagedDatabaseDoAppTransform {
    /** The `digitalocean.DatabaseCluster` (`<name>-cluster`). @example `{ storageSizeMib: "20480" }` */
    cluster?: Transform<digitalocean.DatabaseClusterArgs>;
    /** The `digitalocean.DatabaseDb` (`<name>-db`). @example `(args, opts) => { opts.retainOnDelete = true; }` */
    database?: Transform<digitalocean.DatabaseDbArgs>;
    /**
     * Each `digitalocean.DatabaseUser`: the application role (`<name>-user`) and one per schema
     * (`<name>-user-<schema>`). @example `(args, opts, name) => { if (name.endsWith("-user")) opts.retainOnDelete = true; }`
     */
    user?: Transform<digitalocean.DatabaseUserArgs>;
    /** The `digitalocean.DatabaseConnectionPool` (`<name>-pool`), with `do.pool`. @example `{ size: 20 }` */
    pool?: Transform<digitalocean.DatabaseConnectionPoolArgs>;
}

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
import { DO_REGIONS, DoRegion } from "../core/target";
import type { ManagedDatabaseArgs } from "./index";
import { DEFAULTS, ManagedDatabaseBase, ManagedDatabaseDoSettings, pgIdentifier, POOL_MODES, WEEKDAYS } from "./normalize";

/** App Platform region -> the datacenter its managed database should live in (same metro, lowest latency). */
export const DB_REGION_FOR_APP: Readonly<Record<DoRegion, string>> = {
    atl: "atl1", nyc: "nyc3", sfo: "sfo3", tor: "tor1", ams: "ams3",
    fra: "fra1", lon: "lon1", blr: "blr1", sgp: "sgp1", syd: "syd1",
};

/**
 * The do-app half of `validateManagedDatabase`, run after the target-neutral
 * `normalizeManagedDatabase`: the `do` block, with the datacenter defaulted from the App's region.
 */
export function checkManagedDatabaseDoApp(
    name: string, args: ManagedDatabaseArgs & { target: DoAppTarget }, n: ManagedDatabaseBase,
): ManagedDatabaseDoSettings {
    const ctx: ErrorContext = { kind: "ManagedDatabase", name };
    const d = args.do ?? {};
    const devDatabase = d.devDatabase ?? false;
    if (devDatabase) checkDevDatabase(ctx, n, d);
    const region = d.region ?? DB_REGION_FOR_APP[args.target.region];
    if (!/^[a-z]{3}\d$/.test(region)) {
        const hint = (DO_REGIONS as readonly string[]).includes(region) ? ` (the datacenter of "${region}" is "${DB_REGION_FOR_APP[region as DoRegion]}")` : "";
        invalid(ctx, "do.region", `${JSON.stringify(region)} is not a database datacenter slug${hint}`,
            `use a slug such as "fra1", or leave it out to follow the App's region`);
    }
    const size = d.size ?? DEFAULTS.do.size;
    if (!/^db-[a-z0-9-]+$/.test(size)) {
        invalid(ctx, "do.size", `${JSON.stringify(size)} is not a database size slug`, `use a slug such as "${DEFAULTS.do.size}"`);
    }
    const nodes = requireInt(ctx, "do.nodes", d.nodes ?? DEFAULTS.do.nodes, 1, 3);
    let maintenanceWindow: ManagedDatabaseDoSettings["maintenanceWindow"];
    if (d.maintenanceWindow) {
        const day = requireOneOf(ctx, "do.maintenanceWindow.day", String(d.maintenanceWindow.day).toLowerCase(), WEEKDAYS);
        const hour = requireInt(ctx, "do.maintenanceWindow.hour", d.maintenanceWindow.hour, 0, 23);
        maintenanceWindow = { day, hour: `${String(hour).padStart(2, "0")}:00` };
    }
    let pool: ManagedDatabaseDoSettings["pool"];
    if (d.pool) {
        pool = {
            name: pgIdentifier(ctx, "do.pool.name", d.pool.name, "pool"),
            mode: requireOneOf(ctx, "do.pool.mode", d.pool.mode ?? "transaction", POOL_MODES),
            // DigitalOcean caps the sum of pool sizes by the cluster's connection limit (about 22 on the smallest size).
            size: requireInt(ctx, "do.pool.size", d.pool.size ?? 10, 1, 500),
        };
    }
    return { size, nodes, region, maintenanceWindow, pool, devDatabase };
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
