import * as pulumi from "@pulumi/pulumi";
import { SlipwayConfigError } from "../core/errors";
import { DoAppTarget } from "../core/target";
import { describe } from "../core/errors";
import type { AppEnvSpec, AppPart, AppServiceSpec } from "../targets/app-spec";
import { DoImage, parseDoImage } from "./images";
import { NormalizedApiService } from "./normalize";

/**
 * The service's App spec entry. Pure data: DoApp owns the App. Mapping of the Docker-side knobs:
 * - `memory`/`cpus` -> `instanceSizeSlug` (normalize picks the smallest size that fits, or checks
 *   the given `instanceSize` against them); App Platform has no finer limit.
 * - `healthcheck` timings -> both probes: readiness (`healthCheck`, `readyPath`) gates traffic,
 *   liveness (`livenessHealthCheck`, `healthPath`) restarts a stuck instance.
 * - `stopGracePeriodSeconds` -> `termination.gracePeriodSeconds` (SIGTERM to SIGKILL).
 * - secrets -> `type: SECRET` envs; there is no file delivery on App Platform, so services
 *   that read `<KEY>_FILE` on Docker must also accept `<KEY>` (as the postgres image does).
 * - `restart`, `logs`, `healthcheck.command` have no App Platform meaning and are ignored.
 */
export function apiServiceAppSpec(name: string, n: NormalizedApiService, _target: DoAppTarget): AppPart {
    if (n.source.kind !== "image") throw new Error("unreachable: normalize rejects build on do-app");
    const source = describe({ kind: "ApiService", name });
    const image: pulumi.Input<DoImage> = n.source.doImage ?? pulumi.output(n.source.ref).apply(ref => {
        // A ref that is an Output can only be checked once known, i.e. during the update.
        const parsed = parseDoImage(ref);
        if (!parsed.ok) throw new SlipwayConfigError(source, "image", parsed.problem, parsed.fix);
        return parsed.image;
    });
    const hc = n.healthcheck;
    const probe = (httpPath: string) => ({
        httpPath,
        initialDelaySeconds: hc.startPeriodSeconds,
        periodSeconds: hc.intervalSeconds,
        timeoutSeconds: hc.timeoutSeconds,
        failureThreshold: hc.retries,
        successThreshold: 1,
    });
    // Secret values stay the objects the links made (already secret): DoApp moves them to the
    // App level and merges the same secret linked to two services by identity.
    const envs: AppEnvSpec[] = n.env.map(e => ({ key: e.key, value: e.value, type: e.secret ? "SECRET" : "GENERAL", scope: "RUN_TIME" }));
    const service: AppServiceSpec = {
        name,
        image,
        httpPort: n.port,
        instanceCount: n.replicas,
        instanceSizeSlug: n.instanceSize,
        healthCheck: probe(n.readyPath),
        livenessHealthCheck: probe(n.healthPath),
        termination: { gracePeriodSeconds: n.stopGracePeriodSeconds },
        envs: envs.length ? envs : undefined,
        alerts: n.alerts.length ? n.alerts : undefined,
        logDestinations: n.logDestinations.length ? n.logDestinations : undefined,
    };
    return { owner: source, services: [service] };
}
