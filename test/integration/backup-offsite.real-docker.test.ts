// Off-site backups on a real Docker engine against a real S3 server (versitygw, built from its Go
// module by scripts/build-go-tool.sh versitygw, run as a container on the run's own network): a
// ManagedDatabase with `backup.offsite`, recorded under mocks and applied by the honest harness.
// Rows go in; the sidecar dumps, encrypts with age and uploads; the server, its data volume and the
// local dumps go away; `npm run restore` brings the newest off-site dump into the fresh database;
// rows are equal. A wrong secret key and a missing bucket turn the sidecar unhealthy, with the
// reason in its log. Traffic: only the containers on the run's network; every wait is bounded.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RecordedResource, Recorder } from "../../components/testing/recorder";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import { DockerHarness, ensureImages, REPO_ROOT } from "./harness";
import { eventually } from "./probes";

const PG_REF = "slipway/postgres:local";
const PGBACKUP_REF = "slipway/pgbackup:15";
const S3_REF = "slipway/versitygw:local";
const BUCKET = "db-backups";
const PREFIX = "it/shop/";
const KEY_ID = `AKIT${randomBytes(6).toString("hex").toUpperCase()}`;
const SECRET = `sk-${randomBytes(16).toString("hex")}`;
const ROWS = "SELECT id, name, qty FROM items ORDER BY id";
const OFFSITE_KEEP = 2;
const N = 20_000;

interface Program { secretKey?: string; bucket?: string; serverLabel?: string }

describe("ManagedDatabase off-site backups against a real S3 server", function () {
    this.timeout(600_000);
    const runId = randomBytes(4).toString("hex");
    const stack = `bk${runId}`;
    let h: DockerHarness;
    let recipient = "";
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-offsite-"));
    const identityFile = path.join(dir, "identity.txt");
    const timings: Record<string, number> = {};
    /** The rows before the disaster, as psql prints them. */
    let expected = "";

    /** The stack program: a host, the S3 stand-in (bucket made at start), and the database. */
    async function record(p: Program = {}): Promise<RecordedResource[]> {
        const rec = await Recorder.start({ project: "offsite-it", stack, outputs: fakeProviderOutputs });
        const pulumi = await import("@pulumi/pulumi");
        const docker = await import("@pulumi/docker");
        const { DockerHost } = await import("../../components/targets/docker-host");
        const { ManagedDatabase } = await import("../../components/managed-database");
        const target = new DockerHost("host", { environment: "it" }).target;
        const opts = { provider: target.provider };
        const s3Image = new docker.RemoteImage("s3-image", { name: S3_REF, keepLocally: true }, opts);
        new docker.Container("s3", {
            image: s3Image.imageId,
            // The test server's own root keys: this container stands in for the provider's service.
            envs: [`ROOT_ACCESS_KEY=${KEY_ID}`, `ROOT_SECRET_KEY=${SECRET}`],
            entrypoints: ["/bin/sh", "-c", `mkdir -p /data/${BUCKET} && exec versitygw --port :7070 posix --sidecar /meta /data`],
            networksAdvanced: [{ name: target.networkName, aliases: ["s3"] }],
            memory: 256, memorySwap: 256, stopTimeout: 5, destroyGraceSeconds: 5,
        }, opts);
        new ManagedDatabase("db", {
            target, version: "15", image: PG_REF, database: "shop",
            backup: {
                intervalMinutes: 5, keep: 3, image: PGBACKUP_REF,
                offsite: {
                    endpoint: "http://s3:7070", bucket: p.bucket ?? BUCKET, prefix: PREFIX, forcePathStyle: true, keep: OFFSITE_KEEP,
                    accessKeyId: pulumi.secret(KEY_ID), secretAccessKey: pulumi.secret(p.secretKey ?? SECRET), recipient,
                },
            },
        });
        await rec.settle();
        const resources = [...rec.resources];
        if (!p.serverLabel) return resources;
        // Any input but the few updated in place replaces the server, on the volume of its (fixed) name.
        return resources.map(r => r.type === "docker:index/container:Container" && r.name === "db-server"
            ? { ...r, inputs: { ...r.inputs, labels: [...(r.inputs.labels as object[]), { label: "slipway.test", value: p.serverLabel }] } } : r);
    }

    const name = (logical: string) => h.containers.get(logical)!;
    const sql = async (q: string, db?: string): Promise<string> => {
        const r = await h.exec(name("db-backup"), ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-tA", ...(db ? ["-d", db] : []), "-c", q]);
        assert.equal(r.exitCode, 0, `${q}: ${r.output}`);
        return r.output;
    };
    const uploads = async (): Promise<string[]> =>
        [...(await h.logs(name("db-backup"), 100_000)).matchAll(/slipway-backup: uploaded s3:\/\/(\S+)/g)].map(m => m[1]!);
    /** True while the loop sleeps between rounds (`sleep 300`), so no dump is under way. */
    const idle = async () => (await h.exec(name("db-backup"), ["sh", "-c",
        'for p in /proc/[0-9]*; do [ "$(tr "\\0" " " <$p/cmdline 2>/dev/null)" = "sleep 300 " ] && exit 0; done; exit 1'])).exitCode === 0;
    /** End the sidecar's `sleep <interval>`, as the clock would, so the next round runs now. */
    const tick = async () => {
        await h.exec(name("db-backup"), ["sh", "-c",
            'for p in /proc/[0-9]*; do if [ "$(cat $p/comm 2>/dev/null)" = sleep ]; then kill ${p#/proc/}; fi; done']);
    };
    const health = async (logical: string) => (await h.inspect(name(logical))).State.Health;
    const restoreCli = (args: string[]) => spawnSync(process.execPath, ["-r", "ts-node/register", "cli/restore.ts", ...args],
        { cwd: REPO_ROOT, encoding: "utf8", timeout: 300_000, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" } });

    before(async function () {
        this.timeout(1_500_000); // a cold machine builds versitygw and the images here
        const t0 = Date.now();
        const images = ensureImages(["postgres", "pgbackup", "versitygw"]);
        timings.imagesMs = Date.now() - t0;
        // The key pair is made by age-keygen in the backup image: the host needs no age.
        const kg = spawnSync("docker", ["run", "--rm", "--network", "none", images.SLIPWAY_IMAGE_PGBACKUP!, "age-keygen"], { encoding: "utf8", timeout: 60_000 });
        assert.equal(kg.status, 0, kg.stderr);
        fs.writeFileSync(identityFile, kg.stdout, { mode: 0o600 });
        recipient = /public key: (age1\S+)/.exec(kg.stdout)![1]!;
        h = new DockerHarness({
            runId, nameSuffix: `-t${runId}`,
            imageMap: { [PG_REF]: images.SLIPWAY_IMAGE_POSTGRES!, [PGBACKUP_REF]: images.SLIPWAY_IMAGE_PGBACKUP!, [S3_REF]: images.SLIPWAY_IMAGE_VERSITYGW! },
        });
        const t1 = Date.now();
        await h.apply(await record());
        timings.applyMs = Date.now() - t1;
    });

    after(async function () {
        this.timeout(120_000);
        if (h) await h.cleanup();
        fs.rmSync(dir, { recursive: true, force: true });
        console.log(`      timings: ${JSON.stringify(timings)}`);
    });

    it("uploads each dump age-encrypted, and restores the newest into a fresh database with equal rows", async () => {
        // The round at start must be over, or its dump (taken before the rows) could pass for the next one.
        await eventually("the round at start done", 120_000, async () => (await idle()) || undefined);
        await sql("CREATE TABLE IF NOT EXISTS items (id serial PRIMARY KEY, name text NOT NULL, qty int NOT NULL)");
        // Enough data that a dump of it is many times the size of an empty database's.
        await sql(`INSERT INTO items (name, qty) SELECT 'item-${runId}-' || md5(g::text) || md5((g * 3)::text), g * 7 FROM generate_series(1, ${N}) g`);
        expected = await sql(ROWS);
        assert.equal(expected.trim().split("\n").length, N);
        const before = (await uploads()).length;
        await tick();
        const { value: object, ms } = await eventually("an upload after the rows went in", 120_000, async () => {
            const u = await uploads();
            return u.length > before ? u.at(-1) : undefined;
        });
        timings.dumpAndUploadMs = ms;
        assert.match(object, new RegExp(`^${BUCKET}/${PREFIX}shop-\\d{8}T\\d{6}Z\\.dump\\.age$`));
        await eventually("the sidecar healthy", 60_000, async () => (await health("db-backup"))?.Status === "healthy" || undefined);

        // In the bucket, as the S3 server stores it: age's header, not a pg_dump archive ("PGDMP").
        const stored = await h.exec(name("s3"), ["head", "-c", "64", `/data/${object}`]);
        assert.equal(stored.exitCode, 0, stored.output);
        assert.match(stored.output, /^age-encryption\.org\/v1\n-> X25519 /);
        assert.ok(!stored.output.includes("PGDMP"));
        const listed = restoreCli([stack, "--list"]);
        assert.equal(listed.status, 0, listed.stderr);
        assert.ok(listed.stdout.split("\n").includes(object.slice(`${BUCKET}/${PREFIX}`.length)), listed.stdout);

        // The disaster: the server and its data volume are gone, and so are the local dumps.
        const server = name("db-server");
        const volume = (await h.inspect(server)).Mounts.find((m: { Destination: string }) => m.Destination === "/var/lib/postgresql/data").Name as string;
        await h.engine.request("DELETE", `/containers/${encodeURIComponent(server)}?v=1&force=1`);
        await h.engine.request("DELETE", `/volumes/${encodeURIComponent(volume)}`);
        const wiped = await h.exec(name("db-backup"), ["sh", "-c", "rm -f /backups/*.dump && ls /backups"]);
        assert.equal(wiped.exitCode, 0);
        // `pulumi up` brings the server back; Docker makes its volume anew, so Postgres initialises an empty database.
        await h.up(await record({ serverLabel: "recovered" }));
        assert.notEqual(name("db-server"), server);
        await eventually("the new server ready", 120_000, async () => (await h.exec(name("db-backup"), ["pg_isready", "-q"])).exitCode === 0 || undefined);
        assert.equal(await sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "0\n");

        const t0 = Date.now();
        const r = restoreCli([stack, "--identity", identityFile]);
        timings.restoreMs = Date.now() - t0;
        assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
        assert.ok(r.stderr.includes(`restored ${object.split("/").at(-1)!} into database shop`), r.stderr);
        assert.equal(await sql(ROWS), expected);

        // A second restore into the now populated database is refused, not mixed in.
        const again = restoreCli([stack, "--identity", identityFile]);
        assert.notEqual(again.status, 0);
        assert.match(again.stderr, /already has 1 tables/);
    });

    it("a wrong identity cannot decrypt, and says so", async () => {
        const kg = spawnSync("docker", ["run", "--rm", "--network", "none", h.options.imageMap![PGBACKUP_REF]!, "age-keygen"], { encoding: "utf8", timeout: 60_000 });
        const other = path.join(dir, "other.txt");
        fs.writeFileSync(other, kg.stdout, { mode: 0o600 });
        const r = restoreCli([stack, "--identity", other, "--into", "scratch"]);
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /could not decrypt/);
    });

    it("keeps only the newest `keep` dumps in the bucket", async () => {
        for (let i = 0; i < OFFSITE_KEEP + 1; i++) {
            const before = (await uploads()).length;
            await eventually("the loop idle", 120_000, async () => (await idle()) || undefined);
            await tick();
            await eventually("one more upload", 120_000, async () => (await uploads()).length > before || undefined);
            // Object names have one-second resolution: never let two rounds share a second.
            await new Promise(r => setTimeout(r, 1100));
        }
        await eventually("the loop idle", 120_000, async () => (await idle()) || undefined);
        const newest = (await uploads()).slice(-OFFSITE_KEEP).map(u => u.slice(`${BUCKET}/${PREFIX}`.length)).sort();
        const listed = restoreCli([stack, "--list"]);
        assert.equal(listed.status, 0, listed.stderr);
        assert.deepEqual(listed.stdout.trim().split("\n"), newest);
    });

    it("refuses a newest dump far smaller than the one before (a re-created empty database), and restores a named one", async () => {
        await sql("DROP TABLE items");
        const before = await uploads();
        await eventually("the loop idle", 120_000, async () => (await idle()) || undefined);
        await tick();
        await eventually("the small dump uploaded", 120_000, async () => (await uploads()).length > before.length || undefined);
        const name0 = (u: string) => u.slice(`${BUCKET}/${PREFIX}`.length);
        const previous = name0(before.at(-1)!), newest = name0((await uploads()).at(-1)!);
        const refused = restoreCli([stack, "--identity", identityFile, "--into", "recovered"]);
        assert.notEqual(refused.status, 0);
        assert.ok(refused.stderr.includes(`the newest dump ${newest} (`) && refused.stderr.includes(`is less than a tenth of the one before, ${previous} (`), refused.stderr);
        const named = restoreCli([stack, "--identity", identityFile, "--into", "recovered", "--from", `s3://${BUCKET}/${PREFIX}${previous}`]);
        assert.equal(named.status, 0, named.stderr);
        assert.equal(await sql(ROWS, "recovered"), expected);
    });

    it("keeps the keys out of the sidecar's env, its logs and docker inspect", async () => {
        const c = await h.inspect(name("db-backup"));
        const seen = JSON.stringify({ env: c.Config.Env, cmd: c.Config.Cmd, entrypoint: c.Config.Entrypoint, labels: c.Config.Labels, logs: await h.logs(name("db-backup"), 100_000) });
        for (const v of [KEY_ID, SECRET]) assert.ok(!seen.includes(v), "a key is visible");
        assert.ok((c.Config.Env as string[]).includes("BACKUP_S3_SECRET_ACCESS_KEY_FILE=/run/secrets/BACKUP_S3_SECRET_ACCESS_KEY"));
        const f = await h.exec(name("db-backup"), ["stat", "-c", "%U %a", "/run/secrets/BACKUP_S3_SECRET_ACCESS_KEY"]);
        assert.equal(f.output.trim(), "root 444");
    });

    for (const [what, program, reason] of [
        ["a wrong secret key", { secretKey: `${SECRET}x`, serverLabel: "recovered" }, /off-site upload .* failed: .*(SignatureDoesNotMatch|Forbidden|403)/],
        ["a missing bucket", { bucket: "no-such-bucket", serverLabel: "recovered" }, /off-site upload .* failed: .*NoSuchBucket/],
    ] as const) {
        it(`${what} turns the sidecar unhealthy, with the reason in its log`, async () => {
            const up = await h.up(await record(program));
            assert.equal(up.steps.find(s => s.logical === "db-backup")!.op, "replace");
            const { ms } = await eventually("unhealthy", 180_000, async () => (await health("db-backup"))?.Status === "unhealthy" || undefined);
            timings[`unhealthy (${what}) ms`] = ms;
            const logs = await h.logs(name("db-backup"), 1000);
            assert.match(logs, reason);
            assert.doesNotMatch(logs, /slipway-backup: uploaded/);
            const last = (await health("db-backup")).Log.at(-1).Output as string;
            assert.match(last, reason);
            for (const v of [KEY_ID, SECRET]) assert.ok(!logs.includes(v) && !last.includes(v));
        });
    }
});
