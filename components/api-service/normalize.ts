import * as pulumi from "@pulumi/pulumi";
import { ErrorContext, invalid, requireInt, requireOneOf } from "../core/errors";
import { EnvVar, envVar } from "../core/env";
import { Link, isLinkable } from "../core/link";
import { DO_NAME, ENV_KEY } from "../core/naming";
import { ServiceEndpoint } from "../core/service";
import { Shape, checkShape, shape, unknownKeyFix } from "../core/shape";
import type { ApiServiceArgs, ApiServiceTransform, BuildArgs, HealthcheckArgs, MigrateArgs, VolumeArgs } from "./args";

export type { BuildArgs, HealthcheckArgs } from "./args";
import { Target } from "../core/target";
import { checkTransform } from "../core/transform";
import type { AppServiceAlertSpec, AppServiceLogDestinationSpec, AppServiceSpec } from "../targets/app-spec";

const RELEASE = /^[a-z0-9][a-z0-9-]{0,15}$/;

/** Every `transform` key, of both targets: a key of the other target is accepted and unused. */
export const TRANSFORM_KEYS = { image: true, container: true, service: true } as const satisfies Record<keyof ApiServiceTransform, true>;

export const DEFAULTS = {
    port: 8080,
    replicasProduction: 2,
    replicasOther: 1,
    healthPath: "/health",
    readyPath: "/ready",
    intervalSeconds: 10,
    // Docker before 25 has no start_interval: the first probe runs one interval after start, so
    // the interval bounds how fast a new replica (and a rollout) can be called healthy.
    dockerIntervalSeconds: 2,
    timeoutSeconds: 5,
    retries: 3,
    startPeriodSeconds: 10,
    restart: "unless-stopped",
    memory: "512m",
    cpus: 0.5,
    user: "10001:10001",
    stopSignal: "SIGTERM",
    stopGracePeriodSeconds: 30,
    logMaxSize: "10m",
    logMaxFiles: 3,
    secretDelivery: "file",
    migrateTimeoutSeconds: 600,
    /** Seed 002 runs its API on this size; also what `memory`/`cpus` defaults fit on DO. */
    instanceSize: "apps-s-1vcpu-1gb",
} as const;

export const RESTART_POLICIES = ["unless-stopped", "always", "on-failure"] as const;
export const STOP_SIGNALS = ["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGWINCH"] as const;
export const SECRET_DELIVERIES = ["file", "env"] as const;
/** Where file-delivered secrets land; the env gets `<KEY>_FILE` pointing here. */
export const SECRETS_DIR = "/run/secrets";

// Conservative on purpose: the path also goes into a shell healthcheck command.
const HTTP_PATH = /^\/[A-Za-z0-9._~/-]{0,255}$/;
const MEMORY = /^(\d+(?:\.\d+)?)\s*([kmg])(?:i?b)?$/i;
const USER = /^(\d+)(?::(\d+))?$/;
const LOG_SIZE = /^[1-9]\d*[kmg]$/;
const BUILD_ARG = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A `transform` entry: args to merge or a function, which only a program can give. */
const child = (what: string) => shape.program(`${what}: args to merge over the component's, or (args, opts, name) => void`);

/**
 * Every key ApiServiceArgs takes, at every depth, with its type: `checkShape` runs it first in
 * normalize (unknown keys with a did-you-mean, types before meaning), and `toJsonSchema` turns it
 * into the schema of a stack file's `slipway:services.<name>` block (which adds its own `link` and
 * `secrets`). `PropsOf` makes an Args field without a shape here fail to compile. Meaning (ranges,
 * formats, one of image/build) is checked after it, below and in docker.ts / do-app.ts.
 */
export const API_SERVICE_SHAPE: Shape = shape.object<ApiServiceArgs>({
    target: shape.program("where the service runs: a DockerHost's target or doAppTarget(...)"),
    image: shape.input("a published image with a tag or digest, e.g. ghcr.io/acme/api:1.4.2"),
    build: shape.object<BuildArgs>({
        context: shape.string(undefined, "the folder holding the Dockerfile, relative to the project"),
        dockerfile: shape.string(undefined, "the Dockerfile's path relative to context"),
        args: shape.record(shape.string(undefined, "a build argument's value"), "build arguments"),
        platform: shape.string(undefined, "e.g. linux/amd64"),
    }, ["context"], "docker only: build the image on the host"),
    replicas: shape.int("containers or instances, 1 to 20"),
    port: shape.int("the HTTP port the service listens on"),
    healthPath: shape.string(undefined, "liveness path, e.g. /health"),
    readyPath: shape.string(undefined, "readiness path, e.g. /ready"),
    healthcheck: shape.object<HealthcheckArgs>({
        command: shape.list(shape.string(), "docker: the test, starting with CMD or CMD-SHELL"),
        intervalSeconds: shape.int("1 to 300"),
        timeoutSeconds: shape.int("1 to 120"),
        retries: shape.int("1 to 50"),
        startPeriodSeconds: shape.int("0 to 3600"),
    }, [], "probe timings and, on docker, the test command"),
    waitForHealthy: shape.bool("docker: wait for the healthcheck after creating each container"),
    restart: shape.string(RESTART_POLICIES, "docker restart policy"),
    memory: shape.string(undefined, "memory limit, e.g. 512m or 1g"),
    cpus: shape.number("CPU limit, 0.01 to 64"),
    instanceSize: shape.string(undefined, "App Platform instance size slug, e.g. apps-s-1vcpu-1gb"),
    user: shape.string(undefined, "docker: numeric uid:gid, e.g. 10001:10001"),
    allowRoot: shape.bool("permit user root"),
    readOnlyRootFilesystem: shape.bool("docker: read-only root filesystem"),
    stopSignal: shape.string(STOP_SIGNALS, "the signal that asks the process to stop"),
    stopGracePeriodSeconds: shape.int("seconds before SIGKILL, 1 to 600"),
    logs: shape.object<NonNullable<ApiServiceArgs["logs"]>>({
        maxSize: shape.string(undefined, "e.g. 10m"),
        maxFiles: shape.int("1 to 100"),
    }, [], "docker json-file log rotation"),
    env: shape.record(shape.input("a value, or { secret: <configKey> } / { env: <VAR> }"), "plain configuration by environment key"),
    link: shape.program("the components whose env this service receives"),
    release: shape.string(undefined, "docker: names this release's replicas, e.g. a short git sha"),
    secretDelivery: shape.string(SECRET_DELIVERIES, "docker: secrets as files or env"),
    migrate: shape.object<MigrateArgs>({
        command: shape.list(shape.string(undefined, "one argument"), "the migration's full argv, e.g. [/usr/local/bin/api, migrate]"),
        timeoutSeconds: shape.int("docker: 1 to 3600"),
        backupFirst: shape.bool("docker: dump the linked databases before the migration"),
    }, ["command"], "a release step run once per release, before the new replicas start"),
    volumes: shape.list(shape.object<VolumeArgs>({
        name: shape.string(undefined, "1 to 32 lowercase letters, digits, hyphens"),
        path: shape.string(undefined, "absolute mount path, e.g. /var/lib/app/uploads"),
        readOnly: shape.bool("mount read-only"),
    }, ["name", "path"]), "docker: named volumes mounted into the replicas"),
    transform: shape.object<ApiServiceTransform>({
        image: child("docker: the image"),
        container: child("docker: every replica's container"),
        service: child("do-app: the App spec entry"),
    }, [], "program only: per child resource, how it is created"),
});

/**
 * What normalization accepts: ApiServiceArgs (documented in index.ts), with the literal unions
 * widened to string because stack config arrives untyped and is checked here.
 */
export type ApiServiceInput = Omit<ApiServiceArgs, "restart" | "secretDelivery"> & { restart?: string; secretDelivery?: string };

export type ImageSource =
    | {
        kind: "image"; ref: pulumi.Input<string>;
        /** do-app: the App spec image block, parsed by the do-app check when the ref is a plain string. */
        doImage?: NonNullable<AppServiceSpec["image"]>;
    }
    | { kind: "build"; context: string; dockerfile: string; args: Record<string, string>; platform?: string };

export interface NormalizedApiService {
    name: string;
    source: ImageSource;
    replicas: number;
    port: number;
    healthPath: string;
    readyPath: string;
    healthcheck: Healthcheck;
    waitForHealthy: boolean;
    restart: typeof RESTART_POLICIES[number];
    memoryMiB: number;
    cpus: number;
    uid: string;
    gid: string;
    readOnlyRootFilesystem: boolean;
    stopSignal: string;
    stopGracePeriodSeconds: number;
    logs: { maxSize: string; maxFiles: number };
    /** Own env and link env merged, sorted by key, duplicate-free. */
    env: EnvVar[];
    /** What each `link` entry gave, in order, with its label for messages. */
    links: { label: string; link: Link }[];
    secretDelivery: typeof SECRET_DELIVERIES[number];
    /** docker: the release the replicas are named by; undefined = derived from the settings. */
    release?: string;
    /** The release step; `backupFirst` undefined until the target's check decides it. Absent without `migrate`. */
    migrate?: Migrate;
    /** docker: named volumes (absent when none). */
    volumes?: Volume[];
    /** do-app only: one of DO_INSTANCE_SIZES (images.ts), chosen by the do-app check. */
    instanceSize?: string;
    /** do-app only (empty on docker): what the links give the service, merged by the do-app check. */
    alerts: AppServiceAlertSpec[];
    logDestinations: AppServiceLogDestinationSpec[];
}

export interface Migrate { command: string[]; timeoutSeconds: number; backupFirst?: boolean }
export interface Volume { name: string; path: string; readOnly: boolean }

export interface Healthcheck { command: string[]; intervalSeconds: number; timeoutSeconds: number; retries: number; startPeriodSeconds: number }

/**
 * What normalize returns: the target-neutral part. The probe interval's default differs per
 * target, so it stays undefined unless given; the target's check (docker.ts / do-app.ts) fills it
 * in and adds the target's own fields. `validateApiService` (index.ts) runs both.
 */
export type NeutralApiService = Omit<NormalizedApiService, "healthcheck"> & {
    healthcheck: Omit<Healthcheck, "intervalSeconds"> & { intervalSeconds: number | undefined };
};

/** MiB from "512m", "1g", "1.5GiB", "262144k"; undefined when it is not a size. */
export function parseMemory(value: string): number | undefined {
    const m = MEMORY.exec(value.trim());
    if (!m) return undefined;
    const factor = { k: 1 / 1024, m: 1, g: 1024 }[m[2]!.toLowerCase() as "k" | "m" | "g"];
    const mib = Number(m[1]) * factor;
    return Number.isInteger(mib) ? mib : undefined;
}

export function defaultHealthcheckCommand(port: number, readyPath: string): string[] {
    // Works in busybox/alpine (wget) and debian-slim style images (curl); distroless and scratch
    // images have neither and must pass `healthcheck.command` (their own probe binary).
    const url = `http://127.0.0.1:${port}${readyPath}`;
    return ["CMD-SHELL", `wget -q -O /dev/null '${url}' || curl -fsS -o /dev/null '${url}' || exit 1`];
}

/**
 * The target-neutral checks and defaults: the same rules on every target, so a program moves
 * between them unchanged. No file system and no target tables here; what only one target can
 * check is in its own file (`checkApiServiceDocker`, `checkApiServiceDoApp`).
 */
export function normalizeApiService(name: string, args: ApiServiceInput): NeutralApiService {
    const ctx: ErrorContext = { kind: "ApiService", name };
    checkTransformKeys(ctx, (args as { transform?: unknown } | undefined)?.transform, Object.keys(TRANSFORM_KEYS));
    // `KEY:` with nothing after it (YAML null) says so, rather than "must be a string, got null".
    const givenEnv: unknown = (args as { env?: unknown } | undefined)?.env;
    for (const [key, value] of Object.entries(isMapping(givenEnv) ? givenEnv : {})) {
        if (value === null) invalid(ctx, `env.${key}`, `${key} has no value`, `give ${key} a value or leave it out`);
    }
    // A command line where an argv is expected: say how to split it (the shape would wrap it whole).
    const givenCommand: unknown = (args as { migrate?: { command?: unknown } } | undefined)?.migrate?.command;
    if (typeof givenCommand === "string") {
        invalid(ctx, "migrate.command", `must be a list (the program and each argument), got the string ${JSON.stringify(givenCommand)}`,
            `split it into its words, e.g. ${JSON.stringify(givenCommand.trim().split(/\s+/))}; for shell syntax use ["/bin/sh", "-c", ${JSON.stringify(givenCommand)}]`);
    }
    // Types before meaning: an unknown key or a value of the wrong type, anywhere, is named first.
    checkShape(ctx, API_SERVICE_SHAPE, args ?? null);
    checkTargetAndName(ctx, name, args.target);
    const source = normalizeSource(ctx, args);
    const replicas = requireInt(ctx, "replicas", args.replicas ?? (args.target.production ? DEFAULTS.replicasProduction : DEFAULTS.replicasOther), 1, 20);
    const port = requireInt(ctx, "port", args.port ?? DEFAULTS.port, 1, 65535);
    const healthPath = httpPath(ctx, "healthPath", args.healthPath ?? DEFAULTS.healthPath);
    const readyPath = httpPath(ctx, "readyPath", args.readyPath ?? DEFAULTS.readyPath);
    const healthcheck = normalizeHealthcheck(ctx, args.healthcheck ?? {}, port, readyPath);
    const restart = requireOneOf(ctx, "restart", args.restart ?? DEFAULTS.restart, RESTART_POLICIES);
    const { memoryMiB, cpus } = normalizeLimits(ctx, args);
    const { uid, gid } = normalizeUser(ctx, args);
    const readOnlyRootFilesystem = args.readOnlyRootFilesystem ?? false;
    const stopSignal = requireOneOf(ctx, "stopSignal", args.stopSignal ?? DEFAULTS.stopSignal, STOP_SIGNALS);
    const stopGracePeriodSeconds = requireInt(ctx, "stopGracePeriodSeconds", args.stopGracePeriodSeconds ?? DEFAULTS.stopGracePeriodSeconds, 1, 600);
    const logs = normalizeLogs(ctx, args.logs);
    const secretDelivery = requireOneOf(ctx, "secretDelivery", args.secretDelivery ?? DEFAULTS.secretDelivery, SECRET_DELIVERIES);
    const waitForHealthy = args.waitForHealthy ?? true;
    const links = resolveLinks(ctx, name, port, args.link);
    const env = withPort(ctx, mergeEnv(ctx, args, links), port);
    if (args.release !== undefined && (typeof args.release !== "string" || !RELEASE.test(args.release))) {
        invalid(ctx, "release", `${JSON.stringify(args.release)} is not a release name`,
            "use 1 to 16 lowercase letters, digits and hyphens, e.g. a short git sha \"3f9a2c1\"");
    }
    const migrate = args.migrate === undefined ? undefined : normalizeMigrate(ctx, args.migrate);
    const volumes = normalizeVolumes(ctx, args.volumes ?? [], readOnlyRootFilesystem);
    // Key order is part of the docker release hash (releaseOf): keep it. The release step and the
    // volumes are left out when unset, so a service without them keeps its release.
    return {
        name, source, replicas, port, healthPath, readyPath, healthcheck, waitForHealthy, restart, memoryMiB, cpus, uid, gid,
        readOnlyRootFilesystem, stopSignal, stopGracePeriodSeconds, logs, env, links, secretDelivery, release: args.release,
        ...(migrate ? { migrate } : {}), ...(volumes.length ? { volumes } : {}),
        alerts: [], logDestinations: [],
    };
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** `migrate`: an argv (never a shell string: the target decides how to run it) and a bounded timeout. */
function normalizeMigrate(ctx: ErrorContext, m: MigrateArgs): Migrate {
    if (m.command.length === 0 || m.command.length > 64 || m.command.some(a => a === "" || a.includes("\0"))) {
        invalid(ctx, "migrate.command", `${JSON.stringify(m.command)} is not a command`,
            `give the program and its arguments as a list of 1 to 64 non-empty strings, e.g. ["/usr/local/bin/api", "migrate"]`);
    }
    const timeoutSeconds = requireInt(ctx, "migrate.timeoutSeconds", m.timeoutSeconds ?? DEFAULTS.migrateTimeoutSeconds, 1, 3600);
    return { command: [...m.command], timeoutSeconds, ...(m.backupFirst !== undefined ? { backupFirst: m.backupFirst } : {}) };
}

const VOLUME_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** Where a volume would hide what the container needs: the secret files, the kernel's file systems, the root. */
const RESERVED_PATHS = ["/proc", "/sys", "/dev", SECRETS_DIR];

/**
 * `volumes`: names unique and Docker-safe, paths absolute, normalised and distinct, none over
 * (or above) the secret files or the kernel's file systems. Checked on every target, so a
 * program moves unchanged; do-app then refuses any volume at all.
 */
function normalizeVolumes(ctx: ErrorContext, given: VolumeArgs[], readOnlyRoot: boolean): Volume[] {
    const names = new Map<string, number>();
    const paths = new Map<string, number>();
    return given.map((v, i) => {
        const at = (k: string) => `volumes[${i}].${k}`;
        if (!VOLUME_NAME.test(v.name)) {
            invalid(ctx, at("name"), `${JSON.stringify(v.name)} is not a volume name`, `use 1 to 32 lowercase letters, digits and hyphens, starting with a letter or digit, e.g. "uploads"`);
        }
        if (names.has(v.name)) invalid(ctx, at("name"), `"${v.name}" is also the name of volumes[${names.get(v.name)}]`, "give each volume its own name");
        names.set(v.name, i);
        if (!v.path.startsWith("/")) {
            invalid(ctx, at("path"), `${JSON.stringify(v.path)} is not an absolute path`, `start it with "/", e.g. "/${v.path.replace(/^\.?\/*/, "")}"`);
        }
        if (v.path === "/" || v.path.endsWith("/") || v.path.split("/").slice(1).some(p => p === "" || p === "." || p === "..") || /[\s:,]/.test(v.path)) {
            invalid(ctx, at("path"), `${JSON.stringify(v.path)} is not a plain mount path`,
                `write a normalised absolute path below "/" without a trailing "/", ".", "..", spaces, ":" or ",", e.g. "/var/lib/app/uploads"`);
        }
        const within = (a: string, b: string) => a === b || a.startsWith(`${b}/`);
        const reserved = RESERVED_PATHS.find(r => within(v.path, r) || within(r, v.path));
        if (reserved) {
            invalid(ctx, at("path"), `"${v.path}" would ${within(v.path, reserved) ? "sit inside" : "hide"} ${reserved}${reserved === SECRETS_DIR ? ", where the secret files are written" : ", which the container needs"}`,
                "mount the volume elsewhere, e.g. under /var/lib/<service>");
        }
        if (readOnlyRoot && within(v.path, "/tmp")) {
            invalid(ctx, at("path"), `"${v.path}" is on the tmpfs a read-only root filesystem gets at /tmp`, "mount the volume outside /tmp");
        }
        if (paths.has(v.path)) invalid(ctx, at("path"), `"${v.path}" is also the path of volumes[${paths.get(v.path)}]: two volumes cannot be mounted on one path`, "give each volume its own path");
        paths.set(v.path, i);
        return { name: v.name, path: v.path, readOnly: v.readOnly ?? false };
    });
}

/**
 * `transform` before the shape, in the wording every component shares (its keys name child
 * resources, and a misspelt one gets a did-you-mean); then each value is args or a function.
 */
function checkTransformKeys(ctx: ErrorContext, given: unknown, keys: readonly string[]): void {
    for (const k of Object.keys(isMapping(given) ? given : {})) {
        if (!keys.includes(k)) invalid(ctx, `transform.${k}`, `${JSON.stringify(k)} is not a child resource ${ctx.kind} creates`, unknownKeyFix(k, keys));
    }
    checkTransform(ctx, given, keys);
}

function checkTargetAndName(ctx: ErrorContext, name: string, target: Target | undefined): void {
    if (!target || (target.kind !== "docker" && target.kind !== "do-app")) {
        invalid(ctx, "target", "is missing or not a Slipway target", "pass `host.target` (DockerHost) or `doAppTarget(...)`");
    }
    // One rule on both targets, so a program moves between them unchanged.
    if (!DO_NAME.test(name)) {
        invalid(ctx, "name", `"${name}" is not a valid service name`, "use 2 to 32 lowercase letters, digits and hyphens, starting with a letter");
    }
}

/** Bounds are App Platform's liveness bounds, so both targets accept the same values. */
function normalizeHealthcheck(ctx: ErrorContext, hc: HealthcheckArgs, port: number, readyPath: string): NeutralApiService["healthcheck"] {
    // The interval's default differs per target: the target's check fills it in.
    const intervalSeconds = hc.intervalSeconds ?? undefined;
    if (intervalSeconds !== undefined) requireInt(ctx, "healthcheck.intervalSeconds", intervalSeconds, 1, 300);
    const healthcheck = {
        command: hc.command ?? defaultHealthcheckCommand(port, readyPath),
        intervalSeconds,
        timeoutSeconds: requireInt(ctx, "healthcheck.timeoutSeconds", hc.timeoutSeconds ?? DEFAULTS.timeoutSeconds, 1, 120),
        retries: requireInt(ctx, "healthcheck.retries", hc.retries ?? DEFAULTS.retries, 1, 50),
        startPeriodSeconds: requireInt(ctx, "healthcheck.startPeriodSeconds", hc.startPeriodSeconds ?? DEFAULTS.startPeriodSeconds, 0, 3600),
    };
    if (!Array.isArray(healthcheck.command) || healthcheck.command.length < 2
        || !["CMD", "CMD-SHELL"].includes(healthcheck.command[0]!) || healthcheck.command.some(p => typeof p !== "string" || p === "")) {
        invalid(ctx, "healthcheck.command", `${JSON.stringify(hc.command)} is not a Docker healthcheck test`,
            `start with "CMD" (exec form) or "CMD-SHELL" (shell form), e.g. ["CMD", "/app/healthcheck"]`);
    }
    return healthcheck;
}

function normalizeLimits(ctx: ErrorContext, args: ApiServiceInput): { memoryMiB: number; cpus: number } {
    const memoryText = args.memory ?? DEFAULTS.memory;
    const memoryMiB = typeof memoryText === "string" ? parseMemory(memoryText) : undefined;
    if (memoryMiB === undefined || memoryMiB < 6 || memoryMiB > 65536) {
        invalid(ctx, "memory", `${JSON.stringify(memoryText)} is not a memory limit between 6m and 64g`,
            `write a whole number of k, m or g, e.g. "512m" or "1g"`);
    }
    const cpus = args.cpus ?? DEFAULTS.cpus;
    if (typeof cpus !== "number" || !Number.isFinite(cpus) || cpus < 0.01 || cpus > 64) {
        invalid(ctx, "cpus", `${JSON.stringify(cpus)} is not a CPU limit`, "use a number of CPUs from 0.01 to 64, e.g. 0.5");
    }
    return { memoryMiB, cpus };
}

function normalizeUser(ctx: ErrorContext, args: ApiServiceInput): { uid: string; gid: string } {
    const userText = args.user ?? DEFAULTS.user;
    const um = typeof userText === "string" ? USER.exec(userText) : null;
    if (userText === "root" || (um && (um[1] === "0" || um[2] === "0") && !args.allowRoot)) {
        invalid(ctx, "user", `${JSON.stringify(userText)} runs the service as root`,
            `use an unprivileged numeric "uid:gid" such as "${DEFAULTS.user}", or set allowRoot: true if the image truly needs root`);
    }
    if (!um) {
        invalid(ctx, "user", `${JSON.stringify(userText)} is not a numeric "uid:gid"`,
            `use numbers, e.g. "${DEFAULTS.user}": names resolve differently on the host (which owns uploaded secret files) and in the image`);
    }
    return { uid: um[1]!, gid: um[2] ?? um[1]! };
}

function normalizeLogs(ctx: ErrorContext, given: ApiServiceInput["logs"]): NormalizedApiService["logs"] {
    const logs = {
        maxSize: given?.maxSize ?? DEFAULTS.logMaxSize,
        maxFiles: requireInt(ctx, "logs.maxFiles", given?.maxFiles ?? DEFAULTS.logMaxFiles, 1, 100),
    };
    if (!LOG_SIZE.test(logs.maxSize)) {
        invalid(ctx, "logs.maxSize", `${JSON.stringify(logs.maxSize)} is not a json-file log size`, `use a number with k, m or g, e.g. "10m"`);
    }
    return logs;
}

function httpPath(ctx: ErrorContext, prop: string, value: string): string {
    if (typeof value !== "string" || !HTTP_PATH.test(value)) {
        invalid(ctx, prop, `${JSON.stringify(value)} is not an HTTP path`, `start with "/" and use letters, digits and . _ ~ / - only, e.g. "/health"`);
    }
    return value;
}

/** Which source, and its target-neutral shape; whether a target can use it is the target's check. */
function normalizeSource(ctx: ErrorContext, args: ApiServiceInput): ImageSource {
    const hasImage = args.image !== undefined && args.image !== null;
    const hasBuild = args.build !== undefined && args.build !== null;
    if (hasImage === hasBuild) {
        invalid(ctx, hasImage ? "build" : "image", hasImage ? "is set together with image" : "is missing (and so is build)",
            `set exactly one: image: "ghcr.io/acme/api:1.4.2" to run a published image, or build: { context: "./api" } to build locally`);
    }
    if (hasImage) {
        const ref = args.image!;
        if (typeof ref === "string" && !/^\S+$/.test(ref)) {
            invalid(ctx, "image", `${JSON.stringify(ref)} is not an image reference`, `use "registry/repository:tag", e.g. "ghcr.io/acme/api:1.4.2"`);
        }
        // Untagged means `latest`: the next pull (a new host, a replaced replica) may run other code.
        if (typeof ref === "string" && !hasTagOrDigest(ref)) {
            invalid(ctx, "image", `${JSON.stringify(ref)} has no tag or digest, so every pull may run a different image`,
                `pin a version, e.g. "${ref}:1.4.2" or "${ref}@sha256:<digest>"`);
        }
        return { kind: "image", ref };
    }
    const b = args.build!;
    const buildArgs: Record<string, string> = {};
    for (const k of Object.keys(b.args ?? {}).sort()) {
        if (!BUILD_ARG.test(k)) invalid(ctx, `build.args.${k}`, "is not a valid build argument name", "use letters, digits and '_'");
        buildArgs[k] = b.args![k]!;
    }
    return { kind: "build", context: b.context, dockerfile: b.dockerfile ?? "Dockerfile", args: buildArgs, platform: b.platform };
}

/** `name:tag` (a colon after the last slash; `host:5000/repo` is a port) or `name@sha256:...`. */
export function hasTagOrDigest(ref: string): boolean {
    return ref.includes("@") || ref.lastIndexOf(":") > ref.lastIndexOf("/");
}

/** Ask every linked block for its sections, once: `link()` is pure, the sections are data. */
function resolveLinks(ctx: ErrorContext, name: string, port: number, links: readonly unknown[] | undefined): { label: string; link: Link }[] {
    if (links !== undefined && !Array.isArray(links)) invalid(ctx, "link", "must be a list", "write link: [db, secrets, observability]");
    return (links ?? []).map((l, i) => {
        if (!isLinkable(l)) {
            invalid(ctx, `link[${i}]`, "is not linkable", "pass a ManagedDatabase, SecretsSync (or secrets.pick(...)) or Observability");
        }
        return { label: `link[${i}] (${l.linkLabel})`, link: l.link({ service: name, port }) };
    });
}

/** Each env entry with who set it, in the order they are checked: own `env`, then each link's. */
export function envEntries(args: ApiServiceInput, links: readonly { label: string; link: Link }[]): { e: EnvVar; source: string; path: string }[] {
    // A `secret(...)` value is delivered as a secret (a file on Docker, SECRET on App Platform).
    const out = Object.entries(args.env ?? {}).map(([key, value]) => ({ e: envVar(key, value), source: `env.${key}`, path: `env.${key}` }));
    links.forEach(({ label, link }, i) => {
        for (const e of link.env ?? []) out.push({ e, source: label, path: `link[${i}]` });
    });
    return out;
}

/** Claims on environment keys: a key claimed twice fails, naming both owners. */
export function envKeyClaims(ctx: ErrorContext): (key: string, source: string, pathForError: string) => void {
    const owners = new Map<string, string>();
    return (key, source, pathForError) => {
        const prev = owners.get(key);
        if (prev !== undefined) {
            invalid(ctx, pathForError, `${key} is set by both ${prev} and ${source}`, `keep one of them (rename or drop ${key} in ${source})`);
        }
        owners.set(key, source);
    };
}

function mergeEnv(ctx: ErrorContext, args: ApiServiceInput, links: { label: string; link: Link }[]): EnvVar[] {
    const claim = envKeyClaims(ctx);
    const out: EnvVar[] = [];
    for (const { e, source, path: pathForError } of envEntries(args, links)) {
        if (typeof e?.key !== "string" || !ENV_KEY.test(e.key)) {
            invalid(ctx, pathForError, `${JSON.stringify(e?.key)} is not a valid environment key`, "use letters, digits and '_', not starting with a digit");
        }
        if (e.value === undefined || e.value === null) {
            invalid(ctx, pathForError, `${e.key} has no value`, `give ${e.key} a value or leave it out`);
        }
        claim(e.key, source, pathForError);
        out.push(e);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Images commonly listen on `$PORT` with a default of their own (the example API: 8080), so
 * without it a service with another `port` listens where neither health checks nor the gateway
 * connect. An explicit PORT must agree with `port`, or the two would disagree silently.
 */
function withPort(ctx: ErrorContext, env: EnvVar[], port: number): EnvVar[] {
    const given = env.find(e => e.key === "PORT");
    if (given === undefined) {
        return [...env, { key: "PORT", value: String(port), secret: false }].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
    const plain = typeof given.value === "string" || typeof given.value === "number";
    if (given.secret || !plain || String(given.value) !== String(port)) {
        const what = given.secret ? "is a secret" : plain ? `is ${JSON.stringify(given.value)}` : "is not a plain value";
        invalid(ctx, "env.PORT", `${what}, but port is ${port}: the service would listen where health checks and the gateway do not connect`,
            `remove PORT from env (Slipway sets PORT=${port} from port), or set it to "${port}"`);
    }
    return env;
}

/**
 * What a Gateway sees of a service. Pure, so a stack can validate its routes against it before
 * anything registers.
 */
export function serviceEndpoint(name: string, n: NormalizedApiService, kind: "docker" | "do-app"): ServiceEndpoint {
    return {
        name,
        port: n.port,
        replicas: n.replicas,
        dialHosts: kind === "docker" ? Array.from({ length: n.replicas }, (_, i) => `${name}-${i + 1}`) : [],
        healthPath: n.healthPath,
        readyPath: n.readyPath,
    };
}
