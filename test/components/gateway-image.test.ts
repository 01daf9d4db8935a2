// Where the Gateway's Caddy comes from on docker: the published image by default, or a build of the
// Dockerfile the package ships (`image: { build }`), which a stranger's engine can always make.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import { RecordedResource, Recorder } from "../../components/testing/recorder";
import { expectConfigError } from "../helpers/config-error";
import { dockerTarget, freshRecorder } from "../helpers/harness";
import { localArgs } from "../unit/gateway-fixtures";

const CONTAINER = "docker:index/container:Container";
const IMAGE = "docker:index/image:Image";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const DOCKERFILE_DIR = path.resolve(__dirname, "../../docker/caddy");
const outputsOf = (r: RecordedResource) => fakeProviderOutputs({ type: r.type, name: r.name, inputs: r.inputs, custom: true } as any)!;

describe("Gateway image on docker", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    async function gateway(image: unknown) {
        const target = await dockerTarget("dev", false);
        const { Gateway } = await import("../../components/gateway");
        const gw = new Gateway("edge", { ...localArgs(target), image } as any);
        await rec.settle();
        return gw;
    }

    it("with { build: true } builds the package's docker/caddy/Dockerfile on the engine and runs Caddy and its loaders on the built id", async () => {
        await gateway({ build: true });
        assert.equal(rec.ofType(REMOTE_IMAGE).length, 0, "nothing is pulled");
        const img = rec.get(IMAGE, "edge-image");
        const build = img.inputs.build as Record<string, unknown>;
        assert.equal(fs.realpathSync(String(build.context)), fs.realpathSync(DOCKERFILE_DIR));
        assert.ok(fs.existsSync(path.join(String(build.context), "Dockerfile")), "the provider's default Dockerfile, <context>/Dockerfile");
        assert.equal(build.dockerfile, undefined);
        assert.equal(build.args, undefined, "no args: the Dockerfile's defaults (Docker Hub and proxy.golang.org)");
        assert.equal(img.inputs.skipPush, true, "built for this engine, never pushed");
        assert.equal(img.inputs.registry, undefined);
        // The local tag says what is inside: versions.env's Caddy and module versions, and Slipway's modules' hash.
        const tag = execFileSync("bash", [path.join(DOCKERFILE_DIR, "..", "..", "scripts", "caddy-image-tag.sh")], { encoding: "utf8" }).trim();
        assert.equal(img.inputs.imageName, `slipway-caddy:${tag}`);
        // The provider's repoDigest (a local image's id): an unchanged build never replaces Caddy.
        const ref = outputsOf(img).repoDigest;
        const runs = rec.ofType(CONTAINER).map(c => [c.name, c.inputs.image]);
        assert.ok(runs.length >= 2, runs.join(", "));
        for (const [name, image] of runs) assert.equal(image, ref, `${name} runs the built image`);
        assert.equal(img.parent, rec.get("slipway:gateway:Gateway", "edge").urn);
    });

    it("passes build args and a platform through", async () => {
        const args = { GO_IMAGE: "mirror.example.com/golang:1.26.8-bookworm", BASE_IMAGE: "mirror.example.com/debian:bookworm-slim", GOPROXY: "https://goproxy.example.com" };
        await gateway({ build: { args, platform: "linux/arm64" } });
        const build = rec.get(IMAGE, "edge-image").inputs.build as Record<string, unknown>;
        assert.deepEqual(build.args, args);
        assert.equal(build.platform, "linux/arm64");
    });

    it("keeps a given reference a RemoteImage", async () => {
        await gateway("ghcr.io/acme/caddy-ratelimit:2.10.2");
        assert.equal(rec.ofType(IMAGE).length, 0);
        assert.equal(rec.get(REMOTE_IMAGE, "edge-image").inputs.name, "ghcr.io/acme/caddy-ratelimit:2.10.2");
    });

    describe("bad input, before anything registers", () => {
        async function rejects(image: unknown, p: string, problem: RegExp, fix: RegExp) {
            const target = await dockerTarget("dev", false);
            rec.clear();
            const { Gateway } = await import("../../components/gateway");
            await expectConfigError(rec, () => new Gateway("edge", { ...localArgs(target), image } as any), { component: `Gateway "edge"`, path: p, problem, fix });
        }

        it("names an unknown build arg, a misspelt key, a false build and a bad platform", async () => {
            await rejects({ build: { args: { GO_VERSION: "1.26" } } }, "image.build.args.GO_VERSION", /is not a known setting/, /GO_IMAGE|GOPROXY|GOSUMDB|BASE_IMAGE/);
            await rejects({ biuld: true }, "image.biuld", /is not a known setting/, /build/);
            await rejects({ build: false }, "image.build", /is false, which builds nothing/, /omit image for the published image/);
            await rejects({ build: { platform: "arm64" } }, "image.build.platform", /"arm64" is not an os\/arch platform/, /linux\/arm64/);
            await rejects({ build: { args: { BASE_IMAGE: " " } } }, "image.build.args.BASE_IMAGE", /is empty/, /Dockerfile's default/);
        });
    });
});
