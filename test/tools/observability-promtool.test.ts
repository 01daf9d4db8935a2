// The generated Prometheus documents checked by the real promtool (Debian's package, installed by
// scripts/ensure-promtool.sh when missing): syntax, config, and alert behaviour on series placed
// just above and just below every threshold, on the services' real bucket layout (the example
// API's, which Observability declares by default). The unit tests are generated from the rules'
// arguments (test/tools/observability-scenarios.ts); the production one is also kept as a golden.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { normalizeObservability, NormalizedAlerts } from "../../components/observability/normalize";
import { prometheusYaml, RULES_RELATIVE_PATH, TARGETS_DIR, targetsFileJson } from "../../components/observability/prometheus-config";
import { alertNames, rulesYaml } from "../../components/observability/rules";
import type { ObservabilityArgs } from "../../components/observability";
import { describeScenarios, promtoolTests } from "./observability-scenarios";

const ROOT = path.resolve(__dirname, "../..");
const GOLDEN = path.join(ROOT, "test/golden/observability-rules.promtool-test.yml");
const dockerTarget = (production: boolean) =>
    ({ kind: "docker", environment: production ? "prod" : "dev", production, namePrefix: "slipway-dev", publishAddress: "127.0.0.1", labels: {} }) as never;

function promtool(): string {
    const r = spawnSync("bash", [path.join(ROOT, "scripts/ensure-promtool.sh")], { encoding: "utf8", timeout: 540_000 });
    if (r.status !== 0) assert.fail(`promtool is required and could not be installed:\n${r.stdout}\n${r.stderr}`);
    return r.stdout.trim().split("\n").pop()!;
}

const normalized = (args: Partial<ObservabilityArgs> = {}, production = true) =>
    normalizeObservability("obs", { target: dockerTarget(production), prometheus: { scrape: ["node-exporter:9100"] }, ...args });

/** Every rule family on: the production profile, with the gateway's 5xx rules. */
const full = (a: NormalizedAlerts): NormalizedAlerts => ({ ...a, gateway: true });

const render = (doc: unknown) => YAML.stringify(doc, { lineWidth: 0, sortMapEntries: false });

/** prometheus.yml + rules/ + a promtool test, in a temp dir laid out like /etc/prometheus. */
function layout(rules: NormalizedAlerts, tests: NormalizedAlerts = rules, args: Partial<ObservabilityArgs> = {}) {
    const n = normalized(args);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-prom-"));
    fs.mkdirSync(path.join(dir, "rules"));
    fs.writeFileSync(path.join(dir, "prometheus.yml"), prometheusYaml({ ...n, prometheus: n.prometheus! }));
    fs.writeFileSync(path.join(dir, RULES_RELATIVE_PATH), rulesYaml(rules));
    fs.writeFileSync(path.join(dir, "rules/tests.yml"), render(promtoolTests(tests, path.basename(RULES_RELATIVE_PATH))));
    return dir;
}

describe("Observability rules under promtool", function () {
    this.timeout(600_000);
    let bin: string;
    const dirs: string[] = [];
    const timings: Record<string, number> = {};
    before(() => { bin = promtool(); });
    after(() => {
        dirs.forEach(d => fs.rmSync(d, { recursive: true, force: true }));
        console.log(`      timings (ms): ${JSON.stringify(timings)}`);
    });

    const run = (what: string, dir: string, ...args: string[]) => {
        const t0 = Date.now();
        const r = spawnSync(bin, args, { cwd: dir, encoding: "utf8", timeout: 120_000 });
        timings[what] = Date.now() - t0;
        return { ok: r.status === 0, out: `${r.stdout}\n${r.stderr}` };
    };

    it("passes `promtool check rules` with every rule family (production, gateway scraped)", () => {
        const a = full(normalized().alerts);
        const dir = layout(a); dirs.push(dir);
        const r = run("checkRules", dir, "check", "rules", RULES_RELATIVE_PATH);
        assert.ok(r.ok, r.out);
        assert.match(r.out, new RegExp(`SUCCESS: ${alertNames(a).length} rules found`));
    });

    it("passes `promtool check config`, resolving the rule file relative to prometheus.yml", () => {
        const n = normalized();
        const dir = layout(n.alerts); dirs.push(dir);
        const r = run("checkConfig", dir, "check", "config", "prometheus.yml");
        assert.ok(r.ok, r.out);
        assert.match(r.out, /SUCCESS: \d+ rules found/);
    });

    it("passes `promtool check config` with extra static targets and linked services' target files", () => {
        const n = normalized({ prometheus: { scrape: ["node-exporter:9100", { name: "worker", port: 9100 }] } });
        const dir = layout(n.alerts, n.alerts, { prometheus: { scrape: ["node-exporter:9100", { name: "worker", port: 9100 }] } }); dirs.push(dir);
        // The file_sd glob pointed into the temp dir: promtool then parses every file it matches.
        const cfg = path.join(dir, "prometheus.yml");
        fs.writeFileSync(cfg, fs.readFileSync(cfg, "utf8").replace(TARGETS_DIR, path.join(dir, "targets")));
        fs.mkdirSync(path.join(dir, "targets"));
        fs.writeFileSync(path.join(dir, "targets/api-0123456789.json"), targetsFileJson({ service: "api", hosts: ["api-1", "api-2"], port: 3000, release: "7c1d" }));
        const r = run("checkConfigTargets", dir, "check", "config", "prometheus.yml");
        assert.ok(r.ok, r.out);
        assert.match(fs.readFileSync(cfg, "utf8"), /- worker:9100/);
        // Control: the target files are read, a malformed one fails the check.
        fs.writeFileSync(path.join(dir, "targets/bad.json"), JSON.stringify([{ targets: ["x:1"], labels: { "not a label": "x" } }]));
        const bad = run("checkConfigBad", dir, "check", "config", "prometheus.yml");
        assert.equal(bad.ok, false, bad.out);
        assert.match(bad.out, /checking SD file .*"not a label" is not a valid label name/);
    });

    it("keeps the generated production unit test as a golden (review it: it says what fires where)", () => {
        const doc = render(promtoolTests(full(normalized().alerts), path.basename(RULES_RELATIVE_PATH)));
        const header = [
            "# Generated by test/tools/observability-scenarios.ts from the default production alerts (gateway scraped).",
            "# Regenerate with UPDATE_GOLDEN=1. Each test asserts every alert of the rules file at each eval_time:",
            ...describeScenarios(full(normalized().alerts)).map(l => `#   ${l}`),
            "",
        ].join("\n");
        if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(GOLDEN, header + doc);
        assert.equal(header + doc, fs.readFileSync(GOLDEN, "utf8"), "test/golden/observability-rules.promtool-test.yml changed: review, then UPDATE_GOLDEN=1");
    });

    it("fires each production alert just above its threshold and stays quiet just below, on the example API's buckets (1.01 s requests included)", () => {
        const a = full(normalized().alerts);
        assert.deepEqual(a.metrics.buckets, [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10]);
        const dir = layout(a); dirs.push(dir);
        const r = run("testProduction", dir, "test", "rules", "rules/tests.yml");
        assert.ok(r.ok, r.out);
        assert.match(r.out, /SUCCESS/);
        const lines = describeScenarios(a);
        assert.ok(lines.some(l => /every request takes 1\.01s, on the service's buckets .*: SlipwayLatencyP95Warning\{one-second\}$/.test(l)), lines.join("\n"));
        assert.ok(lines.some(l => /on the old buckets .*SlipwayLatencyBucketMissing\{old-layout\}/.test(l)), lines.join("\n"));
    });

    it("fires only the criticals, after the longer dev `for:`, in the dev profile", () => {
        const a = { ...normalized({}, false).alerts, gateway: true };
        assert.equal(a.profile, "dev");
        const dir = layout(a); dirs.push(dir);
        const r = run("testDev", dir, "test", "rules", "rules/tests.yml");
        assert.ok(r.ok, r.out);
        const names = alertNames(a);
        const present = YAML.parse(fs.readFileSync(path.join(dir, RULES_RELATIVE_PATH), "utf8")).groups.flatMap((g: { rules: { alert: string }[] }) => g.rules.map(x => x.alert));
        assert.deepEqual(present, ["SlipwayLatencyP95Critical", "SlipwayErrorRateCritical", "SlipwayGatewayErrorRateCritical", "SlipwayReplicasMissing", "SlipwayCacheDown"]);
        assert.ok(names.length > present.length);
    });

    it("holds for thresholds moved to other bounds, with their own `for:` (the tests follow the arguments)", () => {
        const a = full(normalized({ alerts: { latencyP95WarningMs: 250, latencyP95CriticalMs: 1000, errorRateWarning: 0.02, errorRateCritical: 0.1, goroutines: 50, residentMemoryMiB: 64, requestRateBaseline: "1h", requestRateFloor: 5, for: { latency: 3, replicas: 1 } } }).alerts);
        const dir = layout(a); dirs.push(dir);
        const r = run("testMoved", dir, "test", "rules", "rules/tests.yml");
        assert.ok(r.ok, r.out);
    });

    it("fails the same unit test when the rules move (the tests are not vacuous)", () => {
        const a = full(normalized().alerts);
        // Rules with other lines, judged by the default's expectations.
        for (const [what, moved] of [
            ["latency", { latencyP95CriticalMs: 5000 }],
            ["error rate", { errorRateWarning: 0.02 }],
            ["goroutines", { goroutines: 1001 }],
        ] as const) {
            const dir = layout(full(normalized({ alerts: moved }).alerts), a); dirs.push(dir);
            const r = run(`testVacuous ${what}`, dir, "test", "rules", "rules/tests.yml");
            assert.equal(r.ok, false, `${what}: ${r.out}`);
        }
        // And the old interpolating rule, on the example API's buckets: the 1.01 s case pages.
        const dir = layout(a); dirs.push(dir);
        const file = path.join(dir, RULES_RELATIVE_PATH);
        const doc = YAML.parse(fs.readFileSync(file, "utf8"));
        const crit = doc.groups[0].rules.find((x: { alert: string }) => x.alert === "SlipwayLatencyP95Critical");
        crit.expr = "histogram_quantile(0.95, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m]))) > 2";
        fs.writeFileSync(file, render(doc));
        const r = run("testOldRule", dir, "test", "rules", "rules/tests.yml");
        assert.equal(r.ok, false, r.out);
        assert.match(r.out, /alertname: SlipwayLatencyP95Critical/);
    });
});
