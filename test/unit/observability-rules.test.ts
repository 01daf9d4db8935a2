import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { DEFAULTS, normalizeObservability } from "../../components/observability/normalize";
import { alertRules, prometheusConfig, prometheusYaml, rulesYaml } from "../../components/observability/rules";
import { alertWindow } from "../../components/observability/do-app";

const target = { kind: "docker", environment: "dev", production: false, namePrefix: "slipway-dev", publishAddress: "127.0.0.1", labels: {} } as never;
const GOLDEN = path.resolve(__dirname, "../golden");

function golden(file: string, actual: string) {
    const p = path.join(GOLDEN, file);
    if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(p, actual);
    assert.ok(fs.existsSync(p), `missing golden ${file}: run with UPDATE_GOLDEN=1`);
    assert.equal(actual, fs.readFileSync(p, "utf8"), `${file} changed: review, then UPDATE_GOLDEN=1`);
}

describe("Observability rule generation", () => {
    const n = normalizeObservability("obs", { target, prometheus: { scrape: ["worker", "api"] } });

    it("matches the golden rules and prometheus.yml byte for byte", () => {
        golden("observability-rules.yml", rulesYaml(n.alerts));
        golden("observability-prometheus.yml", prometheusYaml({ ...n, prometheus: n.prometheus! }));
    });

    it("is deterministic and independent of the order services are listed in", () => {
        const m = normalizeObservability("obs", { target, prometheus: { scrape: ["api", "worker"] } });
        assert.equal(prometheusYaml({ ...m, prometheus: m.prometheus! }), prometheusYaml({ ...n, prometheus: n.prometheus! }));
        assert.equal(rulesYaml(n.alerts), rulesYaml({ ...n.alerts }));
    });

    it("turns millisecond thresholds into seconds and ratios into the 5xx comparison", () => {
        const rules = alertRules({ ...DEFAULTS.alerts, latencyP95WarningMs: 250, latencyP95CriticalMs: 1500, errorRateWarning: 0.02, errorRateCritical: 0.1, forMinutes: 10 });
        const byName = Object.fromEntries(rules.groups.flatMap(g => g.rules).map(r => [r.alert, r]));
        assert.match(byName.SlipwayLatencyP95Warning!.expr, /\) > 0\.25$/);
        assert.match(byName.SlipwayLatencyP95Critical!.expr, /\) > 1\.5$/);
        assert.match(byName.SlipwayLatencyP95Critical!.expr, /^histogram_quantile\(0\.95, sum by \(le, job\) \(rate\(http_request_duration_seconds_bucket\[5m\]\)\)\)/);
        assert.match(byName.SlipwayErrorRateWarning!.expr, /status=~"5\.\."\}\[5m\]\)\) \/ sum by \(job\) \(rate\(http_requests_total\[5m\]\)\) > 0\.02$/);
        assert.equal(byName.SlipwayErrorRateCritical!.labels.severity, "critical");
        assert.equal(byName.SlipwayLatencyP95Warning!.for, "10m");
        assert.match(byName.SlipwayErrorRateCritical!.annotations.summary, /above 10%/);
    });

    it("scrapes every replica of each service through DNS A records, and loads the rules relative to the config", () => {
        const m = normalizeObservability("obs", { target, prometheus: { scrape: ["worker", "api"], port: 9100, metricsPath: "/internal/metrics" } });
        const cfg = YAML.parse(prometheusYaml({ ...m, prometheus: m.prometheus! }));
        assert.deepEqual(cfg.rule_files, ["rules/slipway-alerts.yml"]);
        const api = cfg.scrape_configs.find((s: { job_name: string }) => s.job_name === "api");
        assert.deepEqual(api.dns_sd_configs, [{ names: ["api"], type: "A", port: 9100, refresh_interval: "30s" }]);
        assert.equal(api.metrics_path, "/internal/metrics");
        assert.deepEqual(prometheusConfig({ ...n, prometheus: n.prometheus! }).scrape_configs.map(s => s.job_name), ["prometheus", "api", "worker"]);
    });

    it("scrapes each service on its own port: a Routable's, a { name, port }'s, or prometheus.port for a name", () => {
        const routable = { endpoint: { name: "api", port: 3000, replicas: 2, dialHosts: ["api-1", "api-2"], healthPath: "/health", readyPath: "/ready" } };
        const m = normalizeObservability("obs", { target, prometheus: { scrape: [routable, { name: "worker", port: 9100 }, { name: "billing" }, "legacy"] } });
        const cfg = YAML.parse(prometheusYaml({ ...m, prometheus: m.prometheus! }));
        const ports = Object.fromEntries(cfg.scrape_configs.slice(1).map((s: any) => [s.job_name, s.dns_sd_configs.map((d: any) => [d.names, d.port])]));
        assert.deepEqual(ports, {
            api: [[["api"], 3000]], billing: [[["billing"], 8080]], legacy: [[["legacy"], 8080]], worker: [[["worker"], 9100]],
        });
        assert.deepEqual(cfg.scrape_configs.map((s: any) => s.job_name), ["prometheus", "api", "billing", "legacy", "worker"]);
    });

    it("maps the `for` minutes to the smallest covering App Platform window", () => {
        assert.deepEqual([1, 5, 6, 10, 11, 30, 31, 60].map(alertWindow),
            ["FIVE_MINUTES", "FIVE_MINUTES", "TEN_MINUTES", "TEN_MINUTES", "THIRTY_MINUTES", "THIRTY_MINUTES", "ONE_HOUR", "ONE_HOUR"]);
    });
});
