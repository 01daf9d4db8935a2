import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { normalizeObservability } from "../../components/observability/normalize";
import { prometheusConfig, prometheusYaml, targetsFileJson } from "../../components/observability/prometheus-config";
import { alertRules, rulesYaml } from "../../components/observability/rules";
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
    const n = normalizeObservability("obs", { target, prometheus: { scrape: ["node-exporter:9100", { name: "worker", port: 9100 }] } });

    it("matches the golden rules and prometheus.yml byte for byte", () => {
        golden("observability-rules.yml", rulesYaml(n.alerts));
        golden("observability-prometheus.yml", prometheusYaml({ ...n, prometheus: n.prometheus! }));
    });

    it("is deterministic and independent of the order services are listed in", () => {
        const m = normalizeObservability("obs", { target, prometheus: { scrape: [{ name: "worker", port: 9100 }, "node-exporter:9100"] } });
        assert.equal(prometheusYaml({ ...m, prometheus: m.prometheus! }), prometheusYaml({ ...n, prometheus: n.prometheus! }));
        assert.equal(rulesYaml(n.alerts), rulesYaml({ ...n.alerts }));
    });

    it("turns millisecond thresholds into bucket bounds in seconds and ratios into the 5xx comparison", () => {
        const m = normalizeObservability("obs", { target, alerts: { profile: "production", latencyP95WarningMs: 250, latencyP95CriticalMs: 1000, errorRateWarning: 0.02, errorRateCritical: 0.1, forMinutes: 10 } });
        const rules = alertRules(m.alerts);
        const byName = Object.fromEntries(rules.groups.flatMap(g => g.rules).map(r => [r.alert, r]));
        assert.match(byName.SlipwayLatencyP95Warning!.expr, /_bucket\{le="0\.25"\}\[5m\]\)\) \/ sum by \(job\) \(rate\(http_request_duration_seconds_count\[5m\]\)\) < 0\.95$/);
        assert.match(byName.SlipwayLatencyP95Critical!.expr, /^sum by \(job\) \(rate\(http_request_duration_seconds_bucket\{le=~"1\|1\\\\\.0"\}\[5m\]\)\)/);
        assert.match(byName.SlipwayErrorRateWarning!.expr, /status=~"5\.\."\}\[5m\]\)\) \/ sum by \(job\) \(rate\(http_requests_total\[5m\]\)\) > 0\.02$/);
        assert.equal(byName.SlipwayErrorRateCritical!.labels.severity, "critical");
        assert.equal(byName.SlipwayLatencyP95Warning!.for, "10m");
        assert.match(byName.SlipwayErrorRateCritical!.annotations.summary, /above 10%/);
    });

    it("reads linked services from file_sd files in the targets directory, and loads the rules relative to the config", () => {
        const m = normalizeObservability("obs", { target, prometheus: { metricsPath: "/internal/metrics" } });
        const cfg = YAML.parse(prometheusYaml({ ...m, prometheus: m.prometheus! }));
        assert.deepEqual(cfg.rule_files, ["rules/slipway-alerts.yml"]);
        assert.deepEqual(cfg.scrape_configs, [
            { job_name: "prometheus", static_configs: [{ targets: ["localhost:9090"] }] },
            {
                job_name: "linked-services", metrics_path: "/internal/metrics",
                file_sd_configs: [{ files: ["/etc/prometheus/targets/*.json"], refresh_interval: "30s" }],
            },
        ]);
        // Nothing in it depends on which services link: a dedicated metrics port goes into their files.
        const p9100 = normalizeObservability("obs", { target, prometheus: { metricsPath: "/internal/metrics", port: 9100 } });
        assert.equal(prometheusYaml({ ...p9100, prometheus: p9100.prometheus! }), prometheusYaml({ ...m, prometheus: m.prometheus! }));
    });

    it("scrapes extra targets statically at host:port, one job each named after the host", () => {
        const cfg = prometheusConfig({ ...n, prometheus: n.prometheus! });
        assert.deepEqual(cfg.scrape_configs.slice(2), [
            { job_name: "node-exporter", metrics_path: "/metrics", static_configs: [{ targets: ["node-exporter:9100"] }] },
            { job_name: "worker", metrics_path: "/metrics", static_configs: [{ targets: ["worker:9100"] }] },
        ]);
    });

    it("writes a service's target file: every replica host on the port, job and release labels, hosts in replica order", () => {
        const json = targetsFileJson({ service: "api", hosts: ["api-7c1d-1", "api-7c1d-2"], port: 3000, release: "7c1d" });
        assert.deepEqual(JSON.parse(json), [{ targets: ["api-7c1d-1:3000", "api-7c1d-2:3000"], labels: { job: "api", release: "7c1d", replicas: "2" } }]);
        assert.equal(json, targetsFileJson({ service: "api", hosts: ["api-7c1d-1", "api-7c1d-2"], port: 3000, release: "7c1d" }));
        assert.ok(json.endsWith("\n"));
    });

    it("maps the `for` minutes to the smallest covering App Platform window", () => {
        assert.deepEqual([1, 5, 6, 10, 11, 30, 31, 60].map(alertWindow),
            ["FIVE_MINUTES", "FIVE_MINUTES", "TEN_MINUTES", "TEN_MINUTES", "THIRTY_MINUTES", "THIRTY_MINUTES", "ONE_HOUR", "ONE_HOUR"]);
    });
});
