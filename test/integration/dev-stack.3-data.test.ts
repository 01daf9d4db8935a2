import { strict as assert } from "assert";
import { C, DeployedStack, eventually, request, sharedStack, sleep } from "./stack-under-test";

/**
 * The dev stack on a real engine, part 3: data outlives the Postgres container, and the backup
 * sidecar's dumps restore to identical rows, with retention applied.
 */

const ROWS = "SELECT id, name, created_at FROM items ORDER BY id";

describe("dev stack on a real engine: durable data and backups", function () {
    this.timeout(10 * 60_000);
    let s: DeployedStack;
    const marker = `durable-${Date.now()}`;

    /** SQL through the backup sidecar: it holds the client tools and the credentials (PGPASSFILE). */
    const sql = async (q: string, db?: string): Promise<string> => {
        const r = await s.h.exec(s.name(C.backup), ["psql", "-v", "ON_ERROR_STOP=1", "-tA", ...(db ? ["-d", db] : []), "-c", q]);
        assert.equal(r.exitCode, 0, `${q}: ${r.output}`);
        return r.output;
    };
    const written = async (): Promise<string[]> =>
        [...(await s.h.logs(s.name(C.backup), 100_000)).matchAll(/slipway-backup: wrote (\S+)/g)].map(m => m[1]!);
    /** The sidecar's schedule is `sleep <interval>` between dumps: end the current sleep, as the clock would. */
    const tick = async (): Promise<string> => {
        const before = (await written()).length;
        const r = await s.h.exec(s.name(C.backup), ["sh", "-c",
            'for p in /proc/[0-9]*; do if [ "$(cat $p/comm 2>/dev/null)" = sleep ]; then tr "\\0" " " <$p/cmdline; echo; kill ${p#/proc/}; fi; done']);
        await eventually("a new dump", 30_000, async () => (await written()).length > before);
        // Dump names have one-second resolution: never let two ticks share a second.
        await sleep(1100);
        return r.output.trim();
    };

    before(async function () {
        this.timeout(25 * 60_000);
        s = await sharedStack();
    });

    it("keeps every row when the Postgres container is replaced on its volume", async () => {
        await sql(`INSERT INTO items (name) SELECT '${marker}-' || g FROM generate_series(1, 50) g`);
        const before = await sql(ROWS);
        assert.ok(before.split("\n").filter(l => l.includes(marker)).length === 50);
        const oldName = s.name(C.db);
        const oldMounts = (await s.h.inspect(oldName)).Mounts.map((m: any) => `${m.Name}:${m.Destination}`);
        // Any input but the few the provider updates in place replaces the container (a label here,
        // as an image bump would), and the provider always deletes the old one first.
        const db = s.recordedContainer(C.db);
        const changed = s.resources.map(r => r === db
            ? { ...db, inputs: { ...db.inputs, labels: [...(db.inputs.labels as object[]), { label: "slipway.test", value: "replace" }] } } : r);
        const up = await s.h.up(changed);
        const step = up.steps.find(x => x.logical === C.db)!;
        assert.equal(step.op, "replace");
        assert.ok(step.deletedMs! <= step.createdMs!, "delete-before-create");
        // Only Postgres: no replica or sidecar input is built from its outputs (which the engine
        // cannot know while it is replaced), so none is replaced with it.
        assert.deepEqual(up.steps.filter(x => x.op !== "same").map(x => `${x.op} ${x.logical}`), [`replace ${C.db}`]);
        const newName = s.name(C.db);
        assert.notEqual(newName, oldName);
        assert.ok(!(await s.h.owned()).containers.includes(oldName));
        assert.deepEqual((await s.h.inspect(newName)).Mounts.map((m: any) => `${m.Name}:${m.Destination}`), oldMounts);
        console.log(`      Postgres replaced in ${((step.endMs! - step.startMs) / 1000).toFixed(1)} s (down from ${(step.deletedMs! / 1000).toFixed(1)} s)`);
        assert.equal(await sql(ROWS), before);
        // The API replicas reconnect by themselves: the rows are served through the gateway again.
        await eventually("served through the gateway", 60_000, async () => {
            const got = await request(s.port, "GET", "/v1/items?limit=500");
            return got.status === 200 && got.json.items.filter((i: any) => i.name.startsWith(marker)).length === 50;
        }, 1000);
    });

    it("dumps on schedule; a dump restores into a fresh database with identical rows", async () => {
        const env = (await s.h.inspect(s.name(C.backup))).Config.Env as string[];
        const interval = Number(env.find(e => e.startsWith("BACKUP_INTERVAL_SECONDS="))!.split("=")[1]);
        assert.equal(interval, s.figures.backup.intervalMinutes * 60);
        // The first dump is taken at start; the loop then sleeps exactly the interval.
        assert.ok((await written()).length >= 1, "a dump at start");
        const slept = await tick();
        assert.match(slept, new RegExp(`^sleep ${interval}$`, "m"), `the schedule: ${slept}`);
        const dump = (await written()).at(-1)!;
        const expected = await sql(ROWS);
        assert.ok(expected.includes(marker));
        const fresh = `restore_${s.h.runId}`;
        await sql(`CREATE DATABASE ${fresh}`);
        const restore = await s.h.exec(s.name(C.backup), ["pg_restore", "--no-owner", "-d", fresh, dump]);
        assert.equal(restore.exitCode, 0, restore.output);
        assert.equal(await sql(ROWS, fresh), expected);
    });

    it("keeps only the newest `keep` dumps", async () => {
        const keep = s.figures.backup.keep;
        while ((await written()).length < keep + 2) await tick();
        const all = await written();
        const onDisk = (await s.h.exec(s.name(C.backup), ["sh", "-c", "ls -1 /backups/*.dump"])).output.trim().split("\n").sort();
        assert.deepEqual(onDisk, all.slice(-keep).sort(), `written ${all.join(", ")}`);
    });
});
