import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ErrorContext, invalid } from "../core/errors";
import { capabilitySet, goDuration, jsonFileLogs, labelList, memoryLimit } from "../core/docker";
import { refuseLocalOnlyImage } from "../core/registries";
import { DockerTarget } from "../core/target";
import { Transform, transform } from "../core/transform";
import type { BackupBeforeMigration } from "../core/link";
import type { ApiServiceDockerTransform } from "./transforms/docker";
import {
    ApiServiceInput, DEFAULTS, ImageSource, NeutralApiService, NormalizedApiService, SECRETS_DIR, envEntries, envKeyClaims,
} from "./normalize";

export type { ApiServiceDockerTransform } from "./transforms/docker";

export interface ApiServiceDockerResources {
    image: docker.RemoteImage | docker.Image;
    /** Replica i (1-based) is `containers[i - 1]`, logical name `<name>-<release>-<i>`. */
    containers: docker.Container[];
    /** The release the replicas belong to (see {@link releaseOf}). */
    release: string;
    /** `migrate`: this release's one-shot migration container. */
    migration?: docker.Container;
    /** `migrate.backupFirst`: one dump job per linked database, run before the migration. */
    backups: docker.Container[];
    /** `volumes`, in the order given. */
    volumes: docker.Volume[];
}

// Inputs the provider updates in place (no restart), so they do not make a new release.
// `links` is left out too: what links give the replicas is already in `env`.
const IN_PLACE: ReadonlySet<keyof NormalizedApiService> = new Set(["replicas", "restart", "memoryMiB", "release", "links"]);

/**
 * The release a service's replicas belong to: 8 hex of a hash of every setting known while the
 * program runs, except those the provider changes in place. Values that are Outputs (secrets,
 * linked connection strings) cannot be part of a logical name; a change of one of them alone
 * replaces the replicas in place (delete-before-create), so rotate with an explicit `release`.
 */
export function releaseOf(n: NormalizedApiService): string {
    if (n.release) return n.release;
    const known = Object.fromEntries(Object.entries(n).filter(([k]) => !IN_PLACE.has(k as keyof NormalizedApiService)));
    const json = JSON.stringify(known, (_k, v) => (pulumi.Output.isInstance(v) ? "<output>" : v));
    return createHash("sha256").update(json).digest("hex").slice(0, 8);
}

/**
 * One container per replica on the target's network, named `<name>-<release>-<i>`.
 *
 * Why the release is in the logical name: the provider replaces every container
 * delete-before-create (and the engine replaces independent replicas in parallel), so a replaced
 * replica set is an outage. A new logical name instead makes the engine create the new replicas
 * during `pulumi up` (each awaited healthy with `wait`) and delete the old ones at the end of the
 * update. Old and new answer to the same aliases (`<name>`, `<name>-<i>`) meanwhile, and the
 * gateway's retries cover the moment an old one stops. A release whose replicas never get
 * healthy fails the update before anything old is deleted.
 */
export function createApiServiceDocker(
    name: string,
    parent: pulumi.Resource,
    n: NormalizedApiService,
    target: DockerTarget,
    t: ApiServiceDockerTransform = {},
): ApiServiceDockerResources {
    const opts = { parent, provider: target.provider };
    const { image, imageRef } = dockerImage(name, n.source, target, opts, t.image);
    const after = n.links.flatMap(({ link }) => link.docker?.dependsOn ?? []);
    const { envs, uploads } = dockerEnv(n);
    const hc = n.healthcheck;
    // Long enough for the start period plus every retry, so `wait` fails for a real reason only.
    const waitTimeout = Math.max(60, hc.startPeriodSeconds + (hc.intervalSeconds + hc.timeoutSeconds) * (hc.retries + 1));

    const release = releaseOf(n);
    const volumes = serviceVolumes(name, n, target, opts);
    const mounts = volumes.length
        ? volumes.map((v, k) => ({ volumeName: v.name, containerPath: n.volumes![k]!.path, ...(n.volumes![k]!.readOnly ? { readOnly: true } : {}) }))
        : undefined;
    // What every container of the release shares with the replicas: image, env, secret files,
    // volumes and the hardening.
    const shared: docker.ContainerArgs = {
        image: imageRef,
        envs,
        uploads: uploads.length ? uploads : undefined,
        volumes: mounts,
        ...memoryLimit(n.memoryMiB),
        cpus: String(n.cpus),
        ...jsonFileLogs(n.logs.maxSize, n.logs.maxFiles),
        user: `${n.uid}:${n.gid}`,
        securityOpts: ["no-new-privileges:true"],
        capabilities: capabilitySet({ drop: ["ALL"] }),
        readOnly: n.readOnlyRootFilesystem,
        // A read-only root still needs a scratch directory for most runtimes.
        tmpfs: n.readOnlyRootFilesystem ? { "/tmp": "rw,noexec,nosuid,size=64m" } : undefined,
    };
    const { migration, backups } = n.migrate
        ? releaseStep(name, n, n.migrate, target, release, shared, after, opts)
        : { migration: undefined, backups: [] };
    const replicaDeps = [...after, ...(migration ? [migration] : [])];
    const replicaOpts = replicaDeps.length ? { ...opts, dependsOn: replicaDeps } : opts;
    const containers: docker.Container[] = [];
    for (let i = 1; i <= n.replicas; i++) {
        const labels: Record<string, string> = {
            ...target.labels,
            "slipway.component": "ApiService",
            "slipway.name": name,
            "slipway.release": release,
            "slipway.replica": String(i),
        };
        const args: docker.ContainerArgs = {
            ...shared,
            networksAdvanced: [{ name: target.networkName, aliases: [name, `${name}-${i}`] }],
            // The migration's exit code: read from its outputs, so a failed one stops the replicas here.
            labels: migration ? [...labelList(labels), { label: "slipway.migration-exit-code", value: exitedZero(name, "migration", migration, release) }] : labelList(labels),
            healthcheck: {
                tests: hc.command,
                interval: goDuration(hc.intervalSeconds),
                timeout: goDuration(hc.timeoutSeconds),
                retries: hc.retries,
                startPeriod: goDuration(hc.startPeriodSeconds),
            },
            wait: n.waitForHealthy,
            waitTimeout: n.waitForHealthy ? waitTimeout : undefined,
            restart: n.restart,
            stopSignal: n.stopSignal,
            stopTimeout: n.stopGracePeriodSeconds,
            destroyGraceSeconds: n.stopGracePeriodSeconds,
            mustRun: true,
        };
        containers.push(new docker.Container(...transform(t.container, `${name}-${release}-${i}`, args, replicaOpts)));
    }
    const hosts = replicaHosts(name, n.replicas);
    for (const { link } of n.links) link.docker?.scrape?.addTargets({ service: name, hosts, port: n.port, release }, containers);
    return { image, containers, release, migration, backups, volumes };
}

/**
 * `volumes`: one named Docker volume each, `<prefix>-<service>-<name>`. Kept in production: a
 * protected volume survives a replace or a deleted stack, for a human to decide.
 */
function serviceVolumes(name: string, n: NormalizedApiService, target: DockerTarget, opts: pulumi.CustomResourceOptions): docker.Volume[] {
    const keep = { protect: target.production, retainOnDelete: target.production };
    return (n.volumes ?? []).map(v => new docker.Volume(`${name}-volume-${v.name}`, {
        name: `${target.namePrefix}-${name}-${v.name}`,
        labels: labelList({ ...target.labels, "slipway.component": "ApiService", "slipway.name": name, "slipway.role": "volume", "slipway.volume": v.name }),
    }, { ...opts, ...keep }));
}

/**
 * The release step (see `ApiServiceArgs.migrate`): with `backupFirst`, one dump job per linked
 * database that takes backups, then the migration, each a one-shot container that the create
 * waits for (`attach`). Their logical names carry the release: a new release runs them again
 * (created during the update, the old ones deleted at its end), an unchanged one never. The
 * provider does not fail a job that exits non-zero (facts sheet, "A container that exits"), so
 * each next step reads the previous one's exit code from its outputs (`exitedZero`).
 */
function releaseStep(
    name: string, n: NormalizedApiService, m: NonNullable<NormalizedApiService["migrate"]>, target: DockerTarget, release: string,
    shared: docker.ContainerArgs, after: pulumi.Resource[], opts: pulumi.CustomResourceOptions,
): { migration: docker.Container; backups: docker.Container[] } {
    // restart "no": the provider's default, written out as the engine reports it.
    const job = { attach: true, logs: true, mustRun: false, restart: "no" };
    const parts = m.backupFirst
        ? n.links.flatMap(({ link }) => (link.docker?.backupBeforeMigration ? [link.docker.backupBeforeMigration] : []))
        : [];
    const backups = parts.map((b: BackupBeforeMigration) => {
        const p = b.job(release, m.timeoutSeconds);
        return new docker.Container(`${name}-backup-${b.database}-${release}`, {
            image: p.image,
            entrypoints: p.entrypoints,
            envs: p.envs,
            uploads: p.uploads,
            volumes: p.volumes,
            networksAdvanced: [{ name: target.networkName }],
            labels: labelList({ ...p.labels, "slipway.release": release, "slipway.for": name }),
            ...memoryLimit(p.memoryMiB),
            ...jsonFileLogs(),
            user: p.user,
            securityOpts: ["no-new-privileges:true"],
            capabilities: capabilitySet({ drop: ["ALL"] }),
            ...job,
        }, { ...jobOpts(opts), ...(after.length ? { dependsOn: after } : {}) });
    });
    const labels = labelList({ ...target.labels, "slipway.component": "ApiService", "slipway.name": name, "slipway.release": release, "slipway.role": "migration" });
    const migration = new docker.Container(`${name}-migrate-${release}`, {
        ...shared,
        // No service aliases: the job must never receive the service's traffic.
        networksAdvanced: [{ name: target.networkName }],
        labels: backups.length
            ? [...labels, ...backups.map((b, k) => ({ label: `slipway.backup-exit-code.${parts[k]!.database}`, value: exitedZero(name, `dump of ${parts[k]!.database}`, b, release) }))]
            : labels,
        // `timeout` from the image bounds the run: the provider's wait has no timeout of its own.
        entrypoints: ["timeout", "-k", "10", String(m.timeoutSeconds)],
        command: m.command,
        ...job,
    }, { ...jobOpts(opts), dependsOn: [...after, ...backups] });
    return { migration, backups };
}

/**
 * A job's output (`containerLogs`) is whatever the job printed, a connection string a tool echoes
 * included, so the engine keeps it a secret in the state. Only a failure shows its last lines.
 */
function jobOpts(opts: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
    return { ...opts, additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "containerLogs"] };
}

/**
 * A job's exit code, for the next step's input: "0", or the update stops with the job's last
 * log lines. Unknown in a preview while the job is new; undefined only under mocks without outputs.
 */
function exitedZero(name: string, what: string, job: docker.Container, release: string): pulumi.Output<string> {
    // The logs are a secret (jobOpts); the code this returns is not, and only a failure's message shows them.
    return pulumi.all([job.exitCode, pulumi.unsecret(job.containerLogs), job.urn]).apply(([code, logs, urn]) => {
        if (code === undefined || code === null || code === 0) return String(code ?? "unknown");
        const last = String(logs ?? "").trimEnd().split("\n").slice(-30).join("\n").slice(-4000);
        const why = code === 124 || code === 137 ? `was stopped after its timeout (exit code ${code})` : `exited with code ${code}`;
        throw new pulumi.ResourceError(
            `ApiService "${name}": the ${what} of release ${release} ${why}, so the release stopped there: the new replicas were not ` +
            `created and the old ones keep serving. Last log lines:\n${last || "(no output)"}\n` +
            `Fix the cause and deploy again (a new image is a new release); to run this release's ${what} again as it is: pulumi up --replace '${urn}'`,
            job, true);
    });
}

/** Per-replica aliases: a stopped replica's name stops resolving, which a scraper sees as down. */
const replicaHosts = (name: string, replicas: number) => Array.from({ length: replicas }, (_, i) => `${name}-${i + 1}`);

/**
 * The docker target's own checks and defaults, run after normalize (see `validateApiService`):
 * the build context on this machine, the `<KEY>_FILE` names file delivery adds, secret files
 * against a read-only root, and Docker's probe interval. Returns the service normalized for docker.
 */
export function checkApiServiceDocker(name: string, args: ApiServiceInput, n: NeutralApiService): NormalizedApiService {
    const ctx: ErrorContext = { kind: "ApiService", name };
    if (n.source.kind === "build") checkBuildContext(ctx, n.source);
    else refuseLocalOnlyImage(ctx, "image", n.source.ref, args.target.kind === "docker" && args.target.remote);
    if (n.secretDelivery === "file") claimSecretFiles(ctx, args, n);
    const hosts = replicaHosts(name, n.replicas);
    for (const { link } of n.links) link.docker?.scrape?.check?.({ service: name, hosts, port: n.port });
    if (n.readOnlyRootFilesystem && n.secretDelivery === "file" && n.env.some(e => e.secret)) {
        // Docker refuses to copy files into a container whose root filesystem is read-only.
        invalid(ctx, "readOnlyRootFilesystem", "cannot be combined with file-delivered secrets (Docker cannot upload into a read-only container)",
            `set secretDelivery: "env", or readOnlyRootFilesystem: false`);
    }
    // Same keys in the same order as normalize made them: releaseOf hashes this object.
    return {
        ...n, healthcheck: { ...n.healthcheck, intervalSeconds: n.healthcheck.intervalSeconds ?? DEFAULTS.dockerIntervalSeconds },
        ...(n.migrate ? { migrate: { ...n.migrate, backupFirst: backupFirst(ctx, n, args.target.production) } } : {}),
    };
}

/**
 * `migrate.backupFirst`: on by default in production when a linked database takes backups; asked
 * for explicitly, it needs one (there would be nowhere to put the dump).
 */
function backupFirst(ctx: ErrorContext, n: NeutralApiService, production: boolean): boolean {
    const dumps = n.links.filter(({ link }) => link.docker?.backupBeforeMigration);
    if (n.migrate?.backupFirst === true && !dumps.length) {
        invalid(ctx, "migrate.backupFirst", "is true, but no linked ManagedDatabase takes backups on this target, so there is nowhere to keep the dump",
            "link the ManagedDatabase and give it backup: { ... } (on by default in production), or set backupFirst: false");
    }
    return n.migrate?.backupFirst ?? (production && dumps.length > 0);
}

function checkBuildContext(ctx: ErrorContext, b: Extract<ImageSource, { kind: "build" }>): void {
    if (typeof b.context !== "string" || b.context === "" || !fs.existsSync(b.context) || !fs.statSync(b.context).isDirectory()) {
        invalid(ctx, "build.context", `${JSON.stringify(b.context)} is not a directory`, "point it at the folder holding the Dockerfile, relative to the Pulumi project");
    }
    if (!fs.existsSync(path.resolve(b.context, b.dockerfile))) {
        invalid(ctx, "build.dockerfile", `${JSON.stringify(b.dockerfile)} does not exist in ${JSON.stringify(b.context)}`, "give the Dockerfile's path relative to build.context");
    }
}

/**
 * File delivery adds `<KEY>_FILE` beside each secret; it must not shadow a real variable. The
 * claims replay normalize's, in its order, so a clash names the same two owners it always did.
 */
function claimSecretFiles(ctx: ErrorContext, args: ApiServiceInput, n: NeutralApiService): void {
    const claim = envKeyClaims(ctx);
    for (const { e, source, path: pathForError } of envEntries(args, n.links)) {
        claim(e.key, source, pathForError);
        if (e.secret) claim(`${e.key}_FILE`, `${source} (file delivery of ${e.key})`, pathForError);
    }
}

/** The image the replicas run: pulled (RemoteImage), or built on the target engine (Image, never pushed). */
function dockerImage(
    name: string, source: ImageSource, target: DockerTarget, opts: pulumi.CustomResourceOptions,
    t: ApiServiceDockerTransform["image"],
): { image: docker.RemoteImage | docker.Image; imageRef: pulumi.Output<string> } {
    if (source.kind === "image") {
        const remoteArgs: docker.RemoteImageArgs = { name: source.ref, keepLocally: true };
        const remote = new docker.RemoteImage(...transform(t as Transform<docker.RemoteImageArgs> | undefined, `${name}-image`, remoteArgs, opts));
        return { image: remote, imageRef: remote.imageId };
    }
    const buildArgs: docker.ImageArgs = {
        imageName: `${target.namePrefix}-${name}:slipway`,
        build: {
            context: source.context,
            dockerfile: source.dockerfile,
            args: source.args,
            platform: source.platform,
        },
        // Built on the target engine for the target engine; no registry involved.
        skipPush: true,
    };
    const built = new docker.Image(...transform(t as Transform<docker.ImageArgs> | undefined, `${name}-image`, buildArgs, opts));
    return { image: built, imageRef: built.repoDigest };
}

/** The replicas' env, and with file delivery the secret files and their `<KEY>_FILE` pointers. */
function dockerEnv(n: NormalizedApiService): { envs: pulumi.Input<string>[]; uploads: docker.types.input.ContainerUpload[] } {
    const fileSecrets = n.secretDelivery === "file";
    const envs: pulumi.Input<string>[] = [];
    const uploads: docker.types.input.ContainerUpload[] = [];
    for (const e of n.env) {
        if (e.secret && fileSecrets) {
            const file = `${SECRETS_DIR}/${e.key}`;
            envs.push(`${e.key}_FILE=${file}`);
            // Root-owned and world-readable inside the container, exactly Docker's own secrets
            // (0444 root:root): an `owner` would make the daemon look the service's numeric user
            // up in the *host's* passwd database and fail the create (moby/moby#34142).
            uploads.push({ file, content: pulumi.secret(e.value), permissions: "0444" });
        } else if (e.secret) {
            envs.push(pulumi.secret(pulumi.interpolate`${e.key}=${e.value}`));
        } else {
            envs.push(typeof e.value === "string" ? `${e.key}=${e.value}` : pulumi.interpolate`${e.key}=${e.value}`);
        }
    }
    return { envs, uploads };
}
