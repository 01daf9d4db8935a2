import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { capabilitySet, goDuration, jsonFileLogs, labelList, memoryLimit } from "../core/docker";
import { ErrorContext, invalid, requireInt } from "../core/errors";
import { refuseLocalOnlyImage } from "../core/registries";
import { DockerTarget } from "../core/target";
import { transform } from "../core/transform";
import type { CacheConnection, ManagedCacheArgs } from "./args";
import type { ManagedCacheDockerTransform } from "./transforms/docker";
import { DEFAULTS, ManagedCacheBase, ManagedCacheDockerSettings, NormalizedManagedCache } from "./normalize";

export type { ManagedCacheDockerTransform } from "./transforms/docker";

const SECRETS = "/run/secrets";
/** The server's password as a config line: read by `--include`, so it is in no env and no argument. */
const AUTH_CONF = `${SECRETS}/valkey-auth.conf`;
/** The bare password, for the health check's valkey-cli (REDISCLI_AUTH, set inside the check's own shell). */
const PASSWORD_FILE = `${SECRETS}/REDIS_PASSWORD`;
/** The exporter's `--redis.password-file`: JSON of server URL -> password. */
const EXPORTER_PASSWORDS = `${SECRETS}/redis-exporter.json`;
/** uid and gid of the official valkey image's `valkey` user, and of images/valkey's. */
const VALKEY_UID = "999";
const DATA_DIR = "/data";
const NO_NEW_PRIVILEGES = ["no-new-privileges:true"];

/** What the docker target created (`ManagedCache.nodes`). */
export interface ManagedCacheDockerNodes {
    image: docker.RemoteImage;
    container: docker.Container;
    volume?: docker.Volume;
    password?: random.RandomPassword;
    exporter?: docker.Container;
    exporterImage?: docker.RemoteImage;
}

/** The network alias the exporter answers on, port 9121: what a stack's Prometheus scrapes. */
export function cacheMetricsHost(name: string): string {
    return `${name}-metrics`;
}

function requireImageRef(ctx: ErrorContext, path: string, image: unknown, example: string): asserts image is string {
    if (typeof image !== "string" || image.trim() === "" || /\s/.test(image)) {
        invalid(ctx, path, `${JSON.stringify(image)} is not an image reference`, `use e.g. "${example}"`);
    }
}

/** The docker half of `validateManagedCache`: image, memory, persistence, port and exporter. */
export function checkManagedCacheDocker(name: string, args: ManagedCacheArgs & { target: DockerTarget }, n: ManagedCacheBase): ManagedCacheDockerSettings {
    const ctx: ErrorContext = { kind: "ManagedCache", name };
    void n;
    const image = args.image ?? DEFAULTS.image;
    requireImageRef(ctx, "image", image, DEFAULTS.image);
    refuseLocalOnlyImage(ctx, "image", image, args.target.remote);
    const maxMemoryMb = requireInt(ctx, "maxMemoryMb", args.maxMemoryMb ?? DEFAULTS.maxMemoryMb, 16, 65536);
    const memoryMb = args.memoryMb ?? maxMemoryMb + DEFAULTS.headroomMb;
    requireInt(ctx, "memoryMb", memoryMb, 48, 65536 + DEFAULTS.headroomMb);
    if (memoryMb < maxMemoryMb + DEFAULTS.minHeadroomMb) {
        invalid(ctx, "memoryMb", `${memoryMb} MB leaves no room above maxMemoryMb (${maxMemoryMb} MB): at the limit the kernel kills Valkey instead of Valkey evicting keys`,
            `set memoryMb to at least ${maxMemoryMb + DEFAULTS.minHeadroomMb} (maxMemoryMb + ${DEFAULTS.minHeadroomMb}), or lower maxMemoryMb`);
    }
    const publishPort = args.publishPort === undefined ? undefined : requireInt(ctx, "publishPort", args.publishPort, 1024, 65535);
    let exporterImage: string | undefined;
    if (args.metrics !== false) {
        const given = typeof args.metrics === "object" ? args.metrics.image : undefined;
        exporterImage = given ?? DEFAULTS.exporterImage;
        requireImageRef(ctx, "metrics.image", exporterImage, DEFAULTS.exporterImage);
        if (given !== undefined) refuseLocalOnlyImage(ctx, "metrics.image", exporterImage, args.target.remote);
    }
    return { image, maxMemoryMb, memoryMb, persistence: args.persistence ?? false, publishPort, exporterImage };
}

/** A config-file string in Valkey's quoting (sdssplitargs): double quotes, backslash escapes. */
export function valkeyQuote(value: string): string {
    return `"${value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n").replace(/\r/g, "\\r")}"`;
}

/** `redis://:<password>@<host>:6379/0`, the form every Redis client library parses. */
export function redisUrl(password: string, host: string, port = DEFAULTS.port): string {
    return `redis://:${encodeURIComponent(password)}@${host}:${port}/0`;
}

/** The server's arguments after `valkey-server`: every setting, and the secret only by file. */
export function serverArgs(n: NormalizedManagedCache, d: ManagedCacheDockerSettings): string[] {
    return [
        "--include", AUTH_CONF,
        "--port", String(DEFAULTS.port),
        "--dir", DATA_DIR,
        "--maxmemory", `${d.maxMemoryMb}mb`,
        "--maxmemory-policy", n.evictionPolicy,
        // No RDB snapshots: a fork of a full cache doubles its memory; AOF is the opt-in persistence.
        "--save", "",
        "--appendonly", d.persistence ? "yes" : "no",
        ...(d.persistence ? ["--appendfsync", "everysec"] : []),
    ];
}

export function createManagedCacheDocker(
    name: string, parent: pulumi.ComponentResource, n: NormalizedManagedCache, target: DockerTarget,
    givenPassword?: pulumi.Input<string>, t: ManagedCacheDockerTransform = {},
): { connection: CacheConnection; nodes: ManagedCacheDockerNodes } {
    const d = n.docker;
    if (!d) throw new Error(`ManagedCache "${name}": createManagedCacheDocker needs a cache validated for docker (validateManagedCache)`);
    const opts = { parent, provider: target.provider };
    const base = { ...target.labels, "slipway.component": "ManagedCache", "slipway.name": name };
    let generated: random.RandomPassword | undefined;
    if (givenPassword === undefined) {
        // Alphanumeric: it goes into a URL and a config line unescaped in the common case.
        generated = new random.RandomPassword(...transform(t.password, `${name}-password`, { length: 32, special: false }, { parent }));
    }
    const pw = pulumi.secret(givenPassword ?? generated!.result);
    const image = new docker.RemoteImage(...transform(t.image, `${name}-image`, { name: d.image, keepLocally: true }, opts));
    const keep = { protect: n.production, retainOnDelete: n.production };
    const volume = d.persistence ? new docker.Volume(...transform(t.volume, `${name}-data`, {
        name: `${target.namePrefix}-${name}-data`,
        labels: labelList({ ...base, "slipway.role": "data" }),
    }, { ...opts, ...keep })) : undefined;
    // Root-owned 0444, as Docker's own secrets: with owner/group set, the provider has the daemon
    // copy as the container's user, which the daemon looks up in the HOST's passwd (moby/moby#34142).
    const secretFile = (file: string, content: pulumi.Input<string>) => ({ file, content: pulumi.secret(content), permissions: "0444" });

    const container = new docker.Container(...transform(t.container, `${name}-server`, {
        image: image.imageId,
        // The binary itself, not the official image's entrypoint script (which would chown and
        // switch users as root): the container starts as the valkey user.
        entrypoints: ["valkey-server"],
        command: serverArgs(n, d),
        user: `${VALKEY_UID}:${VALKEY_UID}`,
        uploads: [secretFile(AUTH_CONF, pw.apply(p => `requirepass ${valkeyQuote(p)}\n`)), secretFile(PASSWORD_FILE, pw)],
        volumes: volume ? [{ volumeName: volume.name, containerPath: DATA_DIR }] : undefined,
        networksAdvanced: [{ name: target.networkName, aliases: [name] }],
        ports: d.publishPort ? [{ internal: DEFAULTS.port, external: d.publishPort, ip: target.publishAddress }] : undefined,
        // An unauthenticated PING answers NOAUTH with exit 0, so the reply itself is checked.
        healthcheck: {
            tests: ["CMD-SHELL", `REDISCLI_AUTH="$(cat ${PASSWORD_FILE})" valkey-cli -p ${DEFAULTS.port} ping | grep -q PONG`],
            interval: goDuration(2), timeout: goDuration(5), retries: 5, startPeriod: goDuration(30),
        },
        wait: true,
        waitTimeout: 120,
        restart: "unless-stopped",
        ...memoryLimit(d.memoryMb),
        securityOpts: NO_NEW_PRIVILEGES,
        capabilities: capabilitySet({ drop: ["ALL"] }),
        // No read-only root: Docker refuses uploads (the password file) into a read-only container.
        ...jsonFileLogs(),
        labels: labelList({ ...base, "slipway.role": "server" }),
    }, {
        ...opts,
        // One server per AOF file: a second one on the same volume would interleave writes.
        deleteBeforeReplace: true,
    }));

    const exporter = d.exporterImage ? exporterSidecar(name, d.exporterImage, image, d.image, opts, base, t, target, pw, container, secretFile) : undefined;

    const url = pulumi.secret(pw.apply(p => redisUrl(p, name)));
    return {
        connection: { host: pulumi.output(name), port: pulumi.output(String(DEFAULTS.port)), password: pw, url },
        nodes: { image, container, volume, password: generated, exporter: exporter?.container, exporterImage: exporter?.image },
    };
}

/** Debian's / the official prometheus redis_exporter, scraping the server over the network with the password from a file. */
function exporterSidecar(
    name: string, imageRef: string, serverImage: docker.RemoteImage, serverRef: string, opts: { parent: pulumi.Resource; provider: pulumi.ProviderResource },
    base: Record<string, string>, t: ManagedCacheDockerTransform, target: DockerTarget, pw: pulumi.Output<string>, server: docker.Container,
    secretFile: (file: string, content: pulumi.Input<string>) => docker.types.input.ContainerUpload,
): { container: docker.Container; image?: docker.RemoteImage } {
    const own = imageRef === serverRef ? undefined
        : new docker.RemoteImage(...transform(t.exporterImage, `${name}-exporter-image`, { name: imageRef, keepLocally: true }, opts));
    const addr = `redis://${name}:${DEFAULTS.port}`;
    const container = new docker.Container(...transform(t.exporter, `${name}-exporter`, {
        image: (own ?? serverImage).imageId,
        entrypoints: ["/redis_exporter"],
        command: [`--redis.addr=${addr}`, `--redis.password-file=${EXPORTER_PASSWORDS}`, `--web.listen-address=:${DEFAULTS.exporterPort}`],
        user: `${VALKEY_UID}:${VALKEY_UID}`,
        uploads: [secretFile(EXPORTER_PASSWORDS, pw.apply(p => JSON.stringify({ [addr]: p })))],
        networksAdvanced: [{ name: target.networkName, aliases: [cacheMetricsHost(name)] }],
        restart: "unless-stopped",
        ...memoryLimit(64),
        securityOpts: NO_NEW_PRIVILEGES,
        capabilities: capabilitySet({ drop: ["ALL"] }),
        ...jsonFileLogs(),
        labels: labelList({ ...base, "slipway.role": "exporter" }),
    }, { ...opts, dependsOn: [server] }));
    return { container, image: own };
}
