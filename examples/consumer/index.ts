// The orders team's stack, built from Slipway components. One program, two targets: the `target`
// config picks a single Docker host (Pulumi.dev.yaml) or DigitalOcean App Platform (Pulumi.prod.yaml).
import * as pulumi from "@pulumi/pulumi";
import {
    ApiService, ApiServiceArgs, CloudflareEdge, DockerHost, DoApp, Gateway, GatewayArgs, ManagedDatabase, Observability, SecretsSync, Target, doAppTarget,
} from "@slipway/components";

const config = new pulumi.Config();
const environment = pulumi.getStack();
const production = config.getBoolean("production") ?? false;

const target: Target = config.require("target") === "do-app"
    ? doAppTarget({ appName: `orders-${environment}`, region: "fra", environment, production })
    : new DockerHost("host", { environment, production }).target;

const secrets = new SecretsSync("secrets", {
    target,
    secrets: {
        SESSION_SECRET: { generate: { length: 48, rotationDays: 30 } },
        PAYMENTS_API_KEY: { value: config.requireSecret("paymentsApiKey") },
    },
});
const db = new ManagedDatabase("db", { target, version: "16", database: "orders", production });
const observability = new Observability("observability", {
    target,
    sentry: { dsn: config.require("sentryDsn"), environment },
});

// Typed Args: a wrong field or type here fails `tsc`, before Pulumi ever runs.
const ordersArgs: ApiServiceArgs = {
    target,
    image: config.require("image"),
    replicas: config.getNumber("replicas") ?? 2,
    port: 8080,
    link: [db, secrets, observability],
    // The image's own migration command: run once per release, before its replicas start.
    migrate: { command: ["/usr/local/bin/api", "migrate"] },
};
const orders = new ApiService("orders", ordersArgs);

const domain = config.get("domain");
const gateway = new Gateway("gateway", {
    target,
    routes: [{ pathPrefix: "/", service: orders }],
    ...(target.kind === "docker"
        // gatewayImage: `{ build: true }` builds Caddy on the engine from the Dockerfile in the
        // package; unset, the published image is pulled.
        ? { publishPort: config.getNumber("gatewayPort") ?? 8080, image: config.getObject<GatewayArgs["image"]>("gatewayImage") }
        : { domains: domain ? [domain] : undefined, cloudflare: { zoneId: config.require("cloudflareZoneId") } }),
});

// On App Platform the components only describe their part; DoApp turns them into the one App
// (the gateway brings the service, the service its database, secrets and observability).
const app = target.kind === "do-app" ? new DoApp("app", { target, components: [gateway, observability] }) : undefined;
if (app) new CloudflareEdge("edge", { app, records: gateway.edgeRecords ?? [], production });

export const url = app ? app.liveUrl : gateway.url;
export const databaseUrl = db.url; // secret
// DoApp reads it back on the next run and leaves unchanged secret values as deployed.
export const secretsRevision = app?.secretsRevision;
