// Runs the generated scripts: the backup health probe under sh, and the init script, URL and .pgpass
// line, and backup loop against a real PostgreSQL on this machine (Debian's server binaries),
// listening on a unix socket and 127.0.0.1 only. The pure checks are in test/unit/.
import { strict as assert } from "assert";
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { normalizeManagedDatabase } from "../../components/managed-database/normalize";
import {
    BACKUP_MARKER, FAILED_MARKER, STARTED_MARKER, UPLOAD_MARKER, backupHealthcheck, backupScript, initScript, passwordKey, pgpassLine, postgresUrl,
} from "../../components/managed-database/scripts";

const ROOT = process.getuid?.() === 0;
const PG_BIN = fs.existsSync("/usr/lib/postgresql") ? path.join("/usr/lib/postgresql", fs.readdirSync("/usr/lib/postgresql").sort().pop()!, "bin") : "";
const TRICKY = "p@ss:w/rd%#?\\ &x";

/** Run as the postgres OS user when we are root (the server refuses to run as root). */
function asPg(cmd: string, args: string[], env: Record<string, string> = {}, input?: string) {
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const [file, argv] = ROOT ? ["runuser", ["-u", "postgres", "--", "env", ...envArgs, cmd, ...args]] : ["env", [...envArgs, cmd, ...args]];
    const r = spawnSync(file, argv, { input, encoding: "utf8", timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stdout}\n${r.stderr}`);
    return r.stdout;
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer().listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        }).on("error", reject);
    });
}

describe("ManagedDatabase backup health probe under sh", () => {
    it("probes the backup marker: unhealthy without one, with a stale one or a garbled one, healthy with a recent one", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-bkhc-"));
        try {
            const probe = (env: Record<string, string> = {}) =>
                spawnSync("sh", ["-c", backupHealthcheck()], { encoding: "utf8", env: { PATH: process.env.PATH, BACKUP_DIR: dir, BACKUP_MAX_AGE_SECONDS: "60", ...env } });
            const now = Math.floor(Date.now() / 1000);
            let r = probe();
            assert.equal(r.status, 1);
            assert.match(r.stdout, /no successful dump yet/);
            fs.writeFileSync(path.join(dir, BACKUP_MARKER), `${now - 5}\n`);
            r = probe();
            assert.equal(r.status, 0, r.stdout + r.stderr);
            assert.match(r.stdout, /last successful dump [5-9]s ago \(limit 60s\)/);
            fs.writeFileSync(path.join(dir, BACKUP_MARKER), `${now - 61}\n`);
            assert.notEqual(probe().status, 0, "older than the limit");
            assert.equal(probe({ BACKUP_MAX_AGE_SECONDS: "120" }).status, 0);
            fs.writeFileSync(path.join(dir, BACKUP_MARKER), "");
            assert.notEqual(probe().status, 0, "an empty marker is no proof of a dump");
            // Before the first dump, the loop's start grants it BACKUP_FIRST_DUMP_SECONDS.
            fs.rmSync(path.join(dir, BACKUP_MARKER));
            fs.writeFileSync(path.join(dir, STARTED_MARKER), `${now - 30}\n`);
            r = probe({ BACKUP_FIRST_DUMP_SECONDS: "60" });
            assert.equal(r.status, 0, r.stdout);
            assert.match(r.stdout, /waiting for the first dump/);
            assert.notEqual(probe({ BACKUP_FIRST_DUMP_SECONDS: "20" }).status, 0, "the first dump is late");
            // With off-site copies, a recent dump is not enough: the upload must be recent too.
            fs.writeFileSync(path.join(dir, BACKUP_MARKER), `${now - 5}\n`);
            r = probe({ BACKUP_S3_BUCKET: "b", BACKUP_FIRST_DUMP_SECONDS: "20" });
            assert.equal(r.status, 1);
            assert.match(r.stdout, /no successful off-site upload yet/);
            fs.writeFileSync(path.join(dir, UPLOAD_MARKER), `${now - 61}\n`);
            assert.notEqual(probe({ BACKUP_S3_BUCKET: "b" }).status, 0, "the last upload is too old");
            fs.writeFileSync(path.join(dir, UPLOAD_MARKER), `${now - 6}\n`);
            r = probe({ BACKUP_S3_BUCKET: "b" });
            assert.equal(r.status, 0, r.stdout);
            assert.match(r.stdout, /last successful off-site upload [6-9]s ago/);
            // A failed round is reported at once, whatever the markers say.
            fs.writeFileSync(path.join(dir, FAILED_MARKER), "off-site upload of x failed: NoSuchBucket\n");
            r = probe({ BACKUP_S3_BUCKET: "b" });
            assert.equal(r.status, 1);
            assert.match(r.stdout, /last round failed: off-site upload of x failed: NoSuchBucket/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("ManagedDatabase scripts against a real PostgreSQL", function () {
    this.timeout(120_000);
    let dir: string;
    let port: number;
    const env = () => ({ PGHOST: dir, PGPORT: String(port) });

    before(async function () {
        assert.ok(PG_BIN && fs.existsSync(path.join(PG_BIN, "initdb")), "PostgreSQL server binaries are required (apt-get install postgresql)");
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-pg-"));
        fs.chmodSync(dir, 0o777);
        if (ROOT) execFileSync("chown", ["postgres:postgres", dir]);
        port = await freePort();
        asPg(path.join(PG_BIN, "initdb"), ["-D", `${dir}/data`, "-U", "admin", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"]);
        asPg(path.join(PG_BIN, "pg_ctl"), ["-D", `${dir}/data`, "-w", "-l", `${dir}/log`, "-o", `-k ${dir} -c listen_addresses=127.0.0.1 -p ${port}`, "start"]);
        asPg("psql", ["-v", "ON_ERROR_STOP=1", "-U", "admin", "-d", "postgres", "-c", "CREATE DATABASE shop"], env());
    });

    after(() => {
        if (!dir) return;
        try { asPg(path.join(PG_BIN, "pg_ctl"), ["-D", `${dir}/data`, "-m", "fast", "-w", "stop"]); } catch { /* already down */ }
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("creates extensions, schema roles owning their schemas, and passwords read from the secret files", () => {
        const n = normalizeManagedDatabase("shop", {
            target: { kind: "do-app", region: "fra", production: false } as never,
            extensions: ["pgcrypto", "uuid-ossp"], schemas: [{ name: "core" }, { name: "media", user: "media_svc" }],
        });
        const secrets = path.join(dir, "secrets");
        fs.mkdirSync(secrets, { mode: 0o700 });
        fs.writeFileSync(path.join(secrets, passwordKey("core")), TRICKY);
        fs.writeFileSync(path.join(secrets, passwordKey("media_svc")), "media-pass");
        if (ROOT) execFileSync("chown", ["-R", "postgres:postgres", secrets]);
        const script = path.join(dir, "init.sh");
        fs.writeFileSync(script, initScript(n, secrets)!, { mode: 0o755 });
        asPg("sh", [script], { ...env(), POSTGRES_USER: "admin", POSTGRES_DB: "shop" });

        const q = (sql: string) => asPg("psql", ["-XAtq", "-U", "admin", "-d", "shop", "-c", sql], env()).trim();
        assert.equal(q("SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension WHERE extname <> 'plpgsql'"), "pgcrypto,uuid-ossp");
        assert.equal(q("SELECT string_agg(nspname || '=' || pg_get_userbyid(nspowner), ',' ORDER BY nspname) FROM pg_namespace WHERE nspname IN ('core','media')"),
            "core=core,media=media_svc");
        // The schema role logs in over TCP with SCRAM using the URL we build: encoding and the
        // password file round-trip are both proven, and its search_path is its own schema.
        const url = postgresUrl({ user: "core", password: TRICKY, host: "127.0.0.1", port, database: "shop", sslmode: "disable" });
        asPg("psql", ["-X", "-v", "ON_ERROR_STOP=1", url, "-c", "CREATE TABLE items (id int)"]);
        assert.equal(q("SELECT schemaname FROM pg_tables WHERE tablename = 'items'"), "core");
        // No password in the script itself.
        assert.ok(!initScript(n, secrets)!.includes(TRICKY));
    });

    it("authenticates with the generated .pgpass line for a password with : and \\", () => {
        asPg("psql", ["-X", "-v", "ON_ERROR_STOP=1", "-U", "admin", "-d", "shop", "-c", "CREATE ROLE bk LOGIN SUPERUSER PASSWORD 'a:b\\c'"], env());
        const pgpass = path.join(dir, "pgpass");
        fs.writeFileSync(pgpass, pgpassLine("bk", "a:b\\c"), { mode: 0o600 });
        if (ROOT) execFileSync("chown", ["postgres:postgres", pgpass]);
        const out = asPg("psql", ["-XAtq", "-h", "127.0.0.1", "-p", String(port), "-U", "bk", "-d", "shop", "-w", "-c", "SELECT current_user"], { PGPASSFILE: pgpass });
        assert.equal(out.trim(), "bk");
    });

    it("writes pg_dump -Fc files on the interval and keeps only the newest BACKUP_KEEP", async () => {
        const backups = path.join(dir, "backups");
        const argv = ["sh", "-c", backupScript()];
        const envs = { PGHOST: "127.0.0.1", PGPORT: String(port), PGUSER: "bk", PGDATABASE: "shop", PGPASSFILE: path.join(dir, "pgpass"),
            BACKUP_DIR: backups, BACKUP_INTERVAL_SECONDS: "1", BACKUP_KEEP: "2" };
        const envArgs = Object.entries(envs).map(([k, v]) => `${k}=${v}`);
        const child = ROOT ? spawn("runuser", ["-u", "postgres", "--", "env", ...envArgs, ...argv], { detached: true })
            : spawn("env", [...envArgs, ...argv], { detached: true });
        let log = "";
        child.stdout!.on("data", d => { log += d; });
        child.stderr!.on("data", d => { log += d; });
        // Bounded: at most 15 s for four dumps.
        const deadline = Date.now() + 15_000;
        while ((log.match(/wrote/g) ?? []).length < 4 && Date.now() < deadline) await new Promise(r => setTimeout(r, 200));
        process.kill(-child.pid!, "SIGTERM");
        assert.ok((log.match(/wrote/g) ?? []).length >= 4, `expected four dumps, log:\n${log}`);
        await new Promise(r => setTimeout(r, 300));
        const dumps = fs.readdirSync(backups).filter(f => f.endsWith(".dump")).sort();
        assert.ok(dumps.length >= 2 && dumps.length <= 3, `retention keeps 2 (a third may be mid-rotation): ${dumps}`);
        const toc = asPg("pg_restore", ["-l", path.join(backups, dumps[dumps.length - 1]!)]);
        assert.match(toc, /TABLE core items/);
        // Each dump left its time in the marker, so the sidecar's health probe passes.
        const marker = Number(fs.readFileSync(path.join(backups, BACKUP_MARKER), "utf8"));
        assert.ok(Math.abs(Date.now() / 1000 - marker) < 10, `marker ${marker}`);
        const probe = spawnSync("sh", ["-c", backupHealthcheck()], { encoding: "utf8", env: { PATH: process.env.PATH, BACKUP_DIR: backups, BACKUP_MAX_AGE_SECONDS: "10" } });
        assert.equal(probe.status, 0, probe.stdout + probe.stderr);
    });

    it("records no dump time when pg_dump fails, so the health probe does not pass", async () => {
        const backups = path.join(dir, "backups-failing");
        const envs = { PGHOST: "127.0.0.1", PGPORT: String(port), PGUSER: "bk", PGDATABASE: "no_such_db", PGPASSFILE: path.join(dir, "pgpass"),
            BACKUP_DIR: backups, BACKUP_INTERVAL_SECONDS: "1", BACKUP_KEEP: "2" };
        const envArgs = Object.entries(envs).map(([k, v]) => `${k}=${v}`);
        const argv = ["sh", "-c", backupScript()];
        const child = ROOT ? spawn("runuser", ["-u", "postgres", "--", "env", ...envArgs, ...argv], { detached: true })
            : spawn("env", [...envArgs, ...argv], { detached: true });
        let log = "";
        child.stdout!.on("data", d => { log += d; });
        child.stderr!.on("data", d => { log += d; });
        const deadline = Date.now() + 10_000;
        while ((log.match(/pg_dump failed/g) ?? []).length < 2 && Date.now() < deadline) await new Promise(r => setTimeout(r, 200));
        process.kill(-child.pid!, "SIGTERM");
        assert.ok((log.match(/pg_dump failed/g) ?? []).length >= 2, `expected failing dumps, log:\n${log}`);
        assert.ok(!fs.existsSync(path.join(backups, BACKUP_MARKER)), "no marker without a successful dump");
        assert.match(fs.readFileSync(path.join(backups, FAILED_MARKER), "utf8"), /pg_dump failed/);
        const probe = spawnSync("sh", ["-c", backupHealthcheck()], { encoding: "utf8", env: { PATH: process.env.PATH, BACKUP_DIR: backups, BACKUP_MAX_AGE_SECONDS: "3600" } });
        assert.equal(probe.status, 1);
    });
});
