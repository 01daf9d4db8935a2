import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { DockerTarget } from "../core/target";
import { NormalizedApiService, SECRETS_DIR } from "./normalize";

export interface ApiServiceDockerResources {
    image: docker.RemoteImage | docker.Image;
    /** Replica i (1-based) is `containers[i - 1]`, logical name `<name>-<i>`. */
    containers: docker.Container[];
}

/**
 * One container per replica on the target's network. Containers get no fixed name (Pulumi
 * autonames them), so an image or config change is a create-before-delete replace: with
 * `wait`, the new replica is healthy before the old one is removed, and both answer to the same
 * aliases meanwhile. The container's `image` is the image *id* (or local digest), so a new image
 * behind the same tag is a change, and the provider replaces on image changes.
 */
export function createApiServiceDocker(
    name: string,
    parent: pulumi.Resource,
    n: NormalizedApiService,
    target: DockerTarget,
): ApiServiceDockerResources {
    const opts = { parent, provider: target.provider };
    let image: docker.RemoteImage | docker.Image;
    let imageRef: pulumi.Output<string>;
    if (n.source.kind === "image") {
        const remote = new docker.RemoteImage(`${name}-image`, { name: n.source.ref, keepLocally: true }, opts);
        image = remote;
        imageRef = remote.imageId;
    } else {
        const built = new docker.Image(`${name}-image`, {
            imageName: `${target.namePrefix}-${name}:slipway`,
            build: {
                context: n.source.context,
                dockerfile: n.source.dockerfile,
                args: n.source.args,
                platform: n.source.platform,
            },
            // Built on the target engine for the target engine; no registry involved.
            skipPush: true,
        }, opts);
        image = built;
        imageRef = built.repoDigest;
    }

    const fileSecrets = n.secretDelivery === "file";
    const envs: pulumi.Input<string>[] = [];
    const uploads: docker.types.input.ContainerUpload[] = [];
    for (const e of n.env) {
        if (e.secret && fileSecrets) {
            const file = `${SECRETS_DIR}/${e.key}`;
            envs.push(`${e.key}_FILE=${file}`);
            uploads.push({ file, content: pulumi.secret(e.value), permissions: "0400", owner: n.uid, group: n.gid });
        } else if (e.secret) {
            envs.push(pulumi.secret(pulumi.interpolate`${e.key}=${e.value}`));
        } else {
            envs.push(typeof e.value === "string" ? `${e.key}=${e.value}` : pulumi.interpolate`${e.key}=${e.value}`);
        }
    }
    const hc = n.healthcheck;
    // Long enough for the start period plus every retry, so `wait` fails for a real reason only.
    const waitTimeout = Math.max(60, hc.startPeriodSeconds + (hc.intervalSeconds + hc.timeoutSeconds) * (hc.retries + 1));

    const containers: docker.Container[] = [];
    for (let i = 1; i <= n.replicas; i++) {
        const labels: Record<string, string> = {
            ...target.labels,
            "slipway.component": "ApiService",
            "slipway.name": name,
            "slipway.replica": String(i),
        };
        containers.push(new docker.Container(`${name}-${i}`, {
            image: imageRef,
            envs,
            uploads: uploads.length ? uploads : undefined,
            networksAdvanced: [{ name: target.networkName, aliases: [name, `${name}-${i}`] }],
            labels: Object.keys(labels).sort().map(label => ({ label, value: labels[label]! })),
            healthcheck: {
                tests: hc.command,
                interval: `${hc.intervalSeconds}s`,
                timeout: `${hc.timeoutSeconds}s`,
                retries: hc.retries,
                startPeriod: `${hc.startPeriodSeconds}s`,
            },
            wait: n.waitForHealthy,
            waitTimeout: n.waitForHealthy ? waitTimeout : undefined,
            restart: n.restart,
            memory: n.memoryMiB,
            cpus: String(n.cpus),
            logDriver: "json-file",
            logOpts: { "max-size": n.logs.maxSize, "max-file": String(n.logs.maxFiles) },
            user: `${n.uid}:${n.gid}`,
            securityOpts: ["no-new-privileges:true"],
            capabilities: { drops: ["ALL"] },
            readOnly: n.readOnlyRootFilesystem,
            // A read-only root still needs a scratch directory for most runtimes.
            tmpfs: n.readOnlyRootFilesystem ? { "/tmp": "rw,noexec,nosuid,size=64m" } : undefined,
            stopSignal: n.stopSignal,
            stopTimeout: n.stopGracePeriodSeconds,
            destroyGraceSeconds: n.stopGracePeriodSeconds,
            mustRun: true,
        }, opts));
    }
    return { image, containers };
}
