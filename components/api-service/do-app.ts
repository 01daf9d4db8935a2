import * as pulumi from "@pulumi/pulumi";
import { ErrorContext, SlipwayConfigError, invalid, requireOneOf } from "../core/errors";
import { MonthlyCost, appInstancesCost } from "../core/prices";
import { RegistryCredential } from "../core/registries";
import { DoAppTarget } from "../core/target";
import { describe } from "../core/errors";
import { transform } from "../core/transform";
import type { ApiServiceDoAppTransform } from "./transforms/do-app";

export type { ApiServiceDoAppTransform } from "./transforms/do-app";
import type { AppEnvSpec, AppJobSpec, AppPart, AppServiceAlertSpec, AppServiceLogDestinationSpec, AppServiceSpec } from "../targets/app-spec";
import { DO_INSTANCE_SIZES, DO_LEGACY_INSTANCE_SIZES, DoImage, DoInstanceSize, parseDoImage, pickInstanceSize, sizeOf } from "./images";
import { ApiServiceInput, DEFAULTS, ImageSource, NeutralApiService, NormalizedApiService } from "./normalize";

/**
 * The service's App spec entry. Pure data: DoApp owns the App. Mapping of the Docker-side knobs:
 * - `memory`/`cpus` -> `instanceSizeSlug` (checkApiServiceDoApp picks the smallest size that fits, or checks
 *   the given `instanceSize` against them); App Platform has no finer limit.
 * - `healthcheck` timings -> both probes: readiness (`healthCheck`, `readyPath`) gates traffic,
 *   liveness (`livenessHealthCheck`, `healthPath`) restarts a stuck instance.
 * - `stopGracePeriodSeconds` -> `termination.gracePeriodSeconds` (SIGTERM to SIGKILL).
 * - secrets -> `type: SECRET` envs; there is no file delivery on App Platform, so services
 *   that read `<KEY>_FILE` on Docker must also accept `<KEY>` (as the postgres image does).
 * - `restart`, `logs`, `healthcheck.command` have no App Platform meaning and are ignored.
 */
export function apiServiceAppSpec(name: string, n: NormalizedApiService, target: DoAppTarget, t: ApiServiceDoAppTransform = {}): AppPart {
    if (n.source.kind !== "image") throw new Error("unreachable: normalize rejects build on do-app");
    const source = describe({ kind: "ApiService", name });
    const parsed: pulumi.Input<DoImage> = (n.source.doImage as DoImage | undefined) ?? pulumi.output(n.source.ref).apply((ref): DoImage => {
        // A ref that is an Output can only be checked once known, i.e. during the update.
        const p = parseDoImage(ref);
        if (!p.ok) throw new SlipwayConfigError(source, "image", p.problem, p.fix);
        return p.image;
    });
    const image = withRegistryCredentials(parsed, target.registries ?? []);
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
    const [, transformed] = transform(t.service, name, service, {});
    return { owner: source, services: [transformed], ...(n.migrate ? { jobs: [migrationJob(name, n, n.migrate, image, envs)] } : {}) };
}

/**
 * `migrate` on App Platform: a PRE_DEPLOY job of the same image and env, which App Platform runs
 * before it rolls out the new version and whose failure aborts the deploy (the old version keeps
 * serving). No dump is taken: the managed database's point-in-time recovery covers the moment
 * before the migration.
 */
function migrationJob(name: string, n: NormalizedApiService, m: NonNullable<NormalizedApiService["migrate"]>, image: AppServiceSpec["image"], envs: AppEnvSpec[]): AppJobSpec {
    return {
        name: `${name}-migrate`,
        kind: "PRE_DEPLOY",
        image,
        runCommand: m.command.map(shellQuote).join(" "),
        instanceCount: 1,
        instanceSizeSlug: n.instanceSize,
        envs: envs.length ? envs : undefined,
    };
}

/** One argv element for App Platform's run_command, which a shell splits. */
function shellQuote(arg: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Its App Platform price: instances × the size's list price. */
export function apiServiceMonthlyCost(n: NormalizedApiService): MonthlyCost {
    return appInstancesCost(n.instanceSize ?? DEFAULTS.instanceSize, n.replicas);
}

/**
 * The image block with `registryCredentials` ("<username>:<token>", secret) when the target has
 * credentials for its registry: GHCR by `ghcr.io`, Docker Hub by `docker.io`; DOCR needs none.
 * The secret makes the engine print `spec.services` as one opaque value in previews (README, "Private images").
 */
function withRegistryCredentials(image: pulumi.Input<DoImage>, registries: readonly RegistryCredential[]): NonNullable<AppServiceSpec["image"]> {
    if (!registries.length) return image;
    const credentialFor = (img: DoImage) => registries.find(r => r.host === (img.registryType === "GHCR" ? "ghcr.io" : img.registryType === "DOCKER_HUB" ? "docker.io" : undefined));
    if (!pulumi.Output.isInstance(image)) {
        const cred = credentialFor(image as DoImage);
        return cred ? { ...(image as DoImage), registryCredentials: pulumi.secret(pulumi.interpolate`${cred.username}:${cred.token}`) } : image;
    }
    const tokens: pulumi.Output<string>[] = registries.map(r => r.token);
    return pulumi.all([pulumi.output(image), pulumi.all(tokens)]).apply(([img, plain]) => {
        const i = registries.findIndex(r => r === credentialFor(img));
        return i < 0 ? img : { ...img, registryCredentials: `${registries[i]!.username}:${plain[i]}` };
    });
}

/**
 * The do-app target's own checks and defaults, run after normalize (see `validateApiService`):
 * no local build, a reference App Platform can pull, refusals of what it cannot honour, the
 * instance size, the alerts and log destinations the links give, and App Platform's probe
 * interval. Returns the service normalized for do-app.
 */
export function checkApiServiceDoApp(name: string, args: ApiServiceInput, n: NeutralApiService): NormalizedApiService {
    const ctx: ErrorContext = { kind: "ApiService", name };
    const source = doAppSource(ctx, n.source);
    refuseDockerOnly(ctx, args, n);
    const instanceSize = chooseInstanceSize(ctx, args, n);
    const { alerts, logDestinations } = mergeLinkedDoApp(ctx, n.links);
    return {
        ...n, source,
        healthcheck: { ...n.healthcheck, intervalSeconds: n.healthcheck.intervalSeconds ?? DEFAULTS.intervalSeconds },
        alerts, logDestinations, instanceSize,
    };
}

function doAppSource(ctx: ErrorContext, source: ImageSource): ImageSource {
    if (source.kind === "build") {
        invalid(ctx, "build", "App Platform cannot build a local context: it runs images from a registry",
            "push the image in CI and pass image: \"registry.digitalocean.com/<registry>/<repo>:<tag>\" (or a GHCR/Docker Hub reference) on this target");
    }
    // An Output reference is parsed once known (apiServiceAppSpec).
    if (typeof source.ref !== "string") return source;
    const parsed = parseDoImage(source.ref);
    if (!parsed.ok) invalid(ctx, "image", parsed.problem, parsed.fix);
    return { kind: "image", ref: source.ref, doImage: parsed.image };
}

/**
 * Settings App Platform cannot honour. A security setting must never vanish silently, so these
 * fail; Docker-only operational knobs (restart, healthcheck.command, logs) are ignored.
 */
function refuseDockerOnly(ctx: ErrorContext, args: ApiServiceInput, n: NeutralApiService): void {
    if (args.user !== undefined || args.allowRoot !== undefined) {
        invalid(ctx, args.user !== undefined ? "user" : "allowRoot", "cannot be set on App Platform, which runs the image's own USER",
            "set USER in the Dockerfile (e.g. USER 10001:10001) and pass user only on the docker target");
    }
    if (args.readOnlyRootFilesystem) {
        invalid(ctx, "readOnlyRootFilesystem", "is not available on App Platform", "pass it only on the docker target");
    }
    if (n.volumes?.length) {
        invalid(ctx, "volumes", "App Platform has no volumes: an instance's disk is lost on every deploy and restart",
            "keep files in object storage (DigitalOcean Spaces, S3 API) and give the service its keys through SecretsSync; pass volumes only on the docker target");
    }
    if (n.migrate && `${ctx.name}-migrate`.length > 32) {
        invalid(ctx, "migrate", `the PRE_DEPLOY job would be named "${ctx.name}-migrate", longer than App Platform's 32 characters`, "use a service name of at most 24 characters");
    }
    if (n.stopSignal !== "SIGTERM") {
        invalid(ctx, "stopSignal", `App Platform always stops instances with SIGTERM, not ${n.stopSignal}`,
            "make the service shut down gracefully on SIGTERM and pass stopSignal only on the docker target");
    }
}

/** The given size (checked against explicit memory/cpus), else the smallest that fits them, else the default. */
function chooseInstanceSize(ctx: ErrorContext, args: ApiServiceInput, n: NeutralApiService): DoInstanceSize {
    const explicitMemory = args.memory !== undefined ? n.memoryMiB : undefined;
    const explicitCpus = args.cpus !== undefined ? n.cpus : undefined;
    if (args.instanceSize !== undefined) {
        if ((DO_LEGACY_INSTANCE_SIZES as readonly string[]).includes(args.instanceSize)) {
            invalid(ctx, "instanceSize", `"${args.instanceSize}" is a deprecated legacy size`, `use a current size such as "${DEFAULTS.instanceSize}"`);
        }
        const size = requireOneOf(ctx, "instanceSize", args.instanceSize, DO_INSTANCE_SIZES);
        const s = sizeOf(size);
        if ((explicitMemory ?? 0) > s.memoryMiB || (explicitCpus ?? 0) > s.vcpus) {
            invalid(ctx, "instanceSize", `"${size}" (${s.vcpus} vCPU, ${s.memoryMiB} MiB) is smaller than memory/cpus ask for`,
                "pick a larger instanceSize, or drop memory/cpus (on App Platform the instance size is the limit)");
        }
        return size;
    }
    if (explicitMemory !== undefined || explicitCpus !== undefined) {
        const size = pickInstanceSize(explicitMemory ?? 0, explicitCpus ?? 0);
        if (!size) invalid(ctx, "memory", "no App Platform instance size is that large", "lower memory/cpus or set instanceSize");
        return size;
    }
    return DEFAULTS.instanceSize;
}

/** The alerts and log destinations the links give (`link.doApp`), each defined by one link only, sorted. */
function mergeLinkedDoApp(ctx: ErrorContext, links: NeutralApiService["links"]): { alerts: AppServiceAlertSpec[]; logDestinations: AppServiceLogDestinationSpec[] } {
    const alerts: AppServiceAlertSpec[] = [];
    const logDestinations: AppServiceLogDestinationSpec[] = [];
    const alertOwners = new Map<string, string>();
    const destOwners = new Map<string, string>();
    links.forEach(({ label, link }, i) => {
        const extra = link.doApp ?? {};
        for (const a of extra.alerts ?? []) {
            const rule = String(a.rule);
            if (alertOwners.has(rule)) {
                invalid(ctx, `link[${i}]`, `alert ${rule} is set by both ${alertOwners.get(rule)} and ${label}`, "let only one link define each alert rule");
            }
            alertOwners.set(rule, label);
            alerts.push(a);
        }
        for (const d of extra.logDestinations ?? []) {
            const dn = String(d.name);
            if (destOwners.has(dn)) {
                invalid(ctx, `link[${i}]`, `log destination "${dn}" is set by both ${destOwners.get(dn)} and ${label}`, "give each log destination a unique name");
            }
            destOwners.set(dn, label);
            logDestinations.push(d);
        }
    });
    alerts.sort((a, b) => String(a.rule).localeCompare(String(b.rule)));
    logDestinations.sort((a, b) => String(a.name).localeCompare(String(b.name)));
    return { alerts, logDestinations };
}
