import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { goDuration, parseGoDuration } from "../../components/core/docker";
import { backupHealthcheck } from "../../components/managed-database/scripts";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import { isSecretValue, redact, Recorder, secretness, valueOf } from "../../components/testing/recorder";
import { dockerTarget, freshRecorder } from "../helpers/harness";

const CONTAINER = "docker:index/container:Container";
const VOLUME = "docker:index/volume:Volume";
const PASSWORD = "random:index/randomPassword:RandomPassword";
const KNOWN = "s3cr3t:p@ss/w%rd?#";

type Upload = { file: string; content: unknown; permissions?: string; owner?: string; executable?: boolean };
/** The uploads list goes over the wire as one secret (it contains secrets); unwrap it for inspection. */
function uploadsOf(r: { inputs: Record<string, unknown> }): Upload[] {
    assert.ok(isSecretValue(r.inputs.uploads), "a list of uploads carrying secrets must be secret as a whole");
    return redact(r.inputs.uploads, true) as Upload[];
}
const labels = (r: { inputs: Record<string, unknown> }) =>
    Object.fromEntries((r.inputs.labels as { label: string; value: string }[]).map(l => [l.label, l.value]));

type Healthcheck = { tests: string[]; interval?: string; timeout?: string; startPeriod?: string; startInterval?: string; retries?: number };
/**
 * Inputs the real provider reads back in another form show as a change on every preview: each
 * duration must already be Go's time.Duration.String() of itself, and swap must be pinned.
 */
function assertReadBackForm(c: { name: string; inputs: Record<string, unknown> }) {
    const hc = c.inputs.healthcheck as Healthcheck | undefined;
    for (const field of ["interval", "timeout", "startPeriod", "startInterval"] as const) {
        const v = hc?.[field];
        if (v !== undefined) assert.equal(v, goDuration(parseGoDuration(v)), `${c.name} healthcheck.${field} ${JSON.stringify(v)} is not Go's form`);
    }
    if (c.inputs.memory !== undefined) assert.equal(c.inputs.memorySwap, c.inputs.memory, `${c.name}: memorySwap must equal memory`);
}

describe("ManagedDatabase on docker", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    async function build(args: Record<string, unknown> = {}, production = false) {
        const { ManagedDatabase } = await import("../../components/managed-database");
        const target = await dockerTarget(production ? "prod" : "dev", production);
        const db = new ManagedDatabase("db", { target, password: KNOWN, ...args });
        await rec.settle();
        return db;
    }

    it("runs postgres with the password as a file, never in env, and a TCP pg_isready healthcheck", async () => {
        await build({ database: "shop" });
        const c = rec.get(CONTAINER, "db-server");
        const envs = c.inputs.envs as string[];
        assert.deepEqual(envs, ["POSTGRES_DB=shop", "POSTGRES_PASSWORD_FILE=/run/secrets/POSTGRES_PASSWORD", "POSTGRES_USER=app"]);
        const up = uploadsOf(c).find(u => u.file === "/run/secrets/POSTGRES_PASSWORD")!;
        assert.equal(up.content, KNOWN);
        assert.equal(up.permissions, "0400");
        assert.equal(up.owner, "999");
        assert.deepEqual((c.inputs.healthcheck as { tests: string[] }).tests,
            ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "app", "-d", "shop"]);
        assert.equal(c.inputs.stopSignal, "SIGINT");
        assert.ok((c.inputs.stopTimeout as number) >= 30);
        assert.equal(c.inputs.restart, "unless-stopped");
        assert.equal(c.options.deleteBeforeReplace, true);
        assert.equal(c.inputs.name, undefined, "no fixed container name");
        // The only place the password may appear is inside a secret.
        assert.ok(!JSON.stringify(redact(rec.resources.map(r => r.inputs))).includes("p@ss"));
    });

    it("joins the network under its name, publishes nothing by default and only on publishAddress when asked", async () => {
        await build();
        const c = rec.get(CONTAINER, "db-server");
        const nets = c.inputs.networksAdvanced as { name: string; aliases: string[] }[];
        assert.deepEqual(nets.map(n => n.aliases), [["db"]]);
        assert.equal(c.inputs.ports, undefined);
        rec.clear();
        await build({ publishPort: 15432 });
        const published = rec.ofType(CONTAINER).find(r => r.name === "db-server")!;
        assert.deepEqual(published.inputs.ports, [{ internal: 5432, external: 15432, ip: "127.0.0.1" }]);
        assert.equal(published.options.deleteBeforeReplace, true, "the old container frees the host port first");
    });

    it("keeps the data volume in production only, stamped with the major version", async () => {
        await build({}, false);
        const dev = rec.get(VOLUME, "db-data");
        assert.equal(dev.inputs.name, "slipway-dev-db-data-pg16");
        assert.equal(dev.options.protect, false);
        assert.equal(dev.options.retainOnDelete, false);
        rec.clear();
        await build({ version: "15", image: "postgres:15-bookworm" }, true);
        const prod = rec.get(VOLUME, "db-data");
        assert.equal(prod.options.protect, true);
        assert.equal(prod.options.retainOnDelete, true);
        assert.equal(labels(prod)["slipway.pg-major"], "15");
        assert.equal(prod.inputs.name, "slipway-prod-db-data-pg15");
        const server = rec.get(CONTAINER, "db-server");
        assert.equal(server.options.protect, false, "the container is replaceable; the volume carries the data");
        assert.equal(labels(server)["slipway.component"], "ManagedDatabase");
    });

    it("gives each PostgreSQL major its own data volume, and changes the volume for nothing else", async () => {
        // Docker returns the existing volume for a create under a taken name, so a replace with an
        // unchanged name would delete the live volume: only a new name may change the volume.
        const volumes = async (args: Record<string, unknown>) => {
            rec.clear();
            await build(args);
            return rec.ofType(VOLUME).map(v => [v.name, v.inputs]);
        };
        const backup = { intervalMinutes: 60, keep: 3 };
        const base = await volumes({ backup });
        for (const change of [
            { backup: { intervalMinutes: 120, keep: 9 } }, { backup, memoryMb: 2048 }, { backup, publishPort: 15432 },
            { backup, image: "postgres:16-alpine" }, { backup, password: "another-password" }, { backup, extensions: ["pgcrypto"] },
        ]) {
            assert.deepEqual(await volumes(change), base, JSON.stringify(change));
        }
        const pg17 = await volumes({ backup, version: "17" });
        const name = (vs: unknown[][], n: string) => (vs.find(v => v[0] === n)![1] as { name: string }).name;
        assert.equal(name(base, "db-data"), "slipway-dev-db-data-pg16");
        assert.equal(name(pg17, "db-data"), "slipway-dev-db-data-pg17", "a new major is a new volume");
        assert.equal(name(pg17, "db-backups"), name(base, "db-backups"), "dumps outlive a major upgrade");
        assert.deepEqual(pg17.find(v => v[0] === "db-backups"), base.find(v => v[0] === "db-backups"));
        assert.deepEqual((rec.get(CONTAINER, "db-server").inputs.volumes as { volumeName: string }[]).map(v => v.volumeName), ["slipway-dev-db-data-pg17"]);
    });

    it("generates a 32-character URL-safe password when none is given and keeps it secret", async () => {
        const { ManagedDatabase } = await import("../../components/managed-database");
        const db = new ManagedDatabase("db", { target: await dockerTarget() });
        await rec.settle();
        const p = rec.get(PASSWORD, "db-password");
        assert.equal(p.inputs.length, 32);
        assert.equal(p.inputs.special, false);
        assert.equal(await secretness(db.password), true);
        assert.equal(await secretness(db.url), true);
    });

    it("builds an encoded sslmode=disable URL and links it as a secret DATABASE_URL", async () => {
        const db = await build({ database: "shop" });
        assert.equal(await valueOf(db.url), `postgresql://app:${encodeURIComponent(KNOWN)}@db:5432/shop?sslmode=disable`);
        const link = db.link({ service: "api", port: 8080 });
        assert.deepEqual(Object.keys(link).sort(), ["docker", "env"], "no App alerts or scrape targets");
        // Ordering only, never an output: the replicas wait for the healthy server.
        assert.deepEqual(link.docker?.dependsOn, [db.nodes.container]);
        const env = link.env ?? [];
        const byKey = Object.fromEntries(env.map(e => [e.key, e]));
        assert.deepEqual(Object.keys(byKey).sort(), ["DATABASE_URL", "PGDATABASE", "PGHOST", "PGPORT", "PGUSER"]);
        assert.equal(byKey.DATABASE_URL!.secret, true);
        assert.equal(await pulumi.isSecret(pulumi.output(byKey.DATABASE_URL!.value)), true);
        assert.equal(byKey.PGHOST!.secret, false);
        assert.equal(await valueOf(byKey.PGHOST!.value), "db");
    });

    it("runs a backup sidecar in production with pgpass as a secret file and labels a harness can find", async () => {
        await build({ version: "16" }, true);
        const b = rec.get(CONTAINER, "db-backup");
        const l = labels(b);
        assert.equal(l["slipway.role"], "backup");
        assert.equal(l["slipway.name"], "db");
        const envs = b.inputs.envs as string[];
        assert.ok(envs.includes("BACKUP_INTERVAL_SECONDS=86400"));
        assert.ok(envs.includes("BACKUP_KEEP=7"));
        assert.ok(envs.includes("PGHOST=db"));
        assert.ok(!envs.some(e => e.startsWith("PGPASSWORD")));
        const pgpass = uploadsOf(b)[0]!;
        assert.equal(pgpass.file, "/run/secrets/pgpass");
        assert.equal(pgpass.permissions, "0600");
        assert.equal(pgpass.content, "*:*:*:app:s3cr3t\\:p@ss/w%rd?#\n");
        assert.match((b.inputs.entrypoints as string[])[2]!, /pg_dump -Fc/);
        const vol = rec.get(VOLUME, "db-backups");
        assert.equal(vol.options.protect, true);
        assert.ok(b.options.dependsOn.includes(rec.get(CONTAINER, "db-server").urn), "backups start after the server");
    });

    it("hands a linked service with migrate a dump job on the sidecar's image, volume, credentials and settings (issue 16)", async () => {
        const db = await build({ version: "16" }, true);
        const { ApiService } = await import("../../components/api-service");
        const target = await dockerTarget("prod", true);
        new ApiService("api", { target, image: "ghcr.io/acme/api:1.4.2", link: [db], migrate: { command: ["/app/migrate"], timeoutSeconds: 90 } });
        await rec.settle();
        const sidecar = rec.get(CONTAINER, "db-backup");
        const job = rec.ofType(CONTAINER).find(c => /^api-backup-db-[0-9a-f]{8}$/.test(c.name))!;
        assert.ok(job, "backupFirst is on by default in production");
        const release = job.name.slice(-8);
        assert.equal(job.inputs.image, sidecar.inputs.image);
        assert.deepEqual(job.inputs.volumes, sidecar.inputs.volumes, "the dump lands beside the scheduled ones");
        assert.deepEqual(uploadsOf(job), uploadsOf(sidecar));
        const envs = job.inputs.envs as string[];
        assert.deepEqual(envs.filter(e => /^PG/.test(e)), (sidecar.inputs.envs as string[]).filter(e => /^PG/.test(e)));
        assert.ok(envs.includes(`BACKUP_TAG=${release}`));
        const entry = job.inputs.entrypoints as string[];
        assert.deepEqual(entry.slice(0, 6), ["timeout", "-k", "10", "90", "/bin/sh", "-c"]);
        assert.match(entry[6]!, /pg_dump -Fc/);
        assert.match(entry[6]!, /pg_restore --list/);
        assert.equal(labels(job)["slipway.role"], "backup-before-migration");
        assert.ok(job.options.dependsOn.includes(rec.get(CONTAINER, "db-server").urn), "after a healthy server");
    });

    it("has no backup sidecar in dev unless asked, and honours the interval", async () => {
        await build();
        assert.equal(rec.ofType(CONTAINER).filter(r => r.name === "db-backup").length, 0);
        rec.clear();
        await build({ backup: { intervalMinutes: 60, keep: 3 } });
        const envs = rec.get(CONTAINER, "db-backup").inputs.envs as string[];
        assert.ok(envs.includes("BACKUP_INTERVAL_SECONDS=3600"));
        assert.ok(envs.includes("BACKUP_KEEP=3"));
    });

    it("uploads an init script and one secret password file per schema role, and links schema URLs by service name", async () => {
        const db = await build({ extensions: ["postgis"], schemas: [{ name: "core" }, { name: "media", user: "media_svc" }], image: "postgis/postgis:16-3.4" });
        const c = rec.get(CONTAINER, "db-server");
        const ups = uploadsOf(c);
        const init = ups.find(u => u.file.startsWith("/docker-entrypoint-initdb.d/"))!;
        assert.ok(!(init.content as string).includes(KNOWN), "the script holds no secret");
        assert.match(init.content as string, /CREATE EXTENSION IF NOT EXISTS "postgis";/);
        assert.match(init.content as string, /CREATE SCHEMA IF NOT EXISTS "media" AUTHORIZATION "media_svc";/);
        assert.equal(init.executable, true);
        const files = ups.filter(u => u.file.startsWith("/run/secrets/")).map(u => u.file).sort();
        assert.deepEqual(files, ["/run/secrets/PG_PASSWORD_CORE", "/run/secrets/PG_PASSWORD_MEDIA_SVC", "/run/secrets/POSTGRES_PASSWORD"]);
        assert.deepEqual(rec.ofType(PASSWORD).map(r => r.name).sort(), ["db-password-core", "db-password-media"]);
        const media = db.link({ service: "media", port: 8080 }).env ?? [];
        assert.equal(await valueOf(media.find(e => e.key === "PGUSER")!.value), "media_svc");
        assert.equal(await secretness(media.find(e => e.key === "DATABASE_URL")!.value), true);
        assert.equal(await valueOf(media.find(e => e.key === "DATABASE_URL")!.value), await valueOf(db.schemaUrls.media!));
        const api = db.link({ service: "api", port: 8080 }).env ?? [];
        assert.equal(await valueOf(api.find(e => e.key === "PGUSER")!.value), "app");
        assert.equal(api.find(e => e.key === "DATABASE_URL")!.value, db.url);
    });

    it("runs server and backup sidecar on the pulled image's id, so an unchanged tag never replaces Postgres", async () => {
        await build({ image: "postgres:16-bookworm" }, true);
        const images = rec.ofType("docker:index/remoteImage:RemoteImage");
        assert.deepEqual(images.map(i => [i.name, i.inputs.name, i.inputs.keepLocally]), [["db-image", "postgres:16-bookworm", true]]);
        const img = images[0]!;
        assert.equal(img.parent, rec.get("slipway:database:ManagedDatabase", "db").urn);
        assert.ok(img.options.provider?.includes("host-prod-provider"));
        const id = fakeProviderOutputs({ type: img.type, name: img.name, inputs: img.inputs, custom: true } as never)!.imageId;
        assert.match(String(id), /^sha256:/);
        assert.equal(rec.get(CONTAINER, "db-server").inputs.image, id);
        assert.equal(rec.get(CONTAINER, "db-backup").inputs.image, id);
    });

    it("runs Alpine images' postgres uid 70 on the secret files", async () => {
        await build({ image: "postgres:16-alpine" });
        const ups = uploadsOf(rec.get(CONTAINER, "db-server"));
        assert.equal(ups[0]!.owner, "70");
    });

    it("writes every container input in the provider's read-back form: Go durations, swap pinned to memory", async () => {
        for (const [args, production] of [[{}, true], [{ backup: { intervalMinutes: 5, keep: 2 }, memoryMb: 2048 }, false]] as const) {
            rec.clear();
            await build(args, production);
            const containers = rec.ofType(CONTAINER);
            assert.deepEqual(containers.map(c => c.name).sort(), ["db-backup", "db-server"]);
            for (const c of containers) {
                assert.ok(c.inputs.healthcheck, `${c.name} has a healthcheck`);
                assert.equal(typeof c.inputs.memory, "number", `${c.name} has a memory limit`);
                assertReadBackForm(c);
            }
            assert.equal(rec.get(CONTAINER, "db-server").inputs.memory, production ? 512 : 2048);
        }
        const hc = rec.get(CONTAINER, "db-server").inputs.healthcheck as Healthcheck;
        assert.deepEqual([hc.interval, hc.timeout, hc.startPeriod], ["2s", "5s", "1m0s"]);
    });

    it("runs both containers with no-new-privileges, the server with only the capabilities its entrypoint uses, the sidecar with none", async () => {
        await build({}, true);
        for (const c of rec.ofType(CONTAINER)) {
            assert.ok((c.inputs.securityOpts as string[]).includes("no-new-privileges:true"), c.name);
            assert.deepEqual((c.inputs.capabilities as { drops: string[] }).drops, ["ALL"], c.name);
        }
        // Measured on the engine: setpriv/gosu need SETUID+SETGID; the official entrypoint reads the
        // postgres-owned password file and walks the 0700 data directory as root (DAC_READ_SEARCH).
        assert.deepEqual((rec.get(CONTAINER, "db-server").inputs.capabilities as { adds: string[] }).adds, ["CAP_DAC_READ_SEARCH", "CAP_SETGID", "CAP_SETUID"]);
        assert.equal((rec.get(CONTAINER, "db-backup").inputs.capabilities as { adds?: string[] }).adds, undefined);
    });

    it("gives linked replicas nothing built from the server's outputs, so a server replacement leaves them alone", async () => {
        const target = await dockerTarget();
        const { ManagedDatabase } = await import("../../components/managed-database");
        const { ApiService } = await import("../../components/api-service");
        const db = new ManagedDatabase("db", { target, password: KNOWN });
        new ApiService("api", { target, image: "ghcr.io/acme/api:1.4.2", replicas: 2, link: [db] } as any);
        await rec.settle();
        const server = rec.get(CONTAINER, "db-server");
        const replicas = rec.ofType(CONTAINER).filter(c => /^api-[0-9a-f]{8}-\d$/.test(c.name));
        assert.equal(replicas.length, 2);
        for (const r of replicas) {
            // An input built from the server's outputs would be unknown whenever it is replaced.
            const fromServer = Object.entries(r.propertyDependencies ?? {}).filter(([, deps]) => deps.includes(server.urn)).map(([k]) => k);
            assert.deepEqual(fromServer, [], `${r.name}: inputs derived from the server`);
            assert.ok(r.options.dependsOn.includes(server.urn), `${r.name} is created after the server`);
            const env = redact(r.inputs.envs, true) as string[];
            assert.ok(env.includes("PGHOST=db"), `${r.name}: the network alias, ${env}`);
        }
    });

    it("calls the backup sidecar healthy only while its last successful dump is recent", async () => {
        await build({ backup: { intervalMinutes: 60, keep: 3 } });
        const b = rec.get(CONTAINER, "db-backup");
        const hc = b.inputs.healthcheck as Healthcheck;
        assert.deepEqual(hc.tests, ["CMD-SHELL", backupHealthcheck()]);
        const envs = b.inputs.envs as string[];
        // One interval plus 15 minutes for the dump; the same 15 minutes to make the first one,
        // granted by the probe itself so a failure reported early is not hidden by a start period.
        assert.ok(envs.includes("BACKUP_MAX_AGE_SECONDS=4500"), envs.join(" "));
        assert.ok(envs.includes("BACKUP_FIRST_DUMP_SECONDS=900"), envs.join(" "));
        assert.ok(parseGoDuration(hc.startPeriod!) <= 60, hc.startPeriod);
        // Probed every few seconds, so a fresh stack reports healthy soon after the first dump.
        assert.ok(parseGoDuration(hc.interval!) <= 15, hc.interval);
        assert.ok((hc.retries ?? 0) >= 1);
        assert.equal(b.inputs.wait, undefined, "`up` does not wait for the first dump");
    });

    it("off-site backups: keys as root-owned secret files, settings in env, the restore command, its own image", async () => {
        const recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
        const keyId = "AKIAPLANTED0000KEYID", secretKey = "planted/secret+access/key0000";
        await build({ backup: { offsite: { endpoint: "https://fra1.digitaloceanspaces.com", bucket: "acme-db", accessKeyId: keyId, secretAccessKey: pulumi.secret(secretKey), recipient } } });
        const b = rec.get(CONTAINER, "db-backup");
        const envs = b.inputs.envs as string[];
        for (const e of [`BACKUP_AGE_RECIPIENT=${recipient}`, "BACKUP_S3_BUCKET=acme-db", "BACKUP_S3_ENDPOINT=https://fra1.digitaloceanspaces.com",
            "BACKUP_S3_PREFIX=slipway-dev-db/", "BACKUP_OFFSITE_KEEP=30", "BACKUP_S3_PATH_STYLE=false", "BACKUP_S3_REGION=us-east-1",
            "BACKUP_S3_ACCESS_KEY_ID_FILE=/run/secrets/BACKUP_S3_ACCESS_KEY_ID", "BACKUP_S3_SECRET_ACCESS_KEY_FILE=/run/secrets/BACKUP_S3_SECRET_ACCESS_KEY"]) {
            assert.ok(envs.includes(e), `${e} in ${envs.join(" ")}`);
        }
        assert.ok(!JSON.stringify(envs).includes(keyId) && !JSON.stringify(envs).includes(secretKey));
        const ups = uploadsOf(b);
        for (const [key, value] of [["BACKUP_S3_ACCESS_KEY_ID", keyId], ["BACKUP_S3_SECRET_ACCESS_KEY", secretKey]]) {
            const u = ups.find(x => x.file === `/run/secrets/${key}`)!;
            assert.deepEqual([redact(u.content, true), u.permissions, u.owner], [value, "0444", "0"]);
        }
        const restore = ups.find(x => x.file === "/usr/local/bin/slipway-restore")!;
        assert.equal(restore.executable, true);
        assert.match(String(restore.content), /age -d -i "\$tmp\/identity"/);
        // Its own image, since the server image has neither age nor rclone.
        const images = rec.ofType("docker:index/remoteImage:RemoteImage").map(i => i.inputs.name);
        assert.deepEqual(images.sort(), ["ghcr.io/slipway/slipway-pgbackup:16", "postgres:16-bookworm"]);
        assertReadBackForm(b);
    });

    it("parents every child to the component and uses the host's provider", async () => {
        await build({}, true);
        const comp = rec.get("slipway:database:ManagedDatabase", "db");
        const kids = rec.descendants(comp.urn);
        assert.ok(kids.length >= 4);
        assert.ok(kids.filter(k => k.type.startsWith("docker:")).every(k => k.options.provider?.includes("host-prod-provider")));
        assert.ok(isSecretValue(comp.outputs!.url));
        assert.ok(isSecretValue(comp.outputs!.password));
    });
});
