// A bounded burst of 5xx through the gateway reaches the critical receiver, on a real Docker engine
// (issue 10, acceptance 2). Prometheus (scraping the gateway's own metrics), Alertmanager, a Gateway
// in front of two example-API replicas without a database (so GET /ready answers 503), and a
// receiver standing in for Slack (busybox httpd recording every POST) on the stack's own network,
// recorded under mocks and applied by the honest harness. A burst of at most 400 GET /ready over at
// most 60 s to the gateway's port on 127.0.0.1: the gateway's 5xx critical rule reaches the critical
// receiver within its `for:` plus a bounded margin, with severity, service and summary. Traffic:
// 127.0.0.1 and the run's own network; every wait bounded.
import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import { RecordedResource, Recorder } from "../../components/testing/recorder";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import { declareReceiverAndService, receivedPosts } from "./alert-receiver";
import { DockerHarness, ensureImages } from "./harness";
import { eventually, httpJson } from "./probes";
import { freePort } from "../helpers/caddy";

const PROMETHEUS_REF = "slipway/prometheus:local";
const ALERTMANAGER_REF = "slipway/alertmanager:local";
const CADDY_REF = "slipway/caddy:local";
const API_REF = "slipway/example-api:local";
const BASE_REF = "slipway/base:local";
const SCRAPE_SECONDS = 5;
const request = (port: number, method: string, path: string) => httpJson(port, method, path);
/** The error-rate rules' `for:`, set short through the Args. */
const FOR_MINUTES = 1;
/** The burst's bounds: requests, duration and spacing (spread over several scrapes, so rate() sees the counter grow). */
const BURST_MAX_REQUESTS = 400;
const BURST_MAX_MS = 60_000;
const BURST_EVERY_MS = 150;
describe("Alerts on a real Docker engine: a bounded burst of 5xx through the gateway reaches the critical receiver", function () {
    this.timeout(600_000);
    const token = randomBytes(8).toString("hex");
    const url = (name: string) => `http://rcv:8080/cgi-bin/hook/${name}-${token}`;
    let h: DockerHarness;
    let amPort: number;
    let promPort: number;
    let gwPort: number;
    const timings: Record<string, number> = {};
    const burst = { sent: 0, statuses: {} as Record<string, number> };

    /** The program: host, Observability scraping the gateway, the receiver, two replicas of "svc" behind a Gateway. */
    async function record(): Promise<RecordedResource[]> {
        const rec = await Recorder.start({ project: "am5xx-it", stack: "it", outputs: fakeProviderOutputs });
        const { DockerHost } = await import("../../components/targets/docker-host");
        const { Observability } = await import("../../components/observability");
        const { Gateway, gatewayMetricsTarget } = await import("../../components");
        const target = new DockerHost("host", { environment: "am5xxit" }).target;
        const obs = new Observability("obs", {
            target,
            prometheus: { image: PROMETHEUS_REF, publishPort: promPort, scrapeIntervalSeconds: SCRAPE_SECONDS, scrapeGateway: gatewayMetricsTarget("gateway") },
            // Production's rule set, with the error-rate rules' `for:` made short.
            alerts: { profile: "production", for: { errorRate: FOR_MINUTES } },
            alertmanager: {
                image: ALERTMANAGER_REF,
                publishPort: amPort,
                webhookReceivers: [
                    { name: "warning", url: url("warning"), severity: "warning" },
                    { name: "critical", url: url("critical"), severity: "critical" },
                ],
                groupWaitSeconds: 1, groupIntervalSeconds: 5, repeatIntervalMinutes: 60,
            },
        });
        const { hosts, replicas } = await declareReceiverAndService(target, obs);
        // A Routable standing for the two replicas (the gateway health-checks /health, the default).
        const svc = { endpoint: { name: "svc", port: 8080, replicas: 2, dialHosts: hosts, healthPath: "/health", readyPath: "/ready" } };
        new Gateway("gateway", { target, image: CADDY_REF, routes: [{ pathPrefix: "/", service: svc }], publishPort: gwPort }, { dependsOn: replicas });
        await rec.settle();
        return [...rec.resources];
    }

    const received = () => receivedPosts(h);

    before(async function () {
        this.timeout(1_200_000); // a cold machine starts dockerd and builds the images here
        const images: Record<string, string | undefined> = { ...ensureImages(["prometheus", "api", "alertmanager", "caddy"]) };
        const runId = randomBytes(4).toString("hex");
        h = new DockerHarness({
            runId, namePrefix: "slipway-5xx-t", nameSuffix: `-t${runId}`,
            imageMap: {
                [PROMETHEUS_REF]: images.SLIPWAY_IMAGE_PROMETHEUS!, [ALERTMANAGER_REF]: images.SLIPWAY_IMAGE_ALERTMANAGER!,
                [API_REF]: images.SLIPWAY_IMAGE_API!, [BASE_REF]: images.SLIPWAY_IMAGE_BASE!, [CADDY_REF]: images.SLIPWAY_IMAGE_CADDY!,
            },
        });
        [amPort, promPort, gwPort] = [await freePort(), await freePort(), await freePort()];
        const t0 = Date.now();
        await h.apply(await record());
        await h.waitHealthy(["obs-prometheus", "obs-alertmanager", "gateway-caddy"].map(n => h.containers.get(n)!), 60_000);
        timings.applyAndHealthyMs = Date.now() - t0;
    });

    after(async function () {
        this.timeout(120_000);
        if (h) await h.cleanup();
        console.log(`      timings: ${JSON.stringify(timings)}; burst: ${JSON.stringify(burst)}`);
    });

    it("has Prometheus sending to the Alertmanager, scraping the gateway, and the gateway answering /health with 200 and /ready with 503", async () => {
        const { ms } = await eventually("an active Alertmanager, the gateway and both replicas up", 60_000, async () => {
            const am = (await request(promPort, "GET", "/api/v1/alertmanagers")).json.data.activeAlertmanagers;
            const ts = (await request(promPort, "GET", "/api/v1/targets?state=active")).json.data.activeTargets;
            const gw = ts.filter((t: any) => t.labels.job === "gateway");
            const svc = ts.filter((t: any) => t.labels.job === "svc");
            return am.length === 1 && gw.length === 1 && gw[0].health === "up" && svc.length === 2 && svc.every((t: any) => t.health === "up") ? am : undefined;
        });
        timings.wiredMs = ms;
        await eventually("the gateway proxying /health", 30_000, async () => ((await request(gwPort, "GET", "/health")).status === 200 ? true : undefined));
        assert.equal((await request(gwPort, "GET", "/ready")).status, 503);
        const rules = (await request(promPort, "GET", "/api/v1/rules?type=alert")).json.data.groups.flatMap((g: any) => g.rules);
        const gwRule = rules.find((r: any) => r.name === "SlipwayGatewayErrorRateCritical");
        assert.ok(gwRule, `the gateway's critical 5xx rule is loaded: ${rules.map((r: any) => r.name).join(", ")}`);
        assert.equal(gwRule.duration, FOR_MINUTES * 60);
        assert.equal((await received()).length, 0, "nothing notified while all is well");
    });

    it("delivers the gateway's 5xx alert to the critical receiver within for: + a bounded margin, with severity, service and summary", async () => {
        const before = (await received()).length;
        const t0 = Date.now();
        let stop = false;
        // The burst: sequential, spaced, bounded in count and time, to 127.0.0.1 only.
        const burstDone = (async () => {
            while (!stop && burst.sent < BURST_MAX_REQUESTS && Date.now() - t0 < BURST_MAX_MS) {
                burst.sent++;
                const status = await request(gwPort, "GET", "/ready").then(r => String(r.status), e => `error: ${(e as Error).message}`);
                burst.statuses[status] = (burst.statuses[status] ?? 0) + 1;
                await new Promise(r => setTimeout(r, BURST_EVERY_MS));
            }
            timings.burstMs = Date.now() - t0;
        })();
        try {
            // Two scrapes to see the counter grow, an evaluation, for:, another evaluation, group_wait and the POST.
            const budget = FOR_MINUTES * 60_000 + 4 * SCRAPE_SECONDS * 1000 + 20_000;
            const { value, ms } = await eventually("the gateway 5xx notification", budget, async () => {
                const rs = (await received()).slice(before).filter(r => r.path.startsWith("critical"));
                return rs.find(r => r.body.attachments.some(a => /^\[FIRING:\d+\] SlipwayGatewayErrorRateCritical gateway \(critical\)$/.test(a.title)));
            }, 2000);
            timings.notifiedMs = Date.now() - t0;
            assert.ok(ms <= budget);
            // Two scrape intervals of slack, as in the outage test: a loaded machine shifts evaluation.
            assert.ok(Date.now() - t0 >= FOR_MINUTES * 60_000 - 2 * SCRAPE_SECONDS * 1000, "not before the rule's for:");
            const a = value.body.attachments.find(x => x.title.includes("SlipwayGatewayErrorRateCritical"))!;
            // severity, service (the job `gateway`) and summary, as the receiver renders them.
            assert.match(a.text, /^\*critical\* gateway: 5xx ratio at the gateway is above 5%$/m);
            assert.equal(a.color, "danger");
        } finally {
            stop = true;
            await burstDone;
        }
        assert.ok(burst.sent <= BURST_MAX_REQUESTS && (timings.burstMs ?? 0) <= BURST_MAX_MS + 10_000);
        assert.ok((burst.statuses["503"] ?? 0) > burst.sent / 2, `mostly 503s: ${JSON.stringify(burst.statuses)}`);
        // Alertmanager holds the alert with its labels: severity critical, service gateway.
        const alerts = (await request(amPort, "GET", "/api/v2/alerts?filter=alertname%3D%22SlipwayGatewayErrorRateCritical%22")).json;
        assert.equal(alerts.length, 1, JSON.stringify(alerts));
        assert.equal(alerts[0].labels.severity, "critical");
        assert.equal(alerts[0].labels.service, "gateway");
        assert.match(alerts[0].annotations.summary, /^5xx ratio at the gateway is above 5%$/);
        // The warning receiver never hears of the critical.
        const warned = (await received()).slice(before).filter(r => r.path.startsWith("warning")).flatMap(r => r.body.attachments.map(x => x.title));
        assert.ok(warned.every(t => !t.includes("(critical)")), warned.join("\n"));
    });
});
