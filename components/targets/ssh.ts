import { spawnSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { ErrorContext, invalid, requireInt } from "../core/errors";
import { Shape, shape } from "../core/shape";

/**
 * How DockerHost reaches an `ssh://` engine. The docker provider runs the Docker CLI's connection
 * helper, `ssh <sshOpts> -o ConnectTimeout=30 -T [-l user] [-p port] -- <host> docker system
 * dial-stdio` (docker/cli cli/connhelper; facts sheet, "Remote engine over SSH"), so everything here
 * becomes an ssh flag, and whatever ~/.ssh/config says for the host applies as well.
 */
export interface DockerHostSsh {
    /**
     * SSH port of the VM. The URL's port (`ssh://deploy@vm:2222`) or the `Port` of the host's entry
     * in ~/.ssh/config say the same.
     * @default 22, or what ~/.ssh/config says for the host
     * @example `2222`
     */
    port?: number;
    /**
     * Private key to log in with (only this one is offered). Absolute or `~/...`.
     * @default the keys of ssh-agent and ~/.ssh/config
     * @example `"~/.ssh/deploy_ed25519"`
     */
    identityFile?: string;
    /**
     * known_hosts file holding the VM's host key. Absolute or `~/...`.
     * @default ~/.ssh/known_hosts
     * @example `"~/.ssh/known_hosts.slipway"`
     */
    knownHostsFile?: string;
    /**
     * Refuse a VM whose host key is not in known_hosts. `false` trusts the key on first use
     * (ssh's `accept-new`: a changed key is still refused); production refuses `false`.
     * @default `true`
     */
    strictHostKeyChecking?: boolean;
    /**
     * An ssh_config file read instead of ~/.ssh/config (ssh's `-F`), for its `Host` aliases.
     * Absolute: ssh expands no `~` here.
     * @default ~/.ssh/config
     * @example `"/home/ci/.ssh/config.staging"`
     */
    configFile?: string;
    /**
     * Seconds to wait for the SSH connection before giving up.
     * @default `30` (the Docker CLI's own)
     */
    connectTimeoutSeconds?: number;
    /**
     * Before registering anything, log in once and ask the engine its version, turning a failure
     * (unknown host key, refused key, no Docker, user not in the `docker` group) into an error that
     * says what to do. Skipped under Pulumi mocks.
     * @default `true`
     */
    preflight?: boolean;
}

export const SSH_SHAPE: Shape = shape.object<DockerHostSsh>({
    port: shape.int("SSH port of the VM (the URL's port and ~/.ssh/config's Port say the same)"),
    identityFile: shape.string(undefined, "private key to log in with: absolute or ~/..."),
    knownHostsFile: shape.string(undefined, "known_hosts file with the VM's host key: absolute or ~/..."),
    strictHostKeyChecking: shape.bool("refuse a VM whose host key is not known (default true; production refuses false)"),
    configFile: shape.string(undefined, "ssh_config file read instead of ~/.ssh/config: an absolute path"),
    connectTimeoutSeconds: shape.int("seconds to wait for the SSH connection (default 30)"),
    preflight: shape.bool("log in once before registering anything and explain a failure (default true)"),
}, [], "SSH options of an ssh:// host");

/** The parts of an `ssh://[user@]host[:port]` address. */
export interface SshAddress {
    user?: string;
    host: string;
    port?: number;
}

const USER = /^[a-zA-Z_][a-zA-Z0-9_.-]*$/;
/** A DNS name, an IPv4 address or an ~/.ssh/config alias; never starting with "-" (ssh would read an option). */
const HOSTNAME = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]*$/;

/** Redact the password of a URL before it goes into an error message. */
const withoutPassword = (host: string) => host.replace(/^(ssh:\/\/[^:@/]*):[^@/]*@/, "$1:***@");

/**
 * Parse an `ssh://` address as the Docker CLI does (cli/connhelper/ssh: a password, a query or a
 * fragment is refused; a path names the remote socket on new CLIs and is refused by old ones, so
 * it is refused here too).
 */
export function parseSshHost(ctx: ErrorContext, host: string): SshAddress {
    const shown = JSON.stringify(withoutPassword(host));
    let u: URL;
    try {
        u = new URL(host);
    } catch {
        return invalid(ctx, "host", `${shown} is not an ssh:// address`, `write ssh://user@host, ssh://user@host:2222 or ssh://<alias from ~/.ssh/config>`);
    }
    // "u:@h" too: Go's url.UserPassword reports a password, so the Docker CLI refuses it.
    if (u.password || /^ssh:\/\/[^@/?#]*:[^@/?#]*@/.test(host)) {
        invalid(ctx, "host", `${shown} carries a password; Docker's SSH transport refuses one, and it would end up in the stack's state`,
            `remove it (ssh://${decodeURIComponent(u.username)}@${u.host}) and log in with a key: ssh.identityFile, ssh-agent or ~/.ssh/config`);
    }
    if (u.pathname !== "" || u.search !== "" || u.hash !== "") {
        const extra = `${u.pathname}${u.search}${u.hash}`;
        invalid(ctx, "host", `${shown} has ${JSON.stringify(extra)} after the host; the Docker CLI reads no path, query or fragment there (old versions refuse it, new ones take a path as the remote socket)`,
            `write ssh://${u.username ? `${decodeURIComponent(u.username)}@` : ""}${u.host} and keep the engine on its default socket on the VM`);
    }
    const user = u.username ? decodeURIComponent(u.username) : undefined;
    if (user !== undefined && !USER.test(user)) {
        invalid(ctx, "host", `${JSON.stringify(user)} in ${shown} is not a login name`, "use the VM user's name, e.g. ssh://deploy@vm.example.com");
    }
    if (!HOSTNAME.test(u.hostname)) {
        invalid(ctx, "host", `${JSON.stringify(u.hostname)} in ${shown} is not a host name, IPv4 address or ~/.ssh/config alias`,
            "write ssh://user@vm.example.com, or define a Host alias in ~/.ssh/config and write ssh://<alias>");
    }
    return { user, host: u.hostname, port: u.port ? Number(u.port) : undefined };
}

const isHomeOrAbsolute = (p: string) => p.startsWith("/") || p.startsWith("~/");

function checkPath(ctx: ErrorContext, path: string, value: string | undefined, home = true): void {
    if (value === undefined) return;
    // ssh expands "~" in -i and UserKnownHostsFile but not in -F (OpenSSH 9.2: "Can't open user config file ~/...").
    if (!home && !value.startsWith("/")) {
        invalid(ctx, path, `${JSON.stringify(value)} is not an absolute path, and ssh expands no "~" nor the provider's directory in it`,
            `write it from the root, e.g. "/home/you/.ssh/${path.endsWith("configFile") ? "config.slipway" : value.replace(/^[~.]\//, "")}"`);
    }
    if (!isHomeOrAbsolute(value)) {
        invalid(ctx, path, `${JSON.stringify(value)} is a relative path, and the docker provider runs ssh from a directory of its own`,
            `write it absolute or from your home directory, e.g. "~/.ssh/${value.replace(/^\.\//, "")}"`);
    }
    if (/\s/.test(value)) {
        invalid(ctx, path, `${JSON.stringify(value)} has whitespace, which ssh reads as a list of files`, "move the file to a path without spaces");
    }
}

/** The ssh flags DockerHost gives the provider (`sshOpts`), checked; the address's port wins over `ssh.port` only when both agree. */
export function sshOptions(ctx: ErrorContext, address: SshAddress, ssh: DockerHostSsh, production: boolean): string[] {
    if (ssh.port !== undefined && !(Number.isInteger(ssh.port) && ssh.port >= 1 && ssh.port <= 65535)) {
        invalid(ctx, "ssh.port", `${ssh.port} is not a TCP port`, "use a port from 1 to 65535, e.g. 22");
    }
    if (ssh.port !== undefined && address.port !== undefined && ssh.port !== address.port) {
        invalid(ctx, "ssh.port", `${ssh.port} differs from the port in host (${address.port})`, "give the port once: in host or in ssh.port");
    }
    if (ssh.connectTimeoutSeconds !== undefined) requireInt(ctx, "ssh.connectTimeoutSeconds", ssh.connectTimeoutSeconds, 1, 600);
    checkPath(ctx, "ssh.identityFile", ssh.identityFile);
    checkPath(ctx, "ssh.knownHostsFile", ssh.knownHostsFile);
    checkPath(ctx, "ssh.configFile", ssh.configFile, false);
    if (ssh.strictHostKeyChecking === false && production) {
        invalid(ctx, "ssh.strictHostKeyChecking", "is false in production: the first connection would trust whatever key answers, and hand it root on the engine",
            `remove it, and record the VM's host key once after checking its fingerprint: ssh-keyscan ${address.port ?? ssh.port ? `-p ${address.port ?? ssh.port} ` : ""}${address.host} >> ~/.ssh/known_hosts`);
    }
    return [
        ...(ssh.configFile ? ["-F", ssh.configFile] : []),
        ...(ssh.identityFile ? ["-i", ssh.identityFile, "-o", "IdentitiesOnly=yes"] : []),
        ...(ssh.port !== undefined && address.port === undefined ? ["-p", String(ssh.port)] : []),
        ...(ssh.knownHostsFile ? ["-o", `UserKnownHostsFile=${ssh.knownHostsFile}`] : []),
        "-o", `StrictHostKeyChecking=${ssh.strictHostKeyChecking === false ? "accept-new" : "yes"}`,
        // The provider runs without a terminal: a prompt could never be answered, so fail at once.
        "-o", "BatchMode=yes",
        ...(ssh.connectTimeoutSeconds ? ["-o", `ConnectTimeout=${ssh.connectTimeoutSeconds}`] : []),
    ];
}

/** The connection helper's argv (after `ssh`) for `remote`, as docker/cli cli/connhelper builds it. */
export function sshArgv(address: SshAddress, sshOpts: readonly string[], remote: readonly string[]): string[] {
    const timeout = sshOpts.join("").includes("ConnectTimeout") ? [] : ["-o", "ConnectTimeout=30"];
    return [...sshOpts, ...timeout, "-T", ...(address.user ? ["-l", address.user] : []), ...(address.port ? ["-p", String(address.port)] : []), "--", address.host, ...remote];
}

/**
 * Pulumi mocks (unit tests, synth) and a bare import have no engine to reach: `getMonitor()` is
 * then undefined or the runtime's MockMonitor (runtime/settings.js: monitorAddr "mock" makes it
 * return `settings.monitor`, which `setMocks` sets to a `MockMonitor`, the one monitor with `mocks`).
 */
export function underMocks(): boolean {
    const m = pulumi.runtime.getMonitor() as { mocks?: unknown } | undefined;
    return m === undefined || "mocks" in m;
}

/** What `ssh -G` resolves for the address (its alias, ~/.ssh/config, flags): for fixes that name the real port and user. */
function resolved(address: SshAddress, sshOpts: readonly string[]): { user: string; hostname: string; port: string; knownHosts: string } {
    const args = [...sshOpts, ...(address.user ? ["-l", address.user] : []), ...(address.port ? ["-p", String(address.port)] : []), "-G", "--", address.host];
    const out = spawnSync("ssh", args, { encoding: "utf8", timeout: 10_000 }).stdout ?? "";
    const get = (k: string) => new RegExp(`^${k} (.*)$`, "m").exec(out)?.[1]?.trim();
    return {
        user: get("user") ?? address.user ?? "deploy",
        hostname: get("hostname") ?? address.host,
        port: get("port") ?? String(address.port ?? 22),
        knownHosts: (get("userknownhostsfile") ?? "~/.ssh/known_hosts").split(/\s+/)[0]!,
    };
}

const done = new Set<string>();

/**
 * Log in as the provider will and run `docker version` on the VM; a failure throws the
 * SlipwayConfigError for what ssh or the remote docker CLI said. Once per address and flags.
 */
export function checkSshEngine(ctx: ErrorContext, hostUrl: string, address: SshAddress, sshOpts: readonly string[], ssh: DockerHostSsh): void {
    const key = JSON.stringify([hostUrl, sshOpts]);
    if (done.has(key)) return;
    const limit = (ssh.connectTimeoutSeconds ?? 30) + 30;
    const r = spawnSync("ssh", sshArgv(address, sshOpts, ["docker version --format '{{.Server.Version}}'"]), {
        encoding: "utf8", timeout: limit * 1000, stdio: ["ignore", "pipe", "pipe"],
    });
    if (r.status === 0 && /^\d+\./.test(r.stdout.trim())) {
        done.add(key);
        return;
    }
    const said = `${r.error ? `${r.error.message}\n` : ""}${r.stderr ?? ""}`.trim();
    const f = failure(hostUrl, address, sshOpts, ssh, said, r.error ? (r.error as NodeJS.ErrnoException).code : undefined);
    invalid(ctx, f.path, f.problem, f.fix);
}

interface Failure { path: string; problem: string; fix: string }

/** ssh's or the remote docker CLI's words -> what went wrong and what to do (each case seen against a real sshd; test/integration/ssh-preflight.test.ts). */
export function failure(hostUrl: string, address: SshAddress, sshOpts: readonly string[], ssh: DockerHostSsh, said: string, code?: string): Failure {
    const shown = JSON.stringify(withoutPassword(hostUrl));
    if (code === "ENOENT") return { path: "host", problem: `no ssh client on this machine to reach ${shown}`, fix: "install OpenSSH's client (apt-get install openssh-client)" };
    const r = resolved(address, sshOpts);
    const at = `${r.user}@${r.hostname}:${r.port}`;
    const p = r.port === "22" ? "" : `-p ${r.port} `;
    const last = said.split("\n").map(l => l.trim()).filter(Boolean).slice(-1)[0] ?? "(nothing)";
    const cases: [RegExp, () => Failure][] = [
        [/REMOTE HOST IDENTIFICATION HAS CHANGED/, () => ({
            path: ssh.knownHostsFile ? "ssh.knownHostsFile" : "host",
            problem: `the host key of ${r.hostname}:${r.port} is not the one recorded in ${r.knownHosts}: the VM was rebuilt, or something sits in between`,
            fix: `if the VM was rebuilt, check the new key's fingerprint on its console, then: ssh-keygen -R ${r.port === "22" ? r.hostname : `'[${r.hostname}]:${r.port}'`} -f ${r.knownHosts} && ssh-keyscan ${p}${r.hostname} >> ${r.knownHosts}`,
        })],
        [/Host key verification failed|host key is known for/, () => ({
            path: ssh.knownHostsFile ? "ssh.knownHostsFile" : "host",
            problem: `the host key of ${r.hostname}:${r.port} is unknown (not in ${r.knownHosts}), and strict host key checking is on`,
            fix: `record it once, after checking its fingerprint against the VM's (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub there): ssh-keyscan ${p}${r.hostname} >> ${r.knownHosts}`,
        })],
        [/Permission denied \(/, () => ({
            path: ssh.identityFile ? "ssh.identityFile" : "host",
            problem: `${at} refused the login: no key offered${ssh.identityFile ? ` (${ssh.identityFile})` : ""} is authorized for ${r.user}`,
            fix: `authorize your public key for ${r.user} on the VM (ssh-copy-id -i ${ssh.identityFile ?? "~/.ssh/id_ed25519"}.pub ${p}${r.user}@${r.hostname}), or set ssh.identityFile to a key that is`,
        })],
        [/Connection refused/, () => ({
            path: ssh.port !== undefined ? "ssh.port" : "host",
            problem: `nothing accepts SSH connections on ${r.hostname}:${r.port} (connection refused)`,
            fix: "check the port (in host, ssh.port or ~/.ssh/config's Port) and that sshd runs on the VM",
        })],
        [/Could not resolve hostname|Name or service not known|nodename nor servname/, () => ({
            path: "host",
            problem: `${JSON.stringify(r.hostname)} does not resolve`,
            fix: "check the name, or define it as a Host alias (HostName, User, Port, IdentityFile) in ~/.ssh/config or ssh.configFile",
        })],
        [/timed out|ETIMEDOUT|No route to host|Network is unreachable/, () => ({
            path: ssh.connectTimeoutSeconds !== undefined ? "ssh.connectTimeoutSeconds" : "host",
            problem: `${r.hostname}:${r.port} did not answer (${last})`,
            fix: "check that the VM is up and that its firewall lets this machine reach the SSH port",
        })],
        [/permission denied while trying to connect to the Docker daemon/, () => ({
            path: "host",
            problem: `${r.user} logged in but may not use the Docker engine on ${r.hostname} (not in the docker group)`,
            fix: `on the VM: sudo usermod -aG docker ${r.user}`,
        })],
        [/docker: (command )?not found|command not found/, () => ({
            path: "host",
            problem: `${r.user} logged in to ${r.hostname}, but there is no docker command on its PATH`,
            fix: "install Docker on the VM (Debian/Ubuntu: sudo apt-get install docker.io)",
        })],
        [/Cannot connect to the Docker daemon|Is the docker daemon running/, () => ({
            path: "host",
            problem: `the Docker engine on ${r.hostname} is not running`,
            fix: "start it on the VM: sudo systemctl enable --now docker",
        })],
    ];
    for (const [re, make] of cases) if (re.test(said)) return make();
    return { path: "host", problem: `ssh ${at} could not run docker there: ${last}`, fix: `run ssh ${sshOpts.join(" ")} ${p}${r.user}@${r.hostname} docker version yourself to see why` };
}
