// Each component's monthlyCost on both targets, and the stack's total, from the real program
// (index.ts) under the Recorder: figures are computed from components/core/prices.ts, never typed here.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { APP_SIZES, DB_NODE_SIZES, DEV_DATABASE, MonthlyCost } from "../../components/core/prices";
import { Recorder, valueOf } from "../../components/testing/recorder";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import { dockerTarget, doTarget, freshRecorder } from "../helpers/harness";
import { stackConfigWith } from "../helpers/stack-case";

const price = (table: Readonly<Record<string, number>>, slug: string) => { const p = table[slug]; assert.ok(p !== undefined, slug); return p; };

describe("monthlyCost per component", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    it("ApiService on do-app: instances × its size's price", async () => {
        const { ApiService } = await import("../../components/api-service");
        const svc = new ApiService("api", { target: await doTarget(), image: "registry.digitalocean.com/acme/api:1.0.0", replicas: 3, instanceSize: "apps-d-1vcpu-2gb" });
        const c = await valueOf(svc.monthlyCost);
        assert.strictEqual(c.usd, 3 * price(APP_SIZES, "apps-d-1vcpu-2gb"));
        assert.deepEqual(c.items.map(i => [i.what, i.quantity]), [["App Platform apps-d-1vcpu-2gb", 3]]);
        await rec.settle();
        const outputs = rec.resources.find(r => r.type === "slipway:service:ApiService")!.outputs!;
        assert.deepEqual(outputs.monthlyCost, c, "registered as an output of the component");
    });

    it("ManagedDatabase on do-app: a cluster is size × nodes; a dev database its own price", async () => {
        const { ManagedDatabase } = await import("../../components/managed-database");
        const cluster = new ManagedDatabase("db", { target: await doTarget(), database: "shop", do: { size: "db-s-2vcpu-4gb", nodes: 3 } });
        assert.strictEqual((await valueOf(cluster.monthlyCost)).usd, 3 * price(DB_NODE_SIZES, "db-s-2vcpu-4gb"));
        const dev = new ManagedDatabase("devdb", { target: await doTarget("staging", false), database: "shop", do: { devDatabase: true } });
        const c = await valueOf(dev.monthlyCost);
        assert.strictEqual(c.usd, DEV_DATABASE);
        assert.match(c.items[0]!.what, /dev database/);
        const unpriced = new ManagedDatabase("big", { target: await doTarget(), database: "shop", do: { size: "gd-2vcpu-8gb", nodes: 2 } });
        assert.strictEqual((await valueOf(unpriced.monthlyCost)).usd, undefined, "a size with no price is not estimated");
    });

    it("on docker: not estimated without hostMonthlyCost, 0 (the host's price covers it) with it", async () => {
        const { ApiService } = await import("../../components/api-service");
        const { DockerHost } = await import("../../components/targets/docker-host");
        const bare = new ApiService("bare", { target: await dockerTarget("dev"), image: "nginx:1.27" });
        const c = await valueOf(bare.monthlyCost);
        assert.strictEqual(c.usd, undefined);
        assert.match(c.note!, /not estimated.*hostMonthlyCost/);
        const host = new DockerHost("priced", { environment: "staging", hostMonthlyCost: 24 });
        const priced = new ApiService("priced", { target: host.target, image: "nginx:1.27" });
        assert.strictEqual((await valueOf(priced.monthlyCost)).usd, 0);
        assert.deepEqual(await valueOf(host.monthlyCost), { usd: 24, items: [{ what: "Docker host VM", quantity: 1, unitUsd: 24, usd: 24 }] });
    });

    it("DockerHost refuses a hostMonthlyCost that is not a price, before anything registers", async () => {
        const { normalizeDockerHost } = await import("../../components/targets/docker-host");
        assert.throws(() => normalizeDockerHost("h", { environment: "dev", hostMonthlyCost: -5 }, "p"), /DockerHost "h".*hostMonthlyCost.*-5 is not a price/s);
        assert.throws(() => normalizeDockerHost("h", { environment: "dev", hostMonthlyCost: "24" as any }, "p"), /hostMonthlyCost/);
    });
});

/** Run index.ts in-process on a committed stack's config changed by `set`; returns its outputs and the recorder. */
async function runStack(stack: "dev" | "prod", set: Record<string, unknown>) {
    const cfg = stackConfigWith({ stack, set });
    const saved: Record<string, string | undefined> = {};
    const env = { SLIPWAY_SYNTH: "1", STRIPE_SECRET_KEY: "x", NEW_RELIC_LICENSE_KEY: "x", ALERTS_SLACK_WEBHOOK: "https://hooks.slack.com/services/T0/B0/x" };
    for (const [k, v] of Object.entries(env)) { saved[k] = process.env[k]; process.env[k] = v; }
    try {
        const rec = await Recorder.start({ project: "slipway", stack, outputs: fakeProviderOutputs });
        pulumi.runtime.setAllConfig(cfg.values, cfg.secretKeys);
        const program = require.resolve("../../index");
        delete require.cache[program];
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const outputs = await (require(program) as () => Promise<{ monthlyCost: pulumi.Output<MonthlyCost> }>)();
        const total = await valueOf(outputs.monthlyCost);
        await rec.settle();
        const byComponent = Object.fromEntries(rec.resources.filter(r => r.outputs?.monthlyCost !== undefined).map(r => [r.name, (r.outputs!.monthlyCost as MonthlyCost).usd]));
        return { total, byComponent };
    } finally {
        for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    }
}

describe("the stack's monthlyCost (index.ts)", () => {
    it("prod on App Platform: the services' instances plus the cluster; gateway, observability and secrets add 0", async () => {
        const { total, byComponent } = await runStack("prod", {});
        // Pulumi.prod.yaml: api 2 × apps-s-1vcpu-1gb, database db-s-1vcpu-2gb × 2 nodes.
        const expected = 2 * price(APP_SIZES, "apps-s-1vcpu-1gb") + 2 * price(DB_NODE_SIZES, "db-s-1vcpu-2gb");
        assert.strictEqual(total.usd, expected);
        assert.deepEqual(byComponent, { secrets: 0, db: 2 * price(DB_NODE_SIZES, "db-s-1vcpu-2gb"), observability: 0, api: 2 * price(APP_SIZES, "apps-s-1vcpu-1gb"), gateway: 0 });
    });

    it("dev on docker: not estimated, until the host is priced; then the host's price once", async () => {
        const bare = await runStack("dev", {});
        assert.strictEqual(bare.total.usd, undefined);
        assert.match(bare.total.note!, /hostMonthlyCost/);
        const priced = await runStack("dev", { docker: { host: "unix:///var/run/docker.sock", publishAddress: "127.0.0.1", hostMonthlyCost: 24 } });
        assert.strictEqual(priced.total.usd, 24);
        assert.deepEqual(priced.total.items.map(i => i.what), ["Docker host VM"]);
    });

    // Seed 002 (instant-lite on App Platform, "Costs"): 2 × apps-s-1vcpu-1gb "~$20", a dev
    // database "~$7", total "~$27 / mo". Its dev database matches the list; its $10 per instance
    // is the list price of apps-s-1vcpu-1gb-fixed, while apps-s-1vcpu-1gb lists at $12.
    const seed002 = (instanceSize: string) => ({
        production: false, environment: "staging",
        doApp: { appName: "instant-lite", region: "nyc" },
        database: { version: "16", do: { devDatabase: true } },
        services: { api: { image: "registry.digitalocean.com/instant/instant-lite-api:1.0.0", replicas: 2, instanceSize, port: 8080 } },
        observability: undefined,
        gateway: { routes: [{ pathPrefix: "/", service: "api" }] },
    });

    it("seed 002's configuration: its $27 is 2 × $10 + the $7 dev database (the -fixed size's price)", async () => {
        const { total } = await runStack("prod", seed002("apps-s-1vcpu-1gb-fixed"));
        assert.strictEqual(total.usd, 27);
        assert.deepEqual(total.items.map(i => [i.what, i.quantity, i.unitUsd]), [
            ["App Platform dev database (PostgreSQL)", 1, 7],
            ["App Platform apps-s-1vcpu-1gb-fixed", 2, 10],
        ]);
    });

    it("seed 002 as written (apps-s-1vcpu-1gb) is $31 on today's list: 2 × $12 + $7", async () => {
        const { total } = await runStack("prod", seed002("apps-s-1vcpu-1gb"));
        assert.strictEqual(total.usd, 2 * price(APP_SIZES, "apps-s-1vcpu-1gb") + DEV_DATABASE);
        assert.strictEqual(total.usd, 31);
    });
});
