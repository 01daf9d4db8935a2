import * as pulumi from "@pulumi/pulumi";
import { MonthlyCost, targetCost } from "../core/prices";
import { managedDatabaseMonthlyCost } from "./do-app";
import { plainEnv } from "../core/env";
import { BackupBeforeMigration, Link, LinkRequest, Linkable } from "../core/link";
import { describe } from "../core/errors";
import { unknownTarget } from "../core/target";
import type { AppContributor, AppPart } from "../targets/app-spec";
import type { DatabaseConnection, ManagedDatabaseArgs } from "./args";
import type { ManagedDatabaseDockerNodes } from "./docker";
import { checkManagedDatabaseDocker, createManagedDatabaseDocker } from "./docker";
import type { ManagedDatabaseDoAppNodes } from "./do-app";
import { checkManagedDatabaseDoApp, createManagedDatabaseDoApp } from "./do-app";
import { normalizeManagedDatabase, NormalizedManagedDatabase } from "./normalize";

export type { BackupArgs, DatabaseConnection, ManagedDatabaseArgs, ManagedDatabaseTransform, OffsiteBackupArgs } from "./args";

/** The resources a ManagedDatabase created (`transform` changes how they are made). */
export interface ManagedDatabaseNodes {
    /** docker: the server image (`docker.RemoteImage`). */
    readonly image?: ManagedDatabaseDockerNodes["image"];
    /** docker: the server `docker.Container`. */
    readonly container?: ManagedDatabaseDockerNodes["container"];
    /** docker: the data `docker.Volume`. */
    readonly volume?: ManagedDatabaseDockerNodes["volume"];
    /** docker, with `backup`: the backup sidecar `docker.Container`. */
    readonly backup?: ManagedDatabaseDockerNodes["backup"];
    /** docker, with `backup`: the backups `docker.Volume`. */
    readonly backupVolume?: ManagedDatabaseDockerNodes["backupVolume"];
    /** docker, with a `backup.image` other than the server's: the sidecar's `docker.RemoteImage`. */
    readonly backupImage?: ManagedDatabaseDockerNodes["backupImage"];
    /** docker: the generated `random.RandomPassword`s (main unless `password` is given, then one per schema); empty on do-app. */
    readonly passwords: readonly ManagedDatabaseDockerNodes["passwords"][number][];
    /** do-app (not a dev database): the `digitalocean.DatabaseCluster`. */
    readonly cluster?: ManagedDatabaseDoAppNodes["cluster"];
    /** do-app (not a dev database): the `digitalocean.DatabaseDb`. */
    readonly database?: ManagedDatabaseDoAppNodes["database"];
    /** do-app (not a dev database): the application role's `digitalocean.DatabaseUser`. */
    readonly user?: ManagedDatabaseDoAppNodes["user"];
    /** do-app: one `digitalocean.DatabaseUser` per schema, in the order of `schemas`; empty on docker. */
    readonly schemaUsers: readonly ManagedDatabaseDoAppNodes["schemaUsers"][number][];
    /** do-app, with `do.pool`: the `digitalocean.DatabaseConnectionPool`. */
    readonly pool?: ManagedDatabaseDoAppNodes["pool"];
}

/**
 * Everything the ManagedDatabase constructor checks before it registers anything: the
 * target-neutral `normalizeManagedDatabase`, then the settings only the chosen target reads
 * (docker.ts, do-app.ts). Pure, so a stack can run it for every component first (stack/preflight.ts does).
 */
export function validateManagedDatabase(name: string, args: ManagedDatabaseArgs): NormalizedManagedDatabase {
    const n = normalizeManagedDatabase(name, args);
    const target = args.target;
    switch (target.kind) {
        case "docker":
            // No `do` on docker: see NormalizedManagedDatabase for why its type still claims one.
            return { ...n, docker: checkManagedDatabaseDocker(name, { ...args, target }, n) } as NormalizedManagedDatabase;
        case "do-app": return { ...n, do: checkManagedDatabaseDoApp(name, { ...args, target }, n) };
        default: return unknownTarget(target);
    }
}

/**
 * PostgreSQL: a container with a data volume (and optional backup sidecar) on Docker, a managed
 * cluster (or a dev database) on DigitalOcean. Link it to an ApiService to hand it DATABASE_URL.
 */
export class ManagedDatabase extends pulumi.ComponentResource implements Linkable, AppContributor {
    readonly host: pulumi.Output<string>;
    readonly port: pulumi.Output<string>;
    readonly database: pulumi.Output<string>;
    readonly user: pulumi.Output<string>;
    readonly password: pulumi.Output<string>;
    readonly url: pulumi.Output<string>;
    readonly poolUrl?: pulumi.Output<string>;
    readonly schemaUrls: Record<string, pulumi.Output<string>>;
    /** do-app: the database's entry in the App and the cluster the App must be trusted by. */
    readonly appPart?: AppPart;
    readonly linkLabel: string;
    /** The underlying resources this component created: the ones `transform` reaches. */
    readonly nodes: ManagedDatabaseNodes;
    /** USD per month with its line items (components/core/prices.ts); on docker the host's price covers it. */
    readonly monthlyCost: pulumi.Output<MonthlyCost>;
    private readonly n: NormalizedManagedDatabase;
    private readonly backupBeforeMigration?: BackupBeforeMigration;

    constructor(name: string, args: ManagedDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        const n = validateManagedDatabase(name, args);
        super("slipway:database:ManagedDatabase", name, {}, opts);
        this.n = n;
        this.linkLabel = describe({ kind: "ManagedDatabase", name });
        let c: DatabaseConnection;
        switch (args.target.kind) {
            case "docker": {
                const built = createManagedDatabaseDocker(name, this, n, args.target, args.password, args.transform);
                c = built.connection;
                this.backupBeforeMigration = built.backupBeforeMigration;
                this.nodes = { ...built.nodes, schemaUsers: [] };
                break;
            }
            case "do-app": {
                const built = createManagedDatabaseDoApp(name, this, n, args.target, args.transform);
                c = built.connection;
                this.appPart = built.part;
                this.nodes = { ...built.nodes, passwords: [] };
                break;
            }
            default: unknownTarget(args.target);
        }
        this.host = c.host;
        this.port = c.port;
        this.database = c.database;
        this.user = c.user;
        this.password = c.password;
        this.url = c.url;
        this.poolUrl = c.poolUrl;
        this.schemaUrls = c.schemaUrls;
        this.monthlyCost = pulumi.output(targetCost(args.target, () => managedDatabaseMonthlyCost(n)));
        this.registerOutputs({
            monthlyCost: this.monthlyCost,
            host: this.host, port: this.port, database: this.database, user: this.user,
            password: this.password, url: this.url, poolUrl: this.poolUrl, schemaUrls: this.schemaUrls,
        });
    }

    /** See {@link databaseLink}. */
    link({ service }: LinkRequest): Link {
        return databaseLink(this.n, this, service, this.nodes.container, this.backupBeforeMigration);
    }
}

/**
 * DATABASE_URL (secret) plus the plain PG* parts for tools that read them. PGPASSWORD is left
 * out on purpose: the URL already carries it and one secret is easier to rotate than two.
 * A service named like one of `schemas` gets that schema's role instead of the main one.
 */
function databaseLink(
    n: NormalizedManagedDatabase, c: DatabaseConnection, service: string, server?: pulumi.Resource, backupBeforeMigration?: BackupBeforeMigration,
): Link {
    const schema = n.schemas.find(s => s.name === service);
    // Already secret, and one object per URL: App Platform merges equal secrets by identity.
    const url = schema ? c.schemaUrls[schema.name]! : c.poolUrl ?? c.url;
    return {
        // docker: created after a healthy server, by dependsOn rather than through an output, so
        // a server replacement leaves the linked replicas alone.
        docker: server || backupBeforeMigration
            ? { ...(server ? { dependsOn: [server] } : {}), ...(backupBeforeMigration ? { backupBeforeMigration } : {}) }
            : undefined,
        env: [
            { key: "DATABASE_URL", value: url, secret: true },
            plainEnv("PGDATABASE", c.database),
            plainEnv("PGHOST", c.host),
            plainEnv("PGPORT", c.port),
            plainEnv("PGUSER", schema ? pulumi.output(schema.user) : c.user),
        ],
    };
}

/**
 * What linking the database named `name` gives a service, with placeholder values and no
 * resources: a stack's preflight validates each service against it before anything registers.
 */
export function managedDatabaseLinkStandIn(name: string, n: NormalizedManagedDatabase): Linkable {
    const plain = pulumi.output("preflight");
    const secret = pulumi.secret("preflight");
    const c: DatabaseConnection = {
        host: plain, port: plain, database: plain, user: plain, password: secret, url: secret,
        schemaUrls: Object.fromEntries(n.schemas.map(s => [s.name, secret])),
    };
    // The same answer to "does it take a dump before a migration?" as the real one, for the service's checks.
    const backup: BackupBeforeMigration | undefined = n.docker?.backup
        ? { database: name, job: () => { throw new Error("preflight stand-in: no backup job"); } }
        : undefined;
    return { linkLabel: describe({ kind: "ManagedDatabase", name }), link: ({ service }) => databaseLink(n, c, service, undefined, backup) };
}
