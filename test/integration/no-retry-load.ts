// A client that never retries: Node's keep-alive agent, GETs and POSTs, every request sent once.
// A reset, a closed connection or a non-2xx answer is a failure, whatever the method: a POST that
// the gateway dropped on a connection it was closing is a lost write no client may replay.
import * as http from "http";

/** `body` may depend on the request's sequence number (e.g. a unique name per POST). */
export interface NoRetryRequest { method: "GET" | "POST"; path: string; body?: string | ((seq: number) => string) }

export interface NoRetryFailure { at: number; method: string; path: string; status?: number; error?: string; reusedSocket?: boolean }

export interface NoRetryResult {
    sent: number;
    ok: number;
    /** 2xx answers by method. */
    okBy: Record<string, number>;
    failures: NoRetryFailure[];
    durationMs: number;
}

function once(port: number, agent: http.Agent, r: NoRetryRequest, seq: number, timeoutMs: number): Promise<{ status: number; reusedSocket: boolean }> {
    const body = typeof r.body === "function" ? r.body(seq) : r.body;
    return new Promise((resolve, reject) => {
        const headers: Record<string, string | number> = body === undefined ? {} : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) };
        const req = http.request({ host: "127.0.0.1", port, method: r.method, path: r.path, headers, agent, timeout: timeoutMs }, res => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode!, reusedSocket: req.reusedSocket }));
            res.on("error", e => reject(Object.assign(e, { reusedSocket: req.reusedSocket })));
        });
        req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
        req.on("error", e => reject(Object.assign(e, { reusedSocket: req.reusedSocket })));
        req.end(body);
    });
}

/**
 * `concurrency` workers, each sending the next of `requests` (cycled) as soon as its previous
 * answer is read, over one keep-alive agent of that many sockets. Bounded: it stops at
 * `maxRequests`, at `maxMs`, or once `stop()` is true (checked before each request).
 */
export async function noRetryLoad(o: {
    port: number; concurrency: number; requests: NoRetryRequest[]; stop: () => boolean;
    maxRequests: number; maxMs: number; timeoutMs?: number; gapMs?: number;
}): Promise<NoRetryResult> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
    const t0 = Date.now();
    const r: NoRetryResult = { sent: 0, ok: 0, okBy: {}, failures: [], durationMs: 0 };
    const more = () => r.sent < o.maxRequests && Date.now() - t0 < o.maxMs && !o.stop();
    const worker = async () => {
        while (more()) {
            const seq = r.sent++;
            const q = o.requests[seq % o.requests.length]!;
            try {
                const res = await once(o.port, agent, q, seq, o.timeoutMs ?? 15_000);
                if (res.status >= 200 && res.status < 300) { r.ok++; r.okBy[q.method] = (r.okBy[q.method] ?? 0) + 1; }
                else r.failures.push({ at: Date.now() - t0, method: q.method, path: q.path, status: res.status, reusedSocket: res.reusedSocket });
            } catch (e) {
                const err = e as Error & { reusedSocket?: boolean };
                r.failures.push({ at: Date.now() - t0, method: q.method, path: q.path, error: err.message, reusedSocket: err.reusedSocket });
            }
            if (o.gapMs) await new Promise(res => setTimeout(res, o.gapMs));
        }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    agent.destroy();
    r.durationMs = Date.now() - t0;
    return r;
}
