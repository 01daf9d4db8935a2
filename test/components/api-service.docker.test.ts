import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { plainEnv } from "../../components/core/env";
import { Linkable, LinkRequest, ScrapeTargets } from "../../components/core/link";
import { Recorder, isSecretValue, redact, secretness, valueOf } from "../../components/testing/recorder";
import { dockerTarget, freshRecorder } from "../helpers/harness";
import * as rpc from "@pulumi/pulumi/runtime/rpc";
import { fakeProviderOutputs } from "../../components/testing/fakes";

const CONTAINER = "docker:index/container:Container";
const PLAINTEXT = "s3cr3t-Pa55word-for-tests";

/** True if `value` sits under a Pulumi secret marker somewhere along `path` (the engine may lift it). */
function secretAlong(root: unknown, path: (string | number)[]): boolean {
    let cur: unknown = root;
    for (const step of path) {
        if (isSecretValue(cur)) return true;
        cur = (cur as Record<string | number, unknown>)[step];
    }
    return isSecretValue(cur);
}

/** Replica i of the service "api": logical name `api-<release>-<i>`. */
function replica(rec: Recorder, i: number) {
    const found = rec.ofType(CONTAINER).filter(c => new RegExp(`^api-[0-9a-f]{8}-${i}$`).test(c.name));
    assert.equal(found.length, 1, `one replica ${i}: ${rec.ofType(CONTAINER).map(c => c.name)}`);
    return found[0]!;
}

describe("ApiService on docker", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    async function build(args: Record<string, unknown> = {}, production = false) {
        const target = await dockerTarget("dev", production);
        const { ApiService } = await import("../../components/api-service");
        // Deliberately NOT wrapped by the link: ApiService must wrap secret values itself.
        const secrets: Linkable = { linkLabel: "fake secrets", link: () => ({ env: [{ key: "DB_PASSWORD", value: PLAINTEXT, secret: true }] }) };
        const obs: Linkable = { linkLabel: "fake observability", link: ({ service }) => ({ env: [plainEnv("OTEL_SERVICE_NAME", service)] }) };
        const svc = new ApiService("api", { target, image: "ghcr.io/acme/api:1.4.2", link: [secrets, obs], env: { GO_ENV: "production" }, ...args } as any);
        await rec.settle();
        return { svc, target };
    }

    it("runs one hardened container per replica with autonaming and per-replica aliases", async () => {
        const { svc } = await build({}, true);
        const containers = rec.ofType(CONTAINER);
        assert.equal(containers.length, 2, "production default is 2 replicas");
        const release = svc.containers && (rec.get(CONTAINER, containers[0]!.name).inputs.labels as any[]).find(l => l.label === "slipway.release").value;
        assert.match(release, /^[0-9a-f]{8}$/);
        assert.deepEqual(containers.map(c => c.name).sort(), [`api-${release}-1`, `api-${release}-2`]);
        assert.strictEqual(svc.containers?.length, 2);
        const c = replica(rec, 2).inputs as Record<string, any>;
        assert.strictEqual(c.name, undefined, "no fixed container name, so replaces can create before delete");
        assert.deepEqual(c.networksAdvanced[0].aliases, ["api", "api-2"]);
        assert.strictEqual(c.networksAdvanced[0].name, "slipway-dev-net");
        assert.strictEqual(c.memory, 512);
        assert.strictEqual(c.cpus, "0.5");
        assert.strictEqual(c.user, "10001:10001");
        assert.deepEqual(c.securityOpts, ["no-new-privileges:true"]);
        assert.deepEqual(c.capabilities, { drops: ["ALL"] });
        assert.strictEqual(c.logDriver, "json-file");
        assert.deepEqual(c.logOpts, { "max-size": "10m", "max-file": "3" });
        assert.strictEqual(c.restart, "unless-stopped");
        assert.strictEqual(c.stopSignal, "SIGTERM");
        assert.strictEqual(c.stopTimeout, 30);
        assert.strictEqual(c.destroyGraceSeconds, 30);
        assert.strictEqual(c.mustRun, true);
        assert.strictEqual(c.readOnly, false);
        assert.strictEqual(c.wait, true);
        assert.ok(c.waitTimeout >= 10 + (2 + 5) * 4, "wait outlasts start period plus every retry");
        // As the provider reads them back, so the next preview is clean.
        assert.strictEqual(c.memorySwap, c.memory, "swap pinned to memory (Docker would store 2x)");
        const opts = replica(rec, 1).options;
        assert.strictEqual(opts.deleteBeforeReplace, false);
        assert.ok(opts.provider?.includes("host-dev-provider"), "created through the target's provider");
    });

    it("labels containers with target labels and component, name and replica", async () => {
        await build();
        const labels = Object.fromEntries((replica(rec, 1).inputs.labels as any[]).map(l => [l.label, l.value]));
        assert.deepEqual(labels, {
            "slipway.component": "ApiService", "slipway.environment": "dev", "slipway.managed": "true",
            "slipway.name": "api", "slipway.release": replica(rec, 1).name.split("-")[1], "slipway.replica": "1", "slipway.stack": "test",
        });
    });

    describe("releases: replicas are named by release, so a rollout creates the new set before deleting the old", () => {
        const names = async (args: Record<string, unknown>) => {
            rec.clear();
            await build(args);
            return rec.ofType(CONTAINER).map(c => c.name).sort();
        };

        it("a new image, env value or check is a new release; the same settings are the same names", async () => {
            const base = await names({ replicas: 2 });
            assert.deepEqual(await names({ replicas: 2 }), base, "deterministic");
            for (const change of [{ image: "ghcr.io/acme/api:1.4.3" }, { env: { GO_ENV: "staging" } }, { healthcheck: { retries: 4 } }, { port: 9000 }]) {
                const next = await names({ replicas: 2, ...change });
                assert.equal(next.length, 2);
                assert.ok(next.every(n => !base.includes(n)), `${JSON.stringify(change)} makes new logical names: ${next}`);
            }
        });

        it("what the provider updates in place (memory, restart, replica count) keeps the release", async () => {
            const base = await names({ replicas: 2 });
            assert.deepEqual(await names({ replicas: 2, memory: "1g", restart: "always" }), base);
            const three = await names({ replicas: 3 });
            assert.deepEqual(three.slice(0, 2), base, "scaling adds a replica to the same release");
        });

        it("an explicit release names the replicas; a bad one is refused before anything registers", async () => {
            assert.deepEqual(await names({ replicas: 2, release: "3f9a2c1" }), ["api-3f9a2c1-1", "api-3f9a2c1-2"]);
            rec.clear();
            await assert.rejects(build({ release: "Rel/1" }), /ApiService "api": release: "Rel\/1" is not a release name\. Fix: /);
            assert.equal(rec.ofType(CONTAINER).length, 0);
        });
    });

    it("tells the image its port as PORT, so a service off 8080 listens where checks and routes connect", async () => {
        await build({ port: 3000, replicas: 2 });
        for (const i of [1, 2]) {
            const envs = redact(replica(rec, i).inputs.envs, true) as string[];
            assert.deepEqual(envs.filter(e => e.startsWith("PORT")), ["PORT=3000"], `replica ${i}`);
        }
        rec.clear();
        // The same value set by hand is accepted and not doubled.
        await build({ port: 3000, env: { PORT: "3000" } });
        assert.deepEqual((redact(replica(rec, 1).inputs.envs, true) as string[]).filter(e => e.startsWith("PORT")), ["PORT=3000"]);
    });

    it("delivers secrets as 0444 root-owned files (Docker's own secret mode; no owner, which breaks numeric users), never in env", async () => {
        await build();
        const inputs = replica(rec, 1).inputs;
        const envs = redact(inputs.envs, true) as string[];
        assert.deepEqual(envs, ["DB_PASSWORD_FILE=/run/secrets/DB_PASSWORD", "GO_ENV=production", "OTEL_SERVICE_NAME=api", "PORT=8080"]);
        for (const [k, v] of Object.entries(inputs)) {
            if (k === "uploads") continue;
            assert.ok(!JSON.stringify(redact(v, true)).includes(PLAINTEXT), `${k} must not carry the secret`);
        }
        assert.ok(secretAlong(inputs, ["uploads", 0, "content"]), "upload content is secret");
        const up = (redact(inputs.uploads, true) as any[])[0];
        assert.deepEqual(up, { file: "/run/secrets/DB_PASSWORD", content: PLAINTEXT, permissions: "0444" });
    });

    it("puts secrets in env, still as secrets, when secretDelivery is env", async () => {
        await build({ secretDelivery: "env", user: "1000:2000" });
        const inputs = replica(rec, 1).inputs as any;
        assert.strictEqual(inputs.uploads, undefined);
        assert.ok(secretAlong(inputs, ["envs", 0]), "the DB_PASSWORD env entry is secret");
        assert.ok((redact(inputs.envs, true) as string[]).includes(`DB_PASSWORD=${PLAINTEXT}`));
        assert.strictEqual(inputs.user, "1000:2000");
    });

    it("probes readiness with a shell command that works without curl, or with the given command", async () => {
        await build({ port: 3000, readyPath: "/readyz", healthcheck: { retries: 5 } });
        const hc = replica(rec, 1).inputs.healthcheck as any;
        assert.strictEqual(hc.tests[0], "CMD-SHELL");
        assert.match(hc.tests[1], /^wget -q -O \/dev\/null 'http:\/\/127\.0\.0\.1:3000\/readyz' \|\| curl -fsS/);
        assert.deepEqual({ ...hc, tests: undefined }, { tests: undefined, interval: "2s", timeout: "5s", retries: 5, startPeriod: "10s" });
        rec.clear();
        await build({ healthcheck: { command: ["CMD", "/app/healthcheck"] } });
        assert.deepEqual((replica(rec, 1).inputs.healthcheck as any).tests, ["CMD", "/app/healthcheck"]);
    });

    it("maps limits, restart policy, stop signal, logs and read-only root", async () => {
        await build({ memory: "1.5g", cpus: 2, restart: "on-failure", stopSignal: "SIGQUIT", stopGracePeriodSeconds: 60,
            logs: { maxSize: "50m", maxFiles: 5 }, readOnlyRootFilesystem: true, secretDelivery: "env", replicas: 3 });
        assert.strictEqual(rec.ofType(CONTAINER).length, 3);
        const c = replica(rec, 3).inputs as any;
        assert.strictEqual(c.memory, 1536);
        assert.strictEqual(c.cpus, "2");
        assert.strictEqual(c.restart, "on-failure");
        assert.strictEqual(c.stopSignal, "SIGQUIT");
        assert.strictEqual(c.stopTimeout, 60);
        assert.deepEqual(c.logOpts, { "max-size": "50m", "max-file": "5" });
        assert.strictEqual(c.readOnly, true);
        assert.deepEqual(c.tmpfs, { "/tmp": "rw,noexec,nosuid,size=64m" });
    });

    it("pulls a reference with RemoteImage and runs the pulled image", async () => {
        await build();
        const img = rec.get("docker:index/remoteImage:RemoteImage", "api-image");
        assert.strictEqual(img.inputs.name, "ghcr.io/acme/api:1.4.2");
        assert.strictEqual(img.inputs.keepLocally, true);
        assert.ok(replica(rec, 1).options.dependsOn.includes(img.urn), "the container waits for (and uses) the image");
    });

    it("builds a local context with docker.Image, never pushing", async () => {
        await build({ image: undefined, build: { context: "test", dockerfile: "../package.json", args: { VERSION: "1.4.2" }, platform: "linux/amd64" } });
        const img = rec.get("docker:index/image:Image", "api-image").inputs as any;
        assert.strictEqual(img.skipPush, true);
        assert.strictEqual(img.imageName, "slipway-dev-api:slipway");
        assert.deepEqual(img.build, { context: "test", dockerfile: "../package.json", args: { VERSION: "1.4.2" }, platform: "linux/amd64" });
        assert.strictEqual(rec.ofType("docker:index/remoteImage:RemoteImage").length, 0);
    });

    it("exposes a Gateway-ready endpoint and the internal URL", async () => {
        const { svc } = await build({ port: 9000, replicas: 2 });
        assert.deepEqual(svc.endpoint, { name: "api", port: 9000, replicas: 2, dialHosts: ["api-1", "api-2"], healthPath: "/health", readyPath: "/ready" });
        assert.strictEqual(await valueOf(svc.internalUrl), "http://api:9000");
        assert.strictEqual(await secretness(svc.internalUrl), false);
        const comp = rec.get("slipway:service:ApiService", "api");
        assert.ok(comp.outputs, "registerOutputs ran");
        assert.deepEqual(rec.descendants(comp.urn).map(r => r.name.replace(/-[0-9a-f]{8}-/, "-R-")).sort(), ["api-R-1", "api-R-2", "api-image"]);
    });

    it("asks each link once with its name and port, and hands its replicas to a linked scraper once they are declared", async () => {
        const requests: LinkRequest[] = [];
        const scraped: { targets: ScrapeTargets; dependsOn: pulumi.Resource[] }[] = [];
        const scraper: Linkable = {
            linkLabel: "fake scraper",
            link: (req) => {
                requests.push(req);
                return { docker: { scrape: { addTargets: (targets, dependsOn) => scraped.push({ targets, dependsOn }) } } };
            },
        };
        const { svc } = await build({ port: 9000, replicas: 2, link: [scraper] });
        assert.deepEqual(requests, [{ service: "api", port: 9000 }]);
        assert.equal(scraped.length, 1);
        const release = replica(rec, 1).name.split("-")[1];
        assert.deepEqual(scraped[0]!.targets, { service: "api", hosts: ["api-1", "api-2"], port: 9000, release });
        assert.deepEqual(scraped[0]!.dependsOn, svc.containers, "the scraper waits for the replicas");
    });

    it("passes a secret Output env value through without unwrapping it", async () => {
        await build({ env: { SENTRY_DSN: pulumi.secret("https://k@sentry.example.com/1") } });
        const inputs = replica(rec, 1).inputs as any;
        const i = (redact(inputs.envs, true) as string[]).findIndex(e => e.startsWith("SENTRY_DSN="));
        assert.ok(secretAlong(inputs, ["envs", i]));
    });

    describe("migrate and volumes (issue 16)", () => {
        const MIGRATE = { command: ["/usr/local/bin/api", "migrate"], timeoutSeconds: 120 };
        /** A database that hands over a dump job, as ManagedDatabase with backups does. */
        const db = (): Linkable => ({
            linkLabel: "fake db",
            link: () => ({
                docker: {
                    backupBeforeMigration: {
                        database: "db",
                        job: (release: string, timeoutSeconds: number) => ({
                            image: "sha256:pg", entrypoints: ["timeout", String(timeoutSeconds), "/bin/sh", "-c", "dump"], envs: [`BACKUP_TAG=${release}`],
                            uploads: [], volumes: [{ volumeName: "db-backups", containerPath: "/backups" }], labels: { "slipway.role": "backup-before-migration" }, memoryMiB: 256,
                        }),
                    },
                },
            }),
        });
        const jobs = () => rec.ofType(CONTAINER).filter(c => /^api-(migrate|backup-db)-[0-9a-f]{8}$/.test(c.name));

        it("runs the migration once per release in a one-shot container of the replicas' image, env and hardening; replicas wait for it", async () => {
            await build({ migrate: MIGRATE, replicas: 2 });
            const [m] = jobs();
            const release = m!.name.slice("api-migrate-".length);
            assert.equal(m!.name, `api-migrate-${release}`);
            const j = m!.inputs as Record<string, any>, r = replica(rec, 1).inputs as Record<string, any>;
            assert.deepEqual([j.attach, j.logs, j.mustRun, j.rm, j.restart], [true, true, false, undefined, "no"]);
            assert.deepEqual(j.entrypoints, ["timeout", "-k", "10", "120"]);
            assert.deepEqual(j.command, MIGRATE.command);
            for (const k of ["image", "envs", "uploads", "user", "securityOpts", "capabilities", "memory", "memorySwap", "cpus", "readOnly"]) {
                assert.deepEqual(redact(j[k], true), redact(r[k], true), k);
            }
            assert.deepEqual(j.networksAdvanced, [{ name: "slipway-dev-net" }], "no service aliases: it never gets traffic");
            assert.equal(j.healthcheck, undefined);
            for (const i of [1, 2]) {
                assert.ok(replica(rec, i).options.dependsOn.includes(m!.urn), `replica ${i} waits for the migration`);
                const labels = Object.fromEntries((replica(rec, i).inputs.labels as any[]).map(l => [l.label, l.value]));
                assert.equal(labels["slipway.migration-exit-code"], "0");
                assert.ok(replica(rec, i).propertyDependencies?.labels?.includes(m!.urn), "the label is read from the migration's outputs");
            }
        });

        it("keeps what a job prints a secret in the state, and the exit code the next step reads plain", async () => {
            // The engine with additionalSecretOutputs hands the job's logs back as a secret; mocks
            // do not apply it, so this recorder returns them that way itself.
            const printed = "postgres://app:hunter2@db:5432/app";
            rec = await Recorder.start({
                outputs: a => (a.inputs.attach ? { exitCode: 0, containerLogs: { [rpc.specialSigKey]: rpc.specialSecretSig, value: printed } } : fakeProviderOutputs(a)),
            });
            try {
                await build({ migrate: MIGRATE, link: [db()] }, true);
                assert.equal(jobs().length, 2);
                for (const j of jobs()) assert.deepEqual(j.options.additionalSecretOutputs, ["containerLogs"], j.name);
                for (const r of [replica(rec, 1), jobs().find(c => c.name.startsWith("api-migrate-"))!]) {
                    const labels = (r.wire.labels as { label: string; value: unknown }[]).filter(l => /exit-code/.test(l.label));
                    assert.ok(labels.length > 0 && labels.every(l => l.value === "0"), `${r.name}: ${JSON.stringify(labels)}`);
                }
                assert.ok(!JSON.stringify(rec.resources.map(r => r.wire)).includes("hunter2"));
            } finally {
                rec = await freshRecorder();
            }
        });

        it("dumps each linked database first in production (backupFirst's default), not in dev", async () => {
            await build({ migrate: MIGRATE, link: [db()] }, true);
            const backup = jobs().find(c => c.name.startsWith("api-backup-db-"))!;
            const migration = jobs().find(c => c.name.startsWith("api-migrate-"))!;
            assert.ok(backup, jobs().map(c => c.name).join());
            assert.equal(backup.name.slice(-8), migration.name.slice(-8), "same release");
            assert.deepEqual((backup.inputs as any).envs, [`BACKUP_TAG=${migration.name.slice(-8)}`]);
            assert.deepEqual([(backup.inputs as any).attach, (backup.inputs as any).mustRun], [true, false]);
            assert.ok(migration.options.dependsOn.includes(backup.urn));
            assert.ok(migration.propertyDependencies?.labels?.includes(backup.urn), "the migration reads the dump's exit code");
            rec.clear();
            await build({ migrate: MIGRATE, link: [db()] }, false);
            assert.deepEqual(jobs().map(c => c.name.replace(/[0-9a-f]{8}$/, "<r>")), ["api-migrate-<r>"]);
        });

        it("mounts named volumes into replicas and the migration, protected and retained in production", async () => {
            await build({ migrate: MIGRATE, volumes: [{ name: "uploads", path: "/var/lib/app/uploads" }, { name: "seed", path: "/srv/seed", readOnly: true }] }, true);
            const vols = rec.ofType("docker:index/volume:Volume");
            assert.deepEqual(vols.map(v => [v.name, (v.inputs as any).name, v.options.protect, v.options.retainOnDelete]), [
                ["api-volume-uploads", "slipway-dev-api-uploads", true, true],
                ["api-volume-seed", "slipway-dev-api-seed", true, true],
            ]);
            const mounts = [{ volumeName: "slipway-dev-api-uploads", containerPath: "/var/lib/app/uploads" }, { volumeName: "slipway-dev-api-seed", containerPath: "/srv/seed", readOnly: true }];
            assert.deepEqual((replica(rec, 1).inputs as any).volumes, mounts);
            assert.deepEqual((jobs()[0]!.inputs as any).volumes, mounts);
            rec.clear();
            await build({ volumes: [{ name: "uploads", path: "/data" }] }, false);
            assert.deepEqual(rec.ofType("docker:index/volume:Volume").map(v => [v.options.protect ?? false, v.options.retainOnDelete ?? false]), [[false, false]]);
        });

        it("keeps the release of a service without migrate or volumes", async () => {
            const { releaseOf } = await import("../../components/api-service/docker");
            const { validateApiService } = await import("../../components/api-service");
            const target = await dockerTarget("dev");
            const plain = validateApiService("api", { target, image: "ghcr.io/acme/api:1.4.2" });
            assert.ok(!("migrate" in plain) && !("volumes" in plain));
            const migrating = validateApiService("api", { target, image: "ghcr.io/acme/api:1.4.2", migrate: MIGRATE });
            assert.notEqual(releaseOf(migrating), releaseOf(plain), "adding a release step is a new release");
        });
    });
});
