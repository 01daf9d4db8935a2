import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { synth } from "../../cli/synth";
import { TYPES } from "./harness";
import { edgeHandlers } from "../helpers/caddy";
import {
    C, DeployedStack, ROOT, STACK, devStackFile, eventually, gatewayConfig, generatedSecret, isSecretValue, overridesFor, request, sharedStack, sleep, uploadOf, zoneClock,
} from "./stack-under-test";

/**
 * The dev stack on a real engine, part 1: it comes up, serves through the gateway, and the
 * generated Caddy config behaves at the edge as the Gateway component means it to.
 * Expected values come from the recording (the generated caddy.json, the stack file), not from
 * copies in this file.
 */

/** The gateway's generated Caddy config, as uploaded into its container. */
function caddyConfig(s: DeployedStack): any {
    return gatewayConfig(s.resources);
}

/** The security headers the config sets on every response, and the ones it deletes (slipway_edge's primary instance). */
function securityHeaders(s: DeployedStack): { set: Record<string, string>; del: string[]; requestId: string } {
    const h = edgeHandlers(caddyConfig(s)).find((x: any) => x.handler === "slipway_edge" && x.response_headers);
    assert.ok(h, "the generated config has slipway_edge with response headers");
    const set = Object.fromEntries(Object.entries(h.response_headers as Record<string, string[]>).map(([k, v]) => [k, v[0]!]));
    return { set, del: h.strip_response_headers ?? [], requestId: h.request_id_header };
}

describe("dev stack on a real engine: up, traffic and edge", function () {
    this.timeout(10 * 60_000);
    let s: DeployedStack;

    before(async function () {
        this.timeout(25 * 60_000); // a fresh machine builds the images here
        s = await sharedStack();
    });

    it("comes up from nothing to every healthcheck healthy within 60 s", () => {
        const rows = Object.entries(s.healthyAt).sort(([, a], [, b]) => a - b).map(([n, ms]) => `${n} ${(ms / 1000).toFixed(1)}s`);
        console.log(`      time to healthy: ${(s.timeToHealthyMs / 1000).toFixed(1)} s (${rows.join(", ")})`);
        // Every container the components declare, each running (healthy where it has a check).
        const declared = s.resources.filter(r => r.type === TYPES.container).map(r => r.name).sort();
        assert.deepEqual(Object.keys(s.healthyAt).sort(), declared);
        for (const logical of Object.values(C)) assert.ok(declared.includes(logical), logical);
        assert.ok(s.timeToHealthyMs <= 60_000, `took ${s.timeToHealthyMs} ms`);
    });

    it("runs the containers exactly as recorded: image, user, limits, restart policy, labels, loopback port", async () => {
        for (const logical of s.resources.filter(r => r.type === TYPES.container).map(r => r.name)) {
            const rec = s.recordedContainer(logical).inputs as Record<string, any>;
            const got = await s.h.inspect(s.name(logical));
            assert.equal(got.HostConfig.RestartPolicy.Name, rec.restart, `${logical} restart`);
            if (rec.memory) assert.equal(got.HostConfig.Memory, rec.memory * 1024 * 1024, `${logical} memory`);
            if (rec.user) assert.equal(got.Config.User, rec.user, `${logical} user`);
            for (const l of rec.labels as { label: string; value: string }[]) assert.equal(got.Config.Labels[l.label], l.value, `${logical} label ${l.label}`);
            assert.equal(got.Config.Labels["slipway.test-run"], s.h.runId);
        }
        const gw = await s.h.inspect(s.name(C.gateway));
        assert.deepEqual(gw.HostConfig.PortBindings["8080/tcp"], [{ HostIp: "127.0.0.1", HostPort: String(s.port) }]);
        assert.equal(await s.h.portOf(s.name(C.gateway), 8080), s.port);
    });

    it("writes through the gateway's published port and reads it back from the API and from Postgres", async () => {
        const name = `through-the-gateway-${s.h.runId}`;
        const created = await request(s.port, "POST", "/v1/items", { body: { name } });
        assert.equal(created.status, 201, created.text);
        const got = await request(s.port, "GET", `/v1/items/${created.json.id}`);
        assert.equal(got.status, 200, got.text);
        assert.equal(got.json.name, name);
        // In the database itself, not only in an API process.
        const q = await s.h.exec(s.name(C.backup), ["psql", "-tA", "-c", `SELECT name FROM items WHERE id = ${Number(created.json.id)}`]);
        assert.equal(q.exitCode, 0, q.output);
        assert.equal(q.output.trim(), name);
    });

    it("sets the configured security headers and no Server header", async () => {
        const { set, del, requestId } = securityHeaders(s);
        assert.ok(Object.keys(set).length >= 5 && del.includes("Server"));
        for (const p of ["/health", "/no-such-route"]) {
            const r = await request(s.port, "GET", p);
            for (const [k, v] of Object.entries(set)) assert.equal(r.headers[k.toLowerCase()], v, `${p}: ${k}`);
            assert.match(String(r.headers[requestId.toLowerCase()]), /^[0-9a-f-]{36}$/, `${p}: ${requestId}`);
            // The service's Date is removed and Go's server stamps the gateway's own: still one, current.
            for (const k of del.filter(d => d !== "Date")) assert.equal(r.headers[k.toLowerCase()], undefined, `${p}: ${k} must be absent`);
            assert.ok(Math.abs(Date.parse(String(r.headers.date)) - Date.now()) < 60_000, `${p}: Date ${r.headers.date}`);
        }
    });

    it("answers 413 to a body over the configured limit, whatever the upstream does with it, and passes one under it", async () => {
        const limit = edgeHandlers(caddyConfig(s)).find((x: any) => x.handler === "slipway_edge" && x.max_request_body_bytes).max_request_body_bytes as number;
        assert.equal(limit, 10_000_000); // Pulumi.dev.yaml: maxBodySize 10MB
        // /v1/slow answers without reading the body: only the gateway can refuse it.
        const body = { headers: { "Content-Type": "application/octet-stream" }, timeoutMs: 30_000, expectContinue: true };
        const over = await request(s.port, "GET", "/v1/slow?ms=0", { ...body, body: Buffer.alloc(limit + 1, 97) });
        assert.equal(over.status, 413, over.text.slice(0, 200));
        assert.deepEqual(over.json, { error: "Request Entity Too Large" });
        assert.equal(over.headers["x-content-type-options"], "nosniff");
        // Under the limit it is proxied. (Kept small: a multi-MB body the upstream never reads makes
        // the upstream close mid-upload, which Caddy reports as 502 and counts against the replica;
        // the exact boundary is covered on a real Caddy by test/tools/gateway-caddy-validate.test.ts.)
        const under = await request(s.port, "GET", "/v1/slow?ms=0", { ...body, body: Buffer.alloc(200_000, 97) });
        assert.equal(under.status, 200, under.text.slice(0, 200));
    });

    it("compresses with zstd or gzip when asked (zstd preferred), and not otherwise", async () => {
        // A JSON list the API itself never compresses (its /metrics does, so it would prove nothing).
        const add = await s.h.exec(s.name(C.backup), ["psql", "-tA", "-c",
            "INSERT INTO items (name) SELECT 'compressible item number ' || g FROM generate_series(1, 40) g"]);
        assert.equal(add.exitCode, 0, add.output);
        const p = "/v1/items?limit=100";
        const plain = await request(s.port, "GET", p);
        assert.equal(plain.status, 200);
        assert.ok(plain.body.length > 1024);
        assert.equal(plain.headers["content-encoding"], undefined);
        const gz = await request(s.port, "GET", p, { headers: { "Accept-Encoding": "gzip" } });
        assert.equal(gz.headers["content-encoding"], "gzip");
        assert.deepEqual(JSON.parse(zlib.gunzipSync(gz.body).toString()).items.length, plain.json.items.length);
        assert.ok(gz.body.length < plain.body.length / 2, `gzip ${gz.body.length} vs ${plain.body.length}`);
        const zs = await request(s.port, "GET", p, { headers: { "Accept-Encoding": "zstd" } });
        assert.equal(zs.headers["content-encoding"], "zstd");
        assert.equal(zs.body.subarray(0, 4).toString("hex"), "28b52ffd", "a zstd frame"); // Node 20 has no zstd decoder
        assert.ok(zs.body.length < plain.body.length / 2);
        const both = await request(s.port, "GET", p, { headers: { "Accept-Encoding": "gzip, zstd" } });
        assert.equal(both.headers["content-encoding"], "zstd", "zstd preferred, as configured");
    });

    it("answers CORS preflights for the configured origin only", async () => {
        const origin = devStackFile()["slipway:gateway"].cors.allowOrigins[0] as string;
        const ok = await request(s.port, "OPTIONS", "/v1/items", { headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "Content-Type" } });
        assert.equal(ok.status, 204);
        assert.equal(ok.headers["access-control-allow-origin"], origin);
        assert.match(String(ok.headers["access-control-allow-methods"]), /\bPOST\b/);
        assert.match(String(ok.headers["access-control-allow-headers"]), /Content-Type/);
        assert.ok(Number(ok.headers["access-control-max-age"]) > 0);
        const other = await request(s.port, "OPTIONS", "/v1/items", { headers: { Origin: "http://evil.example", "Access-Control-Request-Method": "POST" } });
        assert.equal(other.headers["access-control-allow-origin"], undefined);
        const simple = await request(s.port, "GET", "/health", { headers: { Origin: origin } });
        assert.equal(simple.headers["access-control-allow-origin"], origin);
    });

    it("answers 404 to an unknown route, with the security headers", async () => {
        const r = await request(s.port, "GET", `/no-such-route-${s.h.runId}`);
        assert.equal(r.status, 404);
        assert.ok(r.headers["x-content-type-options"]);
    });

    it("writes JSON access log lines", async () => {
        // Not a health path: successful health checks are logged one in 100 (accessLog.sampleHealthChecks).
        const marker = `/no-such-route?probe=${s.h.runId}-${Date.now()}`;
        assert.equal((await request(s.port, "GET", marker)).status, 404);
        let line: any;
        // Lines are flushed at least every 250 ms: a bounded wait well above it.
        await eventually("logged", 5000, async () => {
            const logs = (await s.h.logs(s.name(C.gateway), 2000)).split("\n");
            line = logs.map(l => { try { return JSON.parse(l); } catch { return undefined; } }).find(j => j?.request?.uri === marker);
            return !!line;
        });
        assert.equal(line.logger, "http.log.access");
        assert.equal(line.status, 404);
        assert.equal(typeof line.duration, "number");
    });

    it("rate limits a zone: (burst+1)th request in the window gets 429 with Retry-After, and passes after it", async () => {
        // The zone as compiled into Caddy: `burst` events per `window × burst / events`.
        const rl = edgeHandlers(caddyConfig(s)).find((x: any) => x.handler === "rate_limit").rate_limits.writes;
        const z = s.figures.rateLimits.writes!;
        assert.equal(rl.max_events, z.burst);
        const windowMs = Number(/^(\d+)s$/.exec(rl.window)![1]) * 1000;
        // Start with an empty window: no request to the zone's paths in the last window.
        const idle = zoneClock.lastItems + windowMs + 500 - Date.now();
        if (idle > 0) await sleep(idle);
        const statuses: number[] = [];
        for (let i = 0; i < rl.max_events; i++) {
            statuses.push((await request(s.port, "POST", "/v1/items", { body: { name: `rl-${i}` } })).status);
        }
        assert.deepEqual(statuses, Array(rl.max_events).fill(201));
        const limited = await request(s.port, "POST", "/v1/items", { body: { name: "one too many" } });
        assert.equal(limited.status, 429, limited.text);
        const retry = Number(limited.headers["retry-after"]);
        assert.ok(retry >= 1 && retry <= windowMs / 1000, `Retry-After ${limited.headers["retry-after"]}`);
        // Other zones are unaffected.
        assert.equal((await request(s.port, "GET", "/health")).status, 200);
        await sleep(retry * 1000 + 250);
        const again = await request(s.port, "POST", "/v1/items", { body: { name: "after the window" } });
        assert.equal(again.status, 201, again.text);
    });

    it("keeps the generated DB password out of env, labels, logs and synth output; the container has it", async () => {
        const password = generatedSecret(s.resources, "db-password");
        const session = generatedSecret(s.resources, "secrets-session-secret");
        assert.ok(password.length >= 16 && session.length >= 16);
        // The recorded upload is the generated secret, and the running server holds exactly it.
        assert.equal(uploadOf(s.recordedContainer(C.db), "/run/secrets/POSTGRES_PASSWORD"), password);
        const inDb = await s.h.exec(s.name(C.db), ["cat", "/run/secrets/POSTGRES_PASSWORD"]);
        assert.equal(inDb.output, password);
        const url = await s.h.exec(s.apiNames()[0]!, ["cat", "/run/secrets/DATABASE_URL"]);
        assert.ok(url.output.includes(password), "the API's DATABASE_URL carries it");
        // Postgres accepts it over TCP (so it is the real password, not just a file).
        const login = await s.h.exec(s.name(C.db), ["sh", "-c", `PGPASSWORD="$(cat /run/secrets/POSTGRES_PASSWORD)" psql -h 127.0.0.1 -U app -d db -tAc 'select 1'`]);
        assert.equal(login.output.trim(), "1", login.output);
        for (const logical of s.resources.filter(r => r.type === TYPES.container).map(r => r.name)) {
            const j = await s.h.inspect(s.name(logical));
            for (const secret of [password, session]) {
                assert.ok(!JSON.stringify(j.Config.Env ?? []).includes(secret), `${logical} env`);
                assert.ok(!JSON.stringify(j.Config.Labels ?? {}).includes(secret), `${logical} labels`);
                assert.ok(!JSON.stringify(j).includes(secret), `${logical} inspect`);
                assert.ok(!(await s.h.logs(s.name(logical), 100_000)).includes(secret), `${logical} logs`);
            }
        }
        // synth of the same stack (same figures): no file carries it.
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-synth-"));
        try {
            const r = await synth({ dir: ROOT, stack: STACK, outDir: out, overrides: overridesFor(s.figures) });
            assert.ok(r.files.includes("resources.json") && r.files.includes("caddy.json"));
            for (const f of r.files) {
                const text = fs.readFileSync(path.join(out, f), "utf8");
                assert.ok(!text.includes(password) && !text.includes(session), `out/${f}`);
            }
        } finally {
            fs.rmSync(out, { recursive: true, force: true });
        }
        // And whatever an earlier `npm run synth` left in the repository's out/ (same fakes, same values).
        const walk = (d: string): string[] => fs.existsSync(d)
            ? fs.readdirSync(d, { withFileTypes: true }).flatMap(e => e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]) : [];
        for (const f of walk(path.join(ROOT, "out"))) {
            const text = fs.readFileSync(f, "utf8");
            assert.ok(!text.includes(password) && !text.includes(session), path.relative(ROOT, f));
        }
        // The recording keeps it wrapped: the engine would store it as a secret.
        assert.ok(isSecretValue(s.recordedContainer(C.db).inputs.uploads));
    });

    it("Prometheus scrapes both API replicas (targets up)", async () => {
        await eventually("scraping both replicas", 75_000, async () => {
            const r = await s.h.exec(s.name(C.prometheus), ["wget", "-q", "-O", "-", "http://127.0.0.1:9090/api/v1/targets?state=active"]);
            const targets = JSON.parse(r.output).data.activeTargets.filter((t: any) => t.labels.job === "api");
            return targets.length === 2 && targets.every((t: any) => t.health === "up");
        }, 2000);
    });
});
