import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { capabilitySet, goDuration, jsonFileLogs, labelList, memoryLimit } from "../core/docker";
import { describe, ErrorContext, invalid } from "../core/errors";
import type { ScrapeSink, ScrapeTargets } from "../core/link";
import { DO_NAME } from "../core/naming";
import { refuseLocalOnlyImage } from "../core/registries";
import { DockerTarget } from "../core/target";
import { Transform, transform } from "../core/transform";
import type { ObservabilityDockerTransform } from "./transforms/docker";
import { ALERTMANAGER_CONFIG_PATH, ALERTMANAGER_PORT, alertmanagerYaml, secretFile } from "./alertmanager";
import { definedJobs, isScrapeHost, NormalizedAlertmanager, NormalizedObservability, NormalizedPrometheus } from "./normalize";
import { PROMETHEUS_CONFIG_PATH, prometheusYaml, RULES_PATH, TARGETS_DIR, targetsFileJson } from "./prometheus-config";
import { rulesYaml } from "./rules";

/**
 * How a linked service's replicas reach Prometheus: a small writer container per service revision
 * puts one file_sd file into the targets volume. See {@link createObservabilityDocker}.
 */
export const TARGET_WRITER = {
    /**
     * Where a writer mounts the targets volume: the Prometheus image's data directory, which both
     * Slipway's image (uid 990) and prom/prometheus (nobody) create owned by the user they run as.
     * On the first mount of the empty volume there, Docker copies that directory's owner and mode
     * onto the volume (the copy-up of `-v name:/path` binds, which the provider's `volumes` are),
     * so the writer, running as the image's non-root user, can write it.
     */
    dir: "/prometheus",
    /** The target file as uploaded into the writer (root-owned 0444, readable by every user). */
    source: "/etc/slipway/scrape-targets.json",
    memoryMiB: 16,
    /** SIGTERM (the writer then removes its file) before the provider removes the container. */
    stopSeconds: 10,
    /** Bounds `pulumi up`: writing takes milliseconds, so a writer unhealthy for longer failed. */
    waitTimeoutSeconds: 60,
} as const;

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A target writer's program (POSIX sh; busybox or dash). It copies the uploaded file into the
 * volume as `dir/file`, through a temporary name in the same directory and `mv` (a rename:
 * Prometheus, watching the directory, never reads half a file; the temporary name does not match
 * `*.json`), then idles. On SIGTERM (the provider's destroy stops it with `destroyGraceSeconds`)
 * it removes its file, so a service's targets leave Prometheus with the writer that put them
 * there: at the end of a rollout, or when the service is removed. A restarted writer writes
 * again (same bytes). If the volume is not writable it says so and stays unhealthy.
 */
export function targetWriterScript(o: { source: string; dir: string; file: string }): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*\.json$/.test(o.file)) throw new Error(`targetWriterScript: ${JSON.stringify(o.file)} is not a plain *.json file name`);
    return [
        `src=${sq(o.source)}`,
        `dst=${sq(`${o.dir}/${o.file}`)}`,
        `tmp=${sq(`${o.dir}/.${o.file}.tmp`)}`,
        "log() { echo \"scrape-targets: $*\"; }",
        "trap 'rm -f \"$tmp\" \"$dst\"; log \"stopped; removed $dst\"; exit 0' TERM INT",
        "rm -f \"$tmp\"",
        "if cat \"$src\" > \"$tmp\" && mv -f \"$tmp\" \"$dst\"; then",
        "  log \"wrote $dst\"",
        "else",
        "  log \"cannot write $dst as uid $(id -u): the targets volume belongs to another user\" >&2",
        "fi",
        "while :; do sleep 3600 & wait $!; done",
        "",
    ].join("\n");
}

/** First 10 hex digits of the SHA-256 of a target file: its revision. */
export function targetsRevision(content: string): string {
    return createHash("sha256").update(content).digest("hex").slice(0, 10);
}

export type { ObservabilityDockerTransform } from "./transforms/docker";

/** What the docker target created (`Observability.nodes`). */
export interface ObservabilityDockerNodes {
    image: docker.RemoteImage;
    prometheus: docker.Container;
    dataVolume: docker.Volume;
    targetsVolume: docker.Volume;
    /** The target writers, one added as each linked service hands its replicas over. */
    writers: docker.Container[];
    alertmanagerImage?: docker.RemoteImage;
    alertmanager?: docker.Container;
    alertmanagerDataVolume?: docker.Volume;
}

export interface ObservabilityDockerResult {
    rulesYaml: string;
    prometheusYaml: string;
    /** With `alertmanager`: its generated config (file paths, no URL). */
    alertmanagerYaml?: string;
    /** Where linked services hand over their replicas (Observability's `link().docker.scrape`). */
    scrape: ScrapeSink;
    nodes: ObservabilityDockerNodes;
}

/** The docker target's own checks, run after normalize and before anything registers (see `validateObservability`). */
export function checkObservabilityDocker(name: string, target: DockerTarget, n: NormalizedObservability): void {
    const ctx: ErrorContext = { kind: "Observability", name };
    refuseLocalOnlyImage(ctx, "prometheus.image", n.prometheus?.image, target.remote);
    refuseLocalOnlyImage(ctx, "alertmanager.image", n.alertmanager?.image, target.remote);
}

/**
 * Prometheus with the generated rules and scrape config, plus the target writers of the services
 * that link it, and with `alertmanager` an Alertmanager it sends its alerts to (see
 * {@link createAlertmanager}). The SDK settings reach services through `link`. Returns undefined
 * when Prometheus is disabled.
 *
 * Services are declared after Observability (they link it), so Prometheus' config cannot name
 * them. It reads `file_sd` files from a targets volume (mounted read-only) instead, and each
 * service, once its replicas are declared, calls `scrape.addTargets`: that creates a writer
 * container, `${name}-targets-<service>-<revision>` (a child of the Observability), which writes
 * `<service>-<revision>.json` listing every replica host on the service's port (or
 * `prometheus.port`), labelled `job=<service>` and `release=<release>`. Every replica is its own
 * target, so a stopped one reads `up == 0` rather than disappearing. Prometheus' own inputs never
 * depend on the services, so a rollout does not restart it.
 *
 * The revision (a hash of the file) is in the writer's logical name and in the file name: a new
 * replica set is a new writer, which the engine creates during the update (after the new replicas
 * it depends on) and, like the old replicas, deletes at the end, the writer first (it depends on
 * them), removing its file. Meanwhile Prometheus scrapes both sets, which both exist. A failed
 * update leaves both files; the next one deletes whichever writer it no longer declares.
 *
 * Known limits: the volume takes the owner of the image's /prometheus on its first mount, so a
 * switch to an image that runs as another user while target files exist needs the volume emptied
 * (`docker volume rm` it after a `pulumi destroy`). A writer removed without its stop (`docker rm
 * -f` by hand) leaves its file behind; delete the file from the volume.
 */
export function createObservabilityDocker(
    name: string, parent: pulumi.ComponentResource, n: NormalizedObservability, target: DockerTarget,
    t: ObservabilityDockerTransform = {},
): ObservabilityDockerResult | undefined {
    const p = n.prometheus;
    if (!p) return undefined;
    const provider = target.provider;
    const base = { ...target.labels, "slipway.component": "Observability", "slipway.name": name };
    const rules = rulesYaml(n.alerts);
    const alerting = n.alertmanager && { host: `${name}-alertmanager`, yaml: alertmanagerYaml(n.alertmanager) };
    const config = prometheusYaml({
        environment: n.environment, namespace: n.namespace, prometheus: p, alertmanagerTarget: alerting && `${alerting.host}:${ALERTMANAGER_PORT}`,
    });

    // The id, not the tag: the provider keeps the id in state, so a tag would replace on every `up`.
    const image = new docker.RemoteImage(...transform(t.image, `${name}-prometheus-image`, { name: p.image, keepLocally: true }, { parent, provider }));

    // TSDB survives replaces, so a rules change does not wipe the metrics history. The name is
    // fixed and Docker's volume create returns an existing volume of that name, so a volume
    // replace would delete the one in use: name and labels come from constants only, never config.
    const data = new docker.Volume(...transform(t.volume, `${name}-prometheus-data`, {
        name: `${target.namePrefix}-${name}-prometheus`,
        labels: labelList({ ...base, "slipway.role": "prometheus-data" }),
    }, { parent, provider }));
    // The linked services' target files. Same rule: constants only.
    const targets = new docker.Volume(...transform(t.volume, `${name}-prometheus-targets`, {
        name: `${target.namePrefix}-${name}-prometheus-targets`,
        labels: labelList({ ...base, "slipway.role": "prometheus-targets" }),
    }, { parent, provider }));

    const prometheus = new docker.Container(...transform(t.container, `${name}-prometheus`, {
        image: image.imageId,
        command: [
            `--config.file=${PROMETHEUS_CONFIG_PATH}`,
            "--storage.tsdb.path=/prometheus",
            `--storage.tsdb.retention.time=${p.retentionDays}d`,
            "--web.listen-address=:9090",
        ],
        uploads: [
            { file: PROMETHEUS_CONFIG_PATH, content: config, permissions: "0444" },
            { file: RULES_PATH, content: rules, permissions: "0444" },
        ],
        volumes: [
            { volumeName: data.name, containerPath: "/prometheus" },
            { volumeName: targets.name, containerPath: TARGETS_DIR, readOnly: true },
        ],
        networksAdvanced: [{ name: target.networkName, aliases: [`${name}-prometheus`] }],
        ports: p.publishPort ? [{ internal: 9090, external: p.publishPort, ip: target.publishAddress }] : undefined,
        healthcheck: {
            // The image is busybox-based: wget is there, curl is not.
            tests: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9090/-/ready"],
            // Go's form, as the provider reads durations back.
            interval: goDuration(2), timeout: goDuration(5), retries: 3, startPeriod: goDuration(30),
        },
        restart: "unless-stopped",
        // Swap pinned to the limit: no swap, and no `- memorySwap` on every preview.
        ...memoryLimit(512),
        // The image's non-root user (990 in Slipway's, nobody in prom/prometheus) needs no
        // capability and never gains one.
        securityOpts: ["no-new-privileges:true"],
        capabilities: capabilitySet({ drop: ["ALL"] }),
        stopTimeout: 30,
        ...jsonFileLogs(),
        labels: labelList({ ...base, "slipway.role": "prometheus" }),
    }, {
        parent, provider,
        // Prometheus locks its TSDB directory: a second instance on the same volume cannot start.
        // The same holds for a fixed publishPort, which two containers cannot both bind.
        deleteBeforeReplace: true,
    }));

    const writers: docker.Container[] = [];
    const writer = { parent, provider, image: image.imageId, volume: targets.name, labels: base, transform: t.targetsWriter };
    const scrape = scrapeSink({ kind: "Observability", name }, p, definedJobs(n), (s, dependsOn) =>
        writers.push(createTargetWriter(name, writer, { ...s, port: p.port ?? s.port }, dependsOn)));
    const am = n.alertmanager && alerting && createAlertmanager(name, { parent, target, base, transform: t }, n.alertmanager, alerting);
    const nodes = { image, prometheus, dataVolume: data, targetsVolume: targets, writers, ...am };
    return { rulesYaml: rules, prometheusYaml: config, alertmanagerYaml: alerting?.yaml, scrape, nodes };
}

/** Alertmanager's container: its config, and one secret file per webhook URL. */
export const ALERTMANAGER = {
    dataDir: "/alertmanager",
    memoryMiB: 128,
} as const;

interface AlertmanagerContext {
    parent: pulumi.Resource;
    target: DockerTarget;
    base: Record<string, string>;
    transform: ObservabilityDockerTransform;
}

/**
 * Alertmanager, at `<name>-alertmanager:9093` on the target's network (Prometheus' `alerting`
 * target). Its config (`alertmanager.ts`) is uploaded as a plain file; every webhook URL is
 * uploaded on its own as `/etc/alertmanager/secrets/<id>.url` (root-owned 0444: Alertmanager's
 * non-root user reads it, nobody writes it), from a secret Output, so it is in no env, no
 * command, no label and no generated document; Alertmanager reads the file at each notification.
 * Silences and the notification log live in a volume, so a replace neither forgets a silence nor
 * repeats a sent notification. Single instance: clustering is off (`--cluster.listen-address=`).
 */
function createAlertmanager(
    name: string, c: AlertmanagerContext, a: NormalizedAlertmanager, alerting: { host: string; yaml: string },
): Pick<ObservabilityDockerNodes, "alertmanagerImage" | "alertmanager" | "alertmanagerDataVolume"> {
    const { parent, target } = c;
    const provider = target.provider;
    const image = new docker.RemoteImage(...transform(c.transform.alertmanagerImage, `${name}-alertmanager-image`, { name: a.image, keepLocally: true }, { parent, provider }));
    // Constants only, as for Prometheus' volumes: a volume replace would delete the one in use.
    const data = new docker.Volume(...transform(c.transform.volume, `${name}-alertmanager-data`, {
        name: `${target.namePrefix}-${name}-alertmanager`,
        labels: labelList({ ...c.base, "slipway.role": "alertmanager-data" }),
    }, { parent, provider }));
    const container = new docker.Container(...transform(c.transform.alertmanager, `${name}-alertmanager`, {
        image: image.imageId,
        command: [
            `--config.file=${ALERTMANAGER_CONFIG_PATH}`,
            `--storage.path=${ALERTMANAGER.dataDir}`,
            `--web.listen-address=:${ALERTMANAGER_PORT}`,
            "--cluster.listen-address=",
        ],
        uploads: [
            { file: ALERTMANAGER_CONFIG_PATH, content: alerting.yaml, permissions: "0444" },
            ...a.destinations.map(d => ({ file: secretFile(d.id), content: d.url, permissions: "0444" })),
        ],
        volumes: [{ volumeName: data.name, containerPath: ALERTMANAGER.dataDir }],
        networksAdvanced: [{ name: target.networkName, aliases: [alerting.host] }],
        ports: a.publishPort ? [{ internal: ALERTMANAGER_PORT, external: a.publishPort, ip: target.publishAddress }] : undefined,
        healthcheck: {
            tests: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${ALERTMANAGER_PORT}/-/ready`],
            interval: goDuration(2), timeout: goDuration(5), retries: 3, startPeriod: goDuration(30),
        },
        restart: "unless-stopped",
        ...memoryLimit(ALERTMANAGER.memoryMiB),
        securityOpts: ["no-new-privileges:true"],
        capabilities: capabilitySet({ drop: ["ALL"] }),
        stopTimeout: 30,
        ...jsonFileLogs(),
        // The uploads are one secret as the engine sees them (a URL is in them), so a preview
        // shows a config change here; the document itself is the `alertmanagerYaml` output.
        labels: labelList({ ...c.base, "slipway.role": "alertmanager", "slipway.config-hash": createHash("sha256").update(alerting.yaml).digest("hex").slice(0, 12) }),
    }, {
        parent, provider,
        // A fixed publishPort cannot be bound by two containers (the provider does this anyway).
        deleteBeforeReplace: true,
    }));
    return { alertmanagerImage: image, alertmanager: container, alertmanagerDataVolume: data };
}

interface WriterContext {
    parent: pulumi.Resource;
    provider: pulumi.ProviderResource;
    /** Prometheus' image: no pull of its own, and it has a shell. */
    image: pulumi.Input<string>;
    volume: pulumi.Input<string>;
    labels: Record<string, string>;
    transform?: Transform<docker.ContainerArgs>;
}

/** One service revision's target writer (see {@link createObservabilityDocker} and {@link targetWriterScript}). */
function createTargetWriter(name: string, w: WriterContext, t: ScrapeTargets, dependsOn: pulumi.Resource[]): docker.Container {
    const content = targetsFileJson(t);
    const revision = targetsRevision(content);
    const file = `${t.service}-${revision}.json`;
    return new docker.Container(...transform(w.transform, `${name}-targets-${t.service}-${revision}`, {
        image: w.image,
        entrypoints: ["/bin/sh", "-c"],
        command: [targetWriterScript({ source: TARGET_WRITER.source, dir: TARGET_WRITER.dir, file })],
        // No owner/group: the provider's owner path breaks for numeric users. 0444 root-owned is
        // readable by the image's user.
        uploads: [{ file: TARGET_WRITER.source, content, permissions: "0444" }],
        // No `user`: the image's own non-root user, the one that owns its /prometheus.
        capabilities: capabilitySet({ drop: ["ALL"] }),
        securityOpts: ["no-new-privileges:true"],
        ...memoryLimit(TARGET_WRITER.memoryMiB),
        networkMode: "none",
        volumes: [{ volumeName: w.volume, containerPath: TARGET_WRITER.dir }],
        labels: labelList({
            ...w.labels, "slipway.role": "scrape-targets", "slipway.service": t.service, "slipway.targets-revision": revision,
        }),
        healthcheck: {
            tests: ["CMD", "test", "-s", `${TARGET_WRITER.dir}/${file}`],
            interval: goDuration(1), timeout: goDuration(2), retries: 3,
            // Failed probes before the first write do not count; a writer that cannot write
            // turns unhealthy a few seconds later.
            startPeriod: goDuration(10),
        },
        restart: "unless-stopped",
        stopTimeout: TARGET_WRITER.stopSeconds,
        // Without it the provider's destroy is a forced remove (SIGKILL), and the file would stay.
        destroyGraceSeconds: TARGET_WRITER.stopSeconds,
        ...jsonFileLogs(),
        wait: true,
        waitTimeout: TARGET_WRITER.waitTimeoutSeconds,
    }, { parent: w.parent, provider: w.provider, dependsOn }));
}

/** The sink a stack's preflight links services to: the same checks, nothing written. */
export function preflightScrapeSink(name: string, n: NormalizedObservability): ScrapeSink | undefined {
    return n.prometheus && scrapeSink({ kind: "Observability", name }, n.prometheus, definedJobs(n), () => undefined);
}

/**
 * The sink linked services call: checks what a service hands over (once per service, a job name
 * of its own, plain host names) and passes it to `write`.
 */
function scrapeSink(
    ctx: ErrorContext, p: NormalizedPrometheus, jobs: string[], write: (t: ScrapeTargets, dependsOn: pulumi.Resource[]) => void,
): ScrapeSink {
    const linked = new Set<string>();
    const check = (t: Omit<ScrapeTargets, "release">) => {
        const label = `the linked service ${JSON.stringify(t.service)}`;
        if (typeof t.service !== "string" || !DO_NAME.test(t.service)) {
            invalid(ctx, "link", `${label} cannot name a Prometheus job and a file`, "name the service with lowercase letters, digits and hyphens");
        }
        if (jobs.includes(t.service)) {
            invalid(ctx, "link", `${label} would share its job with one Prometheus' config defines itself`, "rename the service");
        }
        const listed = p.scrape.findIndex(s => s.name === t.service);
        if (listed >= 0) {
            invalid(ctx, `prometheus.scrape[${listed}]`, `"${t.service}" is also a linked service, which is scraped without being listed (it would be scraped twice)`,
                `remove "${t.service}" from prometheus.scrape`);
        }
        if (linked.has(t.service)) invalid(ctx, "link", `${label} handed over its targets twice`, "link each service once");
    };
    return {
        check,
        addTargets(t, dependsOn) {
            const label = `the linked service ${JSON.stringify(t.service)}`;
            check(t);
            const bad = t.hosts.find(h => !isScrapeHost(h));
            if (bad !== undefined || !Number.isInteger(t.port) || t.port < 1 || t.port > 65535 || !/^[A-Za-z0-9._-]{1,63}$/.test(t.release)) {
                // The ApiService builds these itself: a bug there, not a user's input.
                throw new Error(`${describe(ctx)}: ${label} handed over invalid targets ${JSON.stringify(t)}`);
            }
            linked.add(t.service);
            write(t, dependsOn);
        },
    };
}
