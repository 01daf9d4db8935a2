import * as pulumi from "@pulumi/pulumi";
import { normalizeApiService, serviceEndpoint } from "../components/api-service/normalize";
import { SlipwayConfigError } from "../components/core/errors";
import { ServiceEndpoint } from "../components/core/service";
import { DockerTarget, Target, doAppTarget, DoRegion } from "../components/core/target";
import { normalizeGateway } from "../components/gateway/normalize";
import { normalizeManagedDatabase } from "../components/managed-database/normalize";
import { normalizeObservability } from "../components/observability/normalize";
import { normalizeSecretsSync } from "../components/secrets-sync/normalize";
import { normalizeDockerHost } from "../components/targets/docker-host";
import { mergeAppSpecParts } from "../components/targets/app-spec";
import { checkKeys, StackConfig } from "./config";

/** The blocks an ApiService may link to, by the name used in `services.<name>.link`. */
export const LINKS = ["database", "secrets", "observability"] as const;
export type LinkName = typeof LINKS[number];

/** Stack-level keys of a `services.<name>` block; everything else is ApiServiceArgs. */
export const SERVICE_STACK_KEYS = ["link", "secrets"] as const;

export interface ServicePlan {
    args: Record<string, unknown>;
    link: LinkName[];
    /** Keys of the SecretsSync to hand this service; undefined = all. */
    secrets?: string[];
}

/** Split a service block into ApiServiceArgs and the stack's own wiring keys, checking the wiring. */
export function planService(c: StackConfig, name: string, block: Record<string, unknown> = c.services[name]!): ServicePlan {
    const { link, secrets, ...args } = block;
    const fail = (path: string, problem: string, fix: string): never => {
        throw new SlipwayConfigError(`Stack "${c.stack}"`, `slipway:services.${name}.${path}`, problem, fix);
    };
    const available = LINKS.filter(l => l === "secrets" ? Object.keys(c.secrets).length > 0 : l === "database" ? !!c.database : !!c.observability);
    const links = (link ?? available) as unknown;
    if (!Array.isArray(links)) fail("link", "must be a list", `write link: [${available.join(", ")}]`);
    (links as unknown[]).forEach((l, i) => {
        if (!available.includes(l as LinkName)) {
            fail(`link[${i}]`, `${JSON.stringify(l)} is not defined in this stack`, `link only to ${available.join(", ") || "nothing (define slipway:database, slipway:secrets or slipway:observability first)"}`);
        }
    });
    if (secrets !== undefined && (!Array.isArray(secrets) || secrets.some(k => typeof k !== "string"))) {
        fail("secrets", "must be a list of secret keys", `write secrets: [${Object.keys(c.secrets).join(", ")}]`);
    }
    return { args, link: links as LinkName[], secrets: secrets as string[] | undefined };
}

/** The target as normalizers see it: same kind and flags, no resources behind it. */
function preflightTarget(c: StackConfig): Target {
    if (c.target === "do-app") {
        return doAppTarget({ appName: c.doApp.appName ?? "", region: (c.doApp.region ?? "") as DoRegion, environment: c.environment, production: c.production });
    }
    const h = normalizeDockerHost("host", { ...c.docker, environment: c.environment, production: c.production });
    const t: DockerTarget = {
        kind: "docker", environment: h.environment, production: h.production,
        provider: undefined as unknown as pulumi.ProviderResource, networkName: pulumi.output(`${h.namePrefix}-net`),
        publishAddress: h.publishAddress, namePrefix: h.namePrefix, labels: {},
    };
    return t;
}

/**
 * Validate the whole stack before the first resource registers, so bad input can never leave a
 * half-made stack: every component's normalizer runs here on the same config the program uses.
 */
export function preflight(c: StackConfig, resolved: {
    services: Record<string, Record<string, unknown>>;
    gateway: Record<string, unknown>;
    database?: Record<string, unknown>;
    observability?: Record<string, unknown>;
    secrets: Record<string, unknown>;
}): void {
    checkKeys("slipway:doApp", c.doApp, ["appName", "region"]);
    const target = preflightTarget(c);
    if (target.kind === "do-app") mergeAppSpecParts(target.appName, target.region, []);
    if (Object.keys(resolved.secrets).length) normalizeSecretsSync("secrets", { secrets: resolved.secrets as never, target });
    if (resolved.database) normalizeManagedDatabase("db", { ...resolved.database, target });
    if (resolved.observability) normalizeObservability("observability", { ...resolved.observability, target });
    const endpoints: Record<string, ServiceEndpoint> = {};
    for (const name of Object.keys(resolved.services)) {
        const plan = planService(c, name, resolved.services[name]);
        const n = normalizeApiService(name, { ...plan.args, target } as never);
        endpoints[name] = serviceEndpoint(name, n, target.kind);
        plan.secrets?.forEach((k, i) => {
            if (!(k in resolved.secrets)) {
                throw new SlipwayConfigError(`Stack "${c.stack}"`, `slipway:services.${name}.secrets[${i}]`,
                    `"${k}" is not defined in slipway:secrets`, `define it there, or use one of ${Object.keys(resolved.secrets).join(", ") || "(none)"}`);
            }
        });
    }
    normalizeGateway("gateway", { ...resolved.gateway, target, routes: routesTo(c, resolved.gateway, endpoints) } as never);
}

/** Replace each route's service name with the service itself (or its endpoint, in preflight). */
export function routesTo<T>(c: StackConfig, gateway: Record<string, unknown>, services: Record<string, T>): unknown[] {
    const routes = gateway.routes;
    if (!Array.isArray(routes)) return routes as never;
    return routes.map((r, i) => {
        const name = (r as { service?: unknown }).service;
        if (typeof name !== "string" || !(name in services)) {
            throw new SlipwayConfigError(`Stack "${c.stack}"`, `slipway:gateway.routes[${i}].service`,
                `${JSON.stringify(name)} is not a service of this stack`, `use one of ${Object.keys(services).join(", ")}`);
        }
        const svc = services[name]!;
        return { ...(r as object), service: (svc as { endpoint?: unknown }).endpoint ? svc : { endpoint: svc } };
    });
}
