import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { Engine, RUN_LABEL, TYPES } from "./harness";
import { RegistryServer, startRegistry } from "./registry-server";
import { Sshd, startSshd } from "./sshd";
import {
    C, DeployedStack, LOAD, LoadResult, apiReplicas, deployDevStack, ensureEngineAndImages, eventually, one, recordRelease, releaseImage, request,
    runLoad, underLoad,
} from "./stack-under-test";

/**
 * The dev stack deployed to an `ssh://` engine through a real OpenSSH server (Debian's sshd on a
 * loopback port, keys made here, a login user in the docker group), in front of this machine's
 * engine: deploy, traffic through the gateway, an image rollout under load, destroy. The stack
 * names its engine as a user with an ~/.ssh/config alias would (`ssh://<alias>`, User, Port and
 * IdentityFile from the config; here `ssh.configFile`, so the real ~/.ssh/config is not touched),
 * and every engine call of the harness goes through that sshd, as the provider's would.
 * (Published ports are on the engine's host: here that is this machine, so traffic goes to 127.0.0.1.)
 * As on a real VM, no image is a local build: each comes from a private registry (a real
 * docker-registry with htpasswd on loopback), pulled by the remote engine with the DockerHost's
 * `registries` credentials; a `:local` image is refused on a remote engine.
 */

const REGISTRY_USER = "deploy-ci";
const REGISTRY_TOKEN = "ssh-flow-registry-token-5d1e";

function assertNoFailures(l: LoadResult, min: number) {
    assert.ok(l.sent >= min, `only ${l.sent} requests`);
    assert.deepEqual(l.failures.slice(0, 20), [], `${l.failures.length} of ${l.sent} requests failed`);
    assert.equal(l.ok, l.sent);
}

describe("dev stack through ssh:// to a real sshd: deploy, traffic, rollout, destroy", function () {
    this.timeout(15 * 60_000);
    let sshd: Sshd;
    let registry: RegistryServer | undefined;
    let s: DeployedStack | undefined;
    let releaseRef = "";

    before(async function () {
        this.timeout(30 * 60_000); // a fresh machine builds the images first
        sshd = await startSshd();
        const images = ensureEngineAndImages();
        registry = await startRegistry(REGISTRY_USER, REGISTRY_TOKEN);
        const apiImage = await registry.push(images.SLIPWAY_IMAGE_API!, "acme/api", "1.0.0");
        const stackImages = {
            database: await registry.push(images.SLIPWAY_IMAGE_POSTGRES!, "acme/postgres", "15"),
            gateway: await registry.push(images.SLIPWAY_IMAGE_CADDY!, "acme/caddy", "2.10.2"),
            prometheus: await registry.push(images.SLIPWAY_IMAGE_PROMETHEUS!, "acme/prometheus", "2.42"),
            cache: await registry.push(images.SLIPWAY_IMAGE_VALKEY!, "acme/valkey", "8"),
        };
        releaseRef = await registry.push(releaseImage(images), "acme/api", "1.0.1");
        s = await deployDevStack({
            figures: {
                engine: {
                    host: `ssh://${sshd.alias}`, ssh: { configFile: sshd.configFile },
                    registries: [{ host: registry.host, username: REGISTRY_USER, token: REGISTRY_TOKEN }],
                },
                apiImage,
                images: stackImages,
            },
            // One ssh session per engine call on a shared 2-core machine: slower than the socket.
            budgetMs: 240_000,
        });
    });

    after(async function () {
        this.timeout(180_000);
        await s?.h.cleanup().catch(() => undefined);
        await registry?.stop().catch(() => undefined);
        if (sshd) await sshd.stop();
    });

    it("records the provider with the ssh:// alias and strict host key checking, and the harness's engine calls are sshd sessions", async () => {
        const provider = one(s!.resources, "pulumi:providers:docker", "host-provider");
        assert.equal(provider.inputs.host, `ssh://${sshd.alias}`);
        const sshOpts = JSON.parse(provider.inputs.sshOpts as string) as string[];
        assert.deepEqual(sshOpts.slice(0, 2), ["-F", sshd.configFile]);
        assert.ok(sshOpts.includes("StrictHostKeyChecking=yes") && sshOpts.includes("BatchMode=yes"), sshOpts.join(" "));
        const engine = s!.h.engine;
        assert.equal(engine.socketPath, undefined, "the unix socket is not used");
        assert.equal(engine.ssh?.host, `ssh://${sshd.alias}`);
        // Every connection the harness opened is one logged session of the login user in sshd.
        assert.ok(engine.connections > 50, `${engine.connections} engine connections`);
        await eventually("sshd logged every session", 10_000, async () => sshd.sessions() === engine.connections);
        assert.match(sshd.log(), new RegExp(`Accepted publickey for ${sshd.user} from 127\\.0\\.0\\.1`));
        // The harness's docker CLI (its exit-hook cleanup) reaches the same engine through the same sshd.
        const before = sshd.sessions();
        const names = execFileSync("docker", ["ps", "--filter", `label=${RUN_LABEL}=${s!.h.runId}`, "--format", "{{.Names}}"],
            { env: engine.cliEnv(), encoding: "utf8", timeout: 60_000 }).split("\n");
        assert.ok(names.includes(s!.name(C.gateway)), names.join(", "));
        await eventually("sshd logged the CLI's session", 10_000, async () => sshd.sessions() > before);
    });

    it("deployed every recorded container, healthy, labelled with this run", async () => {
        const declared = s!.resources.filter(r => r.type === TYPES.container).map(r => r.name).sort();
        assert.deepEqual(Object.keys(s!.healthyAt).sort(), declared);
        for (const logical of declared) {
            const got = await s!.h.inspect(s!.name(logical));
            // A one-shot job (the API's migration) has run to its end; everything else runs.
            if (s!.recordedContainer(logical).inputs.attach === true) assert.deepEqual([got.State.Status, got.State.ExitCode], ["exited", 0], logical);
            else assert.equal(got.State.Running, true, logical);
            assert.equal(got.Config.Labels[RUN_LABEL], s!.h.runId);
        }
        // The API came from the private registry, pulled by the remote engine (no local build of that name).
        for (const n of s!.apiNames()) assert.equal((await s!.h.inspect(n)).Config.Image, `${registry!.host}/acme/api:1.0.0`, n);
        assert.ok(!JSON.stringify(await Promise.all(s!.apiNames().map(n => s!.h.inspect(n)))).includes(REGISTRY_TOKEN), "the token is in no container's inspect");
    });

    it("serves through the gateway's published port: a write read back, then bounded load with 0 failed requests", async () => {
        const name = `over-ssh-${s!.h.runId}`;
        const created = await request(s!.port, "POST", "/v1/items", { body: { name } });
        assert.equal(created.status, 201, created.text);
        const got = await request(s!.port, "GET", `/v1/items/${created.json.id}`);
        assert.equal(got.json?.name, name, got.text);
        const load = await runLoad({ port: s!.port, ...LOAD, minRequests: 1000, maxRequests: 1000, maxMs: 60_000 });
        assertNoFailures(load, 1000);
    });

    it("rolls out a new API image through ssh under load with 0 failed requests", async () => {
        const before = apiReplicas(s!.resources).map(r => r.name);
        const oldImages = new Set(await Promise.all(s!.apiNames().map(async n => (await s!.h.inspect(n)).Image)));
        const newImage = releaseRef;
        const release = await recordRelease(s!, newImage);
        const sessions = sshd.sessions();
        const { load, result, error } = await underLoad(s!, () => s!.up(release), { minRequests: 1500 });
        if (error) throw error;
        s!.figures = { ...s!.figures, apiImage: newImage };
        const after = apiReplicas(s!.resources).map(r => r.name);
        assert.ok(after.every(n => !before.includes(n)), `${before} -> ${after}`);
        assert.equal(result!.steps.filter(x => x.op === "create" && after.includes(x.logical)).length, 2);
        assert.equal(result!.steps.filter(x => x.op === "delete" && before.includes(x.logical)).length, 2);
        for (const n of s!.apiNames()) assert.ok(!oldImages.has((await s!.h.inspect(n)).Image), `${n} runs the new image`);
        assert.ok(sshd.sessions() > sessions, "the rollout's engine calls went through sshd");
        assertNoFailures(load, 1500);
    });

    it("destroys the stack through ssh (an up of an empty program, as pulumi destroy), and the local engine confirms nothing is left", async () => {
        const sessions = sshd.sessions();
        const deployed = s!.resources.filter(r => ([TYPES.container, TYPES.network, TYPES.volume] as string[]).includes(r.type)).map(r => r.name).sort();
        const { steps } = await s!.h.up([]);
        assert.deepEqual(steps.filter(x => x.op !== "delete"), []);
        assert.deepEqual(steps.map(x => x.logical).sort(), deployed);
        assert.ok(sshd.sessions() > sessions, "the deletes went through sshd");
        // Checked over the local socket, not through the path under test.
        const local = new Engine();
        const f = encodeURIComponent(JSON.stringify({ label: [`${RUN_LABEL}=${s!.h.runId}`] }));
        assert.deepEqual(await local.json("GET", `/containers/json?all=1&filters=${f}`), []);
        assert.deepEqual(await local.json("GET", `/networks?filters=${f}`), []);
        assert.deepEqual((await local.json<{ Volumes: unknown[] | null }>("GET", `/volumes?filters=${f}`)).Volumes ?? [], []);
    });
});
