import * as http from "http";

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
    constructor(readonly socketPath: string = socketPathFromEnv()) {}

    request(method: string, path: string, opts: RequestOptions = {}): Promise<{ status: number; body: string; bytes: Buffer; headers: http.IncomingHttpHeaders }> {
        const full = `/${API_VERSION}${path}`;
        const payload = opts.raw ?? (opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body)));
        const headers: Record<string, string | number> = { ...opts.headers };
        if (payload) {
            headers["Content-Type"] = opts.raw ? "application/x-tar" : "application/json";
            headers["Content-Length"] = payload.length;
        }
        return new Promise((resolve, reject) => {
            const req = http.request({ socketPath: this.socketPath, path: full, method, headers }, res => {
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
