// routes[].jwt through a real Caddy (scripts/build-caddy.sh, with docker/caddy/jwtauth) running the
// generated config on 127.0.0.1, in front of a Node upstream that echoes the headers it got, with a
// JWKS served by the test on 127.0.0.1. Keys are generated here; tokens are signed by hand (RFC 7515),
// so the test does not share a JWT library with the module it checks.
import { strict as assert } from "assert";
import { ChildProcess } from "child_process";
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign as cryptoSign } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { buildCaddyConfig, renderCaddyJson } from "../../components/gateway/caddy-config";
import { jwtSecretName } from "../../components/gateway/jwt";
import { normalizeGateway } from "../../components/gateway/normalize";
import { caddyBinary, freePort, killCaddy, loopbackGet as get, runCaddy } from "../helpers/caddy";
import { plainDocker, svc } from "../unit/gateway-fixtures";



const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const b64 = (b: Buffer | string) => Buffer.from(b).toString("base64url");
const ISS = "https://auth.test/";
const AUD = "orders";
const now = () => Math.floor(Date.now() / 1000);

/** A compact JWS: RS256 with a private key, HS256 with bytes, or `none` (empty signature). */
function jwt(header: Record<string, unknown>, claims: Record<string, unknown>, key?: KeyObject | Buffer): string {
    const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
    let sig = "";
    if (header.alg === "RS256") sig = b64(cryptoSign("RSA-SHA256", Buffer.from(input), key as KeyObject));
    else if (header.alg === "HS256") sig = b64(createHmac("sha256", key as Buffer).update(input).digest());
    return `${input}.${sig}`;
}

const claims = (over: Record<string, unknown> = {}) => ({ iss: ISS, aud: AUD, sub: "user-42", iat: now(), exp: now() + 3600, ...over });

function rsa(): { priv: KeyObject; pub: KeyObject } {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    return { priv: createPrivateKey(privateKey.export({ type: "pkcs8", format: "pem" })), pub: createPublicKey(publicKey.export({ type: "spki", format: "pem" })) };
}

const jwk = (kid: string, k: KeyObject) => ({ ...k.export({ format: "jwk" }), kid, use: "sig", alg: "RS256" });

describe("Gateway JWT validation on a real Caddy (issue 17)", function () {
    // The first Caddy build takes minutes; later runs find it cached.
    this.timeout(20 * 60_000);
    const REFRESH_S = 2;
    let tmp: string;
    let caddy: ChildProcess | undefined;
    let upstream: http.Server;
    let jwksServer: http.Server;
    let port: number;
    let stderr = "";
    let stdout = "";
    let jwks: { keys: unknown[] } = { keys: [] };
    let jwksFetches = 0;
    const seen: { url: string; headers: http.IncomingHttpHeaders }[] = [];
    const a = rsa();
    const b = rsa();
    const stranger = rsa();
    const staticKey = rsa();
    const hmacSecret = Buffer.from(b64(Buffer.from(Array.from({ length: 36 }, (_, i) => (i * 37 + 11) % 256))));

    before(async () => {
        const bin = caddyBinary();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-jwt-"));
        upstream = http.createServer((req, res) => {
            if (!req.url!.startsWith("/health")) seen.push({ url: req.url!, headers: req.headers });
            res.setHeader("Content-Type", "application/json");
            res.end(JSON.stringify({ url: req.url, headers: req.headers }));
        });
        await new Promise<void>(r => upstream.listen(0, "127.0.0.1", r));
        jwks = { keys: [jwk("a", a.pub)] };
        jwksServer = http.createServer((_req, res) => {
            jwksFetches++;
            res.setHeader("Content-Type", "application/json");
            res.end(JSON.stringify(jwks));
        });
        await new Promise<void>(r => jwksServer.listen(0, "127.0.0.1", r));
        const upPort = (upstream.address() as net.AddressInfo).port;
        const jwksPort = (jwksServer.address() as net.AddressInfo).port;
        port = await freePort();
        const healthPort = await freePort();
        const secretDir = path.join(tmp, "secrets");
        fs.mkdirSync(secretDir, { mode: 0o700 });
        fs.writeFileSync(path.join(secretDir, jwtSecretName("/hmac")), `${hmacSecret}\n`, { mode: 0o400 });
        const n = normalizeGateway("edge", {
            target: plainDocker(),
            routes: [
                { pathPrefix: "/v1", service: svc("api"), jwt: {
                    issuer: ISS, audience: AUD, jwksUrl: `http://127.0.0.1:${jwksPort}/.well-known/jwks.json`, jwksRefresh: `${REFRESH_S}s`,
                    forwardClaims: { sub: "X-User-Id", scope: "X-Scope" },
                } },
                { pathPrefix: "/static", service: svc("api"), jwt: { issuer: ISS, audience: AUD, publicKey: staticKey.pub.export({ type: "spki", format: "pem" }).toString() } },
                { pathPrefix: "/hmac", service: svc("api"), jwt: { issuer: ISS, audience: AUD, hmacSecret: hmacSecret.toString() } },
                { pathPrefix: "/open", service: svc("api") },
            ],
        });
        const file = path.join(tmp, "caddy.json");
        fs.mkdirSync(path.join(tmp, "config"));
        fs.writeFileSync(file, renderCaddyJson(buildCaddyConfig(n, {
            bindHost: "127.0.0.1", httpPort: port, httpsPort: await freePort(), healthListen: `127.0.0.1:${healthPort}`,
            metricsListen: `127.0.0.1:${await freePort()}`, storageRoot: path.join(tmp, "data"),
            adminSocket: path.join(tmp, "config", "admin.sock"), jwtSecretDir: secretDir,
            dial: () => [`127.0.0.1:${upPort}`],
        })));
        caddy = await runCaddy(bin, file, {
            configDir: path.join(tmp, "config"), dataDir: path.join(tmp, "data"), healthPort,
            onStderr: d => { stderr += d; },
            onStdout: d => { stdout += d; }, // the access log (slipway_edge, output stdout)
        });
    });

    after(async () => {
        await killCaddy(caddy);
        await Promise.all([upstream, jwksServer].map(s => new Promise(r => s?.close(r))));
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    const RS = (kid = "a") => ({ alg: "RS256", typ: "JWT", kid });
    /** name, path, Authorization, then the expected error and description; undefined error = passes. */
    const table: [string, string, string | undefined, string | undefined, string | undefined][] = [
        ["valid (JWKS, kid a)", "/v1/x", `Bearer ${jwt(RS(), claims({ scope: "read" }), a.priv)}`, undefined, undefined],
        ["expired", "/v1/x", `Bearer ${jwt(RS(), claims({ exp: now() - 3600 }), a.priv)}`, "invalid_token", "the token has expired"],
        ["nbf in the future", "/v1/x", `Bearer ${jwt(RS(), claims({ nbf: now() + 3600 }), a.priv)}`, "invalid_token", "the token is not valid yet"],
        ["wrong aud", "/v1/x", `Bearer ${jwt(RS(), claims({ aud: "billing" }), a.priv)}`, "invalid_token", "the token is not for this audience"],
        ["wrong iss", "/v1/x", `Bearer ${jwt(RS(), claims({ iss: "https://evil.test/" }), a.priv)}`, "invalid_token", "the token is not from the expected issuer"],
        ["bad signature (another key, kid a)", "/v1/x", `Bearer ${jwt(RS(), claims(), stranger.priv)}`, "invalid_token", "the token signature is invalid"],
        ["alg none", "/v1/x", `Bearer ${jwt({ alg: "none", typ: "JWT" }, claims())}`, "invalid_token", "the token signature is invalid"],
        ["HS256 signed with the RSA public key's PEM (kid a)", "/v1/x",
            `Bearer ${jwt({ alg: "HS256", typ: "JWT", kid: "a" }, claims(), Buffer.from(a.pub.export({ type: "spki", format: "pem" })))}`, "invalid_token", "the token signature is invalid"],
        ["missing header", "/v1/x", undefined, "unauthorized", "a bearer token is required"],
        ["Basic instead of Bearer", "/v1/x", "Basic dXNlcjpwYXNz", "unauthorized", "a bearer token is required"],
        ["malformed", "/v1/x", "Bearer eyJhbGciOiJSUzI1NiJ9.not-base64!.x", "invalid_token", "the token is malformed"],
        ["no exp", "/v1/x", `Bearer ${jwt(RS(), { iss: ISS, aud: AUD, sub: "user-42" }, a.priv)}`, "invalid_token", "the token lacks a required claim"],
        ["valid (static public key)", "/static/x", `Bearer ${jwt({ alg: "RS256", typ: "JWT" }, claims(), staticKey.priv)}`, undefined, undefined],
        ["JWKS key on the static route", "/static/x", `Bearer ${jwt({ alg: "RS256", typ: "JWT" }, claims(), a.priv)}`, "invalid_token", "the token signature is invalid"],
        ["HS256 with the static key's PEM", "/static/x",
            `Bearer ${jwt({ alg: "HS256", typ: "JWT" }, claims(), Buffer.from(staticKey.pub.export({ type: "spki", format: "pem" })))}`, "invalid_token", "the token signature is invalid"],
        ["valid (HMAC secret file)", "/hmac/x", `Bearer ${jwt({ alg: "HS256", typ: "JWT" }, claims(), hmacSecret)}`, undefined, undefined],
        ["HMAC with another secret", "/hmac/x", `Bearer ${jwt({ alg: "HS256", typ: "JWT" }, claims(), Buffer.concat([hmacSecret, Buffer.from("x")]))}`, "invalid_token", "the token signature is invalid"],
        ["RS256 on the HMAC route", "/hmac/x", `Bearer ${jwt({ alg: "RS256", typ: "JWT" }, claims(), a.priv)}`, "invalid_token", "the token signature is invalid"],
    ];

    for (const [name, p, auth, error, description] of table) {
        it(`${name}: ${error ? `401 ${error}` : "passes"}, a spoofed X-User-Id never reaches the service`, async () => {
            const before = seen.length;
            const headers: Record<string, string> = { "X-User-Id": "admin", "X-Scope": "everything" };
            if (auth !== undefined) headers.Authorization = auth;
            const r = await get(port, p, headers);
            if (error === undefined) {
                assert.equal(r.status, 200, r.body);
                assert.equal(seen.length, before + 1);
                const up = seen.at(-1)!.headers;
                assert.equal(up["x-user-id"], "user-42", "sub forwarded (the default), the spoofed value gone");
                assert.equal(up["x-scope"], p === "/v1/x" ? "read" : "everything", "only forwarded claims' headers are replaced");
                assert.equal(up.authorization, auth, "the service still gets the token");
                return;
            }
            assert.equal(r.status, 401, r.body);
            assert.deepEqual(JSON.parse(r.body), { error, error_description: description });
            assert.equal(r.headers["content-type"], "application/json");
            assert.equal(r.headers["www-authenticate"], error === "invalid_token"
                ? `Bearer realm="api", error="invalid_token", error_description="${description}"` : `Bearer realm="api"`);
            assert.equal(r.headers["x-frame-options"], "DENY", "the edge's headers are on a 401 too");
            assert.equal(seen.length, before, "a refused request never reaches the service");
        });
    }

    it("leaves a route without jwt open, spoofed headers and all (only jwt routes own X-User-Id)", async () => {
        const r = await get(port, "/open/x", { "X-User-Id": "admin" });
        assert.equal(r.status, 200);
        assert.equal(seen.at(-1)!.headers["x-user-id"], "admin");
    });

    it("logs the headers the client sent, not the claims the gateway forwarded in their place", async () => {
        const r = await get(port, "/v1/log-marker", { Authorization: `Bearer ${jwt(RS(), claims(), a.priv)}`, "X-User-Id": "admin" });
        assert.equal(r.status, 200);
        assert.equal(seen.at(-1)!.headers["x-user-id"], "user-42");
        const line = () => stdout.split("\n").filter(Boolean).map(l => JSON.parse(l)).find(l => l.request?.uri === "/v1/log-marker");
        const deadline = Date.now() + 5000;
        while (!line() && Date.now() < deadline) await sleep(100);
        assert.ok(line(), "logged");
        assert.deepEqual(line().request.headers.Authorization, ["REDACTED"]);
        assert.deepEqual(line().request.headers["X-User-Id"], ["admin"], "what arrived, as Caddy's access log recorded it");
    });

    it(`follows a JWKS key rotation within the refresh period (${REFRESH_S}s): the new kid passes, the removed one stops`, async () => {
        const tokA = jwt(RS("a"), claims(), a.priv);
        const tokB = jwt(RS("b"), claims(), b.priv);
        assert.equal((await get(port, "/v1/x", { Authorization: `Bearer ${tokA}` })).status, 200);
        jwks = { keys: [jwk("b", b.pub)] };
        const rotated = Date.now();
        // Bounded: a few refresh periods plus slack for a loaded machine; one probe per 200 ms.
        const deadline = rotated + (3 * REFRESH_S + 10) * 1000;
        let bOk = false;
        let aRefused = false;
        while ((!bOk || !aRefused) && Date.now() < deadline) {
            if (!bOk) bOk = (await get(port, "/v1/x", { Authorization: `Bearer ${tokB}` })).status === 200;
            if (!aRefused) aRefused = (await get(port, "/v1/x", { Authorization: `Bearer ${tokA}` })).status === 401;
            if (!bOk || !aRefused) await sleep(200);
        }
        assert.ok(bOk, `a token of the new key b was still refused ${Date.now() - rotated} ms after the rotation\n${stderr.slice(-2000)}`);
        assert.ok(aRefused, `a token of the removed key a still passed ${Date.now() - rotated} ms after the rotation`);
        assert.equal(seen.at(-1)!.headers["x-user-id"], "user-42");
    });

    it("fetches the JWKS periodically, and made-up kids do not make it fetch per request", async () => {
        const start = jwksFetches;
        const t0 = Date.now();
        for (let i = 0; i < 30; i++) {
            const r = await get(port, "/v1/x", { Authorization: `Bearer ${jwt(RS(`made-up-${i}`), claims(), stranger.priv)}` });
            assert.equal(r.status, 401);
            assert.equal(JSON.parse(r.body).error_description, "no key verifies the token");
        }
        await sleep(REFRESH_S * 1000 + 500);
        const elapsed = (Date.now() - t0) / 1000;
        const fetched = jwksFetches - start;
        // Periodic fetches in that time, plus at most one unknown-kid fetch per 30 s (the module's limit).
        assert.ok(fetched >= 1, "no periodic fetch");
        assert.ok(fetched <= Math.ceil(elapsed / REFRESH_S) + 2, `${fetched} fetches in ${elapsed.toFixed(1)} s for 30 made-up kids`);
    });
});
