// The Caddy side of a docker Gateway behind Cloudflare (issue 17, acceptance 1 and 2), on a real
// Caddy (scripts/build-caddy.sh) running the generated config on 127.0.0.1:
//  - the real client address: 127.0.0.2 stands in for a Cloudflare node (the test's
//    `cloudflare.trustedProxies`); two clients behind it, told apart by `CF-Connecting-IP`, get
//    separate rate-limit budgets, X-Real-IP values and access-log `client_ip`s; the same header
//    from 127.0.0.1 (not trusted) is ignored: that client is keyed, logged and forwarded by its
//    own address whatever it claims;
//  - the origin lock: a CA made here stands in for Cloudflare's origin-pull CA
//    (`cloudflare.originLock.clientCa`); a TLS client without a certificate, or with one from
//    another CA, gets no HTTP answer; one with a certificate signed by the test CA is served.
// Every request goes to 127.0.0.1; 127.0.0.2 is only a source address on the loopback interface.
import { strict as assert } from "assert";
import { ChildProcess, execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { buildCaddyConfig, renderCaddyJson } from "../../components/gateway/caddy-config";
import { normalizeGateway } from "../../components/gateway/normalize";
import type { GatewayArgs } from "../../components/gateway";
import { caddyBinary, freePort, runCaddy } from "../helpers/caddy";
import { plainDocker, svc } from "../unit/gateway-fixtures";

const ZONE = "023e105f4ecef8ad9ca31a8372d0c353";
const PROXY = "127.0.0.2";
const DOMAIN = "origin.slipway.test";

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string }

function get(port: number, p: string, opts: { from?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, path: p, localAddress: opts.from, headers: opts.headers, agent: false, timeout: 10_000 }, res => {
            let body = "";
            res.on("data", c => { body += c; });
            res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        });
        req.on("timeout", () => req.destroy(new Error(`timeout on ${p}`)));
        req.on("error", reject);
        req.end();
    });
}

/** An HTTPS GET with SNI DOMAIN, optionally presenting a client certificate: the reply, or the error that ended the exchange. */
function tlsGet(port: number, ca: string, client?: { cert: string; key: string }): Promise<Reply | Error> {
    return new Promise(resolve => {
        const req = https.request({
            host: "127.0.0.1", port, path: "/v1/ok", servername: DOMAIN, ca, agent: false, timeout: 10_000,
            headers: { Host: DOMAIN }, ...(client && { cert: client.cert, key: client.key }),
        }, res => {
            let body = "";
            res.on("data", c => { body += c; });
            res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", e => resolve(e));
        req.end();
    });
}

function ensureOpenssl(): void {
    if (spawnSync("openssl", ["version"]).status === 0) return;
    // As .ci/run does; a failure fails the test with apt's message.
    execFileSync("bash", ["-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssl || " +
        "(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssl)"], { stdio: "inherit", timeout: 300_000 });
}

/** A CA and a client certificate it signs (clientAuth), made with openssl in `dir`. */
function makeClientPki(dir: string, label: string): { caPem: string; cert: string; key: string } {
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"], timeout: 60_000 });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    ssl("req", "-x509", ...ec, "-keyout", `${label}-ca.key`, "-out", `${label}-ca.pem`, "-days", "2", "-subj", `/CN=Slipway test origin-pull CA ${label}`,
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    ssl("req", ...ec, "-keyout", `${label}-client.key`, "-out", `${label}-client.csr`, "-subj", `/CN=${label} edge`);
    fs.writeFileSync(path.join(dir, `${label}-ext.cnf`), "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n");
    ssl("x509", "-req", "-in", `${label}-client.csr`, "-CA", `${label}-ca.pem`, "-CAkey", `${label}-ca.key`, "-CAcreateserial",
        "-out", `${label}-client.pem`, "-days", "2", "-extfile", `${label}-ext.cnf`);
    const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
    return { caPem: read(`${label}-ca.pem`), cert: read(`${label}-client.pem`), key: read(`${label}-client.key`) };
}

describe("Gateway behind Cloudflare on a real Caddy", function () {
    this.timeout(20 * 60_000);
    let bin: string;
    let tmp: string;
    let upstream: http.Server;
    let upPort: number;
    const running: ChildProcess[] = [];

    before(async () => {
        bin = caddyBinary();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-cf-edge-"));
        upstream = http.createServer((req, res) => {
            res.setHeader("Content-Type", "application/json");
            res.end(JSON.stringify({ realIp: req.headers["x-real-ip"], forwardedFor: req.headers["x-forwarded-for"] ?? null }));
        });
        await new Promise<void>(r => upstream.listen(0, "127.0.0.1", r));
        upPort = (upstream.address() as net.AddressInfo).port;
    });

    after(async () => {
        for (const c of running) {
            if (c.exitCode === null) {
                const exited = new Promise(r => c.once("exit", r));
                c.kill("SIGKILL");
                await exited;
            }
        }
        await new Promise(r => upstream?.close(r));
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    /** Run Caddy on the generated config of `args`, waiting (bounded) until its health listener answers. */
    async function startCaddy(label: string, args: GatewayArgs): Promise<{ http: number; https: number; stderr: () => string }> {
        const dir = path.join(tmp, label);
        fs.mkdirSync(path.join(dir, "config"), { recursive: true });
        const n = normalizeGateway("edge", args);
        const ports = { http: await freePort(), https: await freePort(), health: await freePort() };
        const file = path.join(dir, "caddy.json");
        fs.writeFileSync(file, renderCaddyJson(buildCaddyConfig(n, {
            bindHost: "127.0.0.1", httpPort: ports.http, httpsPort: ports.https, healthListen: `127.0.0.1:${ports.health}`,
            metricsListen: `127.0.0.1:${await freePort()}`, storageRoot: path.join(dir, "data"), adminSocket: path.join(dir, "config", "admin.sock"),
            dial: () => [`127.0.0.1:${upPort}`],
        })));
        let stderr = "";
        running.push(await runCaddy(bin, file, {
            configDir: path.join(dir, "config"), dataDir: path.join(dir, "data"), healthPort: ports.health, onStderr: d => { stderr += d; },
        }));
        return { ...ports, stderr: () => stderr };
    }

    it("caddy validate accepts the default: Cloudflare's published ranges and its origin-pull CA", () => {
        const dir = path.join(tmp, "validate");
        fs.mkdirSync(dir);
        const n = normalizeGateway("edge", {
            target: plainDocker(), domains: [DOMAIN], tls: "internal", routes: [{ pathPrefix: "/v1", service: svc("api") }],
            cloudflare: { zoneId: ZONE },
        });
        const config = buildCaddyConfig(n, { storageRoot: path.join(dir, "data"), adminSocket: path.join(dir, "admin.sock") });
        assert.ok(config.apps.http.servers.edge!.trusted_proxies!.ranges.length > 20);
        const file = path.join(dir, "caddy.json");
        fs.writeFileSync(file, renderCaddyJson(config));
        const r = spawnSync(bin, ["validate", "--config", file], { encoding: "utf8", timeout: 60_000, env: { ...process.env, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir } });
        assert.equal(r.status, 0, r.stdout + r.stderr);
    });

    describe("the real client address from a trusted proxy", () => {
        let port: number;
        const logFile = () => path.join(tmp, "client-ip", "logs", "access.log");
        const cf = (ip: string) => ({ "CF-Connecting-IP": ip });

        before(async () => {
            const c = await startCaddy("client-ip", {
                target: plainDocker(),
                routes: [{ pathPrefix: "/v1", service: svc("api"), rateLimit: "general" }],
                // Three per hour: no budget refills while the test runs, however slow the machine.
                rateLimits: { general: { events: 3, window: "1h" } },
                accessLog: { stdout: false, file: path.join(tmp, "client-ip", "logs", "access.log") },
                tls: "off",
                cloudflare: { zoneId: ZONE, plan: "enterprise", trustedProxies: [`${PROXY}/32`], originLock: false },
            });
            port = c.http;
        });

        it("gives two clients behind the same proxy their own budgets, X-Real-IP and log address", async () => {
            const a: Reply[] = [], b: Reply[] = [];
            for (let i = 0; i < 4; i++) a.push(await get(port, "/v1/a", { from: PROXY, headers: cf("198.51.100.1") }));
            assert.deepEqual(a.map(r => r.status), [200, 200, 200, 429], "client A: three, then limited");
            for (let i = 0; i < 3; i++) b.push(await get(port, "/v1/b", { from: PROXY, headers: cf("198.51.100.2") }));
            assert.deepEqual(b.map(r => r.status), [200, 200, 200], "client B has its own budget behind the same proxy");
            assert.equal((await get(port, "/v1/b", { from: PROXY, headers: cf("198.51.100.2") })).status, 429);
            assert.equal(JSON.parse(a[0]!.body).realIp, "198.51.100.1");
            assert.equal(JSON.parse(b[0]!.body).realIp, "198.51.100.2");
        });

        it("ignores the header from an address that is not a trusted proxy: keyed, forwarded and logged by its own address", async () => {
            const claims = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"];
            const r: Reply[] = [];
            for (const ip of claims) r.push(await get(port, "/v1/spoof", { from: "127.0.0.1", headers: cf(ip) }));
            assert.deepEqual(r.map(x => x.status), [200, 200, 200, 429], "one budget for 127.0.0.1, whatever it claims");
            assert.equal(JSON.parse(r[0]!.body).realIp, "127.0.0.1");
            assert.equal(JSON.parse(r[0]!.body).forwardedFor, "127.0.0.1", "an untrusted X-Forwarded-For chain is not kept either");
        });

        it("logs each request with the client's address next to the connection's", async () => {
            let entries: { request: { uri: string; remote_ip: string; client_ip: string; headers: Record<string, string[]> } }[] = [];
            const deadline = Date.now() + 10_000;
            while (Date.now() < deadline) {
                entries = fs.existsSync(logFile()) ? fs.readFileSync(logFile(), "utf8").trim().split("\n").filter(Boolean).map(l => JSON.parse(l)) : [];
                if (entries.length >= 12) break;
                await new Promise(r => setTimeout(r, 100));
            }
            const seen = (uri: string) => [...new Set(entries.filter(e => e.request.uri === uri).map(e => `${e.request.remote_ip} ${e.request.client_ip}`))];
            assert.deepEqual(seen("/v1/a"), [`${PROXY} 198.51.100.1`]);
            assert.deepEqual(seen("/v1/b"), [`${PROXY} 198.51.100.2`]);
            assert.deepEqual(seen("/v1/spoof"), ["127.0.0.1 127.0.0.1"]);
        });
    });

    describe("the origin locked to the origin-pull CA", () => {
        let port: number;
        let serverCa: string;
        let good: { caPem: string; cert: string; key: string };
        let rogue: { caPem: string; cert: string; key: string };

        before(async () => {
            ensureOpenssl();
            const dir = path.join(tmp, "pki");
            fs.mkdirSync(dir);
            good = makeClientPki(dir, "test");
            rogue = makeClientPki(dir, "rogue");
            const c = await startCaddy("origin-lock", {
                target: plainDocker(),
                domains: [DOMAIN],
                // Caddy's own CA issues the server certificate at once: the lock is on the client side.
                tls: "internal",
                routes: [{ pathPrefix: "/v1", service: svc("api") }],
                cloudflare: { zoneId: ZONE, originLock: { clientCa: good.caPem } },
            });
            port = c.https;
            const root = path.join(tmp, "origin-lock", "data", "pki", "authorities", "local", "root.crt");
            const deadline = Date.now() + 60_000;
            // The internal certificate is issued just after start: wait (bounded) until a good client is served.
            for (;;) {
                if (fs.existsSync(root)) {
                    serverCa = fs.readFileSync(root, "utf8");
                    const r = await tlsGet(port, serverCa, good);
                    if (!(r instanceof Error)) break;
                }
                if (Date.now() > deadline) throw new Error(`the HTTPS listener never served the test client:\n${c.stderr()}`);
                await new Promise(r => setTimeout(r, 250));
            }
        });

        it("serves a client with a certificate signed by the configured CA", async () => {
            const r = await tlsGet(port, serverCa, good);
            assert.ok(!(r instanceof Error), String(r));
            assert.equal(r.status, 200);
            assert.equal(JSON.parse(r.body).realIp, "127.0.0.1");
        });

        it("refuses a client without a certificate, and one whose certificate another CA signed: no HTTP answer", async () => {
            for (const client of [undefined, rogue]) {
                const r = await tlsGet(port, serverCa, client);
                assert.ok(r instanceof Error, `expected the handshake to fail, got HTTP ${(r as Reply).status}`);
                assert.match(`${(r as NodeJS.ErrnoException).code} ${r.message}`, /certificate|ECONNRESET|socket hang up|alert/i);
            }
        });
    });
});
