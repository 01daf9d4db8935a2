// Issue 10: alert rules that are right for the buckets the services really expose, their
// arguments (thresholds, `for:`, profile, declared histogram), the loopback OTLP refusal, the
// App Platform equivalents and the Grafana dashboard. Pure: normalize and the document builders,
// plus one build per refusal to show nothing registers.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { SlipwayConfigError } from "../../components/core/errors";
import { dashboardExpressions, dashboardJson, DASHBOARD_SCHEMA_VERSION, grafanaDashboard } from "../../components/observability/dashboard";
import { serviceAlerts, uptimePeriod } from "../../components/observability/do-app";
import { DEFAULTS, normalizeObservability } from "../../components/observability/normalize";
import { alertNames, alertRules, leMatcher, MAX_DECLARED_REPLICAS, rulesYaml } from "../../components/observability/rules";
import type { ObservabilityArgs } from "../../components/observability";
import { expectConfigError } from "../helpers/config-error";
import { dockerTarget, freshRecorder } from "../helpers/harness";

const ROOT = path.resolve(__dirname, "../..");
const GOLDEN = path.join(ROOT, "test/golden");
const docker = (production: boolean) =>
    ({ kind: "docker", environment: production ? "prod" : "dev", production, namePrefix: "slipway", publishAddress: "127.0.0.1", labels: {} }) as never;
const doApp = { kind: "do-app", environment: "prod", production: true, appName: "shop-api", region: "fra" } as never;
const norm = (args: Partial<ObservabilityArgs> = {}, production = true) => normalizeObservability("obs", { target: docker(production), ...args });

function golden(file: string, actual: string) {
    const p = path.join(GOLDEN, file);
    if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(p, actual);
    assert.ok(fs.existsSync(p), `missing golden ${file}: run with UPDATE_GOLDEN=1`);
    assert.equal(actual, fs.readFileSync(p, "utf8"), `${file} changed: review, then UPDATE_GOLDEN=1`);
}

function refuses(args: Partial<ObservabilityArgs>, path: string, problem: RegExp, fix: RegExp, target: never = docker(true)) {
    let err: unknown;
    try { normalizeObservability("obs", { target, ...args }); } catch (e) { err = e; }
    assert.ok(err instanceof SlipwayConfigError, `expected a SlipwayConfigError, got ${err}`);
    assert.equal(err.propertyPath, path, err.message);
    assert.match(err.problem, problem);
    assert.match(err.fix, fix);
    return err;
}

const rulesByName = (a: ReturnType<typeof norm>["alerts"]) => Object.fromEntries(alertRules(a).groups.flatMap(g => g.rules).map(r => [r.alert, r]));

describe("Observability alerts (issue 10)", () => {
    describe("the declared histogram", () => {
        it("defaults to exactly the buckets examples/api exposes (LatencyBuckets in server.go)", () => {
            const go = fs.readFileSync(path.join(ROOT, "examples/api/server.go"), "utf8");
            const m = /var LatencyBuckets = \[\]float64\{([^}]*)\}/.exec(go);
            assert.ok(m, "server.go declares LatencyBuckets");
            const exposed = m[1]!.split(",").map(s => Number(s.trim()));
            assert.deepEqual(norm().alerts.metrics.buckets, exposed);
            assert.match(go, /Name: "http_request_duration_seconds"/);
            assert.match(go, /Name: "http_requests_total"/);
            assert.match(go, /\[\]string\{"method", "route", "status"\}/);
            assert.deepEqual(norm().alerts.metrics, { ...DEFAULTS.metrics, buckets: exposed });
        });

        it("holds both default latency lines as bounds (500 ms and 2 s)", () => {
            const { buckets } = norm().alerts.metrics;
            assert.ok(buckets.includes(0.5) && buckets.includes(2));
        });

        it("refuses a latency threshold that is not a bound, naming the bucket to add and the nearest bounds", () => {
            refuses({ alerts: { latencyP95WarningMs: 750 } }, "alerts.latencyP95WarningMs",
                /750 ms is not a bound of http_request_duration_seconds's buckets \(0\.005, .*, 10 s\), so a P95 above it cannot be told exactly/,
                /add 0\.75 to the service's histogram buckets and to metrics\.buckets, or use a bound \(500 or 1000 ms\)/);
            // The issue's layout: .5, 1, 2.5, 5, no 2 s bound, against the default critical line.
            refuses({ metrics: { buckets: [0.5, 1, 2.5, 5] } }, "alerts.latencyP95CriticalMs", /2000 ms is not a bound .*\(0\.5, 1, 2\.5, 5 s\)/, /add 2 to the service's histogram buckets .*\(1000 or 2500 ms\)/);
            // Past the last bound: only the one below is offered.
            refuses({ alerts: { latencyP95CriticalMs: 20_000 } }, "alerts.latencyP95CriticalMs", /20000 ms is not a bound/, /or use a bound \(10000 ms\)/);
        });

        it("accepts any bound of declared buckets, and other metric names", () => {
            const a = norm({ metrics: { histogram: "api_latency_seconds", buckets: [0.1, 0.3, 1.5], requests: "api_requests_total", statusLabel: "code" }, alerts: { latencyP95WarningMs: 300, latencyP95CriticalMs: 1500 } }).alerts;
            const r = rulesByName(a);
            assert.equal(r.SlipwayLatencyP95Warning!.expr, 'sum by (job) (rate(api_latency_seconds_bucket{le="0.3"}[5m])) / sum by (job) (rate(api_latency_seconds_count[5m])) < 0.95');
            assert.match(r.SlipwayErrorRateCritical!.expr, /api_requests_total\{code=~"5\.\."\}/);
        });

        it("refuses buckets that are not ascending positive bounds, a series name for the histogram, and bad names", () => {
            refuses({ metrics: { buckets: [] } }, "metrics.buckets", /is not a list of bucket bounds/, /upper bounds in seconds/);
            refuses({ metrics: { buckets: [0.5, 2, 1] } }, "metrics.buckets[2]", /1 does not follow 2/, /ascending order/);
            refuses({ metrics: { buckets: [0.5, Infinity] as number[] } }, "metrics.buckets", /not a list of bucket bounds/, /no \+Inf/);
            refuses({ metrics: { histogram: "http_request_duration_seconds_bucket" } }, "metrics.histogram", /names one of the histogram's series/, /"http_request_duration_seconds"/);
            refuses({ metrics: { requests: "http requests" } }, "metrics.requests", /not a Prometheus metric name/, /http_requests_total/);
            refuses({ metrics: { statusLabel: "status-code" } }, "metrics.statusLabel", /not a label name/, /"status"/);
        });
    });

    describe("the rules", () => {
        it("state P95 > T exactly as a bucket share below 95 %, reading the bucket whichever way the scrape wrote `le`", () => {
            const r = rulesByName(norm().alerts);
            assert.equal(r.SlipwayLatencyP95Warning!.expr,
                'sum by (job) (rate(http_request_duration_seconds_bucket{le="0.5"}[5m])) / sum by (job) (rate(http_request_duration_seconds_count[5m])) < 0.95');
            assert.equal(r.SlipwayLatencyP95Critical!.expr,
                'sum by (job) (rate(http_request_duration_seconds_bucket{le=~"2|2\\\\.0"}[5m])) / sum by (job) (rate(http_request_duration_seconds_count[5m])) < 0.95');
            assert.ok(!JSON.stringify(alertRules(norm().alerts)).includes("histogram_quantile"), "no rule interpolates");
            // The matcher's regex, as Prometheus reads it (anchored), against both renderings.
            const re = (m: string) => new RegExp(`^(?:${JSON.parse(/le=~(".*")/.exec(m)![1]!)})$`);
            assert.ok(re(leMatcher(2)).test("2") && re(leMatcher(2)).test("2.0") && !re(leMatcher(2)).test("2.5") && !re(leMatcher(2)).test("20"));
            assert.equal(leMatcher(0.25), 'le="0.25"');
        });

        it("give every threshold and `for:` its argument, with the seed's defaults", () => {
            const a = norm().alerts;
            assert.deepEqual([a.latencyP95WarningMs, a.latencyP95CriticalMs, a.errorRateWarning, a.errorRateCritical], [500, 2000, 0.01, 0.05]);
            assert.deepEqual(a.for, { latency: 5, errorRate: 5, targetDown: 2, replicas: 5, requestRate: 15, runtime: 15 });
            const m = norm({ alerts: { errorRateWarning: 0.02, errorRateCritical: 0.1, goroutines: 5000, residentMemoryMiB: 900, requestRateDrop: 0.25, requestRateSpike: 5, requestRateFloor: 3, requestRateBaseline: "1w", forMinutes: 7, for: { targetDown: 1, runtime: 60 } } }).alerts;
            const r = rulesByName(m);
            assert.match(r.SlipwayErrorRateWarning!.expr, /> 0\.02$/);
            assert.match(r.SlipwayErrorRateCritical!.expr, /> 0\.1$/);
            assert.equal(r.SlipwayGoroutinesHigh!.expr, "go_goroutines > 5000");
            assert.equal(r.SlipwayMemoryHigh!.expr, `process_resident_memory_bytes > ${900 * 1024 * 1024}`);
            assert.equal(r.SlipwayRequestRateDrop!.expr,
                "sum by (job) (rate(http_requests_total[10m])) < 0.25 * sum by (job) (rate(http_requests_total[10m] offset 1w)) and on (job) sum by (job) (rate(http_requests_total[10m] offset 1w)) >= 3");
            assert.equal(r.SlipwayRequestRateSpike!.expr,
                "sum by (job) (rate(http_requests_total[10m])) > 5 * sum by (job) (rate(http_requests_total[10m] offset 1w)) and sum by (job) (rate(http_requests_total[10m])) >= 3");
            assert.deepEqual(Object.fromEntries(Object.values(r).map(x => [x.alert, x.for])), {
                SlipwayLatencyP95Warning: "7m", SlipwayLatencyP95Critical: "7m", SlipwayErrorRateWarning: "7m", SlipwayErrorRateCritical: "7m",
                SlipwayLatencyBucketMissing: "7m", SlipwayRequestRateDrop: "15m", SlipwayRequestRateSpike: "15m",
                SlipwayTargetDown: "1m", SlipwayReplicasMissing: "5m", SlipwayGoroutinesHigh: "60m", SlipwayMemoryHigh: "60m",
                // The cache's: down follows targetDown, memory the runtime rules.
                SlipwayCacheDown: "1m", SlipwayCacheMemoryNearLimit: "60m",
            });
            assert.equal(r.SlipwayCacheDown!.expr, "redis_up == 0");
            assert.equal(r.SlipwayCacheMemoryNearLimit!.expr, "redis_memory_used_bytes / (redis_memory_max_bytes > 0) > 0.9");
            assert.equal(m.forMinutes, 7);
        });

        it("label every alert with its severity and the service (the job) Alertmanager groups by", () => {
            for (const r of alertRules({ ...norm().alerts, gateway: true }).groups.flatMap(g => g.rules)) {
                assert.ok(["warning", "critical"].includes(r.labels.severity), r.alert);
                assert.equal(r.labels.service, "{{ $labels.job }}", r.alert);
            }
        });

        it("count healthy replicas against the declared `replicas` label, for every count a service can declare", () => {
            const r = rulesByName(norm().alerts).SlipwayReplicasMissing!;
            const terms = r.expr.split(" or ");
            assert.equal(terms.length, MAX_DECLARED_REPLICAS);
            assert.equal(terms[0], 'sum by (job, replicas) (up{replicas="1"}) < 1');
            assert.equal(terms[19], 'sum by (job, replicas) (up{replicas="20"}) < 20');
            assert.equal(r.labels.severity, "critical");
            assert.equal(rulesByName(norm().alerts).SlipwayTargetDown!.expr, "up == 0");
        });

        it("covers every replica count ApiService accepts (its bound is MAX_DECLARED_REPLICAS)", async () => {
            const { normalizeApiService } = await import("../../components/api-service/normalize");
            const target = await dockerTarget();
            const build = (replicas: number) => () => normalizeApiService("api", { target, image: "slipway/example-api:1.0", replicas } as never);
            assert.doesNotThrow(build(MAX_DECLARED_REPLICAS));
            assert.throws(build(MAX_DECLARED_REPLICAS + 1), /replicas/);
        });

        it("add the gateway's 5xx rules only when the gateway's metrics are scraped, from the counter that has a status", () => {
            assert.ok(!alertRules(norm().alerts).groups.flatMap(g => g.rules).some(r => r.alert.startsWith("SlipwayGateway")));
            const r = rulesByName({ ...norm().alerts, gateway: true });
            assert.equal(r.SlipwayGatewayErrorRateCritical!.expr,
                'sum by (job) (rate(slipway_gateway_request_duration_seconds_count{job="gateway",code=~"5.."}[5m])) / sum by (job) (rate(slipway_gateway_request_duration_seconds_count{job="gateway"}[5m])) > 0.05');
        });

        it("default to the dev profile off production: criticals only, each with a longer `for:`", () => {
            const dev = norm({}, false).alerts;
            assert.equal(dev.profile, "dev");
            assert.deepEqual(dev.for, { latency: 15, errorRate: 15, targetDown: 10, replicas: 15, requestRate: 30, runtime: 30 });
            const rules = alertRules({ ...dev, gateway: true }).groups.flatMap(g => g.rules);
            assert.deepEqual(rules.map(r => [r.alert, r.for]), [
                ["SlipwayLatencyP95Critical", "15m"], ["SlipwayErrorRateCritical", "15m"], ["SlipwayGatewayErrorRateCritical", "15m"], ["SlipwayReplicasMissing", "15m"], ["SlipwayCacheDown", "10m"],
            ]);
            assert.equal(norm({ alerts: { profile: "production" } }, false).alerts.profile, "production");
            assert.equal(norm({ alerts: { profile: "dev" } }, true).alerts.profile, "dev");
            assert.equal(alertNames(dev).length, 15, "alertNames lists every rule whatever the profile");
        });

        it("match the golden rules of both profiles byte for byte", () => {
            golden("observability-rules.production.yml", rulesYaml(norm().alerts));
            golden("observability-rules.yml", rulesYaml(norm({ prometheus: { scrape: ["node-exporter:9100", { name: "worker", port: 9100 }] } }, false).alerts));
            assert.ok(YAML.parse(rulesYaml(norm().alerts)).groups.length === 4, "http, targets, runtime, cache");
        });

        it("refuse unknown `for:` families, a bad profile, and out-of-range request-rate arguments", () => {
            refuses({ alerts: { for: { latencey: 3 } as never } }, "alerts.for.latencey", /is not a known setting/, /did you mean "latency"\? \(known: latency, errorRate, targetDown, replicas, requestRate, runtime\)/);
            refuses({ alerts: { for: { latency: 0 } } }, "alerts.for.latency", /1 to 1440/, /between 1 and 1440/);
            refuses({ alerts: { profile: "staging" as never } }, "alerts.profile", /"staging" is not supported/, /dev, production/);
            refuses({ alerts: { requestRateDrop: 1.5 } }, "alerts.requestRateDrop", /ratio between 0 and 1/, /0\.01/);
            refuses({ alerts: { requestRateSpike: 1 } }, "alerts.requestRateSpike", /from 1\.01 to 1000, got 1/, /as 3/);
            refuses({ alerts: { requestRateBaseline: "2d" as never } }, "alerts.requestRateBaseline", /"2d" is not supported/, /1h, 1d, 1w/);
        });
    });

    describe("OTLP", () => {
        it("refuses a loopback endpoint: it is each service container's own", () => {
            for (const endpoint of ["http://127.0.0.1:4318", "http://localhost:4318", "http://[::1]:4318", "http://0.0.0.0:4318", "http://127.1.2.3:4318/"]) {
                refuses({ otel: { endpoint } }, "otel.endpoint", /is the loopback of each service's own container, where no collector listens/,
                    /run a collector on the Docker host's network and use its name, e.g\. "http:\/\/otel-collector:4318", or remove otel/);
            }
            refuses({ otel: { endpoint: "http://localhost:4318" } }, "otel.endpoint", /loopback/, /App Platform runs no sidecar/, doApp);
            assert.equal(norm({ otel: { endpoint: "http://otel-collector:4318" } }).otel!.endpoint, "http://otel-collector:4318");
            assert.equal(norm({ otel: { endpoint: "http://127.example.com:4318" } }).otel!.endpoint, "http://127.example.com:4318");
        });

        it("registers nothing when it refuses (through the component)", async () => {
            const rec = await freshRecorder();
            const target = await dockerTarget();
            const { Observability } = await import("../../components/observability");
            await expectConfigError(rec, () => new Observability("obs", { target, otel: { endpoint: "http://127.0.0.1:4318" } }),
                { component: `Observability "obs"`, path: "otel.endpoint", problem: /loopback/, fix: /otel-collector/ });
            await expectConfigError(rec, () => new Observability("obs", { target, alerts: { latencyP95CriticalMs: 1500 } }),
                { component: `Observability "obs"`, path: "alerts.latencyP95CriticalMs", problem: /not a bound/, fix: /add 1\.5 to the service's histogram buckets/ });
        });

        it("is not set in the dev stack file", () => {
            const dev = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
            assert.equal(dev.config["slipway:observability"].otel, undefined);
        });
    });

    describe("App Platform", () => {
        const n = normalizeObservability("obs", { target: doApp, destinations: { emails: ["crit@example.com"], warning: { emails: ["warn@example.com"] } } });

        it("sends CPU and memory alerts to the warning destinations, restarts to the critical ones", () => {
            const emails = (a: ReturnType<typeof serviceAlerts>[number]) => (a.destinations as { emails?: string[] } | undefined)?.emails;
            assert.deepEqual(serviceAlerts(n).map(a => [a.rule, a.value, a.window, emails(a)]), [
                ["CPU_UTILIZATION", 80, "FIVE_MINUTES", ["warn@example.com"]],
                ["MEM_UTILIZATION", 80, "FIVE_MINUTES", ["warn@example.com"]],
                ["RESTART_COUNT", 3, "FIVE_MINUTES", ["crit@example.com"]],
            ]);
            // Without a warning set, warnings go where criticals go.
            const one = normalizeObservability("obs", { target: doApp, destinations: { emails: ["a@example.com"] } });
            assert.deepEqual(serviceAlerts(one).map(emails), [["a@example.com"], ["a@example.com"], ["a@example.com"]]);
        });

        it("uses only the component rules the provider accepts", () => {
            const schema = JSON.parse(fs.readFileSync(path.join(ROOT, "test/fixtures/shared/schemas/do-app-spec.schema.json"), "utf8"));
            const rules: string[] = schema.$defs.app_alert_spec_rule.enum;
            for (const rule of serviceAlerts(n).map(a => a.rule as string)) {
                assert.ok(rules.includes(rule), rule);
                assert.ok(["CPU_UTILIZATION", "MEM_UTILIZATION", "RESTART_COUNT"].includes(rule), `${rule}: the Pulumi/Terraform provider refuses other component rules`);
            }
            // The API knows a P95 rule; the provider's component alert schema does not take it.
            assert.ok(rules.includes("REQUEST_DURATION_P95_MS"));
        });

        it("turns `for:` minutes into the smallest uptime period that covers them", () => {
            assert.deepEqual([1, 2, 3, 4, 5, 10, 11, 15, 30, 45, 60, 120].map(uptimePeriod), ["2m", "2m", "3m", "5m", "5m", "10m", "15m", "15m", "30m", "1h", "1h", "1h"]);
        });

        it("refuses a bad warning destination with its own path", () => {
            refuses({ destinations: { warning: { emails: ["nope"] } } }, "destinations.warning.emails[0]", /"nope" is not an email address/, /oncall@example\.com/, doApp);
        });
    });

    describe("the Grafana dashboard", () => {
        const n = norm();
        const d = grafanaDashboard(n);

        it("is importable: schemaVersion, a datasource variable, every panel and query by that uid", () => {
            assert.equal(d.schemaVersion, DASHBOARD_SCHEMA_VERSION);
            const ds = d.templating.list.find(v => v.name === "datasource")!;
            assert.deepEqual([ds.type, ds.query], ["datasource", "prometheus"]);
            const svc = d.templating.list.find(v => v.name === "service")!;
            assert.deepEqual([svc.type, svc.includeAll, svc.multi, svc.definition], ["query", true, true, "label_values(http_requests_total, job)"]);
            const panels = d.panels.filter(p => p.type !== "row");
            assert.ok(panels.length >= 8);
            for (const p of panels) {
                assert.deepEqual(p.datasource, { type: "prometheus", uid: "${datasource}" }, p.title);
                for (const t of p.targets!) assert.deepEqual(t.datasource, { type: "prometheus", uid: "${datasource}" }, p.title);
            }
            assert.equal(new Set(d.panels.map(p => p.id)).size, d.panels.length, "panel ids are unique");
            assert.ok(d.uid.length <= 40);
            assert.deepEqual(JSON.parse(dashboardJson(n)), d);
            assert.equal(dashboardJson(n), dashboardJson(norm()), "deterministic");
        });

        it("has the seed's panels on the declared metrics: request rate, latency percentiles, error rate, memory, goroutines", () => {
            const titles = d.panels.map(p => p.title);
            for (const t of ["Request rate", "Latency percentiles", "5xx error rate", "Resident memory", "Goroutines", "Healthy replicas"]) assert.ok(titles.includes(t), t);
            const exprs = dashboardExpressions(d).map(e => e.expr);
            assert.ok(exprs.some(e => e.includes('histogram_quantile(0.95, sum by (job, le) (rate(http_request_duration_seconds_bucket{job=~".*"}[1m])))')));
            assert.ok(exprs.some(e => e.includes('le=~"2|2\\\\.0"')), "the share within the critical line, as the rule reads it");
            assert.ok(exprs.every(e => !e.includes("$")), "Grafana variables are substituted");
            const other = dashboardExpressions(grafanaDashboard(norm({ metrics: { histogram: "api_latency_seconds", buckets: [0.5, 2], requests: "api_requests_total" } })));
            assert.ok(other.some(e => e.expr.includes("api_latency_seconds_bucket")) && other.every(e => !/(^|[^_])http_request/.test(e.expr)));
        });

        it("matches the golden dashboard", () => {
            golden("observability-dashboard.json", dashboardJson(norm({}, false)));
        });
    });
});
