import type { Target } from "../../components/core/target";
import { Recorder } from "../../components/testing/recorder";
import { expectConfigError } from "../helpers/config-error";
import { dockerTarget, doTarget, freshRecorder } from "../helpers/harness";

describe("Observability bad input", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    /** Build with a target made beforehand (see expectConfigError). */
    async function rejects(target: Target, args: Record<string, unknown>, path: string, problem: RegExp, fix: RegExp) {
        const { Observability } = await import("../../components/observability");
        return expectConfigError(rec, () => new Observability("obs", { target, ...args }),
            { component: `Observability "obs"`, path, problem, fix });
    }

    it("rejects an OTLP endpoint that is not an http(s) URL", async () => {
        await rejects(await dockerTarget(), { otel: { endpoint: "collector:4318" } }, "otel.endpoint", /"collector:4318" is not an http\(s\) URL/, /full URL/);
    });

    it("rejects otel together with newRelic", async () => {
        await rejects(await doTarget(), { otel: { endpoint: "https://o.example.com" }, newRelic: { licenseKey: "k" } }, "newRelic", /set together with otel/, /not both/);
    });

    it("rejects an unknown OTLP protocol", async () => {
        await rejects(await dockerTarget(), { otel: { endpoint: "http://c:4318", protocol: "http/json" } }, "otel.protocol", /"http\/json" is not supported/, /http\/protobuf, grpc/);
    });

    it("rejects a header name with a space", async () => {
        await rejects(await dockerTarget(), { otel: { endpoint: "http://c:4318", headers: { "api key": "x" } } }, "otel.headers.api key", /not an HTTP header name/, /letters, digits/);
    });

    it("rejects a warning latency at or above the critical one", async () => {
        await rejects(await dockerTarget(), { alerts: { latencyP95WarningMs: 3000 } }, "alerts.latencyP95WarningMs", /warning \(3000 ms\) must be below critical/, /raise alerts.latencyP95CriticalMs/);
    });

    it("rejects an error rate written as a percentage", async () => {
        await rejects(await dockerTarget(), { alerts: { errorRateCritical: 5 } }, "alerts.errorRateCritical", /ratio between 0 and 1, got 5/, /0\.01/);
    });

    it("rejects a CPU threshold above 100%", async () => {
        await rejects(await doTarget(), { alerts: { cpuPercent: 120 } }, "alerts.cpuPercent", /from 1 to 100, got 120/, /between 1 and 100/);
    });

    it("rejects an uptime check with nowhere to send alerts", async () => {
        await rejects(await doTarget(), { uptime: { url: "https://api.example.com/health" } }, "uptime", /nowhere to send its alerts/, /destinations\.emails/);
    });

    it("rejects an uptime check on a private address", async () => {
        await rejects(await doTarget(), { uptime: { url: "http://10.0.0.5/health" }, destinations: { emails: ["a@example.com"] } }, "uptime.url", /no public hostname/, /public URL/);
    });

    it("rejects a camelCase uptime region", async () => {
        await rejects(await doTarget(), { uptime: { url: "https://a.example.com", regions: ["usEast"] }, destinations: { emails: ["a@example.com"] } }, "uptime.regions[0]", /"usEast" is not supported/, /us_east/);
    });

    it("rejects a log destination with two providers", async () => {
        await rejects(await doTarget(), { logDestinations: [{ name: "logs", logtail: { token: "t" }, datadog: { apiKey: "k" } }] }, "logDestinations[0]", /sets datadog and logtail/, /exactly one of papertrail/);
    });

    it("rejects a malformed email destination", async () => {
        await rejects(await doTarget(), { destinations: { emails: ["oncall"] } }, "destinations.emails[0]", /"oncall" is not an email address/, /oncall@example\.com/);
    });

    it("rejects a Slack webhook that is not a Slack URL", async () => {
        await rejects(await doTarget(), { destinations: { slackWebhooks: [{ url: "https://example.com/hook", channel: "#a" }] } }, "destinations.slackWebhooks[0].url", /not a Slack incoming-webhook URL/, /hooks\.slack\.com/);
    });

    it("rejects extra scrape targets without a port, listed twice, reserved, or that are linked services", async () => {
        await rejects(await dockerTarget(), { prometheus: { scrape: ["api"] } }, "prometheus.scrape[0]", /"api" has no port/, /"host:port" or \{ name, port \}/);
        await rejects(await dockerTarget(), { prometheus: { scrape: ["worker:70000"] } }, "prometheus.scrape[0]", /port 70000 is not from 1 to 65535/, /"host:port"/);
        await rejects(await dockerTarget(), { prometheus: { scrape: [{ name: "worker" }] } }, "prometheus.scrape[0].port", /is missing/, /port its metrics are served on/);
        await rejects(await dockerTarget(), { prometheus: { scrape: [{ name: "worker", port: 0 }] } }, "prometheus.scrape[0].port", /from 1 to 65535, got 0/, /between 1 and 65535/);
        await rejects(await dockerTarget(), { prometheus: { scrape: [{ name: "bad name", port: 9100 }] } }, "prometheus.scrape[0]", /"bad name" is not a host name/, /"host:port"/);
        await rejects(await dockerTarget(), { prometheus: { scrape: [{ name: "worker", port: 9100 }, "worker:9200"] } }, "prometheus.scrape[1]", /"worker" is listed twice/, /each host once/);
        await rejects(await dockerTarget(), { prometheus: { scrape: ["prometheus:9090"] } }, "prometheus.scrape[0]", /job Prometheus' config defines itself/, /another name/);
        const service = { endpoint: { name: "api", port: 3000 } };
        await rejects(await dockerTarget(), { prometheus: { scrape: [service] } }, "prometheus.scrape[0]", /linked services are scraped on their own port/, /`link` list/);
    });

    it("rejects a Sentry DSN that is not one", async () => {
        await rejects(await dockerTarget(), { sentry: { dsn: "abc123" } }, "sentry.dsn", /not a Sentry DSN/, /Client Keys/);
    });
});
