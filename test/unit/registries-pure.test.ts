// The pure rules behind registry credentials: which host a reference pulls from (the provider's
// parseImageOptions, shared by the component and the harness), which credential the harness sends
// (the provider's exact-host lookup), and which references can only exist on the deploying machine.
import { strict as assert } from "assert";
import { canonicalHost, localOnlyImage, registryOfImage } from "../../components/core/registries";
import { authFor, registryOf, splitRef, xRegistryAuth } from "../../test/integration/harness/pull";

describe("registry rules", () => {
    const cases: [string, string][] = [
        ["nginx:1.27", "registry-1.docker.io"],
        ["acme/api:1.0.0", "registry-1.docker.io"],
        ["docker.io/acme/api:1.0.0", "docker.io"],
        ["ghcr.io/acme/api:1.4.2", "ghcr.io"],
        ["127.0.0.1:5000/acme/api:1.0.0", "127.0.0.1:5000"],
        ["localhost/api:1", "localhost"],
        // Two slashes make the first component a registry for the provider, dot or not.
        ["acme/team/api:1", "acme"],
    ];

    it("the registry host of a reference, the same in the component and the harness", () => {
        for (const [ref, host] of cases) {
            assert.equal(registryOfImage(ref), host, ref);
            assert.equal(registryOf(ref), host, ref);
        }
    });

    it("the harness sends the entry whose address reduces to that host, else nothing (an anonymous pull)", () => {
        const entries = [
            { address: "https://ghcr.io/v2", username: "a", password: "p1" },
            { address: "127.0.0.1:5000", username: "b", password: "p2" },
            { address: "registry-1.docker.io", username: "c", password: "p3" },
        ];
        assert.deepEqual(authFor("ghcr.io/acme/api:1", entries), { username: "a", password: "p1", serveraddress: "https://ghcr.io/v2" });
        assert.deepEqual(authFor("127.0.0.1:5000/acme/api:1", entries), { username: "b", password: "p2", serveraddress: "https://127.0.0.1:5000" });
        assert.equal(authFor("acme/api:1", entries)?.username, "c");
        assert.equal(authFor("docker.io/acme/api:1", entries), undefined, "the provider looks docker.io up as written");
        assert.equal(authFor("127.0.0.1:5001/acme/api:1", entries), undefined, "the port is part of the host");
    });

    it("splits a reference into the pull query and encodes X-Registry-Auth with padding", () => {
        assert.deepEqual(splitRef("127.0.0.1:5000/acme/api:1.0.1"), { repo: "127.0.0.1:5000/acme/api", tag: "1.0.1" });
        assert.deepEqual(splitRef("127.0.0.1:5000/acme/api"), { repo: "127.0.0.1:5000/acme/api", tag: "latest" });
        assert.deepEqual(splitRef(`ghcr.io/a/b@sha256:${"a".repeat(64)}`), { repo: "ghcr.io/a/b", tag: `sha256:${"a".repeat(64)}` });
        const header = xRegistryAuth({ username: "u", password: "p?>" });
        assert.match(header, /^[A-Za-z0-9_-]+=*$/);
        assert.equal(header.length % 4, 0, "padded, as Go's base64.URLEncoding needs");
        assert.deepEqual(JSON.parse(Buffer.from(header, "base64url").toString()), { username: "u", password: "p?>" });
    });

    it("local-only images: no registry host and tagged :local or one of Slipway's slipway/* images", () => {
        for (const ref of ["slipway/example-api:local", "slipway/caddy:2.10.2-ratelimit-0.1.0", "api:local", "acme/api:local"]) {
            assert.ok(localOnlyImage(ref), ref);
        }
        for (const ref of ["ghcr.io/slipway/api:local", "127.0.0.1:5000/slipway/api:1", "postgres:16", "acme/api:1.0.0", "localhost/api:local"]) {
            assert.equal(localOnlyImage(ref), undefined, ref);
        }
    });

    it("Docker Hub's spellings are one registry", () => {
        for (const h of ["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]) assert.equal(canonicalHost(h), "docker.io");
        assert.equal(canonicalHost("ghcr.io"), "ghcr.io");
    });
});
