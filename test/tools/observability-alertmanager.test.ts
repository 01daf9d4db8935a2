// The generated Alertmanager config checked by the real amtool (Debian's prometheus-alertmanager,
// the same 0.25 as images/alertmanager, installed by scripts/ensure-amtool.sh when missing): every
// variant the Args can produce passes `amtool check-config`, alerts route by severity as designed,
// and the notification templates parse. prometheus.yml with its `alerting` block and the
// Alertmanager and gateway jobs passes `promtool check config`. No tool missing is ever a skip.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { ALERTMANAGER_SECRETS_DIR, alertmanagerConfig, alertmanagerYaml } from "../../components/observability/alertmanager";
import { normalizeObservability } from "../../components/observability/normalize";
import { prometheusYaml, RULES_RELATIVE_PATH } from "../../components/observability/prometheus-config";
import { rulesYaml } from "../../components/observability/rules";
import type { ObservabilityArgs } from "../../components/observability";

const ROOT = path.resolve(__dirname, "../..");
const target = { kind: "docker", environment: "dev", production: false, namePrefix: "slipway-dev", publishAddress: "127.0.0.1", labels: {} } as never;
const WARN = "https://hooks.slack.com/services/T0/B0/warn";
const CRIT = "https://hooks.slack.com/services/T0/B1/crit";

function ensure(script: string, tool: string): string {
    const r = spawnSync("bash", [path.join(ROOT, "scripts", script)], { encoding: "utf8", timeout: 540_000 });
    if (r.status !== 0) assert.fail(`${tool} is required and could not be installed (scripts/${script}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout.trim().split("\n").pop()!;
}

/** Every shape of `alertmanager` the Args allow, by name. */
const VARIANTS: Record<string, NonNullable<ObservabilityArgs["alertmanager"]>> = {
    "Slack per severity and a relay for both": {
        slackWebhooks: { warning: { url: WARN, channel: "#alerts" }, critical: { url: CRIT, channel: "#oncall" } },
        webhookReceivers: [{ name: "relay", url: "http://relay:8080/hook" }],
    },
    "critical Slack only (warnings go nowhere)": { slackWebhooks: { critical: { url: CRIT } } },
    "webhook receivers only, one per severity, short timings": {
        webhookReceivers: [{ name: "test-warning", url: "http://rcv:8080/w", severity: "warning" }, { name: "test-critical", url: "http://rcv:8080/c", severity: "critical" }],
        groupWaitSeconds: 0, groupIntervalSeconds: 1, repeatIntervalMinutes: 1,
    },
};

describe("Observability's Alertmanager config under amtool", function () {
    this.timeout(600_000);
    let amtool: string;
    let promtool: string;
    const dirs: string[] = [];
    before(() => {
        amtool = ensure("ensure-amtool.sh", "amtool");
        promtool = ensure("ensure-promtool.sh", "promtool");
    });
    after(() => dirs.forEach(d => fs.rmSync(d, { recursive: true, force: true })));

    const run = (bin: string, dir: string, ...args: string[]) => {
        const r = spawnSync(bin, args, { cwd: dir, encoding: "utf8", timeout: 60_000 });
        return { ok: r.status === 0, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout };
    };

    /** alertmanager.yml in a temp dir, its secret files beside it (amtool reads the config only, the paths are real anyway). */
    function layout(am: NonNullable<ObservabilityArgs["alertmanager"]>) {
        const n = normalizeObservability("obs", { target, alertmanager: am });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-am-"));
        dirs.push(dir);
        fs.mkdirSync(path.join(dir, "secrets"));
        for (const d of n.alertmanager!.destinations) fs.writeFileSync(path.join(dir, "secrets", `${d.id}.url`), "http://127.0.0.1:9/unused\n");
        const yml = alertmanagerYaml(n.alertmanager!);
        assert.ok(yml.includes(ALERTMANAGER_SECRETS_DIR));
        fs.writeFileSync(path.join(dir, "alertmanager.yml"), yml.split(ALERTMANAGER_SECRETS_DIR).join(path.join(dir, "secrets")));
        return { dir, n: n.alertmanager!, cfg: alertmanagerConfig(n.alertmanager!) };
    }

    for (const [name, am] of Object.entries(VARIANTS)) {
        it(`passes \`amtool check-config\`: ${name}`, () => {
            const { dir, cfg } = layout(am);
            const r = run(amtool, dir, "check-config", "alertmanager.yml");
            assert.ok(r.ok, r.out);
            assert.match(r.out, /SUCCESS/);
            assert.match(r.out, /- 1 inhibit rules/);
            assert.match(r.out, /- 2 receivers/);
            // Every URL is a file the config names; none is inline.
            const text = fs.readFileSync(path.join(dir, "alertmanager.yml"), "utf8");
            assert.doesNotMatch(text, /api_url:|hooks\.slack\.com|http:\/\//);
            assert.equal(cfg.receivers.flatMap(rc => rc.slack_configs ?? []).every(s => s.send_resolved), true);
        });
    }

    it("routes warnings to the warning receiver, criticals and unlabelled alerts to the critical one", () => {
        const { dir } = layout(VARIANTS["Slack per severity and a relay for both"]!);
        const route = (...labels: string[]) => run(amtool, dir, "config", "routes", "test", "--config.file=alertmanager.yml", ...labels);
        for (const [labels, receiver] of [
            [["alertname=SlipwayTargetDown", "service=api", "severity=warning"], "slipway-warning"],
            [["alertname=SlipwayReplicasMissing", "service=api", "severity=critical"], "slipway-critical"],
            [["alertname=Custom", "service=api"], "slipway-critical"],
        ] as const) {
            const r = route(`--verify.receivers=${receiver}`, ...labels);
            assert.ok(r.ok, `${labels.join(" ")}: ${r.out}`);
            assert.equal(r.stdout.trim(), receiver);
        }
        // Control: the check is not vacuous.
        assert.equal(route("--verify.receivers=slipway-critical", "severity=warning").ok, false);
    });

    it("renders the Slack title, text and color templates", () => {
        const { dir, cfg } = layout(VARIANTS["Slack per severity and a relay for both"]!);
        const slack = cfg.receivers[1]!.slack_configs![0]!;
        fs.writeFileSync(path.join(dir, "none.tmpl"), "{{ define \"none\" }}{{ end }}\n");
        for (const t of [slack.title, slack.text, slack.color]) {
            const r = run(amtool, dir, "template", "render", "--template.glob=none.tmpl", `--template.text=${t}`);
            assert.ok(r.ok, `${t}: ${r.out}`);
        }
        const broken = run(amtool, dir, "template", "render", "--template.glob=none.tmpl", "--template.text={{ .Nope | nofunc }}");
        assert.equal(broken.ok, false, "a broken template fails (control)");
    });

    it("fails the check when a receiver loses its URL file, and on webhook_configs' url_file, which 0.25 lacks (controls)", () => {
        const { dir } = layout(VARIANTS["critical Slack only (warnings go nowhere)"]!);
        const cfgPath = path.join(dir, "alertmanager.yml");
        const doc = YAML.parse(fs.readFileSync(cfgPath, "utf8"));
        delete doc.receivers[1].slack_configs[0].api_url_file;
        fs.writeFileSync(path.join(dir, "no-url.yml"), YAML.stringify(doc));
        const noUrl = run(amtool, dir, "check-config", "no-url.yml");
        assert.equal(noUrl.ok, false, noUrl.out);
        assert.match(noUrl.out, /no global Slack API URL set/);
        doc.receivers[1] = { name: "slipway-critical", webhook_configs: [{ url_file: path.join(dir, "secrets/slack-critical.url") }] };
        fs.writeFileSync(path.join(dir, "webhook.yml"), YAML.stringify(doc));
        const webhook = run(amtool, dir, "check-config", "webhook.yml");
        assert.equal(webhook.ok, false, webhook.out);
        assert.match(webhook.out, /field url_file not found/);
    });

    it("passes `promtool check config` with the alerting block, the Alertmanager job and the gateway job", () => {
        const n = normalizeObservability("obs", {
            target, prometheus: { scrape: ["node-exporter:9100"], scrapeGateway: "gateway:2020" }, alertmanager: VARIANTS["critical Slack only (warnings go nowhere)"],
        });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-prom-am-"));
        dirs.push(dir);
        fs.mkdirSync(path.join(dir, "rules"));
        const yml = prometheusYaml({ ...n, prometheus: n.prometheus!, alertmanagerTarget: "obs-alertmanager:9093" });
        fs.writeFileSync(path.join(dir, "prometheus.yml"), yml);
        fs.writeFileSync(path.join(dir, RULES_RELATIVE_PATH), rulesYaml(n.alerts));
        const r = run(promtool, dir, "check", "config", "prometheus.yml");
        assert.ok(r.ok, r.out);
        assert.match(r.out, /SUCCESS/);
        const cfg = YAML.parse(yml);
        assert.deepEqual(cfg.alerting.alertmanagers[0].static_configs[0].targets, ["obs-alertmanager:9093"]);
        assert.deepEqual(cfg.scrape_configs.map((j: { job_name: string }) => j.job_name), ["prometheus", "linked-services", "alertmanager", "gateway", "node-exporter"]);
    });
});
