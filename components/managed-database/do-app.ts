import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { DoAppTarget } from "../core/target";
import type { AppSpecPart } from "../targets/app-spec";
import type { DatabaseConnection } from "./index";
import { NormalizedManagedDatabase } from "./normalize";
import { postgresUrl } from "./scripts";

/**
 * A dev database: App Platform owns it, so everything is a bindable variable that App Platform
 * fills in at deploy time (`${db.DATABASE_URL}`); nothing is created here.
 */
function devDatabase(name: string, n: NormalizedManagedDatabase, source: string) {
    const bind = (v: string) => pulumi.output(`\${${name}.${v}}`);
    const part: AppSpecPart = { source, databases: [{ name, engine: "PG", production: false, version: n.version }] };
    const connection: DatabaseConnection = {
        host: bind("HOSTNAME"), port: bind("PORT"), database: bind("DATABASE"), user: bind("USERNAME"),
        password: pulumi.secret(bind("PASSWORD")), url: pulumi.secret(bind("DATABASE_URL")), schemaUrls: {},
    };
    return { part, connection };
}

export function createManagedDatabaseDoApp(
    name: string, parent: pulumi.ComponentResource, n: NormalizedManagedDatabase, target: DoAppTarget,
): { part: AppSpecPart; connection: DatabaseConnection } {
    const source = `ManagedDatabase "${name}"`;
    if (n.do.devDatabase) return devDatabase(name, n, source);

    // Losing a cluster loses its backups too: production blocks deletes and survives `destroy`.
    const keep = { protect: n.production, retainOnDelete: n.production };
    const cluster = new digitalocean.DatabaseCluster(`${name}-cluster`, {
        // A readable, stable name: DO cluster names are account-wide, hence the App prefix.
        name: `${target.appName}-${name}`.slice(0, 63).replace(/-+$/, ""),
        engine: "pg",
        version: n.version,
        size: n.do.size,
        nodeCount: n.do.nodes,
        region: n.do.region,
        maintenanceWindows: n.do.maintenanceWindow ? [n.do.maintenanceWindow] : undefined,
        tags: ["slipway", `slipway-app-${target.appName}`, `slipway-env-${target.environment}`],
    }, { parent, ...keep });
    const db = new digitalocean.DatabaseDb(`${name}-db`, { clusterId: cluster.id, name: n.database }, { parent, ...keep });
    // A renamed user is a deleted role: its grants and owned objects go with it, so production keeps it.
    const user = new digitalocean.DatabaseUser(`${name}-user`, { clusterId: cluster.id, name: n.user }, { parent, protect: n.production });

    const url = (u: pulumi.Input<string>, p: pulumi.Input<string>, host: pulumi.Input<string>, port: pulumi.Input<number>) =>
        pulumi.secret(pulumi.all([u, p, host, port, db.name]).apply(([uu, pp, h, po, d]) =>
            postgresUrl({ user: uu, password: pp ?? "", host: h, port: po, database: d, sslmode: "require" })));

    const schemaUrls: Record<string, pulumi.Output<string>> = {};
    for (const s of n.schemas) {
        const su = new digitalocean.DatabaseUser(`${name}-user-${s.name}`, { clusterId: cluster.id, name: s.user }, { parent, protect: n.production });
        schemaUrls[s.name] = url(su.name, su.password, cluster.host, cluster.port);
    }
    let poolUrl: pulumi.Output<string> | undefined;
    if (n.do.pool) {
        const pool = new digitalocean.DatabaseConnectionPool(`${name}-pool`, {
            clusterId: cluster.id, name: n.do.pool.name, mode: n.do.pool.mode, size: n.do.pool.size,
            dbName: db.name, user: user.name,
        }, { parent });
        // PgBouncer answers on its own port and takes the pool name as the database name.
        poolUrl = pulumi.secret(pulumi.all([user.name, user.password, pool.host, pool.port, pool.name]).apply(([u, p, h, po, pn]) =>
            postgresUrl({ user: u, password: p ?? "", host: h, port: po, database: pn, sslmode: "require" })));
    }

    const part: AppSpecPart = {
        source,
        databases: [{ name, engine: "PG", production: true, clusterName: cluster.name, dbName: db.name, dbUser: user.name }],
        trustedClusterIds: [cluster.id],
    };
    return {
        part,
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
