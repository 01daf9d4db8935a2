// The generated Prometheus documents checked by the real promtool (Debian's package, installed by
// scripts/ensure-promtool.sh when missing): syntax, config, and alert behaviour on known series.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { normalizeObservability } from "../../components/observability/normalize";
import { prometheusYaml, RULES_RELATIVE_PATH, rulesYaml, TARGETS_DIR, targetsFileJson } from "../../components/observability/rules";
import type { ObservabilityArgs } from "../../components/observability";

const ROOT = path.resolve(__dirname, "../..");
const target = { kind: "docker", environment: "dev", production: false, namePrefix: "slipway-dev", publishAddress: "127.0.0.1", labels: {} } as never;

function promtool(): string {
    const r = spawnSync("bash", [path.join(ROOT, "scripts/ensure-promtool.sh")], { encoding: "utf8", timeout: 540_000 });
    if (r.status !== 0) assert.fail(`promtool is required and could not be installed:\n${r.stdout}\n${r.stderr}`);
    return r.stdout.trim().split("\n").pop()!;
}

/** Writes prometheus.yml + rules/ + the unit test into a temp dir mirroring /etc/prometheus. */
function layout(args: Partial<ObservabilityArgs> = {}) {
    const n = normalizeObservability("obs", { target, prometheus: { scrape: ["node-exporter:9100"] }, ...args });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-prom-"));
    fs.mkdirSync(path.join(dir, "rules"));
    fs.writeFileSync(path.join(dir, "prometheus.yml"), prometheusYaml({ ...n, prometheus: n.prometheus! }));
    fs.writeFileSync(path.join(dir, RULES_RELATIVE_PATH), rulesYaml(n.alerts));
    fs.copyFileSync(path.join(ROOT, "test/golden/observability-rules.promtool-test.yml"), path.join(dir, "rules/tests.yml"));
    return dir;
}

describe("Observability rules under promtool", function () {
    this.timeout(600_000);
    let bin: string;
    const dirs: string[] = [];
    before(() => { bin = promtool(); });
    after(() => dirs.forEach(d => fs.rmSync(d, { recursive: true, force: true })));

    const run = (dir: string, ...args: string[]) => {
        const r = spawnSync(bin, args, { cwd: dir, encoding: "utf8", timeout: 60_000 });
        return { ok: r.status === 0, out: `${r.stdout}\n${r.stderr}` };
    };

    it("passes `promtool check rules` with all five rules", () => {
        const dir = layout(); dirs.push(dir);
        const r = run(dir, "check", "rules", RULES_RELATIVE_PATH);
        assert.ok(r.ok, r.out);
        assert.match(r.out, /SUCCESS: 5 rules found/);
    });

    it("passes `promtool check config`, resolving the rule file relative to prometheus.yml", () => {
        const dir = layout(); dirs.push(dir);
        const r = run(dir, "check", "config", "prometheus.yml");
        assert.ok(r.ok, r.out);
        assert.match(r.out, /SUCCESS: 5 rules found/);
    });

    it("passes `promtool check config` with extra static targets and linked services' target files", () => {
        const dir = layout({ prometheus: { scrape: ["node-exporter:9100", { name: "worker", port: 9100 }] } }); dirs.push(dir);
        // The file_sd glob pointed into the temp dir: promtool then parses every file it matches.
        const cfg = path.join(dir, "prometheus.yml");
        fs.writeFileSync(cfg, fs.readFileSync(cfg, "utf8").replace(TARGETS_DIR, path.join(dir, "targets")));
        fs.mkdirSync(path.join(dir, "targets"));
        fs.writeFileSync(path.join(dir, "targets/api-0123456789.json"), targetsFileJson({ service: "api", hosts: ["api-1", "api-2"], port: 3000, release: "7c1d" }));
        const r = run(dir, "check", "config", "prometheus.yml");
        assert.ok(r.ok, r.out);
        assert.match(fs.readFileSync(cfg, "utf8"), /- worker:9100/);
        // Control: the target files are read, a malformed one fails the check.
        fs.writeFileSync(path.join(dir, "targets/bad.json"), JSON.stringify([{ targets: ["x:1"], labels: { "not a label": "x" } }]));
        const bad = run(dir, "check", "config", "prometheus.yml");
        assert.equal(bad.ok, false, bad.out);
        assert.match(bad.out, /checking SD file .*"not a label" is not a valid label name/);
    });

    it("fires the right alerts with the right severity on breaching series, and none below the thresholds", () => {
        const dir = layout(); dirs.push(dir);
        const r = run(dir, "test", "rules", "rules/tests.yml");
        assert.ok(r.ok, r.out);
        assert.match(r.out, /SUCCESS/);
    });

    it("makes the same unit test fail when a threshold moves (the test is not vacuous)", () => {
        const dir = layout({ alerts: { latencyP95CriticalMs: 5000 } }); dirs.push(dir);
        const r = run(dir, "test", "rules", "rules/tests.yml");
        assert.equal(r.ok, false, r.out);
        assert.match(r.out, /SlipwayLatencyP95Critical/);
    });
});
