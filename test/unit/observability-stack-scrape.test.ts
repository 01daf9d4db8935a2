// The dev stack's scraping, seen where it matters: what `npm run synth` records. Services that link
// the Observability hand their replicas to Prometheus themselves; the stack root lists nothing.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { runSynth } from "../helpers/synth-run";

interface Scraped { writer: string; targets: string[]; labels: Record<string, string>; prometheusJobs: string[] }

const runs = new Map<string, Scraped>();

/** The api's target file as its writer uploads it, and the jobs prometheus.yml defines (one synth per config). */
function scraped(set: Record<string, unknown>): Scraped {
    const key = JSON.stringify(set);
    if (!runs.has(key)) runs.set(key, synthScraped(set));
    return runs.get(key)!;
}

function synthScraped(set: Record<string, unknown>): Scraped {
    const r = runSynth("dev", Object.entries(set).flatMap(([k, v]) => ["--set", `${k}=${JSON.stringify(v)}`]));
    assert.equal(r.status, 0, r.stderr);
    try {
        const cfg = YAML.parse(fs.readFileSync(path.join(r.outDir, "prometheus.yml"), "utf8"));
        const resources = JSON.parse(fs.readFileSync(path.join(r.outDir, "resources.json"), "utf8")) as
            { type: string; name: string; inputs: { uploads?: { file: string; content: string }[] } }[];
        const writers = resources.filter(x => x.type === "docker:index/container:Container" && x.name.startsWith("observability-targets-"));
        assert.deepEqual(writers.map(w => w.name.replace(/-[0-9a-f]{10}$/, "")), ["observability-targets-api"]);
        const [group] = JSON.parse(writers[0]!.inputs.uploads![0]!.content);
        return { writer: writers[0]!.name, targets: group.targets, labels: group.labels, prometheusJobs: cfg.scrape_configs.map((s: { job_name: string }) => s.job_name) };
    } finally {
        fs.rmSync(r.outDir, { recursive: true, force: true });
    }
}

describe("dev stack: Prometheus scrapes each linked service's replicas on its own port", function () {
    this.timeout(240_000);
    const api = { image: "slipway/example-api:local", replicas: 2, port: 3000 };
    const prometheus = { image: "slipway/prometheus:local" };

    it("by default: every replica on the service's port, and prometheus.yml names no service", () => {
        const s = scraped({ services: { api } });
        assert.equal(s.targets.length, 2);
        assert.ok(s.targets.every(t => t.endsWith(":3000")), s.targets.join(", "));
        assert.equal(s.labels.job, "api");
        // The gateway's own metrics (its internal listener) are a job of their own, not a service;
        // so is the cache's exporter (the dev stack has a slipway:cache block).
        assert.deepEqual(s.prometheusJobs, ["prometheus", "linked-services", "gateway", "cache-metrics"]);
    });

    it("also when the observability block does not mention prometheus at all", () => {
        const s = scraped({ services: { api }, observability: { sentry: { dsn: "https://k@o0.ingest.sentry.io/0" } } });
        assert.ok(s.targets.every(t => t.endsWith(":3000")), s.targets.join(", "));
    });

    it("on prometheus.port when the config sets a dedicated metrics port", () => {
        const s = scraped({ services: { api }, observability: { prometheus: { ...prometheus, port: 9100 } } });
        assert.ok(s.targets.every(t => t.endsWith(":9100")), s.targets.join(", "));
    });

    it("a new port is a new writer revision, and Prometheus' own config stays the same", () => {
        const a = scraped({ services: { api } });
        const b = scraped({ services: { api: { ...api, port: 3001 } } });
        assert.notEqual(a.writer, b.writer);
        assert.deepEqual(a.prometheusJobs, b.prometheusJobs);
    });
});
