// Small helpers the real-engine tests share: JSON over HTTP to 127.0.0.1 and a bounded poll.
import * as http from "http";

/**
 * One request to 127.0.0.1 without keep-alive: `body` is sent as JSON, `form` as
 * x-www-form-urlencoded. The reply's body is parsed as JSON when it is JSON, else kept as text.
 */
export function httpJson(port: number, method: string, path: string, o: { body?: unknown; form?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ status: number; json: any }> {
    const data = o.form ? Buffer.from(new URLSearchParams(o.form).toString()) : o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    const type = o.form ? "application/x-www-form-urlencoded" : "application/json";
    return new Promise((resolve, reject) => {
        const req = http.request({
            host: "127.0.0.1", port, path, method, timeout: o.timeoutMs ?? 5000, agent: false,
            headers: data ? { "content-type": type, "content-length": data.length } : {},
        }, res => {
            let text = "";
            res.on("data", c => (text += c));
            res.on("end", () => {
                let json: unknown;
                try { json = text ? JSON.parse(text) : undefined; } catch { json = text; }
                resolve({ status: res.statusCode ?? 0, json });
            });
        });
        req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
        req.on("error", reject);
        req.end(data);
    });
}

/** GET `path` and return its JSON body; anything else (not JSON) is an error naming the reply. */
export async function getJson(port: number, path: string): Promise<any> {
    const r = await httpJson(port, "GET", path);
    if (typeof r.json !== "object" || r.json === null) throw new Error(`${path}: ${r.status} ${String(r.json).slice(0, 200)}`);
    return r.json;
}

/** Poll `probe` until it returns a value, at most `ms`; the error names what was awaited and the last failure. */
export async function eventually<T>(what: string, ms: number, probe: () => Promise<T | undefined>, everyMs = 1000): Promise<{ value: T; ms: number }> {
    const t0 = Date.now();
    let last: unknown;
    while (Date.now() - t0 < ms) {
        try {
            const v = await probe();
            if (v !== undefined) return { value: v, ms: Date.now() - t0 };
        } catch (e) {
            last = e;
        }
        await new Promise(r => setTimeout(r, everyMs));
    }
    throw new Error(`${what}: not within ${ms} ms${last ? ` (last error: ${(last as Error).message})` : ""}`);
}
