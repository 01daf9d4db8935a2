import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { goDuration, parseGoDuration } from "../../components/core/docker";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import { isSecretValue, redact, Recorder, secretness, valueOf } from "../../components/testing/recorder";
import { dockerTarget, freshRecorder } from "../helpers/harness";
import type { ScrapeTargets } from "../../components/core/link";
import type { Observability } from "../../components/observability";

const CONTAINER = "docker:index/container:Container";
const LICENSE = "nr-license-0123456789abcdef";
type Upload = { file: string; content: string; permissions?: string };
const envOf = (obs: Observability, service: string) => obs.link({ service, port: 8080 }).env ?? [];

describe("Observability on docker", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    async function build(args: Record<string, unknown> = {}) {
        const { Observability } = await import("../../components/observability");
        const target = await dockerTarget();
        const obs = new Observability("obs", { target, ...args });
        await rec.settle();
        return obs;
    }

    it("runs Prometheus with the golden rules and config uploaded where Prometheus reads them", async () => {
        const obs = await build({ prometheus: { scrape: ["node-exporter:9100", { name: "worker", port: 9100 }], image: "local/prometheus:test" } });
        const c = rec.get(CONTAINER, "obs-prometheus");
        // The image id, as the provider stores it; a tag would replace Prometheus on every `up`.
        const img = rec.get("docker:index/remoteImage:RemoteImage", "obs-prometheus-image");
        assert.deepEqual([img.inputs.name, img.inputs.keepLocally, img.parent], ["local/prometheus:test", true, rec.get("slipway:observability:Observability", "obs").urn]);
        assert.equal(c.inputs.image, fakeProviderOutputs({ type: img.type, name: img.name, inputs: img.inputs, custom: true } as any)!.imageId);
        const ups = c.inputs.uploads as Upload[];
        const byFile = Object.fromEntries(ups.map(u => [u.file, u.content]));
        const golden = (f: string) => fs.readFileSync(path.resolve(__dirname, "../golden", f), "utf8");
        assert.equal(byFile["/etc/prometheus/rules/slipway-alerts.yml"], golden("observability-rules.yml"));
        assert.equal(byFile["/etc/prometheus/prometheus.yml"], golden("observability-prometheus.yml"));
        assert.equal(obs.rulesYaml, golden("observability-rules.yml"));
        assert.ok((c.inputs.command as string[]).includes("--config.file=/etc/prometheus/prometheus.yml"));
        assert.equal(c.options.deleteBeforeReplace, true);
        const labels = Object.fromEntries((c.inputs.labels as { label: string; value: string }[]).map(l => [l.label, l.value]));
        assert.equal(labels["slipway.component"], "Observability");
    });

    /** Hands `hosts` to the Observability the way a linked service does, with two stand-in replicas. */
    async function handOver(obs: Observability, t: Partial<ScrapeTargets> = {}) {
        const docker = await import("@pulumi/docker");
        const replicas = [1, 2].map(i => new docker.Container(`svc-${i}`, { image: "busybox" }));
        const sink = obs.link({ service: "api", port: 3000 }).docker!.scrape!;
        sink.addTargets({ service: "api", hosts: ["api-r1-1", "api-r1-2"], port: 3000, release: "r1", ...t }, replicas);
        await rec.settle();
        return replicas;
    }
    const writers = () => rec.ofType(CONTAINER).filter(c => c.name.startsWith("obs-targets-"));
    const fileOf = (w: { inputs: Record<string, unknown> }) => JSON.parse((w.inputs.uploads as Upload[])[0]!.content);

    it("mounts the targets volume read-only where prometheus.yml's file_sd looks", async () => {
        await build();
        const c = rec.get(CONTAINER, "obs-prometheus");
        const vol = rec.get("docker:index/volume:Volume", "obs-prometheus-targets");
        assert.equal(vol.inputs.name, "slipway-dev-obs-prometheus-targets");
        assert.deepEqual(c.inputs.volumes, [
            { volumeName: "slipway-dev-obs-prometheus", containerPath: "/prometheus" },
            { volumeName: "slipway-dev-obs-prometheus-targets", containerPath: "/etc/prometheus/targets", readOnly: true },
        ]);
        const yml = (c.inputs.uploads as Upload[]).find(u => u.file === "/etc/prometheus/prometheus.yml")!.content;
        assert.deepEqual(YAML.parse(yml).scrape_configs[1].file_sd_configs, [{ files: ["/etc/prometheus/targets/*.json"], refresh_interval: "30s" }]);
    });

    it("turns a linked service's replicas into a writer of its target file, a child of the Observability", async () => {
        const obs = await build({ prometheus: { image: "local/prometheus:test" } });
        const replicas = await handOver(obs);
        const [w] = writers();
        assert.ok(w, "one writer");
        assert.match(w.name, /^obs-targets-api-[0-9a-f]{10}$/);
        const revision = w.name.slice("obs-targets-api-".length);
        assert.equal(w.parent, rec.get("slipway:observability:Observability", "obs").urn);
        assert.deepEqual(fileOf(w), [{ targets: ["api-r1-1:3000", "api-r1-2:3000"], labels: { job: "api", release: "r1", replicas: "2" } }]);
        assert.deepEqual((w.inputs.uploads as Upload[]).map(u => [u.file, u.permissions]), [["/etc/slipway/scrape-targets.json", "0444"]]);
        // The Prometheus image (its shell), the targets volume read-write where the image's user owns the directory.
        assert.equal(w.inputs.image, rec.get(CONTAINER, "obs-prometheus").inputs.image);
        assert.deepEqual(w.inputs.volumes, [{ volumeName: "slipway-dev-obs-prometheus-targets", containerPath: "/prometheus" }]);
        const script = (w.inputs.command as string[])[0]!;
        assert.deepEqual(w.inputs.entrypoints, ["/bin/sh", "-c"]);
        assert.match(script, new RegExp(`dst='/prometheus/api-${revision}\\.json'`));
        assert.match(script, /mv -f "\$tmp" "\$dst"/);
        assert.deepEqual((w.inputs.healthcheck as { tests: string[] }).tests, ["CMD", "test", "-s", `/prometheus/api-${revision}.json`]);
        assert.deepEqual([w.inputs.wait, w.inputs.waitTimeout], [true, 60]);
        // Stopped, not killed, on delete: it removes its file on SIGTERM.
        assert.deepEqual([w.inputs.destroyGraceSeconds, w.inputs.stopTimeout], [10, 10]);
        // No network, no capability, never more privileges, the image's own (non-root) user.
        assert.equal(w.inputs.networkMode, "none");
        assert.equal(w.inputs.networksAdvanced, undefined);
        assert.deepEqual(w.inputs.capabilities, { drops: ["ALL"] });
        assert.deepEqual(w.inputs.securityOpts, ["no-new-privileges:true"]);
        assert.equal(w.inputs.user, undefined);
        assert.deepEqual([w.inputs.memory, w.inputs.memorySwap], [16, 16]);
        assert.equal(w.inputs.ports, undefined);
        for (const r of replicas) assert.ok(w.options.dependsOn.includes(await valueOf(r.urn)), "created after the replicas, deleted before them");
        const labels = Object.fromEntries((w.inputs.labels as { label: string; value: string }[]).map(l => [l.label, l.value]));
        assert.deepEqual([labels["slipway.role"], labels["slipway.service"], labels["slipway.targets-revision"]], ["scrape-targets", "api", revision]);
    });

    it("names a new writer when the hosts change, keeps the name when nothing does, and never touches Prometheus", async () => {
        const round = async (t: Partial<ScrapeTargets>) => {
            rec.clear();
            const obs = await build();
            await handOver(obs, t);
            return { writer: writers().map(w => w.name), prometheus: rec.get(CONTAINER, "obs-prometheus").inputs };
        };
        const a = await round({});
        const again = await round({});
        const moved = await round({ hosts: ["api-r2-1", "api-r2-2"], release: "r2" });
        const scaled = await round({ hosts: ["api-r1-1", "api-r1-2", "api-r1-3"] });
        assert.deepEqual(again.writer, a.writer);
        assert.notDeepEqual(moved.writer, a.writer);
        assert.notDeepEqual(scaled.writer, a.writer);
        assert.notDeepEqual(scaled.writer, moved.writer);
        for (const r of [again, moved, scaled]) assert.deepEqual(r.prometheus, a.prometheus);
    });

    it("scrapes every linked service on prometheus.port when one is set", async () => {
        const obs = await build({ prometheus: { port: 9100 } });
        await handOver(obs);
        assert.deepEqual(fileOf(writers()[0]!)[0].targets, ["api-r1-1:9100", "api-r1-2:9100"]);
    });

    it("refuses a linked service that prometheus.scrape lists too, and one handed over twice", async () => {
        const listed = await build({ prometheus: { scrape: ["worker:9100", { name: "api", port: 3000 }] } });
        await assert.rejects(async () => handOver(listed), (e: Error) => {
            assert.match(e.message, /^Observability "obs": prometheus\.scrape\[1\]: "api" is also a linked service.*scraped twice.*Fix: remove "api" from prometheus\.scrape/);
            return true;
        });
        rec.clear();
        const twice = await build();
        await handOver(twice);
        await assert.rejects(async () => handOver(twice), /Observability "obs": link: the linked service "api" handed over its targets twice/);
    });

    it("gets the replicas of an ApiService that links it, on the service's own port, without listing it", async () => {
        const { ApiService } = await import("../../components/api-service");
        const target = await dockerTarget();
        const { Observability } = await import("../../components/observability");
        const obs = new Observability("obs", { target });
        new ApiService("api", { target, image: "ghcr.io/acme/api:1.0.0", port: 3000, replicas: 2, link: [obs] });
        await rec.settle();
        const [w] = writers();
        assert.ok(w, "the ApiService handed its replicas over");
        const [group] = fileOf(w);
        assert.equal(group.targets.length, 2);
        assert.ok(group.targets.every((t: string) => t.endsWith(":3000")), group.targets.join(", "));
        assert.equal(group.labels.job, "api");
        const replicas = rec.descendants(rec.get("slipway:service:ApiService", "api").urn).filter(r => r.type === CONTAINER);
        assert.equal(replicas.length, 2);
        for (const r of replicas) assert.ok(w.options.dependsOn.includes(r.urn), r.name);
    });

    it("publishes Prometheus nowhere by default, and only on the target's publish address when asked", async () => {
        await build();
        assert.equal(rec.get(CONTAINER, "obs-prometheus").inputs.ports, undefined);
        rec.clear();
        await build({ prometheus: { publishPort: 19090 } });
        const published = rec.get(CONTAINER, "obs-prometheus");
        assert.deepEqual(published.inputs.ports, [{ internal: 9090, external: 19090, ip: "127.0.0.1" }]);
        assert.equal(published.options.deleteBeforeReplace, true, "a fixed host port cannot be bound by the new container while the old one holds it");
    });

    it("keeps the TSDB volume's inputs independent of Prometheus' config", async () => {
        // A fixed name, and Docker hands back the existing volume on a create under a taken name:
        // a volume replace would delete the live one, so no config change may touch the volume.
        const volume = async (args: Record<string, unknown>) => {
            rec.clear();
            await build(args);
            return rec.ofType("docker:index/volume:Volume").map(v => [v.name, v.inputs]);
        };
        const base = await volume({});
        assert.deepEqual(base.map(v => v[0]), ["obs-prometheus-data", "obs-prometheus-targets"]);
        for (const prometheus of [
            { image: "prom/prometheus:v2.54.0" }, { retentionDays: 30 }, { scrape: ["worker:9100"], port: 9100 }, { publishPort: 19090 },
        ]) {
            assert.deepEqual(await volume({ prometheus, alerts: { forMinutes: 10 } }), base, JSON.stringify(prometheus));
        }
    });

    it("writes Prometheus' inputs in the provider's read-back form and hardens it", async () => {
        const obs = await build({ prometheus: { publishPort: 19090 } });
        await handOver(obs);
        const containers = rec.ofType(CONTAINER).filter(c => c.name.startsWith("obs-"));
        assert.deepEqual(containers.map(c => c.name.replace(/[0-9a-f]{10}$/, "<rev>")), ["obs-prometheus", "obs-targets-api-<rev>"]);
        for (const c of containers) {
            // Go's time.Duration.String() of itself, or the next preview shows e.g. "1m0s" => "60s".
            const hc = c.inputs.healthcheck as Record<string, string | undefined>;
            for (const field of ["interval", "timeout", "startPeriod", "startInterval"]) {
                const v = hc[field];
                if (v !== undefined) assert.equal(v, goDuration(parseGoDuration(v)), `${c.name} healthcheck.${field} ${JSON.stringify(v)}`);
            }
            if (c.name === "obs-prometheus") {
                assert.deepEqual([hc.interval, hc.timeout, hc.startPeriod], ["2s", "5s", "30s"]);
                assert.equal(c.inputs.memory, 512);
            }
            assert.equal(c.inputs.memorySwap, c.inputs.memory, "swap pinned, or Docker picks 2 x memory and every preview shows it");
            assert.ok((c.inputs.securityOpts as string[]).includes("no-new-privileges:true"));
            // Prometheus runs as the image's non-root user and needs no capability at all.
            assert.deepEqual(c.inputs.capabilities, { drops: ["ALL"] });
            assert.deepEqual([c.inputs.logDriver, c.inputs.logOpts], ["json-file", { "max-size": "10m", "max-file": "3" }]);
        }
    });

    it("creates nothing when Prometheus is disabled, and offers linked services no scraper", async () => {
        const obs = await build({ prometheus: { enabled: false } });
        assert.deepEqual(rec.resources.filter(r => r.custom && r.name.startsWith("obs")).map(r => r.name), []);
        assert.equal(obs.link({ service: "api", port: 3000 }).docker, undefined);
    });

    it("links SDK settings: plain Sentry and OTEL values, the New Relic key only inside the secret headers", async () => {
        const obs = await build({
            sentry: { dsn: "https://k@o1.ingest.sentry.io/42", release: "1.2.3" },
            newRelic: { licenseKey: LICENSE },
        });
        const env = envOf(obs, "api");
        const byKey = Object.fromEntries(env.map(e => [e.key, e]));
        assert.deepEqual(env.map(e => e.key), [
            "LOG_FORMAT", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_RESOURCE_ATTRIBUTES", "OTEL_SERVICE_NAME", "SENTRY_DSN", "SENTRY_ENVIRONMENT", "SENTRY_RELEASE",
        ]);
        assert.equal(await valueOf(byKey.OTEL_SERVICE_NAME!.value), "api");
        assert.equal(await valueOf(byKey.OTEL_RESOURCE_ATTRIBUTES!.value), "deployment.environment=dev,service.namespace=slipway-dev");
        assert.equal(await valueOf(byKey.OTEL_EXPORTER_OTLP_ENDPOINT!.value), "https://otlp.nr-data.net");
        assert.equal(await valueOf(byKey.SENTRY_ENVIRONMENT!.value), "dev");
        assert.equal(await valueOf(byKey.LOG_FORMAT!.value), "json");
        const headers = byKey.OTEL_EXPORTER_OTLP_HEADERS!;
        assert.equal(headers.secret, true);
        assert.equal(await secretness(headers.value), true);
        assert.equal(await valueOf(headers.value), `api-key=${LICENSE}`);
        for (const e of env.filter(x => !x.secret)) assert.ok(!String(await valueOf(e.value)).includes(LICENSE), e.key);
        assert.ok(!JSON.stringify(redact(rec.resources.map(r => r.inputs))).includes(LICENSE));
    });

    it("encodes and sorts custom OTLP headers and emits no OTEL settings without an exporter", async () => {
        const obs = await build({ otel: { endpoint: "http://collector:4318/", headers: { "x-team": "a b", Authorization: "Bearer t=1" } } });
        const h = envOf(obs, "api").find(e => e.key === "OTEL_EXPORTER_OTLP_HEADERS")!;
        assert.equal(await valueOf(h.value), "Authorization=Bearer%20t%3D1,x-team=a%20b");
        assert.equal(await valueOf(envOf(obs, "api").find(e => e.key === "OTEL_EXPORTER_OTLP_ENDPOINT")!.value), "http://collector:4318");
        rec.clear();
        const bare = await build();
        assert.deepEqual(envOf(bare, "api").map(e => e.key), ["LOG_FORMAT"]);
    });

    describe("with an Alertmanager", () => {
        const WARN = "https://hooks.slack.com/services/T0/B0/warn-secret-0123";
        const CRIT = "https://hooks.slack.com/services/T0/B1/crit-secret-4567";
        const RELAY = "http://relay:8080/hook?token=relay-secret-89ab";
        const am = (extra: Record<string, unknown> = {}) => ({
            slackWebhooks: { warning: { url: WARN, channel: "#alerts" }, critical: { url: CRIT, channel: "#oncall" } },
            webhookReceivers: [{ name: "relay", url: RELAY }],
            ...extra,
        });
        /** Uploads as the provider gets them (revealed): with one secret file in it, the engine sends the whole list as a secret. */
        const uploadsOf = (name: string) => redact(rec.get(CONTAINER, name).inputs.uploads, true) as { file: string; content: string; permissions?: string }[];

        it("runs Alertmanager with the golden config, each webhook URL a secret file, and points Prometheus at it", async () => {
            const obs = await build({ prometheus: { image: "local/prometheus:test" }, alertmanager: am({ image: "local/alertmanager:test" }) });
            const c = rec.get(CONTAINER, "obs-alertmanager");
            const img = rec.get("docker:index/remoteImage:RemoteImage", "obs-alertmanager-image");
            assert.deepEqual([img.inputs.name, img.inputs.keepLocally], ["local/alertmanager:test", true]);
            assert.deepEqual(c.inputs.command, [
                "--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager", "--web.listen-address=:9093", "--cluster.listen-address=",
            ]);
            const ups = uploadsOf("obs-alertmanager");
            assert.deepEqual(ups.map(u => [u.file, u.permissions]), [
                ["/etc/alertmanager/alertmanager.yml", "0444"],
                ["/etc/alertmanager/secrets/slack-warning.url", "0444"],
                ["/etc/alertmanager/secrets/slack-critical.url", "0444"],
                ["/etc/alertmanager/secrets/webhook-relay.url", "0444"],
            ]);
            const golden = fs.readFileSync(path.resolve(__dirname, "../golden/observability-alertmanager.yml"), "utf8");
            if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(path.resolve(__dirname, "../golden/observability-alertmanager.yml"), ups[0]!.content as string);
            assert.equal(ups[0]!.content, golden);
            assert.equal(obs.alertmanagerYaml, golden);
            // The files hold the URLs, and the uploads are a secret (so a preview shows the config's
            // change by the label below, and the document itself as the alertmanagerYaml output).
            assert.ok(isSecretValue(c.inputs.uploads), "uploads recorded as a secret");
            assert.deepEqual(ups.slice(1).map(u => u.content), [WARN, CRIT, RELAY]);
            const labels = Object.fromEntries((c.inputs.labels as { label: string; value: string }[]).map(l => [l.label, l.value]));
            assert.match(labels["slipway.config-hash"]!, /^[0-9a-f]{12}$/);
            const cfg = YAML.parse(golden);
            assert.deepEqual(cfg.receivers.map((r: any) => [r.name, r.slack_configs.map((x: any) => [x.api_url_file, x.channel, x.send_resolved])]), [
                ["slipway-warning", [["/etc/alertmanager/secrets/slack-warning.url", "#alerts", true], ["/etc/alertmanager/secrets/webhook-relay.url", undefined, true]]],
                ["slipway-critical", [["/etc/alertmanager/secrets/slack-critical.url", "#oncall", true], ["/etc/alertmanager/secrets/webhook-relay.url", undefined, true]]],
            ]);
            assert.deepEqual(cfg.route.group_by, ["alertname", "service"]);
            assert.deepEqual(cfg.inhibit_rules, [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ["family", "service"] }]);
            // Prometheus sends to it at its network alias, and scrapes it.
            assert.deepEqual(c.inputs.networksAdvanced, [{ name: "slipway-dev", aliases: ["obs-alertmanager"] }].map(n => ({ ...n, name: (c.inputs.networksAdvanced as any)[0].name })));
            const prom = YAML.parse(uploadsOf("obs-prometheus").find(u => u.file === "/etc/prometheus/prometheus.yml")!.content as string);
            assert.deepEqual(prom.alerting, { alertmanagers: [{ static_configs: [{ targets: ["obs-alertmanager:9093"] }] }] });
            assert.deepEqual(prom.scrape_configs.map((j: any) => j.job_name), ["prometheus", "linked-services", "alertmanager"]);
            assert.equal(obs.prometheusYaml, uploadsOf("obs-prometheus").find(u => u.file === "/etc/prometheus/prometheus.yml")!.content);
            assert.deepEqual([obs.nodes.alertmanager, obs.nodes.alertmanagerImage, obs.nodes.alertmanagerDataVolume].map(x => x !== undefined), [true, true, true]);
        });

        it("keeps every webhook URL out of env, command, labels, the generated documents and the outputs", async () => {
            const obs = await build({ alertmanager: am() });
            const c = rec.get(CONTAINER, "obs-alertmanager");
            const plain = JSON.stringify(redact(rec.resources.map(r => [r.inputs, r.outputs])));
            for (const url of [WARN, CRIT, RELAY]) {
                assert.ok(!plain.includes(url), "no URL outside a secret");
                assert.ok(!plain.includes(new URL(url).pathname), "not even its path");
                assert.ok(!obs.alertmanagerYaml!.includes(url) && !obs.prometheusYaml!.includes(url));
            }
            assert.equal(c.inputs.envs, undefined);
            const comp = rec.get("slipway:observability:Observability", "obs");
            assert.equal(comp.outputs!.alertmanagerYaml, obs.alertmanagerYaml);
            assert.equal(isSecretValue(comp.outputs!.alertmanagerYaml), false, "the config itself is not a secret: it holds none");
        });

        it("hardens Alertmanager like Prometheus, keeps its state in a volume, and publishes it only when asked", async () => {
            await build({ alertmanager: am() });
            const c = rec.get(CONTAINER, "obs-alertmanager");
            const hc = c.inputs.healthcheck as Record<string, unknown>;
            assert.deepEqual(hc.tests, ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9093/-/ready"]);
            for (const f of ["interval", "timeout", "startPeriod"]) assert.equal(hc[f], goDuration(parseGoDuration(hc[f] as string)));
            assert.deepEqual([c.inputs.memory, c.inputs.memorySwap], [128, 128]);
            assert.deepEqual(c.inputs.capabilities, { drops: ["ALL"] });
            assert.deepEqual(c.inputs.securityOpts, ["no-new-privileges:true"]);
            assert.equal(c.inputs.user, undefined, "the image's own non-root user");
            assert.equal(c.inputs.ports, undefined);
            assert.deepEqual(c.inputs.volumes, [{ volumeName: "slipway-dev-obs-alertmanager", containerPath: "/alertmanager" }]);
            assert.equal(rec.get("docker:index/volume:Volume", "obs-alertmanager-data").inputs.name, "slipway-dev-obs-alertmanager");
            rec.clear();
            await build({ alertmanager: am({ publishPort: 19093 }) });
            assert.deepEqual(rec.get(CONTAINER, "obs-alertmanager").inputs.ports, [{ internal: 9093, external: 19093, ip: "127.0.0.1" }]);
        });

        it("routes by severity with the given timings, and a webhook receiver of one severity only gets that one", async () => {
            const obs = await build({
                alertmanager: { webhookReceivers: [{ name: "crit", url: RELAY, severity: "critical" }], groupWaitSeconds: 1, groupIntervalSeconds: 5, repeatIntervalMinutes: 1 },
            });
            const cfg = YAML.parse(obs.alertmanagerYaml!);
            assert.deepEqual([cfg.route.group_wait, cfg.route.group_interval, cfg.route.repeat_interval], ["1s", "5s", "1m"]);
            assert.deepEqual(cfg.route.routes, [
                { receiver: "slipway-warning", matchers: ['severity="warning"'] },
                { receiver: "slipway-critical", matchers: ['severity="critical"'] },
            ]);
            assert.equal(cfg.route.receiver, "slipway-critical", "an alert without a severity still reaches someone");
            assert.deepEqual(cfg.receivers, [
                { name: "slipway-warning" },
                { name: "slipway-critical", slack_configs: [{ ...cfg.receivers[1].slack_configs[0], api_url_file: "/etc/alertmanager/secrets/webhook-crit.url" }] },
            ]);
        });

        it("runs no Alertmanager unless asked, and leaves prometheus.yml without an alerting block", async () => {
            const obs = await build({ alertmanager: am({ enabled: false }) });
            assert.throws(() => rec.get(CONTAINER, "obs-alertmanager"));
            assert.equal(obs.alertmanagerYaml, undefined);
            assert.equal(YAML.parse(obs.prometheusYaml!).alerting, undefined);
            rec.clear();
            const bare = await build();
            assert.equal(YAML.parse(bare.prometheusYaml!).alerting, undefined);
            assert.equal(bare.nodes.alertmanager, undefined);
        });

        it("refuses an Alertmanager with nowhere to send, without Prometheus, or sharing a port, name or job", async () => {
            const { Observability } = await import("../../components/observability");
            const target = await dockerTarget();
            const refuses = (args: Record<string, unknown>, re: RegExp) =>
                assert.throws(() => new Observability("bad", { target, ...args }), (e: Error) => re.test(e.message) || assert.fail(e.message));
            refuses({ alertmanager: {} }, /alertmanager.*has nowhere to send alerts.*slackWebhooks/s);
            refuses({ prometheus: { enabled: false }, alertmanager: am() }, /alertmanager.*Prometheus is disabled/s);
            refuses({ alertmanager: { slackWebhooks: { critical: { url: "https://example.com/x" } } } }, /slackWebhooks\.critical\.url.*not a Slack incoming-webhook URL/s);
            refuses({ alertmanager: { slackWebhooks: { critical: { url: CRIT, channel: "Oncall Room" } } } }, /slackWebhooks\.critical\.channel/);
            refuses({ alertmanager: { webhookReceivers: [{ name: "a", url: RELAY }, { name: "a", url: RELAY }] } }, /webhookReceivers\[1\]\.name.*used twice/s);
            refuses({ alertmanager: { webhookReceivers: [{ name: "a", url: "relay:8080" }] } }, /webhookReceivers\[0\]\.url/);
            refuses({ alertmanager: { webhookReceivers: [{ name: "a", url: RELAY, severity: "info" }] } }, /webhookReceivers\[0\]\.severity/);
            refuses({ prometheus: { publishPort: 19090 }, alertmanager: am({ publishPort: 19090 }) }, /alertmanager\.publishPort.*Prometheus/s);
            refuses({ prometheus: { scrape: ["alertmanager:9093"] }, alertmanager: am() }, /prometheus\.scrape\[0\].*alertmanager/s);
            refuses({ alertmanager: am({ groupIntervalSeconds: 600, repeatIntervalMinutes: 5 }) }, /repeatIntervalMinutes/);
            assert.equal(rec.resources.filter(r => r.name.startsWith("bad")).length, 0, "nothing registered");
            // A linked service named like a job prometheus.yml defines is refused at link time.
            const obs = await build({ alertmanager: am() });
            const sink = obs.link({ service: "alertmanager", port: 9093 }).docker!.scrape!;
            assert.throws(() => sink.addTargets({ service: "alertmanager", hosts: ["alertmanager-1"], port: 9093, release: "r1" }, []), /would share its job/);
        });

        it("applies transform.alertmanager and transform.alertmanagerImage, and transform.volume to its data volume", async () => {
            const obs = await build({
                alertmanager: am(),
                transform: {
                    alertmanager: { memory: 256, memorySwap: 256 },
                    alertmanagerImage: (args: Record<string, unknown>) => { args.keepLocally = false; },
                    volume: (_a: unknown, opts: Record<string, unknown>, name: string) => { if (name.endsWith("-alertmanager-data")) opts.retainOnDelete = true; },
                },
            });
            const c = rec.get(CONTAINER, "obs-alertmanager");
            assert.deepEqual([c.inputs.memory, c.inputs.memorySwap], [256, 256]);
            assert.ok(Array.isArray(uploadsOf("obs-alertmanager")), "the component's own args are kept");
            assert.equal(rec.get("docker:index/remoteImage:RemoteImage", "obs-alertmanager-image").inputs.keepLocally, false);
            assert.equal(rec.get("docker:index/volume:Volume", "obs-alertmanager-data").options.retainOnDelete, true);
            assert.notEqual(rec.get("docker:index/volume:Volume", "obs-prometheus-data").options.retainOnDelete, true);
            assert.equal(await valueOf(obs.nodes.alertmanager!.urn), c.urn);
        });

        it("is accepted and unused on DigitalOcean, so a program moves between targets unchanged", async () => {
            const { normalizeObservability } = await import("../../components/observability/normalize");
            const { doAppTarget } = await import("../../components/core/target");
            const n = normalizeObservability("obs", { target: doAppTarget({ appName: "shop", region: "fra", environment: "prod", production: true }), alertmanager: am() });
            assert.equal(n.alertmanager, undefined);
        });
    });

    it("scrapes the gateway's metrics listener as the job `gateway` at /metrics, whatever metricsPath says", async () => {
        const obs = await build({ prometheus: { scrapeGateway: "gateway:2020", metricsPath: "/internal/metrics", scrape: ["worker:9100"] } });
        const jobs = YAML.parse(obs.prometheusYaml!).scrape_configs;
        assert.deepEqual(jobs.map((j: any) => j.job_name), ["prometheus", "linked-services", "gateway", "worker"]);
        assert.deepEqual(jobs[2], { job_name: "gateway", metrics_path: "/metrics", static_configs: [{ targets: ["gateway:2020"] }] });
        const { Observability } = await import("../../components/observability");
        const target = await dockerTarget();
        assert.throws(() => new Observability("bad", { target, prometheus: { scrapeGateway: "gateway" } }), /scrapeGateway.*not a host:port/s);
        assert.throws(() => new Observability("bad", { target, prometheus: { scrapeGateway: "gateway:2020", scrape: ["gateway:2020"] } }), /prometheus\.scrape\[0\].*scrapes the gateway too/s);
        const sink = obs.link({ service: "gateway", port: 8080 }).docker!.scrape!;
        assert.throws(() => sink.addTargets({ service: "gateway", hosts: ["gateway-1"], port: 8080, release: "r1" }, []), /would share its job/);
    });

    it("records the component with the generated documents as outputs", async () => {
        await build();
        const comp = rec.get("slipway:observability:Observability", "obs");
        assert.match(comp.outputs!.rulesYaml as string, /SlipwayReplicasMissing/); // dev profile: the critical rules
        assert.equal(isSecretValue(comp.outputs!.rulesYaml), false);
    });
});
