import { strict as assert } from "assert";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import { RecordedResource, Recorder, valueOf } from "../../components/testing/recorder";
import { buildCaddyConfig, renderCaddyJson } from "../../components/gateway/caddy-config";
import { normalizeGateway } from "../../components/gateway/normalize";
import { dockerTarget, freshRecorder } from "../helpers/harness";
import { domainArgs, localArgs, svc } from "../unit/gateway-fixtures";

const CONTAINER = "docker:index/container:Container";
const VOLUME = "docker:index/volume:Volume";
const GATEWAY = "slipway:gateway:Gateway";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
/** The id the (fake) provider computes for a RemoteImage: what a container must run. */
const imageIdOf = (r: RecordedResource) => fakeProviderOutputs({ type: r.type, name: r.name, inputs: r.inputs, custom: true } as any)!.imageId;

describe("Gateway on docker", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    /** Public domains (ACME) need a host the internet reaches; a local gateway keeps the loopback default. */
    async function build(kind: "local" | "domains", production = false, extra: Record<string, unknown> = {}) {
        const { DockerHost } = await import("../../components/targets/docker-host");
        const environment = production ? "prod" : "dev";
        const target = kind === "local"
            ? await dockerTarget(environment, production)
            : new DockerHost(`host-${environment}`, { environment, production, publishAddress: "0.0.0.0" }).target;
        const { Gateway } = await import("../../components/gateway");
        const args = { ...(kind === "local" ? localArgs(target) : domainArgs(target)), ...extra };
        const gw = new Gateway("edge", args as any);
        await rec.settle();
        return { gw, target, args };
    }

    it("uploads exactly the rendered Caddy JSON and runs caddy on it", async () => {
        const { gw, args } = await build("local");
        const c = rec.get(CONTAINER, "edge-caddy").inputs as Record<string, any>;
        const expected = renderCaddyJson(buildCaddyConfig(normalizeGateway("edge", args as any)));
        assert.deepEqual(c.uploads.map((u: any) => u.file), ["/etc/caddy/caddy.json"]);
        assert.equal(c.uploads[0].content, expected);
        assert.equal(gw.caddyJson, expected);
        assert.deepEqual([...c.entrypoints, ...c.command], ["caddy", "run", "--config", "/etc/caddy/caddy.json"]);
        // The provider keeps the image *id* in state: a tag here would replace Caddy on every `up`.
        const img = rec.get(REMOTE_IMAGE, "edge-image");
        assert.equal(img.inputs.name, "slipway/caddy:2.10.2-ratelimit-0.1.0");
        assert.equal(img.inputs.keepLocally, true);
        assert.equal(c.image, imageIdOf(img));
        // The upload dials the replicas' network aliases.
        assert.match(c.uploads[0].content, /"dial": "api-2:8080"/);
        assert.match(c.uploads[0].content, /"dial": "media-1:9000"/);
    });

    it("publishes plain HTTP on the target's address only, on 8080 by default", async () => {
        const { gw } = await build("local");
        const c = rec.get(CONTAINER, "edge-caddy").inputs as Record<string, any>;
        assert.deepEqual(c.ports, [{ internal: 8080, external: 8080, ip: "127.0.0.1", protocol: "tcp" }]);
        assert.equal(await valueOf(gw.url), "http://127.0.0.1:8080");
        assert.deepEqual(rec.ofType(VOLUME), [], "no certificate volume without TLS");
        assert.ok(c.tmpfs["/data"] && c.tmpfs["/config"]);
    });

    it("publishes 80 and 443 for domains and keeps certificates on a protected volume in production", async () => {
        const { gw } = await build("domains", true);
        const c = rec.get(CONTAINER, "edge-caddy").inputs as Record<string, any>;
        assert.deepEqual(c.ports.map((p: any) => [p.external, p.internal, p.ip]), [[80, 8080, "0.0.0.0"], [443, 8443, "0.0.0.0"]]);
        const data = rec.get(VOLUME, "edge-data");
        assert.equal(data.options.protect, true);
        assert.equal(data.options.retainOnDelete, true);
        assert.equal(data.inputs.name, "slipway-prod-edge-caddy-data");
        const mounts = c.volumes.map((v: any) => [v.volumeName, v.containerPath]);
        assert.deepEqual(mounts, [["slipway-prod-edge-caddy-data", "/data"], ["slipway-prod-edge-caddy-logs", "/var/log/caddy"]]);
        assert.equal(c.tmpfs["/data"], undefined);
        assert.equal(await valueOf(gw.url), "https://api.example.com");
    });

    it("replaces Caddy delete-before-create, since its published host ports cannot be held twice", async () => {
        for (const kind of ["local", "domains"] as const) {
            rec.clear();
            await build(kind);
            const c = rec.get(CONTAINER, "edge-caddy");
            assert.ok((c.inputs.ports as unknown[]).length > 0, "fixed host ports are published");
            assert.equal(c.options.deleteBeforeReplace, true, kind);
        }
    });

    it("keeps the certificate and log volumes' inputs independent of the gateway's config", async () => {
        // Fixed names, and Docker hands back the existing volume on a create under a taken name:
        // a volume replace would delete the live one, so no config change may touch a volume.
        const volumes = async (extra: Record<string, unknown>) => {
            rec.clear();
            await build("domains", false, extra);
            return rec.ofType(VOLUME).map(v => [v.name, v.inputs]);
        };
        const base = await volumes({});
        assert.deepEqual(base.map(v => v[0]), ["edge-data", "edge-logs"]);
        for (const change of [
            { image: "ghcr.io/acme/caddy-ratelimit:2.10.3" }, { publishPort: 8081, publishHttpsPort: 8443 },
            { routes: [{ pathPrefix: "/", service: svc("web", 2, 3000) }], rateLimits: {} }, { email: "other@example.com" },
            { maxBodySize: "1MB", compression: ["zstd"] },
        ]) {
            assert.deepEqual(await volumes(change), base, JSON.stringify(change));
        }
    });

    it("does not protect the certificate volume outside production", async () => {
        await build("domains", false);
        const data = rec.get(VOLUME, "edge-data");
        assert.equal(data.options.protect, false);
        assert.equal(data.options.retainOnDelete, false);
    });

    it("runs hardened: non-root, no capabilities, health-checked, restarted, logs rotated, labelled", async () => {
        await build("local");
        const c = rec.get(CONTAINER, "edge-caddy").inputs as Record<string, any>;
        assert.equal(c.user, "10002:10002");
        assert.match(c.tmpfs["/config"], /uid=10002,gid=10002/);
        assert.deepEqual(c.capabilities, { drops: ["ALL"] });
        assert.deepEqual(c.securityOpts, ["no-new-privileges:true"]);
        assert.equal(c.restart, "unless-stopped");
        assert.deepEqual(c.healthcheck.tests, ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9180/healthz"]);
        assert.equal(c.logDriver, "json-file");
        assert.deepEqual(c.logOpts, { "max-size": "10m", "max-file": "3" });
        assert.equal(c.name, undefined, "autonamed: no fixed name to clash with");
        const labels = Object.fromEntries(c.labels.map((l: any) => [l.label, l.value]));
        assert.equal(labels["slipway.component"], "Gateway");
        assert.equal(labels["slipway.name"], "edge");
        assert.equal(labels["slipway.environment"], "dev");
        assert.equal(c.networksAdvanced[0].name, "slipway-dev-net");
    });

    it("parents every child to the component and uses the target's provider", async () => {
        const { target } = await build("domains");
        const gw = rec.ofType(GATEWAY)[0]!;
        const children = rec.descendants(gw.urn);
        assert.deepEqual(children.map(r => r.name).sort(), ["edge-caddy", "edge-data", "edge-image", "edge-logs"]);
        const provider = await valueOf((target.provider as any).urn);
        for (const ch of children) {
            assert.equal(ch.parent, gw.urn);
            assert.ok(ch.options.provider?.startsWith(String(provider)), `${ch.name} uses the DockerHost provider`);
        }
        assert.deepEqual(gw.outputs?.routes, [
            { pathPrefix: "/v1/media", service: "media" }, { pathPrefix: "/v1/core", service: "core" }, { pathPrefix: "/", service: "web" },
        ]);
    });

    it("takes a locally built image and custom ports", async () => {
        await build("local", false, { image: "slipway-caddy:test", publishPort: 18080 });
        const c = rec.get(CONTAINER, "edge-caddy").inputs as Record<string, any>;
        const img = rec.get(REMOTE_IMAGE, "edge-image");
        assert.equal(img.inputs.name, "slipway-caddy:test");
        assert.equal(c.image, imageIdOf(img));
        assert.equal(c.ports[0].external, 18080);
    });

    it("routes to a plain routable object too", async () => {
        const target = await dockerTarget();
        const { Gateway } = await import("../../components/gateway");
        new Gateway("solo", { target, routes: [{ pathPrefix: "/", service: svc("solo", 1, 3000) }] });
        await rec.settle();
        const c = rec.get(CONTAINER, "solo-caddy").inputs as Record<string, any>;
        assert.match(c.uploads[0].content, /"dial": "solo-1:3000"/);
    });
});
