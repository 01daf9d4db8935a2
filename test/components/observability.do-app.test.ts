import { strict as assert } from "assert";
import { isSecretValue, redact, Recorder, valueOf } from "../../components/testing/recorder";
import { doTarget, freshRecorder } from "../helpers/harness";

const CHECK = "digitalocean:index/uptimeCheck:UptimeCheck";
const ALERT = "digitalocean:index/uptimeAlert:UptimeAlert";
const HOOK = "https://hooks.slack.com/services/T000/B000/secret-hook";
const DESTS = { emails: ["oncall@example.com"], slackWebhooks: [{ url: HOOK, channel: "#alerts" }] };

describe("Observability on do-app", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    async function build(args: Record<string, unknown> = {}) {
        const { Observability } = await import("../../components/observability");
        const target = await doTarget();
        const obs = new Observability("obs", { target, ...args });
        await rec.settle();
        return { obs, target };
    }

    it("contributes app-level DEPLOYMENT_FAILED and DOMAIN_FAILED alerts carrying the destinations", async () => {
        const { obs } = await build({ destinations: DESTS });
        assert.equal(obs.appPart!.owner, 'Observability "obs"');
        const alerts = obs.appPart!.alerts!;
        assert.deepEqual(alerts.map(a => a.rule), ["DEPLOYMENT_FAILED", "DOMAIN_FAILED"]);
        const d = alerts[0]!.destinations as { emails: string[]; slackWebhooks: { url: unknown; channel: string }[] };
        assert.deepEqual(d.emails, ["oncall@example.com"]);
        assert.equal(d.slackWebhooks[0]!.channel, "#alerts");
        assert.equal(await valueOf(d.slackWebhooks[0]!.url as string), HOOK);
        assert.equal(rec.resources.filter(r => r.custom).length, 0, "no uptime check unless asked");
    });

    it("gives each linked service CPU, memory and restart alerts at the thresholds, and the log destinations", async () => {
        const { obs } = await build({
            alerts: { cpuPercent: 75, forMinutes: 10 },
            logDestinations: [{ name: "logtail", logtail: { token: "lt-token" } }, { name: "papertrail", papertrail: { endpoint: "syslog+tls://logs.papertrailapp.com:12345" } }],
        });
        const extra = obs.link({ service: "api", port: 8080 }).doApp!;
        assert.deepEqual(extra.alerts!.map(a => [a.rule, a.operator, a.value, a.window]), [
            ["CPU_UTILIZATION", "GREATER_THAN", 75, "TEN_MINUTES"],
            ["MEM_UTILIZATION", "GREATER_THAN", 80, "TEN_MINUTES"],
            ["RESTART_COUNT", "GREATER_THAN", 3, "TEN_MINUTES"],
        ]);
        assert.equal(extra.alerts![0]!.destinations, undefined);
        const logs = extra.logDestinations!;
        assert.deepEqual(logs.map(l => l.name), ["logtail", "papertrail"]);
        const token = (logs[0]!.logtail as { token: unknown }).token;
        assert.equal(await valueOf(token as string), "lt-token");
        const { isSecret, output } = await import("@pulumi/pulumi");
        assert.equal(await isSecret(output(token as string)), true);
        assert.equal((logs[1]!.papertrail as { endpoint: string }).endpoint, "syslog+tls://logs.papertrailapp.com:12345");
    });

    it("sends the service alerts to the emails only: a Slack webhook is a credential and stays out of spec.services", async () => {
        const { obs } = await build({ destinations: DESTS });
        const alerts = obs.link({ service: "api", port: 8080 }).doApp!.alerts!;
        assert.deepEqual(alerts.map(a => a.rule), ["CPU_UTILIZATION", "MEM_UTILIZATION", "RESTART_COUNT"]);
        for (const a of alerts) assert.deepEqual(a.destinations, { emails: ["oncall@example.com"] });
        // Slack only: the service alerts go to App Platform's default (the team's email), not to Slack.
        rec.clear();
        const { obs: slackOnly } = await build({ destinations: { slackWebhooks: DESTS.slackWebhooks } });
        for (const a of slackOnly.link({ service: "api", port: 8080 }).doApp!.alerts!) assert.equal(a.destinations, undefined);
        assert.ok(slackOnly.appPart!.alerts!.every(a => (a.destinations as any).slackWebhooks.length === 1), "the app alerts keep Slack");
    });

    it("in a whole App: no secret in spec.services, the app-level alerts keep Slack", async () => {
        const { obs, target } = await build({ destinations: DESTS, newRelic: { licenseKey: "nr-key" } });
        const { ApiService } = await import("../../components/api-service");
        const { DoApp } = await import("../../components/targets/do-app");
        const api = new ApiService("api", { target, image: "registry.digitalocean.com/acme/api:1.0.0", link: [obs] });
        // The service brings the observability it links, app alerts included.
        const app = new DoApp("app", { target, components: [api], secretValues: "send" });
        await app.app;
        await rec.settle();
        const recorded = rec.ofType("digitalocean:index/app:App")[0]!;
        const wire = (isSecretValue(recorded.wire.spec) ? recorded.wire.spec.value : recorded.wire.spec) as Record<string, unknown>;
        const holdsSecret = (v: unknown): boolean => isSecretValue(v) || (typeof v === "object" && v !== null && Object.values(v).some(holdsSecret));
        assert.equal(holdsSecret(wire.services), false, "a preview shows every service setting");
        assert.equal(holdsSecret(wire.alerts), true, "the app alerts carry the Slack webhook");
        const spec = redact(recorded.inputs.spec, true) as Record<string, any>;
        assert.deepEqual(spec.alerts.map((a: any) => [a.rule, a.destinations.slackWebhooks[0].url]), [["DEPLOYMENT_FAILED", HOOK], ["DOMAIN_FAILED", HOOK]]);
        assert.deepEqual(spec.envs.map((e: any) => [e.key, e.type]), [["OTEL_EXPORTER_OTLP_HEADERS", "SECRET"]], "the OTLP headers are an App-level secret");
        assert.ok(!JSON.stringify(spec.services).includes("hooks.slack.com"));
    });

    it("creates an https uptime check with down, latency and certificate alerts to the same destinations", async () => {
        const { obs } = await build({ uptime: { url: "https://api.example.com/health", regions: ["eu_west"] }, destinations: DESTS });
        const check = rec.get(CHECK, "obs-uptime");
        assert.deepEqual(redact(check.inputs), { name: "shop-api-obs", target: "https://api.example.com/health", type: "https", regions: ["eu_west"], enabled: true });
        const alerts = rec.ofType(ALERT);
        assert.deepEqual(alerts.map(a => a.inputs.type).sort(), ["down", "latency", "ssl_expiry"]);
        const latency = alerts.find(a => a.inputs.type === "latency")!;
        assert.equal(latency.inputs.threshold, 2000);
        assert.equal(latency.inputs.comparison, "greater_than");
        assert.match(latency.inputs.checkId as string, /^obs-uptime-id-/);
        for (const a of alerts) {
            assert.ok(isSecretValue(a.inputs.notifications), "notifications carry the webhook URL, so they are secret");
            assert.deepEqual(redact(a.inputs.notifications, true), [{ emails: ["oncall@example.com"], slacks: [{ url: HOOK, channel: "#alerts" }] }]);
        }
        assert.ok(obs.uptimeCheckId);
    });

    it("skips the certificate alert for plain http", async () => {
        await build({ uptime: { url: "http://api.example.com/health" }, destinations: { emails: ["a@example.com"] } });
        assert.equal(rec.get(CHECK, "obs-uptime").inputs.type, "http");
        assert.deepEqual(rec.ofType(ALERT).map(a => a.inputs.type).sort(), ["down", "latency"]);
    });

    it("uses the App name as service.namespace", async () => {
        const { obs } = await build({ otel: { endpoint: "https://otel.example.com" } });
        const attrs = obs.link({ service: "api", port: 8080 }).env!.find(e => e.key === "OTEL_RESOURCE_ATTRIBUTES")!;
        assert.equal(await valueOf(attrs.value), "deployment.environment=prod,service.namespace=shop-api");
    });
});
