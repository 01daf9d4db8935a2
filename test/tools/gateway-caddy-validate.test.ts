// The generated JSON against a real Caddy (built with the rate-limit module and Slipway's handlers,
// slipway_edge included, by scripts/build-caddy.sh): `caddy validate` on several configs, then a running Caddy on
// 127.0.0.1 in front of a tiny Node upstream, checked from the outside.
import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { acmeCaRootFile, buildBootstrapConfig, buildCaddyConfig, CaddyBuildOptions, EDGE_METRICS, renderCaddyJson } from "../../components/gateway/caddy-config";
import { normalizeGateway } from "../../components/gateway/normalize";
import type { GatewayArgs } from "../../components/gateway";
import { caddyBinary, edgeHandlers, freePort, killCaddy, runCaddy } from "../helpers/caddy";
import { domainArgs, localArgs, plainDocker, publicDocker, svc } from "../unit/gateway-fixtures";


interface Reply { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

function request(port: number, p: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer; timeoutMs?: number } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, path: p, method: opts.method ?? "GET", headers: opts.headers, agent: false, timeout: opts.timeoutMs ?? 5000 }, res => {
            const chunks: Buffer[] = [];
            res.on("data", c => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on("timeout", () => req.destroy(new Error(`timeout on ${p}`)));
        req.on("error", reject);
        req.end(opts.body);
    });
}

const json = (r: Reply) => JSON.parse(r.body.toString("utf8"));

describe("Gateway on a real Caddy", function () {
    // The first build compiles Caddy (about 3 minutes); later runs find it cached.
    this.timeout(20 * 60_000);
    let bin: string;
    let tmp: string;

    before(() => {
        bin = caddyBinary();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-gw-"));
    });
    after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

    describe("caddy validate", () => {
        function validate(label: string, args: GatewayArgs, opts: CaddyBuildOptions = {}): { status: number | null; out: string } {
            const n = normalizeGateway("edge", args);
            // Keep every path Caddy may touch inside the temp dir.
            if (n.accessLog?.file) n.accessLog.file = path.join(tmp, label, "access.log");
            const file = path.join(tmp, `${label}.json`);
            fs.writeFileSync(file, renderCaddyJson(buildCaddyConfig(n, { storageRoot: path.join(tmp, label, "data"), ...opts })));
            const r = spawnSync(bin, ["validate", "--config", file], { encoding: "utf8", timeout: 30_000 });
            return { status: r.status, out: r.stdout + r.stderr };
        }

        it("accepts the local config (CORS, nested zones, strip prefix)", () => {
            const r = validate("local", localArgs(plainDocker()));
            assert.equal(r.status, 0, r.out);
            assert.match(r.out, /Valid configuration/);
        });

        it("accepts domains with the internal CA and a file access log", () => {
            const r = validate("internal", { ...domainArgs(plainDocker()), email: undefined, tls: "internal" });
            assert.equal(r.status, 0, r.out);
        });

        it("accepts ACME with many routes and zones (ip and header keys)", () => {
            const args = domainArgs(publicDocker(true));
            const r = validate("acme", {
                ...args,
                routes: [...args.routes, { pathPrefix: "/v2", service: svc("v2"), rateLimit: "v2" }, { pathPrefix: "/v2/admin", service: svc("admin"), rateLimit: "core" }],
                rateLimits: { ...args.rateLimits, v2: { events: 10, window: "1h", burst: 25 } },
            });
            assert.equal(r.status, 0, r.out);
        });

        it("accepts a private ACME CA with its root file, and is a real check: a missing root file is refused", () => {
            const pem = fs.readFileSync(path.join(__dirname, "..", "fixtures", "acme", "private-ca.pem"), "utf8");
            const args = { ...domainArgs(plainDocker()), acme: { directory: "https://ca.internal/acme/directory", caRoot: pem } };
            const dir = path.join(tmp, "acme-roots");
            const file = acmeCaRootFile(normalizeGateway("edge", args).acme!.caRoot!, dir);
            fs.mkdirSync(dir, { recursive: true });
            const missing = validate("acme-private-missing", args, { acmeCaRootDir: dir });
            assert.notEqual(missing.status, 0);
            assert.match(missing.out, /trusted root CA's PEM file/);
            fs.writeFileSync(file, pem);
            const r = validate("acme-private", args, { acmeCaRootDir: dir });
            assert.equal(r.status, 0, r.out);
        });

        it("accepts the metrics guard with a token file placeholder, and the internal metrics listener", () => {
            const r = validate("metrics-token", { ...localArgs(plainDocker()), publicMetrics: { allowWithToken: "x".repeat(40) } },
                { metricsTokenFile: path.join(tmp, "metrics-token") });
            assert.equal(r.status, 0, r.out);
        });

        it("accepts the bootstrap config (admin socket and health listener only)", () => {
            const file = path.join(tmp, "bootstrap.json");
            fs.writeFileSync(file, renderCaddyJson(buildBootstrapConfig()));
            const r = spawnSync(bin, ["validate", "--config", file], { encoding: "utf8", timeout: 30_000 });
            assert.equal(r.status, 0, r.stdout + r.stderr);
        });

        it("is a real check: Caddy refuses a zone the module cannot load", () => {
            const n = normalizeGateway("edge", localArgs(plainDocker()));
            const c = buildCaddyConfig(n, { storageRoot: path.join(tmp, "bad") }) as unknown as { apps: { http: { servers: { edge: { routes: { handle: { handler: string; rate_limits?: Record<string, { window: string }> }[] }[] } } } } };
            const rl = edgeHandlers(c).find(h => h.handler === "rate_limit")!;
            rl.rate_limits!.general!.window = "0s";
            const file = path.join(tmp, "bad.json");
            fs.writeFileSync(file, JSON.stringify(c));
            const r = spawnSync(bin, ["validate", "--config", file], { encoding: "utf8", timeout: 30_000 });
            assert.notEqual(r.status, 0);
            assert.match(r.stdout + r.stderr, /window must be greater than zero/);
        });
    });

    describe("the access log's buffer (slipway_edge)", () => {
        // The Gateway always writes flush_interval 250ms; here the test stretches it to an hour (an
        // edit of the generated JSON), so a line can only reach the file by a reload or a stop.
        let caddy: ChildProcess | undefined;
        let port: number;
        let dir: string;
        const file = () => path.join(dir, "access.log");
        const lines = () => (fs.existsSync(file()) ? fs.readFileSync(file(), "utf8").split("\n").filter(Boolean).map(l => JSON.parse(l).request.uri as string) : []);
        const waitFor = async (what: () => boolean, ms: number) => {
            const deadline = Date.now() + ms;
            while (!what() && Date.now() < deadline) await new Promise(r => setTimeout(r, 100));
            return what();
        };
        let cfgFile: string;
        let socket: string;

        before(async () => {
            dir = path.join(tmp, "buffer");
            fs.mkdirSync(dir);
            port = await freePort();
            const health = await freePort();
            socket = path.join(dir, "admin.sock");
            const n = normalizeGateway("edge", { target: plainDocker(), routes: [{ pathPrefix: "/v1", service: svc("api") }], accessLog: { stdout: false, file: file() } });
            const c = buildCaddyConfig(n, {
                bindHost: "127.0.0.1", httpPort: port, httpsPort: await freePort(), healthListen: `127.0.0.1:${health}`, metricsListen: `127.0.0.1:${await freePort()}`,
                storageRoot: path.join(dir, "data"), adminSocket: socket, dial: () => ["127.0.0.1:9"], // never dialled: the requests here match no route
            });
            const edge = c.apps.http.servers.edge!.routes[0]!.handle[0]!;
            assert.ok(edge.handler === "slipway_edge" && !("finish" in edge) && edge.access_log?.flush_interval === "250ms");
            edge.access_log!.flush_interval = "1h";
            cfgFile = path.join(dir, "caddy.json");
            fs.writeFileSync(cfgFile, renderCaddyJson(c));
            caddy = await runCaddy(bin, cfgFile, { configDir: dir, dataDir: dir, healthPort: health });
        });

        after(() => killCaddy(caddy));

        it("holds lines in memory until the flush interval, and writes them on a config reload", async () => {
            assert.equal((await request(port, "/before-reload")).status, 404);
            assert.equal(await waitFor(() => lines().includes("/before-reload"), 1500), false, "buffered: not written within 1.5 s of an hour's interval");
            const r = spawnSync(bin, ["reload", "--force", "--config", cfgFile, "--address", `unix/${socket}`], { encoding: "utf8", timeout: 30_000, env: { ...process.env, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir } });
            assert.equal(r.status, 0, r.stdout + r.stderr);
            assert.ok(await waitFor(() => lines().includes("/before-reload"), 5000), `written on the reload: ${JSON.stringify(lines())}`);
        });

        it("writes them when Caddy stops (SIGTERM)", async () => {
            assert.equal((await request(port, "/before-stop")).status, 404);
            assert.equal(await waitFor(() => lines().includes("/before-stop"), 1000), false, "buffered");
            const exited = new Promise(r => caddy!.once("exit", r));
            caddy!.kill("SIGTERM");
            await exited;
            assert.deepEqual(lines(), ["/before-reload", "/before-stop"], "each line once, none lost");
        });
    });

    describe("plain HTTP with TLS on", () => {
        let caddy: ChildProcess | undefined;
        let httpPort: number;
        let metricsPort: number;
        let dir: string;
        const logLines = () => fs.readFileSync(path.join(dir, "access.log"), "utf8").split("\n").filter(Boolean).map(l => JSON.parse(l));

        before(async () => {
            dir = path.join(tmp, "redirects");
            fs.mkdirSync(dir);
            [httpPort, metricsPort] = [await freePort(), await freePort()];
            const health = await freePort();
            // A local CA: no ACME, nothing leaves the machine. The published HTTPS port is not 443.
            const n = normalizeGateway("edge", {
                ...domainArgs(plainDocker()), email: undefined, tls: "internal", publishPort: 8080, publishHttpsPort: 8443,
                accessLog: { stdout: false, file: path.join(dir, "access.log") },
            });
            const c = buildCaddyConfig(n, {
                bindHost: "127.0.0.1", httpPort, httpsPort: await freePort(), healthListen: `127.0.0.1:${health}`, metricsListen: `127.0.0.1:${metricsPort}`,
                storageRoot: path.join(dir, "data"), adminSocket: path.join(dir, "admin.sock"), dial: () => ["127.0.0.1:9"],
            });
            (c.apps.http.servers.redirects!.routes[0]!.handle[0] as { access_log: { flush_interval: string } }).access_log.flush_interval = "50ms";
            fs.writeFileSync(path.join(dir, "caddy.json"), renderCaddyJson(c));
            caddy = await runCaddy(bin, path.join(dir, "caddy.json"), { configDir: dir, dataDir: dir, healthPort: health });
        });

        after(() => killCaddy(caddy));

        it("redirects a domain to https on the published port, 404s another host, and counts and logs both", async () => {
            const r = await request(httpPort, "/v1/core/a?x=1", { headers: { Host: "api.example.com" } });
            assert.equal(r.status, 308);
            assert.equal(r.headers.location, "https://api.example.com:8443/v1/core/a?x=1");
            assert.match(String(r.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
            assert.ok(r.headers["strict-transport-security"], "the security headers, as on every answer");
            const other = await request(httpPort, "/v1/core/a", { headers: { Host: "evil.example" } });
            assert.equal(other.status, 404);
            assert.deepEqual(json(other), { error: "Not Found" });
            const text = (await request(metricsPort, "/metrics")).body.toString("utf8");
            for (const code of ["308", "404"]) {
                assert.match(text, new RegExp(`^slipway_gateway_request_duration_seconds_count\\{code="${code}",method="GET"\\} 1$`, "m"), text.slice(0, 2000));
            }
            const deadline = Date.now() + 5000;
            while (logLines().length < 2 && Date.now() < deadline) await new Promise(res => setTimeout(res, 50));
            assert.deepEqual(logLines().map(l => [l.request.host, l.request.uri, l.status]), [["api.example.com", "/v1/core/a?x=1", 308], ["evil.example", "/v1/core/a", 404]]);
        });
    });

    describe("serving", () => {
        let caddy: ChildProcess | undefined;
        let upstream: http.Server;
        let port: number;
        let metricsPort: number;
        const TOKEN = "dGVzdC1zY3JhcGUtdG9rZW4tZm9yLWNhZGR5LTAxMjM0";
        let stdout = "";
        let stderr = "";
        const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; bytes: number }[] = [];

        before(async () => {
            upstream = http.createServer((req, res) => {
                let bytes = 0;
                req.on("data", c => { bytes += c.length; });
                req.on("end", () => {
                    if (req.url!.startsWith("/v1/broken")) {
                        // A response broken off midway: Caddy logs it, with the request, to its runtime log.
                        res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "1000" });
                        res.write("{\"partial\":");
                        setTimeout(() => res.destroy(), 50);
                        return;
                    }
                    if (req.url!.includes("fail=503")) {
                        // A health check that fails: the service says it is not ready.
                        res.writeHead(503, { "Content-Type": "application/json" });
                        res.end('{"status":"draining"}');
                        return;
                    }
                    seen.push({ method: req.method!, url: req.url!, headers: req.headers, bytes });
                    res.setHeader("Server", "node-upstream");
                    res.setHeader("X-Frame-Options", "SAMEORIGIN");
                    res.setHeader("Content-Type", "application/json");
                    // Long enough for encode's minimum length, so compression really happens.
                    res.end(JSON.stringify({ url: req.url, bytes, pad: "x".repeat(2000) }));
                });
            });
            await new Promise<void>(r => upstream.listen(0, "127.0.0.1", r));
            const upPort = (upstream.address() as net.AddressInfo).port;
            port = await freePort();
            const healthPort = await freePort();
            metricsPort = await freePort();
            // Nothing listens there: the route to "dead" answers 502 (503 once health checks took it out).
            const deadPort = await freePort();
            const tokenFile = path.join(tmp, "secrets", "metrics-token");
            fs.mkdirSync(path.dirname(tokenFile), { mode: 0o700 });
            fs.writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o400 });
            const n = normalizeGateway("edge", {
                target: plainDocker(),
                routes: [
                    // The API's metrics path has a route here, as a stack's catch-all "/" gives it one:
                    // without the guard, the gateway would proxy it to the API.
                    { pathPrefix: "/metrics", service: svc("api") },
                    { pathPrefix: "/v1", service: svc("api"), rateLimit: "general" },
                    { pathPrefix: "/v1/limited", service: svc("api"), rateLimit: "tight" },
                    { pathPrefix: "/strip", service: svc("other"), stripPrefix: true },
                    { pathPrefix: "/dead", service: svc("dead") },
                ],
                publicMetrics: { allowWithToken: TOKEN },
                rateLimits: { general: { events: 1000, window: "1m" }, tight: { events: 2, window: "1m", burst: 3 } },
                cors: { allowOrigins: ["https://app.example.com"], allowCredentials: true },
                maxBodySize: "1KB",
                accessLog: { stdout: true, file: path.join(tmp, "logs", "access.log"), redactHeaders: ["X-Partner-Token"], redactQuery: ["partner_key"] },
            });
            const file = path.join(tmp, "serve.json");
            fs.writeFileSync(file, renderCaddyJson(buildCaddyConfig(n, {
                bindHost: "127.0.0.1", httpPort: port, httpsPort: await freePort(), healthListen: `127.0.0.1:${healthPort}`,
                storageRoot: path.join(tmp, "serve-data"),
                dial: e => [`127.0.0.1:${e.name === "dead" ? deadPort : upPort}`],
                metricsListen: `127.0.0.1:${metricsPort}`, metricsTokenFile: tokenFile,
                // The admin socket and the autosave stay in the temp dir too.
                adminSocket: path.join(tmp, "serve-config", "admin.sock"),
            })));
            fs.mkdirSync(path.join(tmp, "serve-config"));
            caddy = spawn(bin, ["run", "--config", file], {
                stdio: ["ignore", "pipe", "pipe"],
                env: { ...process.env, XDG_CONFIG_HOME: path.join(tmp, "serve-config"), XDG_DATA_HOME: path.join(tmp, "serve-data") },
            });
            caddy.stdout!.on("data", d => { stdout += d; });
            caddy.stderr!.on("data", d => { stderr += d; });
            const deadline = Date.now() + 15_000;
            for (;;) {
                try { if ((await request(healthPort, "/healthz")).status === 200) break; } catch { /* not up yet */ }
                if (caddy.exitCode !== null || Date.now() > deadline) throw new Error(`Caddy did not start:\n${stderr}`);
                await new Promise(r => setTimeout(r, 100));
            }
        });

        after(async () => {
            if (caddy && caddy.exitCode === null) {
                const exited = new Promise(r => caddy!.once("exit", r));
                caddy.kill("SIGKILL");
                await exited;
            }
            await new Promise(r => upstream?.close(r));
        });

        it("proxies with edge headers set, the upstream's overridden, and no Server; the upstream gets X-Request-ID and X-Real-IP, no X-Forwarded-Host", async () => {
            const r = await request(port, "/v1/things?x=1", { headers: { "X-Forwarded-Host": "evil.example" } });
            assert.equal(r.status, 200, r.body.toString());
            assert.equal(json(r).url, "/v1/things?x=1");
            assert.equal(r.headers["strict-transport-security"], "max-age=31536000; includeSubDomains");
            assert.equal(r.headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
            assert.equal(r.headers["x-frame-options"], "DENY", "edge value wins over the upstream's SAMEORIGIN");
            assert.equal(r.headers["x-content-type-options"], "nosniff");
            assert.equal(r.headers["referrer-policy"], "strict-origin-when-cross-origin");
            assert.equal(r.headers.server, undefined);
            assert.equal(r.headers.via, undefined);
            const up = seen.at(-1)!;
            assert.match(String(r.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
            assert.equal(up.headers["x-request-id"], r.headers["x-request-id"], "the upstream sees the id the client gets");
            assert.equal(up.headers["x-real-ip"], "127.0.0.1", "no trusted proxy: the connection's address");
            assert.equal(up.headers["x-forwarded-for"], "127.0.0.1");
            assert.equal(up.headers["x-forwarded-proto"], "http");
            assert.equal(up.headers.host, `127.0.0.1:${port}`, "Host as the client sent it");
            assert.equal(up.headers["x-forwarded-host"], undefined, "which X-Forwarded-Host would only repeat");
        });

        it("answers 413 past the body limit and passes bodies under it, at the exact bound, declared or chunked", async () => {
            const before = seen.length;
            const big = await request(port, "/v1/upload", { method: "POST", body: Buffer.alloc(2000, 97), headers: { "Content-Type": "text/plain" } });
            assert.equal(big.status, 413);
            assert.deepEqual(json(big), { error: "Request Entity Too Large" });
            assert.equal(big.headers["x-frame-options"], "DENY", "error responses carry the edge headers too");
            assert.equal(big.headers.server, undefined);
            assert.match(String(big.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
            // maxBodySize "1KB" is 1000 bytes: the bound passes, one more is refused before the service sees it.
            const post = (n: number, chunked = false) => request(port, "/v1/upload", {
                method: "POST", body: Buffer.alloc(n, 97), headers: { "Content-Type": "text/plain", ...(chunked && { "Transfer-Encoding": "chunked" }) },
            });
            assert.equal((await post(1001)).status, 413);
            assert.equal(seen.length, before, "a declared body over the limit never reaches the service");
            const exact = await post(1000);
            assert.equal(exact.status, 200);
            assert.equal(json(exact).bytes, 1000);
            const small = await post(500);
            assert.equal(small.status, 200);
            assert.equal(json(small).bytes, 500);
            // No Content-Length: the limit holds while the body is read.
            assert.equal((await post(1000, true)).status, 200);
            assert.equal(json(await post(1000, true)).bytes, 1000);
            const chunked = await post(5000, true);
            assert.equal(chunked.status, 413, chunked.body.toString());
            assert.ok(seen.every(x => x.bytes <= 1000), "the service never read past the limit");
        });

        it("compresses with gzip or zstd as the client asks", async () => {
            const g = await request(port, "/v1/big", { headers: { "Accept-Encoding": "gzip" } });
            assert.equal(g.headers["content-encoding"], "gzip");
            assert.equal(JSON.parse(zlib.gunzipSync(g.body).toString()).url, "/v1/big");
            const z = await request(port, "/v1/big", { headers: { "Accept-Encoding": "zstd, gzip" } });
            assert.equal(z.headers["content-encoding"], "zstd");
            assert.deepEqual([...z.body.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], "a zstd frame");
            const plain = await request(port, "/v1/big");
            assert.equal(plain.headers["content-encoding"], undefined);
            assert.ok(g.body.length < plain.body.length / 5);
        });

        it("answers CORS preflight at the edge with 204, for allowed origins only", async () => {
            const before = seen.length;
            const ok = await request(port, "/v1/things", { method: "OPTIONS", headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "POST" } });
            assert.equal(ok.status, 204);
            assert.equal(ok.headers["access-control-allow-origin"], "https://app.example.com");
            assert.equal(ok.headers["access-control-allow-credentials"], "true");
            assert.match(String(ok.headers["access-control-allow-methods"]), /POST/);
            assert.equal(ok.headers["access-control-max-age"], "600");
            assert.equal(seen.length, before, "the preflight never reached the service");
            const evil = await request(port, "/v1/things", { method: "OPTIONS", headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" } });
            assert.equal(evil.headers["access-control-allow-origin"], undefined);
            const actual = await request(port, "/v1/things", { headers: { Origin: "https://app.example.com" } });
            assert.equal(actual.headers["access-control-allow-origin"], "https://app.example.com");
        });

        it("strips the prefix where asked", async () => {
            const r = await request(port, "/strip/a/b");
            assert.equal(json(r).url, "/a/b");
        });

        it("answers unknown routes with a JSON 404", async () => {
            const r = await request(port, "/nope");
            assert.equal(r.status, 404);
            assert.deepEqual(json(r), { error: "Not Found" });
            assert.equal(r.headers["x-content-type-options"], "nosniff");
            const sibling = await request(port, "/v10");
            assert.equal(sibling.status, 404, "/v1 does not cover /v10");
        });

        it("refuses GET /metrics through the gateway without the token, and serves it with the token (acceptance 3)", async () => {
            const before = seen.length;
            for (const [p, headers] of [
                ["/metrics", {}], ["/metrics/", {}], ["/metrics?format=prometheus", {}], ["/METRICS", {}], ["/metrics/extra", {}],
                ["/metrics", { Authorization: `Bearer ${TOKEN}x` }], ["/metrics", { Authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
                ["/metrics", { Authorization: TOKEN }], ["/metrics", { Authorization: `Basic ${TOKEN}` }],
            ] as const) {
                const r = await request(port, p, { headers });
                assert.equal(r.status, 404, `${p} ${JSON.stringify(headers)}`);
                assert.deepEqual(json(r), { error: "Not Found" }, "the same answer as any unknown path");
                assert.equal(r.headers["x-frame-options"], "DENY", "with the edge headers");
            }
            const preflight = await request(port, "/metrics", { method: "OPTIONS", headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "GET" } });
            assert.equal(preflight.status, 404, "refused before CORS answers a preflight");
            assert.equal(seen.length, before, "no refused request reached the service");

            const ok = await request(port, "/metrics", { headers: { Authorization: `Bearer ${TOKEN}` } });
            assert.equal(ok.status, 200, ok.body.toString());
            assert.equal(json(ok).url, "/metrics");
            assert.equal(seen.at(-1)!.headers.authorization, `Bearer ${TOKEN}`, "the service sees the token and checks it too");
            const below = await request(port, "/metrics/detail", { headers: { Authorization: `Bearer ${TOKEN}` } });
            assert.equal(json(below).url, "/metrics/detail", "the path below it opens with the token too");
        });

        it("never logs the token: the access log redacts Authorization", async () => {
            await request(port, "/metrics/logged", { headers: { Authorization: `Bearer ${TOKEN}` } });
            const deadline = Date.now() + 5000;
            const line = () => stdout.split("\n").filter(Boolean).map(l => JSON.parse(l)).find(l => l.request?.uri === "/metrics/logged");
            while (!line() && Date.now() < deadline) await new Promise(r => setTimeout(r, 100));
            assert.ok(line(), "the request was logged");
            assert.deepEqual(line().request.headers.Authorization, ["REDACTED"]);
            assert.ok(!stdout.includes(TOKEN), `not in the access log:\n${stdout.split("\n").filter(l => l.includes(TOKEN)).join("\n")}`);
            assert.ok(!stderr.includes(TOKEN), `not in Caddy's own log:\n${stderr.split("\n").filter(l => l.includes(TOKEN)).join("\n")}`);
        });

        it("serves the gateway's metrics on the internal listener only: once per request, by status, errors and upstream failures included", async () => {
            const metrics = async () => {
                const m = await request(metricsPort, "/metrics");
                assert.equal(m.status, 200);
                return m.body.toString();
            };
            const samples = (text: string, name: string, labels: Record<string, string>) => text.split("\n").filter(l => l.startsWith(`${name}{`)
                && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
            const count = (text: string, labels: Record<string, string>) =>
                samples(text, `${EDGE_METRICS.requestDuration}_count`, labels).reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
            const before = await metrics();
            // Caddy keeps trying other replicas for tryDuration (5s) before it gives up.
            const dead = await request(port, "/dead/x", { timeoutMs: 20_000 });
            assert.ok([502, 503].includes(dead.status), `a dead upstream: ${dead.status}`);
            await request(port, "/v1/seen");
            // Methods no other test uses, so the counts below are this test's own.
            for (let i = 0; i < 3; i++) assert.equal((await request(port, "/nope-counted", { method: "PATCH" })).status, 404);
            assert.equal((await request(port, "/v1/too-big", { method: "PUT", body: Buffer.alloc(2000, 97) })).status, 413);
            await request(port, "/nope-counted", { method: "FROB" });
            const text = await metrics();
            const d = (labels: Record<string, string>) => count(text, labels) - count(before, labels);
            assert.equal(d({ code: "404", method: "PATCH" }), 3, "each request counted once, not once per handler it ran through");
            assert.equal(d({ code: "413", method: "PUT" }), 1, "an error route's answer, with its real status");
            assert.equal(d({ code: String(dead.status), method: "GET" }), 1, "the failed upstream, by the status the client got");
            assert.ok(d({ code: "200", method: "GET" }) >= 1);
            assert.equal(d({ method: "OTHER" }), 1, "an unknown method is OTHER: clients add no series");
            assert.ok(!text.includes('method="FROB"'));
            // The buckets slipway_edge exports are the ones documented for latency rules, and its series have code and method only.
            const buckets = samples(text, `${EDGE_METRICS.requestDuration}_bucket`, { code: "200", method: "GET" });
            const les = buckets.map(l => /le="([^"]+)"/.exec(l)![1]!).filter(le => le !== "+Inf").map(Number);
            assert.deepEqual([...new Set(les)].sort((a, b) => a - b), [...EDGE_METRICS.durationBuckets]);
            assert.deepEqual(/\{([^}]*)\}/.exec(buckets[0]!)![1]!.split(",").map(kv => kv.split("=")[0]).sort(), ["code", "le", "method"]);
            assert.match(text, new RegExp(`^${EDGE_METRICS.inFlight} 0$`, "m"), "the in-flight gauge is back to 0 once every request (errors included) ended");
            assert.ok(!text.includes("caddy_http_"), "Caddy's own HTTP metrics are off");
            assert.ok(samples(text, "caddy_reverse_proxy_upstreams_healthy", {}).length > 0);
            assert.ok(!/host="/.test(text), "no per-host label (clients choose Host)");
            assert.equal((await request(metricsPort, "/anything")).status, 200, "any path: Prometheus's metrics_path does not matter");
            // The public listener does not serve them: /metrics there is the guarded path.
            assert.equal((await request(port, "/metrics")).status, 404);
        });

        it("lets `burst` requests of a zone through, then 429 with Retry-After; other zones are unaffected", async () => {
            // tight: 2 per minute, burst 3 -> the module's sliding window holds 3 per 90s.
            const statuses: number[] = [];
            let limited: Reply | undefined;
            const deadline = Date.now() + 10_000;
            for (let i = 0; i < 10 && Date.now() < deadline && !limited; i++) {
                const r = await request(port, "/v1/limited/join", { method: "POST", headers: { Origin: "https://app.example.com" } });
                statuses.push(r.status);
                if (r.status === 429) limited = r;
            }
            assert.deepEqual(statuses, [200, 200, 200, 429]);
            const retry = Number(limited!.headers["retry-after"]);
            assert.ok(retry > 60 && retry <= 91, `Retry-After ${limited!.headers["retry-after"]}`);
            assert.equal(limited!.headers["access-control-allow-origin"], "https://app.example.com", "a browser can read the 429");
            assert.equal(limited!.headers["x-frame-options"], "DENY");
            assert.equal((await request(port, "/v1/other")).status, 200, "/v1 is another zone and excludes /v1/limited");
        });

        it("logs one in 100 successful health checks, saying so, and a failed one always, as it arrived", async () => {
            // "/strip" strips its prefix: the other service's /health and /ready are reached under it.
            for (let i = 0; i < 5; i++) assert.equal((await request(port, `/strip/health?n=${i}`)).status, 200);
            const failed = await request(port, "/strip/ready?fail=503", { headers: { "X-Request-ID": "from-the-client" } });
            assert.equal(failed.status, 503);
            const checks = () => stdout.split("\n").filter(Boolean).map(l => JSON.parse(l)).filter(l => /^\/strip\/(health|ready)/.test(l.request?.uri ?? ""));
            const deadline = Date.now() + 5000;
            while (!checks().some(l => l.status === 503) && Date.now() < deadline) await new Promise(res => setTimeout(res, 100));
            assert.deepEqual(checks().map(l => [l.request.uri, l.status, l.sampled_1_in]), [["/strip/health?n=0", 200, 100], ["/strip/ready?fail=503", 503, undefined]],
                "the first success stands for 100; the failure is logged with the URI before the prefix strip");
            const line = checks()[1];
            assert.deepEqual(line.request.headers["X-Request-Id"], ["from-the-client"], "the client's header, not the one the gateway set");
            assert.equal(line.request_id, failed.headers["x-request-id"]);
        });

        it("writes JSON access log lines to stdout and to the file, within the flush interval, 5xx as errors", async () => {
            const r = await request(port, "/nope-logged?x=1&token=secret-query-token&Partner_Key=secret-query-partner&access_token=secret-query-bearer", {
                headers: { "User-Agent": "slipway-test", Cookie: "session=secret-cookie", "X-Api-Key": "secret-api-key", "X-Partner-Token": "secret-partner", "X-Api-Version": "2" },
            });
            // A default (token), one the stack named (in another case), and access_token (always).
            const LOGGED_URI = "/nope-logged?x=1&token=REDACTED&Partner_Key=REDACTED&access_token=REDACTED";
            const deadline = Date.now() + 5000;
            const find = (text: string, uri: string) => text.split("\n").filter(Boolean).map(l => JSON.parse(l)).find(l => l.request?.uri === uri);
            const file = path.join(tmp, "logs", "access.log");
            // Buffered, flushed at least every 250 ms with no further traffic: a bounded wait well above it.
            while ((!find(stdout, LOGGED_URI) || !fs.existsSync(file) || !find(fs.readFileSync(file, "utf8"), LOGGED_URI)) && Date.now() < deadline) {
                await new Promise(res => setTimeout(res, 100));
            }
            const line = find(stdout, LOGGED_URI);
            assert.ok(line, `no access line on stdout:\n${stdout.slice(-2000)}`);
            assert.equal(line.logger, "http.log.access");
            assert.equal(line.level, "info");
            assert.equal(line.msg, "handled request");
            assert.equal(line.status, 404);
            assert.equal(line.size, r.body.length);
            assert.equal(line.request_id, r.headers["x-request-id"], "the id the client got");
            assert.equal(typeof line.ts, "number");
            assert.ok(line.duration >= 0 && line.duration < 5);
            assert.equal(line.bytes_read, 0);
            assert.deepEqual(
                { remote_ip: line.request.remote_ip, client_ip: line.request.client_ip, method: line.request.method, proto: line.request.proto, host: line.request.host },
                { remote_ip: "127.0.0.1", client_ip: "127.0.0.1", method: "GET", proto: "HTTP/1.1", host: `127.0.0.1:${port}` });
            assert.match(line.request.remote_port, /^\d+$/);
            assert.deepEqual(line.request.headers["User-Agent"], ["slipway-test"]);
            assert.deepEqual(line.request.headers.Cookie, ["REDACTED"]);
            assert.deepEqual(line.request.headers["X-Api-Key"], ["REDACTED"], "a default credential header");
            assert.deepEqual(line.request.headers["X-Partner-Token"], ["REDACTED"], "one the stack named");
            assert.deepEqual(line.request.headers["X-Api-Version"], ["2"], "others as sent");
            assert.ok(!/secret-(api-key|partner|query)/.test(stdout + fs.readFileSync(file, "utf8")), "no credential in either log");
            assert.equal(line.resp_headers, undefined);
            assert.ok(find(fs.readFileSync(file, "utf8"), LOGGED_URI), "the file log has the line too");
            assert.ok(!/"uri":"\/nope-logged/.test(stderr), "access lines stay out of the runtime log");
            assert.ok(!stdout.includes("secret-cookie"));
            // The dead upstream's request (the metrics test): an error line with the status the client got.
            const dead = find(stdout, "/dead/x");
            assert.ok(dead, "the 5xx was logged");
            assert.equal(dead.level, "error");
            assert.ok([502, 503].includes(dead.status));
            // The 413 answered by the error routes (the metrics test): logged with its real status.
            assert.equal(find(stdout, "/v1/too-big").status, 413);
        });

        it("hides credentials in the requests Caddy writes to its runtime log, as the access log does", async () => {
            await assert.rejects(request(port, "/v1/broken?page=2&token=secret-runtime-token&access_token=secret-runtime-bearer", {
                headers: { "X-Api-Key": "secret-runtime-api-key", "X-Partner-Token": "secret-runtime-partner", Authorization: "Bearer secret-runtime-auth", "X-Api-Version": "2" },
            }), "Caddy aborts the client's response when the upstream's broke off");
            const deadline = Date.now() + 5000;
            const aborted = () => stderr.split("\n").filter(l => l.includes("aborting with incomplete response")).map(l => JSON.parse(l));
            while (!aborted().length && Date.now() < deadline) await new Promise(res => setTimeout(res, 100));
            const line = aborted()[0];
            assert.ok(line, `no runtime line about the broken response:\n${stderr.slice(-2000)}`);
            assert.equal(line.request.uri, "/v1/broken?page=2&token=REDACTED&access_token=REDACTED");
            assert.deepEqual(line.request.headers["X-Api-Key"], ["REDACTED"], "a default credential header");
            assert.deepEqual(line.request.headers["X-Partner-Token"], ["REDACTED"], "one the stack named");
            assert.deepEqual(line.request.headers.Authorization, ["REDACTED"]);
            assert.deepEqual(line.request.headers["X-Api-Version"], ["2"], "others as sent");
            assert.ok(!stderr.includes("secret-runtime"), `a credential reached the runtime log:\n${stderr.split("\n").filter(l => l.includes("secret-runtime")).join("\n")}`);
        });

        it("logs the URI the client sent, not the one a route rewrote (as Caddy's access log did)", async () => {
            // A route that strips its prefix: the service sees /uri-marker, the log must say /strip/uri-marker.
            assert.equal(json(await request(port, "/strip/uri-marker")).url, "/uri-marker");
            const uris = () => stdout.split("\n").filter(Boolean).map(l => JSON.parse(l).request?.uri as string);
            const deadline = Date.now() + 5000;
            while (!uris().some(u => u?.endsWith("/uri-marker")) && Date.now() < deadline) await new Promise(res => setTimeout(res, 100));
            assert.deepEqual(uris().filter(u => u?.endsWith("/uri-marker")), ["/strip/uri-marker"]);
        });
    });
});
