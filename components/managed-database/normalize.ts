import { ErrorContext, invalid, requireInt, requireOneOf } from "../core/errors";
import { DO_NAME } from "../core/naming";
import { DO_REGIONS, DoRegion, Target } from "../core/target";
import type { ManagedDatabaseArgs } from "./index";

export const DEFAULTS = {
    version: "16",
    user: "app",
    memoryMb: 512,
    port: 5432,
    backup: { intervalMinutes: 1440, keep: 7 },
    do: { size: "db-s-1vcpu-1gb", nodes: 1 },
} as const;

/** Majors that both the official image and DigitalOcean Managed PostgreSQL offer. */
export const PG_VERSIONS = ["13", "14", "15", "16", "17"] as const;
export type PgVersion = typeof PG_VERSIONS[number];
export const POOL_MODES = ["transaction", "session", "statement"] as const;
export const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;

/** App Platform region -> the datacenter its managed database should live in (same metro, lowest latency). */
export const DB_REGION_FOR_APP: Readonly<Record<DoRegion, string>> = {
    atl: "atl1", nyc: "nyc3", sfo: "sfo3", tor: "tor1", ams: "ams3",
    fra: "fra1", lon: "lon1", blr: "blr1", sgp: "sgp1", syd: "syd1",
};

/** An unquoted PostgreSQL identifier we are willing to generate SQL for (lowercase, so no quoting surprises). */
export const PG_IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
/** Extension names are looked up as files (`<name>.control`), so `uuid-ossp` style hyphens are legal. */
const EXTENSION = /^[a-z_][a-z0-9_-]{0,62}$/;

export interface NormalizedSchema {
    name: string;
    user: string;
}

export interface NormalizedManagedDatabase {
    name: string;
    version: PgVersion;
    database: string;
    user: string;
    extensions: string[];
    schemas: NormalizedSchema[];
    production: boolean;
    /** Docker only. `undefined` = no backup sidecar. */
    backup?: { intervalMinutes: number; keep: number };
    image: string;
    /** uid the official image runs Postgres as: 999 on Debian images, 70 on Alpine ones. */
    postgresUid: number;
    memoryMb: number;
    publishPort?: number;
    do: {
        size: string;
        nodes: number;
        region: string;
        maintenanceWindow?: { day: typeof WEEKDAYS[number]; hour: string };
        pool?: { name: string; mode: typeof POOL_MODES[number]; size: number };
        devDatabase: boolean;
    };
}

function identifier(ctx: ErrorContext, path: string, value: string, what: string): string {
    if (typeof value !== "string" || !PG_IDENT.test(value)) {
        invalid(ctx, path, `${JSON.stringify(value)} is not a usable PostgreSQL ${what} name`,
            "use 1 to 63 lowercase letters, digits and underscores, starting with a letter or underscore");
    }
    if (value.startsWith("pg_")) {
        invalid(ctx, path, `${JSON.stringify(value)} starts with "pg_", which PostgreSQL reserves`, `drop the "pg_" prefix`);
    }
    return value;
}

/** The major version an image tag pins, for `postgres:16-bookworm` or `postgis/postgis:16-3.4`; undefined when unknown. */
export function imageMajor(image: string): string | undefined {
    const m = /^(?:[^/]+\/)*(?:postgres|postgis)(?::(\d+)(?:[.-]|$))/.exec(image);
    return m?.[1];
}

export function normalizeManagedDatabase(name: string, args: ManagedDatabaseArgs): NormalizedManagedDatabase {
    const ctx: ErrorContext = { kind: "ManagedDatabase", name };
    const target: Target | undefined = args?.target;
    if (!target || (target.kind !== "docker" && target.kind !== "do-app")) {
        invalid(ctx, "target", "is missing", "pass `target` from a DockerHost (`host.target`) or `doAppTarget(...)`");
    }
    if (!DO_NAME.test(name)) {
        invalid(ctx, "name", `${JSON.stringify(name)} cannot be a network alias and App Platform database name`,
            "use 2 to 32 lowercase letters, digits and hyphens, starting with a letter");
    }
    const version = requireOneOf(ctx, "version", args.version ?? DEFAULTS.version, PG_VERSIONS);
    const database = identifier(ctx, "database", args.database ?? name.replace(/-/g, "_"), "database");
    if (["postgres", "template0", "template1", "defaultdb", "_dodb"].includes(database)) {
        invalid(ctx, "database", `"${database}" is a system database`, "choose an application database name, e.g. \"shop\"");
    }
    const user = identifier(ctx, "user", args.user ?? DEFAULTS.user, "role");
    if (["postgres", "doadmin", "public"].includes(user)) {
        invalid(ctx, "user", `"${user}" is reserved by the image or by DigitalOcean`, `use an application role such as "app"`);
    }

    const extensions = (args.extensions ?? []).map((e, i) => {
        if (typeof e !== "string" || !EXTENSION.test(e)) {
            invalid(ctx, `extensions[${i}]`, `${JSON.stringify(e)} is not an extension name`, `use the name CREATE EXTENSION takes, e.g. "postgis" or "uuid-ossp"`);
        }
        return e;
    });
    extensions.forEach((e, i) => {
        if (extensions.indexOf(e) !== i) invalid(ctx, `extensions[${i}]`, `"${e}" is listed twice`, "list each extension once");
    });

    const seenUsers = new Map<string, string>([[user, "user"]]);
    const schemas = (args.schemas ?? []).map((s, i) => {
        const schemaName = identifier(ctx, `schemas[${i}].name`, s?.name, "schema");
        if (schemaName === "public") {
            invalid(ctx, `schemas[${i}].name`, `"public" already exists and belongs to the main user`, "name the schema after its service, e.g. \"core\"");
        }
        const schemaUser = identifier(ctx, `schemas[${i}].user`, s.user ?? schemaName, "role");
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

    const production = args.production ?? target.production;

    let backup: NormalizedManagedDatabase["backup"];
    // Backups default on where losing data matters; a dev stack opts in.
    if (args.backup !== false && (args.backup !== undefined || production)) {
        const b = args.backup || {};
        backup = {
            intervalMinutes: requireInt(ctx, "backup.intervalMinutes", b.intervalMinutes ?? DEFAULTS.backup.intervalMinutes, 5, 10080),
            keep: requireInt(ctx, "backup.keep", b.keep ?? DEFAULTS.backup.keep, 1, 365),
        };
    }

    const image = args.image ?? `postgres:${version}-bookworm`;
    if (typeof image !== "string" || image.trim() === "" || /\s/.test(image)) {
        invalid(ctx, "image", `${JSON.stringify(image)} is not an image reference`, `use e.g. "postgres:${version}-bookworm"`);
    }
    const pinned = imageMajor(image);
    if (pinned !== undefined && pinned !== version) {
        invalid(ctx, "image", `"${image}" runs PostgreSQL ${pinned} but version is "${version}"`,
            `set version: "${pinned}" or use an image of PostgreSQL ${version}`);
    }
    const memoryMb = requireInt(ctx, "memoryMb", args.memoryMb ?? DEFAULTS.memoryMb, 128, 65536);
    const publishPort = args.publishPort === undefined ? undefined : requireInt(ctx, "publishPort", args.publishPort, 1024, 65535);

    const d = args.do ?? {};
    const devDatabase = d.devDatabase ?? false;
    if (devDatabase && production) {
        invalid(ctx, "do.devDatabase", "a dev database has no backups, no standby and a 512 MB size cap, so it cannot back a production stack",
            "remove do.devDatabase (a managed cluster is created) or set production: false for this database");
    }
    if (devDatabase && schemas.length) {
        invalid(ctx, "schemas", "a dev database has one fixed role, so per-schema roles cannot be created",
            "remove schemas, or drop do.devDatabase to get a managed cluster");
    }
    if (devDatabase && d.pool) {
        invalid(ctx, "do.pool", "dev databases have no connection pools", "remove do.pool, or drop do.devDatabase to get a managed cluster");
    }
    const appRegion = target.kind === "do-app" ? target.region : undefined;
    const region = d.region ?? (appRegion ? DB_REGION_FOR_APP[appRegion] : DB_REGION_FOR_APP.fra);
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
    let maintenanceWindow: NormalizedManagedDatabase["do"]["maintenanceWindow"];
    if (d.maintenanceWindow) {
        const day = requireOneOf(ctx, "do.maintenanceWindow.day", String(d.maintenanceWindow.day).toLowerCase(), WEEKDAYS);
        const hour = requireInt(ctx, "do.maintenanceWindow.hour", d.maintenanceWindow.hour, 0, 23);
        maintenanceWindow = { day, hour: `${String(hour).padStart(2, "0")}:00` };
    }
    let pool: NormalizedManagedDatabase["do"]["pool"];
    if (d.pool) {
        pool = {
            name: identifier(ctx, "do.pool.name", d.pool.name, "pool"),
            mode: requireOneOf(ctx, "do.pool.mode", d.pool.mode ?? "transaction", POOL_MODES),
            // DigitalOcean caps the sum of pool sizes by the cluster's connection limit (about 22 on the smallest size).
            size: requireInt(ctx, "do.pool.size", d.pool.size ?? 10, 1, 500),
        };
    }
    return {
        name, version, database, user, extensions, schemas, production, backup, image,
        postgresUid: /alpine/.test(image) ? 70 : 999,
        memoryMb, publishPort,
        do: { size, nodes, region, maintenanceWindow, pool, devDatabase },
    };
}
