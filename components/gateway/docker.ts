import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { DockerTarget } from "../core/target";
import { buildCaddyConfig, CONTAINER, renderCaddyJson } from "./caddy-config";
import { DEFAULTS, NormalizedGateway } from "./normalize";

/** The uid:gid the Caddy image runs as and owns /data, /config and /var/log/caddy with (images/caddy). */
export const CADDY_UID = 10002;
export const CADDY_USER = `${CADDY_UID}:${CADDY_UID}`;
const TMPFS = `rw,noexec,nosuid,size=16m,uid=${CADDY_UID},gid=${CADDY_UID}`;

export interface GatewayDockerResources {
    image: docker.RemoteImage;
    container: docker.Container;
    dataVolume?: docker.Volume;
    logVolume?: docker.Volume;
    caddyJson: string;
    url: string;
}

/**
 * One Caddy container, configured by native JSON uploaded at /etc/caddy/caddy.json.
 *
 * Hardening, and why not more: Caddy listens on 8080/8443 inside, so it runs as a non-root
 * user with every capability dropped. The root filesystem stays writable because Docker refuses
 * uploads (`docker cp`) into a read-only rootfs, and the config must be an upload so synth and
 * reviewers see it; /config is a tmpfs and /data a volume (certificates) or a tmpfs (no TLS).
 *
 * A replace (image or config change) is delete-before-create, because the published host ports
 * cannot be held by two containers: expect a gap of a few seconds without a gateway.
 */
export function createGatewayDocker(
    name: string,
    parent: pulumi.Resource,
    n: NormalizedGateway,
    target: DockerTarget,
    image: pulumi.Input<string> | undefined,
): GatewayDockerResources {
    const opts = { parent, provider: target.provider };
    const labels: Record<string, string> = { ...target.labels, "slipway.component": "Gateway", "slipway.name": name };
    const labelList = Object.keys(labels).sort().map(label => ({ label, value: labels[label]! }));
    const caddyJson = renderCaddyJson(buildCaddyConfig(n));
    const tlsOn = n.tls !== "off";

    const volumes: docker.types.input.ContainerVolume[] = [];
    const tmpfs: Record<string, string> = { "/config": TMPFS };
    let dataVolume: docker.Volume | undefined;
    // Volume names are fixed and Docker's volume create returns an existing volume of that name,
    // so a volume replace would end up deleting the volume in use. Their inputs (name, labels) are
    // therefore derived from constants only (stack, environment, component, name), never from config.
    if (tlsOn) {
        // Certificates and ACME account keys: losing them means re-issuing against CA rate limits.
        dataVolume = new docker.Volume(`${name}-data`, {
            name: `${target.namePrefix}-${name}-caddy-data`,
            labels: labelList,
        }, { ...opts, protect: target.production, retainOnDelete: target.production });
        volumes.push({ volumeName: dataVolume.name, containerPath: "/data" });
    } else {
        tmpfs["/data"] = TMPFS;
    }
    let logVolume: docker.Volume | undefined;
    if (n.accessLog?.file) {
        logVolume = new docker.Volume(`${name}-logs`, { name: `${target.namePrefix}-${name}-caddy-logs`, labels: labelList }, opts);
        volumes.push({ volumeName: logVolume.name, containerPath: n.accessLog.file.replace(/\/[^/]+$/, "") });
    }

    const ports: docker.types.input.ContainerPort[] = [
        { internal: CONTAINER.httpPort, external: n.publishPorts.http, ip: target.publishAddress, protocol: "tcp" },
    ];
    if (n.publishPorts.https !== undefined) {
        ports.push({ internal: CONTAINER.httpsPort, external: n.publishPorts.https, ip: target.publishAddress, protocol: "tcp" });
    }

    // The container takes the image id: the provider keeps the id in state, so a tag here would
    // differ on every run and replace Caddy on every `up`.
    const remote = new docker.RemoteImage(`${name}-image`, { name: image ?? DEFAULTS.image, keepLocally: true }, opts);

    const container = new docker.Container(`${name}-caddy`, {
        image: remote.imageId,
        // Both set, so the result is `caddy run --config ...` whatever the image's own
        // ENTRYPOINT/CMD (images/caddy has ENTRYPOINT caddy; the official image has none).
        entrypoints: ["caddy"],
        command: ["run", "--config", CONTAINER.configPath],
        uploads: [{ file: CONTAINER.configPath, content: caddyJson, permissions: "0444" }],
        user: CADDY_USER,
        capabilities: { drops: ["ALL"] },
        securityOpts: ["no-new-privileges:true"],
        tmpfs,
        volumes: volumes.length ? volumes : undefined,
        ports,
        networksAdvanced: [{ name: target.networkName, aliases: [name] }],
        labels: labelList,
        healthcheck: {
            // An internal listener (never published): it proves Caddy is up and serving.
            tests: ["CMD", "wget", "-q", "-O", "/dev/null", `http://${CONTAINER.healthListen}${CONTAINER.healthPath}`],
            interval: "10s",
            timeout: "3s",
            retries: 3,
            startPeriod: "5s",
        },
        restart: "unless-stopped",
        logDriver: "json-file",
        logOpts: { "max-size": "10m", "max-file": "3" },
        // Caddy drains connections for its 10s grace period on SIGTERM.
        stopSignal: "SIGTERM",
        stopTimeout: 15,
        wait: true,
        waitTimeout: 60,
    }, {
        ...opts,
        // The host ports are fixed, so a create-before-delete replace (every config change, since
        // the config is an upload) would fail with "port is already allocated". The price: the
        // gateway is down from the old container's stop (up to its 15 s drain) until the new one
        // is healthy, a few seconds in all.
        deleteBeforeReplace: true,
    });

    const host = n.domains[0];
    const url = host && tlsOn
        ? `https://${host}${n.publishPorts.https === 443 ? "" : `:${n.publishPorts.https}`}`
        : `http://${host ?? target.publishAddress}${n.publishPorts.http === 80 ? "" : `:${n.publishPorts.http}`}`;
    return { image: remote, container, dataVolume, logVolume, caddyJson, url };
}
