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
        assert.deepEqual(fileOf(w), [{ targets: ["api-r1-1:3000", "api-r1-2:3000"], labels: { job: "api", release: "r1" } }]);
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

    it("records the component with the generated documents as outputs", async () => {
        await build();
        const comp = rec.get("slipway:observability:Observability", "obs");
        assert.match(comp.outputs!.rulesYaml as string, /SlipwayTargetDown/);
        assert.equal(isSecretValue(comp.outputs!.rulesYaml), false);
    });
});
