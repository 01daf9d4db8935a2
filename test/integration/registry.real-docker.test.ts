// Private-registry pulls on the real engine: a real registry (Debian's docker-registry, htpasswd
// auth) on 127.0.0.1, an ApiService whose image lives only there, and a DockerHost with the
// registry's credentials in `registries`. The harness pulls as the provider does (harness/pull.ts).
import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import { RecordedResource, Recorder, redact } from "../../components/testing/recorder";
import { ApplyResult, DockerHarness, TYPES, UpError, ensureImages } from "./harness";
import { httpJson } from "./probes";
import { RegistryServer, startRegistry } from "./registry-server";

const USER = "acme-ci";
// Random per run, so a leak can only come from this run; never printed by the test.
const TOKEN = `tok-${randomBytes(12).toString("hex")}`;
const WRONG = `wrong-${randomBytes(12).toString("hex")}`;

/** The program: a DockerHost with the registry's credentials and a 2-replica ApiService on its image. */
async function record(image: string, registryHost: string, token: string): Promise<RecordedResource[]> {
    const rec = await Recorder.start({ project: "registry-it", stack: "it", outputs: fakeProviderOutputs });
    const { DockerHost } = await import("../../components/targets/docker-host");
    const { ApiService } = await import("../../components/api-service");
    const target = new DockerHost("host", { environment: "it", registries: [{ host: registryHost, username: USER, token: pulumi.secret(token) }] }).target;
    new ApiService("api", {
        target, image, replicas: 2,
        // The example API's /ready needs a database; this test is about pulls, so it gates on /health.
        readyPath: "/health",
        healthcheck: { startPeriodSeconds: 1, intervalSeconds: 1, retries: 5 },
        stopGracePeriodSeconds: 5,
        // Each replica on its own 127.0.0.1 port, so the test reaches the old ones directly.
        transform: { container: args => { args.ports = [{ internal: 8080, ip: "127.0.0.1" }]; } },
    });
    await rec.settle();
    return [...rec.resources];
}

const replicas = (r: ApplyResult) => r.containers.filter(c => /^api-[0-9a-f]{8}-\d$/.test(c.logical));

describe("ApiService from a private registry on a real Docker engine", function () {
    this.timeout(300_000);
    let registry: RegistryServer;
    let h: DockerHarness;
    let first: ApplyResult;
    let ports: number[] = [];
    const seen: string[] = [];

    before(async function () {
        this.timeout(1_200_000); // a cold machine installs the registry, starts dockerd and builds the API image here
        const images = ensureImages(["api"]);
        registry = await startRegistry(USER, TOKEN);
        await registry.push(images.SLIPWAY_IMAGE_API!, "acme/api", "1.0.0");
        await registry.push(images.SLIPWAY_IMAGE_API!, "acme/api", "1.0.1");
        const runId = randomBytes(4).toString("hex");
        h = new DockerHarness({ runId, nameSuffix: `-t${runId}` });
    });

    after(async function () {
        this.timeout(120_000);
        await h?.cleanup();
        await registry?.stop();
    });

    it("pulls the image with the right credentials and serves from both replicas", async () => {
        const ref = `${registry.host}/acme/api:1.0.0`;
        assert.equal((await h.engine.request("GET", `/images/${encodeURIComponent(ref)}/json`, { ok: [404] })).status, 404, "the image must not be on the engine before the deploy");
        first = await h.apply(await record(ref, registry.host, TOKEN));
        const pull = first.steps.find(s => s.type === TYPES.remoteImage);
        assert.equal(pull?.op, "create");
        assert.equal(pull?.error, undefined);
        assert.equal((await h.engine.request("GET", `/images/${encodeURIComponent(ref)}/json`)).status, 200, "pulled");
        const rs = replicas(first);
        assert.equal(rs.length, 2);
        ports = await Promise.all(rs.map(c => h.portOf(c.name, 8080)));
        for (const p of ports) assert.equal((await httpJson(p, "GET", "/health")).status, 200);
    });

    it("a release with a wrong token fails `up` with the registry's answer, deletes nothing, and the old replicas keep serving", async () => {
        const before = replicas(first).map(c => c.name).sort();
        const next = await record(`${registry.host}/acme/api:1.0.1`, registry.host, WRONG);
        // Bounded load on the old replicas while the update runs and 2 s after it: 4 clients, at most 2,000 requests.
        let done = false;
        let stopAt = Infinity;
        const results = { ok: 0, failed: [] as string[] };
        const client = async (k: number) => {
            for (let n = 0; n < 500 && Date.now() < stopAt; n++) {
                const port = ports[(n + k) % ports.length]!;
                try {
                    const r = await httpJson(port, "GET", "/health", { timeoutMs: 3000 });
                    if (r.status === 200) results.ok++; else results.failed.push(`${port}: ${r.status}`);
                } catch (e) {
                    results.failed.push(`${port}: ${(e as Error).message}`);
                }
                await new Promise(r => setTimeout(r, 20));
                if (done && stopAt === Infinity) stopAt = Date.now() + 2000;
            }
        };
        const load = Promise.all([0, 1, 2, 3].map(client));
        let error: unknown;
        try { await h.up(next); } catch (e) { error = e; }
        done = true;
        await load;

        assert.ok(error instanceof UpError, `up must fail, got ${error}`);
        const message = (error as Error).message;
        assert.match(message, /unauthorized/i, message);
        assert.match(message, /acme\/api:1\.0\.1/);
        seen.push(message);
        const steps = (error as UpError).result.steps;
        assert.deepEqual(steps.filter(s => s.type === TYPES.container), [], "no container step after the failed pull");
        assert.deepEqual(steps.filter(s => s.op === "delete"), []);
        assert.deepEqual((await h.owned()).containers, before, "the engine runs the old replicas and nothing else");
        assert.deepEqual(results.failed, [], `requests to the old replicas failed: ${results.failed.slice(0, 5).join("; ")}`);
        assert.ok(results.ok >= 20, `too few requests got through (${results.ok})`);
        for (const p of ports) assert.equal((await httpJson(p, "GET", "/health")).status, 200);
    });

    it("the same release with the right token rolls out", async () => {
        const r = await h.up(await record(`${registry.host}/acme/api:1.0.1`, registry.host, TOKEN));
        const rs = replicas(r);
        assert.equal(rs.length, 2);
        for (const c of rs) assert.equal((await httpJson(await h.portOf(c.name, 8080), "GET", "/health")).status, 200);
        assert.equal(r.steps.filter(s => s.op === "delete").length, 2, "the old replicas are deleted at the end");
    });

    it("the token is in no container env or inspect output, no container log, no error, and only under secret markers in the recording", async () => {
        const owned = await h.owned();
        assert.ok(owned.containers.length >= 2);
        for (const name of owned.containers) {
            const inspect = JSON.stringify(await h.inspect(name));
            const logs = await h.logs(name, 1000);
            for (const t of [TOKEN, WRONG]) {
                assert.ok(!inspect.includes(t), `docker inspect ${name} shows a registry token`);
                assert.ok(!logs.includes(t), `the logs of ${name} show a registry token`);
            }
        }
        for (const m of seen) for (const t of [TOKEN, WRONG]) assert.ok(!m.includes(t), "an error message shows a registry token");
        const recorded = JSON.stringify(redact(await record(`${registry.host}/acme/api:1.0.1`, registry.host, TOKEN)));
        assert.ok(!recorded.includes(TOKEN), "the recording shows the token outside a secret");
        assert.ok(!registry.log().includes(TOKEN), "the registry logged the token");
    });
});
