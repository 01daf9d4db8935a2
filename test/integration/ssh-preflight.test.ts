import { strict as assert } from "assert";
import { execSync, execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { SlipwayConfigError } from "../../components/core/errors";
import { DockerHost, DockerHostArgs, normalizeDockerHost } from "../../components/targets/docker-host";
import { checkSshEngine } from "../../components/targets/ssh";
import { freePort } from "./stack-under-test";
import { SSH_OUTSIDER, Sshd, startSshd } from "./sshd";

/**
 * DockerHost's preflight login against a real sshd: each failure a user meets on a new VM (unknown
 * host key, changed host key, a key that is not authorized, the wrong port, a user outside the
 * docker group) comes back as a SlipwayConfigError naming the setting and the fix, from ssh's own
 * words. Where the fix is a command, the test runs it and the next check passes.
 */

const ctx = { kind: "DockerHost", name: "vm" };

/** The preflight of a DockerHost with these args, as its constructor runs it on a real `pulumi up`. */
function preflight(args: Omit<DockerHostArgs, "environment">): void {
    const n = normalizeDockerHost("vm", { environment: "dev", ...args });
    checkSshEngine(ctx, n.host, n.ssh!.address, n.ssh!.sshOpts, args.ssh ?? {});
}

function expectFailure(args: Omit<DockerHostArgs, "environment">, path: string, problem: RegExp, fix: RegExp): SlipwayConfigError {
    let err: unknown;
    try { preflight(args); } catch (e) { err = e; }
    assert.ok(err instanceof SlipwayConfigError, `expected a SlipwayConfigError, got ${err}`);
    assert.equal(err.component, `DockerHost "vm"`);
    assert.equal(err.propertyPath, path, err.message);
    assert.match(err.problem, problem);
    assert.match(err.fix, fix);
    return err;
}

const re = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));

describe("DockerHost's preflight login against a real sshd", function () {
    this.timeout(120_000);
    let sshd: Sshd;
    let url: string;

    before(async function () {
        this.timeout(300_000);
        sshd = await startSshd({ outsider: true });
        url = `ssh://${sshd.user}@127.0.0.1:${sshd.port}`;
    });
    after(async () => { if (sshd) await sshd.stop(); });

    it("passes for a prepared VM, by ~/.ssh/config alias and by URL with typed options", () => {
        preflight({ host: `ssh://${sshd.alias}`, ssh: { configFile: sshd.configFile } });
        preflight({ host: url, ssh: { identityFile: sshd.key, knownHostsFile: sshd.knownHosts } });
    });

    it("an unknown host key: names the known_hosts file and the ssh-keyscan line, which then makes it pass", () => {
        const kh = path.join(sshd.dir, "known_hosts.empty");
        fs.writeFileSync(kh, "");
        const args = { host: url, ssh: { identityFile: sshd.key, knownHostsFile: kh } };
        const e = expectFailure(args, "ssh.knownHostsFile",
            re(`the host key of 127.0.0.1:${sshd.port} is unknown (not in ${kh}), and strict host key checking is on`), re(`ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ${kh}`));
        execSync(/ssh-keyscan .*$/.exec(e.fix)![0], { stdio: ["ignore", "ignore", "ignore"] });
        preflight(args);
    });

    it("a changed host key: says so, and how to replace it after checking", () => {
        const kh = path.join(sshd.dir, "known_hosts.other");
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(sshd.dir, "impostor")]);
        fs.writeFileSync(kh, `[127.0.0.1]:${sshd.port} ${fs.readFileSync(path.join(sshd.dir, "impostor.pub"), "utf8").split(" ").slice(0, 2).join(" ")}\n`);
        expectFailure({ host: url, ssh: { identityFile: sshd.key, knownHostsFile: kh } }, "ssh.knownHostsFile",
            /is not the one recorded in .*known_hosts\.other: the VM was rebuilt, or something sits in between/, re(`ssh-keygen -R '[127.0.0.1]:${sshd.port}' -f ${kh}`));
    });

    it("a key the VM does not authorize: names the key and the ssh-copy-id line", () => {
        const other = path.join(sshd.dir, "not_authorized");
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
        expectFailure({ host: url, ssh: { identityFile: other, knownHostsFile: sshd.knownHosts } }, "ssh.identityFile",
            re(`${sshd.user}@127.0.0.1:${sshd.port} refused the login: no key offered (${other}) is authorized for ${sshd.user}`),
            re(`ssh-copy-id -i ${other}.pub -p ${sshd.port} ${sshd.user}@127.0.0.1`));
    });

    it("the wrong port: connection refused, naming ssh.port", async () => {
        const closed = await freePort();
        expectFailure({ host: `ssh://${sshd.user}@127.0.0.1`, ssh: { port: closed, identityFile: sshd.key, knownHostsFile: sshd.knownHosts } }, "ssh.port",
            re(`nothing accepts SSH connections on 127.0.0.1:${closed} (connection refused)`), /check the port/);
    });

    it("a login user outside the docker group: the usermod line", () => {
        expectFailure({ host: `ssh://${SSH_OUTSIDER}@127.0.0.1:${sshd.port}`, ssh: { identityFile: sshd.key, knownHostsFile: sshd.knownHosts } }, "host",
            re(`${SSH_OUTSIDER} logged in but may not use the Docker engine on 127.0.0.1 (not in the docker group)`), re(`sudo usermod -aG docker ${SSH_OUTSIDER}`));
    });

    describe("in DockerHost's constructor on a real run (not under mocks)", () => {
        // What the language host sets for `pulumi up`: a monitor address. Nothing is dialled until
        // the first registration, which the failed preflight never reaches.
        before(() => pulumi.runtime.resetOptions("slipway", "preflight", -1, "", "127.0.0.1:1", false, ""));
        after(() => pulumi.runtime.resetOptions("slipway", "preflight", -1, "", "", false, ""));

        it("throws the translated error before super(), so nothing registers", () => {
            const kh = path.join(sshd.dir, "known_hosts.none");
            fs.writeFileSync(kh, "");
            let err: unknown;
            try {
                new DockerHost("vm", { environment: "dev", host: url, ssh: { identityFile: sshd.key, knownHostsFile: kh } });
            } catch (e) { err = e; }
            assert.ok(err instanceof SlipwayConfigError && err.propertyPath === "ssh.knownHostsFile", String(err));
            assert.match(err.message, /^DockerHost "vm": ssh\.knownHostsFile: the host key of 127\.0\.0\.1:\d+ is unknown/);
        });
    });
});
