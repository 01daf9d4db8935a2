// Unit tests for the stack: run index.ts under Pulumi mocks with Slipway's Recorder and assert on
// what would be deployed. No Pulumi CLI, cloud account or Docker engine needed: `npm test`.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { ApiService, SlipwayConfigError } from "@slipway/components";
import { Recorder, fakeProviderOutputs, isSecretValue, redact } from "@slipway/components/testing";

const PAYMENTS_KEY = "sk_test_planted_4f1c"; // a value we can search for in everything recorded

/** Run the program for one stack's config; a fresh Recorder per run. */
async function runProgram(stack: string, config: Record<string, string>): Promise<Recorder> {
    const rec = await Recorder.start({ project: "orders", stack, outputs: fakeProviderOutputs });
    pulumi.runtime.setAllConfig(
        { "orders:paymentsApiKey": PAYMENTS_KEY, "orders:sentryDsn": "https://key@o0.ingest.sentry.io/0", ...config },
        ["orders:paymentsApiKey"],
    );
    const program = require.resolve("../index");
    delete require.cache[program];
    require(program);
    await rec.settle();
    return rec;
}

test("docker: every component, and secrets reach the API as files", async () => {
    const rec = await runProgram("dev", { "orders:target": "docker", "orders:image": "orders-api:1.0.0", "orders:replicas": "2" });

    for (const type of ["slipway:targets:DockerHost", "slipway:secrets:SecretsSync", "slipway:database:ManagedDatabase",
        "slipway:observability:Observability", "slipway:service:ApiService", "slipway:gateway:Gateway"]) {
        assert.equal(rec.ofType(type).length, 1, type);
    }
    const orders = rec.get("slipway:service:ApiService", "orders");
    const replicas = rec.descendants(orders.urn).filter(r => r.type === "docker:index/container:Container");
    // Replicas are named by release (`<service>-<release>-<i>`), so a new image rolls out gaplessly.
    assert.equal(replicas.length, 2);
    for (const [i, r] of replicas.sort((a, b) => a.name.localeCompare(b.name)).entries()) assert.match(r.name, new RegExp(`^orders-[0-9a-f]{8}-${i + 1}$`));

    const envs = redact(replicas[0]!.inputs.envs) as string[];
    assert.ok(envs.includes("PAYMENTS_API_KEY_FILE=/run/secrets/PAYMENTS_API_KEY"), envs.join("\n"));
    assert.ok(envs.includes("DATABASE_URL_FILE=/run/secrets/DATABASE_URL"), envs.join("\n"));
    assert.ok(!envs.some(e => e.startsWith("PAYMENTS_API_KEY=")), "the key itself must not be in the environment");
    // Revealed only to search: the key may be in a secret upload, never in a plain input.
    assert.ok(!JSON.stringify(rec.resources.map(r => redact(r.inputs))).includes(PAYMENTS_KEY));
});

test("do-app: one App whose spec carries the service and its secrets", async () => {
    const rec = await runProgram("prod", {
        "orders:target": "do-app", "orders:production": "true", "orders:image": "registry.digitalocean.com/example/orders-api:1.0.0",
        "orders:replicas": "2", "orders:domain": "orders.example.com", "orders:cloudflareZoneId": "023e105f4ecef8ad9ca31a8372d0c353",
    });

    assert.equal(rec.ofType("slipway:targets:DoApp").length, 1);
    const [app] = rec.ofType("digitalocean:index/app:App");
    assert.ok(app, "DoApp creates the App");
    assert.equal(app.options.protect, true, "production App is protected");
    // A spec holding secrets is secret as a whole; reveal it to look inside.
    assert.ok(isSecretValue(app.inputs.spec), "the App spec must be a secret input");
    const spec = redact(app.inputs.spec, true) as { services: { name: string; instanceCount: number; envs: { key: string; type: string; value: string }[] }[] };
    const svc = spec.services.find(s => s.name === "orders");
    assert.ok(svc, JSON.stringify(spec.services.map(s => s.name)));
    assert.equal(svc.instanceCount, 2);
    const key = svc.envs.find(e => e.key === "PAYMENTS_API_KEY");
    assert.deepEqual([key?.type, key?.value], ["SECRET", PAYMENTS_KEY]);
    assert.equal(rec.ofType("docker:index/container:Container").length, 0);
});

test("bad input fails before anything registers, naming component, property and fix", async () => {
    const rec = await Recorder.start({ project: "orders", stack: "dev", outputs: fakeProviderOutputs });
    const target = { kind: "docker" } as never; // never reached: validation comes first
    assert.throws(() => new ApiService("orders", { target, image: "orders-api:1.0.0", replicas: 0 }), (e: unknown) => {
        assert.ok(e instanceof SlipwayConfigError);
        assert.match(e.message, /^ApiService "orders": replicas: .+\. Fix: .+/);
        return true;
    });
    await rec.settle();
    assert.equal(rec.resources.length, 0);
});
