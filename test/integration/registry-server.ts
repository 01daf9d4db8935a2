// A real private registry for tests: Debian's docker-registry (the CNCF distribution registry) on
// 127.0.0.1, filesystem storage in a temp dir, htpasswd (bcrypt) auth. Docker treats 127.0.0.0/8
// registries as insecure, so the daemon talks plain HTTP to it and sends basic auth (checked by hand
// on dockerd 20.10: a wrong password answers "unauthorized: authentication required").
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { Engine, EngineError, REPO_ROOT, xRegistryAuth } from "./harness";

export interface RegistryServer {
    /** `127.0.0.1:<port>`, the host part of image references. */
    host: string;
    /** Push a local image as `<host>/<repository>:<tag>`, then drop that tag locally so a deploy must pull. */
    push(localImage: string, repository: string, tag: string): Promise<string>;
    /** What the registry wrote to stdout/stderr so far. */
    log(): string;
    stop(): Promise<void>;
}

async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.listen(0, "127.0.0.1", () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
        s.on("error", reject);
    });
}

async function waitListening(port: number, ms: number): Promise<void> {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
        const ok = await new Promise<boolean>(resolve => {
            const c = net.connect(port, "127.0.0.1", () => { c.destroy(); resolve(true); });
            c.on("error", () => resolve(false));
        });
        if (ok) return;
        await new Promise(r => setTimeout(r, 100));
    }
    throw new Error(`the registry did not listen on 127.0.0.1:${port} within ${ms} ms`);
}

/** X-Registry-Auth as the Engine API takes it: base64url JSON. */
export function registryAuthHeader(username: string, password: string, server: string): string {
    return xRegistryAuth({ username, password, serveraddress: server });
}

/** Install (scripts/ensure-registry.sh) and start a registry whose one account is `username`/`password`. */
export async function startRegistry(username: string, password: string, engine = new Engine()): Promise<RegistryServer> {
    execFileSync("bash", ["scripts/ensure-registry.sh"], { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "inherit"], timeout: 10 * 60_000 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-registry-"));
    const htpasswd = execFileSync("htpasswd", ["-Bbn", username, password], { encoding: "utf8" });
    fs.writeFileSync(path.join(dir, "htpasswd"), htpasswd, { mode: 0o600 });
    const port = await freePort();
    fs.writeFileSync(path.join(dir, "config.yml"), [
        "version: 0.1",
        "log: { level: info }",
        `storage: { filesystem: { rootdirectory: ${JSON.stringify(path.join(dir, "data"))} } }`,
        `http: { addr: "127.0.0.1:${port}", secret: "slipway-test-only" }`,
        `auth: { htpasswd: { realm: slipway-test, path: ${JSON.stringify(path.join(dir, "htpasswd"))} } }`,
        "",
    ].join("\n"));
    let output = "";
    const child: ChildProcess = spawn("docker-registry", ["serve", path.join(dir, "config.yml")], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", d => (output += d));
    child.stderr!.on("data", d => (output += d));
    const host = `127.0.0.1:${port}`;
    const pushed: string[] = [];
    try {
        await waitListening(port, 15_000);
    } catch (e) {
        child.kill();
        throw new Error(`${(e as Error).message}\n${output}`);
    }
    return {
        host,
        log: () => output,
        async push(localImage, repository, tag) {
            const repo = `${host}/${repository}`;
            await engine.request("POST", `/images/${encodeURIComponent(localImage)}/tag?repo=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`);
            pushed.push(`${repo}:${tag}`);
            const r = await engine.request("POST", `/images/${encodeURIComponent(repo)}/push?tag=${encodeURIComponent(tag)}`, {
                headers: { "X-Registry-Auth": registryAuthHeader(username, password, host) }, timeoutMs: 300_000,
            });
            const failed = r.body.split("\n").map(l => { try { return JSON.parse(l) as { error?: string }; } catch { return {}; } }).find(m => m.error);
            if (failed) throw new Error(`push of ${repo}:${tag} failed: ${failed.error}`);
            await engine.request("DELETE", `/images/${encodeURIComponent(`${repo}:${tag}`)}`, { ok: [404] });
            return `${repo}:${tag}`;
        },
        async stop() {
            // Tags a deploy pulled again: remove them (the layers stay, shared with the local image).
            for (const ref of pushed) {
                try { await engine.request("DELETE", `/images/${encodeURIComponent(ref)}`, { ok: [404, 409] }); } catch (e) { if (!(e instanceof EngineError)) throw e; }
            }
            if (child.exitCode === null) {
                const exited = new Promise(r => child.once("exit", r));
                child.kill("SIGTERM");
                await Promise.race([exited, new Promise(r => setTimeout(r, 5000))]);
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
