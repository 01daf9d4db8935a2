import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { goDuration, jsonFileLogs, labelList, memoryLimit } from "../core/docker";
import { DockerTarget } from "../core/target";
import { NormalizedObservability } from "./normalize";
import { PROMETHEUS_CONFIG_PATH, prometheusYaml, RULES_PATH, rulesYaml } from "./rules";

/**
 * Prometheus with the generated rules and scrape config. Nothing else runs on Docker: the SDK
 * settings reach services through `link`, and destinations need an Alertmanager (not included).
 * Returns the two documents, or undefined when Prometheus is disabled.
 */
export function createObservabilityDocker(
    name: string, parent: pulumi.ComponentResource, n: NormalizedObservability, target: DockerTarget,
): { rulesYaml: string; prometheusYaml: string } | undefined {
    const p = n.prometheus;
    if (!p) return undefined;
    const provider = target.provider;
    const base = { ...target.labels, "slipway.component": "Observability", "slipway.name": name };
    const rules = rulesYaml(n.alerts);
    const config = prometheusYaml({ environment: n.environment, namespace: n.namespace, prometheus: p });

    // The id, not the tag: the provider keeps the id in state, so a tag would replace on every `up`.
    const image = new docker.RemoteImage(`${name}-prometheus-image`, { name: p.image, keepLocally: true }, { parent, provider });

    // TSDB survives replaces, so a rules change does not wipe the metrics history. The name is
    // fixed and Docker's volume create returns an existing volume of that name, so a volume
    // replace would delete the one in use: name and labels come from constants only, never config.
    const data = new docker.Volume(`${name}-prometheus-data`, {
        name: `${target.namePrefix}-${name}-prometheus`,
        labels: labelList({ ...base, "slipway.role": "prometheus-data" }),
    }, { parent, provider });

    new docker.Container(`${name}-prometheus`, {
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
        volumes: [{ volumeName: data.name, containerPath: "/prometheus" }],
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
        capabilities: { drops: ["ALL"] },
        stopTimeout: 30,
        ...jsonFileLogs(),
        labels: labelList({ ...base, "slipway.role": "prometheus" }),
    }, {
        parent, provider,
        // Prometheus locks its TSDB directory: a second instance on the same volume cannot start.
        // The same holds for a fixed publishPort, which two containers cannot both bind.
        deleteBeforeReplace: true,
    });
    return { rulesYaml: rules, prometheusYaml: config };
}
