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
    const replicaOpts = after.length ? { ...opts, dependsOn: after } : opts;
    const { envs, uploads } = dockerEnv(n);
    const hc = n.healthcheck;
    // Long enough for the start period plus every retry, so `wait` fails for a real reason only.
    const waitTimeout = Math.max(60, hc.startPeriodSeconds + (hc.intervalSeconds + hc.timeoutSeconds) * (hc.retries + 1));

    const release = releaseOf(n);
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
            image: imageRef,
            envs,
            uploads: uploads.length ? uploads : undefined,
            networksAdvanced: [{ name: target.networkName, aliases: [name, `${name}-${i}`] }],
            labels: labelList(labels),
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
            ...memoryLimit(n.memoryMiB),
            cpus: String(n.cpus),
            ...jsonFileLogs(n.logs.maxSize, n.logs.maxFiles),
            user: `${n.uid}:${n.gid}`,
            securityOpts: ["no-new-privileges:true"],
            capabilities: capabilitySet({ drop: ["ALL"] }),
            readOnly: n.readOnlyRootFilesystem,
            // A read-only root still needs a scratch directory for most runtimes.
            tmpfs: n.readOnlyRootFilesystem ? { "/tmp": "rw,noexec,nosuid,size=64m" } : undefined,
            stopSignal: n.stopSignal,
            stopTimeout: n.stopGracePeriodSeconds,
            destroyGraceSeconds: n.stopGracePeriodSeconds,
            mustRun: true,
        };
        containers.push(new docker.Container(...transform(t.container, `${name}-${release}-${i}`, args, replicaOpts)));
    }
    const hosts = replicaHosts(name, n.replicas);
    for (const { link } of n.links) link.docker?.scrape?.addTargets({ service: name, hosts, port: n.port, release }, containers);
    return { image, containers, release };
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
    return { ...n, healthcheck: { ...n.healthcheck, intervalSeconds: n.healthcheck.intervalSeconds ?? DEFAULTS.dockerIntervalSeconds } };
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
