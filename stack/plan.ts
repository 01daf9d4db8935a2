import * as pulumi from "@pulumi/pulumi";
import type { ApiServiceArgs } from "../components/api-service";
import { serviceEndpoint } from "../components/api-service/normalize";
import { validateApiService } from "../components/api-service";
import { SlipwayConfigError } from "../components/core/errors";
import { Routable } from "../components/core/service";
import type { Linkable } from "../components/core/link";
import { DockerTarget, DoRegion, Target, doAppTarget } from "../components/core/target";
import type { GatewayArgs, GatewayRouteArgs } from "../components/gateway";
import { validateGateway } from "../components/gateway";
import { gatewayMetricsTarget } from "../components/gateway/caddy-config";
import type { ManagedCacheArgs } from "../components/managed-cache";
import { cacheMetricsTarget, managedCacheLinkStandIn, validateManagedCache } from "../components/managed-cache";
import type { ManagedDatabaseArgs } from "../components/managed-database";
import { managedDatabaseLinkStandIn, validateManagedDatabase } from "../components/managed-database";
import type { ObservabilityArgs, ObservabilityScrapeTarget } from "../components/observability";
import { observabilityLinkStandIn, validateObservability } from "../components/observability";
import type { SecretsSyncArgs } from "../components/secrets-sync";
import { secretsSyncLinkStandIn } from "../components/secrets-sync";
import { normalizeSecretsSync } from "../components/secrets-sync/normalize";
import { DockerHostArgs, normalizeDockerHost } from "../components/targets/docker-host";
import { mergeAppSpecParts } from "../components/targets/app-spec";
import { Shape, checkShape, shape } from "../components/core/shape";
import { REGISTRIES_SHAPE, RegistryCredentialArgs } from "../components/core/registries";
import { StackFacts, checkAcrossBlocks } from "./checks";
import { StackConfig, checkPlaintextCredentials, resolveSecrets } from "./config";

/** The blocks an ApiService may link to, by the name used in `services.<name>.link`. */
export const LINKS = ["database", "secrets", "observability", "cache"] as const;
export type LinkName = typeof LINKS[number];

/** Stack-level keys of a `services.<name>` block; everything else is ApiServiceArgs. */
export const SERVICE_STACK_KEYS = ["link", "secrets"] as const;

/** `slipway:doApp`: the App's name and region (doAppTarget checks their meaning). */
const DO_APP_BLOCK: Shape = shape.object<{ appName: string; region: string; registries: unknown }>({
    appName: shape.string(), region: shape.string(), registries: REGISTRIES_SHAPE,
});

/** A component's Args without what the composition root supplies itself. */
type Block<T> = Omit<T, "target">;

export interface ServicePlan {
    name: string;
    args: Block<Omit<ApiServiceArgs, "link">>;
    link: LinkName[];
    /** Keys of the SecretsSync to hand this service; undefined = all. */
    secrets?: string[];
}

export interface GatewayPlan {
    args: Block<Omit<GatewayArgs, "routes">>;
    routes: (Omit<GatewayRouteArgs, "service"> & { service: string })[];
}

/**
 * The whole stack as typed Args, parsed once from the stack config (secret references resolved)
 * and used by both `preflight` and the program, so the two can never wire differently.
 */
export interface StackPlan {
    stack: string;
    target:
        | { kind: "docker"; host: DockerHostArgs }
        | { kind: "do-app"; appName: string; region: DoRegion; environment: string; production: boolean; registries?: RegistryCredentialArgs[] };
    secrets?: Block<SecretsSyncArgs>;
    database?: Block<ManagedDatabaseArgs>;
    cache?: Block<ManagedCacheArgs>;
    observability?: Block<ObservabilityArgs>;
    services: ServicePlan[];
    gateway: GatewayPlan;
}

/**
 * The stack file is untyped YAML: each block is handed on as its component's Args, and the
 * component's validator (run by `preflight` before anything registers) checks every field.
 */
function block<T>(value: unknown): T {
    return value as T;
}

export function planStack(c: StackConfig): StackPlan {
    checkPlaintextCredentials(c);
    // Shape-checked once its { secret } references are secrets (a token is an `input`).
    const doApp = block<StackConfig["doApp"]>(resolveSecrets(c.doApp, "slipway:doApp"));
    checkShape({ kind: "Stack", name: c.stack }, DO_APP_BLOCK, doApp, "slipway:doApp");
    const secrets = resolveSecrets(c.secrets, "slipway:secrets");
    return {
        stack: c.stack,
        target: c.target === "docker"
            ? { kind: "docker", host: { ...block<DockerHostArgs>(resolveSecrets(c.docker, "slipway:docker")), environment: c.environment, production: c.production } }
            : {
                kind: "do-app", appName: c.doApp.appName ?? "", region: block<DoRegion>(c.doApp.region ?? ""), environment: c.environment, production: c.production,
                registries: block<RegistryCredentialArgs[] | undefined>(doApp.registries),
            },
        secrets: isEmpty(secrets) ? undefined : { secrets: block<SecretsSyncArgs["secrets"]>(secrets) },
        database: c.database && block<Block<ManagedDatabaseArgs>>(resolveSecrets(c.database, "slipway:database")),
        cache: c.cache && block<Block<ManagedCacheArgs>>(resolveSecrets(c.cache, "slipway:cache")),
        observability: c.observability && block<Block<ObservabilityArgs>>(resolveSecrets(c.observability, "slipway:observability")),
        services: Object.keys(c.services).map(name => planService(c, name)),
        gateway: planGateway(c),
    };
}

const isEmpty = (v: unknown) => typeof v !== "object" || v === null || Object.keys(v).length === 0;

/** Split a service block into ApiServiceArgs and the stack's own wiring keys, checking the wiring. */
function planService(c: StackConfig, name: string): ServicePlan {
    const { link, secrets, ...args } = block<Record<string, unknown>>(resolveSecrets(c.services[name], `slipway:services.${name}`));
    const fail = (path: string, problem: string, fix: string): never => {
        throw new SlipwayConfigError(`Stack "${c.stack}"`, `slipway:services.${name}.${path}`, problem, fix);
    };
    const defined: Record<LinkName, boolean> = { secrets: !isEmpty(c.secrets), database: !!c.database, cache: !!c.cache, observability: !!c.observability };
    const available = LINKS.filter(l => defined[l]);
    const links: unknown = link ?? available;
    if (!Array.isArray(links)) return fail("link", "must be a list", `write link: [${available.join(", ")}]`);
    const chosen = links.map((l, i) => {
        const found = available.find(a => a === l);
        return found ?? fail(`link[${i}]`, `${JSON.stringify(l)} is not defined in this stack`,
            `link only to ${available.join(", ") || "nothing (define slipway:database, slipway:cache, slipway:secrets or slipway:observability first)"}`);
    });
    const keys = Object.keys(c.secrets);
    if (secrets !== undefined && (!Array.isArray(secrets) || secrets.some(k => typeof k !== "string"))) {
        fail("secrets", "must be a list of secret keys", `write secrets: [${keys.join(", ")}]`);
    }
    const picked = secrets === undefined ? undefined : block<string[]>(secrets);
    picked?.forEach((k, i) => {
        if (!keys.includes(k)) fail(`secrets[${i}]`, `"${k}" is not defined in slipway:secrets`, `define it there, or use one of ${keys.join(", ") || "(none)"}`);
    });
    return { name, args: block<ServicePlan["args"]>(args), link: chosen, secrets: picked };
}

function planGateway(c: StackConfig): GatewayPlan {
    const { routes, ...args } = block<Record<string, unknown>>(resolveSecrets(c.gateway, "slipway:gateway"));
    if (!Array.isArray(routes)) {
        throw new SlipwayConfigError(`Stack "${c.stack}"`, "slipway:gateway.routes", "must be a list",
            "write routes: [{ pathPrefix: /, service: <name> }]");
    }
    const names = Object.keys(c.services);
    routes.forEach((r, i) => {
        const name: unknown = typeof r === "object" && r !== null ? (r as { service?: unknown }).service : undefined;
        if (typeof name !== "string" || !names.includes(name)) {
            throw new SlipwayConfigError(`Stack "${c.stack}"`, `slipway:gateway.routes[${i}].service`,
                `${JSON.stringify(name)} is not a service of this stack`, `use one of ${names.join(", ")}`);
        }
    });
    return { args: block<GatewayPlan["args"]>(args), routes: block<GatewayPlan["routes"]>(routes) };
}

/** Each route with its service name replaced by the service (or, in preflight, its endpoint). */
export function routesTo(plan: StackPlan, services: Record<string, Routable>): GatewayRouteArgs[] {
    return plan.gateway.routes.map(r => ({ ...r, service: services[r.service]! }));
}

/** Observability's Args as the program builds them: on docker Prometheus also scrapes the gateway's own metrics, from the edge, and the cache's exporter. */
export function observabilityArgs(block: Block<ObservabilityArgs>, target: Target, cache?: ObservabilityScrapeTarget): ObservabilityArgs {
    const p: unknown = block.prometheus;
    // A prometheus that is not a mapping stays as given, for its validator to refuse.
    const mapping = p === undefined || (typeof p === "object" && p !== null && !Array.isArray(p));
    const given: unknown = block.prometheus?.scrape;
    // A scrape that is not a list stays as given too.
    const scrape = cache && (given === undefined || Array.isArray(given)) ? { scrape: [...(block.prometheus?.scrape ?? []), cache] } : {};
    return {
        ...block, target,
        ...(target.kind === "docker" && mapping && { prometheus: { ...block.prometheus, ...scrape, scrapeGateway: gatewayMetricsTarget("gateway") } }),
    };
}

const NO_PROVIDER = undefined as unknown as pulumi.ProviderResource;

/** The target as validators see it: same kind and flags, no resources behind it. */
function standInTarget(plan: StackPlan): Target {
    const t = plan.target;
    if (t.kind === "do-app") return doAppTarget(t);
    const h = normalizeDockerHost("host", t.host);
    const standIn: DockerTarget = {
        kind: "docker", environment: h.environment, production: h.production,
        // Validators read kind, flags and names only; none of them touches the provider.
        provider: NO_PROVIDER,
        networkName: pulumi.output(`${h.namePrefix}-net`),
        publishAddress: h.publishAddress, remote: h.remote, namePrefix: h.namePrefix, labels: {},
    };
    return standIn;
}

/**
 * Validate the whole stack before the first resource registers, so bad input can never leave a
 * half-made stack: every component's validator runs here on the same plan the program builds.
 */
export function preflight(plan: StackPlan): void {
    const target = standInTarget(plan);
    if (target.kind === "do-app") mergeAppSpecParts(target.appName, target.region, []);
    const secrets = plan.secrets && secretsSyncLinkStandIn("secrets", normalizeSecretsSync("secrets", { ...plan.secrets, target }).secrets.map(x => x.key));
    const db = plan.database && validateManagedDatabase("db", { ...plan.database, target });
    const cache = plan.cache && validateManagedCache("cache", { ...plan.cache, target });
    const obs = plan.observability && validateObservability("observability", observabilityArgs(plan.observability, target, cache && cacheMetricsTarget(cache)));
    // Each service is validated linked as the program links it (stand-ins: no resources), so the
    // checks across a service and its links (env keys set twice, secret files on a read-only
    // root, scrape job names) fail here, not after the linked blocks have registered.
    const linkable: Record<LinkName, Linkable | undefined> = {
        database: db && managedDatabaseLinkStandIn("db", db),
        cache: cache && managedCacheLinkStandIn("cache"),
        observability: obs && observabilityLinkStandIn("observability", obs, target),
        secrets,
    };
    const endpoints: Record<string, Routable> = {};
    const services: StackFacts["services"] = [];
    for (const s of plan.services) {
        const link = s.link.map(l => l === "secrets" && s.secrets && secrets ? secrets.pick(...s.secrets) : linkable[l])
            .filter((l): l is Linkable => l !== undefined);
        const n = validateApiService(s.name, { ...s.args, target, link });
        endpoints[s.name] = { endpoint: serviceEndpoint(s.name, n, target.kind) };
        services.push({ name: s.name, replicas: n.replicas });
    }
    const gateway = validateGateway("gateway", { ...plan.gateway.args, target, routes: routesTo(plan, endpoints) });
    const published: StackFacts["published"] = [];
    if (target.kind === "docker") {
        published.push({ path: "slipway:gateway.publishPort", port: gateway.publishPorts.http, data: false });
        if (gateway.publishPorts.https) published.push({ path: "slipway:gateway.publishHttpsPort", port: gateway.publishPorts.https, data: false });
        if (cache?.docker?.publishPort) published.push({ path: "slipway:cache.publishPort", port: cache.docker.publishPort, data: true });
        if (db?.docker?.publishPort) published.push({ path: "slipway:database.publishPort", port: db.docker.publishPort, data: true });
        if (obs?.prometheus?.publishPort) published.push({ path: "slipway:observability.prometheus.publishPort", port: obs.prometheus.publishPort, data: true });
        if (obs?.alertmanager?.publishPort) published.push({ path: "slipway:observability.alertmanager.publishPort", port: obs.alertmanager.publishPort, data: true });
    }
    checkAcrossBlocks({ stack: plan.stack, target, services, published, origins: plan.gateway.args.cors?.allowOrigins ?? [] });
}
