// The stack's default scrape list (index.ts withScrapeDefault), seen where it matters: the
// prometheus.yml that `npm run synth` writes for the dev stack.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { runSynth } from "../helpers/synth-run";

function apiScrapePort(set: Record<string, unknown>): number[] {
    const r = runSynth("dev", Object.entries(set).flatMap(([k, v]) => ["--set", `${k}=${JSON.stringify(v)}`]));
    assert.equal(r.status, 0, r.stderr);
    const cfg = YAML.parse(fs.readFileSync(path.join(r.outDir, "prometheus.yml"), "utf8"));
    fs.rmSync(r.outDir, { recursive: true, force: true });
    const job = cfg.scrape_configs.find((s: { job_name: string }) => s.job_name === "api");
    return job.dns_sd_configs.map((d: { port: number }) => d.port);
}

describe("dev stack: Prometheus scrapes each service on its own port", function () {
    this.timeout(240_000);
    const api = { image: "slipway/example-api:local", replicas: 2, port: 3000 };

    it("by default, and for a service named in prometheus.scrape", () => {
        assert.deepEqual(apiScrapePort({ services: { api } }), [3000]);
        assert.deepEqual(apiScrapePort({ services: { api }, observability: { prometheus: { image: "slipway/prometheus:local", scrape: ["api"] } } }), [3000]);
    });

    it("also when the observability block does not mention prometheus at all", () => {
        assert.deepEqual(apiScrapePort({ services: { api }, observability: { sentry: { dsn: "https://k@o0.ingest.sentry.io/0" } } }), [3000]);
    });

    it("on prometheus.port when the config sets a dedicated metrics port", () => {
        assert.deepEqual(apiScrapePort({ services: { api }, observability: { prometheus: { image: "slipway/prometheus:local", port: 9100 } } }), [9100]);
    });
});
