import { strict as assert } from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import * as pulumi from "@pulumi/pulumi";
import { RecordedResource, Recorder, isSecretValue, redact, valueOf } from "../../components/testing/recorder";
import { buildBootstrapConfig, buildCaddyConfig, renderCaddyJson } from "../../components/gateway/caddy-config";
import { normalizeGateway } from "../../components/gateway/normalize";
import { dockerTarget, freshRecorder } from "../helpers/harness";
import { domainArgs, localArgs, svc } from "../unit/gateway-fixtures";

const CONTAINER = "docker:index/container:Container";
const VOLUME = "docker:index/volume:Volume";
const GATEWAY = "slipway:gateway:Gateway";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
/** The id the (fake) provider computes for a RemoteImage: what a container must run. */
const imageIdOf = (r: RecordedResource) => fakeProviderOutputs({ type: r.type, name: r.name, inputs: r.inputs, custom: true } as any)!.imageId;
const LOADER_NAME = /^edge-config-[0-9a-f]{10}$/;
const VERSIONS = Object.fromEntries(fs.readFileSync(path.resolve(__dirname, "../../docker/caddy/versions.env"), "utf8")
    .split("\n").map(l => /^([A-Z_]+)=(\S+)$/.exec(l.trim())).filter(m => m !== null).map(m => [m[1]!, m[2]!]));
const tagOf = (v: string | undefined) => (v ?? "missing").replace(/^v/, "").replace(/\./g, "\\.");
/** ghcr.io/<owner>/slipway-caddy:<caddy>-ratelimit-<module>-slipway-<modules hash>, by digest once a release has run. */
const PUBLISHED = new RegExp(`^ghcr\\.io/[a-z0-9-]+/slipway-caddy:${tagOf(VERSIONS.CADDY_VERSION)}-ratelimit-${tagOf(VERSIONS.RATELIMIT_VERSION)}-slipway-[0-9a-f]{8}(@sha256:[0-9a-f]{64})?$`);

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

    /** The one config loader the gateway registered (its logical name carries the config's hash). */
    function loader(): RecordedResource {
        const loaders = rec.ofType(CONTAINER).filter(c => c.name.startsWith("edge-config-"));
        assert.equal(loaders.length, 1, `one loader, got ${loaders.map(l => l.name).join(", ") || "none"}`);
        return loaders[0]!;
    }

    it("runs Caddy on a constant bootstrap config and resumes the last loaded one", async () => {
        await build("local");
        const c = rec.get(CONTAINER, "edge-caddy").inputs as Record<string, any>;
        assert.deepEqual([...c.entrypoints, ...c.command], ["caddy", "run", "--config", "/etc/caddy/bootstrap.json", "--resume"]);
        assert.deepEqual(c.uploads.map((u: any) => [u.file, u.permissions]), [["/etc/caddy/bootstrap.json", "0444"]]);
        assert.equal(c.uploads[0].content, renderCaddyJson(buildBootstrapConfig()));
        // Nothing of the route table is in the Caddy container's inputs.
        assert.doesNotMatch(JSON.stringify(c), /reverse_proxy|rate_limit|api-2:8080|Strict-Transport-Security/);
        // The provider keeps the image *id* in state: a tag here would replace Caddy on every `up`.
        const img = rec.get(REMOTE_IMAGE, "edge-image");
        assert.match(String(img.inputs.name), PUBLISHED, "the default is the release workflow's image of docker/caddy's versions");
        assert.equal(img.inputs.keepLocally, true);
        assert.equal(c.image, imageIdOf(img));
        // Caddy autosaves the last loaded config in /config: a volume, so a restarted or replaced Caddy resumes it.
        const state = rec.get(VOLUME, "edge-caddy-config");
        assert.equal(state.inputs.name, "slipway-dev-edge-caddy-config");
        assert.deepEqual(c.volumes.map((v: any) => [v.volumeName, v.containerPath, v.readOnly]), [["slipway-dev-edge-caddy-config", "/config", undefined]]);
        assert.equal(c.tmpfs["/config"], undefined);
    });

    it("pushes the full rendered config with a loader named after its hash", async () => {
        const { gw, args } = await build("local");
        const expected = renderCaddyJson(buildCaddyConfig(normalizeGateway("edge", args as any)));
        const l = loader();
        const hash = createHash("sha256").update(expected).digest("hex").slice(0, 10);
        assert.equal(l.name, `edge-config-${hash}`);
        assert.equal(gw.configRevision, hash);
        assert.equal(gw.caddyJson, expected);
        const i = l.inputs as Record<string, any>;
        assert.deepEqual(i.uploads.map((u: any) => [u.file, u.permissions]), [["/etc/caddy/caddy.json", "0444"]]);
        assert.equal(i.uploads[0].content, expected);
        // The upload dials the replicas' network aliases.
        assert.match(i.uploads[0].content, /"dial": "api-2:8080"/);
        assert.match(i.uploads[0].content, /"dial": "media-1:9000"/);
    });

    it("loads its config only after the upstream services' replicas exist (Caddy health-checks them at load)", async () => {
        const target = await dockerTarget("dev");
        const { ApiService } = await import("../../components/api-service");
        const { Gateway } = await import("../../components/gateway");
        const api = new ApiService("api", { target, image: "ghcr.io/acme/api:1.4.2" });
        new Gateway("edge", { target, routes: [{ pathPrefix: "/", service: api }] });
        await rec.settle();
        const deps = loader().options.dependsOn;
        const replicas = rec.descendants(rec.get("slipway:service:ApiService", "api").urn).filter(r => r.type === CONTAINER);
        assert.equal(replicas.length, 1);
        for (const r of replicas) assert.ok(deps.includes(r.urn), `loader waits for ${r.name}: dependsOn ${deps}`);
        assert.ok(deps.includes(rec.get(CONTAINER, "edge-caddy").urn));
    });

    it("keeps the Caddy container identical when routes, limits or headers change; only the loader's name changes", async () => {
        const snapshot = async (kind: "local" | "domains", extra: Record<string, unknown>) => {
            rec.clear();
            await build(kind, false, extra);
            const c = rec.get(CONTAINER, "edge-caddy");
            // A provider reference is `<urn>::<id>`, and the mock's ids count up across builds.
            const options = { ...c.options, provider: c.options.provider?.replace(/::[^:]+$/, "") };
            return { caddy: { inputs: c.inputs, options }, loader: loader().name, volumes: rec.ofType(VOLUME).map(v => [v.name, v.inputs]) };
        };
        for (const kind of ["local", "domains"] as const) {
            const base = await snapshot(kind, {});
            assert.match(base.loader, LOADER_NAME);
            const baseArgs = kind === "local" ? localArgs({} as any) : domainArgs({} as any);
            const seen = new Set([base.loader]);
            for (const change of [
                { routes: [...baseArgs.routes, { pathPrefix: "/v2", service: svc("v2", 2, 8080) }] },
                { rateLimits: Object.fromEntries(Object.entries(baseArgs.rateLimits!).map(([k, z]) => [k, { ...z, events: z.events + 1 }])) },
                { securityHeaders: { frameOptions: "SAMEORIGIN", contentSecurityPolicy: "default-src 'self'" } },
                { cors: { allowOrigins: ["https://other.example.com"] } },
                { maxBodySize: "1MB", compression: ["gzip"] },
                { upstream: { healthCheck: "ready", maxFails: 5 } },
                // Access logs on stdout on or off (a log *file* needs a volume: that one is a Caddy change).
                { accessLog: kind === "domains" ? { stdout: false, file: "/var/log/caddy/access.log" } : false },
            ]) {
                const next = await snapshot(kind, change);
                assert.deepEqual(next.caddy, base.caddy, `${kind} ${JSON.stringify(change)}: the Caddy container's inputs and options`);
                assert.deepEqual(next.volumes, base.volumes, `${kind} ${JSON.stringify(change)}: the volumes`);
                assert.match(next.loader, LOADER_NAME);
                assert.ok(!seen.has(next.loader), `${kind} ${JSON.stringify(change)}: a new loader name (got ${next.loader} again)`);
                seen.add(next.loader);
            }
            // The same config twice: the same loader, so nothing is pushed again.
            assert.equal((await snapshot(kind, {})).loader, base.loader);
        }
    });

    it("serves the admin API on a unix socket in the shared volume only, with the same admin block in both configs", async () => {
        for (const kind of ["local", "domains"] as const) {
            rec.clear();
            await build(kind);
            const c = rec.get(CONTAINER, "edge-caddy").inputs as Record<string, any>;
            const l = loader().inputs as Record<string, any>;
            const bootstrap = JSON.parse(c.uploads[0].content);
            const full = JSON.parse(l.uploads[0].content);
            assert.deepEqual(bootstrap.admin, { listen: "unix//config/admin.sock", config: { persist: true } }, kind);
            assert.deepEqual(full.admin, bootstrap.admin, `${kind}: a reload never moves or disables the admin socket`);
            for (const cfg of [bootstrap, full]) {
                assert.equal(cfg.admin.disabled, undefined);
                assert.doesNotMatch(JSON.stringify(cfg.admin), /tcp|localhost|127\.0\.0\.1|:2019|0\.0\.0\.0/);
                // The health listener the container healthcheck probes is in both.
                assert.deepEqual(cfg.apps.http.servers.health.listen, ["127.0.0.1:9180"]);
            }
            assert.deepEqual(Object.keys(bootstrap.apps.http.servers), ["health"], "the bootstrap serves no routes");
            // No published port reaches the admin API: only the edge ports are published.
            assert.deepEqual(c.ports.map((p: any) => p.internal).sort(), kind === "local" ? [8080] : [8080, 8443]);
            // The loader reaches the socket through the same volume (writable: it also writes the
            // metrics token file there) and has no network at all.
            const caddyMount = c.volumes.find((v: any) => v.containerPath === "/config");
            assert.deepEqual(l.volumes, [{ volumeName: caddyMount.volumeName, containerPath: "/config" }]);
            assert.equal(l.networkMode, "none");
            assert.equal(l.ports, undefined);
            assert.equal(l.networksAdvanced, undefined);
            assert.match(l.command.join(" "), /caddy reload --config '\/etc\/caddy\/caddy\.json' --address 'unix\/\/config\/admin\.sock'/);
        }
    });

    describe("metrics (issue 10)", () => {
        const TOKEN = "c2NyYXBlLXRva2VuLWZvci10aGUtZ2F0ZXdheS0wMQ";

        it("publishes Caddy's own metrics listener nowhere and names it <gateway>:2020 on the stack's network", async () => {
            const { gw } = await build("local");
            assert.equal(gw.metricsTarget, "edge:2020");
            const c = rec.get(CONTAINER, "edge-caddy").inputs as Record<string, any>;
            assert.deepEqual(c.ports.map((p: any) => p.internal), [8080], "2020 is not published");
            assert.deepEqual(c.networksAdvanced[0].aliases, ["edge"], "the alias the target names");
            const full = JSON.parse((loader().inputs.uploads as any[])[0].content);
            assert.deepEqual(full.apps.http.servers.metrics.listen, [":2020"]);
            assert.equal(rec.ofType(GATEWAY)[0]!.outputs?.metricsTarget, "edge:2020");
        });

        it("hands the token to the loader as a secret upload of its own, never to Caddy or the config", async () => {
            const { gw } = await build("local", false, { publicMetrics: { allowWithToken: pulumi.secret(TOKEN) } });
            const l = loader();
            const wire = l.wire.uploads as any[];
            assert.deepEqual(wire.map(u => [u.file, u.permissions]), [["/etc/caddy/caddy.json", "0444"], ["/etc/caddy/metrics-token", "0444"]]);
            assert.equal(typeof wire[0].content, "string", "the config upload stays readable (synth writes it)");
            assert.ok(isSecretValue(wire[1].content), "the token upload is a secret");
            assert.equal(redact(wire[1].content, true), TOKEN);
            assert.ok(!gw.caddyJson!.includes(TOKEN));
            assert.match(gw.caddyJson!, /\{file\.\/config\/secrets\/metrics-token\}/);
            assert.match((l.inputs.command as string[])[0]!, /cp '\/etc\/caddy\/metrics-token' '\/config\/secrets\/\.metrics-token\.new'/);
            // Nothing else the engine receives holds it in the clear.
            assert.ok(!JSON.stringify(rec.resources.map(r => redact(r.wire))).includes(TOKEN));
        });

        it("keeps Caddy itself untouched by the token, and a new token keeps the config revision (the loader is replaced in place)", async () => {
            const snapshot = async (extra: Record<string, unknown>) => {
                rec.clear();
                await build("local", false, extra);
                const c = rec.get(CONTAINER, "edge-caddy");
                return { caddy: c.inputs, loader: loader().name, command: loader().inputs.command };
            };
            const none = await snapshot({});
            const a = await snapshot({ publicMetrics: { allowWithToken: pulumi.secret(TOKEN) } });
            const b = await snapshot({ publicMetrics: { allowWithToken: pulumi.secret(`${TOKEN}-rotated`) } });
            assert.deepEqual(a.caddy, none.caddy, "no Caddy restart to open the path");
            assert.deepEqual(b.caddy, a.caddy);
            assert.notEqual(a.loader, none.loader, "opening the path changes the config (the guard reads the file)");
            assert.equal(b.loader, a.loader, "a rotated token is the same config revision");
            assert.match((none.command as string[])[0]!, /rm -f '\/config\/secrets\/metrics-token'/, "turned off: the old token leaves the volume");
        });
    });

    describe("a private ACME CA (issue 14)", () => {
        const CA_PEM = fs.readFileSync(path.join(__dirname, "..", "fixtures", "acme", "private-ca.pem"), "utf8");
        const DIRECTORY = "https://pebble:14000/dir";

        it("hands the CA root to the loader, which installs it in the config volume under its hash before the push", async () => {
            const { gw } = await build("domains", false, { acme: { directory: DIRECTORY, caRoot: CA_PEM } });
            const l = loader();
            const uploads = l.inputs.uploads as any[];
            assert.deepEqual(uploads.map(u => [u.file, u.permissions]), [["/etc/caddy/caddy.json", "0444"], ["/etc/caddy/acme-ca-root.pem", "0444"]]);
            assert.equal(uploads[1].content, CA_PEM);
            const issuer = JSON.parse(gw.caddyJson!).apps.tls.automation.policies[0].issuers[0];
            const hash = createHash("sha256").update(CA_PEM).digest("hex").slice(0, 16);
            assert.deepEqual(issuer, { module: "acme", ca: DIRECTORY, email: "ops@example.com", trusted_roots_pem_files: [`/config/acme/ca-root-${hash}.pem`] });
            const script = (l.inputs.command as string[])[0]!;
            const copy = script.indexOf(`cp '/etc/caddy/acme-ca-root.pem' '/config/acme/ca-root-${hash}.pem.new'`);
            assert.ok(copy > 0 && copy < script.indexOf("caddy reload"), "written before the config that names it is pushed");
            // Caddy itself is the same container as without a private CA: a new root is a reload, not a restart.
            const withCa = rec.get(CONTAINER, "edge-caddy").inputs;
            rec.clear();
            await build("domains");
            assert.deepEqual(rec.get(CONTAINER, "edge-caddy").inputs, withCa);
        });

        it("makes a new root a new config revision, so Caddy reloads and reads it", async () => {
            const names = [];
            for (const caRoot of [CA_PEM, CA_PEM + CA_PEM]) {
                rec.clear();
                await build("domains", false, { acme: { directory: DIRECTORY, caRoot } });
                names.push(loader().name);
            }
            assert.notEqual(names[0], names[1]);
        });
    });

    it("uploads every file without owner or group (the provider's owner path breaks for numeric users)", async () => {
        for (const kind of ["local", "domains"] as const) {
            rec.clear();
            await build(kind);
            const uploads = rec.ofType(CONTAINER).flatMap(c => (c.inputs.uploads as any[] ?? []).map(u => [c.name, u]));
            assert.equal(uploads.length, 2);
            for (const [name, u] of uploads) {
                assert.equal(u.owner, undefined, `${name} ${u.file}`);
                assert.equal(u.group, undefined, `${name} ${u.file}`);
                assert.equal(u.permissions, "0444", `${name} ${u.file}: world-readable, so uid 10002 reads a root-owned file`);
            }
        }
    });

    it("runs the loader after Caddy, as Caddy's user, hardened, and waits until the config is live", async () => {
        await build("local");
        const caddy = rec.get(CONTAINER, "edge-caddy");
        const l = loader();
        const i = l.inputs as Record<string, any>;
        assert.ok(l.options.dependsOn.includes(caddy.urn), "created once Caddy is healthy");
        assert.equal(i.image, caddy.inputs.image, "the same Caddy image, so `caddy reload` speaks its API version");
        assert.equal(i.user, "10002:10002");
        assert.deepEqual(i.capabilities, { drops: ["ALL"] });
        assert.deepEqual(i.securityOpts, ["no-new-privileges:true"]);
        assert.equal(i.memory, 128);
        assert.equal(i.memorySwap, 128);
        assert.equal(i.restart, "unless-stopped");
        assert.equal(i.logDriver, "json-file");
        assert.deepEqual(i.logOpts, { "max-size": "10m", "max-file": "3" });
        assert.equal(i.name, undefined, "autonamed");
        assert.deepEqual([...i.entrypoints], ["/bin/sh", "-c"]);
        // Healthy only once the push succeeded, so `wait` makes `pulumi up` block until the config is live.
        assert.equal(i.wait, true);
        assert.equal(i.waitTimeout, 60);
        assert.deepEqual(i.healthcheck, { tests: ["CMD", "test", "-f", "/tmp/slipway-config-loaded"], interval: "2s", timeout: "2s", retries: 3, startPeriod: "1m0s" });
        const labels = Object.fromEntries(i.labels.map((x: any) => [x.label, x.value]));
        assert.equal(labels["slipway.role"], "config-loader");
        assert.equal(labels["slipway.config-revision"], l.name.slice("edge-config-".length));
        assert.equal(labels["slipway.name"], "edge");
        // Its logical name changes with the config, so it is never replaced: a new one is created and the
        // old one deleted at the end of the update. Nothing to delete first.
        assert.equal(l.options.deleteBeforeReplace, false);
    });

    it("publishes plain HTTP on the target's address only, on 8080 by default", async () => {
        const { gw } = await build("local");
        const c = rec.get(CONTAINER, "edge-caddy").inputs as Record<string, any>;
        assert.deepEqual(c.ports, [{ internal: 8080, external: 8080, ip: "127.0.0.1", protocol: "tcp" }]);
        assert.equal(await valueOf(gw.url), "http://127.0.0.1:8080");
        assert.deepEqual(rec.ofType(VOLUME).map(v => v.name), ["edge-caddy-config"], "no certificate volume without TLS");
        assert.ok(c.tmpfs["/data"]);
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
        assert.deepEqual(mounts, [["slipway-prod-edge-caddy-config", "/config"], ["slipway-prod-edge-caddy-data", "/data"], ["slipway-prod-edge-caddy-logs", "/var/log/caddy"]]);
        assert.equal(c.tmpfs?.["/data"], undefined);
        assert.equal(await valueOf(gw.url), "https://api.example.com");
    });

    it("replaces Caddy (image or port changes only) delete-before-create, since its published host ports cannot be held twice", async () => {
        for (const kind of ["local", "domains"] as const) {
            rec.clear();
            await build(kind);
            const c = rec.get(CONTAINER, "edge-caddy");
            assert.ok((c.inputs.ports as unknown[]).length > 0, "fixed host ports are published");
            assert.equal(c.options.deleteBeforeReplace, true, kind);
        }
    });

    it("keeps the config, certificate and log volumes' inputs independent of the gateway's config", async () => {
        // Fixed names, and Docker hands back the existing volume on a create under a taken name:
        // a volume replace would delete the live one, so no config change may touch a volume.
        const volumes = async (extra: Record<string, unknown>) => {
            rec.clear();
            await build("domains", false, extra);
            return rec.ofType(VOLUME).map(v => [v.name, v.inputs]);
        };
        const base = await volumes({});
        assert.deepEqual(base.map(v => v[0]), ["edge-caddy-config", "edge-data", "edge-logs"]);
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
        assert.match(c.tmpfs["/data"], /uid=10002,gid=10002/);
        assert.deepEqual(c.capabilities, { drops: ["ALL"] });
        assert.deepEqual(c.securityOpts, ["no-new-privileges:true"]);
        assert.equal(c.restart, "unless-stopped");
        assert.deepEqual(c.healthcheck.tests, ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9180/healthz"]);
        // Durations as the provider reads them back (Go's Duration.String()), or every preview shows a diff.
        assert.deepEqual([c.healthcheck.interval, c.healthcheck.timeout, c.healthcheck.startPeriod], ["2s", "3s", "5s"]);
        assert.equal(c.memory, 512);
        assert.equal(c.memorySwap, 512, "swap pinned to memory: no swap, and no permanent memorySwap diff");
        assert.equal(c.wait, true);
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
        assert.deepEqual(children.map(r => r.name.replace(/^edge-config-[0-9a-f]{10}$/, "edge-config-<hash>")).sort(),
            ["edge-caddy", "edge-caddy-config", "edge-config-<hash>", "edge-data", "edge-image", "edge-logs"]);
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
        const l = rec.ofType(CONTAINER).find(c => c.name.startsWith("solo-config-"))!;
        assert.match((l.inputs.uploads as any[])[0].content, /"dial": "solo-1:3000"/);
    });
});
