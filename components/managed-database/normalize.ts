// Pure, target-neutral validation and defaults for ManagedDatabase: the names, version, extensions
// and schemas both targets create. What only one target reads (the container's image, memory,
// port and backups on docker; the `do` block on do-app) is checked in that target's file.
import { requireDoName, requireTarget } from "../core/checks";
import { ErrorContext, invalid, requireOneOf } from "../core/errors";
import { checkShape, shape, Shape } from "../core/shape";
import { checkTransform } from "../core/transform";
import type { BackupArgs, ManagedDatabaseArgs, ManagedDatabaseTransform, OffsiteBackupArgs } from "./args";

export const DEFAULTS = {
    version: "16",
    user: "app",
    memoryMb: 512,
    port: 5432,
    backup: { intervalMinutes: 1440, keep: 7, offsiteKeep: 30, region: "us-east-1" },
    do: { size: "db-s-1vcpu-1gb", nodes: 1 },
} as const;

/** Every `transform` key, of both targets: a key of the other target is accepted and unused. */
export const TRANSFORM_KEYS = {
    image: true, container: true, volume: true, backup: true, backupVolume: true, backupImage: true, password: true,
    cluster: true, database: true, user: true, pool: true,
} as const satisfies Record<keyof ManagedDatabaseTransform, true>;

/** Majors that both the official image and DigitalOcean Managed PostgreSQL offer. */
export const PG_VERSIONS = ["13", "14", "15", "16", "17"] as const;
export type PgVersion = typeof PG_VERSIONS[number];
export const POOL_MODES = ["transaction", "session", "statement"] as const;
export const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;

type DoBlock = NonNullable<ManagedDatabaseArgs["do"]>;

/** A transform entry: args to merge or a function, which only a program can give. */
const child = (what: string) => shape.program(`${what}: args to merge over the component's, or (args, opts, name) => void`);

/**
 * Every key ManagedDatabaseArgs takes, at every depth, with its type: `checkShape` runs it first
 * in normalize (unknown keys with a did-you-mean, types before meaning), and `toJsonSchema` turns
 * it into the schema of a stack file's `slipway:database` block. `PropsOf` makes an Args field
 * without a shape here fail to compile. Meaning (ranges, names, DigitalOcean's lists) is checked
 * after it: below, and in docker.ts / do-app.ts for what one target reads. `target` is not listed
 * as required: `requireTarget` names it with the fix.
 */
export const MANAGED_DATABASE_SHAPE: Shape = shape.object<ManagedDatabaseArgs>({
    target: shape.program("where the database runs: a DockerHost's target or doAppTarget(...)"),
    version: shape.string(PG_VERSIONS, "PostgreSQL major version, quoted"),
    database: shape.string(undefined, "the application database"),
    user: shape.string(undefined, "the application role"),
    extensions: shape.list(shape.string(undefined, "a CREATE EXTENSION name"), "extensions created on first boot (Docker)"),
    schemas: shape.list(shape.object<NonNullable<ManagedDatabaseArgs["schemas"]>[number]>({
        name: shape.string(undefined, "schema name"),
        user: shape.string(undefined, "the schema's role; defaults to the schema name"),
    }, ["name"]), "one schema and one role per service"),
    production: shape.bool("protect and retain the data; defaults to the target's flag"),
    backup: shape.oneOf(
        "a mapping such as { intervalMinutes: 60, keep: 24 } (hourly dumps, a day of them), or false (true: the defaults)",
        shape.object<BackupArgs>({
            intervalMinutes: shape.int("minutes between dumps, 5 to 10080"),
            keep: shape.int("dumps kept, 1 to 365"),
            image: shape.string(undefined, "the sidecar's image: pg_dump, plus age and rclone with offsite"),
            offsite: shape.object<OffsiteBackupArgs>({
                endpoint: shape.string(undefined, "S3 API endpoint, an https:// URL"),
                bucket: shape.string(undefined, "an existing bucket"),
                region: shape.string(undefined, "signing region, e.g. us-east-1 or auto"),
                prefix: shape.string(undefined, "object key prefix ending in /"),
                accessKeyId: shape.input("the access key id, e.g. { secret: backupS3KeyId }"),
                secretAccessKey: shape.input("the secret access key, e.g. { secret: backupS3Secret }"),
                recipient: shape.string(undefined, "age public key (age1...) the dumps are encrypted to"),
                keep: shape.int("off-site dumps kept, 1 to 3650"),
                forcePathStyle: shape.bool("path-style bucket URLs (MinIO, self-hosted servers)"),
            }, ["endpoint", "bucket", "accessKeyId", "secretAccessKey", "recipient"], "encrypted copies in S3-compatible storage"),
        }),
        shape.bool(),
    ),
    image: shape.string(undefined, "Docker: the server image"),
    password: shape.input("Docker: an existing password, e.g. { secret: dbPassword }"),
    memoryMb: shape.int("Docker: memory limit in MB"),
    publishPort: shape.int("Docker: host port for 5432"),
    do: shape.object<DoBlock>({
        size: shape.string(undefined, "database node size slug, e.g. db-s-1vcpu-2gb"),
        nodes: shape.int("nodes, standbys included: 1 to 3"),
        region: shape.string(undefined, "datacenter slug, e.g. fra1"),
        maintenanceWindow: shape.object<NonNullable<DoBlock["maintenanceWindow"]>>({
            day: shape.string(undefined, "monday to sunday"),
            hour: shape.int("hour in UTC, 0 to 23"),
        }, ["day", "hour"], "weekly maintenance start"),
        pool: shape.object<NonNullable<DoBlock["pool"]>>({
            name: shape.string(undefined, "pool name"),
            mode: shape.string(POOL_MODES, "PgBouncer pool mode"),
            size: shape.int("backend connections"),
        }, ["name"], "a PgBouncer pool"),
        devDatabase: shape.bool("an App Platform dev database instead of a cluster"),
    }, [], "DigitalOcean settings"),
    transform: shape.object<ManagedDatabaseTransform>({
        image: child("docker: the server image"),
        container: child("docker: the server container"),
        volume: child("docker: the data volume"),
        backup: child("docker: the backup sidecar"),
        backupVolume: child("docker: the backups volume"),
        backupImage: child("docker: the backup sidecar's own image"),
        password: child("docker: each generated password"),
        cluster: child("do-app: the database cluster"),
        database: child("do-app: the database"),
        user: child("do-app: each role"),
        pool: child("do-app: the connection pool"),
    }, [], "program only: per child resource, how it is created"),
});

/** An unquoted PostgreSQL identifier we are willing to generate SQL for (lowercase, so no quoting surprises). */
export const PG_IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
/** Extension names are looked up as files (`<name>.control`), so `uuid-ossp` style hyphens are legal. */
const EXTENSION = /^[a-z_][a-z0-9_-]{0,62}$/;

export interface NormalizedSchema {
    name: string;
    user: string;
}

/** What both targets create: the result of `normalizeManagedDatabase`. */
export interface ManagedDatabaseBase {
    name: string;
    version: PgVersion;
    database: string;
    user: string;
    extensions: string[];
    schemas: NormalizedSchema[];
    production: boolean;
}

/** Off-site copies, checked: the secrets stay Inputs (they become uploaded files). */
export interface OffsiteSettings {
    endpoint: string;
    bucket: string;
    region: string;
    prefix: string;
    accessKeyId: OffsiteBackupArgs["accessKeyId"];
    secretAccessKey: OffsiteBackupArgs["secretAccessKey"];
    recipient: string;
    keep: number;
    forcePathStyle: boolean;
}

export interface BackupSettings {
    intervalMinutes: number;
    keep: number;
    image: string;
    offsite?: OffsiteSettings;
}

/** The server container's settings: `checkManagedDatabaseDocker` (docker.ts) fills them in. */
export interface ManagedDatabaseDockerSettings {
    /** `undefined` = no backup sidecar. */
    backup?: BackupSettings;
    image: string;
    /** uid the official image runs Postgres as: 999 on Debian images, 70 on Alpine ones. */
    postgresUid: number;
    memoryMb: number;
    publishPort?: number;
}

/** The `do` block: `checkManagedDatabaseDoApp` (do-app.ts) fills it in. */
export interface ManagedDatabaseDoSettings {
    size: string;
    nodes: number;
    region: string;
    maintenanceWindow?: { day: typeof WEEKDAYS[number]; hour: string };
    pool?: { name: string; mode: typeof POOL_MODES[number]; size: number };
    devDatabase: boolean;
}

/**
 * A database validated for its target by `validateManagedDatabase` (index.ts): the neutral fields
 * plus the settings of that target, and only those. `docker` is there on docker. `do` is there on
 * do-app, and typed as always there only because createManagedDatabaseDoApp and the class read
 * this one type; make the two a union per target once those take a do-app-only type.
 */
export interface NormalizedManagedDatabase extends ManagedDatabaseBase {
    docker?: ManagedDatabaseDockerSettings;
    do: ManagedDatabaseDoSettings;
}

/** Throws unless `value` is a PostgreSQL name we generate SQL for (see PG_IDENT) and not a reserved `pg_` one. */
export function pgIdentifier(ctx: ErrorContext, path: string, value: string, what: string): string {
    if (typeof value !== "string" || !PG_IDENT.test(value)) {
        invalid(ctx, path, `${JSON.stringify(value)} is not a usable PostgreSQL ${what} name`,
            "use 1 to 63 lowercase letters, digits and underscores, starting with a letter or underscore");
    }
    if (value.startsWith("pg_")) {
        invalid(ctx, path, `${JSON.stringify(value)} starts with "pg_", which PostgreSQL reserves`, `drop the "pg_" prefix`);
    }
    return value;
}

/**
 * The target-neutral part of a ManagedDatabase's validation. It reads nothing of the target but
 * `production`; `validateManagedDatabase` (index.ts) then runs the target's own check.
 */
export function normalizeManagedDatabase(name: string, args: ManagedDatabaseArgs): ManagedDatabaseBase {
    const ctx: ErrorContext = { kind: "ManagedDatabase", name };
    // A `transform` that is not an object at all keeps the wording every component shares.
    const t: unknown = (args as { transform?: unknown } | undefined)?.transform;
    if (t !== undefined && (typeof t !== "object" || t === null || Array.isArray(t))) checkTransform(ctx, t, Object.keys(TRANSFORM_KEYS));
    // Types before meaning: an unknown key or a value of the wrong type, anywhere, is named first.
    checkShape(ctx, MANAGED_DATABASE_SHAPE, args);
    const target = requireTarget(ctx, args?.target, "is missing", "pass `target` from a DockerHost (`host.target`) or `doAppTarget(...)`");
    requireDoName(ctx, name, `${JSON.stringify(name)} cannot be a network alias and App Platform database name`);
    // Its keys were checked by the shape; this checks each value is args to merge or a function.
    checkTransform(ctx, args.transform, Object.keys(TRANSFORM_KEYS));
    const version = requireOneOf(ctx, "version", args.version ?? DEFAULTS.version, PG_VERSIONS);
    const database = pgIdentifier(ctx, "database", args.database ?? name.replace(/-/g, "_"), "database");
    if (["postgres", "template0", "template1", "defaultdb", "_dodb"].includes(database)) {
        invalid(ctx, "database", `"${database}" is a system database`, "choose an application database name, e.g. \"shop\"");
    }
    const user = pgIdentifier(ctx, "user", args.user ?? DEFAULTS.user, "role");
    if (["postgres", "doadmin", "public"].includes(user)) {
        invalid(ctx, "user", `"${user}" is reserved by the image or by DigitalOcean`, `use an application role such as "app"`);
    }
    return {
        name, version, database, user,
        extensions: normalizeExtensions(ctx, args.extensions ?? []),
        schemas: normalizeSchemas(ctx, args.schemas ?? [], user),
        production: args.production ?? target.production,
    };
}

function normalizeExtensions(ctx: ErrorContext, given: string[]): string[] {
    const extensions = given.map((e, i) => {
        if (typeof e !== "string" || !EXTENSION.test(e)) {
            invalid(ctx, `extensions[${i}]`, `${JSON.stringify(e)} is not an extension name`, `use the name CREATE EXTENSION takes, e.g. "postgis" or "uuid-ossp"`);
        }
        return e;
    });
    extensions.forEach((e, i) => {
        if (extensions.indexOf(e) !== i) invalid(ctx, `extensions[${i}]`, `"${e}" is listed twice`, "list each extension once");
    });
    return extensions;
}

/** One schema and one role each; no role may be the main user's or another schema's. */
function normalizeSchemas(ctx: ErrorContext, given: NonNullable<ManagedDatabaseArgs["schemas"]>, mainUser: string): NormalizedSchema[] {
    const seenUsers = new Map<string, string>([[mainUser, "user"]]);
    const schemas = given.map((s, i) => {
        const schemaName = pgIdentifier(ctx, `schemas[${i}].name`, s?.name, "schema");
        if (schemaName === "public") {
            invalid(ctx, `schemas[${i}].name`, `"public" already exists and belongs to the main user`, "name the schema after its service, e.g. \"core\"");
        }
        const schemaUser = pgIdentifier(ctx, `schemas[${i}].user`, s.user ?? schemaName, "role");
        const owner = seenUsers.get(schemaUser);
        if (owner !== undefined) {
            invalid(ctx, `schemas[${i}].user`, `role "${schemaUser}" is already used by ${owner}`, "give each schema its own role");
        }
        seenUsers.set(schemaUser, `schemas[${i}]`);
        return { name: schemaName, user: schemaUser };
    });
    schemas.forEach((s, i) => {
        if (schemas.findIndex(x => x.name === s.name) !== i) invalid(ctx, `schemas[${i}].name`, `schema "${s.name}" is listed twice`, "list each schema once");
    });
    return schemas;
}
