// Whole App specs for configurations beyond the prod stack, built by the real components under
// mocks and checked against DigitalOcean's schema in the API form that synth writes.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { freshRecorder, doTarget } from "../helpers/harness";
import { Recorder, redact } from "../../components/testing/recorder";
import { appSpecErrors, upperCaseKeys } from "../helpers/do-schema";
import { ApiService, CloudflareEdge, DoApp, Gateway, ManagedDatabase, Observability, SecretsSync } from "../../components";
import { redactAppSpec, toApiSpec } from "../../components/targets/app-spec";

async function apiSpecOf(rec: Recorder, app: DoApp): Promise<Record<string, any>> {
    await app.app; // registered once the secret rollout is decided
    await rec.settle();
    const apps = rec.ofType("digitalocean:index/app:App");
    assert.strictEqual(apps.length, 1);
    const spec = toApiSpec(redactAppSpec(redact(apps[0]!.inputs.spec, true))) as Record<string, any>;
    assert.deepStrictEqual(upperCaseKeys(spec), []);
    assert.deepStrictEqual(appSpecErrors(spec), []);
    return spec;
}

const image = (n: string) => `registry.digitalocean.com/acme/${n}:2.3.1`;

describe("App specs for more configurations", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    it("several services behind one gateway, one database with a schema per service", async () => {
        const target = await doTarget();
        const db = new ManagedDatabase("db", { target, schemas: [{ name: "core" }, { name: "media" }], do: { size: "db-s-1vcpu-2gb" } });
        const names = ["core", "media", "links"];
        const services = names.map(n => new ApiService(n, { target, image: image(n), replicas: 2, link: [db] }));
        const gateway = new Gateway("edge", {
            target,
            routes: services.map(s => ({ pathPrefix: `/v1/${s.endpoint.name}`, service: s })),
        });
        // The gateway brings its services, and they their database.
        const app = new DoApp("app", { target, components: [gateway] });
        const spec = await apiSpecOf(rec, app);
        assert.deepStrictEqual(spec.services.map((s: { name: string }) => s.name), ["core", "links", "media"]);
        assert.deepStrictEqual(spec.ingress.rules.map((r: any) => [r.match.path.prefix, r.component.name]).sort(),
            [["/v1/core", "core"], ["/v1/links", "links"], ["/v1/media", "media"]]);
        assert.strictEqual(spec.databases.length, 1);
        assert.strictEqual(rec.ofType("digitalocean:index/databaseFirewall:DatabaseFirewall").length, 1);
    });

    it("the App Platform dev database on a non-production target", async () => {
        const target = await doTarget("staging", false);
        const db = new ManagedDatabase("db", { target, do: { devDatabase: true } });
        const api = new ApiService("api", { target, image: image("api"), link: [db] });
        const gateway = new Gateway("edge", { target, routes: [{ pathPrefix: "/", service: api }] });
        const app = new DoApp("app", { target, components: [db, api, gateway] });
        const spec = await apiSpecOf(rec, app);
        assert.deepStrictEqual(spec.databases, [{ engine: "PG", name: "db", production: false, version: "16" }]);
        // A secret, so an App-level env (hoisted out of the service), bound to the dev database.
        const url = spec.envs.find((e: { key: string }) => e.key === "DATABASE_URL");
        assert.ok(url, "DATABASE_URL is wired");
        assert.deepStrictEqual([url.type, url.scope], ["SECRET", "RUN_TIME"]);
        assert.ok(!spec.services[0].envs.some((e: { key: string }) => e.key === "DATABASE_URL"), "not in the service entry");
        const raw = redact(rec.ofType("digitalocean:index/app:App")[0]!.inputs.spec, true) as Record<string, any>;
        assert.strictEqual(raw.envs.find((e: { key: string }) => e.key === "DATABASE_URL").value, "${db.DATABASE_URL}");
        assert.strictEqual(rec.ofType("digitalocean:index/databaseCluster:DatabaseCluster").length, 0, "no managed cluster for a dev database");
    });

    it("custom domains with a primary and an alias, Cloudflare records and observability extras", async () => {
        const target = await doTarget();
        const secrets = new SecretsSync("secrets", { target, secrets: { API_TOKEN: { value: pulumi.secret("tok-PLANTED") } } });
        const obs = new Observability("obs", {
            target,
            newRelic: { licenseKey: pulumi.secret("nr-PLANTED") },
            destinations: { emails: ["ops@example.com"] },
            logDestinations: [{ name: "logtail", logtail: { token: pulumi.secret("lt-PLANTED") } }],
        });
        const api = new ApiService("api", { target, image: image("api"), link: [secrets, obs] });
        const gateway = new Gateway("edge", {
            target,
            domains: ["api.example.com", "www.api.example.com"],
            cloudflare: { zoneId: "023e105f4ecef8ad9ca31a8372d0c353" },
            routes: [{ pathPrefix: "/", service: api }],
        });
        const app = new DoApp("app", { target, components: [gateway, obs] });
        new CloudflareEdge("edge", { app, records: gateway.edgeRecords ?? [], production: target.production });
        const spec = await apiSpecOf(rec, app);
        assert.deepStrictEqual(spec.domains.map((d: any) => [d.domain, d.type]), [["api.example.com", "PRIMARY"], ["www.api.example.com", "ALIAS"]]);
        assert.deepStrictEqual(spec.alerts.map((a: any) => a.rule), ["DEPLOYMENT_FAILED", "DOMAIN_FAILED"]);
        assert.strictEqual(spec.services[0].log_destinations[0].logtail.token, "[secret]");
        // The linked secret is an App-level SECRET env, not part of the service entry.
        assert.deepStrictEqual(spec.envs.filter((e: any) => e.type === "SECRET").map((e: any) => e.key), ["API_TOKEN", "OTEL_EXPORTER_OTLP_HEADERS"]);
        assert.ok(!spec.services[0].envs.some((e: any) => e.type === "SECRET"), JSON.stringify(spec.services[0].envs));
        assert.ok(!JSON.stringify(spec).includes("PLANTED"), "no planted secret in the API spec");
        assert.deepStrictEqual(rec.ofType("cloudflare:index/dnsRecord:DnsRecord").map(r => r.inputs.name).sort(),
            ["api.example.com", "www.api.example.com"]);
    });
});
