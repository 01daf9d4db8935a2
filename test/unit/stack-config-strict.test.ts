// Stack-file mistakes a new user makes, run through the real program (index.ts) in-process with the
// committed stack's config plus one change: each must fail with `Component: path: problem. Fix:`
// before the first resource registers. (test/unit/stack-errors.test.ts runs a few through the
// synth process end to end; these are the bulk, in-process, to stay fast.)
import { StackCase as Case, runStackCase as runCase } from "../helpers/stack-case";


const dev = 'Stack "dev"';
const prod = 'Stack "prod"';
const api = (extra: Record<string, unknown>) => ({ api: { image: "slipway/example-api:local", ...extra } });

const STACK_CASES: Case[] = [
    { name: "a misspelt block name drops nothing silently", set: { databse: { version: "16" } },
        component: dev, path: "slipway:databse", problem: /is not a Slipway setting/, fix: /did you mean slipway:database\?/ },
    { name: "a misspelt observability block", set: { observabilty: {} },
        component: dev, path: "slipway:observabilty", problem: /is not a Slipway setting/, fix: /slipway:observability/ },
    { name: "an unknown top-level key no secret reference names", set: { stripeKey: "x" },
        component: dev, path: "slipway:stripeKey", problem: /no \{ secret: \.\.\. \} reference names it/, fix: /refer to it as \{ secret: stripeKey \}/ },
    { name: "production: yes (YAML 1.1 boolean)", set: { production: "yes" },
        component: dev, path: "slipway:production", problem: /is "yes", not true or false \(YAML 1\.2 reads yes\/no\/on\/off as text\)/, fix: /slipway:production: true/ },
    { name: "production: no", set: { production: "no" },
        component: dev, path: "slipway:production", problem: /is "no"/, fix: /slipway:production: false/ },
    { name: "production: 1", set: { production: "1" },
        component: dev, path: "slipway:production", problem: /not true or false/, fix: /false/ },
    { name: "a missing target", set: { target: undefined },
        component: dev, path: "slipway:target", problem: /is missing/, fix: /slipway:target: docker/ },
    { name: "an empty services block", set: { services: {} },
        component: dev, path: "slipway:services", problem: /has no service/, fix: /api: \{ image:/ },
    { name: "services as a list", set: { services: ["api"] },
        component: dev, path: "slipway:services", problem: /must be a mapping, got a list/, fix: /key: value/ },
    { name: "a service that is a string", set: { services: { api: "slipway/example-api:local" } },
        component: dev, path: "slipway:services.api", problem: /must be a mapping, got the string/, fix: /key: value/ },
    { name: "the gateway block as a string", set: { gateway: "caddy" },
        component: dev, path: "slipway:gateway", problem: /must be a mapping, got the string "caddy"/, fix: /key: value/ },
    { name: "an environment name with capitals", set: { environment: "Staging" },
        component: dev, path: "slipway:environment", problem: /is not an environment name/, fix: /lowercase/ },
    { name: "a typo in a secret reference", set: { services: api({ env: { TOKEN: { secert: "token" } } }) },
        component: dev, path: "slipway:services.api.env.TOKEN.secert", problem: /is not a secret reference key/, fix: /did you mean \{ secret: token \}/ },
    { name: "ENV instead of env in a reference", set: { services: api({ env: { TOKEN: { ENV: "TOKEN" } } }) },
        component: dev, path: "slipway:services.api.env.TOKEN.ENV", problem: /is not a secret reference key/, fix: /\{ env: TOKEN \}/ },
    { name: "a secret reference that names a number", set: { services: api({ env: { TOKEN: { secret: 42 } } }) },
        component: dev, path: "slipway:services.api.env.TOKEN.secret", problem: /must name a config key, got the number 42/, fix: /\{ secret: myKey \}/ },
    { name: "a secret reference to a config value that is not set", set: { services: api({ env: { TOKEN: { secret: "nope" } } }) },
        env: { SLIPWAY_SYNTH: "" },
        component: dev, path: "slipway:services.api.env.TOKEN", problem: /refers to the secret config value "nope", which is not set/, fix: /pulumi config set --secret nope/ },
    { name: "an env reference to an unset variable", set: { services: api({ env: { TOKEN: { env: "SLIPWAY_TEST_UNSET_VAR" } } }) },
        env: { SLIPWAY_SYNTH: "" },
        component: dev, path: "slipway:services.api.env.TOKEN", problem: /environment variable SLIPWAY_TEST_UNSET_VAR, which is not set/, fix: /export SLIPWAY_TEST_UNSET_VAR/ },
    { name: "link as a string", set: { services: api({ link: "database" }) },
        component: dev, path: "slipway:services.api.link", problem: /must be a list/, fix: /link: \[/ },
    { name: "secrets pick as a string", set: { services: api({ secrets: "SESSION_SECRET" }) },
        component: dev, path: "slipway:services.api.secrets", problem: /must be a list of secret keys/, fix: /secrets: \[SESSION_SECRET\]/ },
    { name: "routes as a mapping", set: { gateway: { routes: { "/": "api" } } },
        component: dev, path: "slipway:gateway.routes", problem: /must be a list/, fix: /pathPrefix/ },
    { name: "a route to a misspelt service", set: { gateway: { routes: [{ pathPrefix: "/", service: "apii" }] } },
        component: dev, path: "slipway:gateway.routes[0].service", problem: /"apii" is not a service of this stack/, fix: /use one of api/ },
    { name: "a doApp typo", stack: "prod", set: { doApp: { appName: "slipway-prod", regoin: "fra" } },
        component: prod, path: "slipway:doApp.regoin", problem: /is not a known setting/, fix: /did you mean "region"\?/ },
    { name: "a plaintext password in a production env", stack: "prod", set: { services: { api: { image: "registry.digitalocean.com/slipway/example-api:1.0.0", env: { DB_PASSWORD: "hunter2" } } } },
        component: prod, path: "slipway:services.api.env.DB_PASSWORD", problem: /in plain text in a production stack file/, fix: /pulumi config set --secret dbPassword --stack prod/ },
    { name: "a live Stripe key typed in plain into production", stack: "prod", set: { services: { api: { image: "registry.digitalocean.com/slipway/example-api:1.0.0", env: { PAYMENTS: "sk_live_4eC39HqLyjWDarjtT1zdp7dc" } } } },
        component: prod, path: "slipway:services.api.env.PAYMENTS", problem: /looks like a Stripe key/, fix: /pulumi config set --secret payments/ },
    { name: "a database URL with a password in production", stack: "prod", set: { services: { api: { image: "registry.digitalocean.com/slipway/example-api:1.0.0", env: { LEGACY_DB: "postgres://app:pw123456@db.example.com/app" } } } },
        component: prod, path: "slipway:services.api.env.LEGACY_DB", problem: /looks like a URL with a password/, fix: /legacyDb/ },
    { name: "a SecretsSync value in plain text in production", stack: "prod", set: { secrets: { STRIPE_SECRET_KEY: { value: "not-a-real-key" } } },
        component: prod, path: "slipway:secrets.STRIPE_SECRET_KEY.value", problem: /is a SecretsSync value in plain text/, fix: /pulumi config set --secret stripeSecretKey/ },
    { name: "a Slack webhook in plain text in production", stack: "prod",
        set: { observability: { destinations: { slackWebhooks: [{ url: "https://hooks.slack.com/services/T000/B000/XXXXXXXX", channel: "#a" }] } } },
        component: prod, path: "slipway:observability.destinations.slackWebhooks[0].url", problem: /looks like a Slack webhook/, fix: /pulumi config set --secret/ },
    { name: "a registry token in plain text in a production stack file", stack: "prod",
        set: { doApp: { appName: "slipway-prod", region: "fra", registries: [{ host: "ghcr.io", username: "acme-ci", token: "ghcr-read-token-in-plain-text" }] } },
        component: prod, path: "slipway:doApp.registries[0].token", problem: /is a token in plain text in a production stack file/, fix: /pulumi config set --secret token --stack prod/ },
    { name: "a registry credential without a host", set: { docker: { registries: [{ username: "acme-ci", token: "dev-only-token" }] } },
        component: 'DockerHost "host"', path: "registries[0].host", problem: /is missing/, fix: /add host/ },
    { name: "a registry host written as a URL", set: { docker: { registries: [{ host: "https://ghcr.io/acme", username: "acme-ci", token: "dev-only-token" }] } },
        component: 'DockerHost "host"', path: "registries[0].host", problem: /has a scheme \(https:\/\/\)/, fix: /"ghcr\.io"/ },
    { name: "a service named like the database shares its network alias", set: { services: { db: { image: "slipway/example-api:local" } }, gateway: { routes: [{ pathPrefix: "/", service: "db" }] } },
        component: dev, path: "slipway:services.db", problem: /is also the name of slipway:database/, fix: /rename the service/ },
    { name: "a service named like another service's replica", set: { services: { ...api({ replicas: 2 }), "api-2": { image: "slipway/example-api:local" } } },
        component: dev, path: "slipway:services.api-2", problem: /replica 2's network alias/, fix: /rename/ },
    { name: "Prometheus published on the gateway's port", set: { observability: { prometheus: { image: "slipway/prometheus:local", publishPort: 8080 } } },
        component: dev, path: "slipway:observability.prometheus.publishPort", problem: /host port 8080, which slipway:gateway.publishPort already publishes/, fix: /its own number/ },
    { name: "Postgres published on every interface", set: { docker: { publishAddress: "0.0.0.0" }, database: { version: "16", publishPort: 15432 } },
        component: dev, path: "slipway:database.publishPort", problem: /data port on 0\.0\.0\.0/, fix: /unpublished|127\.0\.0\.1/ },
    { name: "a localhost CORS origin in production", stack: "prod",
        set: { gateway: { domains: ["api.example.com"], cloudflare: { zoneId: "023e105f4ecef8ad9ca31a8372d0c353" }, routes: [{ pathPrefix: "/", service: "api" }], cors: { allowOrigins: ["https://app.example.com", "http://localhost:3000"] } } },
        component: prod, path: "slipway:gateway.cors.allowOrigins[1]", problem: /development origin, trusted in production/, fix: /https origins/ },
];

describe("stack config: strict, typed, secret-safe (issue 9)", function () {
    this.timeout(60_000);
    for (const c of STACK_CASES) it(c.name, () => runCase(c));
});
