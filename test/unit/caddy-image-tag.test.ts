// The Gateway's Caddy image must carry the modules the generated config needs: its tag names a
// hash of their sources (caddyImageTag), the same in the release workflow's script and in the
// default image the Gateway pulls.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { caddyImageTag } from "../../components/gateway/docker";
import { PUBLISHED_CADDY_IMAGE } from "../../components/gateway/published-image";

const ROOT = path.join(__dirname, "..", "..");
const CADDY_DIR = path.join(ROOT, "docker", "caddy");

describe("the Gateway's Caddy image tag", () => {
    const expected = caddyImageTag(CADDY_DIR);

    it("is versions.env's versions and a hash of the modules", () => {
        const env = fs.readFileSync(path.join(CADDY_DIR, "versions.env"), "utf8");
        const pin = (k: string) => new RegExp(`^${k}=v(\\S+)$`, "m").exec(env)![1];
        assert.match(expected, new RegExp(`^${pin("CADDY_VERSION")}-ratelimit-${pin("RATELIMIT_VERSION")}-slipway-[0-9a-f]{8}$`));
    });

    it("is what scripts/caddy-image-tag.sh (the release workflow's name) prints", () => {
        const out = execFileSync("bash", [path.join(ROOT, "scripts", "caddy-image-tag.sh")], { encoding: "utf8" }).trim();
        assert.equal(out, expected);
        const workflow = fs.readFileSync(path.join(ROOT, ".github", "workflows", "release-images.yml"), "utf8");
        assert.match(workflow, /tag="\$\(bash scripts\/caddy-image-tag\.sh\)"/, "the release workflow names the image with the script");
    });

    it("names the modules of this checkout in the Gateway's default image", () => {
        const tag = /:([^:@]+)(@sha256:[0-9a-f]{64})?$/.exec(PUBLISHED_CADDY_IMAGE)?.[1];
        assert.equal(tag, expected,
            `components/gateway/published-image.ts names ${PUBLISHED_CADDY_IMAGE}, built from other sources of docker/caddy/*/ than this checkout's: ` +
            `set its tag to ${expected} (without a digest until the release workflow publishes it)`);
    });

    it("changes when a module's source changes, not when its tests do", () => {
        const copy = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-caddy-tag-"));
        try {
            fs.cpSync(CADDY_DIR, copy, { recursive: true });
            const before = caddyImageTag(copy);
            assert.equal(before, expected);
            fs.writeFileSync(path.join(copy, "handoff", "zz_probe_test.go"), "package handoff\n");
            assert.equal(caddyImageTag(copy), before, "a test file is not in the image");
            fs.appendFileSync(path.join(copy, "edge", "edge.go"), "\n");
            assert.notEqual(caddyImageTag(copy), before, "a changed module source is another image");
        } finally {
            fs.rmSync(copy, { recursive: true, force: true });
        }
    });
});
