import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import { RecordedStack, recordStack } from "../../cli/synth";
import { RecordedResource } from "../../components/testing/recorder";
import { DockerHarness, SlipwayImages, TYPES, UpError, engineOfRecording } from "./harness";
import {
    C, LOAD, LoadResult, ROOT, STACK, TEST_BACKUP, TEST_RATE_LIMITS, apiReplicas, devStackFile, ensureEngineAndImages, freePort, imageMapFor,
    overridesFor, releaseImage, request, runLoad,
} from "./stack-under-test";

/**
 * ApiService `migrate` on a real engine (issue 16), on the dev stack with `backupFirst: true`:
 * each release dumps the database (a dump that restores), runs the migration once in a one-shot
 * container, and only then starts its replicas; a release whose migration fails stops `up` with
 * the job's log while the old replicas keep serving. The example API's `api migrate` records each
 * run in `migration_runs`, the counter the assertions read.
 */

const FAILING = ["/bin/sh", "-c", "echo 'migrate: applying 0042_widgets'; echo 'ERROR: relation \"widgets\" does not exist' >&2; exit 3"];

const labelsOf = (r: RecordedResource): Record<string, string> =>
    Object.fromEntries(((r.inputs.labels ?? []) as { label: string; value: string }[]).map(l => [l.label, l.value]));
const byRole = (rs: RecordedResource[], role: string) => rs.filter(r => r.type === TYPES.container && labelsOf(r)["slipway.role"] === role);

describe("ApiService migrate on a real engine: once per release, after a dump, before the replicas", function () {
    this.timeout(15 * 60_000);
    let h: DockerHarness;
    let images: SlipwayImages;
    let port: number;
    let deployed: RecordedStack;

    const record = async (api: Record<string, unknown>): Promise<RecordedStack> => {
        const base = overridesFor({ publishPort: port, rateLimits: TEST_RATE_LIMITS, backup: TEST_BACKUP });
        const services = devStackFile()["slipway:services"];
        const migrate = { ...services.api.migrate, backupFirst: true, ...(api.migrate as object | undefined) };
        const volumes = [{ name: "scratch", path: "/var/lib/api/scratch" }];
        return recordStack({ dir: ROOT, stack: STACK, overrides: { ...base, "slipway:services": { ...services, api: { ...services.api, volumes, ...api, migrate } } } });
    };
    /** SQL through the backup sidecar, which has psql and the credentials (PGPASSFILE). */
    const sql = async (q: string, db?: string): Promise<string> => {
        const r = await h.exec(h.containers.get(C.backup)!, ["psql", "-v", "ON_ERROR_STOP=1", "-tA", ...(db ? ["-d", db] : []), "-c", q]);
        assert.equal(r.exitCode, 0, `${q}: ${r.output}`);
        return r.output.trim();
    };
    const state = async (logical: string) => (await h.inspect(h.containers.get(logical)!)).State;
    const jobOf = (rec: RecordedStack, role: string) => {
        const found = byRole(rec.resources, role);
        assert.equal(found.length, 1, `one ${role} job: ${found.map(r => r.name)}`);
        return found[0]!.name;
    };
    /** The job ran to exit 0 and finished before every replica of its release started. */
    const ranBeforeReplicas = async (rec: RecordedStack) => {
        const backup = jobOf(rec, "backup-before-migration"), migration = jobOf(rec, "migration");
        const [b, m] = [await state(backup), await state(migration)];
        assert.equal(b.ExitCode, 0);
        assert.equal(m.ExitCode, 0);
        assert.ok(Date.parse(b.FinishedAt) <= Date.parse(m.StartedAt), `dump ${b.FinishedAt} before migration ${m.StartedAt}`);
        for (const r of apiReplicas(rec.resources)) {
            const started = (await state(r.name)).StartedAt;
            assert.ok(Date.parse(m.FinishedAt) <= Date.parse(started), `migration finished ${m.FinishedAt}, ${r.name} started ${started}`);
        }
        return { backup, migration };
    };
    const dumpOf = async (backupJob: string): Promise<string> => {
        const m = /slipway-backup: wrote (\S+) before the migration/.exec(await h.logs(h.containers.get(backupJob)!, 1000));
        assert.ok(m, `the dump job logged its file: ${await h.logs(h.containers.get(backupJob)!, 50)}`);
        return m[1]!;
    };

    before(async function () {
        this.timeout(25 * 60_000);
        images = ensureEngineAndImages();
        port = await freePort();
        deployed = await record({});
        const runId = randomBytes(4).toString("hex");
        h = new DockerHarness({ runId, imageMap: imageMapFor(images), nameSuffix: `-t${runId}`, engine: engineOfRecording(deployed.resources) });
        const applied = await h.apply(deployed.resources);
        await h.waitHealthy(applied.containers.filter(c => c.exitCode === undefined).map(c => c.name), 240_000);
    });

    after(async function () {
        this.timeout(180_000);
        if (h) await h.cleanup().catch(() => undefined);
    });

    it("the first release: dump, then one migration, then the replicas; an unchanged stack never runs it again", async () => {
        const { backup, migration } = await ranBeforeReplicas(deployed);
        assert.equal(await sql("SELECT count(*) FROM migration_runs"), "1");
        assert.match(await dumpOf(backup), /^\/backups\/db-\d{8}T\d{6}Z-before-[0-9a-f]{8}\.dump$/);
        // The job carries the replicas' hardening and none of their network aliases.
        const job = await h.inspect(h.containers.get(migration)!);
        assert.equal(job.Config.User, "10001:10001");
        assert.deepEqual(job.HostConfig.CapDrop, ["ALL"]);
        assert.deepEqual(Object.values(job.NetworkSettings.Networks).flatMap((n: any) => (n.Aliases ?? []).filter((a: string) => a.startsWith("api"))), []);
        // The service's named volume is in every replica and in the migration.
        for (const logical of [migration, ...apiReplicas(deployed.resources).map(r => r.name)]) {
            const mounts = (await h.inspect(h.containers.get(logical)!)).Mounts.map((m: any) => `${m.Type} ${m.Destination} ${m.RW}`);
            assert.ok(mounts.includes("volume /var/lib/api/scratch true"), `${logical}: ${mounts}`);
        }
        // Preview, refresh, preview, up: nothing to do, and the migration did not run again.
        const again = await record({});
        assert.deepEqual(h.preview(again.resources).filter(x => x.op !== "same"), []);
        const refreshed = await h.refresh();
        assert.deepEqual(refreshed.filter(r => r.changed.length || r.gone), []);
        assert.deepEqual(h.preview(again.resources).filter(x => x.op !== "same"), []);
        const up = await h.up(again.resources);
        assert.deepEqual(up.steps.filter(x => x.op !== "same"), []);
        assert.equal(await sql("SELECT count(*) FROM migration_runs"), "1");
        assert.equal((await request(port, "GET", "/ready")).status, 200);
    });

    it("a new release dumps the data it found, migrates once, then starts its replicas; the dump restores", async () => {
        for (let i = 0; i < 5; i++) assert.equal((await request(port, "POST", "/v1/items", { body: { name: `before-release-${i}` } })).status, 201);
        const next = await record({ image: releaseImage(images) });
        const up = await h.up(next.resources);
        const created = up.steps.filter(x => x.op === "create").map(x => x.logical);
        for (const name of [jobOf(next, "backup-before-migration"), jobOf(next, "migration"), ...apiReplicas(next.resources).map(r => r.name)]) {
            assert.ok(created.includes(name), `${name} created (created: ${created.join(", ")})`);
        }
        const { backup } = await ranBeforeReplicas(next);
        assert.equal(await sql("SELECT count(*) FROM migration_runs"), "2");
        // Restored into a scratch database: the rows written before, and one migration run, so the
        // dump was taken before this release's migration.
        const dump = await dumpOf(backup);
        const scratch = `before_${h.runId}`;
        await sql(`CREATE DATABASE ${scratch}`);
        const restore = await h.exec(h.containers.get(C.backup)!, ["pg_restore", "--no-owner", "--exit-on-error", "-d", scratch, dump]);
        assert.equal(restore.exitCode, 0, restore.output);
        assert.equal(await sql("SELECT count(*) FROM items WHERE name LIKE 'before-release-%'", scratch), "5");
        assert.equal(await sql("SELECT count(*) FROM migration_runs", scratch), "1");
        deployed = next;
    });

    it("a release whose migration fails: up fails with the job's log, the old replicas keep serving (0 failed requests)", async () => {
        const serving = apiReplicas(deployed.resources).map(r => h.containers.get(r.name)!);
        const failing = await record({ image: releaseImage(images), migrate: { command: FAILING } });
        let error: unknown;
        const running = h.up(failing.resources).catch(e => { error = e; });
        const load: LoadResult = await runLoad({ port, ...LOAD, minRequests: 2000, maxRequests: 20_000, maxMs: 240_000, until: running });
        await running;
        console.log(`      ${load.sent} requests, ${load.failures.length} failed, p99 ${load.p99.toFixed(1)} ms`);
        assert.ok(error instanceof UpError, `up failed: ${error}`);
        assert.match(error.message, /exited with code 3/);
        assert.match(error.message, /ERROR: relation "widgets" does not exist/);
        assert.ok(load.sent >= 2000, `only ${load.sent} requests`);
        assert.deepEqual(load.failures.slice(0, 10), [], `${load.failures.length} of ${load.sent} failed`);
        // Nothing of the failed release's replicas exists; the old ones still run; no migration ran.
        for (const r of apiReplicas(failing.resources)) assert.equal(h.containers.get(r.name), undefined, `${r.name} was created`);
        for (const name of serving) assert.equal((await h.inspect(name)).State.Running, true);
        assert.equal(await sql("SELECT count(*) FROM migration_runs"), "2");
        assert.equal((await request(port, "GET", "/v1/items?limit=5")).status, 200);
    });
});
