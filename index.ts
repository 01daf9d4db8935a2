// Composition root of Slipway's own stacks (Pulumi.dev.yaml, Pulumi.prod.yaml): config -> one
// typed plan -> preflight -> the five components -> (on App Platform) the App and its edge.
// Other teams import ./components and write the same in their own program.
import * as pulumi from "@pulumi/pulumi";
import {
    ApiService, CloudflareEdge, DockerHost, DoApp, Gateway, Linkable, ManagedCache, ManagedDatabase, Observability, SecretsSync, Target, doAppTarget,
} from "./components";
import { hostCost, sumCosts } from "./components/core/prices";
import { readStackConfig } from "./stack/config";
import { LinkName, observabilityArgs, planStack, preflight, routesTo } from "./stack/plan";

export = async () => {
    const plan = planStack(readStackConfig());
    preflight(plan); // everything is validated before the first resource registers

    const target: Target = plan.target.kind === "docker" ? new DockerHost("host", plan.target.host).target : doAppTarget(plan.target);
    const secrets = plan.secrets && new SecretsSync("secrets", { ...plan.secrets, target });
    const db = plan.database && new ManagedDatabase("db", { ...plan.database, target });
    const cache = plan.cache && new ManagedCache("cache", { ...plan.cache, target });
    const observability = plan.observability && new Observability("observability", observabilityArgs(plan.observability, target, cache?.metricsTarget));

    const services: Record<string, ApiService> = {};
    for (const s of plan.services) {
        const linkable: Record<LinkName, Linkable | undefined> = {
            database: db,
            cache,
            observability,
            secrets: s.secrets && secrets ? secrets.pick(...s.secrets) : secrets,
        };
        const link = s.link.map(l => linkable[l]).filter((l): l is Linkable => l !== undefined);
        services[s.name] = new ApiService(s.name, { ...s.args, target, link });
    }
    const gateway = new Gateway("gateway", { ...plan.gateway.args, target, routes: routesTo(plan, services) });
    // Only outputs that exist: an undefined one makes every `up` warn (a stack without a database).
    // One total: the docker host's price once (its containers add 0), App Platform's per component.
    const parts = [secrets, db, cache, observability, ...Object.values(services), gateway].flatMap(c => c ? [c.monthlyCost] : []);
    const monthlyCost = pulumi.all(parts).apply(p => sumCosts(target.kind === "docker" ? [hostCost(target.hostMonthlyCost), ...p] : p));
    const outputs = { url: gateway.url, services: Object.keys(services), monthlyCost, ...(db && { databaseHost: db.host, databaseUrl: db.url /* secret */ }) };
    if (target.kind === "docker") return outputs;

    // The gateway brings its services, and they their linked blocks; observability's app alerts are its own.
    const app = new DoApp("app", { target, components: observability ? [gateway, observability] : [gateway] });
    new CloudflareEdge("edge", { app, records: gateway.edgeRecords ?? [], production: target.production });
    return { ...outputs, url: gateway.url.apply(u => u ?? app.liveUrl), secretsRevision: app.secretsRevision /* secret, read back next run */ };
};
