// Unit tests for the stack: run index.ts under Pulumi mocks with Slipway's Recorder and assert on
// what would be deployed. No Pulumi CLI, cloud account or Docker engine needed: `npm test`.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { ApiService, SlipwayConfigError } from "@slipway/components";
import { Recorder, fakeProviderOutputs, isSecretValue, redact } from "@slipway/components/testing";

const PAYMENTS_KEY = "sk_test_planted_4f1c"; // a value we can search for in everything recorded

/** What the last update exported, as the self StackReference of the next run reads it. */
type Checkpoint = Record<string, unknown>;

/** Run the program for one stack's config; a fresh Recorder per run. Returns its exports resolved. */
async function runProgram(stack: string, config: Record<string, string>, previous: Checkpoint = {}): Promise<Recorder & { exported: Checkpoint }> {
    const rec = await Recorder.start({
        project: "orders", stack,
        outputs: r => r.type === "pulumi:pulumi:StackReference" ? { outputs: previous, secretOutputNames: Object.keys(previous) } : fakeProviderOutputs(r),
    });
    pulumi.runtime.setAllConfig(
        { "orders:paymentsApiKey": PAYMENTS_KEY, "orders:sentryDsn": "https://key@o0.ingest.sentry.io/0", ...config },
        ["orders:paymentsApiKey"],
    );
    const program = require.resolve("../index");
    delete require.cache[program];
    const mod = require(program) as Record<string, pulumi.Input<unknown>>;
    await rec.settle();
    const exported: Checkpoint = {};
    for (const [k, v] of Object.entries(mod)) {
        const out: pulumi.Output<unknown> = pulumi.output(v);
        exported[k] = await new Promise(resolve => out.apply(x => { resolve(x); return x; }));
    }
    await rec.settle();
    return Object.assign(rec, { exported });
}

const PROD = {
    "orders:target": "do-app", "orders:production": "true", "orders:image": "registry.digitalocean.com/example/orders-api:1.0.0",
    "orders:replicas": "2", "orders:domain": "orders.example.com", "orders:cloudflareZoneId": "023e105f4ecef8ad9ca31a8372d0c353",
};

test("docker: every component, and secrets reach the API as files", async () => {
    const rec = await runProgram("dev", { "orders:target": "docker", "orders:image": "orders-api:1.0.0", "orders:replicas": "2" });

    for (const type of ["slipway:targets:DockerHost", "slipway:secrets:SecretsSync", "slipway:database:ManagedDatabase",
        "slipway:observability:Observability", "slipway:service:ApiService", "slipway:gateway:Gateway"]) {
        assert.equal(rec.ofType(type).length, 1, type);
    }
    const orders = rec.get("slipway:service:ApiService", "orders");
    const containers = rec.descendants(orders.urn).filter(r => r.type === "docker:index/container:Container");
    // The release's migration runs once, in a job of its own, before the replicas.
    const jobs = containers.filter(r => /^orders-migrate-[0-9a-f]{8}$/.test(r.name));
    assert.equal(jobs.length, 1, containers.map(r => r.name).join(", "));
    const replicas = containers.filter(r => !jobs.includes(r));
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
    const rec = await runProgram("prod", PROD);

    assert.equal(rec.ofType("slipway:targets:DoApp").length, 1);
    const [app] = rec.ofType("digitalocean:index/app:App");
    assert.ok(app, "DoApp creates the App");
    assert.equal(app.options.protect, true, "production App is protected");
    // The SDK lifts a nested secret to the whole spec under mocks; reveal it to look inside.
    assert.ok(isSecretValue(app.inputs.spec), "the App spec must be a secret input");
    type Env = { key: string; type: string; value: string };
    const spec = redact(app.inputs.spec, true) as { envs: Env[]; services: { name: string; instanceCount: number; envs?: Env[] }[] };
    const svc = spec.services.find(s => s.name === "orders");
    assert.ok(svc, JSON.stringify(spec.services.map(s => s.name)));
    assert.equal(svc.instanceCount, 2);
    // Secrets sit at the App level, so the service entry stays readable in a preview.
    assert.ok(!(svc.envs ?? []).some(e => e.type === "SECRET"), JSON.stringify(svc.envs));
    const key = spec.envs.find(e => e.key === "PAYMENTS_API_KEY");
    assert.deepEqual([key?.type, key?.value], ["SECRET", PAYMENTS_KEY]);
    assert.equal(rec.ofType("docker:index/container:Container").length, 0);
    // The edge points the domain at the App, after it.
    const [dns] = rec.ofType("cloudflare:index/dnsRecord:DnsRecord");
    assert.equal(dns?.inputs.name, "orders.example.com");
});

test("do-app: an unchanged second run keeps deployed secrets; a rotated one sends them", async () => {
    const first = await runProgram("prod", PROD);
    const ignored = (r: Recorder) => r.ofType("digitalocean:index/app:App")[0]!.options.ignoreChanges;
    assert.deepEqual(ignored(first), [], "first update: nothing deployed yet, so the values are sent");
    const revision = first.exported.secretsRevision;
    assert.match(String(revision), /^[0-9a-f]{32}$/, "the program exports the revision DoApp reads back");

    const second = await runProgram("prod", PROD, { secretsRevision: revision });
    const kept = ignored(second);
    assert.ok(kept.length > 0 && kept.every(p => /^spec\.envs\[\d+\]\.value$/.test(p)), JSON.stringify(kept));

    const rotated = await runProgram("prod", { ...PROD }, { secretsRevision: "0".repeat(32) });
    assert.deepEqual(ignored(rotated), [], "a different fingerprint sends the new values");
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
