// Caddy processes on 127.0.0.1 for the gateway bench: started from a JSON config, stopped by the
// pid this file started, never by name. Every listener is a loopback port; the admin API is a unix
// socket in the run's temp directory.
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { caddyBinary, freePort } from "../test/helpers/caddy";

export { caddyBinary, freePort };

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

export interface CaddyProc {
    name: string;
    port: number;
    dir: string;
    adminSocket: string;
    proc: ChildProcess;
    stop(): Promise<void>;
}

/** Wait until something accepts TCP on 127.0.0.1:port (bounded). */
export async function waitListening(port: number, what: string, timeoutMs = 20_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
        const ok = await new Promise<boolean>(resolve => {
            const s = net.connect(port, "127.0.0.1");
            s.once("connect", () => { s.destroy(); resolve(true); });
            s.once("error", () => resolve(false));
        });
        if (ok) return;
        await sleep(50);
    }
    throw new Error(`${what} never listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/**
 * Start `caddy run` on a config. Its stdout (where the access log goes) is a file in `dir`, as a
 * container's stdout is a file the engine writes: the log's cost is paid, not thrown away.
 */
export async function startCaddy(bin: string, name: string, dir: string, config: object, port: number): Promise<CaddyProc> {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "caddy.json");
    fs.writeFileSync(file, JSON.stringify(config));
    const out = fs.openSync(path.join(dir, "stdout.log"), "w");
    const err = fs.openSync(path.join(dir, "stderr.log"), "w");
    const proc = spawn(bin, ["run", "--config", file], {
        stdio: ["ignore", out, err],
        env: { ...process.env, HOME: dir, XDG_DATA_HOME: path.join(dir, "data"), XDG_CONFIG_HOME: path.join(dir, "config") },
    });
    fs.closeSync(out);
    fs.closeSync(err);
    const exited = new Promise<void>(resolve => proc.once("exit", () => resolve()));
    const stop = async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
        await Promise.race([exited, sleep(15_000).then(() => { proc.kill("SIGKILL"); return exited; })]);
    };
    try {
        await Promise.race([
            waitListening(port, name),
            exited.then(() => { throw new Error(`${name} exited: ${fs.readFileSync(path.join(dir, "stderr.log"), "utf8").slice(-2000)}`); }),
        ]);
    } catch (e) {
        await stop();
        throw e;
    }
    const adminSocket = (config as { admin?: { listen?: string } }).admin?.listen?.replace(/^unix\//, "") ?? "";
    return { name, port, dir, adminSocket, proc, stop };
}

/**
 * `caddy reload` of a new config through the process's admin socket (what the Gateway's config
 * loader runs). Asynchronous, so a load client in this process keeps sending during the reload.
 */
export function reloadCaddy(bin: string, p: CaddyProc, config: object, n: number): Promise<void> {
    const file = path.join(p.dir, `reload-${n}.json`);
    fs.writeFileSync(file, JSON.stringify(config));
    return new Promise((resolve, reject) => {
        execFile(bin, ["reload", "--config", file, "--address", `unix/${p.adminSocket}`], { timeout: 60_000 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`caddy reload of ${p.name} failed: ${err.message}\n${stdout}${stderr}`));
            else resolve();
        });
    });
}
