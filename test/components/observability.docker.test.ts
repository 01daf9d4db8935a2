import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { goDuration, parseGoDuration } from "../../components/core/docker";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import { isSecretValue, redact, Recorder, secretness, valueOf } from "../../components/testing/recorder";
import { dockerTarget, freshRecorder } from "../helpers/harness";

const CONTAINER = "docker:index/container:Container";
const LICENSE = "nr-license-0123456789abcdef";
type Upload = { file: string; content: string; permissions?: string };

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
        const obs = await build({ prometheus: { scrape: ["api", "worker"], image: "local/prometheus:test" } });
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

    it("scrapes an ApiService on its own port, so a service off 8080 is not reported down", async () => {
        const { ApiService } = await import("../../components/api-service");
        const target = await dockerTarget();
        const api = new ApiService("api", { target, image: "ghcr.io/acme/api:1.0.0", port: 3000 });
        const { Observability } = await import("../../components/observability");
        new Observability("obs", { target, prometheus: { scrape: [api, { name: "worker", port: 9100 }] } });
        await rec.settle();
        const ups = rec.get(CONTAINER, "obs-prometheus").inputs.uploads as Upload[];
        const yml = ups.find(u => u.file === "/etc/prometheus/prometheus.yml")!.content;
        const jobs = YAML.parse(yml).scrape_configs.slice(1).map((s: any) => [s.job_name, s.dns_sd_configs[0].names, s.dns_sd_configs[0].port]);
        assert.deepEqual(jobs, [["api", ["api"], 3000], ["worker", ["worker"], 9100]]);
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
        assert.deepEqual(base.map(v => v[0]), ["obs-prometheus-data"]);
        for (const prometheus of [
            { image: "prom/prometheus:v2.54.0" }, { retentionDays: 30 }, { scrape: ["api"], port: 9100 }, { publishPort: 19090 },
        ]) {
            assert.deepEqual(await volume({ prometheus, alerts: { forMinutes: 10 } }), base, JSON.stringify(prometheus));
        }
    });

    it("writes Prometheus' inputs in the provider's read-back form and hardens it", async () => {
        await build({ prometheus: { publishPort: 19090 } });
        const containers = rec.ofType(CONTAINER);
        assert.deepEqual(containers.map(c => c.name), ["obs-prometheus"]);
        for (const c of containers) {
            // Go's time.Duration.String() of itself, or the next preview shows e.g. "1m0s" => "60s".
            const hc = c.inputs.healthcheck as Record<string, string | undefined>;
            for (const field of ["interval", "timeout", "startPeriod", "startInterval"]) {
                const v = hc[field];
                if (v !== undefined) assert.equal(v, goDuration(parseGoDuration(v)), `${c.name} healthcheck.${field} ${JSON.stringify(v)}`);
            }
            assert.deepEqual([hc.interval, hc.timeout, hc.startPeriod], ["2s", "5s", "30s"]);
            assert.equal(c.inputs.memory, 512);
            assert.equal(c.inputs.memorySwap, c.inputs.memory, "swap pinned, or Docker picks 2 x memory and every preview shows it");
            assert.ok((c.inputs.securityOpts as string[]).includes("no-new-privileges:true"));
            // Prometheus runs as the image's non-root user and needs no capability at all.
            assert.deepEqual(c.inputs.capabilities, { drops: ["ALL"] });
            assert.deepEqual([c.inputs.logDriver, c.inputs.logOpts], ["json-file", { "max-size": "10m", "max-file": "3" }]);
        }
    });

    it("creates nothing when Prometheus is disabled", async () => {
        await build({ prometheus: { enabled: false } });
        assert.deepEqual(rec.resources.filter(r => r.custom && r.name.startsWith("obs")).map(r => r.name), []);
    });

    it("links SDK settings: plain Sentry and OTEL values, the New Relic key only inside the secret headers", async () => {
        const obs = await build({
            sentry: { dsn: "https://k@o1.ingest.sentry.io/42", release: "1.2.3" },
            newRelic: { licenseKey: LICENSE },
        });
        const env = obs.linkEnv("api");
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
        const h = obs.linkEnv("api").find(e => e.key === "OTEL_EXPORTER_OTLP_HEADERS")!;
        assert.equal(await valueOf(h.value), "Authorization=Bearer%20t%3D1,x-team=a%20b");
        assert.equal(await valueOf(obs.linkEnv("api").find(e => e.key === "OTEL_EXPORTER_OTLP_ENDPOINT")!.value), "http://collector:4318");
        rec.clear();
        const bare = await build();
        assert.deepEqual(bare.linkEnv("api").map(e => e.key), ["LOG_FORMAT"]);
    });

    it("records the component with the generated documents as outputs", async () => {
        await build();
        const comp = rec.get("slipway:observability:Observability", "obs");
        assert.match(comp.outputs!.rulesYaml as string, /SlipwayTargetDown/);
        assert.equal(isSecretValue(comp.outputs!.rulesYaml), false);
    });
});
