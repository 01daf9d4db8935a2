import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { Duplex } from "stream";

/**
 * A minimal Docker Engine API client over the unix socket. The CLI would hide fields (uploads with
 * owner and mode, network aliases at create time, exact healthcheck durations); the API takes the
 * engine's own JSON, so what the harness sends is exactly what the provider would.
 */
export class EngineError extends Error {
    constructor(readonly method: string, readonly path: string, readonly status: number, readonly body: string) {
        super(`Docker engine: ${method} ${path} -> ${status}: ${body.trim().slice(0, 500)}`);
    }
}

/** API 1.41 = Docker 20.10 (Debian bookworm's docker.io); newer engines still serve it. */
export const API_VERSION = "v1.41";

export function socketPathFromEnv(env: NodeJS.ProcessEnv = process.env): string {
    const host = env.DOCKER_HOST;
    if (!host) return "/var/run/docker.sock";
    if (host.startsWith("unix://")) return host.slice("unix://".length);
    throw new Error(`the harness talks to a local engine over a unix socket; DOCKER_HOST=${host} is not one`);
}

/**
 * An `ssh://` engine as the provider reaches it: the Docker CLI's connection helper
 * (docker/cli cli/connhelper/connhelper.go, which the provider's config.go calls with its
 * `ssh_opts`) runs, per connection, `ssh <sshOpts> [-o ConnectTimeout=30] -T [-l user] [-p port]
 * -- <host> docker system dial-stdio` and speaks HTTP over the child's stdin/stdout.
 */
export interface SshEngine {
    /** `ssh://[user@]host[:port]` as the provider's `host` input. */
    host: string;
    /** The provider's `sshOpts` input. */
    sshOpts: readonly string[];
}

/** The connection helper's ssh argv for `engine` (ssh.NewSpec's checks, then Spec.Args), written from its source, not from DockerHost's. */
export function dialStdioArgv(engine: SshEngine): string[] {
    const u = new URL(engine.host);
    if (u.password || u.pathname || u.search || u.hash) throw new Error(`harness: ${engine.host}: the connection helper takes ssh://[user@]host[:port] only`);
    const flags = [...engine.sshOpts];
    if (!flags.join("").includes("ConnectTimeout")) flags.push("-o", "ConnectTimeout=30");
    if (!flags.includes("-T")) flags.push("-T");
    return [...flags, ...(u.username ? ["-l", decodeURIComponent(u.username)] : []), ...(u.port ? ["-p", u.port] : []), "--", u.hostname, "docker", "system", "dial-stdio"];
}

/** One engine connection: a Duplex over `ssh ... docker system dial-stdio`'s stdin and stdout. */
class CommandConn extends Duplex {
    private stderr = "";
    private got = 0;

    constructor(argv: string[]) {
        super();
        const child = spawn("ssh", argv, { stdio: ["pipe", "pipe", "pipe"] });
        child.stderr.on("data", d => { this.stderr += d; });
        child.stdout.on("data", d => { this.got += d.length; if (!this.push(d)) child.stdout.pause(); });
        child.stdout.on("end", () => this.push(null));
        child.on("error", e => this.destroy(e));
        // ssh failing before any byte came back (host key, refused key): say what ssh said.
        child.on("exit", code => { if (code && !this.got) this.destroy(new Error(`ssh ${argv.join(" ")} exited ${code}: ${this.stderr.trim()}`)); });
        child.stdin.on("error", () => { /* the remote end went away; the exit reports it */ });
        this.child = child;
    }

    private readonly child: ReturnType<typeof spawn>;

    override _read(): void { this.child.stdout!.resume(); }
    override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void { this.child.stdin!.write(chunk, cb); }
    override _final(cb: (e?: Error | null) => void): void { this.child.stdin!.end(cb); }
    override _destroy(e: Error | null, cb: (e?: Error | null) => void): void {
        clearTimeout(this.timer);
        if (this.child.exitCode === null) this.child.kill();
        cb(e);
    }
    private timer?: NodeJS.Timeout;

    /** Like net.Socket's: 'timeout' after `ms` without a byte from the engine (http.ClientRequest's timeout uses it). */
    setTimeout(ms: number, cb?: () => void): this {
        if (cb) this.once("timeout", cb);
        clearTimeout(this.timer);
        if (ms > 0) {
            const arm = () => { clearTimeout(this.timer); this.timer = setTimeout(() => this.emit("timeout"), ms); };
            arm();
            this.on("data", arm);
            this.once("close", () => clearTimeout(this.timer));
        }
        return this;
    }

    // The rest of what http.ClientRequest asks of a socket; a pipe has no such knobs.
    setNoDelay(): this { return this; }
    setKeepAlive(): this { return this; }
    ref(): this { return this; }
    unref(): this { return this; }
}

export interface RequestOptions {
    body?: unknown;
    /** Raw body (a tar archive) instead of JSON. */
    raw?: Buffer;
    /** Status codes that are not errors (e.g. 304 for "already started", 404 when probing). */
    ok?: number[];
    timeoutMs?: number;
    /** Extra request headers (e.g. X-Registry-Auth for a pull). */
    headers?: Record<string, string>;
}

export class Engine {
    readonly socketPath?: string;
    readonly ssh?: SshEngine;
    /** Connections opened so far (over ssh: one ssh session each). */
    connections = 0;
    private wrapperDir?: string;

    /** The local socket (a path), or an `ssh://` engine reached like the provider reaches it. */
    constructor(where: string | SshEngine = socketPathFromEnv()) {
        if (typeof where === "string") this.socketPath = where;
        else this.ssh = where;
        // Made now, not in an exit hook (where cliEnv is also used) that could not remove it.
        if (this.ssh) this.cliEnv();
    }

    /** The engine a docker provider with these inputs talks to: `unix://` or `ssh://` (with its `sshOpts`). */
    static forProvider(host: string, sshOpts: readonly string[] = []): Engine {
        if (host.startsWith("unix://")) return new Engine(host.slice("unix://".length));
        if (host.startsWith("ssh://")) return new Engine({ host, sshOpts });
        throw new Error(`harness: engine ${host}: only unix:// and ssh:// are modelled`);
    }

    /**
     * Environment for the docker CLI to reach the same engine. Over ssh the CLI runs plain `ssh`
     * from PATH (connhelper) and takes no flags, so PATH starts with a wrapper that adds `sshOpts`.
     */
    cliEnv(): NodeJS.ProcessEnv {
        if (!this.ssh) return this.socketPath ? { ...process.env, DOCKER_HOST: `unix://${this.socketPath}` } : process.env;
        if (!this.wrapperDir) {
            this.wrapperDir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-ssh-cli-"));
            const quoted = this.ssh.sshOpts.map(o => `'${o.replace(/'/g, `'\\''`)}'`).join(" ");
            fs.writeFileSync(path.join(this.wrapperDir, "ssh"), `#!/bin/sh\nexec /usr/bin/ssh ${quoted} "$@"\n`, { mode: 0o755 });
            process.once("exit", () => fs.rmSync(this.wrapperDir!, { recursive: true, force: true }));
        }
        return { ...process.env, DOCKER_HOST: this.ssh.host, PATH: `${this.wrapperDir}:${process.env.PATH ?? "/usr/bin:/bin"}` };
    }

    private connection(): { socketPath: string } | { createConnection: () => Duplex } {
        this.connections++;
        if (this.socketPath) return { socketPath: this.socketPath };
        const argv = dialStdioArgv(this.ssh!);
        return { createConnection: () => new CommandConn(argv) };
    }

    request(method: string, path: string, opts: RequestOptions = {}): Promise<{ status: number; body: string; bytes: Buffer; headers: http.IncomingHttpHeaders }> {
        const full = `/${API_VERSION}${path}`;
        const payload = opts.raw ?? (opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body)));
        const headers: Record<string, string | number> = { ...opts.headers };
        if (payload) {
            headers["Content-Type"] = opts.raw ? "application/x-tar" : "application/json";
            headers["Content-Length"] = payload.length;
        }
        return new Promise((resolve, reject) => {
            const req = http.request({ ...this.connection(), path: full, method, headers }, res => {
                const chunks: Buffer[] = [];
                res.on("data", c => chunks.push(c));
                res.on("end", () => {
                    const bytes = Buffer.concat(chunks);
                    const body = bytes.toString("utf8");
                    const status = res.statusCode ?? 0;
                    if ((status >= 200 && status < 300) || opts.ok?.includes(status)) resolve({ status, body, bytes, headers: res.headers });
                    else reject(new EngineError(method, full, status, body));
                });
                res.on("error", reject);
            });
            req.setTimeout(opts.timeoutMs ?? 120_000, () => req.destroy(new Error(`Docker engine: ${method} ${full} timed out`)));
            req.on("error", reject);
            if (payload) req.write(payload);
            req.end();
        });
    }

    async json<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
        const r = await this.request(method, path, opts);
        return (r.body ? JSON.parse(r.body) : undefined) as T;
    }

    /** Run a command in a running container; returns its exit code and combined output. */
    async exec(id: string, cmd: string[], user?: string): Promise<{ exitCode: number; output: string }> {
        const ex = await this.json<{ Id: string }>("POST", `/containers/${encodeURIComponent(id)}/exec`, {
            body: { Cmd: cmd, AttachStdout: true, AttachStderr: true, ...(user ? { User: user } : {}) },
        });
        const r = await this.request("POST", `/exec/${ex.Id}/start`, { body: { Detach: false, Tty: false } });
        const info = await this.json<{ ExitCode: number | null; Running: boolean }>("GET", `/exec/${ex.Id}/json`);
        return { exitCode: info.ExitCode ?? -1, output: demux(r.bytes) };
    }

    /** Name, size and mode of a path in a container (the engine's X-Docker-Container-Path-Stat; no owner). */
    async stat(id: string, path: string): Promise<{ name: string; size: number; mode: number } | undefined> {
        const r = await this.request("HEAD", `/containers/${encodeURIComponent(id)}/archive?path=${encodeURIComponent(path)}`, { ok: [404] });
        if (r.status === 404) return undefined;
        const h = r.headers["x-docker-container-path-stat"];
        return JSON.parse(Buffer.from(String(h), "base64").toString("utf8"));
    }

    /** Container logs as text (the multiplexed stream's 8-byte frame headers stripped). */
    async logs(id: string, tail = 50): Promise<string> {
        const r = await this.request("GET", `/containers/${encodeURIComponent(id)}/logs?stdout=1&stderr=1&tail=${tail}`);
        return demux(r.bytes);
    }
}

/** Strip the 8-byte frame headers of a non-TTY attach/logs stream ([stream,0,0,0,size BE] + payload). */
function demux(buf: Buffer): string {
    if (!(buf.length >= 8 && buf[0]! <= 2 && buf[1] === 0 && buf[2] === 0 && buf[3] === 0)) return buf.toString("utf8");
    const out: Buffer[] = [];
    for (let i = 0; i + 8 <= buf.length;) {
        const n = buf.readUInt32BE(i + 4);
        out.push(buf.subarray(i + 8, i + 8 + n));
        i += 8 + n;
    }
    return Buffer.concat(out).toString("utf8");
}
