import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DockerTarget } from "../core/target";
import type { DatabaseConnection } from "./index";
import { NormalizedManagedDatabase } from "./normalize";
import { backupScript, initScript, passwordKey, pgpassLine, postgresUrl } from "./scripts";

const DATA_DIR = "/var/lib/postgresql/data";
const SECRETS = "/run/secrets";
// Rotated json-file logs: an unbounded log is the classic way a single host fills its disk.
const LOG_OPTS = { "max-size": "10m", "max-file": "3" };

function labelList(labels: Record<string, string>) {
    return Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([label, value]) => ({ label, value }));
}

/** Secret password: the given one, or a generated URL-safe one. */
function password(name: string, parent: pulumi.Resource, given?: pulumi.Input<string>): pulumi.Output<string> {
    if (given !== undefined) return pulumi.secret(given);
    // Alphanumeric only: the value goes into URLs, .pgpass lines and psql variables.
    const p = new random.RandomPassword(name, { length: 32, special: false }, { parent });
    return pulumi.secret(p.result);
}

export function createManagedDatabaseDocker(
    name: string, parent: pulumi.ComponentResource, n: NormalizedManagedDatabase, target: DockerTarget,
    givenPassword?: pulumi.Input<string>,
): DatabaseConnection {
    const provider = target.provider;
    const base = { ...target.labels, "slipway.component": "ManagedDatabase", "slipway.name": name };
    // Data outlives the container in production: a replace (image bump, env change) keeps it, and
    // a deleted stack leaves it behind for a human to decide.
    const keep = { protect: n.production, retainOnDelete: n.production };

    // The major version is in the name: PostgreSQL cannot open another major's data files, so a
    // new major is a new volume (a replace that `protect` blocks in production and the preview
    // flags as data loss elsewhere). Docker's volume create returns an existing volume of the same
    // name, so a replace under an unchanged name would end up deleting the volume in use: every
    // input here must therefore change only with the name (labels come from constants and the major).
    const volume = new docker.Volume(`${name}-data`, {
        name: `${target.namePrefix}-${name}-data-pg${n.version}`,
        labels: labelList({ ...base, "slipway.role": "data", "slipway.pg-major": n.version }),
    }, { parent, provider, ...keep });

    // The container takes the image *id*: the provider stores the id in state, so a tag here would
    // differ from state on every run and, with deleteBeforeReplace, restart Postgres on every `up`.
    // keepLocally: the image may be shared with other stacks on the engine.
    const image = new docker.RemoteImage(`${name}-image`, { name: n.image, keepLocally: true }, { parent, provider });

    const pw = password(`${name}-password`, parent, givenPassword);
    const owner = String(n.postgresUid);
    const secretFile = (key: string, content: pulumi.Input<string>) =>
        ({ file: `${SECRETS}/${key}`, content: pulumi.secret(content), permissions: "0400", owner, group: owner });

    // Read by the entrypoint on first init only: a later change does not reach the role (see the
    // `password` TSDoc for the manual ALTER ROLE step).
    const uploads: docker.types.input.ContainerUpload[] = [secretFile("POSTGRES_PASSWORD", pw)];
    const schemaPasswords: Record<string, pulumi.Output<string>> = {};
    for (const s of n.schemas) {
        schemaPasswords[s.name] = password(`${name}-password-${s.name}`, parent);
        uploads.push(secretFile(passwordKey(s.user), schemaPasswords[s.name]!));
    }
    const init = initScript(n, SECRETS);
    if (init) uploads.push({ file: "/docker-entrypoint-initdb.d/10-slipway-init.sh", content: init, executable: true, permissions: "0555" });

    const server = new docker.Container(`${name}-server`, {
        image: image.imageId,
        envs: [`POSTGRES_DB=${n.database}`, `POSTGRES_PASSWORD_FILE=${SECRETS}/POSTGRES_PASSWORD`, `POSTGRES_USER=${n.user}`],
        uploads,
        volumes: [{ volumeName: volume.name, containerPath: DATA_DIR }],
        networksAdvanced: [{ name: target.networkName, aliases: [name] }],
        ports: n.publishPort ? [{ internal: 5432, external: n.publishPort, ip: target.publishAddress }] : undefined,
        // TCP on 127.0.0.1, not the socket: during first-boot init the entrypoint runs a temporary
        // server on the socket only, and a socket check would call that half-initialised server healthy.
        healthcheck: {
            tests: ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", n.user, "-d", n.database],
            interval: "10s", timeout: "5s", retries: 5, startPeriod: "60s",
        },
        wait: true,
        waitTimeout: 180,
        restart: "unless-stopped",
        memory: n.memoryMb,
        // Docker's default 64 MB /dev/shm is too small for parallel queries.
        shmSize: 256,
        // SIGINT is Postgres' "fast" shutdown: roll back, disconnect, checkpoint, exit. SIGTERM
        // ("smart") waits for every client to leave, so pooled apps would run out the grace period
        // and get the server SIGKILLed into crash recovery. The grace period covers the final checkpoint.
        stopSignal: "SIGINT",
        stopTimeout: 60,
        destroyGraceSeconds: 60,
        logDriver: "json-file",
        logOpts: LOG_OPTS,
        labels: labelList({ ...base, "slipway.role": "server" }),
    }, {
        parent, provider,
        // Never two servers on one data directory: postmaster.pid cannot see across containers,
        // so a create-before-delete replace could start a second postmaster on live files. It also
        // frees a fixed publishPort before the new container binds it.
        deleteBeforeReplace: true,
    });

    if (n.backup) {
        // Dumps (`pg_dump -Fc`) restore into a newer major, so backups outlive a version change.
        const backups = new docker.Volume(`${name}-backups`, {
            name: `${target.namePrefix}-${name}-backups`,
            labels: labelList({ ...base, "slipway.role": "backups" }),
        }, { parent, provider, ...keep });
        new docker.Container(`${name}-backup`, {
            image: image.imageId,
            entrypoints: ["/bin/sh", "-c", backupScript()],
            envs: [
                `BACKUP_DIR=/backups`,
                `BACKUP_INTERVAL_SECONDS=${n.backup.intervalMinutes * 60}`,
                `BACKUP_KEEP=${n.backup.keep}`,
                `PGDATABASE=${n.database}`,
                `PGHOST=${name}`,
                `PGPASSFILE=${SECRETS}/pgpass`,
                `PGPORT=5432`,
                `PGUSER=${n.user}`,
            ],
            // Runs as root (the image default) because a fresh named volume's root is root-owned.
            uploads: [{ file: `${SECRETS}/pgpass`, content: pulumi.secret(pw.apply(p => pgpassLine(n.user, p))), permissions: "0600", owner: "0", group: "0" }],
            volumes: [{ volumeName: backups.name, containerPath: "/backups" }],
            networksAdvanced: [{ name: target.networkName }],
            restart: "unless-stopped",
            memory: 256,
            logDriver: "json-file",
            logOpts: LOG_OPTS,
            labels: labelList({
                ...base, "slipway.role": "backup", "slipway.backup.dir": "/backups",
                "slipway.backup.interval-minutes": String(n.backup.intervalMinutes), "slipway.backup.keep": String(n.backup.keep),
            }),
        }, { parent, provider, dependsOn: [server] });
    }

    const url = (user: string, p: pulumi.Output<string>) =>
        // Through server.id, so a service linking DATABASE_URL is created after a healthy server.
        pulumi.secret(pulumi.all([p, server.id]).apply(([pass]) => postgresUrl({ user, password: pass, host: name, port: 5432, database: n.database, sslmode: "disable" })));
    const schemaUrls: Record<string, pulumi.Output<string>> = {};
    for (const s of n.schemas) schemaUrls[s.name] = url(s.user, schemaPasswords[s.name]!);
    return {
        // Depend on the server so consumers (migrations, services) wait for a healthy database.
        host: server.id.apply(() => name),
        port: pulumi.output("5432"),
        database: pulumi.output(n.database),
        user: pulumi.output(n.user),
        password: pw,
        url: url(n.user, pw),
        schemaUrls,
    };
}
