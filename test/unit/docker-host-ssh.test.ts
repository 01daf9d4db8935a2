import { strict as assert } from "assert";
import type { DockerHostArgs } from "../../components/targets/docker-host";
import { Recorder } from "../../components/testing/recorder";
import { expectConfigError } from "../helpers/config-error";
import { freshRecorder } from "../helpers/harness";

const PROVIDER = "pulumi:providers:docker";

describe("DockerHost over ssh://: bad input", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    async function rejects(args: Partial<DockerHostArgs>, path: string, problem: RegExp, fix: RegExp) {
        const { DockerHost } = await import("../../components/targets/docker-host");
        return expectConfigError(rec, () => new DockerHost("vm", { environment: "dev", ...args } as DockerHostArgs),
            { component: `DockerHost "vm"`, path, problem, fix });
    }

    it("refuses a password in the URL, without repeating it", async () => {
        const e = await rejects({ host: "ssh://deploy:hunter2@vm.example.com" }, "host", /carries a password/, /ssh:\/\/deploy@vm\.example\.com.*identityFile/);
        assert.ok(!e.message.includes("hunter2"), e.message);
        // An empty password is still a password to the Docker CLI (Go's url.UserPassword).
        await rejects({ host: "ssh://deploy:@vm.example.com" }, "host", /carries a password/, /ssh:\/\/deploy@vm\.example\.com/);
    });

    it("refuses a path, a query or a fragment after the host", async () => {
        await rejects({ host: "ssh://deploy@vm.example.com/var/run/docker.sock" }, "host", /"\/var\/run\/docker\.sock" after the host/, /ssh:\/\/deploy@vm\.example\.com and keep the engine on its default socket/);
        await rejects({ host: "ssh://vm?socket=/x" }, "host", /"\?socket=\/x" after the host/, /write ssh:\/\/vm /);
        await rejects({ host: "ssh://vm#a" }, "host", /"#a" after the host/, /write ssh:\/\/vm /);
    });

    it("refuses a host ssh would read as an option, and an empty one", async () => {
        await rejects({ host: "ssh://-oProxyCommand=sh" }, "host", /"-oProxyCommand=sh" .* is not a host name/, /~\/\.ssh\/config/);
        await rejects({ host: "ssh://" }, "host", /"" in "ssh:\/\/" is not a host name/, /ssh:\/\/user@vm\.example\.com/);
    });

    it("refuses an unknown ssh option with a did-you-mean, and a wrong type", async () => {
        await rejects({ host: "ssh://vm", ssh: { identifyFile: "~/.ssh/k" } as never }, "ssh.identifyFile", /is not a known setting/, /did you mean "identityFile"\?/);
        await rejects({ host: "ssh://vm", ssh: { password: "x" } as never }, "ssh.password", /is not a known setting/, /known settings are port, identityFile/);
        await rejects({ host: "ssh://vm", ssh: { port: "2222" } as never }, "ssh.port", /must be a number, got the string "2222"/, /without quotes: 2222/);
        await rejects({ host: "ssh://vm", ssh: { strictHostKeyChecking: "no" } as never }, "ssh.strictHostKeyChecking", /not a boolean/, /write false/);
    });

    it("refuses ssh options on a local engine", async () => {
        await rejects({ ssh: { port: 22 } }, "ssh", /applies to an ssh:\/\/ host only, and host is "unix:\/\/\/var\/run\/docker\.sock"/, /remove ssh/);
    });

    it("refuses turning host key checking off in production", async () => {
        await rejects({ host: "ssh://deploy@vm.example.com:2222", production: true, ssh: { strictHostKeyChecking: false } }, "ssh.strictHostKeyChecking",
            /false in production/, /ssh-keyscan -p 2222 vm\.example\.com >> ~\/\.ssh\/known_hosts/);
    });

    it("refuses paths ssh would read from another directory, or split at a space", async () => {
        await rejects({ host: "ssh://vm", ssh: { identityFile: "deploy_ed25519" } }, "ssh.identityFile", /relative path/, /"~\/\.ssh\/deploy_ed25519"/);
        await rejects({ host: "ssh://vm", ssh: { knownHostsFile: "/home/me/my hosts" } }, "ssh.knownHostsFile", /whitespace/, /without spaces/);
        await rejects({ host: "ssh://vm", ssh: { configFile: "~/.ssh/config.vm" } }, "ssh.configFile", /not an absolute path/, /"\/home\/you\/\.ssh\/config\.slipway"/);
    });

    it("refuses a port out of range, or two different ports", async () => {
        await rejects({ host: "ssh://vm", ssh: { port: 70000 } }, "ssh.port", /70000 is not a TCP port/, /1 to 65535/);
        await rejects({ host: "ssh://vm:2222", ssh: { port: 22 } }, "ssh.port", /22 differs from the port in host \(2222\)/, /give the port once/);
        await rejects({ host: "ssh://vm", ssh: { port: 22.5 } }, "ssh.port", /22\.5 is not a TCP port/, /1 to 65535/);
        await rejects({ host: "ssh://vm", ssh: { connectTimeoutSeconds: 0 } }, "ssh.connectTimeoutSeconds", /whole number from 1 to 600, got 0/, /between 1 and 600/);
    });
});

describe("DockerHost over ssh://: what the provider gets", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    const sshOptsOf = (name: string) => JSON.parse(rec.get(PROVIDER, `${name}-provider`).inputs.sshOpts as string) as string[];

    it("maps every typed option to the ssh flag the connection helper passes on", async () => {
        const { DockerHost } = await import("../../components/targets/docker-host");
        new DockerHost("vm", {
            environment: "dev", host: "ssh://deploy@vm.example.com",
            ssh: { port: 2222, identityFile: "~/.ssh/deploy_ed25519", knownHostsFile: "/etc/slipway/known_hosts", configFile: "/etc/slipway/ssh_config", connectTimeoutSeconds: 10 },
        });
        await rec.settle();
        assert.deepEqual(sshOptsOf("vm"), [
            "-F", "/etc/slipway/ssh_config", "-i", "~/.ssh/deploy_ed25519", "-o", "IdentitiesOnly=yes", "-p", "2222",
            "-o", "UserKnownHostsFile=/etc/slipway/known_hosts", "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
        ]);
    });

    it("trusts a new host key on first use only when asked, outside production (a changed key is still refused)", async () => {
        const { DockerHost } = await import("../../components/targets/docker-host");
        new DockerHost("tofu", { environment: "dev", host: "ssh://vm", ssh: { strictHostKeyChecking: false } });
        await rec.settle();
        assert.ok(sshOptsOf("tofu").includes("StrictHostKeyChecking=accept-new"), sshOptsOf("tofu").join(" "));
    });

    it("does not log in under Pulumi mocks: an unreachable host still records", async () => {
        const { underMocks } = await import("../../components/targets/ssh");
        assert.equal(underMocks(), true);
        const { DockerHost } = await import("../../components/targets/docker-host");
        new DockerHost("far", { environment: "dev", host: "ssh://deploy@host.invalid" });
        await rec.settle();
        assert.equal(rec.get(PROVIDER, "far-provider").inputs.host, "ssh://deploy@host.invalid");
    });
});

describe("DockerHost over ssh://: in a stack file (synth)", function () {
    this.timeout(120_000);
    const cases: { name: string; docker: Record<string, unknown>; expect: RegExp }[] = [
        {
            name: "a password in the URL",
            docker: { host: "ssh://deploy:hunter2@vm.example.com" },
            expect: /DockerHost "host": host: "ssh:\/\/deploy:\*\*\*@vm\.example\.com" carries a password.*Fix: remove it/,
        },
        {
            name: "a misspelt ssh option",
            docker: { host: "ssh://staging", ssh: { knownHostFile: "~/.ssh/known_hosts" } },
            expect: /DockerHost "host": ssh\.knownHostFile: is not a known setting\. Fix: did you mean "knownHostsFile"\?/,
        },
    ];
    for (const c of cases) {
        it(`rejects ${c.name} before anything registers`, async () => {
            const { runSynth } = await import("../helpers/synth-run");
            const r = runSynth("dev", ["--set", `docker=${JSON.stringify(c.docker)}`]);
            assert.notStrictEqual(r.status, 0, `synth should fail:\n${r.stdout}`);
            assert.match(r.stderr, c.expect);
            assert.ok(!r.stderr.includes("hunter2"), r.stderr);
            assert.match(r.stderr, /\n0 resources were registered before the error\./, r.stderr);
        });
    }
});
