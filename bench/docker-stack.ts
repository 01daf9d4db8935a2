/**
 * `npm run bench`: figures of the dev stack on this machine's Docker engine, each against a
 * baseline measured in the same run, printed as a table. The integration tests assert
 * correctness (0 failures, equal rows); the timings live here, not in timed assertions.
 *
 *   time to healthy      the dev stack as recorded, from nothing to every healthcheck healthy,
 *                        vs a bare `docker run` of the same images polled every 100 ms
 *   load, steady         the rollout's load with no rollout (the latency baseline)
 *   load, during rollout the same load while `pulumi up` rolls out a new API image (as the
 *                        harness runs it: the engine's and the real provider's semantics)
 *   load, gateway change the same load while `pulumi up` changes a gateway rate limit
 *   gateway vs bare Caddy the Gateway's generated config against bare Caddy, same upstream, with
 *                        wrk, and the requests a non-retrying client loses to 10 reloads
 *                        (bench/gateway.ts; `BENCH=gateway` runs only that, `BENCH=stack` skips it)
 *
 * Everything created carries the harness run label and is removed at the end, also on failure.
 */
import { randomBytes } from "crypto";
import { ablationsFromEnv, benchGateway, gatewayPasses, gatewayTable } from "./gateway";
import { Engine, RUN_LABEL, SlipwayImages, cleanupRun } from "../test/integration/harness";
import {
    DeployedStack, LoadResult, deployDevStack, ensureEngineAndImages, LOAD, recordFigures, recordRelease, releaseImage, runLoad, underLoad,
} from "../test/integration/stack-under-test";

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

interface Bare { image: string; cmd?: string[]; entrypoint?: string[]; env?: string[]; user?: string; probe: string[] }

/** Each image started with nothing but what it needs to run, and the probe that says it answers. */
function bareRuns(img: SlipwayImages): Record<string, Bare> {
    return {
        postgres: { image: img.SLIPWAY_IMAGE_POSTGRES!, env: ["POSTGRES_PASSWORD=bench-only", "POSTGRES_USER=app", "POSTGRES_DB=db"], probe: ["pg_isready", "-h", "127.0.0.1", "-U", "app", "-d", "db"] },
        api: { image: img.SLIPWAY_IMAGE_API!, probe: ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"] },
        caddy: { image: img.SLIPWAY_IMAGE_CADDY!, entrypoint: ["caddy"], cmd: ["run"], probe: ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:2019/config/"] },
        prometheus: { image: img.SLIPWAY_IMAGE_PROMETHEUS!, probe: ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9090/-/ready"] },
    };
}

/** Start every image at once and poll each probe every 100 ms: ms until each answers. */
async function bareDockerRun(engine: Engine, runId: string, img: SlipwayImages): Promise<Record<string, number>> {
    const t0 = Date.now();
    const out: Record<string, number> = {};
    await Promise.all(Object.entries(bareRuns(img)).map(async ([name, b]) => {
        const c = await engine.json<{ Id: string }>("POST", `/containers/create?name=slipway-bench-${name}-${runId}`, {
            body: { Image: b.image, Cmd: b.cmd, Entrypoint: b.entrypoint, Env: b.env, Labels: { [RUN_LABEL]: runId } },
        });
        await engine.request("POST", `/containers/${c.Id}/start`);
        for (let i = 0; i < 600; i++) {
            if ((await engine.exec(c.Id, b.probe)).exitCode === 0) { out[name] = Date.now() - t0; return; }
            await sleep(100);
        }
        throw new Error(`bare ${name} never answered its probe`);
    }));
    return out;
}

const f1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

function table(rows: string[][]): string {
    const w = rows[0]!.map((_, i) => Math.max(...rows.map(r => r[i]!.length)));
    const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(" | ")} |`;
    return [line(rows[0]!), `|${w.map(n => "-".repeat(n + 2)).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}

async function main() {
    const t0 = Date.now();
    const images = ensureEngineAndImages();
    const imagesMs = Date.now() - t0;
    const runId = `bench-${randomBytes(3).toString("hex")}`;
    const engine = new Engine();
    let s: DeployedStack | undefined;
    try {
        const bare = await bareDockerRun(engine, runId, images);
        await cleanupRun(runId, engine);

        s = await deployDevStack({ runId, budgetMs: 120_000 });
        // Warm up (connections, caches, Prometheus' first scrapes), unmeasured, before the baseline.
        await runLoad({ port: s.port, ...LOAD, minRequests: 600, maxRequests: 600, maxMs: 30_000 });
        const steady = await runLoad({ port: s.port, ...LOAD, minRequests: 3000, maxRequests: 3000, maxMs: 60_000 });
        const apiImage = releaseImage(images);
        const release = await recordRelease(s, apiImage);
        const rolled = await underLoad(s, () => s!.up(release));
        if (rolled.error) throw rolled.error;
        const swap = rolled.load, rollout = rolled.result!;
        s.figures = { ...s.figures, apiImage }; // the next recording keeps the released image
        const rolloutMs = Math.max(...rollout.steps.map(x => x.endMs ?? 0));
        const gwNext = await recordFigures(s, { rateLimits: { ...s.figures.rateLimits, writes: { events: 6, window: "5s", burst: 9 } } });
        const changed = await underLoad(s, () => s!.up(gwNext));
        if (changed.error) throw changed.error;
        const gw = changed.load, gwUp = changed.result!;
        const gwMs = Math.max(...gwUp.steps.map(x => x.endMs ?? 0));

        const bareMax = Math.max(...Object.values(bare));
        const loadRow = (what: string, r: LoadResult, base?: LoadResult): string[] => [
            what, `${r.sent} req, c=${LOAD.concurrency}, ${LOAD.ratePerSec}/s`, `${r.failures.length} failed, ${r.retried} retried (closed keep-alive); p50 ${ms(r.p50)}, p99 ${ms(r.p99)}, max ${ms(r.max)}`,
            base ? `p99 ${ms(base.p99)} (steady)` : "-", base ? `p99 ${ratio(r.p99, base.p99)}, p50 ${ratio(r.p50, base.p50)}` : "-",
        ];
        const rows = [
            ["figure", "setup", "measured", "baseline (same run)", "ratio"],
            ["time to healthy", `dev stack as recorded, ${Object.keys(s.healthyAt).length} containers`, f1(s.timeToHealthyMs),
                `${f1(bareMax)} (bare docker run, 100 ms polls); target ${f1(2 * bareMax + 5000)}`, ratio(s.timeToHealthyMs, bareMax)],
            ...Object.entries(s.healthyAt).sort(([, a], [, b]) => a - b).map(([n, t]) => {
                const img = n.startsWith("api") ? "api" : n.startsWith("gateway") ? "caddy" : n.includes("prometheus") ? "prometheus" : "postgres";
                return [`  ${n}`, "", f1(t), f1(bare[img]!), ratio(t, bare[img]!)];
            }),
            loadRow("load, steady", steady),
            loadRow("load, during rollout", swap, steady),
            ["  rollout (pulumi up)", rollout.steps.filter(x => x.op !== "same").map(x => `${x.op} ${x.logical}`).join(", "), f1(rolloutMs), "-", "-"],
            loadRow("load, gateway change", gw, steady),
            ["  gateway change (pulumi up)", gwUp.steps.filter(x => x.op !== "same").map(x => `${x.op} ${x.logical}`).join(", "), f1(gwMs), "-", "-"],
            ["images", "ensure-dockerd + build-images", f1(imagesMs), "-", "-"],
        ];
        console.log(`\nSlipway dev stack on Docker ${(await engine.json("GET", "/version")).Version} (run ${runId})\n`);
        console.log(table(rows));
        console.log(`\nTime to healthy is bounded below by the healthcheck intervals (Docker before 25 probes first one interval ` +
            `after start) and by the chain Postgres -> API -> gateway config, not by the images.`);
        for (const [what, r] of [["rollout", swap], ["gateway change", gw]] as const) {
            if (r.failures.length) console.log(`failures during the ${what}: ${JSON.stringify(r.failures.slice(0, 10))}`);
        }
        process.exitCode = swap.failures.length || steady.failures.length || gw.failures.length ? 1 : 0;
    } finally {
        if (s) await s.h.cleanup().catch(e => console.error(`cleanup: ${e.message}`));
        await cleanupRun(runId, engine).catch(() => undefined);
    }
}

async function all() {
    const which = process.env.BENCH ?? "all";
    let gatewayOk = true;
    if (which === "all" || which === "gateway") {
        const f = await benchGateway({
            rounds: Number(process.env.BENCH_GATEWAY_ROUNDS ?? 8), seconds: Number(process.env.BENCH_GATEWAY_SECONDS ?? 2),
            ablations: ablationsFromEnv(),
        });
        console.log(`\n${gatewayTable(f)}`);
        gatewayOk = gatewayPasses(f);
    }
    if (which === "all" || which === "stack") await main();
    if (!gatewayOk) process.exitCode = 1;
}

all().catch(e => { console.error(e); process.exitCode = 1; });
