// Issue 14, acceptance 4: the packed tarball alone deploys another team's gateway on an engine that
// has none of Slipway's images. examples/consumer, with the tarball installed, is recorded with
// `gatewayImage: { build }`: the harness builds Caddy the way the provider would, from the
// Dockerfile inside the installed package, then runs the stack and a request goes through Caddy.
// Then a second project with the same stack name (`dev`) deploys beside it on the same engine.
//
// What differs from a stranger's engine, and why: this machine pulls no image and its build
// containers cannot reach proxy.golang.org (they do not trust its TLS interception). So the build
// args name local images (GO_IMAGE: the host's Go on Slipway's base, BASE_IMAGE: that base) and a
// file:// module proxy that scripts/caddy-goproxy.sh filled through the host's Go, checksum database
// included (GOSUMDB stays sum.golang.org). The proxy is the one thing added to the installed
// package's docker/caddy folder; the Dockerfile copies its context into the throwaway build stage.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { randomBytes } from "crypto";
import type { RecordedResource } from "../../components/testing/recorder";
import { ROOT, installConsumer, ok, packTarball, run } from "../helpers/consumer-package";
import { DockerHarness, ensureImages, SlipwayImages, RUN_LABEL, cleanupRun } from "./harness";
import { eventually, freePort, request } from "./stack-under-test";

const ORDERS_IMAGE = "ghcr.io/example/orders-api:1.4.2"; // examples/consumer/Pulumi.dev.yaml
const RUN_PREFIX = "pkgw-";

/**
 * Run the consumer's program under the installed package's own `recordStack` (what `slipway synth`
 * runs) in a child process, so the program, the components and the Recorder are the tarball's.
 */
function recordConsumer(dir: string, overrides: Record<string, unknown>): RecordedResource[] {
    const out = path.join(dir, "recorded.json");
    const script = `
        const path = require("path");
        const pkg = path.dirname(require.resolve("@slipway/components/package.json"));
        const { recordStack } = require(path.join(pkg, "dist/cli/synth.js"));
        recordStack({ dir: ".", stack: "dev", overrides: ${JSON.stringify(overrides)}, secretOverrides: { paymentsApiKey: "sk_test_pkgw" } })
            .then(r => require("fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify(r.resources)))
            .catch(e => { console.error(e); process.exit(1); });`;
    ok("record the consumer program", run(process.execPath, ["-e", script], dir, 300_000));
    return JSON.parse(fs.readFileSync(out, "utf8"));
}

/** The local image for each image the consumer pulls; Caddy is built, so it is not in here. */
function imageMapOf(resources: RecordedResource[], images: SlipwayImages): Record<string, string> {
    const map: Record<string, string> = {};
    for (const r of resources.filter(x => x.type === "docker:index/remoteImage:RemoteImage")) {
        const ref = String(r.inputs.name);
        const local = ref === ORDERS_IMAGE ? images.SLIPWAY_IMAGE_API
            : /postgres/.test(ref) ? images.SLIPWAY_IMAGE_POSTGRES
                : /alertmanager/.test(ref) ? images.SLIPWAY_IMAGE_ALERTMANAGER
                    : /prometheus/.test(ref) ? images.SLIPWAY_IMAGE_PROMETHEUS : undefined;
        if (!local) throw new Error(`no local stand-in for ${ref} (${r.name}); teach this test which images/ build replaces it`);
        map[ref] = local;
    }
    return map;
}

/** Networks of an earlier, killed run of this test (its run label) are removed; anyone else's is an error. */
async function clearLeftovers(networkName: string): Promise<void> {
    const h = new DockerHarness();
    const r = await h.engine.request("GET", `/networks/${encodeURIComponent(networkName)}`, { ok: [404] });
    if (r.status === 404) return;
    const runId = JSON.parse(r.body).Labels?.[RUN_LABEL] as string | undefined;
    if (!runId?.startsWith(RUN_PREFIX)) throw new Error(`the engine already has a network ${networkName} that this test did not make; remove it or stop that stack`);
    await cleanupRun(runId);
}

describe("package: the tarball deploys the consumer's gateway on a fresh engine, and two projects' dev stacks share it", function () {
    this.timeout(75 * 60_000); // a cold machine builds the images, the Go toolchain image and Caddy (~15 min on 2 cores)
    let tmp: string;
    let images: SlipwayImages;
    let orders: string;
    let billing: string;
    const harnesses: DockerHarness[] = [];
    const ports: Record<string, number> = {};
    let buildArgs: Record<string, string>;

    before(async function () {
        images = ensureImages(["base", "go", "postgres", "prometheus", "alertmanager", "api"]);
        const goproxy = execFileSync("bash", [path.join(ROOT, "scripts/caddy-goproxy.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 30 * 60_000 })
            .trim().split("\n").pop()!;
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-pkgw-"));
        orders = installConsumer(tmp, packTarball(tmp), "orders");
        const context = path.join(orders, "node_modules/@slipway/components/docker/caddy");
        assert.ok(fs.existsSync(path.join(context, "Dockerfile")), "the installed package has docker/caddy/Dockerfile");
        fs.cpSync(goproxy, path.join(context, "goproxy"), { recursive: true });
        buildArgs = { GO_IMAGE: images.SLIPWAY_IMAGE_GO!, BASE_IMAGE: images.SLIPWAY_IMAGE_BASE!, GOPROXY: "file:///src/goproxy" };

        // A second team's project: the same program under another Pulumi project name, stack `dev` too.
        billing = path.join(tmp, "billing");
        fs.cpSync(orders, billing, { recursive: true, filter: src => !src.startsWith(path.join(orders, "node_modules")) });
        fs.symlinkSync(path.join(orders, "node_modules"), path.join(billing, "node_modules"));
        for (const f of ["Pulumi.yaml", "Pulumi.dev.yaml"]) {
            const file = path.join(billing, f);
            fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/^name: orders$/m, "name: billing").replace(/^(\s+)orders:/gm, "$1billing:"));
        }
        for (const n of ["orders-dev-net", "billing-dev-net"]) await clearLeftovers(n);
    });

    after(async function () {
        for (const h of harnesses) await h.cleanup().catch(e => console.error(`cleanup ${h.runId}: ${e}`));
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    async function deploy(dir: string): Promise<{ h: DockerHarness; resources: RecordedResource[]; port: number }> {
        const port = await freePort();
        const resources = recordConsumer(dir, { gatewayPort: port, replicas: 1, gatewayImage: { build: { args: buildArgs } } });
        // No name suffix: the engine names are the stack's own, which is what must not collide.
        const h = new DockerHarness({ runId: `${RUN_PREFIX}${randomBytes(3).toString("hex")}`, imageMap: imageMapOf(resources, images) });
        harnesses.push(h);
        await h.apply(resources);
        return { h, resources, port };
    }

    /** A request through the gateway reaches the orders API: Caddy's headers on the API's answer. */
    async function servesThroughCaddy(port: number): Promise<void> {
        let last = "";
        await eventually(`GET /health through the gateway on 127.0.0.1:${port}`, 120_000, async () => {
            const r = await request(port, "GET", "/health");
            last = `${r.status} ${r.text.slice(0, 200)}`;
            return r.status === 200;
        }, 1000).catch(e => { throw new Error(`${e.message}; last reply: ${last}`); });
        const r = await request(port, "GET", "/health");
        assert.equal(r.status, 200);
        assert.equal(r.headers["x-content-type-options"], "nosniff", "the gateway's security headers: the reply came through Caddy");
        assert.equal(r.headers.server, undefined, "Caddy strips the Server header");
    }

    it("builds Caddy from the Dockerfile in the tarball on the engine, runs the gateway on it and serves a request", async function () {
        const { h, resources, port } = await deploy(orders);
        ports.orders = port;
        const image = resources.find(r => r.type === "docker:index/image:Image" && r.name === "gateway-image");
        assert.ok(image, "the gateway's docker.Image");
        assert.equal(fs.realpathSync(String((image.inputs.build as { context: string }).context)),
            fs.realpathSync(path.join(orders, "node_modules/@slipway/components/docker/caddy")), "built from the installed tarball's folder");
        const built = h.builtImageId("gateway-image");
        assert.ok(built, "the harness built the image");
        const caddy = await h.inspect(h.containers.get("gateway-caddy")!);
        assert.equal(caddy.Image, built, "Caddy runs the image built from the tarball");
        const modules = execFileSync("docker", ["run", "--rm", "--network", "none", built, "list-modules"], { encoding: "utf8" });
        assert.match(modules, /^http\.handlers\.rate_limit$/m);
        await servesThroughCaddy(port);
    });

    it("runs a second project's `dev` stack beside the first: every engine name starts with its project", async function () {
        assert.ok(ports.orders, "the first project's deploy failed (the test above says why)");
        const { h, port } = await deploy(billing);
        ports.billing = port;
        const owned = [await harnesses[0]!.owned(), await h.owned()];
        assert.ok(owned[0]!.networks.includes("orders-dev-net"), owned[0]!.networks.join(", "));
        assert.ok(owned[1]!.networks.includes("billing-dev-net"), owned[1]!.networks.join(", "));
        for (const [project, o] of [["orders", owned[0]!], ["billing", owned[1]!]] as const) {
            for (const n of [...o.networks, ...o.volumes]) assert.ok(n.startsWith(`${project}-dev-`), `${n} does not start with ${project}-dev-`);
        }
        // Both serve, side by side.
        await servesThroughCaddy(ports.billing);
        await servesThroughCaddy(ports.orders);
    });

    it("a second stack of the same project and stack name still collides, with the engine's own error (no check before up)", async function () {
        assert.ok(ports.orders, "the first project's deploy failed (the test above says why)");
        const resources = recordConsumer(orders, { gatewayPort: await freePort(), replicas: 1, gatewayImage: { build: { args: buildArgs } } });
        const h = new DockerHarness({ runId: `${RUN_PREFIX}${randomBytes(3).toString("hex")}`, imageMap: imageMapOf(resources, images) });
        harnesses.push(h);
        await assert.rejects(h.apply(resources), /network with name orders-dev-net already exists/);
        // The first stack is untouched and still serves.
        await servesThroughCaddy(ports.orders);
    });
});
