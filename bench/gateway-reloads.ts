// Requests lost to gateway reloads: a client that never retries (GETs and POSTs, keep-alive, at
// concurrency 8) runs while the gateway's Caddy reloads a changed config `reloads` times through
// its admin socket, as the Gateway's config loader does. Every failed request counts.
import { CaddyConfig } from "../components/gateway/caddy-config";
import { noRetryLoad } from "../test/integration/no-retry-load";
import { CaddyProc, reloadCaddy } from "./caddy-procs";

export interface ReloadResult { reloads: number; concurrency: number; sent: number; failed: number; perReload: number[]; examples: string[] }

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** A changed config for reload `i`: one rate-limit figure differs, as a user's change of a limit would. */
function changed(cfg: CaddyConfig, i: number): CaddyConfig {
    const c: CaddyConfig = JSON.parse(JSON.stringify(cfg));
    const rl = JSON.stringify(c).includes('"rate_limit"');
    if (!rl) throw new Error("the reload bench changes a rate limit, and this config has none");
    const visit = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(visit);
        else if (v && typeof v === "object") {
            const o = v as Record<string, unknown>;
            if (o.handler === "rate_limit") for (const z of Object.values(o.rate_limits as Record<string, { max_events: number }>)) z.max_events += i % 2 ? 1 : 0;
            else Object.values(o).forEach(visit);
        }
    };
    visit(c);
    // Also a different revision even when i is even: Caddy skips a reload of an identical config.
    (c.apps.http.servers.edge as { idle_timeout?: string }).idle_timeout = `${120 + i}s`;
    return c;
}

export async function reloadResets(bin: string, gw: CaddyProc, cfg: CaddyConfig, o: { reloads: number; concurrency: number }): Promise<ReloadResult> {
    let done = false;
    let sentAt: number[] = [];
    const load = noRetryLoad({
        port: gw.port, concurrency: o.concurrency, stop: () => done, maxRequests: 2_000_000, maxMs: 10 * 60_000,
        requests: [{ method: "GET", path: "/health" }, { method: "POST", path: "/v1/items", body: '{"name":"bench"}' }],
    });
    const t0 = Date.now();
    try {
        await sleep(500);
        for (let i = 1; i <= o.reloads; i++) {
            sentAt.push(Date.now() - t0);
            await reloadCaddy(bin, gw, changed(cfg, i), i);
            await sleep(700);
        }
        await sleep(1500);
    } finally {
        done = true;
    }
    const r = await load;
    sentAt = [...sentAt, Infinity];
    const perReload = Array.from({ length: o.reloads }, (_, i) => r.failures.filter(f => f.at >= sentAt[i]! && f.at < sentAt[i + 1]!).length);
    return {
        reloads: o.reloads, concurrency: o.concurrency, sent: r.sent, failed: r.failures.length, perReload,
        examples: r.failures.slice(0, 3).map(f => `${f.method} ${f.path}: ${f.status ?? f.error}`),
    };
}
