// The docker Gateway's config path against a real Caddy (scripts/build-caddy.sh), no Docker:
// Caddy starts on the bootstrap config with its admin API on a unix socket, config A is loaded
// with `caddy reload` over that socket, then the real loader script (components/gateway/docker.ts)
// pushes config B, then C, while clients keep sending requests. Everything listens on 127.0.0.1 only.
import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { buildBootstrapConfig, buildCaddyConfig, CaddyBuildOptions, CaddyConfig, renderCaddyJson } from "../../components/gateway/caddy-config";
import { loaderScript, MISSING_MODULES_HINT } from "../../components/gateway/docker";
import { normalizeGateway } from "../../components/gateway/normalize";
import type { GatewayArgs } from "../../components/gateway";
import { caddyBinary, edgeHandlers, freePort, loopbackGet as getWith, Reply } from "../helpers/caddy";
import { plainDocker, svc } from "../unit/gateway-fixtures";



/** A GET on a fresh connection, or on `agent`'s keep-alive ones (the load below). */
const get = (port: number, p: string, agent: http.Agent | false = false): Promise<Reply> => getWith(port, p, {}, agent);

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** TCP ports a process listens on, from /proc (Linux): its socket inodes against the LISTEN rows. */
function tcpListenPorts(pid: number): number[] {
    const inodes = new Set<string>();
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        try {
            const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
            if (m) inodes.add(m[1]!);
        } catch { /* closed meanwhile */ }
    }
    const ports = new Set<number>();
    for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
        if (!fs.existsSync(table)) continue;
        for (const line of fs.readFileSync(table, "utf8").split("\n").slice(1)) {
            const f = line.trim().split(/\s+/);
            // local_address is HEXIP:HEXPORT; st 0A is LISTEN; inode is the 10th field.
            if (f.length > 9 && f[3] === "0A" && inodes.has(f[9]!)) ports.add(parseInt(f[1]!.split(":")[1]!, 16));
        }
    }
    return [...ports].sort((a, b) => a - b);
}

/** The loader script as the container runs it (`sh -c`), in its own process group. */
class Loader {
    readonly proc: ChildProcess;
    out = "";
    constructor(script: string, env: NodeJS.ProcessEnv) {
        this.proc = spawn("sh", ["-c", script], { detached: true, stdio: ["ignore", "pipe", "pipe"], env });
        this.proc.stdout!.on("data", d => { this.out += d; });
        this.proc.stderr!.on("data", d => { this.out += d; });
    }
    /** Wait until the script reaches its idle loop (it prints "config-loader: idle"). */
    async idle(timeoutMs = 30_000): Promise<string> {
        const deadline = Date.now() + timeoutMs;
        while (!/config-loader: idle/.test(this.out)) {
            if (this.proc.exitCode !== null) throw new Error(`loader exited with ${this.proc.exitCode}:\n${this.out}`);
            if (Date.now() > deadline) throw new Error(`loader did not reach idle in ${timeoutMs} ms:\n${this.out}`);
            await sleep(20);
        }
        return this.out;
    }
    /** SIGTERM, as `docker stop` sends: the script traps it and exits 0. */
    async stop(): Promise<number | null> {
        if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.proc.exitCode;
        const exited = new Promise<number | null>(r => this.proc.once("exit", code => r(code)));
        process.kill(-this.proc.pid!, "SIGTERM");
        const code = await Promise.race([exited, sleep(5000).then(() => "timeout" as const)]);
        if (code === "timeout") {
            process.kill(-this.proc.pid!, "SIGKILL");
            throw new Error(`loader ignored SIGTERM:\n${this.out}`);
        }
        return code;
    }
}

describe("Gateway config reload on a real Caddy (admin on a unix socket)", function () {
    // The first build compiles Caddy (about 3 minutes); later runs find it cached.
    this.timeout(20 * 60_000);
    let bin: string;
    let tmp: string;
    let socket: string;
    let caddy: ChildProcess | undefined;
    let caddyErr = "";
    let upstream: http.Server;
    const loaders: Loader[] = [];
    let port: number;
    let healthPort: number;
    let metricsPort: number;
    let buildOpts: CaddyBuildOptions;
    let env: NodeJS.ProcessEnv;
    const files: Record<"bootstrap" | "a" | "b" | "c" | "invalid" | "unknownModule", string> = { bootstrap: "", a: "", b: "", c: "", invalid: "", unknownModule: "" };

    const argsA = (): GatewayArgs => ({
        target: plainDocker(),
        routes: [{ pathPrefix: "/v1", service: svc("api") }],
        accessLog: false,
    });
    /** B: a new route, a rate limit and a different header. */
    const argsB = (): GatewayArgs => ({
        ...argsA(),
        routes: [{ pathPrefix: "/v1", service: svc("api"), rateLimit: "general" }, { pathPrefix: "/v2", service: svc("api") }],
        rateLimits: { general: { events: 1_000_000, window: "1m" } },
        securityHeaders: { frameOptions: "SAMEORIGIN" },
    });
    /** C: B plus another route and another header. */
    const argsC = (): GatewayArgs => ({
        ...argsB(),
        routes: [...argsB().routes, { pathPrefix: "/v3", service: svc("api") }],
        securityHeaders: { frameOptions: "SAMEORIGIN", referrerPolicy: "no-referrer" },
    });
    const render = (args: GatewayArgs) => buildCaddyConfig(normalizeGateway("edge", args), buildOpts);
    const loader = (configPath: string, marker: string, extra: Partial<Parameters<typeof loaderScript>[0]> = {}) => {
        const l = new Loader(loaderScript({ configPath, adminAddress: `unix/${socket}`, marker, attempts: 30, delaySeconds: 1, ...extra }), env);
        loaders.push(l);
        return l;
    };

    async function startCaddy() {
        caddyErr = "";
        caddy = spawn(bin, ["run", "--config", files.bootstrap, "--resume"], { stdio: ["ignore", "ignore", "pipe"], env });
        caddy.stderr!.on("data", d => { caddyErr += d; });
        const deadline = Date.now() + 15_000;
        for (;;) {
            try { if ((await get(healthPort, "/healthz")).status === 200) return; } catch { /* not up yet */ }
            if (caddy.exitCode !== null || Date.now() > deadline) throw new Error(`Caddy did not start:\n${caddyErr}`);
            await sleep(50);
        }
    }

    async function killCaddy(signal: NodeJS.Signals) {
        if (caddy && caddy.exitCode === null && caddy.signalCode === null) {
            const exited = new Promise(r => caddy!.once("exit", r));
            caddy.kill(signal);
            await exited;
        }
    }

    before(async () => {
        bin = caddyBinary();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-reload-"));
        // As in the image: XDG_CONFIG_HOME is the config volume, and the admin socket lives in it.
        const configDir = path.join(tmp, "config");
        fs.mkdirSync(configDir);
        fs.mkdirSync(path.join(tmp, "bin"));
        fs.symlinkSync(bin, path.join(tmp, "bin", "caddy"));
        socket = path.join(configDir, "admin.sock");
        env = { ...process.env, XDG_CONFIG_HOME: configDir, XDG_DATA_HOME: path.join(tmp, "data"), PATH: `${path.join(tmp, "bin")}:${process.env.PATH}` };

        upstream = http.createServer((req, res) => {
            res.setHeader("Content-Type", "application/json");
            res.end(JSON.stringify({ url: req.url }));
        });
        await new Promise<void>(r => upstream.listen(0, "127.0.0.1", r));
        const upPort = (upstream.address() as net.AddressInfo).port;
        port = await freePort();
        healthPort = await freePort();
        metricsPort = await freePort();
        buildOpts = {
            bindHost: "127.0.0.1", httpPort: port, httpsPort: await freePort(), healthListen: `127.0.0.1:${healthPort}`,
            storageRoot: path.join(tmp, "data", "caddy"), adminSocket: socket, dial: () => [`127.0.0.1:${upPort}`],
            // Caddy's metrics listener, on loopback and a free port here (":2020" in the container).
            metricsListen: `127.0.0.1:${metricsPort}`,
            // The token file in the config volume, as in the container (/config/secrets/metrics-token).
            metricsTokenFile: path.join(configDir, "secrets", "metrics-token"),
        };
        const write = (name: string, config: object) => {
            const file = path.join(tmp, name);
            fs.writeFileSync(file, renderCaddyJson(config as CaddyConfig), { mode: 0o444 });
            return file;
        };
        files.bootstrap = write("bootstrap.json", buildBootstrapConfig({ adminSocket: socket, healthListen: buildOpts.healthListen }));
        files.a = write("a.json", render(argsA()));
        files.b = write("b.json", render(argsB()));
        files.c = write("c.json", render(argsC()));
        // Caddy refuses this one: the rate limiter's window must be positive.
        const invalid = render(argsB()) as unknown as { apps: { http: { servers: { edge: { routes: { handle: { handler: string; rate_limits?: Record<string, { window: string }> }[] }[] } } } } };
        edgeHandlers(invalid).find(h => h.handler === "rate_limit")!.rate_limits!.general!.window = "0s";
        files.invalid = write("invalid.json", invalid);
        // What an image without this version's modules meets: a Slipway handler Caddy does not know.
        const unknown = render(argsB()) as unknown as { apps: { http: { servers: { edge: { routes: { handle: { handler: string }[] }[] } } } } };
        unknown.apps.http.servers.edge.routes[0]!.handle[0]!.handler = "slipway_from_a_newer_version";
        files.unknownModule = write("unknown-module.json", unknown);
        await startCaddy();
    });

    after(async () => {
        for (const l of loaders) await l.stop().catch(() => undefined);
        await killCaddy("SIGKILL");
        await new Promise(r => upstream?.close(r));
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("starts on the bootstrap: health listener and admin socket only, no edge and no TCP admin port", async () => {
        const st = fs.statSync(socket);
        assert.ok(st.isSocket(), `${socket} is a unix socket`);
        assert.equal(st.mode & 0o777, 0o200, "owner write only: only Caddy's uid can connect");
        assert.deepEqual(tcpListenPorts(caddy!.pid!), [healthPort]);
        await assert.rejects(get(port, "/v1/x"), /ECONNREFUSED/);
    });

    it("loads config A with `caddy reload` over the unix socket", async () => {
        const r = spawnSync(bin, ["reload", "--config", files.a, "--address", `unix/${socket}`], { encoding: "utf8", env, timeout: 30_000 });
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const ok = await get(port, "/v1/x");
        assert.equal(ok.status, 200);
        assert.equal(ok.headers["x-frame-options"], "DENY");
        assert.equal((await get(port, "/v2/x")).status, 404);
    });

    interface Failure { i: number; at: number; error: string }
    interface LoadResult { total: number; failures: Failure[]; before: number; during: number; after: number; pushStart: number; pushEnd: number }

    /**
     * Requests from 8 concurrent clients (127.0.0.1 only), while the loader pushes `configFile` once
     * 500 have been sent; bounded by count (at least 2,000, at most 20,000) and time (60 s).
     */
    async function loadAcrossReload(configFile: string, marker: string, agent: http.Agent | false): Promise<LoadResult> {
        const MIN_TOTAL = 2000, MIN_AFTER = 500, MAX_TOTAL = 20_000, MAX_MS = 60_000, CONCURRENCY = 8;
        const failures: Failure[] = [];
        let total = 0;
        let startedAt: number | undefined;
        let loadedAt: number | undefined;
        let pushStart = 0, pushEnd = 0;
        const t0 = Date.now();
        const done = () => total >= MAX_TOTAL || Date.now() - t0 > MAX_MS || (loadedAt !== undefined && total >= MIN_TOTAL && total - loadedAt >= MIN_AFTER);
        const worker = async () => {
            while (!done()) {
                const i = total++;
                try {
                    const r = await get(port, `/v1/load/${i}`, agent);
                    if (r.status !== 200) failures.push({ i, at: Date.now(), error: `HTTP ${r.status} ${r.body.slice(0, 200)}` });
                } catch (e) {
                    failures.push({ i, at: Date.now(), error: (e as Error).message });
                }
            }
        };
        const reload = async () => {
            while (total < 500 && Date.now() - t0 < MAX_MS) await sleep(5);
            startedAt = total;
            pushStart = Date.now();
            const out = await loader(configFile, marker).idle();
            pushEnd = Date.now();
            loadedAt = total;
            assert.match(out, /config-loader: loaded \(attempt 1\)/);
        };
        await Promise.all([reload(), ...Array.from({ length: CONCURRENCY }, worker)]);
        assert.ok(total >= MIN_TOTAL, `only ${total} requests in ${MAX_MS} ms`);
        assert.ok(startedAt! >= 500 && total - loadedAt! >= MIN_AFTER, `requests before/during/after the reload: ${startedAt}/${loadedAt! - startedAt!}/${total - loadedAt!}`);
        return { total, failures, before: startedAt!, during: loadedAt! - startedAt!, after: total - loadedAt!, pushStart, pushEnd };
    }

    /**
     * What a reload may cost, and nothing more. Caddy swaps in the new server instances while the
     * listening sockets stay open, then shuts the old ones down with Go's http.Server.Shutdown, which
     * drops a request it reads after shutdown began without processing it (net/http conn.serve,
     * golang/go#65802: such a drop is always safe to retry) and closes idle keep-alive connections.
     * So a reload can reset at most about one request per client connection, only at the instant the
     * old instances stop, and a reset request never reached a handler. Measured here: 0 to 7 of
     * 2,000 at 8 clients. Never an HTTP error, never a reset before or after the push.
     */
    function assertOnlyReloadInstantResets(r: LoadResult, label: string) {
        const list = r.failures.map(f => `#${f.i} +${f.at - r.pushStart} ms: ${f.error}`).join("\n");
        assert.deepEqual(r.failures.filter(f => /^HTTP /.test(f.error)), [], `${label}: no request was answered with an error`);
        assert.ok(r.failures.every(f => /ECONNRESET|socket hang up|EPIPE/.test(f.error)), `${label}: only connection resets:\n${list}`);
        // Within the push (plus the 5 s request timeout of a request sent just before it ended).
        assert.ok(r.failures.every(f => f.at >= r.pushStart && f.at <= r.pushEnd + 5000), `${label}: resets outside the reload:\n${list}`);
        assert.ok(r.failures.length <= 8, `${label}: ${r.failures.length} resets for 8 clients:\n${list}`);
        console.log(`      ${label}: ${r.failures.length} reset(s) in ${r.total} requests (${r.before}/${r.during}/${r.after} before/during/after the push)`);
    }

    it("reloads to config B under load: the same Caddy process, no HTTP error, at most a reset per client at the swap", async () => {
        const pidBefore = caddy!.pid!;
        // One connection per request.
        const r = await loadAcrossReload(files.b, path.join(tmp, "marker-b"), false);
        assertOnlyReloadInstantResets(r, "new connections");
        assert.ok(fs.existsSync(path.join(tmp, "marker-b")), "the loader wrote its marker");
        assert.equal(caddy!.exitCode, null, `Caddy exited:\n${caddyErr.slice(-2000)}`);
        assert.equal(caddy!.pid, pidBefore);

        const v2 = await get(port, "/v2/x");
        assert.equal(v2.status, 200, "B's new route");
        assert.equal(v2.headers["x-frame-options"], "SAMEORIGIN", "B's header");
        assert.equal((await get(port, "/v1/x")).headers["x-frame-options"], "SAMEORIGIN");
    });

    it("reloads to config C under keep-alive load with the same bound", async () => {
        // Browsers and SDKs keep connections open; Node's agent does not retry a reset, so this test sees each one.
        const pidBefore = caddy!.pid!;
        const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
        const r = await loadAcrossReload(files.c, path.join(tmp, "marker-c"), agent);
        agent.destroy();
        assertOnlyReloadInstantResets(r, "keep-alive");
        assert.equal(caddy!.pid, pidBefore);
        assert.equal((await get(port, "/v3/x")).status, 200, "C's new route");
    });

    it("still listens on no TCP admin port (2019 or any other) after the reloads", () => {
        const ports = tcpListenPorts(caddy!.pid!);
        assert.deepEqual(ports, [port, healthPort, metricsPort].sort((a, b) => a - b), "the edge, health and metrics listeners only");
        assert.ok(!ports.includes(2019));
        assert.ok(fs.statSync(socket).isSocket(), "the socket survived the reloads");
    });

    it("never pushes twice: a restarted loader with its marker stays quiet (an old loader cannot undo a newer config)", async () => {
        // Loader A, already done (its marker exists), is restarted while B is live.
        fs.writeFileSync(path.join(tmp, "marker-a"), "");
        const out = await loader(files.a, path.join(tmp, "marker-a")).idle();
        assert.match(out, /was loaded before; not pushing it again/);
        assert.doesNotMatch(out, /loaded \(attempt/);
        assert.equal((await get(port, "/v3/x")).status, 200, "C, the newest, is still live");
    });

    it("gives up at once when Caddy rejects a config, without a marker, and the running config keeps serving", async () => {
        const t0 = Date.now();
        const marker = path.join(tmp, "marker-invalid");
        const out = await loader(files.invalid, marker).idle();
        assert.ok(Date.now() - t0 < 10_000, "no retries of a rejected config");
        assert.match(out, /HTTP 400/);
        assert.match(out, /Caddy rejected this config and keeps serving the previous one/);
        assert.equal((out.match(/responded with error/g) ?? []).length, 1, "one attempt");
        assert.ok(!fs.existsSync(marker), "no marker: the loader's healthcheck fails, so `pulumi up` fails");
        const v3 = await get(port, "/v3/x");
        assert.equal(v3.status, 200, "C keeps serving");
        assert.equal(v3.headers["referrer-policy"], "no-referrer");
    });

    it("names the image as the cause when Caddy does not know a Slipway module, and gives up at once", async () => {
        const marker = path.join(tmp, "marker-unknown-module");
        const out = await loader(files.unknownModule, marker).idle();
        assert.match(out, /unknown module: http\.handlers\.slipway_from_a_newer_version/, "Caddy's own answer");
        assert.ok(out.includes(MISSING_MODULES_HINT), out);
        assert.match(out, /Caddy rejected this config and keeps serving the previous one/);
        assert.ok(!fs.existsSync(marker));
        assert.equal((await get(port, "/v3/x")).status, 200, "C keeps serving");
    });

    it("says nothing of modules when Caddy rejects a config for another reason", async () => {
        const out = await loader(files.invalid, path.join(tmp, "marker-invalid-2")).idle();
        assert.ok(!out.includes(MISSING_MODULES_HINT), out);
    });

    it("retries a socket that does not answer a bounded number of times, then gives up without a marker", async () => {
        const marker = path.join(tmp, "marker-nosocket");
        const l = new Loader(loaderScript({ configPath: files.b, adminAddress: `unix/${path.join(tmp, "absent.sock")}`, marker, attempts: 3, delaySeconds: 0.2 }), env);
        loaders.push(l);
        const out = await l.idle();
        assert.equal((out.match(/performing request/g) ?? []).length, 3, out);
        assert.match(out, /no answer from Caddy's admin socket after 3 attempts; giving up/);
        assert.ok(!fs.existsSync(marker));
    });

    it("stops on SIGTERM with status 0 (docker stop), from its idle loop", async () => {
        const l = loader(files.c, path.join(tmp, "marker-c"));
        await l.idle();
        assert.equal(await l.stop(), 0);
    });

    it("resumes the last loaded config after a crash, from the autosave, without any push", async () => {
        const autosave = JSON.parse(fs.readFileSync(path.join(tmp, "config", "caddy", "autosave.json"), "utf8"));
        assert.deepEqual(autosave, JSON.parse(fs.readFileSync(files.c, "utf8")), "the autosave is C, the last accepted config");
        await killCaddy("SIGKILL");
        await startCaddy();
        assert.match(caddyErr, /resuming from last configuration|ignoring --config and resuming/);
        const v3 = await get(port, "/v3/x");
        assert.equal(v3.status, 200, "C's route right after the restart");
        assert.equal(v3.headers["referrer-policy"], "no-referrer");
        assert.deepEqual(tcpListenPorts(caddy!.pid!), [port, healthPort, metricsPort].sort((a, b) => a - b));
    });

    describe("the public metrics token (issue 10)", () => {
        const tokenFile = () => buildOpts.metricsTokenFile!;
        const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
        const upload = (name: string, token: string) => {
            const file = path.join(tmp, name);
            fs.writeFileSync(file, token, { mode: 0o444 });
            return file;
        };
        const TOKEN_A = "cmVsb2FkLXRlc3QtdG9rZW4tYS0wMTIzNDU2Nzg5YWI";
        const TOKEN_B = "cmVsb2FkLXRlc3QtdG9rZW4tYi0wMTIzNDU2Nzg5YWI";
        let withToken = "";

        before(() => {
            withToken = path.join(tmp, "d.json");
            fs.writeFileSync(withToken, renderCaddyJson(render({ ...argsC(), routes: [...argsC().routes, { pathPrefix: "/metrics", service: svc("api") }], publicMetrics: { allowWithToken: TOKEN_A } })), { mode: 0o444 });
            assert.ok(!fs.readFileSync(withToken, "utf8").includes(TOKEN_A), "the pushed config holds no token");
        });

        it("the loader writes the token owner-only into the config volume before the push; the path opens with it only", async () => {
            const out = await loader(withToken, path.join(tmp, "marker-d"), { tokenFile: { source: upload("token-a", TOKEN_A), file: tokenFile() } }).idle();
            assert.match(out, /loaded \(attempt 1\)/);
            const st = fs.statSync(tokenFile());
            assert.equal(st.mode & 0o777, 0o400, "readable by Caddy's uid only");
            assert.equal(fs.statSync(path.dirname(tokenFile())).mode & 0o777, 0o700);
            assert.equal(fs.readFileSync(tokenFile(), "utf8"), TOKEN_A);
            assert.deepEqual(fs.readdirSync(path.dirname(tokenFile())), ["metrics-token"], "no temporary file left");
            assert.equal((await get(port, "/metrics")).status, 404);
            assert.equal((await getWith(port, "/metrics", bearer(TOKEN_B))).status, 404);
            assert.equal((await getWith(port, "/metrics", bearer(TOKEN_A))).status, 200);
            const autosave = fs.readFileSync(path.join(tmp, "config", "caddy", "autosave.json"), "utf8");
            assert.ok(!autosave.includes(TOKEN_A), "Caddy's autosave holds the file's path, not the token");
        });

        it("a rotated token applies at once with the same config: no reload of Caddy's routes, the old token stops working", async () => {
            const pid = caddy!.pid;
            const out = await loader(withToken, path.join(tmp, "marker-d2"), { tokenFile: { source: upload("token-b", TOKEN_B), file: tokenFile() } }).idle();
            assert.match(out, /loaded \(attempt 1\)/, "Caddy takes the unchanged config as a no-op");
            assert.equal(caddy!.pid, pid);
            assert.equal((await getWith(port, "/metrics", bearer(TOKEN_B))).status, 200);
            assert.equal((await getWith(port, "/metrics", bearer(TOKEN_A))).status, 404);
        });

        it("fails closed: a missing token file refuses everyone; turning the token off removes the file", async () => {
            fs.rmSync(tokenFile());
            assert.equal((await getWith(port, "/metrics", bearer(TOKEN_B))).status, 404);
            assert.equal((await getWith(port, "/metrics", { Authorization: "Bearer " })).status, 404);
            upload("token-b2", TOKEN_B);
            fs.copyFileSync(path.join(tmp, "token-b2"), tokenFile());
            // C again (no token): its loader removes the file.
            const out = await loader(files.c, path.join(tmp, "marker-c-again"), { tokenFile: { file: tokenFile() } }).idle();
            assert.match(out, /loaded \(attempt 1\)/);
            assert.ok(!fs.existsSync(tokenFile()), "the token no longer sits on disk");
            assert.equal((await getWith(port, "/metrics", bearer(TOKEN_B))).status, 404);
        });

        it("does not push when it cannot write the token (no marker, so `pulumi up` fails)", async () => {
            const marker = path.join(tmp, "marker-d-bad");
            const out = await loader(withToken, marker, { tokenFile: { source: path.join(tmp, "no-such-upload"), file: tokenFile() } }).idle();
            assert.match(out, /could not write the metrics token file/);
            assert.doesNotMatch(out, /loaded \(attempt/);
            assert.ok(!fs.existsSync(marker));
        });
    });
});
