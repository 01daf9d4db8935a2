import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { capabilitySet, goDuration, jsonFileLogs, labelList, memoryLimit } from "../core/docker";
import { ErrorContext, invalid, requireInt } from "../core/errors";
import { refuseLocalOnlyImage } from "../core/registries";
import { DockerTarget } from "../core/target";
import { transform } from "../core/transform";
import type { BackupBeforeMigration, DockerJobParts } from "../core/link";
import type { DatabaseConnection, ManagedDatabaseArgs } from "./args";
import type { ManagedDatabaseDockerTransform } from "./transforms/docker";

export type { ManagedDatabaseDockerTransform } from "./transforms/docker";
import { DEFAULTS, ManagedDatabaseBase, ManagedDatabaseDockerSettings, NormalizedManagedDatabase } from "./normalize";
import { OFFSITE_IMAGE, checkOffsite, offsiteEnv, offsiteUploads } from "./offsite";
import { backupHealthcheck, backupMaxAgeSeconds, backupScript, initScript, passwordKey, pgpassLine, postgresUrl, preMigrationDumpScript } from "./scripts";

const DATA_DIR = "/var/lib/postgresql/data";
const SECRETS = "/run/secrets";
/**
 * What the server's entrypoint needs as root before it drops to the postgres user, and nothing
 * else (checked on the engine with no-new-privileges): SETUID and SETGID for the switch itself
 * (gosu in the official image, setpriv in Slipway's), DAC_READ_SEARCH because the official
 * entrypoint reads POSTGRES_PASSWORD_FILE (owned by postgres, 0400) and walks the 0700 data
 * directory as root. A fresh volume needs no CHOWN: Docker copies the image's postgres-owned
 * data directory into it. Once Postgres runs, its effective set is empty. Sent as `CAP_*` (see
 * `capabilitySet`): the form the engine reports, so a refresh sees no change.
 */
const SERVER_CAPS = ["DAC_READ_SEARCH", "SETGID", "SETUID"];
const NO_NEW_PRIVILEGES = ["no-new-privileges:true"];

/** What the docker target created (`ManagedDatabase.nodes`). */
export interface ManagedDatabaseDockerNodes {
    image: docker.RemoteImage;
    container: docker.Container;
    volume: docker.Volume;
    backup?: docker.Container;
    backupVolume?: docker.Volume;
    backupImage?: docker.RemoteImage;
    /** The generated passwords: the main one (unless `password` is given), then one per schema. */
    passwords: random.RandomPassword[];
}

/** Secret password: the given one, or a generated URL-safe one. */
function password(b: Build, name: string, given?: pulumi.Input<string>): pulumi.Output<string> {
    if (given !== undefined) return pulumi.secret(given);
    // Alphanumeric only: the value goes into URLs, .pgpass lines and psql variables.
    const p = new random.RandomPassword(...transform(b.t.password, name, { length: 32, special: false }, { parent: b.parent }));
    b.passwords.push(p);
    return pulumi.secret(p.result);
}

/** What every step of `createManagedDatabaseDocker` shares. */
interface Build {
    name: string;
    parent: pulumi.ComponentResource;
    n: NormalizedManagedDatabase;
    d: ManagedDatabaseDockerSettings;
    target: DockerTarget;
    /** Labels every container and volume carries. */
    base: Record<string, string>;
    /** Data outlives the container in production: a replace (image bump, env change) keeps it, and a deleted stack leaves it behind for a human to decide. */
    keep: { protect: boolean; retainOnDelete: boolean };
    t: ManagedDatabaseDockerTransform;
    /** Filled by `password` as it generates them. */
    passwords: random.RandomPassword[];
}

export function createManagedDatabaseDocker(
    name: string, parent: pulumi.ComponentResource, n: NormalizedManagedDatabase, target: DockerTarget,
    givenPassword?: pulumi.Input<string>, t: ManagedDatabaseDockerTransform = {},
): { connection: DatabaseConnection; nodes: ManagedDatabaseDockerNodes; backupBeforeMigration?: BackupBeforeMigration } {
    if (!n.docker) throw new Error(`ManagedDatabase "${name}": createManagedDatabaseDocker needs a database validated for docker (validateManagedDatabase)`);
    const b: Build = {
        name, parent, n, d: n.docker, target,
        base: { ...target.labels, "slipway.component": "ManagedDatabase", "slipway.name": name },
        keep: { protect: n.production, retainOnDelete: n.production },
        t, passwords: [],
    };
    const volume = dataVolume(b);
    // The container takes the image *id*: the provider stores the id in state, so a tag here would
    // differ from state on every run and, with deleteBeforeReplace, restart Postgres on every `up`.
    // keepLocally: the image may be shared with other stacks on the engine.
    const image = new docker.RemoteImage(...transform(t.image, `${name}-image`, { name: b.d.image, keepLocally: true }, { parent, provider: target.provider }));
    const pw = password(b, `${name}-password`, givenPassword);
    const { uploads, schemaPasswords } = serverUploads(b, pw);
    const server = serverContainer(b, image, volume, uploads);
    const backup = b.d.backup ? backupSidecar(b, b.d.backup, image, server, pw) : undefined;

    // Built from constants and the password only, never from the server's outputs: an input derived
    // from them is unknown whenever the server is replaced, which replaces every replica that uses
    // it (delete-before-create, in the same step). Services wait for a healthy server through the
    // link's `dependsOn` instead (see ManagedDatabase.link).
    const url = (user: string, p: pulumi.Output<string>) =>
        pulumi.secret(p.apply(pass => postgresUrl({ user, password: pass, host: name, port: 5432, database: n.database, sslmode: "disable" })));
    const schemaUrls: Record<string, pulumi.Output<string>> = {};
    for (const s of n.schemas) schemaUrls[s.name] = url(s.user, schemaPasswords[s.name]!);
    const connection: DatabaseConnection = {
        // The network alias: a constant, so a server replacement does not make it unknown.
        host: pulumi.output(name),
        port: pulumi.output("5432"),
        database: pulumi.output(n.database),
        user: pulumi.output(n.user),
        password: pw,
        url: url(n.user, pw),
        schemaUrls,
    };
    return {
        connection,
        nodes: { image, container: server, volume, backup: backup?.container, backupVolume: backup?.volume, backupImage: backup?.image, passwords: b.passwords },
        backupBeforeMigration: backup?.beforeMigration,
    };
}

/**
 * The data volume. The major version is in the name: PostgreSQL cannot open another major's data
 * files, so a new major is a new volume (a replace that `protect` blocks in production and the
 * preview flags as data loss elsewhere). Docker's volume create returns an existing volume of the
 * same name, so a replace under an unchanged name would end up deleting the volume in use: every
 * input here must therefore change only with the name (labels come from constants and the major).
 */
function dataVolume(b: Build): docker.Volume {
    return new docker.Volume(...transform(b.t.volume, `${b.name}-data`, {
        name: `${b.target.namePrefix}-${b.name}-data-pg${b.n.version}`,
        labels: labelList({ ...b.base, "slipway.role": "data", "slipway.pg-major": b.n.version }),
    }, { parent: b.parent, provider: b.target.provider, ...b.keep }));
}

/**
 * The server's secret files: its own password, one per schema role, and the first-boot init
 * script. Read by the entrypoint on first init only: a later change does not reach the role (see
 * the `password` TSDoc for the manual ALTER ROLE step).
 */
function serverUploads(b: Build, pw: pulumi.Output<string>) {
    const owner = String(b.d.postgresUid);
    const secretFile = (key: string, content: pulumi.Input<string>) =>
        ({ file: `${SECRETS}/${key}`, content: pulumi.secret(content), permissions: "0400", owner, group: owner });
    const uploads: docker.types.input.ContainerUpload[] = [secretFile("POSTGRES_PASSWORD", pw)];
    const schemaPasswords: Record<string, pulumi.Output<string>> = {};
    for (const s of b.n.schemas) {
        schemaPasswords[s.name] = password(b, `${b.name}-password-${s.name}`);
        uploads.push(secretFile(passwordKey(s.user), schemaPasswords[s.name]!));
    }
    const init = initScript(b.n, SECRETS);
    if (init) uploads.push({ file: "/docker-entrypoint-initdb.d/10-slipway-init.sh", content: init, executable: true, permissions: "0555" });
    return { uploads, schemaPasswords };
}

function serverContainer(b: Build, image: docker.RemoteImage, volume: docker.Volume, uploads: docker.types.input.ContainerUpload[]): docker.Container {
    const { n, d, target } = b;
    return new docker.Container(...transform(b.t.container, `${b.name}-server`, {
        image: image.imageId,
        envs: [`POSTGRES_DB=${n.database}`, `POSTGRES_PASSWORD_FILE=${SECRETS}/POSTGRES_PASSWORD`, `POSTGRES_USER=${n.user}`],
        uploads,
        volumes: [{ volumeName: volume.name, containerPath: DATA_DIR }],
        networksAdvanced: [{ name: target.networkName, aliases: [b.name] }],
        ports: d.publishPort ? [{ internal: 5432, external: d.publishPort, ip: target.publishAddress }] : undefined,
        // TCP on 127.0.0.1, not the socket: during first-boot init the entrypoint runs a temporary
        // server on the socket only, and a socket check would call that half-initialised server healthy.
        // Durations in Go's form, as the provider reads them back ("1m0s", not "60s").
        healthcheck: {
            tests: ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", n.user, "-d", n.database],
            interval: goDuration(2), timeout: goDuration(5), retries: 5, startPeriod: goDuration(60),
        },
        wait: true,
        waitTimeout: 180,
        restart: "unless-stopped",
        // Swap pinned to the limit: no swap, and no `- memorySwap` on every preview.
        ...memoryLimit(d.memoryMb),
        securityOpts: NO_NEW_PRIVILEGES,
        capabilities: capabilitySet({ drop: ["ALL"], add: SERVER_CAPS }),
        // Docker's default 64 MB /dev/shm is too small for parallel queries.
        shmSize: 256,
        // SIGINT is Postgres' "fast" shutdown: roll back, disconnect, checkpoint, exit. SIGTERM
        // ("smart") waits for every client to leave, so pooled apps would run out the grace period
        // and get the server SIGKILLed into crash recovery. The grace period covers the final checkpoint.
        stopSignal: "SIGINT",
        stopTimeout: 60,
        destroyGraceSeconds: 60,
        ...jsonFileLogs(),
        labels: labelList({ ...b.base, "slipway.role": "server" }),
    }, {
        parent: b.parent, provider: target.provider,
        // Never two servers on one data directory: postmaster.pid cannot see across containers,
        // so a create-before-delete replace could start a second postmaster on live files. It also
        // frees a fixed publishPort before the new container binds it.
        deleteBeforeReplace: true,
    }));
}

/** The backup sidecar and its volume. Dumps (`pg_dump -Fc`) restore into a newer major, so backups outlive a version change. */
function backupSidecar(
    b: Build, backup: NonNullable<ManagedDatabaseDockerSettings["backup"]>, image: docker.RemoteImage, server: docker.Container, pw: pulumi.Output<string>,
): { container: docker.Container; volume: docker.Volume; image?: docker.RemoteImage; beforeMigration: BackupBeforeMigration } {
    const { name, n, target } = b;
    const opts = { parent: b.parent, provider: target.provider };
    const backups = new docker.Volume(...transform(b.t.backupVolume, `${name}-backups`, {
        name: `${target.namePrefix}-${name}-backups`,
        labels: labelList({ ...b.base, "slipway.role": "backups" }),
    }, { ...opts, ...b.keep }));
    const intervalSeconds = backup.intervalMinutes * 60;
    const maxAge = backupMaxAgeSeconds(intervalSeconds);
    // Its own image only when it differs (off-site copies need age and rclone), so a stack without
    // them keeps its resources as they were.
    const own = backup.image === b.d.image ? undefined
        : new docker.RemoteImage(...transform(b.t.backupImage, `${name}-backup-image`, { name: backup.image, keepLocally: true }, opts));
    // What the sidecar and the dump before a migration share: the server, the credentials, the
    // volume and the off-site settings, so both write the same dumps to the same places.
    const connectionEnv = [
        ...(backup.offsite ? offsiteEnv(backup.offsite) : []),
        `PGDATABASE=${n.database}`,
        `PGHOST=${name}`,
        `PGPASSFILE=${SECRETS}/pgpass`,
        `PGPORT=5432`,
        `PGUSER=${n.user}`,
    ];
    const uploads = [
        { file: `${SECRETS}/pgpass`, content: pulumi.secret(pw.apply(p => pgpassLine(n.user, p))), permissions: "0600", owner: "0", group: "0" },
        ...(backup.offsite ? offsiteUploads(backup.offsite) : []),
    ];
    const volumes = [{ volumeName: backups.name, containerPath: "/backups" }];
    const beforeMigration: BackupBeforeMigration = {
        database: name,
        job: (release, timeoutSeconds): DockerJobParts => ({
            image: (own ?? image).imageId,
            // coreutils' timeout is in every Debian-based Postgres image; -k: SIGKILL 10 s after SIGTERM.
            entrypoints: ["timeout", "-k", "10", String(timeoutSeconds), "/bin/sh", "-c", preMigrationDumpScript()],
            envs: [`BACKUP_DIR=/backups`, `BACKUP_TAG=${release}`, ...connectionEnv],
            uploads,
            volumes,
            labels: { ...b.base, "slipway.role": "backup-before-migration" },
            memoryMiB: 256,
        }),
    };
    const container = new docker.Container(...transform(b.t.backup, `${name}-backup`, {
        image: (own ?? image).imageId,
        entrypoints: ["/bin/sh", "-c", backupScript()],
        envs: [
            `BACKUP_DIR=/backups`,
            `BACKUP_FIRST_DUMP_SECONDS=${maxAge - intervalSeconds}`,
            `BACKUP_INTERVAL_SECONDS=${intervalSeconds}`,
            `BACKUP_KEEP=${backup.keep}`,
            `BACKUP_MAX_AGE_SECONDS=${maxAge}`,
            ...connectionEnv,
        ],
        // Runs as root (the image default) because a fresh named volume's root is root-owned,
        // but a root without capabilities: it only writes its own files on that volume and
        // reads its own (root-owned) secret files.
        uploads,
        volumes,
        networksAdvanced: [{ name: target.networkName }],
        // Healthy while the last successful dump (and upload) is at most one interval (plus time
        // for the dump) old, unhealthy at once when a round failed. The probe itself grants the
        // first dump its time (BACKUP_FIRST_DUMP_SECONDS): a Docker start period that long would
        // also hide a wrong key or a missing bucket reported in the first seconds.
        healthcheck: {
            tests: ["CMD-SHELL", backupHealthcheck()],
            interval: goDuration(2), timeout: goDuration(5), retries: 3, startPeriod: goDuration(30),
        },
        restart: "unless-stopped",
        ...memoryLimit(256),
        securityOpts: NO_NEW_PRIVILEGES,
        capabilities: capabilitySet({ drop: ["ALL"] }),
        ...jsonFileLogs(),
        labels: labelList({
            ...b.base, "slipway.role": "backup", "slipway.backup.dir": "/backups",
            "slipway.backup.interval-minutes": String(backup.intervalMinutes), "slipway.backup.keep": String(backup.keep),
        }),
    }, { ...opts, dependsOn: [server] }));
    return { container, volume: backups, image: own, beforeMigration };
}

function requireImageRef(ctx: ErrorContext, path: string, image: unknown, example: string): asserts image is string {
    if (typeof image !== "string" || image.trim() === "" || /\s/.test(image)) {
        invalid(ctx, path, `${JSON.stringify(image)} is not an image reference`, `use e.g. "${example}"`);
    }
}

/** The major version an image tag pins, for `postgres:16-bookworm` or `postgis/postgis:16-3.4`; undefined when unknown. */
export function imageMajor(image: string): string | undefined {
    const m = /^(?:[^/]+\/)*(?:postgres|postgis)(?::(\d+)(?:[.-]|$))/.exec(image);
    return m?.[1];
}

/**
 * The docker half of `validateManagedDatabase`, run after the target-neutral
 * `normalizeManagedDatabase`: the server container's image, memory, published port and backup
 * sidecar, which only this target has.
 */
export function checkManagedDatabaseDocker(
    name: string, args: ManagedDatabaseArgs & { target: DockerTarget }, n: ManagedDatabaseBase,
): ManagedDatabaseDockerSettings {
    const ctx: ErrorContext = { kind: "ManagedDatabase", name };
    const image = args.image ?? `postgres:${n.version}-bookworm`;
    let backup: ManagedDatabaseDockerSettings["backup"];
    // Backups default on where losing data matters; a dev stack opts in. Types were checked by the
    // shape (normalize): a mapping, false, or true (a stack file's "on, with the defaults").
    if (args.backup !== false && (args.backup !== undefined || n.production)) {
        const given = args.backup || {};
        const intervalMinutes = requireInt(ctx, "backup.intervalMinutes", given.intervalMinutes ?? DEFAULTS.backup.intervalMinutes, 5, 10080);
        const keep = requireInt(ctx, "backup.keep", given.keep ?? DEFAULTS.backup.keep, 1, 365);
        const offsite = given.offsite === undefined ? undefined : checkOffsite(ctx, given.offsite, `${args.target.namePrefix}-${name}/`);
        // The server image has pg_dump but, as a rule, neither age nor rclone.
        const backupImage = given.image ?? (offsite ? `${OFFSITE_IMAGE}:${n.version}` : image);
        requireImageRef(ctx, "backup.image", backupImage, `${OFFSITE_IMAGE}:${n.version}`);
        if (given.image !== undefined) refuseLocalOnlyImage(ctx, "backup.image", backupImage, args.target.remote);
        backup = { intervalMinutes, keep, image: backupImage, ...(offsite ? { offsite } : {}) };
    }
    requireImageRef(ctx, "image", image, `postgres:${n.version}-bookworm`);
    refuseLocalOnlyImage(ctx, "image", image, args.target.remote);
    const pinned = imageMajor(image);
    if (pinned !== undefined && pinned !== n.version) {
        invalid(ctx, "image", `"${image}" runs PostgreSQL ${pinned} but version is "${n.version}"`,
            `set version: "${pinned}" or use an image of PostgreSQL ${n.version}`);
    }
    return {
        backup,
        image,
        postgresUid: /alpine/.test(image) ? 70 : 999,
        memoryMb: requireInt(ctx, "memoryMb", args.memoryMb ?? DEFAULTS.memoryMb, 128, 65536),
        publishPort: args.publishPort === undefined ? undefined : requireInt(ctx, "publishPort", args.publishPort, 1024, 65535),
    };
}
