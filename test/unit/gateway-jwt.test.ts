// routes[].jwt (issue 17, part 2): what the docker target accepts and generates, what it refuses
// (with component, path, problem and fix, registering nothing), and do-app's refusal. The real
// Caddy behaviour is test/tools/gateway-jwt.test.ts; the module's own is docker/caddy/jwtauth.
import { strict as assert } from "assert";
import { generateKeyPairSync } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { buildCaddyConfig } from "../../components/gateway/caddy-config";
import { jwtSecretName } from "../../components/gateway/jwt";
import { normalizeGateway } from "../../components/gateway/normalize";
import { Recorder, isSecretValue, redact } from "../../components/testing/recorder";
import { expectConfigError } from "../helpers/config-error";
import { dockerTarget, doTarget, freshRecorder } from "../helpers/harness";
import { plainDocker, svc } from "./gateway-fixtures";

const CONTAINER = "docker:index/container:Container";
const ISS = "https://auth.example.com/";
const JWKS = "https://auth.example.com/.well-known/jwks.json";
// Generated per run: no key material in the repository.
const pub = (type: "rsa" | "ec" | "ed25519", namedCurve?: string): string => {
    const opts = { modulusLength: 2048, namedCurve, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } };
    return (generateKeyPairSync as (t: string, o: unknown) => { publicKey: string })(type, opts).publicKey;
};
const RSA_PEM = pub("rsa");
const SECRET = "a-shared-hmac-secret-of-forty-bytes-0123";
// A PEM frame of a private key (not a key), assembled so the repository holds no key-shaped literal.
const PRIVATE_PEM_SHAPE = ["BEGIN", "END"].map(w => `-----${w} ${"PRIVATE"} KEY-----`).join("\nMIIB\n") + "\n";

type Jwt = Record<string, unknown>;
const args = (jwt: Jwt, target = plainDocker()) => ({
    target,
    routes: [{ pathPrefix: "/v1", service: svc("api") }, { pathPrefix: "/v1/orders/", service: svc("orders"), jwt }],
});

/** The handlers of the route for `prefix`, in order. */
function handlers(jwt: Jwt, opts = {}): { handler: string; [k: string]: unknown }[][] {
    type Route = { match?: { path?: string[] }[]; handle: { handler: string; routes?: Route[] }[] };
    const c = buildCaddyConfig(normalizeGateway("edge", args(jwt) as never), opts) as unknown as { apps: { http: { servers: { edge: { routes: Route[] } } } } };
    // Every route of the edge server, any subroute flattened.
    const flat = (routes: Route[]): Route[] => routes.flatMap(r => [r, ...flat(r.handle.flatMap(h => (h.handler === "subroute" ? h.routes ?? [] : [])))]);
    return flat(c.apps.http.servers.edge.routes).filter(r => r.match?.[0]?.path?.[0]?.startsWith("/v1")).map(r => r.handle as never);
}

describe("Gateway routes[].jwt", () => {
    describe("normalized and generated (docker)", () => {
        it("defaults a JWKS route to RS256+ES256, a 15m refresh, 30s leeway and sub -> X-User-Id, checked before the proxy", () => {
            const [orders, v1] = handlers({ issuer: ISS, audience: "orders", jwksUrl: JWKS });
            assert.deepEqual(orders!.map(h => h.handler), ["slipway_jwt", "reverse_proxy"]);
            assert.deepEqual(orders![0], {
                handler: "slipway_jwt", issuer: ISS, audience: "orders", algorithms: ["ES256", "RS256"], leeway: "30s",
                forward_claims: { sub: "X-User-Id" }, jwks_url: JWKS, jwks_refresh: "15m",
            });
            assert.deepEqual(v1!.map(h => h.handler), ["reverse_proxy"], "a route without jwt checks nothing");
        });

        it("takes a static key's algorithm from its type and curve, and keeps the PEM (public) in the config", () => {
            for (const [pem, alg] of [[RSA_PEM, "RS256"], [pub("ec", "prime256v1"), "ES256"], [pub("ec", "secp384r1"), "ES384"], [pub("ed25519"), "EdDSA"]] as const) {
                const h = handlers({ issuer: ISS, audience: "orders", publicKey: pem })[0]![0]!;
                assert.deepEqual(h.algorithms, [alg]);
                assert.equal(h.public_key_pem, pem.trim() + "\n");
            }
        });

        it("names an HMAC secret by file only, stable per route prefix, with forwardClaims as given (none forwarded with {})", () => {
            const h = handlers({ issuer: ISS, audience: "orders", hmacSecret: SECRET, forwardClaims: {} }, { jwtSecretDir: "/tmp/s" })[0]![0]!;
            assert.equal(h.hmac_secret_file, `/tmp/s/${jwtSecretName("/v1/orders")}`);
            assert.match(jwtSecretName("/v1/orders"), /^JWT_SECRET_[0-9A-F]{12}$/);
            assert.notEqual(jwtSecretName("/v1/orders"), jwtSecretName("/v1"));
            assert.deepEqual(h.algorithms, ["HS256"]);
            assert.equal(h.forward_claims, undefined);
            assert.ok(!JSON.stringify(h).includes(SECRET));
        });

        it("lets an HMAC route leave out issuer and audience (seed 003's tokens: sub, email, exp), and then checks neither", () => {
            const h = handlers({ hmacSecret: SECRET })[0]![0]!;
            assert.equal("issuer" in h || "audience" in h, false);
        });

        it("allows plain http for a JWKS on loopback or a container of the stack's network only", () => {
            for (const url of ["http://127.0.0.1:9000/jwks", "http://localhost/jwks", "http://[::1]:81/k", "http://auth:8080/jwks"]) {
                assert.equal(handlers({ issuer: ISS, audience: "a", jwksUrl: url })[0]![0]!.jwks_url, url);
            }
        });
    });

    describe("bad input (docker)", () => {
        let rec: Recorder;
        beforeEach(async () => { rec = await freshRecorder(); });
        const P = "routes[1].jwt";
        const cases: [string, Jwt, string, RegExp, RegExp][] = [
            ["no key source", { issuer: ISS, audience: "a" }, P, /has no key source/, /exactly one of jwksUrl/],
            ["two key sources", { issuer: ISS, audience: "a", jwksUrl: JWKS, publicKey: RSA_PEM }, P, /sets jwksUrl and publicKey/, /exactly one/],
            ["alg none", { issuer: ISS, audience: "a", jwksUrl: JWKS, algorithms: ["none"] }, `${P}.algorithms[0]`, /must be one of|not a supported algorithm/, /./],
            ["HS256 with a JWKS", { issuer: ISS, audience: "a", jwksUrl: JWKS, algorithms: ["RS256", "HS256"] }, `${P}.algorithms[1]`, /does not suit the key source.*never a published key/, /use RS256/],
            ["RS256 with an HMAC secret", { issuer: ISS, audience: "a", hmacSecret: SECRET, algorithms: ["RS256"] }, `${P}.algorithms[0]`, /HMAC secret verifies HS\* only/, /use HS256, HS384, HS512/],
            ["ES256 on an RSA key", { issuer: ISS, audience: "a", publicKey: RSA_PEM, algorithms: ["ES256"] }, `${P}.algorithms[0]`, /public key's type decides/, /use RS256/],
            ["an empty algorithm list", { issuer: ISS, audience: "a", jwksUrl: JWKS, algorithms: [] }, `${P}.algorithms`, /is empty/, /\["RS256"\]/],
            ["a JWKS over public http", { issuer: ISS, audience: "a", jwksUrl: "http://auth.example.com/jwks" }, `${P}.jwksUrl`, /plain http from auth\.example\.com/, /use https/],
            ["a JWKS URL that is not one", { issuer: ISS, audience: "a", jwksUrl: "auth.example.com/jwks" }, `${P}.jwksUrl`, /is not an https URL/, /JWKS URL/],
            ["an empty issuer", { issuer: "", audience: "a", jwksUrl: JWKS }, `${P}.issuer`, /non-empty string/, /"iss"/],
            ["an audience with a newline", { issuer: ISS, audience: "a\nb", jwksUrl: JWKS }, `${P}.audience`, /control characters/, /"aud"/],
            ["a private key as publicKey", { issuer: ISS, audience: "a", publicKey: PRIVATE_PEM_SHAPE }, `${P}.publicKey`, /holds a private key/, /-pubout/],
            ["garbage as publicKey", { issuer: ISS, audience: "a", publicKey: "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----" }, `${P}.publicKey`, /does not parse/, /whole PEM block/],
            ["a short HMAC secret", { issuer: ISS, audience: "a", hmacSecret: "short" }, `${P}.hmacSecret`, /shorter than 32 bytes/, /openssl rand/],
            ["jwksRefresh without a JWKS", { issuer: ISS, audience: "a", publicKey: RSA_PEM, jwksRefresh: "5m" }, `${P}.jwksRefresh`, /only applies to jwksUrl/, /remove jwksRefresh/],
            ["a refresh that is not one", { issuer: ISS, audience: "a", jwksUrl: JWKS, jwksRefresh: "soon" }, `${P}.jwksRefresh`, /not a refresh period/, /"15m"/],
            ["a claim into Host", { issuer: ISS, audience: "a", jwksUrl: JWKS, forwardClaims: { sub: "Host" } }, `${P}.forwardClaims.sub`, /HTTP or the gateway itself sets/, /header of its own/],
            ["a claim into a hop-by-hop header", { issuer: ISS, audience: "a", jwksUrl: JWKS, forwardClaims: { sub: "Connection" } }, `${P}.forwardClaims.sub`, /HTTP or the gateway itself sets/, /X-User-Id/],
            ["a header name with a space", { issuer: ISS, audience: "a", jwksUrl: JWKS, forwardClaims: { sub: "X User" } }, `${P}.forwardClaims.sub`, /not a header name/, /letters, digits/],
            ["two claims into one header", { issuer: ISS, audience: "a", jwksUrl: JWKS, forwardClaims: { sub: "X-User", uid: "x-user" } }, `${P}.forwardClaims.uid`, /as sub does/, /its own header/],
            ["a leeway over 5m", { issuer: ISS, audience: "a", jwksUrl: JWKS, clockSkew: "1h" }, `${P}.clockSkew`, /not a leeway up to 5m/, /"30s"/],
            ["an unknown key", { issuer: ISS, audience: "a", jwksURL: JWKS }, `${P}.jwksURL`, /is not a known setting/, /did you mean "jwksUrl"\?/],
            ["audience missing with a JWKS", { issuer: ISS, jwksUrl: JWKS }, `${P}.audience`, /is required with jwksUrl: the issuer's keys also sign tokens meant for other APIs/, /"aud"/],
            ["issuer missing with a public key", { audience: "a", publicKey: RSA_PEM }, `${P}.issuer`, /is required with publicKey/, /"iss"/],
        ];
        for (const [name, jwt, path, problem, fix] of cases) {
            it(`refuses ${name}`, async () => {
                const target = await dockerTarget();
                const { Gateway } = await import("../../components/gateway");
                await expectConfigError(rec, () => new Gateway("edge", args(jwt, target) as never), { component: 'Gateway "edge"', path, problem, fix });
            });
        }

        it("on do-app, refuses jwt and says what to do instead", async () => {
            const target = await doTarget();
            const { Gateway } = await import("../../components/gateway");
            await expectConfigError(rec, () => new Gateway("edge", { ...args({ issuer: ISS, audience: "a", jwksUrl: JWKS }, target), domains: ["api.example.com"], cloudflare: { zoneId: "023e105f4ecef8ad9ca31a8372d0c353" } } as never),
                { component: 'Gateway "edge"', path: "routes[1].jwt", problem: /App Platform has no hook/, fix: /validate tokens in the service.*API Shield/ });
        });
    });

    describe("the HMAC secret on docker", () => {
        let rec: Recorder;
        beforeEach(async () => { rec = await freshRecorder(); });

        it("is a secret upload of the Caddy container at /run/secrets/<name>, and in the clear nowhere", async () => {
            const target = await dockerTarget();
            const { Gateway } = await import("../../components/gateway");
            const gw = new Gateway("edge", args({ issuer: ISS, audience: "a", hmacSecret: pulumi.secret(SECRET) }, target) as never);
            await rec.settle();
            const caddy = rec.get(CONTAINER, "edge-caddy");
            const uploads = caddy.wire.uploads as { file: string; content: unknown; permissions: string }[];
            const file = `/run/secrets/${jwtSecretName("/v1/orders")}`;
            const u = uploads.find(x => x.file === file);
            assert.ok(u, `no upload at ${file}: ${uploads.map(x => x.file).join(", ")}`);
            assert.equal(u.permissions, "0444");
            assert.ok(isSecretValue(u.content), "the upload is a secret");
            assert.equal(redact(u.content, true), SECRET);
            assert.match(gw.caddyJson!, new RegExp(`"hmac_secret_file": "${file}"`));
            assert.ok(!JSON.stringify(rec.resources.map(r => redact(r.wire))).includes(SECRET));
        });
    });
});
