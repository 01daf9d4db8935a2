import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import type { CaddyConfig, CaddyRoute } from "../../components/gateway/caddy-config";

const ROOT = path.join(__dirname, "..", "..");

/** Build (or find cached) Caddy with the rate-limit module and Slipway's handlers (docker/caddy/*). A failed build FAILS the suite, with the script's output. */
export function caddyBinary(): string {
    const r = spawnSync("bash", [path.join(ROOT, "scripts", "build-caddy.sh")], { encoding: "utf8", timeout: 15 * 60_000 });
    if (r.status !== 0) {
        throw new Error(`scripts/build-caddy.sh failed (status ${r.status}, ${r.error ?? "no spawn error"}):\n${r.stdout}\n${r.stderr}`);
    }
    const bin = r.stdout.trim().split("\n").at(-1)!;
    assert.ok(path.isAbsolute(bin) && fs.existsSync(bin), `build-caddy.sh printed ${JSON.stringify(bin)}, not a binary path`);
    return bin;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
    });
}

/**
 * Every handler of the edge server's routes (slipway_edge first, then, with domains, the host
 * check, then the edge's chain), any subroute flattened.
 */
export function edgeHandlers(config: any): any[] {
    const flat = (routes: any[]): any[] => routes.flatMap(r => r.handle).flatMap((h: any) => (h.handler === "subroute" ? [h, ...flat(h.routes)] : [h]));
    return flat(config.apps.http.servers.edge.routes);
}

export interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string }

/** One GET to 127.0.0.1:`port`, 5 s at most: on a fresh connection, or on `agent`'s keep-alive ones. */
export function loopbackGet(port: number, p: string, headers: Record<string, string> = {}, agent: http.Agent | false = false): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, path: p, headers, agent, timeout: 5000 }, res => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", c => { body += c; });
            res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        });
        req.on("timeout", () => req.destroy(new Error(`timeout on ${p}`)));
        req.on("error", reject);
        req.end();
    });
}

/** Where a test's Caddy keeps its state, and what the test reads from it. */
export interface RunCaddyOptions {
    /** XDG_CONFIG_HOME and XDG_DATA_HOME (autosave, certificates). */
    configDir: string;
    dataDir: string;
    /** Serves /healthz on 127.0.0.1:healthPort once the config is loaded. */
    healthPort: number;
    /** Caddy's stdout (where slipway_edge's access log goes with `output: stdout`). Ignored without. */
    onStdout?: (chunk: string) => void;
    /** Caddy's runtime log; its last 4,000 characters go into the error if Caddy does not start. */
    onStderr?: (chunk: string) => void;
    timeoutMs?: number;
}

/**
 * `caddy run` on a config file, resolved once the health listener answers /healthz (bounded);
 * rejects, with Caddy's last log lines, if Caddy exits or does not answer in time.
 */
export async function runCaddy(bin: string, cfgFile: string, o: RunCaddyOptions): Promise<ChildProcess> {
    const caddy = spawn(bin, ["run", "--config", cfgFile], {
        stdio: ["ignore", o.onStdout ? "pipe" : "ignore", "pipe"],
        env: { ...process.env, XDG_CONFIG_HOME: o.configDir, XDG_DATA_HOME: o.dataDir },
    });
    let tail = "";
    caddy.stderr!.on("data", d => { tail = (tail + d).slice(-4000); o.onStderr?.(String(d)); });
    if (o.onStdout) caddy.stdout!.on("data", d => o.onStdout!(String(d)));
    const timeoutMs = o.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        try { if ((await loopbackGet(o.healthPort, "/healthz")).status === 200) return caddy; } catch { /* not up yet */ }
        if (caddy.exitCode !== null || Date.now() > deadline) {
            await killCaddy(caddy);
            throw new Error(`Caddy did not start within ${timeoutMs} ms:\n${tail}`);
        }
        await new Promise(r => setTimeout(r, 100));
    }
}

/** SIGKILL a Caddy this test started, and wait for it to exit. */
export async function killCaddy(caddy: ChildProcess | undefined): Promise<void> {
    if (!caddy || caddy.exitCode !== null || caddy.signalCode !== null) return;
    const exited = new Promise(r => caddy.once("exit", r));
    caddy.kill("SIGKILL");
    await exited;
}

/**
 * The edge's handling chain (metrics guard, CORS, rate limits, encode, the services, the 404): the
 * edge server's own routes after slipway_edge and, with domains, the two host routes.
 */
export function chainRoutes(c: CaddyConfig): CaddyRoute[] {
    const [first, ...rest] = c.apps.http.servers.edge!.routes;
    assert.equal(first?.handle[0]?.handler, "slipway_edge", "the edge server starts with slipway_edge");
    const hostOnly = (r: CaddyRoute) => !!r.match?.some(m => m.host || m.not?.some(n => n.host));
    const start = rest.findIndex(r => !hostOnly(r));
    assert.ok(start <= 2 && rest.slice(0, start).every(hostOnly), "at most the two host routes before the chain");
    return rest.slice(start);
}
