// Composition root of Slipway's own stacks (Pulumi.dev.yaml, Pulumi.prod.yaml): config -> target
// -> the five components -> (on App Platform) the single App. Other teams import ./components.
import * as pulumi from "@pulumi/pulumi";
import {
    ApiService, DockerHost, DoApp, DoRegion, Gateway, Linkable, ManagedDatabase, Observability, SecretsSync, Target,
    doAppTarget, planSecretRollout, previousSecretsRevision, secretsRevision,
} from "./components";
import { readStackConfig, resolveSecrets } from "./stack/config";
import { planService, preflight, routesTo } from "./stack/preflight";

export = async () => {
    const c = readStackConfig();
    const r = {
        services: Object.fromEntries(Object.entries(c.services).map(([n, s]) => [n, resolveSecrets(s, `slipway:services.${n}`) as Record<string, unknown>])),
        gateway: resolveSecrets(c.gateway, "slipway:gateway") as Record<string, unknown>,
        database: c.database && resolveSecrets(c.database, "slipway:database") as Record<string, unknown>,
        observability: c.observability && withScrapeDefault(resolveSecrets(c.observability, "slipway:observability"), c.services, c.target === "docker"),
        secrets: resolveSecrets(c.secrets, "slipway:secrets") as Record<string, unknown>,
    };
    preflight(c, r); // everything is validated before the first resource registers

    const target: Target = c.target === "docker"
        ? new DockerHost("host", { ...c.docker, environment: c.environment, production: c.production }).target
        : doAppTarget({ appName: c.doApp.appName!, region: c.doApp.region as DoRegion, environment: c.environment, production: c.production });

    const secrets = Object.keys(r.secrets).length ? new SecretsSync("secrets", { target, secrets: r.secrets as never }) : undefined;
    const db = r.database && new ManagedDatabase("db", { ...r.database, target });
    const observability = r.observability && new Observability("observability", { ...r.observability, target });

    const services: Record<string, ApiService> = {};
    for (const name of Object.keys(r.services)) {
        const plan = planService(c, name, r.services[name]);
        const link: Linkable[] = plan.link.map(l =>
            l === "secrets" ? (plan.secrets ? secrets!.pick(...plan.secrets) : secrets!) : l === "database" ? db! : observability!);
        services[name] = new ApiService(name, { ...plan.args, target, link } as never);
    }
    const gateway = new Gateway("gateway", { ...r.gateway, target, routes: routesTo(c, r.gateway, services) } as never);

    let url: pulumi.Output<string | undefined> = gateway.url;
    let revision: pulumi.Output<string> | undefined;
    if (target.kind === "do-app") {
        const parts = [...Object.values(services), gateway, db, observability, secrets].filter(x => !!x) as never;
        revision = secretsRevision(target, parts);
        const app = new DoApp("app", { target, parts, secretValues: await planSecretRollout(revision, await previousSecretsRevision()) });
        url = pulumi.all([gateway.url, app.liveUrl]).apply(([g, live]) => g ?? live);
    }
    // Only outputs that exist: an undefined one makes every `up` warn "Undefined value (...) will
    // not show as a stack output" (no database; no secretsRevision on docker).
    return {
        url,
        services: Object.keys(services),
        ...(db && { databaseHost: db.host, databaseUrl: db.url /* secret */ }),
        ...(revision && { secretsRevision: revision }), // secret; read back by the next run: see planSecretRollout
    };
};

/**
 * Prometheus scrapes every service of the stack unless the config names them, each on its own
 * `port` (a service off 8080 would otherwise be a false target-down alert). Names in the config
 * that are services of this stack get their port the same way. A `prometheus.port` in the config
 * means a dedicated metrics port, so names then stay names.
 */
function withScrapeDefault(obs: unknown, services: Record<string, unknown>, docker: boolean): Record<string, unknown> {
    const given = obs as Record<string, unknown> & { prometheus?: Record<string, unknown> };
    if (!docker) return given; // App Platform has no Prometheus of ours to point anywhere
    const o = { ...given, prometheus: given.prometheus ?? {} };
    const ownPort = (name: string): unknown => {
        const port = (services[name] as { port?: unknown } | undefined)?.port;
        // An invalid port is left to the ApiService's own check, which names the right component.
        return o.prometheus!.port === undefined && Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535
            ? { name, port } : name;
    };
    const listed = o.prometheus.scrape;
    const scrape = listed === undefined ? Object.keys(services).map(ownPort)
        : Array.isArray(listed) ? listed.map(s => (typeof s === "string" && s in services ? ownPort(s) : s)) : listed;
    return { ...o, prometheus: { ...o.prometheus, scrape } };
}
