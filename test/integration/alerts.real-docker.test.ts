// Alerts that reach a person, on a real Docker engine: Prometheus, Alertmanager, a service of two
// example-API replicas linked to the Observability, and a receiver standing in for Slack (busybox
// httpd with a CGI script that records every POST to a file) on the stack's own network, recorded
// under mocks and applied by the honest harness. Every replica stopped: the outage alert reaches
// the critical receiver within the rule's `for:` plus a bounded margin, with its severity, service
// and summary; started again: the resolved notification follows. Alertmanager's API (published on
// 127.0.0.1) shows grouping and inhibition on hand-made alerts. The webhook URLs are in no env, no
// command, no config and no log. Traffic: 127.0.0.1 and the run's own network; every wait bounded.
import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import { RecordedResource, Recorder } from "../../components/testing/recorder";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import { declareReceiverAndService, receivedPosts, titlesAt } from "./alert-receiver";
import { DockerHarness, ensureImages } from "./harness";
import { eventually, httpJson } from "./probes";
import { freePort } from "../helpers/caddy";

const PROMETHEUS_REF = "slipway/prometheus:local";
const ALERTMANAGER_REF = "slipway/alertmanager:local";
const API_REF = "slipway/example-api:local";
const BASE_REF = "slipway/base:local";
const SCRAPE_SECONDS = 5;
const request = (port: number, method: string, path: string, body?: unknown) => httpJson(port, method, path, { body });
/** The outage rule's `for:`, set short through the Args. */
const FOR_MINUTES = 1;
const GROUP_INTERVAL_SECONDS = 5;
/** The receiver's records: one file per POST, named `<path after /hook/>-<unique>.json`. */
describe("Alerts on a real Docker engine: an outage reaches the critical receiver, and its end follows", function () {
    this.timeout(600_000);
    const token = randomBytes(8).toString("hex");
    /** The receivers' URLs: each carries the token, which must show up nowhere but in the files Alertmanager reads. */
    const url = (name: string) => `http://rcv:8080/cgi-bin/hook/${name}-${token}`;
    let h: DockerHarness;
    let amPort: number;
    let promPort: number;
    const timings: Record<string, number> = {};

    /** The program: host, Observability with Prometheus and Alertmanager, the receiver, two replicas of "svc". */
    async function record(): Promise<RecordedResource[]> {
        const rec = await Recorder.start({ project: "am-it", stack: "it", outputs: fakeProviderOutputs });
        const { DockerHost } = await import("../../components/targets/docker-host");
        const { Observability } = await import("../../components/observability");
        const target = new DockerHost("host", { environment: "amit" }).target;
        const obs = new Observability("obs", {
            target,
            prometheus: { image: PROMETHEUS_REF, publishPort: promPort, scrapeIntervalSeconds: SCRAPE_SECONDS },
            // Production's rule set (warnings too), with the outage rules' `for:` made short.
            alerts: { profile: "production", for: { replicas: FOR_MINUTES, targetDown: FOR_MINUTES } },
            alertmanager: {
                image: ALERTMANAGER_REF,
                publishPort: amPort,
                webhookReceivers: [
                    { name: "warning", url: url("warning"), severity: "warning" },
                    { name: "critical", url: url("critical"), severity: "critical" },
                    // Nothing listens on port 9: every notification to it fails, and is logged.
                    { name: "refused", url: `http://rcv:9/refused-${token}`, severity: "critical" },
                ],
                groupWaitSeconds: 1, groupIntervalSeconds: GROUP_INTERVAL_SECONDS, repeatIntervalMinutes: 60,
            },
        });
        await declareReceiverAndService(target, obs);
        await rec.settle();
        return [...rec.resources];
    }

    const received = () => receivedPosts(h);
    const titles = titlesAt;
    const running = async (name: string) => (await h.inspect(h.containers.get(name)!)).State.Running as boolean;

    before(async function () {
        this.timeout(1_200_000); // a cold machine starts dockerd and builds the images here
        const images: Record<string, string | undefined> = { ...ensureImages(["prometheus", "api", "alertmanager"]) };
        const runId = randomBytes(4).toString("hex");
        h = new DockerHarness({
            runId, namePrefix: "slipway-am-t", nameSuffix: `-t${runId}`,
            imageMap: {
                [PROMETHEUS_REF]: images.SLIPWAY_IMAGE_PROMETHEUS!, [ALERTMANAGER_REF]: images.SLIPWAY_IMAGE_ALERTMANAGER!,
                [API_REF]: images.SLIPWAY_IMAGE_API!, [BASE_REF]: images.SLIPWAY_IMAGE_BASE!,
            },
        });
        [amPort, promPort] = [await freePort(), await freePort()];
        const t0 = Date.now();
        await h.apply(await record());
        await h.waitHealthy(["obs-prometheus", "obs-alertmanager"].map(n => h.containers.get(n)!), 60_000);
        timings.applyAndHealthyMs = Date.now() - t0;
    });

    after(async function () {
        this.timeout(120_000);
        if (h) await h.cleanup();
        console.log(`      timings: ${JSON.stringify(timings)}`);
    });

    it("has Prometheus sending to the Alertmanager and scraping both replicas with their declared count", async () => {
        const { ms } = await eventually("an active Alertmanager and both replicas up", 60_000, async () => {
            const am = (await request(promPort, "GET", "/api/v1/alertmanagers")).json.data.activeAlertmanagers;
            const ts = (await request(promPort, "GET", "/api/v1/targets?state=active")).json.data.activeTargets.filter((t: any) => t.labels.job === "svc");
            return am.length === 1 && ts.length === 2 && ts.every((t: any) => t.health === "up" && t.labels.replicas === "2") ? am : undefined;
        });
        timings.wiredMs = ms;
        assert.equal((await received()).length, 0, "nothing notified while all is well");
    });

    it("groups by alertname and service, and a critical silences the warning of the same family (the rules' two lines) and service", async () => {
        const endsAt = new Date(Date.now() + 10 * 60_000).toISOString();
        const alert = (severity: string, service: string) => ({
            // As the rules name them: two alertnames, one family.
            labels: { alertname: `SlipwayTestInhibit${severity === "critical" ? "Critical" : "Warning"}`, family: "SlipwayTestInhibit", severity, service },
            annotations: { summary: `${severity} ${service} by hand` }, endsAt,
        });
        const post = await request(amPort, "POST", "/api/v2/alerts", [alert("critical", "one"), alert("warning", "one"), alert("warning", "two")]);
        assert.equal(post.status, 200, JSON.stringify(post.json));
        const { value } = await eventually("the hand-made notifications", 30_000, async () => {
            const rs = await received();
            return titles(rs, "critical").some(t => t.includes("SlipwayTestInhibitCritical one")) && titles(rs, "warning").some(t => t.includes("SlipwayTestInhibitWarning two")) ? rs : undefined;
        });
        // Leave time for a wrongly uninhibited warning to arrive too.
        await new Promise(r => setTimeout(r, 3000));
        const rs = await received();
        assert.deepEqual(titles(rs, "warning").filter(t => t.includes("SlipwayTestInhibit")), ["[FIRING:1] SlipwayTestInhibitWarning two (warning)"]);
        assert.deepEqual(titles(rs, "critical").filter(t => t.includes("SlipwayTestInhibit")), ["[FIRING:1] SlipwayTestInhibitCritical one (critical)"]);
        const inhibited = (await request(amPort, "GET", "/api/v2/alerts?filter=family%3D%22SlipwayTestInhibit%22")).json
            .map((a: any) => [a.labels.severity, a.labels.service, a.status.state, a.status.inhibitedBy.length > 0]).sort();
        assert.deepEqual(inhibited, [["critical", "one", "active", false], ["warning", "one", "suppressed", true], ["warning", "two", "active", false]]);
        assert.ok(value.length >= 2);
        // Resolve them now, so they do not mix with the outage below.
        await request(amPort, "POST", "/api/v2/alerts", ["critical", "warning"].flatMap(s => ["one", "two"].map(svc => ({ ...alert(s, svc), endsAt: new Date().toISOString() }))));
    });

    it("delivers the outage to the critical receiver within for: + a bounded margin, with severity, service and summary", async () => {
        const before = (await received()).length;
        const t0 = Date.now();
        await Promise.all(["svc-1", "svc-2"].map(n => h.engine.request("POST", `/containers/${encodeURIComponent(h.containers.get(n)!)}/stop?t=5`, { ok: [304], timeoutMs: 30_000 })));
        timings.stoppedMs = Date.now() - t0;
        // for: plus two scrapes (the failed ones), two evaluations, group_wait and the POST.
        const budget = FOR_MINUTES * 60_000 + 4 * SCRAPE_SECONDS * 1000 + 15_000;
        const { value, ms } = await eventually("the outage notification", budget, async () => {
            const rs = (await received()).slice(before).filter(r => r.path.startsWith("critical"));
            return rs.find(r => r.body.attachments.some(a => /^\[FIRING:\d+\] SlipwayReplicasMissing svc \(critical\)$/.test(a.title)));
        }, 2000);
        timings.outageNotifiedMs = Date.now() - t0;
        assert.ok(ms <= budget);
        // A scrape that timed out on a loaded machine just before the stop may start the pending
        // period early: allow two scrape intervals of it, never less than for: minus that.
        assert.ok(Date.now() - t0 >= FOR_MINUTES * 60_000 - 2 * SCRAPE_SECONDS * 1000, "not before the rule's for:");
        const a = value.body.attachments[0]!;
        assert.match(a.text, /^\*critical\* svc: svc runs 0 of 2 declared replicas$/m);
        assert.equal(a.color, "danger");
        // The warning receiver hears of each replica (production profile), never of the critical.
        const { value: warned } = await eventually("the warning notifications", 60_000, async () => {
            const t = titles((await received()).slice(before), "warning");
            return t.some(x => /SlipwayTargetDown svc \(warning\)/.test(x)) ? t : undefined;
        }, 2000);
        assert.ok(warned.every(t => !t.includes("(critical)")), warned.join("\n"));
        assert.ok(!(await running("svc-1")) && !(await running("svc-2")));
    });

    it("sends the resolved notification once the replicas are back", async () => {
        const before = (await received()).length;
        const t0 = Date.now();
        await Promise.all(["svc-1", "svc-2"].map(n => h.engine.request("POST", `/containers/${encodeURIComponent(h.containers.get(n)!)}/start`, { ok: [304], timeoutMs: 30_000 })));
        // Two scrapes up, one evaluation, Prometheus' resolve to Alertmanager, one group_interval.
        const budget = 4 * SCRAPE_SECONDS * 1000 + 2 * GROUP_INTERVAL_SECONDS * 1000 + 20_000;
        const { value } = await eventually("the resolved notification", budget, async () => {
            const rs = (await received()).slice(before).filter(r => r.path.startsWith("critical"));
            return rs.find(r => r.body.attachments.some(a => a.title === "[RESOLVED] SlipwayReplicasMissing svc (critical)"));
        }, 2000);
        timings.resolvedNotifiedMs = Date.now() - t0;
        assert.equal(value.body.attachments[0]!.color, "good");
        assert.match(value.body.attachments[0]!.text, /\*critical\* svc: /);
    });

    it("keeps the webhook URLs out of every env, command, config and log, while the failing receiver is logged", async () => {
        const am = h.containers.get("obs-alertmanager")!;
        const inspect = JSON.stringify((await h.inspect(am)).Config);
        assert.ok(!inspect.includes(token), "not in env, command or labels");
        const config = (await h.exec(am, ["cat", "/etc/alertmanager/alertmanager.yml"])).output;
        assert.ok(!config.includes(token) && config.includes("api_url_file: /etc/alertmanager/secrets/webhook-critical.url"));
        const file = await h.exec(am, ["sh", "-c", "ls -ln /etc/alertmanager/secrets; cat /etc/alertmanager/secrets/webhook-critical.url"]);
        assert.match(file.output, /-r--r--r-- +1 0 +0 .* webhook-critical\.url/);
        assert.ok(file.output.includes(url("critical")), "the file holds the URL Alertmanager posts to");
        const { value: logs } = await eventually("a logged failure of the refused receiver", 30_000, async () => {
            const l = await h.logs(am, 2000);
            return /Notify for alerts failed|Notify attempt failed/.test(l) ? l : undefined;
        });
        assert.ok(!logs.includes(token), `Alertmanager's log names no URL:\n${logs.split("\n").filter(l => l.includes(token)).join("\n")}`);
        assert.ok(!(await h.logs(h.containers.get("obs-prometheus")!, 2000)).includes(token), "nor Prometheus' log");
    });
});
