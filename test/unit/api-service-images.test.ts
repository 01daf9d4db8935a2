import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { DO_INSTANCE_SIZES, DO_LEGACY_INSTANCE_SIZES, parseDoImage, pickInstanceSize } from "../../components/api-service/images";
import { defaultHealthcheckCommand, parseMemory } from "../../components/api-service/normalize";
import { SHARED } from "../helpers/do-schema";

const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);

describe("ApiService image and size mapping", () => {
    it("maps references to App Platform image sources", () => {
        const cases: [string, unknown][] = [
            ["registry.digitalocean.com/acme/api:1.4.2", { registryType: "DOCR", repository: "api", tag: "1.4.2" }],
            ["registry.digitalocean.com/acme/team/api:1", { registryType: "DOCR", repository: "team/api", tag: "1" }],
            ["ghcr.io/acme/api:v2", { registryType: "GHCR", registry: "acme", repository: "api", tag: "v2" }],
            [`ghcr.io/acme/api:v2@${DIGEST}`, { registryType: "GHCR", registry: "acme", repository: "api", digest: DIGEST }],
            ["nginx:1.27", { registryType: "DOCKER_HUB", registry: "library", repository: "nginx", tag: "1.27" }],
            ["docker.io/bitnami/redis:7.2", { registryType: "DOCKER_HUB", registry: "bitnami", repository: "redis", tag: "7.2" }],
        ];
        for (const [ref, image] of cases) assert.deepEqual(parseDoImage(ref), { ok: true, image }, ref);
    });

    it("refuses what App Platform cannot pull or would run unpinned", () => {
        const bad: [string, RegExp][] = [
            ["quay.io/acme/api:1", /quay\.io/],
            ["localhost:5000/api:1", /localhost:5000/],
            ["acme/api", /no tag or digest/],
            ["acme/team/api:1", /nested path/],
            ["ghcr.io/api:1", /no owner/],
            ["registry.digitalocean.com/acme:1", /no repository/],
            ["Acme/API:1", /not an image reference/],
            ["acme/api@sha256:xyz", /malformed digest/],
        ];
        for (const [ref, problem] of bad) {
            const r = parseDoImage(ref);
            assert.ok(!r.ok, ref);
            if (!r.ok) assert.match(r.problem, problem, ref);
        }
    });

    it("knows exactly the schema's current and legacy instance sizes", () => {
        const schema = JSON.parse(fs.readFileSync(path.join(SHARED, "schemas/do-app-spec.schema.json"), "utf8"));
        const [current, legacy] = schema.$defs.app_component_instance_base.properties.instance_size_slug.oneOf;
        assert.deepEqual([...DO_INSTANCE_SIZES], current.enum);
        assert.deepEqual([...DO_LEGACY_INSTANCE_SIZES], legacy.enum);
    });

    it("picks the smallest size that fits, shared before dedicated, never -fixed", () => {
        assert.strictEqual(pickInstanceSize(512, 0.5), "apps-s-1vcpu-0.5gb");
        assert.strictEqual(pickInstanceSize(1024, 0), "apps-s-1vcpu-1gb");
        assert.strictEqual(pickInstanceSize(1025, 1), "apps-s-1vcpu-2gb");
        assert.strictEqual(pickInstanceSize(1024, 2), "apps-s-2vcpu-4gb");
        assert.strictEqual(pickInstanceSize(8192, 1), "apps-d-2vcpu-8gb");
        assert.strictEqual(pickInstanceSize(8192, 3), "apps-d-4vcpu-8gb");
        assert.strictEqual(pickInstanceSize(65536, 1), undefined);
    });

    it("parses friendly memory sizes to MiB and refuses fractions of a MiB", () => {
        assert.strictEqual(parseMemory("512m"), 512);
        assert.strictEqual(parseMemory("1g"), 1024);
        assert.strictEqual(parseMemory("1.5GiB"), 1536);
        assert.strictEqual(parseMemory("262144k"), 256);
        assert.strictEqual(parseMemory("100k"), undefined);
        assert.strictEqual(parseMemory("512"), undefined, "a bare number is ambiguous (bytes? MB?)");
        assert.strictEqual(parseMemory("lots"), undefined);
    });

    it("builds a default healthcheck that needs only wget or curl", () => {
        const [kind, cmd] = defaultHealthcheckCommand(8080, "/ready");
        assert.strictEqual(kind, "CMD-SHELL");
        assert.match(cmd!, /^wget .*'http:\/\/127\.0\.0\.1:8080\/ready' \|\| curl .*'http:\/\/127\.0\.0\.1:8080\/ready' \|\| exit 1$/);
    });
});
