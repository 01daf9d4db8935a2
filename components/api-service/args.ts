// ApiService's public Args types, apart from index.ts so normalize.ts and the target files can
// import them without an import cycle.
import type * as pulumi from "@pulumi/pulumi";
import type { Linkable } from "../core/link";
import type { Target } from "../core/target";
import type { ApiServiceDockerTransform } from "./transforms/docker";
import type { ApiServiceDoAppTransform } from "./transforms/do-app";

/**
 * Per child resource, args to merge over the ones ApiService builds, or a function that edits
 * copies of them and of the resource options (see `Transform` in core/transform.ts). Keys of
 * both targets: docker `image` and `container`, do-app `service`.
 */
export type ApiServiceTransform = ApiServiceDockerTransform & ApiServiceDoAppTransform;

export interface BuildArgs {
    context: string;
    dockerfile?: string;
    args?: Record<string, string>;
    platform?: string;
}

export interface HealthcheckArgs {
    command?: string[];
    intervalSeconds?: number;
    timeoutSeconds?: number;
    retries?: number;
    startPeriodSeconds?: number;
}

export interface MigrateArgs {
    /**
     * The migration's full argv, run from the release's image (its ENTRYPOINT is replaced, so
     * name the program). Docker runs it under the image's `timeout`, so the image needs coreutils
     * or busybox; App Platform runs it as the PRE_DEPLOY job's `run_command`.
     * @example `["/usr/local/bin/api", "migrate"]`
     */
    command: string[];
    /** Docker: seconds before the migration is stopped and counts as failed (1 to 3600). @default `600` @example `120` */
    timeoutSeconds?: number;
    /**
     * Docker: dump every linked database (pg_dump, checked readable with pg_restore --list) into its
     * backup volume, beside the scheduled dumps and off-site when configured, before the migration
     * starts; a failed dump stops the release. On App Platform the managed database's point-in-time
     * recovery covers it (no dump is taken).
     * @default `true` on a production target when a linked database has backups, otherwise `false`
     * @example `false`
     */
    backupFirst?: boolean;
}

export interface VolumeArgs {
    /** Docker volume name within the stack: 1 to 32 lowercase letters, digits, hyphens. @example `"uploads"` */
    name: string;
    /** Absolute mount path in the replicas. @example `"/var/lib/app/uploads"` */
    path: string;
    /** Mount read-only. @default `false` @example `true` */
    readOnly?: boolean;
}

export interface ApiServiceArgs {
    /** Where the service runs. @example `host.target` */
    target: Target;
    /**
     * A published image to run. Exactly one of `image` and `build`. On App Platform it must be
     * on DOCR, GHCR or Docker Hub and carry a tag or digest. A private registry's credentials go
     * on the target (`DockerHost` / `doAppTarget` `registries`). On a remote Docker engine, an image
     * that exists only on this machine (`*:local`, `slipway/*`) is refused: push it, or use `build`.
     * @default none
     * @example `"ghcr.io/acme/api:1.4.2"`
     */
    image?: pulumi.Input<string>;
    /**
     * Build the image on the Docker host from a local context (docker target only; App Platform
     * runs registry images, so this is an error there).
     * @default none
     * @example `{ context: "./api", dockerfile: "Dockerfile", args: { BUILD_VERSION: "1.4.2" } }`
     */
    build?: BuildArgs;
    /**
     * Containers (Docker) or instances (App Platform). Two on production targets, so one can be
     * replaced or fail while the other serves (seed 002 runs two); one elsewhere, to keep dev cheap.
     * @default `2` on a production target, `1` otherwise
     * @example `3`
     */
    replicas?: number;
    /**
     * The HTTP port the service listens on. The service also gets it as `PORT` in its env (on both
     * targets), so an image that reads PORT listens where health checks and routes connect.
     * @default `8080`
     * @example `3000`
     */
    port?: number;
    /** Liveness path: failing it restarts the instance on App Platform. @default `"/health"` @example `"/livez"` */
    healthPath?: string;
    /** Readiness path: gates traffic, and is what the Docker healthcheck probes. @default `"/ready"` @example `"/readyz"` */
    readyPath?: string;
    /**
     * Probe timings (both targets; bounds are App Platform's) and, on Docker, the test command.
     * The default command is a CMD-SHELL `wget || curl` against `readyPath`, which works in
     * alpine/busybox and debian-slim images; distroless or scratch images must pass their own.
     * @default `{ intervalSeconds: 10, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 10 }` (docker: `intervalSeconds: 2`, since Docker before 25 probes first one interval after start)
     * @example `{ command: ["CMD", "/app/healthcheck"], retries: 5 }`
     */
    healthcheck?: HealthcheckArgs;
    /**
     * Docker: wait for the healthcheck after creating each container, which is what makes a
     * create-before-delete replace safe (the old container goes only once the new one is healthy).
     * @default `true`
     * @example `false`
     */
    waitForHealthy?: boolean;
    /** Docker restart policy (ignored on App Platform, which always restarts). @default `"unless-stopped"` @example `"always"` */
    restart?: "unless-stopped" | "always" | "on-failure";
    /**
     * Memory limit. On App Platform, when set, it picks the smallest instance size that fits.
     * @default `"512m"`
     * @example `"1g"`
     */
    memory?: string;
    /** CPU limit in CPUs; on App Platform it picks the instance size as `memory` does. @default `0.5` @example `1` */
    cpus?: number;
    /**
     * App Platform instance size; must fit `memory`/`cpus` when those are set.
     * @default `"apps-s-1vcpu-1gb"`, or the smallest size fitting explicit `memory`/`cpus`
     * @example `"apps-d-1vcpu-2gb"`
     */
    instanceSize?: string;
    /**
     * Docker: numeric `uid:gid` to run as. Root is refused unless `allowRoot`. Not settable on
     * App Platform (it runs the image's USER): set USER in the Dockerfile.
     * @default `"10001:10001"`
     * @example `"1000:1000"`
     */
    user?: string;
    /** Permit `user` root (uid or gid 0). @default `false` @example `true` */
    allowRoot?: boolean;
    /**
     * Docker: read-only root filesystem, with a small tmpfs on /tmp. Cannot be combined with
     * file-delivered secrets (Docker cannot upload into a read-only container).
     * @default `false`
     * @example `true`
     */
    readOnlyRootFilesystem?: boolean;
    /** Signal that asks the process to stop; App Platform only sends SIGTERM. @default `"SIGTERM"` @example `"SIGQUIT"` */
    stopSignal?: string;
    /** Seconds between the stop signal and SIGKILL (1 to 600). @default `30` @example `60` */
    stopGracePeriodSeconds?: number;
    /** Docker json-file log rotation. @default `{ maxSize: "10m", maxFiles: 3 }` @example `{ maxSize: "50m", maxFiles: 5 }` */
    logs?: { maxSize?: string; maxFiles?: number };
    /**
     * Plain configuration. Secrets belong in a SecretsSync passed through `link`, so they get
     * file delivery on Docker and `type: SECRET` on App Platform. `PORT` is set from `port`;
     * setting it here too is allowed only with the same value.
     * @default `{}` (plus `PORT`)
     * @example `{ GO_ENV: "production", ALLOWED_ORIGINS: "https://example.com" }`
     */
    env?: Record<string, pulumi.Input<string>>;
    /**
     * Components whose env this service receives (database, secrets, observability). A key set
     * twice (by `env` and a link, or by two links) is an error naming both.
     * @default `[]`
     * @example `[db, secrets.pick("STRIPE_KEY"), observability]`
     */
    link?: Linkable[];
    /**
     * Docker: names this release's replicas (`<name>-<release>-<i>`). A new release is rolled out
     * gaplessly: the new replicas are created and awaited healthy during `pulumi up`, the old
     * ones are deleted at its end. Set it (e.g. to the git sha) to roll out a change the default
     * cannot see, such as a rotated secret alone; otherwise leave it unset.
     * @default 8 hex of a hash of the service's settings (image reference, env, ports, checks, ...)
     * @example `"3f9a2c1"`
     */
    release?: string;
    /**
     * Docker: `"file"` writes each secret to /run/secrets/<KEY> (0444 root-owned, like Docker's
     * own secrets: readable by the service, never writable) and sets `<KEY>_FILE`, so `docker inspect` shows no secret; `"env"` puts secrets in the environment
     * for images that cannot read files. App Platform always uses SECRET envs.
     * @default `"file"`
     * @example `"env"`
     */
    secretDelivery?: "file" | "env";
    /**
     * A release step: the command runs once per release, in a one-shot container (Docker) or a
     * PRE_DEPLOY job (App Platform) of the release's image, before the new replicas start. On
     * Docker a non-zero exit fails `pulumi up` with the job's last log lines while the old
     * replicas keep serving; a new release (image or settings) runs it again, an unchanged one never.
     * @default none (the image migrates itself, if at all)
     * @example `{ command: ["/usr/local/bin/api", "migrate"], timeoutSeconds: 300 }`
     */
    migrate?: MigrateArgs;
    /**
     * Docker: named volumes mounted into every replica (and the migration), protected and kept
     * when the stack is deleted in production. A fresh volume is root-owned unless the image has
     * the path (Docker copies its owner and files in), so create the directory in the image as
     * the service's user. Refused on App Platform, which has no volumes: use object storage
     * (DigitalOcean Spaces) for files.
     * @default `[]`
     * @example `[{ name: "uploads", path: "/var/lib/app/uploads" }]`
     */
    volumes?: VolumeArgs[];
    /**
     * Transform how this component creates its underlying resources, for what the args above do
     * not cover: per child, args merged over the component's (shallow), or a function editing
     * copies of the args and options in place. Docker: `image` (the `docker.RemoteImage`, or the
     * `docker.Image` of a `build`) and `container` (every replica); do-app: `service` (the App
     * spec entry, before DoApp merges it). A key of the other target is accepted and unused, so a
     * program moves between targets unchanged; logical names never change. The component's own
     * outputs (endpoint, release) still come from the args above.
     * @default none
     * @example `{ container: (args) => { args.ulimits = [{ name: "nofile", soft: 65536, hard: 65536 }]; } }`
     */
    transform?: ApiServiceTransform;
}
