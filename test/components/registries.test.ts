// Registry credentials on both targets: DockerHost `registries` (the provider's registryAuth) and
// doAppTarget `registries` (each GHCR / Docker Hub service image's registryCredentials); their bad
// input; and the refusal of local-only images on a remote engine.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { mergeAppSpecParts, toApiSpec } from "../../components/targets/app-spec";
import type { DockerHostArgs } from "../../components/targets/docker-host";
import { Recorder, isSecretValue, redact, secretness, valueOf } from "../../components/testing/recorder";
import { expectConfigError } from "../helpers/config-error";
import { appSpecErrors } from "../helpers/do-schema";
import { freshRecorder } from "../helpers/harness";

const PROVIDER = "pulumi:providers:docker";
const TOKEN = "ghp_registryTokenForTests0123456789ab";

describe("registry credentials", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    async function host(args: Partial<DockerHostArgs>, name = "host") {
        const { DockerHost } = await import("../../components/targets/docker-host");
        return new DockerHost(name, { environment: "dev", ...args } as DockerHostArgs);
    }

    describe("DockerHost registries", () => {
        it("become the provider's registryAuth, with the token secret and never in plain text", async () => {
            await host({ registries: [{ host: "ghcr.io", username: "acme-ci", token: pulumi.secret(TOKEN) }, { host: "127.0.0.1:5000", username: "ci", token: "dev-token" }] });
            await rec.settle();
            const p = rec.get(PROVIDER, "host-provider");
            assert.ok(isSecretValue(p.inputs.registryAuth), "the whole registryAuth travels as a secret");
            // A provider's inputs reach the engine JSON-encoded.
            const auth = JSON.parse(redact(p.inputs.registryAuth, true) as string);
            assert.deepEqual(auth, [
                { address: "ghcr.io", username: "acme-ci", password: TOKEN },
                { address: "127.0.0.1:5000", username: "ci", password: "dev-token" },
            ]);
            assert.ok(!JSON.stringify(redact(rec.resources)).includes(TOKEN));
            assert.ok(!JSON.stringify(redact(rec.resources)).includes("dev-token"), "a plain dev token is wrapped as a secret too");
        });

        it("write a Docker Hub credential under every host spelling the provider looks up", async () => {
            await host({ registries: [{ host: "docker.io", username: "acme", token: pulumi.secret(TOKEN) }] });
            await rec.settle();
            const auth = JSON.parse(redact(rec.get(PROVIDER, "host-provider").inputs.registryAuth, true) as string);
            assert.deepEqual(auth.map((a: { address: string }) => a.address), ["registry-1.docker.io", "docker.io", "index.docker.io"]);
        });

        it("leave the provider without registryAuth when there are none", async () => {
            await host({});
            await rec.settle();
            assert.equal(rec.get(PROVIDER, "host-provider").inputs.registryAuth, undefined);
        });

        const rejects = async (args: Partial<DockerHostArgs>, path: string, problem: RegExp, fix: RegExp) =>
            expectConfigError(rec, () => host(args), { component: 'DockerHost "host"', path, problem, fix });

        it("refuse a credential without a host, or a host with a scheme, a path or capitals", async () => {
            await rejects({ registries: [{ username: "ci", token: "t" } as never] }, "registries[0].host", /is missing/, /add host/);
            await rejects({ registries: [{ host: "https://ghcr.io", username: "ci", token: "t" }] }, "registries[0].host", /has a scheme \(https:\/\/\)/, /"ghcr\.io"/);
            await rejects({ registries: [{ host: "ghcr.io/acme", username: "ci", token: "t" }] }, "registries[0].host", /has a path/, /"ghcr\.io"/);
            await rejects({ registries: [{ host: "GHCR.io", username: "ci", token: "t" }] }, "registries[0].host", /capital letters/, /"ghcr\.io"/);
            await rejects({ registries: [{ host: "ghcr io", username: "ci", token: "t" }] }, "registries[0].host", /is not a registry host/, /registry\.example\.com:5000/);
        });

        it("refuse the same registry twice, Docker Hub's aliases included", async () => {
            await rejects({ registries: [{ host: "ghcr.io", username: "a", token: "t" }, { host: "ghcr.io", username: "b", token: "u" }] },
                "registries[1].host", /"ghcr\.io" is the same registry as registries\[0\]/, /one entry per registry/);
            await rejects({ registries: [{ host: "docker.io", username: "a", token: "t" }, { host: "registry-1.docker.io", username: "a", token: "t" }] },
                "registries[1].host", /same registry as registries\[0\]/, /docker\.io, index\.docker\.io and registry-1\.docker\.io are one/);
        });

        it("refuse an empty username or token, and a plain-string token on a production host", async () => {
            await rejects({ registries: [{ host: "ghcr.io", username: " ", token: "t" }] }, "registries[0].username", /is empty/, /account/);
            await rejects({ registries: [{ host: "ghcr.io", username: "ci", token: "" }] }, "registries[0].token", /is empty/, /token/);
            await rejects({ production: true, registries: [{ host: "ghcr.io", username: "ci", token: "plain" }] }, "registries[0].token",
                /plain string on a production target/, /cfg\.requireSecret/);
            // The same token as a secret passes on production.
            await host({ production: true, registries: [{ host: "ghcr.io", username: "ci", token: pulumi.secret("x") }] }, "prod");
        });

        it("refuse unknown keys in a credential", async () => {
            await rejects({ registries: [{ host: "ghcr.io", username: "ci", token: "t", password: "p" } as never] }, "registries[0].password", /not a known setting|unknown/i, /.+/);
        });
    });

    describe("local-only images on a remote engine", () => {
        async function api(image: string, h: string, name = "api") {
            const target = (await host({ host: h }, `h-${name}`)).target;
            const { ApiService } = await import("../../components/api-service");
            return () => new ApiService(name, { target, image });
        }

        it("are refused with the fix (push it, or build on the engine)", async () => {
            for (const image of ["slipway/example-api:local", "slipway/example-api:064e93c79585", "acme-api:local"]) {
                const build = await api(image, "ssh://deploy@staging.example.com");
                await expectConfigError(rec, build, {
                    component: 'ApiService "api"', path: "image",
                    problem: /exists only on the deploying machine .* the DockerHost's engine is remote/, fix: /push it to a registry .*registries.*, or use build, which builds on the target engine/,
                });
            }
        });

        it("are refused for every component's image on a remote engine: Gateway, ManagedDatabase (server and backup), Observability", async () => {
            const target = (await host({ host: "ssh://deploy@staging.example.com" }, "h-all")).target;
            const { Gateway } = await import("../../components/gateway");
            const { ManagedDatabase } = await import("../../components/managed-database");
            const { Observability } = await import("../../components/observability");
            const routes = [{ pathPrefix: "/", service: { endpoint: { name: "api", port: 8080, replicas: 1, dialHosts: ["api-1"], healthPath: "/health", readyPath: "/ready" } } }];
            const cases: [() => unknown, string, string][] = [
                [() => new Gateway("gw", { target, image: "slipway/caddy:local", routes }), 'Gateway "gw"', "image"],
                [() => new ManagedDatabase("db", { target, version: "15", image: "slipway/postgres:local" }), 'ManagedDatabase "db"', "image"],
                [() => new ManagedDatabase("db2", { target, version: "15", backup: { image: "slipway/pgbackup:15" } }), 'ManagedDatabase "db2"', "backup.image"],
                [() => new Observability("obs", { target, prometheus: { image: "slipway/prometheus:local" } }), 'Observability "obs"', "prometheus.image"],
                [() => new Observability("obs2", { target, prometheus: {}, alertmanager: { image: "slipway/alertmanager:local", slackWebhooks: { critical: { url: pulumi.secret("https://hooks.slack.example/x") } } } }), 'Observability "obs2"', "alertmanager.image"],
            ];
            for (const [build, component, path] of cases) {
                await expectConfigError(rec, build, {
                    component, path, problem: /exists only on the deploying machine .* the DockerHost's engine is remote/, fix: /push it to a registry/,
                });
            }
        });

        it("are accepted on the local engine, and registry images on a remote one", async () => {
            (await api("slipway/example-api:local", "unix:///var/run/docker.sock", "local"))();
            (await api("ghcr.io/acme/api:1.4.2", "ssh://deploy@staging.example.com", "remote"))();
            (await api("postgres:16", "ssh://deploy@staging.example.com", "hub"))();
            await rec.settle();
            assert.equal(rec.resources.filter(r => r.type === "slipway:service:ApiService").length, 3);
        });
    });

    describe("doAppTarget registries", () => {
        async function service(image: string, registries: unknown[]) {
            const { doAppTarget } = await import("../../components/core/target");
            const { ApiService } = await import("../../components/api-service");
            const target = doAppTarget({ appName: "shop-api", region: "fra", environment: "prod", production: true, registries: registries as never });
            return new ApiService("api", { target, image });
        }

        it("give a private GHCR image registryCredentials <username>:<token>, as a secret, in a spec DO's schema accepts", async () => {
            const svc = await service("ghcr.io/acme/api:1.4.2", [{ host: "ghcr.io", username: "acme-ci", token: pulumi.secret(TOKEN) }]);
            const image = svc.appPart!.services![0]!.image!;
            assert.equal(await secretness(pulumi.output(image as never)), true, "the image block holds a secret");
            assert.deepEqual(await valueOf(pulumi.output(image as never)), {
                registryType: "GHCR", registry: "acme", repository: "api", tag: "1.4.2", registryCredentials: `acme-ci:${TOKEN}`,
            });
            const api = toApiSpec(await valueOf(pulumi.output(mergeAppSpecParts("shop-api", "fra", [svc.appPart!])))) as any;
            assert.deepEqual(appSpecErrors(api), []);
            assert.equal(api.services[0].image.registry_credentials, `acme-ci:${TOKEN}`);
        });

        it("match Docker Hub by docker.io, and leave DOCR and other registries' images without credentials", async () => {
            const hub = await service("acme/api:2.0.0", [{ host: "index.docker.io", username: "acme", token: pulumi.secret(TOKEN) }]);
            assert.equal((await valueOf(pulumi.output(hub.appPart!.services![0]!.image as never)) as any).registryCredentials, `acme:${TOKEN}`);
            rec.clear();
            const docr = await service("registry.digitalocean.com/acme/api:2.0.0", [{ host: "ghcr.io", username: "acme-ci", token: pulumi.secret(TOKEN) }]);
            const img = await valueOf(pulumi.output(docr.appPart!.services![0]!.image as never)) as any;
            assert.equal(img.registryCredentials, undefined);
        });

        it("resolve the credential for an image reference that is an Output", async () => {
            const svc = await service(pulumi.output("ghcr.io/acme/api:3.0.0") as never, [{ host: "ghcr.io", username: "acme-ci", token: pulumi.secret(TOKEN) }]);
            const image = pulumi.output(svc.appPart!.services![0]!.image as never);
            assert.equal(await secretness(image), true);
            assert.equal((await valueOf(image) as any).registryCredentials, `acme-ci:${TOKEN}`);
        });

        it("refuse hosts App Platform takes no credentials for, and a plain token in production", async () => {
            const { doAppTarget } = await import("../../components/core/target");
            const t = (registries: unknown[]) => () => doAppTarget({ appName: "shop-api", region: "fra", environment: "prod", production: true, registries: registries as never });
            await expectConfigError(rec, t([{ host: "quay.io", username: "a", token: pulumi.secret("t") }]),
                { component: 'DoAppTarget "shop-api"', path: "registries[0].host", problem: /GHCR and Docker Hub only, not "quay\.io"/, fix: /push the image to GHCR/ });
            await expectConfigError(rec, t([{ host: "registry.digitalocean.com", username: "a", token: pulumi.secret("t") }]),
                { component: 'DoAppTarget "shop-api"', path: "registries[0].host", problem: /not "registry\.digitalocean\.com"/, fix: /remove it: App Platform pulls from DOCR/ });
            await expectConfigError(rec, t([{ host: "ghcr.io", username: "a", token: "plain" }]),
                { component: 'DoAppTarget "shop-api"', path: "registries[0].token", problem: /plain string on a production target/, fix: /requireSecret/ });
        });
    });
});
