// A real OpenSSH server (Debian's openssh-server) in front of the local engine, as a VM prepared
// the way README's "Remote engine over SSH" says: Docker installed, a login user in the `docker`
// group, key login only. Each call starts its own sshd on a free loopback port with keys it makes.
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "./harness";

/** The VM's login user: not `deploy`, so a machine's own deploy user is never touched. */
export const SSH_USER = "slipway-deploy";
/** A login user the VM's preparation forgot to put in the docker group (preflight test). */
export const SSH_OUTSIDER = "slipway-nodocker";

export interface Sshd {
    port: number;
    dir: string;
    user: string;
    /** The client's private key (authorized for {@link SSH_USER}). */
    key: string;
    /** known_hosts holding this sshd's host key, as `ssh-keyscan` after a fingerprint check writes it. */
    knownHosts: string;
    /** An ssh_config whose `Host <alias>` carries HostName, Port, User, IdentityFile and UserKnownHostsFile. */
    configFile: string;
    alias: string;
    /** sshd's own log so far (`-e`: to stderr, LogLevel VERBOSE). */
    log(): string;
    /** Logins of {@link SSH_USER} that ran a command so far (each engine connection is one). */
    sessions(): number;
    stop(): Promise<void>;
}

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** The login user, in the docker group, with no password (`*`: sshd without PAM refuses a locked `!` account). */
function ensureUser(user: string, docker: boolean): void {
    try {
        sh("id", [user]);
    } catch {
        sh("useradd", ["--create-home", "--shell", "/bin/sh", ...(docker ? ["--groups", "docker"] : []), "--password", "*", user]);
    }
    const inDocker = sh("id", ["-nG", user]).split(/\s+/).includes("docker");
    if (docker && !inDocker) sh("usermod", ["-aG", "docker", user]);
    if (!docker && inDocker) sh("gpasswd", ["-d", user, "docker"]);
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
    });
}

function accepts(port: number): Promise<boolean> {
    return new Promise(resolve => {
        const c = net.connect({ host: "127.0.0.1", port });
        c.once("connect", () => { c.destroy(); resolve(true); });
        c.once("error", () => resolve(false));
    });
}

/** `outsider`: also let {@link SSH_OUTSIDER} log in with the same key. */
export async function startSshd(opts: { outsider?: boolean } = {}): Promise<Sshd> {
    execFileSync("bash", [path.join(REPO_ROOT, "scripts/ensure-sshd.sh")], { stdio: ["ignore", "inherit", "inherit"] });
    ensureUser(SSH_USER, true);
    if (opts.outsider) ensureUser(SSH_OUTSIDER, false);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-sshd-"));
    // sshd reads authorized_keys as the login user: the directory must be searchable by it.
    fs.chmodSync(dir, 0o755);
    const f = (n: string) => path.join(dir, n);
    sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "slipway-test-host", "-f", f("host_ed25519")]);
    sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "slipway-test-client", "-f", f("client_ed25519")]);
    fs.copyFileSync(f("client_ed25519.pub"), f("authorized_keys"));
    fs.chmodSync(f("authorized_keys"), 0o644);
    const port = await freePort();
    fs.writeFileSync(f("sshd_config"), [
        "ListenAddress 127.0.0.1", `Port ${port}`, `HostKey ${f("host_ed25519")}`, `AuthorizedKeysFile ${f("authorized_keys")}`,
        `PidFile ${f("sshd.pid")}`, `AllowUsers ${SSH_USER}${opts.outsider ? ` ${SSH_OUTSIDER}` : ""}`,
        "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
        // The keys live under /tmp (world-writable), which StrictModes would refuse as their parent.
        "StrictModes no", "LogLevel VERBOSE",
        // Each engine connection is one session (as with the provider); parallel container steps open several at once.
        "MaxStartups 100:30:200", "",
    ].join("\n"));
    // What `ssh-keyscan -p <port> 127.0.0.1` records, taken from the key file instead of the network.
    fs.writeFileSync(f("known_hosts"), `[127.0.0.1]:${port} ${fs.readFileSync(f("host_ed25519.pub"), "utf8").split(" ").slice(0, 2).join(" ")}\n`);
    const alias = `slipway-vm-${port}`;
    fs.writeFileSync(f("ssh_config"), [
        `Host ${alias}`, "  HostName 127.0.0.1", `  Port ${port}`, `  User ${SSH_USER}`, `  IdentityFile ${f("client_ed25519")}`,
        "  IdentitiesOnly yes", `  UserKnownHostsFile ${f("known_hosts")}`, "",
    ].join("\n"));
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // sshd's privilege separation directory

    let log = "";
    const child: ChildProcess = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", f("sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr!.on("data", d => { log += d; });
    const exited = new Promise<void>(resolve => child.once("exit", () => resolve()));
    const t0 = Date.now();
    while (!(await accepts(port))) {
        if (child.exitCode !== null || Date.now() - t0 > 15_000) {
            child.kill();
            throw new Error(`sshd did not listen on 127.0.0.1:${port} within 15 s (exit ${child.exitCode}):\n${log}`);
        }
        await new Promise(r => setTimeout(r, 100));
    }
    return {
        port, dir, user: SSH_USER, key: f("client_ed25519"), knownHosts: f("known_hosts"), configFile: f("ssh_config"), alias,
        log: () => log,
        sessions: () => log.split("\n").filter(l => l.includes(`Starting session: command for ${SSH_USER} from 127.0.0.1`)).length,
        stop: async () => {
            if (child.exitCode === null) {
                child.kill("SIGTERM");
                await Promise.race([exited, new Promise(r => setTimeout(r, 5000))]);
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
