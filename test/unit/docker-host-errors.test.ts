import { strict as assert } from "assert";
import type { DockerHostArgs } from "../../components/targets/docker-host";
import { Recorder } from "../../components/testing/recorder";
import { expectConfigError } from "../helpers/config-error";
import { freshRecorder } from "../helpers/harness";

const NETWORK = "docker:index/network:Network";
const PROVIDER = "pulumi:providers:docker";

describe("DockerHost bad input", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    /** Build a host from `environment: "dev"` plus `args` (see expectConfigError). */
    async function rejects(args: Partial<DockerHostArgs>, path: string, problem: RegExp, fix: RegExp, name = "host") {
        const { DockerHost } = await import("../../components/targets/docker-host");
        return expectConfigError(rec, () => new DockerHost(name, { environment: "dev", ...args } as DockerHostArgs),
            { component: `DockerHost "${name}"`, path, problem, fix });
    }

    it("rejects an engine address with a scheme Docker does not speak", async () => {
        await rejects({ host: "http://x" }, "host", /"http:\/\/x" is not a Docker engine address/, /"ssh:\/\/user@host"/);
        await rejects({ host: "/var/run/docker.sock" }, "host", /not a Docker engine address/, /"unix:\/\/\/var\/run\/docker\.sock"/);
    });

    it("accepts an ssh address with or without a user (an ~/.ssh/config alias gives it), strict host key checking on", async () => {
        const { DockerHost } = await import("../../components/targets/docker-host");
        new DockerHost("remote", { environment: "dev", host: "ssh://deploy@staging.example.com" });
        new DockerHost("alias", { environment: "dev", host: "ssh://staging" });
        await rec.settle();
        assert.equal(rec.get(PROVIDER, "remote-provider").inputs.host, "ssh://deploy@staging.example.com");
        assert.equal(rec.get(PROVIDER, "alias-provider").inputs.host, "ssh://staging");
        assert.deepEqual(JSON.parse(rec.get(PROVIDER, "alias-provider").inputs.sshOpts as string), ["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"]);
    });

    it("rejects an environment name that cannot go into names and labels", async () => {
        await rejects({ environment: "Prod" }, "environment", /"Prod" is not an environment name/, /lowercase letters, digits and hyphens/);
        await rejects({ environment: "" }, "environment", /"" is not an environment name/, /"dev" or "staging"/);
    });

    it("rejects a namePrefix Docker cannot start a name with", async () => {
        await rejects({ namePrefix: "-slipway" }, "namePrefix", /"-slipway" cannot start a Docker object name/, /letters, digits, '_', '\.' and '-'/);
        await rejects({ namePrefix: "slip way" }, "namePrefix", /"slip way" cannot start a Docker object name/, /letters, digits/);
    });

    it("rejects a publishAddress that is not an IPv4 address", async () => {
        await rejects({ publishAddress: "localhost" }, "publishAddress", /"localhost" is not an IPv4 address/, /"127\.0\.0\.1"/);
        await rejects({ publishAddress: "::1" }, "publishAddress", /"::1" is not an IPv4 address/, /"127\.0\.0\.1"/);
    });
});

describe("DockerHost defaults", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    it("publishes on loopback and labels its network as Slipway's", async () => {
        const { DockerHost } = await import("../../components/targets/docker-host");
        const host = new DockerHost("host", { environment: "staging" });
        await rec.settle();
        assert.equal(host.target.publishAddress, "127.0.0.1");

        const provider = rec.get(PROVIDER, "host-provider");
        assert.equal(provider.inputs.host, "unix:///var/run/docker.sock");
        const network = rec.get(NETWORK, "host-network");
        assert.equal(network.inputs.name, "slipway-staging-net");
        assert.equal(network.inputs.driver, "bridge");
        const labels = Object.fromEntries((network.inputs.labels as { label: string; value: string }[]).map(l => [l.label, l.value]));
        assert.deepEqual(labels, { "slipway.stack": "test", "slipway.environment": "staging", "slipway.managed": "true" });
        // Containers take these labels from the target, so it must carry the same set.
        assert.deepEqual(host.target.labels, labels);
        const component = rec.get("slipway:targets:DockerHost", "host");
        assert.equal(network.parent, component.urn);
        assert.ok(network.options.provider?.startsWith(`${provider.urn}::`), `network provider is ${network.options.provider}`);
    });
});

describe("DockerHost address checks", () => {
    it("refuses unencrypted remote tcp engines and impossible IPv4 addresses", async () => {
        const { normalizeDockerHost } = await import("../../components/targets/docker-host");
        assert.throws(() => normalizeDockerHost("h", { environment: "dev", host: "tcp://10.0.0.5:2375" }),
            /DockerHost "h": host: "tcp:\/\/10\.0\.0\.5:2375" reaches a remote engine over unencrypted TCP\. Fix: use "ssh:\/\/user@host"/);
        assert.strictEqual(normalizeDockerHost("h", { environment: "dev", host: "tcp://127.0.0.1:2375" }).host, "tcp://127.0.0.1:2375");
        assert.throws(() => normalizeDockerHost("h", { environment: "dev", publishAddress: "999.1.1.1" }),
            /DockerHost "h": publishAddress: "999\.1\.1\.1" is not an IPv4 address/);
    });
});

describe("DockerHost names hold the Pulumi project", () => {
    // Two teams' `dev` stacks on one engine: before, both were `slipway-dev-*` and the second `up`
    // failed on `network with name slipway-dev-net already exists`.
    it("prefixes names with <project>-<environment>, and keeps an explicit namePrefix", async () => {
        const { normalizeDockerHost } = await import("../../components/targets/docker-host");
        assert.equal(normalizeDockerHost("h", { environment: "dev" }, "orders").namePrefix, "orders-dev");
        assert.equal(normalizeDockerHost("h", { environment: "dev" }, "billing").namePrefix, "billing-dev");
        // Slipway's own project is named `slipway`: its stacks keep the names they had.
        assert.equal(normalizeDockerHost("h", { environment: "dev" }, "slipway").namePrefix, "slipway-dev");
        assert.equal(normalizeDockerHost("h", { environment: "dev", namePrefix: "slipway-dev" }, "orders").namePrefix, "slipway-dev");
    });

    it("takes the project of the running program", async () => {
        const rec = await Recorder.start({ project: "orders", stack: "dev" });
        try {
            const { DockerHost } = await import("../../components/targets/docker-host");
            const host = new DockerHost("host", { environment: "dev" });
            await rec.settle();
            assert.equal(rec.get(NETWORK, "host-network").inputs.name, "orders-dev-net");
            assert.equal(host.target.namePrefix, "orders-dev");
        } finally {
            // Later files start their own recorder (freshRecorder notices it is not current).
            await rec.settle();
        }
    });

    it("names the project when it cannot start a Docker name, with the fix", async () => {
        const { normalizeDockerHost } = await import("../../components/targets/docker-host");
        assert.throws(() => normalizeDockerHost("h", { environment: "dev" }, "_orders"),
            /DockerHost "h": namePrefix: "_orders-dev" \(the Pulumi project, then the environment\) cannot start a Docker object name\. Fix: .*namePrefix/);
    });
});
