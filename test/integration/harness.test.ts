import { strict as assert } from "assert";
import * as http from "http";
import { RecordedResource } from "../../components/testing/recorder";
import { DockerHarness, driftOf, ensureImages, planResources, SlipwayImages, TYPES, UnsupportedInputError, UpError } from "./harness";
// eslint-disable-next-line @typescript-eslint/no-var-requires
const rpc = require("@pulumi/pulumi/runtime/rpc");

/**
 * Self-test of the generic harness on a real engine, with a HAND-WRITTEN recorded-resource list
 * (network, volume, Postgres with a password file, the example API). Stack-derived tests build
 * their lists with the Recorder instead.
 */

const secret = (value: string) => ({ [rpc.specialSigKey]: rpc.specialSecretSig, value });
const PG_PASSWORD = `pw-${Math.random().toString(36).slice(2)}-Zq9`;
const API_REF = "ghcr.io/acme/api:1.0.0";

function res(type: string, name: string, inputs: Record<string, unknown>, dependsOn: string[] = []): RecordedResource {
    return {
        urn: `urn:pulumi:test::selftest::${type}::${name}`, type, name, custom: true, inputs, wire: inputs,
        options: { protect: false, retainOnDelete: false, deleteBeforeReplace: false, ignoreChanges: [], replaceOnChanges: [], dependsOn },
    };
}

function selfTestStack(runId: string): RecordedResource[] {
    const net = `slipway-selftest-${runId}-net`;
    const vol = `slipway-selftest-${runId}-pgdata`;
    const labels = [{ label: "slipway.stack", value: "selftest" }];
    const image = res(TYPES.remoteImage, "api-image", { name: API_REF, keepLocally: true });
    const db = res(TYPES.container, "db", {
        image: "postgres:16-bookworm",
        envs: ["POSTGRES_DB=app", "POSTGRES_PASSWORD_FILE=/run/secrets/POSTGRES_PASSWORD", "POSTGRES_USER=app"],
        uploads: [{ file: "/run/secrets/POSTGRES_PASSWORD", content: secret(PG_PASSWORD), permissions: "0400", owner: "999", group: "999" }],
        mounts: [{ type: "volume", source: vol, target: "/var/lib/postgresql/data" }],
        networksAdvanced: [{ name: net, aliases: ["db", "db-1"] }],
        healthcheck: { tests: ["CMD-SHELL", "pg_isready -h 127.0.0.1 -U app -d app"], interval: "1s", timeout: "3s", retries: 30, startPeriod: "1s" },
        labels, memory: 256, cpus: "1", restart: "unless-stopped", stopSignal: "SIGINT", stopTimeout: 20,
        logDriver: "json-file", logOpts: { "max-size": "10m", "max-file": "3" },
        securityOpts: ["no-new-privileges:true"], wait: true, waitTimeout: 120, mustRun: true,
    });
    const apiEnv = ["DATABASE_URL_FILE=/run/secrets/DATABASE_URL", "OTEL_SERVICE_NAME=selftest-api", "PORT=8080"];
    // The release step: a one-shot `api migrate` (the API never migrates on boot), waited for by
    // the create (`attach`), its exit code an output (`mustRun: false`).
    const migrate = res(TYPES.container, "api-migrate", {
        image: `sha256:${"0".repeat(64)}`, // replaced below, as api-1's
        envs: apiEnv,
        uploads: [{ file: "/run/secrets/DATABASE_URL", content: secret(`postgres://app:${PG_PASSWORD}@db:5432/app?sslmode=disable`), permissions: "0444" }],
        networksAdvanced: [{ name: net }],
        command: ["migrate"],
        labels, user: "10001:10001", securityOpts: ["no-new-privileges:true"],
        attach: true, logs: true, mustRun: false,
    }, [db.urn]);
    const api = res(TYPES.container, "api-1", {
        image: `sha256:${"0".repeat(64)}`, // replaced below by the id the fakes give the RemoteImage
        envs: apiEnv,
        // No owner: for a numeric user the daemon's owner path fails (see "owned uploads" below).
        uploads: [{ file: "/run/secrets/DATABASE_URL", content: secret(`postgres://app:${PG_PASSWORD}@db:5432/app?sslmode=disable`), permissions: "0444" }],
        ports: [{ internal: 8080, ip: "127.0.0.1" }],
        networksAdvanced: [{ name: net, aliases: ["api", "api-1"] }],
        healthcheck: { tests: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1"], interval: "1s", timeout: "3s", retries: 3, startPeriod: "1s" },
        labels, user: "10001:10001", tmpfs: { "/tmp": "rw,noexec,nosuid,size=16m" },
        capabilities: { drops: ["ALL"] }, securityOpts: ["no-new-privileges:true"],
        memory: 128, cpus: "0.5", restart: "unless-stopped", stopSignal: "SIGTERM", stopTimeout: 10, destroyGraceSeconds: 10,
        wait: true, waitTimeout: 60, mustRun: true,
    }, [db.urn, migrate.urn]);
    return [
        res(TYPES.network, "net", { name: net, driver: "bridge", labels }),
        res(TYPES.volume, "pgdata", { name: vol, labels }),
        image, api, migrate, db, // api registered before db on purpose: dependsOn must order them
    ];
}

/** The container's image is the RemoteImage's computed id, as ApiService wires it. */
function wireImageId(rs: RecordedResource[]) {
    const { fakeProviderOutputs } = require("../../components/testing/fakes");
    const img = rs.find(r => r.type === TYPES.remoteImage)!;
    const id = fakeProviderOutputs({ type: img.type, name: img.name, inputs: img.inputs }).imageId;
    for (const r of rs.filter(x => x.name === "api-1" || x.name === "api-migrate")) r.inputs.image = id;
}

function call(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    return new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const req = http.request({ host: "127.0.0.1", port, method, path, timeout: 5000,
            headers: data ? { "Content-Type": "application/json", "Content-Length": data.length } : {} }, res => {
            let text = "";
            res.on("data", c => (text += c));
            res.on("end", () => { try { resolve({ status: res.statusCode!, json: JSON.parse(text) }); } catch { resolve({ status: res.statusCode!, json: text }); } });
        });
        req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
        req.on("error", reject);
        if (data) req.write(data);
        req.end();
    });
}

describe("integration harness: translation (no engine)", () => {
    const opts = { runId: "unit", namePrefix: "slipway-t", imageMap: { "postgres:16-bookworm": "local/pg:1", [API_REF]: "local/api:1" } };

    it("maps images by logical ref, autonames deterministically and orders by dependency", () => {
        const rs = selfTestStack("unit");
        wireImageId(rs);
        const a = planResources(rs, opts), b = planResources(rs, opts);
        assert.deepEqual(a.containers.map(c => c.name), b.containers.map(c => c.name));
        assert.deepEqual(a.containers.map(c => c.logical), ["db", "api-migrate", "api-1"]);
        assert.match(a.containers[0]!.name, /^slipway-t-db-[0-9a-f]{7}$/);
        assert.equal(a.containers[0]!.body.Image, "local/pg:1");
        assert.deepEqual([a.containers[1]!.attach, a.containers[1]!.logs, a.containers[1]!.mustRun], [true, true, false]);
        assert.equal(a.containers[2]!.body.Image, "local/api:1");
        const api = a.containers[2]!;
        assert.equal(api.body.HostConfig.Memory, 128 * 1024 * 1024);
        assert.equal(api.body.HostConfig.NanoCpus, 5e8);
        assert.equal(api.body.Healthcheck.Interval, 1e9);
        assert.deepEqual(api.body.NetworkingConfig.EndpointsConfig["slipway-selftest-unit-net"].Aliases, ["api", "api-1"]);
        assert.equal(api.body.Labels["slipway.test-run"], "unit");
        // Revealed for the engine, never in the env.
        assert.ok(api.uploads[0]!.content.toString().includes(PG_PASSWORD));
        assert.ok(!JSON.stringify(api.body).includes(PG_PASSWORD));
    });

    it("refuses unsupported inputs, listing them", () => {
        const rs = selfTestStack("unit");
        Object.assign(rs.find(r => r.name === "db")!.inputs, { gpus: "all", devices: [{ hostPath: "/dev/null" }] });
        assert.throws(() => planResources(rs, opts), (e: Error) =>
            e instanceof UnsupportedInputError && /devices, gpus/.test(e.message) && /container:Container "db"/.test(e.message));
    });

    it("refuses nested unsupported fields and publishing beyond loopback", () => {
        const rs = selfTestStack("unit");
        (rs.find(r => r.name === "api-1")!.inputs.networksAdvanced as any[])[0].ipv4Address = "10.0.0.5";
        assert.throws(() => planResources(rs, opts), /networksAdvanced\[0\]\.ipv4Address/);
        const rs2 = selfTestStack("unit");
        (rs2.find(r => r.name === "api-1")!.inputs.ports as any[])[0].ip = "0.0.0.0";
        assert.throws(() => planResources(rs2, opts), /127\.0\.0\.1 only/);
        const rs3 = selfTestStack("unit");
        delete (rs3.find(r => r.name === "api-1")!.inputs.ports as any[])[0].ip;
        assert.throws(() => planResources(rs3, opts), /provider default/);
    });
});

describe("integration harness: self-test on a real Docker engine", function () {
    this.timeout(20 * 60_000);
    let images: SlipwayImages;
    let h: DockerHarness;
    let stack: RecordedResource[];
    let apiPort = 0;
    let itemId = 0;

    before(function () {
        this.timeout(20 * 60_000);
        images = ensureImages(["postgres", "api"]);
    });

    after(async function () {
        this.timeout(120_000);
        if (h) await h.cleanup().catch(() => undefined); // the exit hook retries with the CLI
    });

    it("creates network, volume, Postgres and the API, and reports time to healthy", async () => {
        h = new DockerHarness({ imageMap: { "postgres:16-bookworm": images.SLIPWAY_IMAGE_POSTGRES!, [API_REF]: images.SLIPWAY_IMAGE_API! } });
        stack = selfTestStack(h.runId);
        wireImageId(stack);
        const t0 = Date.now();
        const r = await h.apply(stack);
        assert.deepEqual(r.containers.map(c => c.logical), ["db", "api-migrate", "api-1"]);
        const services = r.containers.filter(c => c.logical !== "api-migrate");
        for (const c of services) assert.ok(c.healthyMs !== undefined && c.healthyMs > 0, `${c.logical} awaited healthy`);
        // The job ran to its end before the replica was created, and stays (exited) for its exit code.
        assert.equal(r.containers[1]!.exitCode, 0);
        assert.match(await h.logs(h.containers.get("api-migrate")!, 50), /schema applied/);
        const times = await h.waitHealthy(services.map(c => c.name), 60_000);
        assert.equal(Object.keys(times).length, 2);
        console.log(`      apply to all healthy: ${Date.now() - t0} ms (db ${r.containers[0]!.healthyMs} ms, api ${r.containers[2]!.healthyMs} ms)`);
        const owned = await h.owned();
        assert.equal(owned.containers.length, 3);
        assert.deepEqual(owned.networks, [`slipway-selftest-${h.runId}-net`]);
        assert.deepEqual(owned.volumes, [`slipway-selftest-${h.runId}-pgdata`]);
        apiPort = await h.portOf(h.containers.get("api-1")!, 8080);
    });

    it("writes and reads through the API on its 127.0.0.1 port", async () => {
        assert.equal((await call(apiPort, "GET", "/ready")).status, 200);
        const created = await call(apiPort, "POST", "/v1/items", { name: "from the harness" });
        assert.equal(created.status, 201, JSON.stringify(created.json));
        itemId = created.json.id;
        const got = await call(apiPort, "GET", `/v1/items/${itemId}`);
        assert.equal(got.status, 200);
        assert.equal(got.json.name, "from the harness");
    });

    it("applies limits, user, tmpfs, capabilities and uploads for real, with no secret in the container config", async () => {
        const api = await h.inspect(h.containers.get("api-1")!);
        assert.equal(api.HostConfig.Memory, 128 * 1024 * 1024);
        assert.equal(api.HostConfig.NanoCpus, 5e8);
        assert.deepEqual(api.HostConfig.Tmpfs, { "/tmp": "rw,noexec,nosuid,size=16m" });
        assert.deepEqual(api.HostConfig.CapDrop, ["ALL"]);
        assert.deepEqual(api.HostConfig.PortBindings["8080/tcp"][0].HostIp, "127.0.0.1");
        assert.equal(api.Config.User, "10001:10001");
        for (const name of h.containers.values()) {
            assert.ok(!JSON.stringify(await h.inspect(name)).includes(PG_PASSWORD), `${name}'s inspect shows the password`);
            assert.ok(!(await h.logs(name, 500)).includes(PG_PASSWORD), `${name}'s logs show the password`);
        }
        const st = await h.engine.stat(api.Id, "/run/secrets/DATABASE_URL");
        assert.equal(st!.mode & 0o777, 0o444);
        const who = await h.exec(api.Id, ["stat", "-c", "%u:%g %a", "/run/secrets/DATABASE_URL"]);
        assert.equal(who.output.trim(), "0:0 444");
        // Root-owned and read-only, as Docker's own secrets: the service user reads it, cannot change it.
        assert.equal((await h.exec(api.Id, ["cat", "/run/secrets/DATABASE_URL"], "10001:10001")).exitCode, 0);
        assert.notEqual((await h.exec(api.Id, ["sh", "-c", "echo x >> /run/secrets/DATABASE_URL"], "10001:10001")).exitCode, 0);
        // The healthcheck convention: wget fails on an HTTP error status, not only on refusal.
        const missing = await h.exec(api.Id, ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/v1/items/999999"]);
        assert.notEqual(missing.exitCode, 0);
        const ok = await h.exec(api.Id, ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"]);
        assert.equal(ok.exitCode, 0);
    });

    it("reads every container back like the provider: memory without memorySwap is a permanent diff", async () => {
        const drift = await h.drift();
        // Docker stored swap = 2 x memory for both (memory set, memorySwap not): the next preview shows it.
        assert.deepEqual(drift.map(d => `${d.logical} ${d.field} ${JSON.stringify(d.engine)}`).sort(),
            ["api-1 memorySwap 256", "db memorySwap 512"]);
        // "1s" etc. are already Go's form; "60s" would not be.
        assert.ok(!drift.some(d => d.field.startsWith("healthcheck.")));
        assert.deepEqual(h.preview(stack).filter(x => x.op !== "same"), []);
    });

    it("updates memory in place (same container), and replaces on any other input delete-before-create", async () => {
        const oldName = h.containers.get("api-1")!;
        const oldId = (await h.inspect(oldName)).Id;
        const withSwap = stack.map(r => r.type === TYPES.container ? { ...r, inputs: { ...r.inputs, memorySwap: r.inputs.memory } } : r);
        const u = await h.up(withSwap);
        assert.deepEqual(u.steps.filter(x => x.type === TYPES.container && x.op !== "same").map(x => `${x.op} ${x.logical} ${x.changed ?? ""}`).sort(),
            ["update api-1 memorySwap", "update db memorySwap"]);
        assert.equal((await h.inspect(oldName)).Id, oldId);
        assert.deepEqual(await h.drift(), []);

        const rec = withSwap.find(r => r.name === "api-1")!;
        const changed = withSwap.map(r => r === rec ? { ...rec, inputs: { ...rec.inputs, envs: [...(rec.inputs.envs as string[]), "LOG_FORMAT=json"] } } : r);
        assert.deepEqual(h.preview(changed).filter(x => x.op !== "same"), [{ op: "replace", logical: "api-1", changed: ["envs"] }]);
        // The program asks for create-before-delete; the provider's mapping wins.
        changed.find(r => r.name === "api-1")!.options.deleteBeforeReplace = false;
        const r = await h.up(changed);
        const step = r.steps.find(x => x.logical === "api-1")!;
        assert.equal(step.op, "replace");
        assert.ok(step.deletedMs! <= step.createdMs!, "old deleted before the new one was created");
        const newName = h.containers.get("api-1")!;
        assert.notEqual(newName, oldName);
        assert.match(newName, /^slipway-t-api-1-[0-9a-f]{7}$/);
        const owned = await h.owned();
        assert.ok(!owned.containers.includes(oldName), "old container removed");
        const port = await h.portOf(newName, 8080);
        const got = await call(port, "GET", `/v1/items/${itemId}`);
        assert.equal(got.status, 200);
        assert.equal(got.json.name, "from the harness");
        stack = changed;
    });

    it("creates a renamed resource during the update and deletes the old one at the end", async () => {
        const rec = stack.find(r => r.name === "api-1")!;
        const renamed = stack.map(r => r === rec ? { ...rec, name: "api-r2-1", urn: rec.urn.replace(/api-1$/, "api-r2-1") } : r);
        const oldName = h.containers.get("api-1")!;
        const r = await h.up(renamed);
        const create = r.steps.find(x => x.logical === "api-r2-1")!, del = r.steps.find(x => x.logical === "api-1")!;
        assert.equal(create.op, "create");
        assert.equal(del.op, "delete");
        assert.ok(create.endMs! <= del.startMs, "the old one is deleted only after the new one is healthy");
        assert.ok(!(await h.owned()).containers.includes(oldName));
        stack = renamed;
    });

    it("owned uploads go through the daemon's user lookup: a numeric user fails the create and leaves it Created", async () => {
        const rec = stack.find(r => r.name === "api-r2-1")!;
        const ups = rec.inputs.uploads as any[];
        const owned = { ...rec, name: "api-owned", urn: rec.urn.replace(/api-r2-1$/, "api-owned"),
            inputs: { ...rec.inputs, ports: undefined, uploads: [{ ...ups[0], owner: "10001", group: "10001", permissions: "0400" }] } };
        await assert.rejects(h.up([...stack, owned]), (e: Error) =>
            e instanceof UpError && /Unable to upload volume content/.test(e.message) && /10001:10001/.test(e.message));
        assert.deepEqual(h.failedContainers(), ["api-owned"]);
        assert.equal((await h.inspect(h.containers.get("api-owned")!)).State.Status, "created");
        // The next up without it deletes the failed one.
        await h.up(stack);
        assert.deepEqual(h.failedContainers(), []);
    });

    it("stops the API on its stop signal after in-flight requests finish, exit code 0", async () => {
        const name = h.containers.get("api-r2-1")!;
        const port = await h.portOf(name, 8080);
        const slow = call(port, "GET", "/v1/slow?ms=1500");
        await new Promise(r => setTimeout(r, 300));
        const t0 = Date.now();
        await h.engine.request("POST", `/containers/${name}/stop?t=10`, { timeoutMs: 30_000 });
        const stopMs = Date.now() - t0;
        assert.equal((await slow).status, 200);
        const st = (await h.inspect(name)).State;
        assert.equal(st.ExitCode, 0);
        // It waited for the request (~1.2 s left), and exited by itself well before the SIGKILL at 10 s.
        assert.ok(stopMs > 800 && stopMs < 8000, `stop took ${stopMs} ms`);
        assert.match(await h.logs(name, 20), /stopped cleanly/);
    });

    // A real-engine fact the mocks cannot show: Docker refuses archive uploads into a read-only
    // root filesystem, and the provider uploads by extracting at "/". The harness says so.
    it("refuses readOnly: true with uploads the way the engine does", async () => {
        const rec = stack.find(r => r.name === "api-r2-1")!;
        const ro = { ...rec, name: "api-ro", urn: rec.urn.replace(/api-r2-1$/, "api-ro"), inputs: { ...rec.inputs, readOnly: true, ports: undefined } };
        await assert.rejects(h.up([...stack, ro]), /Unable to upload volume content.*readOnly: true/s);
        assert.deepEqual(h.failedContainers(), ["api-ro"]);
        await h.up(stack);
    });

    it("cleanup removes every container, network and volume of the run", async () => {
        const removed = await h.cleanup();
        assert.deepEqual(removed, { containers: 3, networks: 1, volumes: 1 });
        assert.deepEqual(await h.owned(), { containers: [], networks: [], volumes: [] });
    });
});

/**
 * `pulumi refresh` through the harness: the state takes what the provider reads back, and the next
 * preview compares the program with that. Two small containers on the base image: a "server" and a
 * "replica" whose env is either built from the server's output (its id: a property dependency) or
 * from a constant, the server's network alias.
 */
const BASE_REF = "selftest/base:1";

function refreshStack(o: { caps: { adds?: string[]; drops?: string[] }; derivedEnv: boolean; net: string }): RecordedResource[] {
    const labels = [{ label: "slipway.stack", value: "selftest-refresh" }];
    const common = {
        image: BASE_REF, command: ["sleep", "3600"], labels, networksAdvanced: [] as unknown[],
        healthcheck: { tests: ["CMD", "true"], interval: "1s", timeout: "2s", retries: 3, startPeriod: "1m0s" },
        memory: 64, memorySwap: 64, restart: "unless-stopped", stopSignal: "SIGTERM", stopTimeout: 2, destroyGraceSeconds: 2,
        logDriver: "json-file", logOpts: { "max-size": "1m", "max-file": "2" }, securityOpts: ["no-new-privileges:true"],
        tmpfs: { "/scratch": "rw,noexec,nosuid,size=1m" }, wait: true, waitTimeout: 60,
    };
    const network = res(TYPES.network, "rnet", { name: o.net, driver: "bridge", labels });
    const server = res(TYPES.container, "server", { ...common, capabilities: o.caps, networksAdvanced: [{ name: o.net, aliases: ["server"] }] }, [network.urn]);
    const replica = res(TYPES.container, "replica", {
        ...common, user: "65534:65534", capabilities: { drops: ["ALL"] }, networksAdvanced: [{ name: o.net, aliases: ["replica"] }],
        // What the engine knows in a preview: the server's id only once the server exists.
        envs: [o.derivedEnv ? `SERVER_ID=${server.name}-id` : "SERVER_HOST=server"],
    }, [network.urn, server.urn]);
    replica.propertyDependencies = o.derivedEnv ? { envs: [server.urn] } : {};
    return [network, server, replica];
}

describe("integration harness: read-back after a refresh (no engine)", () => {
    const inspectOf = (o: { capAdd?: string[]; startPeriodNs?: number; ports?: Record<string, { HostIp: string; HostPort: string }[]> }) => ({
        Config: { Healthcheck: { Test: ["CMD", "true"], Interval: 1e9, Timeout: 2e9, StartPeriod: o.startPeriodNs ?? 60e9, Retries: 3 } },
        HostConfig: { CapAdd: o.capAdd ?? null, CapDrop: o.capAdd ? ["ALL"] : null, NetworkMode: "bridge", Memory: 64 * 1024 * 1024, MemorySwap: 64 * 1024 * 1024, RestartPolicy: { Name: "no" } },
        NetworkSettings: { Ports: o.ports ?? {} },
    });
    const inputs = { memory: 64, memorySwap: 64, healthcheck: { tests: ["CMD", "true"], interval: "1s", timeout: "2s", retries: 3, startPeriod: "1m0s" } };

    it("reads capabilities in the engine's CAP_ spelling: a plain name drifts, the CAP_ form and ALL do not", () => {
        const plain = driftOf("x", { ...inputs, capabilities: { adds: ["DAC_READ_SEARCH"], drops: ["ALL"] } }, inspectOf({ capAdd: ["DAC_READ_SEARCH"] }));
        assert.deepEqual(plain.map(d => [d.field, d.program, d.engine]), [["capabilities.adds", ["DAC_READ_SEARCH"], ["CAP_DAC_READ_SEARCH"]]]);
        assert.deepEqual(driftOf("x", { ...inputs, capabilities: { adds: ["CAP_DAC_READ_SEARCH"], drops: ["ALL"] } }, inspectOf({ capAdd: ["CAP_DAC_READ_SEARCH"] })), []);
    });

    it("reads durations through Go's Duration.String() and ports in any order the provider's suppression accepts", () => {
        const sixty = driftOf("x", { ...inputs, healthcheck: { ...inputs.healthcheck, startPeriod: "60s" } }, inspectOf({}));
        assert.deepEqual(sixty.map(d => [d.field, d.program, d.engine]), [["healthcheck.startPeriod", "60s", "1m0s"]]);
        const ports = { "8443/tcp": [{ HostIp: "127.0.0.1", HostPort: "9443" }], "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "9080" }] };
        const given = [{ internal: 8443, external: 9443, ip: "127.0.0.1" }, { internal: 8080, external: 9080, ip: "127.0.0.1", protocol: "tcp" }];
        assert.deepEqual(driftOf("x", { ...inputs, ports: given }, inspectOf({ ports })), []);
        assert.deepEqual(driftOf("x", { ...inputs, ports: [given[0]] }, inspectOf({ ports })).map(d => d.field), ["ports"]);
        // `external` unset is Computed: the port the engine picked is no change; `ip` unset means 0.0.0.0.
        assert.deepEqual(driftOf("x", { ...inputs, ports: given.map(p => ({ ...p, external: undefined })) }, inspectOf({ ports })), []);
        assert.deepEqual(driftOf("x", { ...inputs, ports: given.map(p => ({ ...p, ip: undefined })) }, inspectOf({ ports })).map(d => d.field), ["ports"]);
    });
});

describe("integration harness: pulumi refresh on a real Docker engine", function () {
    this.timeout(10 * 60_000);
    let images: SlipwayImages;
    const harnesses: DockerHarness[] = [];

    before(function () {
        this.timeout(20 * 60_000);
        images = ensureImages(["base"]);
    });

    after(async function () {
        this.timeout(120_000);
        for (const h of harnesses) await h.cleanup().catch(() => undefined);
    });

    const deploy = async (o: { caps: { adds?: string[]; drops?: string[] }; derivedEnv: boolean }) => {
        const h = new DockerHarness({ imageMap: { [BASE_REF]: images.SLIPWAY_IMAGE_BASE! } });
        harnesses.push(h);
        const stack = refreshStack({ ...o, net: `slipway-selftest-${h.runId}-rnet` });
        await h.apply(stack);
        return { h, stack };
    };
    const changes = (p: { op: string; logical: string; changed?: string[] }[]) =>
        p.filter(x => x.op !== "same").map(x => `${x.op} ${x.logical} ${x.changed ?? ""}`).sort();

    it("a capability sent without CAP_: the preview after up is clean, after refresh it replaces the container and the replica built from its output", async () => {
        const { h, stack } = await deploy({ caps: { drops: ["ALL"], adds: ["DAC_READ_SEARCH"] }, derivedEnv: true });
        // Right after up the state holds what was sent: no read-back yet.
        assert.deepEqual(changes(h.preview(stack)), []);
        const refreshed = await h.refresh();
        assert.deepEqual(refreshed.filter(x => x.changed.length).map(x => `${x.logical} ${x.changed}`), ["server capabilities"]);
        // The replica's env is unknown while the server is replaced: it is replaced too.
        assert.deepEqual(changes(h.preview(stack)), ["replace replica envs", "replace server capabilities"]);
        const serverId = (await h.inspect(h.containers.get("server")!)).Id;
        const r = await h.up(stack);
        const replaced = r.steps.filter(x => x.op === "replace");
        assert.deepEqual(replaced.map(x => x.logical).sort(), ["replica", "server"]);
        for (const x of replaced) assert.ok(x.deletedMs! <= x.createdMs!, `${x.logical}: delete-before-create`);
        assert.notEqual((await h.inspect(h.containers.get("server")!)).Id, serverId);
    });

    it("inputs in the read-back form, the replica's from a constant: up -> refresh -> preview changes nothing, and up replaces nothing", async () => {
        const { h, stack } = await deploy({ caps: { drops: ["ALL"], adds: ["CAP_DAC_READ_SEARCH"] }, derivedEnv: false });
        assert.deepEqual(await h.drift(), []);
        assert.deepEqual((await h.refresh()).filter(x => x.changed.length), []);
        assert.deepEqual(changes(h.preview(stack)), []);
        const ids = await Promise.all(["server", "replica"].map(async l => (await h.inspect(h.containers.get(l)!)).Id));
        const r = await h.up(stack);
        assert.deepEqual(r.steps.filter(x => x.op !== "same"), []);
        assert.deepEqual(await Promise.all(["server", "replica"].map(async l => (await h.inspect(h.containers.get(l)!)).Id)), ids);
        // A second refresh reads the same again (the state already holds the read-back).
        assert.deepEqual((await h.refresh()).filter(x => x.changed.length), []);
        assert.deepEqual(changes(h.preview(stack)), []);
        // A real replacement of the server (a new image) leaves the constant-env replica alone.
        const bumped = stack.map(x => x.name === "server" ? { ...x, inputs: { ...x.inputs, stopTimeout: 3 } } : x);
        assert.deepEqual(changes(h.preview(bumped)), ["replace server stopTimeout"]);
    });

    it("a container removed behind the program's back leaves the state on refresh, and the next up creates it", async () => {
        const { h, stack } = await deploy({ caps: { drops: ["ALL"] }, derivedEnv: false });
        await h.engine.request("DELETE", `/containers/${encodeURIComponent(h.containers.get("replica")!)}?force=1`);
        assert.deepEqual((await h.refresh()).filter(x => x.gone).map(x => x.logical), ["replica"]);
        assert.deepEqual(changes(h.preview(stack)), ["create replica "]);
        const r = await h.up(stack);
        assert.deepEqual(r.steps.filter(x => x.op !== "same").map(x => `${x.op} ${x.logical}`), ["create replica"]);
    });
});
