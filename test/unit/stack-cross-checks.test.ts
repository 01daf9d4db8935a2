// Every check that spans components (a service and the blocks it links, or two blocks of the
// stack) must fail before the first resource registers, as README promises: the stack's preflight
// validates each service linked to stand-ins of its blocks. Each case runs the real program
// (index.ts) on a committed stack changed by one setting; runStackCase asserts the error and that
// the Recorder saw 0 registrations. This list is the inventory of cross-component checks.
import { expectConfigError } from "../helpers/config-error";
import { dockerTarget, freshRecorder } from "../helpers/harness";
import { StackCase, runStackCase, stackConfigWith } from "../helpers/stack-case";

const dev = 'Stack "dev"';
const prodGateway = JSON.parse(stackConfigWith({ stack: "prod" }).values["slipway:gateway"]!) as Record<string, unknown>;
const api = 'ApiService "api"';
const obs = 'Observability "observability"';
/** The dev stack's api service with `extra` (it links database, secrets and observability). */
const service = (extra: Record<string, unknown>, name = "api") =>
    ({ [name]: { image: "slipway/example-api:local", replicas: 2, port: 8080, ...extra } });

const CROSS_CHECKS: StackCase[] = [
    // ApiService x ManagedDatabase
    { name: "env DATABASE_URL while the database link sets it", set: { services: service({ env: { DATABASE_URL: "postgres://x" } }) },
        component: api, path: "link[0]", problem: /DATABASE_URL is set by both env\.DATABASE_URL and link\[0\] \(ManagedDatabase "db"\)/, fix: /keep one/ },
    // ApiService x SecretsSync
    { name: "a secret whose key the database link also sets", set: { secrets: { DATABASE_URL: { generate: { length: 32 } } } },
        component: api, path: /* secrets is linked after database */ "link[1]", problem: /DATABASE_URL is set by both link\[0\] \(ManagedDatabase "db"\) and link\[1\] \(SecretsSync "secrets"\)/, fix: /keep one/ },
    { name: "readOnlyRootFilesystem with secrets delivered as files", set: { services: service({ readOnlyRootFilesystem: true }) },
        component: api, path: "readOnlyRootFilesystem", problem: /cannot be combined with file-delivered secrets/, fix: /secretDelivery: "env"/ },
    { name: "env <KEY>_FILE that file delivery of a linked secret needs", set: { services: service({ env: { SESSION_SECRET_FILE: "/x" } }) },
        component: api, path: "link[1]", problem: /SESSION_SECRET_FILE/, fix: /./ },
    { name: "a linked secret named PORT", set: { secrets: { PORT: { generate: { length: 16 } } } },
        component: api, path: "env.PORT", problem: /is a secret, but port is 8080/, fix: /remove PORT/ },
    // ApiService x Observability
    { name: "env LOG_FORMAT while the observability link sets it", set: { services: service({ env: { LOG_FORMAT: "text" } }) },
        component: api, path: /* observability is linked last */ "link[2]", problem: /LOG_FORMAT is set by both env\.LOG_FORMAT and link\[2\] \(Observability "observability"\)/, fix: /keep one/ },
    { name: "a linked service named like a job Prometheus defines itself", set: { services: service({}, "prometheus"), gateway: { image: "slipway/caddy:local", publishPort: 8080, routes: [{ pathPrefix: "/", service: "prometheus" }] } },
        component: obs, path: "link", problem: /the linked service "prometheus" would share its job/, fix: /rename the service/ },
    { name: "a linked service also listed in prometheus.scrape",
        set: { observability: { prometheus: { image: "slipway/prometheus:local", scrape: ["api:8080"] } } },
        component: obs, path: "prometheus.scrape[0]", problem: /"api" is also a linked service/, fix: /remove "api" from prometheus\.scrape/ },
    // Across blocks (stack/checks.ts)
    { name: "a service named like a replica alias of another", set: { services: { ...service({}), ...service({}, "api-1") }, gateway: { image: "slipway/caddy:local", publishPort: 8080, routes: [{ pathPrefix: "/", service: "api" }] } },
        component: dev, path: "slipway:services.api-1", problem: /is also the name of slipway:services\.api \(replica 1's network alias\)/, fix: /rename the service/ },
    { name: "a service named like the database's alias", set: { services: service({}, "db"), gateway: { image: "slipway/caddy:local", publishPort: 8080, routes: [{ pathPrefix: "/", service: "db" }] } },
        component: dev, path: "slipway:services.db", problem: /is also the name of slipway:database/, fix: /rename the service/ },
    { name: "one host port published by the gateway and the database",
        set: { database: { version: "15", image: "slipway/postgres:local", publishPort: 8080 } },
        component: dev, path: "slipway:database.publishPort", problem: /publishes host port 8080, which slipway:gateway\.publishPort already publishes/, fix: /its own number/ },
    { name: "a data port published on every interface",
        set: { docker: { host: "unix:///var/run/docker.sock", publishAddress: "0.0.0.0" }, database: { version: "15", image: "slipway/postgres:local", publishPort: 5432 } },
        component: dev, path: "slipway:database.publishPort", problem: /publishes a data port on 0\.0\.0\.0/, fix: /leave it unpublished/ },
    { name: "a development CORS origin in production", stack: "prod",
        set: { gateway: { ...prodGateway, cors: { allowOrigins: ["https://app.example.com", "http://localhost:3000"] } } },
        component: 'Stack "prod"', path: "slipway:gateway.cors.allowOrigins[1]", problem: /is a development origin, trusted in production/, fix: /only the https origins/ },
    // Gateway x ApiService
    { name: "a route to a service the stack does not define",
        set: { gateway: { image: "slipway/caddy:local", publishPort: 8080, routes: [{ pathPrefix: "/", service: "web" }] } },
        component: dev, path: "slipway:gateway.routes[0].service", problem: /"web" is not a service of this stack/, fix: /use one of api/ },
    // ApiService x the stack's blocks (stack/plan.ts)
    { name: "a link to a block the stack does not define", set: { services: service({ link: ["database", "queue"] }) },
        component: dev, path: "slipway:services.api.link[1]", problem: /"queue" is not defined in this stack/, fix: /link only to/ },
    { name: "secrets: picking a key slipway:secrets does not define", set: { services: service({ secrets: ["STRIPE_KEY"] }) },
        component: dev, path: "slipway:services.api.secrets[0]", problem: /"STRIPE_KEY" is not defined in slipway:secrets/, fix: /SESSION_SECRET/ },
];

describe("cross-component checks run before anything registers", () => {
    for (const c of CROSS_CHECKS) it(c.name, () => runStackCase(c));
});

describe("an ApiService linked to an Observability registers nothing on a scrape conflict", () => {
    // Outside a stack too: the scraper's checks run while the service validates, not when its
    // replicas hand over their targets.
    for (const [name, scrape, path, problem] of [
        ["prometheus", [], "link", /the linked service "prometheus" would share its job/],
        ["api", ["api:8080"], "prometheus.scrape[0]", /"api" is also a linked service/],
    ] as const) {
        it(`a service "${name}" with prometheus.scrape ${JSON.stringify(scrape)}`, async () => {
            const rec = await freshRecorder();
            const target = await dockerTarget();
            const { Observability } = await import("../../components/observability");
            const { ApiService } = await import("../../components/api-service");
            const o = new Observability("obs", { target, prometheus: { image: "slipway/prometheus:local", scrape: [...scrape] } });
            await expectConfigError(rec, () => new ApiService(name, { target, image: "slipway/example-api:local", link: [o] }),
                { component: 'Observability "obs"', path, problem, fix: /./ });
        });
    }
});
