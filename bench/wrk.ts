// wrk (Debian package `wrk`, installed by scripts/ensure-wrk.sh) against 127.0.0.1 only: one
// bounded run, its requests per second and its non-2xx count parsed from the report.
import { spawnSync } from "child_process";
import * as path from "path";

export interface WrkRun { rps: number; requests: number; non2xx: number; socketErrors: number; latencyAvg: string }

/** The wrk binary, installed if missing (fails with apt's output rather than skipping). */
export function ensureWrk(): string {
    const r = spawnSync("bash", [path.join(__dirname, "..", "scripts", "ensure-wrk.sh")], { encoding: "utf8", timeout: 10 * 60_000 });
    if (r.status !== 0) throw new Error(`scripts/ensure-wrk.sh failed:\n${r.stdout}\n${r.stderr}`);
    return r.stdout.trim().split("\n").at(-1)!;
}

/** Parse wrk's text report. */
export function parseWrk(out: string): WrkRun {
    const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
    const rps = num(/Requests\/sec:\s+([\d.]+)/);
    const requests = num(/(\d+) requests in/);
    if (!Number.isFinite(rps) || !Number.isFinite(requests)) throw new Error(`unreadable wrk report:\n${out}`);
    const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    return {
        rps, requests,
        non2xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
        socketErrors: errs ? errs.slice(1).reduce((s, x) => s + Number(x), 0) : 0,
        latencyAvg: /Latency\s+(\S+)/.exec(out)?.[1] ?? "?",
    };
}

/** One run of `seconds` at `connections` on one thread, against a loopback URL only; `headers` on every request. */
export function wrk(bin: string, url: string, o: { seconds: number; connections: number; threads?: number; headers?: Record<string, string> }): WrkRun {
    if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`wrk: loopback URLs only, got ${url}`);
    const headers = Object.entries(o.headers ?? {}).flatMap(([k, v]) => {
        if (!/^[A-Za-z0-9-]+$/.test(k) || /[\r\n]/.test(v)) throw new Error(`wrk: header ${JSON.stringify(k)} is not a header line`);
        return ["-H", `${k}: ${v}`];
    });
    const r = spawnSync(bin, ["-t", String(o.threads ?? 1), "-c", String(o.connections), "-d", `${o.seconds}s`, "--timeout", "5s", ...headers, url],
        { encoding: "utf8", timeout: (o.seconds + 30) * 1000 });
    if (r.status !== 0) throw new Error(`wrk failed (${r.status}): ${r.stdout}${r.stderr}`);
    return parseWrk(r.stdout);
}
