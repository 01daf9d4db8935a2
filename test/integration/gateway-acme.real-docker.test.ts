// Automatic HTTPS, proven (issue 14 part 3): a Gateway with tls "auto" obtains its certificate from
// a real ACME server, on a real Docker engine through the honest harness. The CA is Let's
// Encrypt's Pebble (images/pebble, built from its Go module), whose own HTTPS certificate comes
// from a private CA this test makes with openssl: the Gateway reaches it through `acme.directory`
// and `acme.caRoot`, as a stack would reach step-ca or an internal PKI. Pebble validates the
// challenge by resolving the domain through pebble-challtestsrv's DNS, which answers with the Caddy
// container's address on the test's own network. Then a real TLS client (Node's) checks what the
// gateway serves on its published 127.0.0.1 port, the HTTP port's redirect, and that a restarted
// Caddy serves the same certificate from its volume without a new order.
// Traffic: 127.0.0.1 and the run's own network only; every wait bounded.
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import { X509Certificate, randomBytes } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import { RecordedResource, Recorder } from "../../components/testing/recorder";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import { DockerHarness, ensureImages } from "./harness";
import { eventually, httpJson } from "./probes";
import { freePort } from "../helpers/caddy";

const CADDY_REF = "slipway/caddy:local";
const API_REF = "slipway/example-api:local";
const PEBBLE_REF = "slipway/pebble:local";
const DOMAIN = "api.slipway.test";
/** Network aliases on the run's network: the ACME directory's host and the DNS server's. */
const PEBBLE_ALIAS = "pebble";
const DNS_ALIAS = "challtestsrv";
/** The Gateway's logical name, which is also the Caddy container's alias the DNS answer is read from. */
const GATEWAY = "edge";
const DIRECTORY = `https://${PEBBLE_ALIAS}:14000/dir`;
/** Issuance takes 10-30 s on a loaded 2-core machine; this bounds it. */
const ISSUANCE_MS = 150_000;

/** A CA of this run and Pebble's HTTPS certificate signed by it (alias and 127.0.0.1), made with openssl. */
function makePebbleHttpsCert(dir: string): { caPem: string; certPem: string; keyPem: string } {
    if (spawnSync("openssl", ["version"]).status !== 0) {
        // The test installs what it needs (as .ci/run does); a failure here fails the test with apt's message.
        execFileSync("bash", ["-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssl || " +
            "(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssl)"], { stdio: "inherit", timeout: 300_000 });
    }
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"], timeout: 60_000 });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    ssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Slipway ACME test private CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    ssl("req", ...ec, "-keyout", "key.pem", "-out", "pebble.csr", "-subj", `/CN=${PEBBLE_ALIAS}`);
    fs.writeFileSync(path.join(dir, "ext.cnf"), `basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${PEBBLE_ALIAS},IP:127.0.0.1\n`);
    ssl("x509", "-req", "-in", "pebble.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "cert.pem", "-days", "2", "-extfile", "ext.cnf");
    const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
    return { caPem: read("ca.pem"), certPem: read("cert.pem"), keyPem: read("key.pem") };
}

/**
 * pebble-challtestsrv as the network's DNS for the test domain: it starts the server, waits for the
 * Caddy container's alias to resolve on the run's network (Docker's DNS), and sets the domain's A
 * record to that address through its management API; healthy once the record is set. The Gateway's
 * config loader waits for it, so Pebble's first validation already resolves to Caddy.
 */
const DNS_SCRIPT = [
    // No default answers (127.0.0.1 and ::1 otherwise): the test domain's A record is the only one.
    "pebble-challtestsrv -management :8055 -dnsserver :8053 -defaultIPv4 '' -defaultIPv6 '' -http01 '' -https01 '' -tlsalpn01 '' -doh '' &",
    "srv=$!",
    "trap 'kill $srv; exit 0' TERM INT",
    "i=0",
    `until ip=$(getent ahostsv4 ${GATEWAY} | awk 'NR==1 { print $1 }') && [ -n "$ip" ]; do`,
    "  i=$((i + 1)); [ \"$i\" -le 240 ] || { echo 'the gateway never joined the network' >&2; exit 1; }; sleep 0.5",
    "done",
    "i=0",
    `until busybox wget -q -O /dev/null --header 'Content-Type: application/json' --post-data "{\\"host\\":\\"${DOMAIN}.\\",\\"addresses\\":[\\"$ip\\"]}" http://127.0.0.1:8055/add-a; do`,
    "  i=$((i + 1)); [ \"$i\" -le 40 ] || { echo 'challtestsrv never took the record' >&2; exit 1; }; sleep 0.5",
    "done",
    `echo "${DOMAIN} -> $ip"; : > /tmp/dns-ready`,
    "wait $srv",
].join("\n");

interface Served { cert: tls.PeerCertificate & { issuerCertificate?: tls.PeerCertificate }; protocol: string | null; authorized: boolean; authError?: string }

/** One TLS handshake with 127.0.0.1:port for DOMAIN, trusting only `ca`; resolves with what was served. */
function handshake(port: number, ca: string[], extra: tls.ConnectionOptions = {}): Promise<Served> {
    return new Promise((resolve, reject) => {
        const s = tls.connect({ host: "127.0.0.1", port, servername: DOMAIN, ca, rejectUnauthorized: false, timeout: 10_000, ...extra }, () => {
            const served = { cert: s.getPeerCertificate(true), protocol: s.getProtocol(), authorized: s.authorized, authError: s.authorizationError?.toString() };
            s.end();
            resolve(served);
        });
        s.on("timeout", () => s.destroy(new Error("TLS handshake timed out")));
        s.on("error", reject);
    });
}

/** GET over plain HTTP to 127.0.0.1:port with a Host header; the status and Location. */
function plainGet(port: number, pathAndQuery: string, host: string): Promise<{ status: number; location?: string }> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, path: pathAndQuery, method: "GET", headers: { Host: host }, agent: false, timeout: 10_000 }, res => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
        });
        req.on("timeout", () => req.destroy(new Error("GET timed out")));
        req.on("error", reject);
        req.end();
    });
}

/** GET over TLS to the gateway for DOMAIN, verifying against `ca`. */
function httpsGet(port: number, pathAndQuery: string, ca: string[]): Promise<number> {
    return new Promise((resolve, reject) => {
        const req = https.request({
            host: "127.0.0.1", port, path: pathAndQuery, method: "GET", servername: DOMAIN, headers: { Host: DOMAIN }, ca, agent: false, timeout: 10_000,
        }, (res: http.IncomingMessage) => { res.resume(); res.on("end", () => resolve(res.statusCode ?? 0)); });
        req.on("timeout", () => req.destroy(new Error("GET timed out")));
        req.on("error", reject);
        req.end();
    });
}

/** Pebble's issuing root, from its management API (HTTPS with the private CA's certificate). */
function pebbleRoot(port: number, caPem: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const req = https.request({ host: "127.0.0.1", port, path: "/roots/0", ca: [caPem], servername: PEBBLE_ALIAS, agent: false, timeout: 10_000 },
            (res: http.IncomingMessage) => {
                let body = "";
                res.on("data", c => (body += c));
                res.on("end", () => (res.statusCode === 200 && body.includes("BEGIN CERTIFICATE") ? resolve(body) : reject(new Error(`/roots/0: ${res.statusCode} ${body.slice(0, 200)}`))));
            });
        req.on("timeout", () => req.destroy(new Error("/roots/0 timed out")));
        req.on("error", reject);
        req.end();
    });
}

const cn = (name: tls.Certificate | undefined) => String(name?.CN ?? "");

describe("Gateway: automatic HTTPS from a real ACME server (Pebble) on a real Docker engine", function () {
    this.timeout(600_000);
    let h: DockerHarness;
    let tmp: string;
    let pki: { caPem: string; certPem: string; keyPem: string };
    let root: string;
    let ports: { http: number; https: number; pebbleMgmt: number; dnsMgmt: number };
    let first: Served;
    const timings: Record<string, number> = {};

    /** The program: host, Pebble and its DNS on the host's network, one API replica behind a tls "auto" Gateway pointed at Pebble. */
    async function record(): Promise<RecordedResource[]> {
        const rec = await Recorder.start({ project: "acme-it", stack: "it", outputs: fakeProviderOutputs });
        const docker = await import("@pulumi/docker");
        const { DockerHost } = await import("../../components/targets/docker-host");
        const { Gateway } = await import("../../components");
        const target = new DockerHost("host", { environment: "acmeit" }).target;
        const opts = { provider: target.provider };
        const pebbleImage = new docker.RemoteImage("pebble-image", { name: PEBBLE_REF, keepLocally: true }, opts);
        const hardening = { capabilities: { drops: ["ALL"] }, securityOpts: ["no-new-privileges:true"], memory: 128, memorySwap: 128 };
        const pebbleConfig = {
            pebble: {
                listenAddress: "0.0.0.0:14000", managementListenAddress: "0.0.0.0:15000",
                certificate: "/etc/pebble/cert.pem", privateKey: "/etc/pebble/key.pem",
                // Where Caddy answers the challenges inside its container (CONTAINER.httpPort/httpsPort).
                httpPort: 8080, tlsPort: 8443,
                ocspResponderURL: "", externalAccountBindingRequired: false, keyAlgorithm: "ecdsa",
                retryAfter: { authz: 1, order: 1 },
                profiles: { default: { description: "90 days", validityPeriod: 7_776_000 } },
            },
        };
        const pebble = new docker.Container("pebble", {
            image: pebbleImage.imageId,
            command: ["-config", "/etc/pebble/pebble-config.json", "-dnsserver", `${DNS_ALIAS}:8053`],
            // No random validation delay, no deliberately rejected nonces: fast and deterministic.
            envs: ["PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"],
            uploads: [
                { file: "/etc/pebble/pebble-config.json", content: JSON.stringify(pebbleConfig, null, 2), permissions: "0444" },
                { file: "/etc/pebble/cert.pem", content: pki.certPem, permissions: "0444" },
                // A throwaway key of this run's throwaway CA, readable by Pebble's uid.
                { file: "/etc/pebble/key.pem", content: pki.keyPem, permissions: "0444" },
            ],
            networksAdvanced: [{ name: target.networkName, aliases: [PEBBLE_ALIAS] }],
            ports: [{ internal: 15000, external: ports.pebbleMgmt, ip: "127.0.0.1", protocol: "tcp" }],
            // Listening on 14000 (0x36B0), read from the kernel: a probe connection would fill Pebble's log with handshake errors.
            healthcheck: { tests: ["CMD-SHELL", "grep -qE ':36B0 [0-9A-F]+:0000 0A' /proc/net/tcp /proc/net/tcp6"], interval: "1s", timeout: "3s", retries: 3, startPeriod: "1s" },
            ...hardening, wait: true, waitTimeout: 60,
        }, opts);
        const dns = new docker.Container("challtestsrv", {
            image: pebbleImage.imageId,
            entrypoints: ["/bin/sh", "-c"],
            command: [DNS_SCRIPT],
            networksAdvanced: [{ name: target.networkName, aliases: [DNS_ALIAS] }],
            ports: [{ internal: 8055, external: ports.dnsMgmt, ip: "127.0.0.1", protocol: "tcp" }],
            healthcheck: { tests: ["CMD", "test", "-f", "/tmp/dns-ready"], interval: "1s", timeout: "3s", retries: 3, startPeriod: "2m" },
            ...hardening, wait: true, waitTimeout: 150,
        }, opts);
        const apiImage = new docker.RemoteImage("svc-image", { name: API_REF, keepLocally: true }, opts);
        const replica = new docker.Container("svc-1", {
            image: apiImage.imageId,
            envs: ["PORT=8080"],
            networksAdvanced: [{ name: target.networkName, aliases: ["svc-1"] }],
            healthcheck: { tests: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1"], interval: "1s", timeout: "3s", retries: 3, startPeriod: "1s" },
            user: "10001:10001", ...hardening, memory: 64, memorySwap: 64, wait: true, waitTimeout: 60,
        }, opts);
        const svc = { endpoint: { name: "svc", port: 8080, replicas: 1, dialHosts: ["svc-1"], healthPath: "/health", readyPath: "/ready" } };
        new Gateway(GATEWAY, {
            target, image: CADDY_REF, domains: [DOMAIN], tls: "auto", email: "ops@slipway.test",
            acme: { directory: DIRECTORY, caRoot: pki.caPem },
            routes: [{ pathPrefix: "/", service: svc }],
            publishPort: ports.http, publishHttpsPort: ports.https,
            // The config (and with it the first order) goes in once Pebble answers and the domain resolves to Caddy.
            transform: { loader: (_args, o) => { o.dependsOn = [...(o.dependsOn as import("@pulumi/pulumi").Resource[]), pebble, dns]; } },
        }, { dependsOn: [replica] });
        await rec.settle();
        return [...rec.resources];
    }

    const caddyName = () => h.containers.get(`${GATEWAY}-caddy`)!;
    const pebbleName = () => h.containers.get("pebble")!;
    /** Pebble's own count, from its log line "There are now N orders in the db" (0 before the first). */
    const orders = async () => {
        const counts = [...(await h.logs(pebbleName(), 5000)).matchAll(/There are now (\d+) orders in the db/g)].map(m => Number(m[1]));
        return counts.length ? Math.max(...counts) : 0;
    };

    before(async function () {
        this.timeout(1_200_000); // a cold machine starts dockerd and builds the images (and Pebble, Caddy) here
        const images = ensureImages(["caddy", "api", "pebble"]);
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-acme-"));
        pki = makePebbleHttpsCert(tmp);
        const runId = randomBytes(4).toString("hex");
        h = new DockerHarness({
            runId, namePrefix: "slipway-acme-t", nameSuffix: `-t${runId}`,
            imageMap: { [CADDY_REF]: images.SLIPWAY_IMAGE_CADDY!, [API_REF]: images.SLIPWAY_IMAGE_API!, [PEBBLE_REF]: images.SLIPWAY_IMAGE_PEBBLE! },
        });
        ports = { http: await freePort(), https: await freePort(), pebbleMgmt: await freePort(), dnsMgmt: await freePort() };
        const t0 = Date.now();
        await h.apply(await record());
        await h.waitHealthy([caddyName()], 60_000);
        timings.applyMs = Date.now() - t0;
        root = await pebbleRoot(ports.pebbleMgmt, pki.caPem);
    });

    after(async function () {
        this.timeout(120_000);
        if (h) await h.cleanup();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
        console.log(`      timings: ${JSON.stringify(timings)}`);
    });

    it("obtains a certificate from Pebble and serves the domain over TLS 1.2+ with a chain that verifies against Pebble's root", async () => {
        const t0 = Date.now();
        const { value } = await eventually(`a certificate for ${DOMAIN} that verifies against Pebble's root`, ISSUANCE_MS, async () => {
            const s = await handshake(ports.https, [root]);
            return s.authorized ? s : undefined;
        }, 2000).catch(async e => {
            throw new Error(`${(e as Error).message}\n--- caddy\n${(await h.logs(caddyName(), 40))}\n--- pebble\n${await h.logs(pebbleName(), 40)}`);
        });
        timings.issuanceMs = Date.now() - t0;
        first = value;
        assert.ok(["TLSv1.2", "TLSv1.3"].includes(first.protocol ?? ""), `protocol ${first.protocol}`);
        assert.equal(first.cert.subjectaltname, `DNS:${DOMAIN}`);
        assert.match(cn(first.cert.issuer), /^Pebble Intermediate CA [0-9a-f]+$/, "issued by Pebble's intermediate");
        // The chain ends in the root fetched from Pebble's management API.
        let top = first.cert;
        for (let i = 0; i < 5 && top.issuerCertificate && top.issuerCertificate !== top; i++) top = top.issuerCertificate;
        assert.match(cn(top.subject), /^Pebble Root CA [0-9a-f]+$/);
        assert.equal(top.fingerprint256, new X509Certificate(root).fingerprint256);
        // A real check: the same chain does not verify against another CA (this run's private one).
        const untrusted = await handshake(ports.https, [pki.caPem]);
        assert.equal(untrusted.authorized, false);
        assert.match(untrusted.authError ?? "", /UNABLE_TO_GET_ISSUER_CERT_LOCALLY|unable to get local issuer/i);
        // And it is the gateway that answers behind it: the API's liveness through the route.
        assert.equal(await httpsGet(ports.https, "/health", [root]), 200);
        assert.equal(await orders(), 1, "one order for one domain");
        // Pebble found Caddy through challtestsrv's DNS (its management API, published on 127.0.0.1).
        const asked = (await httpJson(ports.dnsMgmt, "POST", "/dns-request-history", { body: { host: DOMAIN } })).json as { Question: { Name: string; Qtype: number } }[];
        assert.ok(asked.some(q => q.Question.Name === `${DOMAIN}.` && q.Question.Qtype === 1), `an A query for ${DOMAIN}: ${JSON.stringify(asked).slice(0, 300)}`);
    });

    it("refuses a client that offers at most TLS 1.1", async () => {
        assert.ok(first, "needs the certificate of the first test");
        // SECLEVEL=0 lets this client offer TLS 1.0/1.1 at all, so the refusal is the server's.
        const err = await handshake(ports.https, [root], { minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT:@SECLEVEL=0" })
            .then(s => assert.fail(`handshake succeeded with ${s.protocol}`), (e: NodeJS.ErrnoException) => e);
        // The server's protocol_version alert (not this client's "no protocols available").
        assert.match(`${err.code} ${err.message}`, /PROTOCOL_VERSION|protocol version/i);
        // Control: the same client settings with TLS 1.2 allowed get through.
        const ok = await handshake(ports.https, [root], { minVersion: "TLSv1", maxVersion: "TLSv1.2", ciphers: "DEFAULT:@SECLEVEL=0" });
        assert.equal(ok.protocol, "TLSv1.2");
    });

    it("redirects plain HTTP for the domain to HTTPS on the published HTTPS port, path and query kept", async () => {
        const r = await plainGet(ports.http, "/v1/things?x=1", DOMAIN);
        assert.equal(r.status, 308);
        // This stack publishes HTTPS on a loopback port, not 443: the redirect must name it.
        assert.equal(r.location, `https://${DOMAIN}:${ports.https}/v1/things?x=1`);
    });

    it("keeps the certificate on its volume: a restarted Caddy serves the same one without a new order", async () => {
        assert.ok(first, "needs the certificate of the first test");
        const stored = await h.exec(caddyName(), ["sh", "-c", `ls /data/caddy/certificates/*/${DOMAIN}/`]);
        assert.equal(stored.exitCode, 0, stored.output);
        assert.match(stored.output, new RegExp(`${DOMAIN.replace(/\./g, "\\.")}\\.crt`));
        const before = await orders();
        const t0 = Date.now();
        await h.engine.request("POST", `/containers/${encodeURIComponent(caddyName())}/restart?t=15`, { timeoutMs: 60_000 });
        await h.waitHealthy([caddyName()], 60_000);
        const { value: again } = await eventually("the restarted gateway serving a verified certificate", 60_000, async () => {
            const s = await handshake(ports.https, [root]);
            return s.authorized ? s : undefined;
        });
        timings.restartMs = Date.now() - t0;
        assert.equal(again.cert.fingerprint256, first.cert.fingerprint256);
        assert.equal(again.cert.serialNumber, first.cert.serialNumber);
        // Give a renewal that should not happen the time an issuance took, then count again.
        await new Promise(r => setTimeout(r, 5000));
        assert.equal(await orders(), before, "Pebble received no new order");
        assert.equal((await handshake(ports.https, [root])).cert.fingerprint256, first.cert.fingerprint256);
    });
});
