import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { capabilitySet, goDuration, jsonFileLogs, labelList, memoryLimit } from "../core/docker";
import { ErrorContext, invalid } from "../core/errors";
import { refuseLocalOnlyImage } from "../core/registries";
import { DockerTarget } from "../core/target";
import { Transform, transform } from "../core/transform";
import { acmeCaRootFile, buildBootstrapConfig, buildCaddyConfig, configRevision, CONTAINER, renderCaddyJson } from "./caddy-config";
import type { GatewayArgs } from "./args";
import { JWT_DEFAULTS } from "./jwt";
import type { GatewayDockerTransform } from "./transforms/docker";
import { checkGatewayDockerCloudflare } from "./cloudflare-docker";

export type { GatewayDockerTransform } from "./transforms/docker";
import { GatewayImageSource, NormalizedGateway, isPublicAcme, normalizeGatewayImage } from "./normalize";

/** The uid:gid the Caddy image runs as and owns /data, /config and /var/log/caddy with (images/caddy). */
export const CADDY_UID = 10002;
export const CADDY_USER = `${CADDY_UID}:${CADDY_UID}`;
const TMPFS = `rw,noexec,nosuid,size=16m,uid=${CADDY_UID},gid=${CADDY_UID}`;

/** Memory limits in MiB, swap pinned to the same value. `caddy reload` peaks at about 40 MiB. */
const CADDY_MEMORY_MIB = 512;
const LOADER_MEMORY_MIB = 128;

/** How the config loader pushes one config revision into the running Caddy. */
export const CONFIG_LOADER = {
    /** Written once the push succeeded; the loader's healthcheck tests it. In the container's own layer, so it survives a restart (and a restarted loader never pushes again). */
    marker: "/tmp/slipway-config-loaded",
    /** Pushes tried while the admin socket does not answer (Caddy restarting), one per `delaySeconds`. */
    attempts: 30,
    delaySeconds: 1,
    /** Bounds `pulumi up`: longer than the attempts above take, then the create fails. */
    waitTimeoutSeconds: 60,
} as const;

export interface LoaderScriptOptions {
    /** The full config file to push. */
    configPath: string;
    /** Caddy's admin address, e.g. `unix//config/admin.sock`. */
    adminAddress: string;
    marker: string;
    attempts: number;
    delaySeconds: number;
    /**
     * The public metrics path's token file, prepared before the push: copied from `source` (the
     * loader's upload) to `file` (owner-only, atomically, in Caddy's config volume), or `file`
     * removed when there is no `source`, so a token that was turned off does not stay on disk.
     * Left alone when not given.
     */
    tokenFile?: { source?: string; file: string };
    /**
     * The ACME CA root (`acme.caRoot`): copied from `source` (the loader's upload) to `file` in the
     * config volume before the push, since the pushed config names that file. Files of earlier
     * roots stay: an older autosave still names them (public data, a few KB each).
     */
    caRootFile?: { source: string; file: string };
}

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Shell commands that install (or remove) the token file; they fail as a whole. */
function tokenFileCommands(t: NonNullable<LoaderScriptOptions["tokenFile"]>): string {
    if (!t.file.startsWith("/") || t.file.endsWith("/")) throw new Error(`loaderScript: tokenFile.file must be an absolute file path, got ${JSON.stringify(t.file)}`);
    if (t.source === undefined) return `rm -f ${sq(t.file)}`;
    const dir = t.file.replace(/\/[^/]+$/, "") || "/";
    const tmp = `${dir}/.${t.file.slice(dir.length + 1)}.new`;
    // umask 077: the copy is readable by the loader's (Caddy's) uid only; the rename is atomic, so
    // Caddy never reads half a token.
    return `umask 077 && mkdir -p ${sq(dir)} && rm -f ${sq(tmp)} && cp ${sq(t.source)} ${sq(tmp)} && mv -f ${sq(tmp)} ${sq(t.file)}`;
}

/** Shell commands that install the ACME CA root file (atomically: Caddy may be resuming a config that names it). */
function caRootFileCommands(f: NonNullable<LoaderScriptOptions["caRootFile"]>): string {
    if (!f.file.startsWith("/") || f.file.endsWith("/")) throw new Error(`loaderScript: caRootFile.file must be an absolute file path, got ${JSON.stringify(f.file)}`);
    const dir = f.file.replace(/\/[^/]+$/, "") || "/";
    const tmp = `${f.file}.new`;
    return `mkdir -p ${sq(dir)} && rm -f ${sq(tmp)} && cp ${sq(f.source)} ${sq(tmp)} && chmod 0444 ${sq(tmp)} && mv -f ${sq(tmp)} ${sq(f.file)}`;
}

/**
 * What the loader says when Caddy does not know one of Slipway's modules: the image is stock Caddy,
 * or was built from another Slipway version's docker/caddy (its tag names the modules' hash).
 */
export const MISSING_MODULES_HINT = "the Gateway's Caddy image lacks Slipway's Caddy modules (slipway_edge, slipway_jwt, slipway_handoff, " +
    "slipway_deferred) as this version of Slipway writes them: use the Gateway's default image, `image: { build: true }`, " +
    "or an image built from this version's docker/caddy/Dockerfile (scripts/caddy-image-tag.sh names its tag)";

/**
 * The config loader's program (POSIX sh; `caddy` on PATH). Unless its marker exists, it first
 * installs or removes the metrics token file (`tokenFile`; a failure there pushes nothing), then runs
 * `caddy reload` until Caddy takes the config: a connection failure (Caddy not up yet) is retried up
 * to `attempts` times, a rejection (HTTP 4xx: an invalid config, which Caddy refuses while it keeps
 * serving the previous one) is final. On success it writes the marker. Either way it then idles
 * until stopped, never pushing again: an older loader that is still running while a newer one
 * pushes (the engine deletes it only at the end of the update) stays quiet, so two loaders never
 * take turns. Without the marker it stays unhealthy, so a `wait`ing create fails.
 *
 * No `--force`: when Caddy already runs this exact config (it resumed it from its autosave after a
 * replace), Caddy answers "config is unchanged" and nothing is reloaded.
 */
export function loaderScript(o: LoaderScriptOptions): string {
    if (!Number.isInteger(o.attempts) || o.attempts < 1) throw new Error(`loaderScript: attempts must be a whole number >= 1, got ${o.attempts}`);
    if (!(o.delaySeconds > 0)) throw new Error(`loaderScript: delaySeconds must be > 0, got ${o.delaySeconds}`);
    const marker = sq(o.marker);
    const prepare = o.tokenFile ? [
        `elif ! { ${tokenFileCommands(o.tokenFile)}; }; then`,
        `  log ${sq(`could not ${o.tokenFile.source === undefined ? "remove" : "write"} the metrics token file ${o.tokenFile.file}; not pushing`)} >&2`,
    ] : [];
    if (o.caRootFile) {
        prepare.push(
            `elif ! { ${caRootFileCommands(o.caRootFile)}; }; then`,
            `  log ${sq(`could not write the ACME CA root file ${o.caRootFile.file}; not pushing`)} >&2`,
        );
    }
    return [
        "log() { echo \"config-loader: $*\"; }",
        "trap 'exit 0' TERM INT",
        `if [ -f ${marker} ]; then`,
        "  log 'this revision was loaded before; not pushing it again'",
        ...prepare,
        "else",
        "  n=0",
        "  while :; do",
        "    n=$((n + 1))",
        `    if out=$(caddy reload --config ${sq(o.configPath)} --address ${sq(o.adminAddress)} 2>&1); then`,
        `      : > ${marker}`,
        "      log \"loaded (attempt $n)\"",
        "      break",
        "    fi",
        "    printf '%s\\n' \"$out\" >&2",
        "    case \"$out\" in",
        "      *'responded with error: HTTP 4'*)",
        `        case "$out" in *'unknown module: '*'.slipway_'*) log ${sq(MISSING_MODULES_HINT)} >&2 ;; esac`,
        "        log 'Caddy rejected this config and keeps serving the previous one' >&2; break ;;",
        "    esac",
        `    if [ "$n" -ge ${o.attempts} ]; then log "no answer from Caddy's admin socket after $n attempts; giving up" >&2; break; fi`,
        `    sleep ${o.delaySeconds}`,
        "  done",
        "fi",
        "log idle",
        "while :; do sleep 3600 & wait $!; done",
        "",
    ].join("\n");
}

export interface GatewayDockerResources {
    image: docker.RemoteImage | docker.Image;
    /** Caddy itself. Its inputs do not depend on routes, limits or headers; see {@link createGatewayDocker}. */
    container: docker.Container;
    /** Pushes this config revision into the running Caddy; logical name `${name}-config-${configRevision}`. */
    loader: docker.Container;
    /** Caddy's /config: its admin socket and its autosaved last config. */
    configVolume: docker.Volume;
    dataVolume?: docker.Volume;
    logVolume?: docker.Volume;
    /** The full config the loader pushes (uploaded to the loader at /etc/caddy/caddy.json). */
    caddyJson: string;
    /** What Caddy starts on when its config volume has no autosave yet. */
    bootstrapJson: string;
    /** First 10 hex digits of the SHA-256 of `caddyJson`. */
    configRevision: string;
    url: string;
}

/**
 * One Caddy container, whose routes, limits and headers change without restarting it.
 *
 * Caddy runs `caddy run --config /etc/caddy/bootstrap.json --resume`. The bootstrap is constant: the
 * admin API on a unix socket in /config (no TCP listener, nothing published) and the internal health
 * listener. The full config goes to a small loader container, `${name}-config-<hash>`, that pushes it
 * over the socket with `caddy reload`, and turns healthy once it took: with `wait`, `pulumi up`
 * blocks until the new config is live, and fails if Caddy rejects it (the old config keeps
 * serving). Since the hash is in the loader's logical name, a new config is a new resource: the
 * engine creates it during the update and deletes the old loader at the end, never
 * delete-before-create. Caddy autosaves every loaded config to /config, a volume, so a restarted or
 * replaced Caddy resumes the last one without the loader.
 *
 * The reload is in place: same process, listening sockets kept, in-flight requests finish. At the
 * instant the old server instances stop, Go's http.Server.Shutdown drops, unprocessed, a request it
 * reads after that point and closes idle keep-alive connections: at most about one reset per client
 * connection, only then (test/unit/gateway-reload.test.ts measures it).
 *
 * Known limit: a loader pushes only when it is created. If an update fails after the new loader
 * pushed but before the old one was deleted, and the next update goes back to exactly the old config,
 * its loader still exists and pushes nothing: Caddy keeps the newer config. Replace that loader
 * (`pulumi up --replace <its URN>`) to push it again.
 *
 * Caddy is replaced (delete-before-create, ports) only for an image, port, TLS on/off, JWT HMAC
 * secret or access-log file change; expect a gap of a few seconds then. The first deploy with this layout replaces a
 * Caddy of the previous one (admin off, config as an upload) once, and serves nothing on the
 * edge until the loader has pushed.
 *
 * Hardening, and why not more: Caddy listens on 8080/8443 inside, so it runs as a non-root user
 * with every capability dropped. The root filesystem stays writable because Docker refuses uploads
 * (`docker cp`) into a read-only rootfs; /data is a volume (certificates) or a tmpfs (no TLS). The
 * loader has no network at all; it mounts the config volume writable, as the one that writes the
 * metrics token file there (see `publicMetrics`).
 *
 * Metrics: Caddy also serves the gateway's metrics on an internal listener, `:2020` in the container,
 * reachable as `${name}:2020` on the target's network and published on no host port (see
 * `EDGE_METRICS`). That listener has no token: anything on the stack's network may read it.
 */
export function createGatewayDocker(
    name: string,
    parent: pulumi.Resource,
    n: NormalizedGateway,
    target: DockerTarget,
    image: GatewayArgs["image"],
    upstreams: pulumi.Resource[] = [],
    t: GatewayDockerTransform = {},
    metricsToken?: pulumi.Input<string>,
    jwtSecretFiles: JwtSecretFile[] = [],
): GatewayDockerResources {
    const labelMap: Record<string, string> = { ...target.labels, "slipway.component": "Gateway", "slipway.name": name };
    const b: Build = { name, n, target, labelMap, opts: { parent, provider: target.provider }, t };
    const caddyJson = renderCaddyJson(buildCaddyConfig(n));
    const revision = configRevision(caddyJson);
    const bootstrapJson = renderCaddyJson(buildBootstrapConfig());
    const v = caddyVolumes(b);
    const { image: img, imageRef } = caddyImage(b, normalizeGatewayImage({ kind: "Gateway", name }, image));
    const container = caddyContainer(b, imageRef, v, bootstrapJson, jwtSecretFiles);
    const loader = configLoader(b, imageRef, v.configVolume, caddyJson, revision, [container, ...upstreams], metricsToken);
    return {
        image: img, container, loader, configVolume: v.configVolume, dataVolume: v.dataVolume, logVolume: v.logVolume,
        caddyJson, bootstrapJson, configRevision: revision, url: gatewayUrl(n, target),
    };
}

/**
 * The folder of docker/caddy/Dockerfile in this package: two levels above this file in the
 * repository (components/gateway), three in the published package (dist/components/gateway).
 */
export function caddyDockerfileDir(from: string = __dirname): string | undefined {
    for (let dir = from, i = 0; i < 5; i++, dir = path.dirname(dir)) {
        const candidate = path.join(dir, "docker", "caddy");
        if (fs.existsSync(path.join(candidate, "Dockerfile")) && fs.existsSync(path.join(candidate, "versions.env"))) return candidate;
    }
    return undefined;
}

/** `versions.env` of the Dockerfile's folder as a map (POSIX `KEY=value` lines). */
export function caddyVersions(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of fs.readFileSync(path.join(dir, "versions.env"), "utf8").split("\n")) {
        const m = /^([A-Z_]+)=(\S+)$/.exec(line.trim());
        if (m) out[m[1]!] = m[2]!;
    }
    return out;
}

/**
 * The tag of the Caddy image built from `dir` (scripts/caddy-image-tag.sh, which the release
 * workflow runs, prints the same): versions.env's Caddy and rate-limit versions, then a hash of
 * Slipway's own modules (`<dir>/<module>/`, tests excluded), which the generated config needs as
 * this package wrote them. Per file in byte order of its path: the path, a newline, its bytes.
 */
export function caddyImageTag(dir: string): string {
    const files: string[] = [];
    const walk = (abs: string, rel: string): void => {
        for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
            const r = rel ? `${rel}/${e.name}` : e.name;
            if (e.isDirectory()) walk(path.join(abs, e.name), r);
            else if (rel && !e.name.endsWith("_test.go")) files.push(r);
        }
    };
    walk(dir, "");
    const h = createHash("sha256");
    for (const f of files.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
        h.update(`${f}\n`);
        h.update(fs.readFileSync(path.join(dir, f)));
    }
    const v = caddyVersions(dir);
    const bare = (x?: string) => x?.replace(/^v/, "");
    return `${bare(v.CADDY_VERSION)}-ratelimit-${bare(v.RATELIMIT_VERSION)}-slipway-${h.digest("hex").slice(0, 8)}`;
}

/**
 * The Caddy image, and what the containers run: always the image *id* (RemoteImage's `imageId`,
 * a local Image's `repoDigest`). The provider keeps the id in state, so a tag here would differ on
 * every run and replace Caddy on every `up`; an unchanged image never replaces it.
 */
function caddyImage(b: Build, source: GatewayImageSource): { image: docker.RemoteImage | docker.Image; imageRef: pulumi.Output<string> } {
    if (source.kind === "reference") {
        const args: docker.RemoteImageArgs = { name: source.ref, keepLocally: true };
        const remote = new docker.RemoteImage(...transform(b.t.image as Transform<docker.RemoteImageArgs> | undefined, `${b.name}-image`, args, b.opts));
        return { image: remote, imageRef: remote.imageId };
    }
    // checkGatewayDocker made sure the folder is there.
    const dir = caddyDockerfileDir()!;
    const args: docker.ImageArgs = {
        // A local name: skipPush, so it never leaves the engine. The tag says what is inside.
        imageName: `slipway-caddy:${caddyImageTag(dir)}`,
        // The Dockerfile is the context's own (the provider's default, <context>/Dockerfile).
        build: { context: dir, args: Object.keys(source.args).length ? source.args : undefined, platform: source.platform },
        skipPush: true,
    };
    const built = new docker.Image(...transform(b.t.image as Transform<docker.ImageArgs> | undefined, `${b.name}-image`, args, b.opts));
    return { image: built, imageRef: built.repoDigest };
}

/** What every step of `createGatewayDocker` shares. */
interface Build {
    name: string;
    n: NormalizedGateway;
    target: DockerTarget;
    /** Labels of every container and volume, as a map (the loader adds its own). */
    labelMap: Record<string, string>;
    opts: { parent: pulumi.Resource; provider: pulumi.ProviderResource };
    t: GatewayDockerTransform;
}

interface CaddyVolumes {
    configVolume: docker.Volume;
    dataVolume?: docker.Volume;
    logVolume?: docker.Volume;
    /** The container's mounts of the volumes above. */
    mounts: docker.types.input.ContainerVolume[];
    tmpfs: Record<string, string>;
}

/**
 * Caddy's volumes: /config always, /data (certificates) with TLS, the access-log directory with a
 * log file. Volume names are fixed and Docker's volume create returns an existing volume of that
 * name, so a volume replace would end up deleting the volume in use. Their inputs (name, labels)
 * are therefore derived from constants only (stack, environment, component, name), never from config.
 */
function caddyVolumes(b: Build): CaddyVolumes {
    const { name, n, target, opts } = b;
    const labels = labelList(b.labelMap);
    const configVolume = new docker.Volume(...transform(b.t.volume, `${name}-caddy-config`, {
        name: `${target.namePrefix}-${name}-caddy-config`,
        labels: labels,
    }, opts));
    const mounts: docker.types.input.ContainerVolume[] = [{ volumeName: configVolume.name, containerPath: CONTAINER.configDir }];
    const tmpfs: Record<string, string> = {};
    let dataVolume: docker.Volume | undefined;
    if (n.tls !== "off") {
        // Certificates and ACME account keys: losing them means re-issuing against CA rate limits.
        dataVolume = new docker.Volume(...transform(b.t.volume, `${name}-data`, {
            name: `${target.namePrefix}-${name}-caddy-data`,
            labels: labels,
        }, { ...opts, protect: target.production, retainOnDelete: target.production }));
        mounts.push({ volumeName: dataVolume.name, containerPath: "/data" });
    } else {
        tmpfs["/data"] = TMPFS;
    }
    let logVolume: docker.Volume | undefined;
    if (n.accessLog?.file) {
        logVolume = new docker.Volume(...transform(b.t.volume, `${name}-logs`, { name: `${target.namePrefix}-${name}-caddy-logs`, labels: labels }, opts));
        mounts.push({ volumeName: logVolume.name, containerPath: n.accessLog.file.replace(/\/[^/]+$/, "") });
    }
    return { configVolume, dataVolume, logVolume, mounts, tmpfs };
}

function caddyPorts(n: NormalizedGateway, target: DockerTarget): docker.types.input.ContainerPort[] {
    const ports: docker.types.input.ContainerPort[] = [
        { internal: CONTAINER.httpPort, external: n.publishPorts.http, ip: target.publishAddress, protocol: "tcp" },
    ];
    if (n.publishPorts.https !== undefined) {
        ports.push({ internal: CONTAINER.httpsPort, external: n.publishPorts.https, ip: target.publishAddress, protocol: "tcp" });
    }
    return ports;
}

/** A route's JWT HMAC secret, as Caddy receives it: `/run/secrets/<name>`. */
export interface JwtSecretFile {
    name: string;
    value: pulumi.Input<string>;
}

/** The HMAC secrets of the routes with `jwt.hmacSecret`, named as the Caddy config names their files. */
export function jwtSecrets(n: NormalizedGateway, routes: GatewayArgs["routes"]): JwtSecretFile[] {
    return n.routes.flatMap(r => r.jwt?.keys.kind === "hmac"
        ? [{ name: r.jwt.keys.secretName, value: routes[r.jwt.keys.routeIndex]!.jwt!.hmacSecret! }]
        : []);
}

/**
 * Caddy itself, started on the constant bootstrap config; the loader pushes the real one. The
 * routes' JWT HMAC secrets are files of its own, `/run/secrets/<name>` (root-owned 0444, like every
 * secret on docker), which the slipway_jwt handler reads when a config loads: so a new secret
 * replaces this container, and the config, its revision and the autosave only name the file.
 */
function caddyContainer(b: Build, imageRef: pulumi.Output<string>, v: CaddyVolumes, bootstrapJson: string, jwtSecretFiles: JwtSecretFile[]): docker.Container {
    return new docker.Container(...transform(b.t.container, `${b.name}-caddy`, {
        image: imageRef,
        // Both set, so the result is `caddy run ...` whatever the image's own ENTRYPOINT/CMD
        // (images/caddy has ENTRYPOINT caddy; the official image has none). With an autosave in
        // /config, --resume loads it and ignores --config.
        entrypoints: ["caddy"],
        command: ["run", "--config", CONTAINER.bootstrapPath, "--resume"],
        uploads: [
            { file: CONTAINER.bootstrapPath, content: bootstrapJson, permissions: "0444" },
            ...jwtSecretFiles.map(s => ({ file: `${JWT_DEFAULTS.secretDir}/${s.name}`, content: pulumi.secret(s.value), permissions: "0444" })),
        ],
        user: CADDY_USER,
        capabilities: capabilitySet({ drop: ["ALL"] }),
        securityOpts: ["no-new-privileges:true"],
        ...memoryLimit(CADDY_MEMORY_MIB),
        tmpfs: Object.keys(v.tmpfs).length ? v.tmpfs : undefined,
        volumes: v.mounts,
        ports: caddyPorts(b.n, b.target),
        networksAdvanced: [{ name: b.target.networkName, aliases: [b.name] }],
        labels: labelList(b.labelMap),
        healthcheck: {
            // An internal listener (never published), in the bootstrap too: it proves Caddy is up.
            tests: ["CMD", "wget", "-q", "-O", "/dev/null", `http://${CONTAINER.healthListen}${CONTAINER.healthPath}`],
            interval: goDuration(2),
            timeout: goDuration(3),
            retries: 3,
            startPeriod: goDuration(5),
        },
        restart: "unless-stopped",
        ...jsonFileLogs(),
        // Caddy drains connections for its 10s grace period on SIGTERM.
        stopSignal: "SIGTERM",
        stopTimeout: 15,
        wait: true,
        waitTimeout: 60,
    }, {
        ...b.opts,
        // The host ports are fixed, so a create-before-delete replace would fail with "port is
        // already allocated". Only an image, port, TLS or log-file change replaces Caddy now; the
        // gateway is down from the old container's stop (up to its 15 s drain) until the new one
        // serves the resumed config.
        deleteBeforeReplace: true,
    }));
}

/**
 * The loader that pushes this config revision into the running Caddy, after `dependsOn`. With a
 * metrics token it also receives the token (a secret upload of its own, so the config upload stays
 * readable in a preview and in `synth`) and writes it into the config volume before the push.
 * The token is not part of the revision: a new token alone replaces this loader in place (same
 * logical name), and the replacement writes it and pushes the unchanged config, which Caddy takes
 * as a no-op; Caddy reads the file per request, so the new token applies at once.
 */
function configLoader(
    b: Build, imageRef: pulumi.Output<string>, configVolume: docker.Volume, caddyJson: string, revision: string, dependsOn: pulumi.Resource[],
    metricsToken: pulumi.Input<string> | undefined,
): docker.Container {
    const loaderLabels = labelList({ ...b.labelMap, "slipway.role": "config-loader", "slipway.config-revision": revision });
    const uploads: docker.types.input.ContainerUpload[] = [{ file: CONTAINER.configPath, content: caddyJson, permissions: "0444" }];
    if (metricsToken !== undefined) {
        uploads.push({ file: CONTAINER.metricsTokenUpload, content: pulumi.secret(metricsToken), permissions: "0444" });
    }
    const caRoot = b.n.acme?.caRoot;
    if (caRoot !== undefined) uploads.push({ file: CONTAINER.acmeCaRootUpload, content: caRoot, permissions: "0444" });
    return new docker.Container(...transform(b.t.loader, `${b.name}-config-${revision}`, {
        // The same image: `caddy reload` then speaks the running Caddy's admin API version.
        image: imageRef,
        entrypoints: ["/bin/sh", "-c"],
        command: [loaderScript({
            configPath: CONTAINER.configPath,
            adminAddress: `unix/${CONTAINER.adminSocket}`,
            marker: CONFIG_LOADER.marker,
            attempts: CONFIG_LOADER.attempts,
            delaySeconds: CONFIG_LOADER.delaySeconds,
            tokenFile: { source: metricsToken === undefined ? undefined : CONTAINER.metricsTokenUpload, file: CONTAINER.metricsTokenFile },
            caRootFile: caRoot === undefined ? undefined : { source: CONTAINER.acmeCaRootUpload, file: acmeCaRootFile(caRoot) },
        })],
        // No owner/group: the provider's owner path breaks for a numeric `user`. Root-owned 0444 is
        // readable by the Caddy uid (the loader runs nothing else).
        uploads,
        // Caddy's uid: its socket is mode 0200, owned by that uid.
        user: CADDY_USER,
        capabilities: capabilitySet({ drop: ["ALL"] }),
        securityOpts: ["no-new-privileges:true"],
        ...memoryLimit(LOADER_MEMORY_MIB),
        networkMode: "none",
        // Writable: the loader installs (or removes) the metrics token file there. Reaching the
        // admin socket alone would need no write access.
        volumes: [{ volumeName: configVolume.name, containerPath: CONTAINER.configDir }],
        labels: loaderLabels,
        healthcheck: {
            tests: ["CMD", "test", "-f", CONFIG_LOADER.marker],
            interval: goDuration(2),
            timeout: goDuration(2),
            retries: 3,
            // Failed probes while the loader still retries do not count against it.
            startPeriod: goDuration(60),
        },
        restart: "unless-stopped",
        ...jsonFileLogs(),
        wait: true,
        waitTimeout: CONFIG_LOADER.waitTimeoutSeconds,
    }, {
        ...b.opts,
        // After Caddy and the upstream services: Caddy runs its first active health check when the
        // config loads, and replicas that do not exist yet would keep every route at 503 until the next one.
        dependsOn,
    }));
}

/** The base URL clients use: https on the first domain with TLS, else http on the domain or the publish address. */
function gatewayUrl(n: NormalizedGateway, target: DockerTarget): string {
    const host = n.domains[0];
    return host && n.tls !== "off"
        ? `https://${host}${n.publishPorts.https === 443 ? "" : `:${n.publishPorts.https}`}`
        : `http://${host ?? target.publishAddress}${n.publishPorts.http === 80 ? "" : `:${n.publishPorts.http}`}`;
}

/**
 * The docker half of `validateGateway`, run after the target-neutral `normalizeGateway`: what a
 * Caddy container on one host needs. ACME and the clients of a public domain must reach the host,
 * a production host serves HTTPS only, every route must have replicas to dial, and Cloudflare in
 * front (`cloudflare`) needs the host's public address and an ACME certificate at the origin.
 */
export function checkGatewayDocker(name: string, args: GatewayArgs & { target: DockerTarget }, n: NormalizedGateway): void {
    const ctx: ErrorContext = { kind: "Gateway", name };
    const target = args.target;
    // A public CA proves control of a domain by reaching this host on 80/443 from the internet, and
    // the clients of a public domain come from there too: a loopback-only gateway can serve neither.
    // A private CA (acme.directory) may sit on the stack's network, which reaches Caddy directly.
    if (n.tls === "auto" && /^127\./.test(target.publishAddress ?? "") && isPublicAcme(n.acme?.directory)) {
        invalid(ctx, "tls", `"auto"${args.tls === undefined ? " (the default with public domains)" : ""} needs ACME's challenges to reach ports 80/443 from the internet, ` +
            `but the DockerHost publishes on ${target.publishAddress}, where neither the CA nor any client can reach the gateway`,
        `build the DockerHost with publishAddress: "0.0.0.0" (or the host's public IP), set tls: "internal" (a local CA) to stay on loopback, ` +
            `or point acme.directory at a private ACME CA that reaches the gateway`);
    }
    if (target.production && n.tls === "off") {
        invalid(ctx, "tls", "a production target serves HTTPS only", `set domains (tls "auto") or tls: "internal"`);
    }
    // In the order given (the route table is sorted), so the path names the route as written.
    args.routes.forEach((r, i) => checkDialHosts(ctx, `routes[${i}].service.endpoint.dialHosts`, r.service.endpoint.dialHosts));
    if (args.cloudflare !== undefined) checkGatewayDockerCloudflare(ctx, args.cloudflare, n, target);
    const image = normalizeGatewayImage(ctx, args.image);
    if (image.kind !== "build") refuseLocalOnlyImage(ctx, "image", image.ref, target.remote);
    if (image.kind === "build" && caddyDockerfileDir() === undefined) {
        invalid(ctx, "image.build", `needs docker/caddy/Dockerfile of the @slipway/components package, which is not there (looked above ${__dirname})`,
            "reinstall the package, or give image a reference");
    }
}

/** Caddy proxies to each replica by its network alias, so there must be at least one, each a host[:port]. */
function checkDialHosts(ctx: ErrorContext, path: string, dialHosts: readonly string[]): void {
    if (dialHosts.length === 0) {
        invalid(ctx, path, "is empty, so the gateway has nothing to proxy to", "route to an ApiService built on the same docker target");
    }
    dialHosts.forEach((h, j) => {
        if (typeof h !== "string" || !/^[a-zA-Z0-9][a-zA-Z0-9.-]*(:\d{1,5})?$/.test(h)) {
            invalid(ctx, `${path}[${j}]`, `${JSON.stringify(h)} is not a host or host:port`, "use the replica's network alias, e.g. \"api-1\"");
        }
    });
}
