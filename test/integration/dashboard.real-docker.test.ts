// Issue 10, acceptance 4: every PromQL expression of the generated Grafana dashboard is accepted by
// the running Prometheus's query API, and so is every alert rule (Prometheus loads the rule file
// and evaluates each rule without error). A program with a DockerHost, an Observability (Prometheus
// published on a free port of 127.0.0.1) and one example-API replica handed over as a linked
// service, recorded under mocks and applied by the honest harness. The replica serves a little
// traffic first, so the queries also return the real service's series: the bucket the critical
// rule reads (le="2") is the one the example API really exposes. Traffic: 127.0.0.1 and the run's
// own network; every wait is bounded.
import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import { RecordedResource, Recorder } from "../../components/testing/recorder";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import { dashboardExpressions, GrafanaDashboard } from "../../components/observability/dashboard";
import { DockerHarness, ensureImages } from "./harness";
import { eventually, getJson, httpJson } from "./probes";
import { freePort } from "../helpers/caddy";

/** POST a form to Prometheus's query API: its status code and JSON body. */
async function post(port: number, path: string, form: Record<string, string>): Promise<{ code: number; body: any }> {
    const r = await httpJson(port, "POST", path, { form, timeoutMs: 10_000 });
    return { code: r.status, body: r.json };
}

const PROMETHEUS_REF = "slipway/prometheus:local";
const API_REF = "slipway/example-api:local";
const SCRAPE_SECONDS = 5;




/** Host, Observability (production profile: every rule) and one linked example-API replica, "svc". */
async function record(publishPort: number): Promise<{ resources: RecordedResource[]; dashboard: GrafanaDashboard }> {
    const rec = await Recorder.start({ project: "dash-it", stack: "it", outputs: fakeProviderOutputs });
    const docker = await import("@pulumi/docker");
    const { DockerHost } = await import("../../components/targets/docker-host");
    const { Observability } = await import("../../components/observability");
    const target = new DockerHost("host", { environment: "it", production: true }).target;
    const obs = new Observability("obs", { target, prometheus: { image: PROMETHEUS_REF, publishPort, scrapeIntervalSeconds: SCRAPE_SECONDS } });
    const opts = { provider: target.provider };
    const image = new docker.RemoteImage("svc-image", { name: API_REF, keepLocally: true }, opts);
    const host = "svc-r1-1";
    const replica = new docker.Container(host, {
        image: image.imageId,
        envs: ["PORT=8080", "OTEL_SERVICE_NAME=svc"],
        networksAdvanced: [{ name: target.networkName, aliases: [host] }],
        healthcheck: { tests: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1"], interval: "1s", timeout: "3s", retries: 3, startPeriod: "1s" },
        user: "10001:10001", capabilities: { drops: ["ALL"] }, securityOpts: ["no-new-privileges:true"],
        memory: 64, memorySwap: 64, stopTimeout: 5, destroyGraceSeconds: 5, wait: true, waitTimeout: 60,
    }, opts);
    obs.link({ service: "svc", port: 8080 }).docker!.scrape!.addTargets({ service: "svc", hosts: [host], port: 8080, release: "r1" }, [replica]);
    await rec.settle();
    assert.ok(obs.dashboardJson, "a docker Observability with Prometheus has a dashboard");
    return { resources: [...rec.resources], dashboard: JSON.parse(obs.dashboardJson!) };
}

describe("The Grafana dashboard against a running Prometheus", function () {
    this.timeout(300_000);
    let h: DockerHarness;
    let port: number;
    let dashboard: GrafanaDashboard;
    const timings: Record<string, number> = {};

    before(async function () {
        this.timeout(1_200_000); // a cold machine starts dockerd and builds the images here
        let t0 = Date.now();
        const images = ensureImages(["prometheus", "api"]);
        timings.imagesMs = Date.now() - t0;
        const runId = randomBytes(4).toString("hex");
        h = new DockerHarness({
            runId, nameSuffix: `-d${runId}`,
            imageMap: { [PROMETHEUS_REF]: images.SLIPWAY_IMAGE_PROMETHEUS!, [API_REF]: images.SLIPWAY_IMAGE_API! },
        });
        port = await freePort();
        const recorded = await record(port);
        dashboard = recorded.dashboard;
        t0 = Date.now();
        await h.apply(recorded.resources);
        await h.waitHealthy([h.containers.get("obs-prometheus")!], 60_000);
        timings.applyAndPrometheusHealthyMs = Date.now() - t0;
        // Some traffic, from inside the replica (its port is not published): fast and 1.01 s requests.
        t0 = Date.now();
        const svc = h.containers.get("svc-r1-1")!;
        const load = await h.exec(svc, ["sh", "-c",
            "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O /dev/null http://127.0.0.1:8080/health; done; "
            + "wget -q -O /dev/null 'http://127.0.0.1:8080/v1/slow?ms=1010'; wget -q -O /dev/null http://127.0.0.1:8080/nope; echo done"]);
        assert.match(load.output, /done/);
        timings.trafficMs = Date.now() - t0;
    });

    after(async function () {
        this.timeout(120_000);
        if (h) await h.cleanup();
        console.log(`      timings: ${JSON.stringify(timings)}`);
    });

    it("accepts every expression of the dashboard (POST /api/v1/query, status success)", async () => {
        const exprs = dashboardExpressions(dashboard);
        assert.ok(exprs.length >= 12, `${exprs.length} expressions`);
        const t0 = Date.now();
        const failed: string[] = [];
        for (const { panel, expr } of exprs) {
            const r = await post(port, "/api/v1/query", { query: expr });
            if (r.code !== 200 || r.body.status !== "success") failed.push(`${panel}: ${expr}\n  -> ${r.code} ${JSON.stringify(r.body).slice(0, 300)}`);
        }
        timings.queriesMs = Date.now() - t0;
        assert.deepEqual(failed, []);
        // Control: the same endpoint refuses a malformed expression, so "success" means something.
        const bad = await post(port, "/api/v1/query", { query: "sum by (job (rate(http_requests_total[1m]))" });
        assert.equal(bad.body.status, "error");
        assert.equal(bad.body.errorType, "bad_data");
    });

    it("returns the example API's series for them: request rate, and the share within 2 s read from its real le=\"2\" bucket", async () => {
        const byPanel = (title: string) => dashboardExpressions(dashboard).filter(e => e.panel === title).map(e => e.expr);
        const { value: rate, ms } = await eventually("svc's request rate", 4 * SCRAPE_SECONDS * 1000 + 20_000, async () => {
            const r = await post(port, "/api/v1/query", { query: byPanel("Request rate")[0]! });
            const svc = r.body.data.result.find((x: any) => x.metric.job === "svc");
            return svc && Number(svc.value[1]) > 0 ? svc : undefined;
        });
        timings.seriesMs = ms;
        assert.ok(Number(rate.value[1]) > 0);
        const [within500, within2s] = byPanel("Requests within the latency alert lines");
        const r2 = await post(port, "/api/v1/query", { query: within2s! });
        const svc2 = r2.body.data.result.find((x: any) => x.metric.job === "svc");
        assert.ok(svc2, `the critical line's bucket is found on the real API: ${JSON.stringify(r2.body.data.result)}`);
        assert.ok(Number(svc2.value[1]) > 0 && Number(svc2.value[1]) <= 1, svc2.value[1]);
        const r5 = await post(port, "/api/v1/query", { query: within500! });
        assert.ok(r5.body.data.result.some((x: any) => x.metric.job === "svc"));
        const buckets = await post(port, "/api/v1/query", { query: 'count by (le) (http_request_duration_seconds_bucket{job="svc"})' });
        const les = buckets.body.data.result.map((x: any) => x.metric.le).sort((a: string, b: string) => Number(a) - Number(b));
        assert.ok(les.includes("2") && les.includes("0.5"), `the example API exposes le="0.5" and le="2": ${les.join(", ")}`);
    });

    it("loads every alert rule, and evaluates each without error", async () => {
        const { value, ms } = await eventually("every rule evaluated", 60_000, async () => {
            const r = await getJson(port, "/api/v1/rules?type=alert");
            const rules = r.data.groups.flatMap((g: any) => g.rules);
            return rules.length && rules.every((x: any) => x.lastEvaluation && !x.lastEvaluation.startsWith("0001")) ? rules : undefined;
        });
        timings.rulesEvaluatedMs = ms;
        const bad = value.filter((x: any) => x.health !== "ok").map((x: any) => `${x.name}: ${x.health} ${x.lastError}`);
        assert.deepEqual(bad, []);
        assert.ok(value.some((x: any) => x.name === "SlipwayLatencyP95Critical"));
        assert.ok(value.some((x: any) => x.name === "SlipwayReplicasMissing"));
        // A 1.01 s request among fast ones is no critical latency: nothing of the kind is pending.
        const crit = value.find((x: any) => x.name === "SlipwayLatencyP95Critical");
        assert.deepEqual(crit.alerts, []);
    });
});
