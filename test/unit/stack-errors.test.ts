// Stack-level bad input: each case must fail the whole program before the first resource
// registers, with a message naming where (component or stack key), what and the fix.
import * as assert from "assert";
import { runSynth } from "../helpers/synth-run";

interface Case { name: string; stack: string; set: Record<string, unknown>; expect: RegExp }

const cases: Case[] = [
    {
        name: "a route to a service the stack does not define",
        stack: "dev", set: { gateway: { routes: [{ pathPrefix: "/v1", service: "billing" }] } },
        expect: /Stack "dev": slipway:gateway\.routes\[0\]\.service: "billing" is not a service of this stack\. Fix: use one of api/,
    },
    {
        name: "a link to a block the stack does not have",
        stack: "dev", set: { services: { api: { image: "slipway/example-api:local", link: ["queue"] } } },
        expect: /Stack "dev": slipway:services\.api\.link\[0\]: "queue" is not defined in this stack\. Fix: link only to database, secrets, observability, cache/,
    },
    {
        name: "a secret key the secrets block does not define",
        stack: "dev", set: { services: { api: { image: "slipway/example-api:local", secrets: ["STRIPE_KEY"] } } },
        expect: /Stack "dev": slipway:services\.api\.secrets\[0\]: "STRIPE_KEY" is not defined in slipway:secrets\. Fix: define it there, or use one of SESSION_SECRET/,
    },
    {
        name: "an unknown target",
        stack: "dev", set: { target: "kubernetes" },
        expect: /Stack "dev": slipway:target: "kubernetes" is not a Slipway target\. Fix: set slipway:target to "docker" or "do-app"/,
    },
    {
        name: "a typo in the doApp block",
        stack: "prod", set: { doApp: { appName: "slipway-prod", regoin: "fra" } },
        expect: /Stack "prod": slipway:doApp\.regoin: is not a known setting\. Fix: did you mean "region"\? \(known: appName, region, registries\)/,
    },
    {
        name: "a rate limit of 0 in the last component built (the gateway): nothing before it registers either",
        stack: "dev", set: { gateway: { routes: [{ pathPrefix: "/", service: "api", rateLimit: "general" }], rateLimits: { general: { events: 0, window: "1m" } } } },
        expect: /Gateway "gateway": rateLimits\.general\.events: .*Fix:/,
    },
    {
        name: "zero replicas",
        stack: "prod", set: { services: { api: { image: "registry.digitalocean.com/slipway/example-api:1.0.0", replicas: 0 } } },
        expect: /ApiService "api": replicas: must be a whole number from 1 to 20, got 0\. Fix:/,
    },
    {
        name: "an App Platform region given as a droplet slug",
        stack: "prod", set: { doApp: { appName: "slipway-prod", region: "fra1" } },
        expect: /DoAppTarget "slipway-prod": region: "fra1" is not an App Platform region \(App Platform regions have no number: "fra"\)\. Fix: use one of atl, nyc/,
    },
];

describe("stack-level bad input (synth)", function () {
    this.timeout(120_000);
    for (const c of cases) {
        it(`rejects ${c.name}`, () => {
            const args = Object.entries(c.set).flatMap(([k, v]) => ["--set", `${k}=${JSON.stringify(v)}`]);
            const r = runSynth(c.stack, args);
            assert.notStrictEqual(r.status, 0, `synth should fail:\n${r.stdout}`);
            assert.match(r.stderr, c.expect);
            assert.match(r.stderr, /\n0 resources were registered before the error\./, r.stderr);
        });
    }
});
