// Observability's scrape path on a real Docker engine: a program with a DockerHost, an Observability
// and a stand-in linked service (two replicas of the example API, handed to the Observability the
// way an ApiService does it: `obs.link(...).docker.scrape.addTargets(...)`), recorded under mocks
// and applied by the honest harness. Prometheus must find both replicas through the target writer
// alone (its config names no service), see a stopped replica as down, and follow a rollout and the
// service's removal without being replaced. Traffic: 127.0.0.1 (Prometheus' published API) and the
// containers on the run's own network; every wait is bounded.
import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import { RecordedResource, Recorder } from "../../components/testing/recorder";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import { ApplyResult, DockerHarness, ensureImages } from "./harness";
import { eventually, getJson } from "./probes";
import { freePort } from "../helpers/caddy";

const PROMETHEUS_REF = "slipway/prometheus:local";
const API_REF = "slipway/example-api:local";
const SCRAPE_SECONDS = 5;

interface Target { labels: Record<string, string>; scrapePool: string; health: string; lastError: string }



/**
 * The program: a host, an Observability with Prometheus published on `publishPort`, and (unless
 * `release` is undefined) a service "svc" of two example-API replicas with unique aliases.
 */
async function record(publishPort: number, release: string | undefined): Promise<RecordedResource[]> {
    const rec = await Recorder.start({ project: "obs-it", stack: "it", outputs: fakeProviderOutputs });
    const docker = await import("@pulumi/docker");
    const { DockerHost } = await import("../../components/targets/docker-host");
    const { Observability } = await import("../../components/observability");
    const target = new DockerHost("host", { environment: "it" }).target;
    const obs = new Observability("obs", { target, prometheus: { image: PROMETHEUS_REF, publishPort, scrapeIntervalSeconds: SCRAPE_SECONDS } });
    if (release) {
        const opts = { provider: target.provider };
        const image = new docker.RemoteImage("svc-image", { name: API_REF, keepLocally: true }, opts);
        const hosts = [1, 2].map(i => `svc-${release}-${i}`);
        const replicas = hosts.map(host => new docker.Container(host, {
            image: image.imageId,
            envs: ["PORT=8080", "OTEL_SERVICE_NAME=svc"],
            networksAdvanced: [{ name: target.networkName, aliases: [host] }],
            healthcheck: { tests: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1"], interval: "1s", timeout: "3s", retries: 3, startPeriod: "1s" },
            user: "10001:10001", capabilities: { drops: ["ALL"] }, securityOpts: ["no-new-privileges:true"],
            memory: 64, memorySwap: 64, stopTimeout: 5, destroyGraceSeconds: 5, wait: true, waitTimeout: 60,
        }, opts));
        obs.link({ service: "svc", port: 8080 }).docker!.scrape!.addTargets({ service: "svc", hosts, port: 8080, release }, replicas);
    }
    await rec.settle();
    return [...rec.resources];
}

describe("Observability on a real Docker engine: linked replicas become Prometheus targets", function () {
    this.timeout(300_000);
    let h: DockerHarness;
    let port: number;
    let first: ApplyResult;
    const timings: Record<string, number> = {};

    const svcTargets = async (): Promise<Target[]> =>
        (await getJson(port, "/api/v1/targets?state=active")).data.activeTargets.filter((t: Target) => t.labels.job === "svc");
    const byInstance = (ts: Target[]) => Object.fromEntries(ts.map(t => [t.labels.instance, t.health]));

    before(async function () {
        this.timeout(1_200_000); // a cold machine starts dockerd and builds the images here
        const images = ensureImages(["prometheus", "api"]);
        const runId = randomBytes(4).toString("hex");
        h = new DockerHarness({
            runId, nameSuffix: `-t${runId}`,
            imageMap: { [PROMETHEUS_REF]: images.SLIPWAY_IMAGE_PROMETHEUS!, [API_REF]: images.SLIPWAY_IMAGE_API! },
        });
        port = await freePort();
        const t0 = Date.now();
        first = await h.apply(await record(port, "r1"));
        await h.waitHealthy([h.containers.get("obs-prometheus")!], 60_000);
        timings.applyAndPrometheusHealthyMs = Date.now() - t0;
    });

    after(async function () {
        this.timeout(120_000);
        if (h) await h.cleanup();
        console.log(`      timings: ${JSON.stringify(timings)}`);
    });

    it("scrapes both replicas, labelled with the service and its release, with no service in Prometheus' config", async () => {
        const { value, ms } = await eventually("both replicas up", 60_000, async () => {
            const ts = await svcTargets();
            return ts.length === 2 && ts.every(t => t.health === "up") ? ts : undefined;
        });
        timings.bothUpMs = ms;
        assert.deepEqual(value.map(t => t.labels.instance).sort(), ["svc-r1-1:8080", "svc-r1-2:8080"]);
        for (const t of value) {
            assert.equal(t.labels.release, "r1");
            assert.equal(t.scrapePool, "linked-services");
        }
        const cfg: string = (await getJson(port, "/api/v1/status/config")).data.yaml;
        assert.ok(!cfg.includes("svc"), "prometheus.yml names no linked service");
    });

    it("writes the target file as the image's non-root user, read-only to Prometheus", async () => {
        const writer = first.containers.find(c => c.logical.startsWith("obs-targets-svc-"))!;
        assert.ok(writer, "the writer was created");
        const id = await h.exec(writer.name, ["id", "-u"]);
        assert.equal(id.output.trim(), "990");
        const prom = h.containers.get("obs-prometheus")!;
        const ls = await h.exec(prom, ["sh", "-c", "ls -ln /etc/prometheus/targets; touch /etc/prometheus/targets/x 2>&1 || true"]);
        assert.match(ls.output, /-rw-r--r-- +1 990 +990 .* svc-[0-9a-f]{10}\.json/);
        assert.match(ls.output, /Read-only file system/);
        // A Prometheus query sees the same: the replicas' own metrics arrived.
        const q = await eventually("the replicas' metrics", 30_000, async () => {
            const r = await getJson(port, `/api/v1/query?query=${encodeURIComponent('count(up{job="svc"} == 1)')}`);
            return r.data.result[0]?.value[1] === "2" ? r : undefined;
        });
        assert.equal(q.value.status, "success");
    });

    it("leaves nothing for the next preview to change (the provider's read-back of every container)", async () => {
        assert.deepEqual(await h.drift(), []);
    });

    it("reads a stopped replica as down, not gone", async () => {
        const stopped = h.containers.get("svc-r1-2")!;
        await h.engine.request("POST", `/containers/${encodeURIComponent(stopped)}/stop?t=5`, { ok: [304], timeoutMs: 30_000 });
        const { value, ms } = await eventually("svc-r1-2 down", 4 * SCRAPE_SECONDS * 1000 + 10_000, async () => {
            const ts = byInstance(await svcTargets());
            return ts["svc-r1-2:8080"] === "down" ? ts : undefined;
        });
        timings.downAfterStopMs = ms;
        assert.deepEqual(value, { "svc-r1-1:8080": "up", "svc-r1-2:8080": "down" });
        const r = await getJson(port, `/api/v1/query?query=${encodeURIComponent('up{job="svc"}')}`);
        assert.deepEqual(Object.fromEntries(r.data.result.map((x: any) => [x.metric.instance, x.value[1]])), { "svc-r1-1:8080": "1", "svc-r1-2:8080": "0" });
    });

    it("follows a rollout to new replicas without replacing Prometheus, and drops the old ones", async () => {
        const t0 = Date.now();
        const up = await h.up(await record(port, "r2"));
        timings.rolloutUpMs = Date.now() - t0;
        const op = (logical: string) => up.steps.filter(s => s.logical === logical).map(s => s.op);
        assert.deepEqual(op("obs-prometheus"), ["same"]);
        assert.deepEqual(up.steps.filter(s => s.logical.startsWith("obs-targets-svc-")).map(s => s.op).sort(), ["create", "delete"]);
        const { ms } = await eventually("only the r2 replicas, both up", 30_000, async () => {
            const ts = byInstance(await svcTargets());
            return JSON.stringify(ts) === JSON.stringify({ "svc-r2-1:8080": "up", "svc-r2-2:8080": "up" }) ? ts : undefined;
        });
        timings.rolloutTargetsMs = ms;
    });

    it("drops the service's targets when the service is removed", async () => {
        const up = await h.up(await record(port, undefined));
        assert.deepEqual(up.steps.filter(s => s.logical === "obs-prometheus").map(s => s.op), ["same"]);
        const { ms } = await eventually("no svc targets", 30_000, async () => ((await svcTargets()).length === 0 ? true : undefined));
        timings.removedTargetsMs = ms;
        const prom = h.containers.get("obs-prometheus")!;
        const ls = await h.exec(prom, ["ls", "-A", "/etc/prometheus/targets"]);
        assert.equal(ls.output.trim(), "", "the removed writer took its file with it");
    });
});
