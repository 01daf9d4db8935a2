import * as pulumi from "@pulumi/pulumi";
import { plainEnv } from "../core/env";
import { Link, LinkRequest, Linkable } from "../core/link";
import { describe } from "../core/errors";
import { Target, unknownTarget } from "../core/target";
import type { AppContributor, AppPart } from "../targets/app-spec";
import type { ManagedDatabaseDockerNodes, ManagedDatabaseDockerTransform } from "./docker";
import { checkManagedDatabaseDocker, createManagedDatabaseDocker } from "./docker";
import type { ManagedDatabaseDoAppNodes, ManagedDatabaseDoAppTransform } from "./do-app";
import { checkManagedDatabaseDoApp, createManagedDatabaseDoApp } from "./do-app";
import { normalizeManagedDatabase, NormalizedManagedDatabase } from "./normalize";

/**
 * Per child resource, args to merge over the ones ManagedDatabase builds, or a function that edits
 * copies of them and of the resource options (see `Transform` in core/transform.ts). Keys of both
 * targets: docker `image`, `container`, `volume`, `backup`, `backupVolume`, `backupImage`, `password`; do-app
 * `cluster`, `database`, `user`, `pool`.
 */
export type ManagedDatabaseTransform = ManagedDatabaseDockerTransform & ManagedDatabaseDoAppTransform;

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

/** `ManagedDatabaseArgs.backup` (Docker). */
export interface BackupArgs {
    /** Minutes between dumps, 5 to 10080. @default `1440` */
    intervalMinutes?: number;
    /** Local dumps kept on the backups volume, 1 to 365. @default `7` */
    keep?: number;
    /**
     * The sidecar's image. It needs `pg_dump` of `version` (or newer) and, with `offsite`, `age`
     * and `rclone` (Debian bookworm packages). images/pgbackup is such an image: the server
     * image plus those two (`docker build --build-arg BASE=postgres:16-bookworm images/pgbackup`).
     * @default the server image; with `offsite`, `"ghcr.io/slipway/slipway-pgbackup:<version>"`
     * (published by the release workflow; until then build images/pgbackup from the package)
     * @example `"registry.example.com/pgbackup:16"`
     */
    image?: string;
    /** Copies of each dump in S3-compatible object storage, encrypted on the host before upload. */
    offsite?: OffsiteBackupArgs;
}

/**
 * Off-site copies of the backup sidecar's dumps: each dump is encrypted with `age` to `recipient`
 * and uploaded to `s3://<bucket>/<prefix><database>-<UTC time>.dump.age` (DigitalOcean Spaces,
 * Cloudflare R2, AWS S3, MinIO, any S3 API). The private identity stays with you: restore with
 * `npm run restore -- <stack>` (README, "Backups"). A failed upload (wrong key, missing bucket)
 * makes the sidecar unhealthy and is logged; the bucket is never created by the sidecar.
 */
export interface OffsiteBackupArgs {
    /**
     * The S3 API endpoint, an `https://` URL. `http://` is accepted only for loopback and
     * single-label hosts (a test server on the stack's own Docker network): elsewhere the keys
     * and the encrypted dumps would cross the network in the clear.
     * @example `"https://fra1.digitaloceanspaces.com"`
     */
    endpoint: string;
    /** An existing bucket; the sidecar never creates one. @example `"acme-db-backups"` */
    bucket: string;
    /** The signing region. @default `"us-east-1"` @example `"auto"` (R2) */
    region?: string;
    /**
     * Key prefix of the uploaded objects, `/`-separated, ending in `/`.
     * @default `"<prefix>-<name>/"` (the stack's name prefix and the component name)
     * @example `"prod/shop/"`
     */
    prefix?: string;
    /** The access key id (secret: an uploaded file, never env). @example `config.requireSecret("backupS3KeyId")` */
    accessKeyId: pulumi.Input<string>;
    /** The secret access key (secret: an uploaded file, never env). @example `config.requireSecret("backupS3Secret")` */
    secretAccessKey: pulumi.Input<string>;
    /**
     * The `age` public key dumps are encrypted to (`age-keygen -y identity.txt` prints it). Not a
     * secret; keep the identity (private key) off the server.
     * @example `"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"`
     */
    recipient: string;
    /** Off-site dumps kept, 1 to 3650; older ones under `prefix` are deleted. @default `30` */
    keep?: number;
    /**
     * Path-style URLs (`https://host/bucket/key`), which MinIO and most self-hosted servers need.
     * AWS, Spaces and R2 also take virtual-hosted ones (`https://bucket.host/key`).
     * @default `false`
     */
    forcePathStyle?: boolean;
}

export interface ManagedDatabaseArgs {
    /** Where the database runs. */
    target: Target;
    /**
     * PostgreSQL major version. PostgreSQL cannot open another major's data files, so on Docker
     * the major is part of the data volume's name (`<prefix>-<name>-data-pg16`): changing it
     * replaces the volume with a NEW, EMPTY one. A protected (production) volume makes that fail
     * at `pulumi up`; elsewhere the preview flags it as data loss. Upgrade with
     * `pg_dump`/`pg_restore` (the backup volume's dumps restore into a newer major) first.
     * @default `"16"`
     * @example `"17"`
     */
    version?: string;
    /**
     * The application database.
     * @default the component name with `-` turned into `_`
     * @example `"shop"`
     */
    database?: string;
    /**
     * The application role. On Docker it is the image's `POSTGRES_USER` (a superuser of its own
     * container); on DigitalOcean it is a `DatabaseUser` without admin rights.
     * @default `"app"`
     * @example `"shop_api"`
     */
    user?: string;
    /**
     * Extensions created on first boot (Docker): the init script in /docker-entrypoint-initdb.d/
     * runs ONLY when the data volume is empty, so adding one later needs a migration. On
     * DigitalOcean always use a migration (`CREATE EXTENSION`): the provider has no SQL resource.
     * @default `[]`
     * @example `["postgis", "pgcrypto"]`
     */
    extensions?: string[];
    /**
     * One schema and one role per service. On Docker the role owns its schema and has it as
     * `search_path` (first boot only, like `extensions`); on DigitalOcean the roles are created
     * and the schemas and grants are left to migrations run as the admin.
     * A service linked to this database whose name equals a schema name gets that schema's URL.
     * @default `[]`
     * @example `[{ name: "core" }, { name: "media", user: "media_svc" }]`
     */
    schemas?: { name: string; /** @default the schema name */ user?: string }[];
    /**
     * Overrides the target's production flag: production protects and retains the data.
     * @default `target.production`
     */
    production?: boolean;
    /**
     * Docker: a sidecar that writes `pg_dump -Fc` files to the `<prefix>-<name>-backups` volume
     * every `intervalMinutes` and keeps the newest `keep` dumps; with `offsite`, it also encrypts
     * each dump with `age` and uploads it to S3-compatible storage. `false` turns it off.
     * DigitalOcean clusters have their own daily backups and point-in-time recovery.
     * @default daily, keep 7, in production; off otherwise
     * @example `{ intervalMinutes: 360, keep: 28 }`
     */
    backup?: BackupArgs | false;
    /**
     * Docker: the server image. Its tag's major must match `version`. Alpine images are detected
     * (their `postgres` uid is 70, not 999).
     * @default `"postgres:<version>-bookworm"`
     * @example `"postgis/postgis:16-3.4"`
     */
    image?: string;
    /**
     * Docker: an existing password (e.g. from a config secret) instead of a generated one.
     *
     * **Set once.** Postgres reads it (POSTGRES_PASSWORD_FILE) only when it initialises an empty
     * data volume. Changing it later re-creates the server with the new file and hands the new
     * value to every linked service (DATABASE_URL) and the backup sidecar, but the role in the
     * database keeps the OLD password: all of them then fail to authenticate. To change it, first
     * set it in the running server (`docker exec -it <server> psql -U <user> -d <database>`, then
     * `\password <user>`), then change this value and run `pulumi up`. The same holds for
     * replacing a generated password (e.g. by deleting its RandomPassword from state).
     * @default a generated 32-character alphanumeric password
     * @example `config.requireSecret("dbPassword")`
     */
    password?: pulumi.Input<string>;
    /**
     * Docker: memory limit of the server container, in MB.
     * @default `512`
     */
    memoryMb?: number;
    /**
     * Docker: publish 5432 on `target.publishAddress` at this port, for local tools (psql, GUIs).
     * Not published by default: services reach it over the private network.
     * @default not published
     * @example `15432`
     */
    publishPort?: number;
    /** DigitalOcean settings. */
    do?: {
        /** @default `"db-s-1vcpu-1gb"` */
        size?: string;
        /** Nodes, standbys included. @default `1` @example `2` */
        nodes?: number;
        /**
         * Datacenter slug (not an App region).
         * @default the App region's datacenter, e.g. `"fra1"` for `"fra"`
         */
        region?: string;
        /** Weekly maintenance start in UTC. @default DigitalOcean picks @example `{ day: "sunday", hour: 3 }` */
        maintenanceWindow?: { day: string; hour: number };
        /**
         * A PgBouncer pool; linked services then connect through it. Transaction mode breaks
         * session features (prepared statements without the simple protocol, advisory locks).
         * @default none
         * @example `{ name: "app_pool", mode: "transaction", size: 10 }`
         */
        pool?: { name: string; /** @default `"transaction"` */ mode?: "transaction" | "session" | "statement"; /** @default `10` */ size?: number };
        /**
         * Use an App Platform dev database (about $7 a month, no backups) instead of a cluster.
         * Rejected in production.
         * @default `false`
         */
        devDatabase?: boolean;
    };
    /**
     * Transform how this component creates its underlying resources, for what the args above do
     * not cover: per child, args merged over the component's (shallow), or a function editing
     * copies of the args and options in place. Docker: `image`, `container` (the server),
     * `volume` (data), `backup` (the sidecar), `backupVolume`, `backupImage`, `password` (each generated one);
     * do-app: `cluster`, `database`, `user` (each role), `pool`. A key of the other target is
     * accepted and unused, so a program moves between targets unchanged; logical names never
     * change. The connection outputs (host, user, url) still come from the args above.
     * @default none
     * @example `{ container: (args) => { args.shmSize = 1024; }, cluster: { storageSizeMib: "20480" } }`
     */
    transform?: ManagedDatabaseTransform;
}

/** What the target builders hand back; every field an Output so callers need not care which target. */
export interface DatabaseConnection {
    host: pulumi.Output<string>;
    /** A string: on a dev database it is the bindable `${db.PORT}`. */
    port: pulumi.Output<string>;
    database: pulumi.Output<string>;
    user: pulumi.Output<string>;
    /** Secret. */
    password: pulumi.Output<string>;
    /** Secret. */
    url: pulumi.Output<string>;
    /** Secret; only when a pool is configured. */
    poolUrl?: pulumi.Output<string>;
    /** Secret URLs per schema name. */
    schemaUrls: Record<string, pulumi.Output<string>>;
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
    private readonly n: NormalizedManagedDatabase;

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
        this.registerOutputs({
            host: this.host, port: this.port, database: this.database, user: this.user,
            password: this.password, url: this.url, poolUrl: this.poolUrl, schemaUrls: this.schemaUrls,
        });
    }

    /** See {@link databaseLink}. */
    link({ service }: LinkRequest): Link {
        return databaseLink(this.n, this, service, this.nodes.container);
    }
}

/**
 * DATABASE_URL (secret) plus the plain PG* parts for tools that read them. PGPASSWORD is left
 * out on purpose: the URL already carries it and one secret is easier to rotate than two.
 * A service named like one of `schemas` gets that schema's role instead of the main one.
 */
function databaseLink(n: NormalizedManagedDatabase, c: DatabaseConnection, service: string, server?: pulumi.Resource): Link {
    const schema = n.schemas.find(s => s.name === service);
    // Already secret, and one object per URL: App Platform merges equal secrets by identity.
    const url = schema ? c.schemaUrls[schema.name]! : c.poolUrl ?? c.url;
    return {
        // docker: created after a healthy server, by dependsOn rather than through an output, so
        // a server replacement leaves the linked replicas alone.
        docker: server ? { dependsOn: [server] } : undefined,
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
    return { linkLabel: describe({ kind: "ManagedDatabase", name }), link: ({ service }) => databaseLink(n, c, service) };
}
