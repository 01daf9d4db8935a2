import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { mergeAppSpecParts, toApiSpec } from "../../components/targets/app-spec";
import { Linkable } from "../../components/core/link";
import { Recorder, secretness, valueOf } from "../../components/testing/recorder";
import { appSpecErrors, upperCaseKeys } from "../helpers/do-schema";
import { doTarget, freshRecorder } from "../helpers/harness";

const PLAINTEXT = "s3cr3t-Pa55word-for-tests";

describe("ApiService on do-app", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    async function build(args: Record<string, unknown> = {}) {
        const target = await doTarget();
        const { ApiService } = await import("../../components/api-service");
        // A block that forgets to wrap its secret: the App must carry it as a secret all the same.
        const secrets: Linkable = { linkLabel: "fake secrets", link: () => ({ env: [{ key: "DB_PASSWORD", value: PLAINTEXT, secret: true }] }) };
        const obs: Linkable = {
            linkLabel: "fake observability",
            link: ({ service }) => ({
                env: [{ key: "OTEL_SERVICE_NAME", value: service, secret: false }],
                doApp: {
                    alerts: [
                        { rule: "RESTART_COUNT", operator: "GREATER_THAN", value: 3, window: "FIVE_MINUTES" },
                        { rule: "CPU_UTILIZATION", operator: "GREATER_THAN", value: 80, window: "FIVE_MINUTES" },
                    ],
                    logDestinations: [{ name: "logtail", logtail: { token: "t" } }],
                },
            }),
        };
        const svc = new ApiService("api", { target, image: "registry.digitalocean.com/acme/api:1.4.2", link: [obs, secrets], env: { APP_ENV: "prod" }, ...args } as any);
        await rec.settle();
        return { svc, target, links: [obs, secrets] };
    }

    it("tells the image its port as a plain PORT env, matching httpPort", async () => {
        const { svc } = await build({ port: 3000 });
        const s = svc.appPart!.services![0]!;
        assert.strictEqual(s.httpPort, 3000);
        const port = (s.envs as any[]).filter(e => e.key === "PORT");
        assert.deepEqual(port.map(e => [e.value, e.type, e.scope]), [["3000", "GENERAL", "RUN_TIME"]]);
        assert.strictEqual(await secretness(port[0].value), false);
    });

    it("contributes one service with image, size, probes, termination and sorted typed envs", async () => {
        const { svc, links } = await build();
        assert.strictEqual(svc.appPart!.owner, 'ApiService "api"');
        assert.deepEqual(svc.appDependencies, links, "DoApp reaches the linked blocks through the service");
        assert.deepEqual(rec.resources.map(r => r.type), ["slipway:service:ApiService"], "the part is data; DoApp owns the App");
        const s = await valueOf(pulumi.output(svc.appPart!.services![0]!)) as any;
        assert.deepEqual(s.image, { registryType: "DOCR", repository: "api", tag: "1.4.2" });
        assert.strictEqual(s.httpPort, 8080);
        assert.strictEqual(s.instanceCount, 2, "production target defaults to 2 instances");
        assert.strictEqual(s.instanceSizeSlug, "apps-s-1vcpu-1gb");
        assert.deepEqual(s.healthCheck, { httpPath: "/ready", initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3, successThreshold: 1 });
        assert.deepEqual(s.livenessHealthCheck, { ...s.healthCheck, httpPath: "/health" });
        assert.deepEqual(s.termination, { gracePeriodSeconds: 30 });
        assert.deepEqual(s.envs.map((e: any) => [e.key, e.type, e.scope]), [
            ["APP_ENV", "GENERAL", "RUN_TIME"], ["DB_PASSWORD", "SECRET", "RUN_TIME"], ["OTEL_SERVICE_NAME", "GENERAL", "RUN_TIME"], ["PORT", "GENERAL", "RUN_TIME"]]);
        const envs = svc.appPart!.services![0]!.envs as any[];
        assert.strictEqual(await secretness(envs[0].value), false);
        // Merged, the SECRET env is an App-level env that travels as a secret; the service keeps the plain ones.
        const spec = mergeAppSpecParts("shop-api", "fra", [svc.appPart!]);
        assert.deepEqual((spec.envs as any[]).map(e => [e.key, e.type, e.scope]), [["DB_PASSWORD", "SECRET", "RUN_TIME"]]);
        assert.strictEqual(await secretness((spec.envs as any[])[0].value), true, "a SECRET env value travels as a secret");
        assert.strictEqual(await valueOf((spec.envs as any[])[0].value), PLAINTEXT);
        const merged = (spec.services as any[])[0].envs as any[];
        assert.deepEqual(merged.map(e => [e.key, e.type]), [["APP_ENV", "GENERAL"], ["OTEL_SERVICE_NAME", "GENERAL"], ["PORT", "GENERAL"]]);
        for (const e of merged) assert.strictEqual(await secretness(e.value), false, `${e.key} stays readable in a preview`);
        assert.deepEqual(s.alerts.map((a: any) => a.rule), ["CPU_UTILIZATION", "RESTART_COUNT"]);
        assert.deepEqual(s.logDestinations.map((d: any) => d.name), ["logtail"]);
        assert.deepEqual(svc.endpoint.dialHosts, []);
        assert.strictEqual(await valueOf(svc.internalUrl), "http://api:8080");
    });

    it("produces a spec DigitalOcean's schema accepts", async () => {
        const { svc } = await build({ replicas: 3, memory: "2g", cpus: 1 });
        const spec = await valueOf(pulumi.output(mergeAppSpecParts("shop-api", "fra", [svc.appPart!])));
        const api = toApiSpec(spec) as any;
        assert.deepEqual(upperCaseKeys(api), []);
        assert.deepEqual(appSpecErrors(api), []);
        assert.strictEqual(api.services[0].instance_size_slug, "apps-s-1vcpu-2gb", "memory 2g picks the smallest fitting shared size");
        assert.strictEqual(api.services[0].liveness_health_check.success_threshold, 1);
    });

    it("maps GHCR and Docker Hub references and pins digests", async () => {
        const { svc } = await build({ image: "ghcr.io/acme/api@sha256:" + "a".repeat(64) });
        assert.deepEqual(await valueOf(pulumi.output(svc.appPart!.services![0]!.image as any)),
            { registryType: "GHCR", registry: "acme", repository: "api", digest: "sha256:" + "a".repeat(64) });
        rec.clear();
        const { ApiService } = await import("../../components/api-service");
        const hub = new ApiService("web", { target: await doTarget(), image: "nginx:1.27" });
        assert.deepEqual(await valueOf(pulumi.output(hub.appPart!.services![0]!.image as any)), { registryType: "DOCKER_HUB", registry: "library", repository: "nginx", tag: "1.27" });
    });

    it("resolves an image reference that is an Output once it is known", async () => {
        const { svc } = await build({ image: pulumi.output("registry.digitalocean.com/acme/api:2.0.0") });
        assert.deepEqual(await valueOf(pulumi.output(svc.appPart!.services![0]!.image as any)), { registryType: "DOCR", repository: "api", tag: "2.0.0" });
    });

    it("fails the update with the same clear error when an Output reference cannot map", async () => {
        const { svc } = await build({ image: pulumi.output("quay.io/acme/api:2.0.0") });
        const image = pulumi.output(svc.appPart!.services![0]!.image as any) as any;
        await assert.rejects(image.promise(), /ApiService "api": image: .*quay\.io.*Fix: push the image to DOCR/);
    });

    it("uses the given instance size and ignores the Docker-only knobs (restart, healthcheck.command)", async () => {
        const { svc } = await build({ instanceSize: "apps-d-1vcpu-2gb", restart: "always", healthcheck: { command: ["CMD", "/hc"], intervalSeconds: 30 }, replicas: 1 });
        const s = await valueOf(pulumi.output(svc.appPart!.services![0]!)) as any;
        assert.strictEqual(s.instanceSizeSlug, "apps-d-1vcpu-2gb");
        assert.strictEqual(s.instanceCount, 1);
        assert.strictEqual(s.healthCheck.periodSeconds, 30);
    });

    it("runs migrate as a PRE_DEPLOY job of the same image and env, valid against DigitalOcean's schema, with secrets at the App level", async () => {
        const { svc } = await build({ migrate: { command: ["/usr/local/bin/api", "migrate", "--note", "it's 1"], backupFirst: true } });
        const spec = await valueOf(pulumi.output(mergeAppSpecParts("shop-api", "fra", [svc.appPart!])));
        const api = toApiSpec(spec) as any;
        assert.deepEqual(appSpecErrors(api), []);
        assert.equal(api.jobs.length, 1);
        const job = api.jobs[0];
        assert.equal(job.kind, "PRE_DEPLOY");
        assert.equal(job.name, "api-migrate");
        assert.deepEqual(job.image, api.services[0].image);
        // A shell splits run_command: the argument with a space and a quote survives as one word.
        assert.equal(job.run_command, `/usr/local/bin/api migrate --note 'it'\\''s 1'`);
        assert.deepEqual(job.envs.map((e: any) => e.key), api.services[0].envs.map((e: any) => e.key));
        // The secret is where the service's is: once, at the App level, never in the job.
        assert.ok(!JSON.stringify(job).includes(PLAINTEXT));
        assert.deepEqual(api.envs.filter((e: any) => e.key === "DB_PASSWORD").map((e: any) => e.type), ["SECRET"]);
    });

    it("has no job without migrate", async () => {
        const { svc } = await build();
        assert.equal(svc.appPart!.jobs, undefined);
    });
});
