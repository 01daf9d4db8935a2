// ManagedDatabase's public Args types, apart from index.ts so normalize.ts and the target files can
// import them without an import cycle.
import type * as pulumi from "@pulumi/pulumi";
import type { Target } from "../core/target";
import type { ManagedDatabaseDockerTransform } from "./transforms/docker";
import type { ManagedDatabaseDoAppTransform } from "./transforms/do-app";

/**
 * Per child resource, args to merge over the ones ManagedDatabase builds, or a function that edits
 * copies of them and of the resource options (see `Transform` in core/transform.ts). Keys of both
 * targets: docker `image`, `container`, `volume`, `backup`, `backupVolume`, `backupImage`, `password`; do-app
 * `cluster`, `database`, `user`, `pool`.
 */
export type ManagedDatabaseTransform = ManagedDatabaseDockerTransform & ManagedDatabaseDoAppTransform;

/** `ManagedDatabaseArgs.backup` (Docker). */
export interface BackupArgs {
    /** Minutes between dumps, 5 to 10080. @default `1440` */
    intervalMinutes?: number;
    /** Local dumps kept on the backups volume, 1 to 365. @default `7` */
    keep?: number;
    /**
     * The sidecar's image. It needs `pg_dump` of `version` (or newer) and, with `offsite`, `age`
     * and `rclone` (Debian bookworm packages). docker/pgbackup is such an image: the server
     * image plus those two (`docker build --build-arg BASE=postgres:16-bookworm docker/pgbackup`).
     * @default the server image; with `offsite`, `"ghcr.io/slipway/slipway-pgbackup:<version>"`
     * (published by the release workflow; until then build docker/pgbackup from the package)
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
