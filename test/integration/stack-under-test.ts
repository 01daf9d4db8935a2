import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import YAML from "yaml";
import { RecordedStack, recordStack } from "../../cli/synth";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import { RecordedResource, isSecretValue, redact } from "../../components/testing/recorder";
import { ApplyResult, DockerHarness, REPO_ROOT, SlipwayImages, TYPES, engineOfRecording, readImagesEnv } from "./harness";

/**
 * The dev stack (Pulumi.dev.yaml + index.ts), recorded under mocks and deployed on the real engine
 * by the generic harness. Shared by the dev-stack.*.test.ts files and bench/docker-stack.ts.
 *
 * Nothing here describes the topology: every network, volume and container comes from the
 * recording. The only changes to the stack file are test figures (see {@link TestFigures}), and
 * {@link recordDevStack} checks that they leave the set of resources and their wiring unchanged.
 */

export const ROOT = REPO_ROOT;
export const STACK = "dev";

/**
 * Logical names of the dev stack's fixed containers (they come from the components; asserted to
 * exist). The API's replicas are named by release (`api-<release>-<i>`): see {@link apiReplicas}.
 */
export const C = {
    gateway: "gateway-caddy",
    db: "db-server",
    backup: "db-backup",
    prometheus: "observability-prometheus",
    cache: "cache-server",
    cacheExporter: "cache-exporter",
} as const;

const labelsOf = (r: RecordedResource): Record<string, string> =>
    Object.fromEntries(((r.inputs.labels ?? []) as { label: string; value: string }[]).map(l => [l.label, l.value]));

/** Logical names of the containers of one component instance in a recording, by their labels. */
export function containersOf(rs: RecordedResource[], component: string, name: string): RecordedResource[] {
    return rs.filter(r => r.type === TYPES.container && labelsOf(r)["slipway.component"] === component && labelsOf(r)["slipway.name"] === name);
}

/** The API's replicas in a recording, ordered by replica number. */
export function apiReplicas(rs: RecordedResource[], service = "api"): RecordedResource[] {
    return containersOf(rs, "ApiService", service).filter(r => labelsOf(r)["slipway.replica"] !== undefined).sort((a, b) => Number(labelsOf(a)["slipway.replica"]) - Number(labelsOf(b)["slipway.replica"]));
}

/** The full Caddy config the Gateway loads (the JSON upload that carries the HTTP apps). */
export function gatewayConfig(rs: RecordedResource[]): any {
    for (const c of containersOf(rs, "Gateway", "gateway")) {
        for (const u of (redact(c.inputs.uploads, true) ?? []) as { file: string; content: string }[]) {
            if (!u.file.endsWith(".json")) continue;
            const cfg = JSON.parse(u.content);
            if (cfg.apps?.http?.servers?.edge) return cfg;
        }
    }
    throw new Error("no container of the gateway carries a Caddy config with the edge server");
}

/**
 * Figures a test may change for speed; nothing structural. Rate-limit zones keep their names and
 * routes; only events/window/burst change.
 */
export interface TestFigures {
    publishPort: number;
    rateLimits: Record<string, { events: number; window: string; burst?: number }>;
    backup: { intervalMinutes: number; keep: number };
    /** Replaces services.api.image (a new tag, as a release would). */
    apiImage?: string;
    /**
     * Where the stack deploys: slipway:docker's `host`, `ssh` and `registries` (the ssh:// test).
     * The harness then talks to the engine the recorded provider names, as the provider would.
     */
    engine?: { host: string; ssh?: Record<string, unknown>; registries?: { host: string; username: string; token: string }[] };
    /** The other images by registry reference (a remote engine refuses the stack's `slipway/*:local` ones). */
    images?: { database: string; gateway: string; prometheus: string; cache: string };
}

/**
 * The test zone for `writes`: 5 per 5 s with a burst of 8, which the gateway compiles to Caddy's
 * sliding window of 8 events per 8 s (see components/gateway/caddy-config.ts caddyRateLimit). The
 * `general` zone is lifted so steady load and rollout tests are not throttled.
 */
export const TEST_RATE_LIMITS = {
    writes: { events: 5, window: "5s", burst: 8 },
    general: { events: 1_000_000, window: "1m" },
};
/** 5 minutes is the component's minimum interval; tests wake the schedule instead of waiting (see the data test). */
export const TEST_BACKUP = { intervalMinutes: 5, keep: 2 };

export function devStackFile(): Record<string, any> {
    return YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${STACK}.yaml`), "utf8")).config;
}

/** Config overrides for {@link recordStack}: the file's own blocks with test figures substituted. */
export function overridesFor(f: TestFigures): Record<string, unknown> {
    const cfg = devStackFile();
    const gw = cfg["slipway:gateway"];
    const zones = Object.keys(gw.rateLimits ?? {}).sort();
    if (zones.join() !== Object.keys(f.rateLimits).sort().join()) {
        throw new Error(`test rate-limit zones ${Object.keys(f.rateLimits)} differ from the stack's ${zones}: figures only, never structure`);
    }
    const out: Record<string, unknown> = {
        "slipway:gateway": { ...gw, publishPort: f.publishPort, rateLimits: f.rateLimits },
        "slipway:database": { ...cfg["slipway:database"], backup: f.backup },
    };
    if (f.engine) out["slipway:docker"] = { ...cfg["slipway:docker"], ...f.engine };
    if (f.images) {
        (out["slipway:database"] as Record<string, unknown>).image = f.images.database;
        (out["slipway:gateway"] as Record<string, unknown>).image = f.images.gateway;
        const obs = cfg["slipway:observability"];
        out["slipway:observability"] = { ...obs, prometheus: { ...obs.prometheus, image: f.images.prometheus } };
        out["slipway:cache"] = { ...cfg["slipway:cache"], image: f.images.cache, metrics: { image: f.images.cache } };
    }
    if (f.apiImage) {
        const services = cfg["slipway:services"];
        out["slipway:services"] = { ...services, api: { ...services.api, image: f.apiImage } };
    }
    return out;
}

/** Type, name, parent and dependencies of every resource: what an override must never change. */
export function shape(rs: RecordedResource[]): string[] {
    // Revision-scoped names (API replicas by release, the gateway's config loader by config hash)
    // change with figures on purpose; the shape is everything else.
    const rev = (n: string) => n.replace(/-[0-9a-f]{8,10}(?=-\d+$|$)/, "-<rev>");
    const byUrn = new Map(rs.map(r => [r.urn, `${r.type}::${rev(r.name)}`]));
    return rs.map(r => `${r.type}::${rev(r.name)} <- ${byUrn.get(r.parent ?? "") ?? "-"} deps[${r.options.dependsOn.map(d => byUrn.get(d) ?? d).sort()}]`).sort();
}

/** Record the dev stack with test figures, refusing any override that changed its shape. */
export async function recordDevStack(f: TestFigures): Promise<RecordedStack> {
    const plain = await recordStack({ dir: ROOT, stack: STACK });
    const rec = await recordStack({ dir: ROOT, stack: STACK, overrides: overridesFor(f) });
    const a = shape(plain.resources), b = shape(rec.resources);
    if (a.join("\n") !== b.join("\n")) {
        throw new Error(`test overrides changed the stack's shape:\n- ${a.filter(x => !b.includes(x)).join("\n- ")}\n+ ${b.filter(x => !a.includes(x)).join("\n+ ")}`);
    }
    for (const name of Object.values(C)) one(rec.resources, TYPES.container, name);
    if (apiReplicas(rec.resources).length !== 2) throw new Error(`expected 2 API replicas, found ${apiReplicas(rec.resources).map(r => r.name)}`);
    return rec;
}

export function one(rs: RecordedResource[], type: string, name: string): RecordedResource {
    const found = rs.filter(r => r.type === type && r.name === name);
    if (found.length !== 1) throw new Error(`expected one ${type} "${name}", found ${found.length}: ${rs.filter(r => r.type === type).map(r => r.name)}`);
    return found[0]!;
}

/** A container's recorded upload (secrets revealed), by path. */
export function uploadOf(r: RecordedResource, file: string): string {
    const ups = redact(r.inputs.uploads, true) as { file: string; content: string }[];
    const u = ups?.find(x => x.file === file);
    if (!u) throw new Error(`${r.name} has no upload ${file}`);
    return u.content;
}

/** The value the mocks' provider computed for a generated secret (RandomPassword `result`). */
export function generatedSecret(rs: RecordedResource[], name: string): string {
    const r = one(rs, "random:index/randomPassword:RandomPassword", name);
    return String(fakeProviderOutputs({ type: r.type, name: r.name, inputs: r.inputs, custom: true } as never)!.result);
}

// ---- real parts: engine and images -------------------------------------------------------

function runScript(args: string[]): string {
    try {
        return execFileSync("bash", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 20 * 60_000, maxBuffer: 64 << 20 });
    } catch (e) {
        const x = e as { stdout?: string; stderr?: string; message: string };
        throw new Error(`${args.join(" ")} failed: ${x.message}\n--- stdout\n${x.stdout ?? ""}\n--- stderr\n${x.stderr ?? ""}`);
    }
}

/** dockerd up (started when none answers) and every image the dev stack names, built or cached. */
export function ensureEngineAndImages(): SlipwayImages {
    runScript(["scripts/ensure-dockerd.sh"]);
    runScript(["scripts/build-images.sh", "postgres", "caddy", "prometheus", "api", "valkey"]);
    const env = readImagesEnv();
    for (const k of ["SLIPWAY_IMAGE_POSTGRES", "SLIPWAY_IMAGE_CADDY", "SLIPWAY_IMAGE_PROMETHEUS", "SLIPWAY_IMAGE_API", "SLIPWAY_IMAGE_VALKEY"] as const) {
        if (!env[k]) throw new Error(`build-images.sh wrote no ${k} to images.env`);
    }
    return env;
}

/** Stack refs `slipway/<name>:local` -> the content-hash tags this run built. */
export function imageMapFor(env: SlipwayImages): Record<string, string> {
    return {
        "slipway/postgres:local": env.SLIPWAY_IMAGE_POSTGRES!,
        "slipway/caddy:local": env.SLIPWAY_IMAGE_CADDY!,
        "slipway/prometheus:local": env.SLIPWAY_IMAGE_PROMETHEUS!,
        "slipway/example-api:local": env.SLIPWAY_IMAGE_API!,
        "slipway/valkey:local": env.SLIPWAY_IMAGE_VALKEY!,
    };
}

/**
 * A release of the API: the same binary as a different image (one extra label), so its id differs
 * as a real new build's would and the replacement provably runs it. Built once per API hash.
 */
export function releaseImage(env: SlipwayImages): string {
    const tag = `slipway/example-api:release-${env.SLIPWAY_IMAGE_API!.split(":")[1]}`;
    try {
        execFileSync("docker", ["image", "inspect", tag], { stdio: "ignore" });
    } catch {
        execFileSync("docker", ["build", "-q", "-t", tag, "-"], {
            input: `FROM ${env.SLIPWAY_IMAGE_API}\nLABEL slipway.release=test-rollout\n`, env: { ...process.env, DOCKER_BUILDKIT: "0" }, stdio: ["pipe", "ignore", "pipe"],
        });
    }
    return tag;
}

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
    });
}

// ---- the deployment ------------------------------------------------------------------------

export interface DeployedStack {
    h: DockerHarness;
    images: SlipwayImages;
    figures: TestFigures;
    /** The recording deployed last (follows {@link DeployedStack.up}). */
    recorded: RecordedStack;
    resources: RecordedResource[];
    port: number;
    /** From the first engine call to every healthcheck healthy (no healthcheck: running). */
    timeToHealthyMs: number;
    /** Per logical container, ms from the start until healthy. */
    healthyAt: Record<string, number>;
    /** Current engine name of a logical container (follows replacements). */
    name(logical: string): string;
    recordedContainer(logical: string): RecordedResource;
    /** Engine names of the API replicas deployed now. */
    apiNames(): string[];
    /** `pulumi up` of a new recording; on success it becomes the deployed one. */
    up(next: RecordedStack): Promise<ApplyResult>;
}

/** Record, apply and wait until everything is healthy, within `budgetMs` from the first engine call. */
export async function deployDevStack(opts: { runId?: string; budgetMs?: number; figures?: Partial<TestFigures> } = {}): Promise<DeployedStack> {
    const images = ensureEngineAndImages();
    const figures: TestFigures = {
        publishPort: await freePort(), rateLimits: TEST_RATE_LIMITS, backup: TEST_BACKUP, ...opts.figures,
    };
    const recorded = await recordDevStack(figures);
    const runId = opts.runId ?? randomBytes(4).toString("hex");
    // Fixed names (network, volumes) get the run id, so a developer's own dev stack is never touched.
    const h = new DockerHarness({ runId, imageMap: imageMapFor(images), nameSuffix: `-t${runId}`, engine: engineOfRecording(recorded.resources) });
    const t0 = Date.now();
    const applied = await h.apply(recorded.resources);
    const left = (opts.budgetMs ?? 60_000) - (Date.now() - t0);
    // One-shot jobs (a migration) have exited by now; the create already waited for them.
    await h.waitHealthy(applied.containers.filter(c => c.exitCode === undefined).map(c => c.name), Math.max(left, 1));
    const timeToHealthyMs = Date.now() - t0;
    // When each got there, from the engine's own record: the first passing probe, or the start.
    const healthyAt: Record<string, number> = {};
    for (const c of applied.containers) {
        const st = (await h.inspect(c.name)).State;
        const pass = st.Health?.Log?.find((l: { ExitCode: number }) => l.ExitCode === 0);
        healthyAt[c.logical] = Date.parse(pass ? pass.End : st.StartedAt) - t0;
    }
    const s: DeployedStack = {
        h, images, figures, recorded, resources: recorded.resources, port: figures.publishPort, timeToHealthyMs, healthyAt,
        name: (logical: string) => {
            const n = h.containers.get(logical);
            if (!n) throw new Error(`no container for ${logical} (have ${[...h.containers.keys()]})`);
            return n;
        },
        recordedContainer: (logical: string) => one(s.resources, TYPES.container, logical),
        apiNames: () => apiReplicas(s.resources).map(r => s.name(r.name)),
        up: async (next: RecordedStack) => {
            const r = await h.up(next.resources);
            s.recorded = next;
            s.resources = next.resources;
            return r;
        },
    };
    return s;
}

let shared: Promise<DeployedStack> | undefined;
let torndown = false;

/** One deployment for all dev-stack test files (deployed on first use, removed after the run). */
export function sharedStack(): Promise<DeployedStack> {
    if (torndown) throw new Error("the shared dev stack was already removed");
    shared ??= deployDevStack();
    return shared;
}

/** Remove everything of the shared run; safe to call twice. Returns what was removed. */
export async function teardownShared(): Promise<{ containers: number; networks: number; volumes: number } | undefined> {
    if (!shared || torndown) return undefined;
    torndown = true;
    const s = await shared.catch(() => undefined);
    return s?.h.cleanup();
}

// Root-level hook: runs after every file, also when tests failed. The harness's exit hook is the
// last resort (killed mid-run: `cleanupRun(runId)` or the docker CLI by label).
if (typeof after === "function") {
    after(async function () {
        this.timeout(180_000);
        await teardownShared();
    });
}

// ---- HTTP on 127.0.0.1 ---------------------------------------------------------------------

export interface Reply {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: Buffer;
    text: string;
    json?: any;
    ms: number;
}

/** When a request last touched the `writes` zone's paths, so the rate-limit test can start clean. */
export const zoneClock = { lastItems: 0 };

/**
 * One HTTP request to 127.0.0.1. With `expectContinue` the body waits for `100 Continue`, as curl
 * does for large bodies: a server that refuses the request (413) answers before any of it is sent,
 * instead of resetting a connection the client is still writing to.
 */
export function request(port: number, method: string, p: string, opts: { headers?: Record<string, string | number>; body?: Buffer | string | object; timeoutMs?: number; agent?: http.Agent; expectContinue?: boolean } = {}): Promise<Reply> {
    const body = opts.body === undefined ? undefined
        : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body));
    const headers: Record<string, string | number> = { ...opts.headers };
    if (body) {
        headers["Content-Length"] = body.length;
        headers["Content-Type"] ??= "application/json";
    }
    if (p.startsWith("/v1/items")) zoneClock.lastItems = Date.now();
    const t0 = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, method, path: p, headers, agent: opts.agent ?? false, timeout: opts.timeoutMs ?? 10_000 }, res => {
            const chunks: Buffer[] = [];
            res.on("data", c => chunks.push(c));
            res.on("error", reject);
            res.on("end", () => {
                const b = Buffer.concat(chunks);
                const text = b.toString("utf8");
                let json: any;
                try { json = JSON.parse(text); } catch { /* not JSON */ }
                resolve({ status: res.statusCode!, headers: res.headers, body: b, text, json, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
            });
        });
        req.on("timeout", () => req.destroy(new Error(`${method} ${p} timed out`)));
        req.on("error", e => reject(Object.assign(e, { reusedSocket: req.reusedSocket })));
        if (body && opts.expectContinue) {
            req.setHeader("Expect", "100-continue");
            req.on("continue", () => req.end(body));
            req.flushHeaders();
        } else {
            if (body) req.write(body);
            req.end();
        }
    });
}

export const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Poll until `check` returns true, at most `timeoutMs`; returns the elapsed ms or throws with `what`. */
export async function eventually(what: string, timeoutMs: number, check: () => Promise<boolean>, everyMs = 250): Promise<number> {
    const t0 = Date.now();
    let last: unknown;
    for (let i = 0; i < 100_000; i++) {
        try { if (await check()) return Date.now() - t0; } catch (e) { last = e; }
        if (Date.now() - t0 > timeoutMs) break;
        await sleep(everyMs);
    }
    throw new Error(`not ${what} within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ""}`);
}

// ---- bounded load ---------------------------------------------------------------------------

export interface LoadResult {
    sent: number;
    ok: number;
    /**
     * GETs retried once because the server closed an idle keep-alive connection as the request
     * went out (a server shutting down its old config does that). The request never reached the
     * application; RFC 9112 9.3.1 lets a client retry it, and Go's, curl's and browsers' clients do.
     */
    retried: number;
    /** With what the reply said (its start) and the gateway's request id, so a failure names its source. */
    failures: { at: number; path: string; status?: number; body?: string; requestId?: string; error?: string }[];
    latenciesMs: number[];
    durationMs: number;
    p50: number;
    p99: number;
    max: number;
}

export function percentile(xs: number[], q: number): number {
    if (!xs.length) return NaN;
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

/**
 * Steady, paced load from Node's http client with keep-alive. Bounded three ways: it stops at
 * `maxRequests`, at `maxMs`, or once `minRequests` are done and `until` (if any) has settled.
 * A failure is any non-2xx status or transport error.
 */
export async function runLoad(o: {
    port: number; paths: string[]; concurrency: number; ratePerSec: number;
    minRequests: number; maxRequests: number; maxMs: number; until?: Promise<unknown>;
    /** Sees every reply (e.g. to count a header's values). */
    onReply?: (path: string, reply: Reply) => void;
}): Promise<LoadResult> {
    let untilDone = !o.until;
    o.until?.then(() => { untilDone = true; }, () => { untilDone = true; });
    const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
    const t0 = Date.now();
    const r: LoadResult = { sent: 0, ok: 0, retried: 0, failures: [], latenciesMs: [], durationMs: 0, p50: 0, p99: 0, max: 0 };
    const gap = 1000 / o.ratePerSec;
    const more = () => r.sent < o.maxRequests && Date.now() - t0 < o.maxMs && !(r.sent >= o.minRequests && untilDone);
    const worker = async () => {
        while (more()) {
            const i = r.sent++;
            // Pace by schedule, not by sleeping a fixed time: a slow reply does not lower the rate.
            const due = t0 + i * gap;
            if (due > Date.now()) await sleep(due - Date.now());
            const p = o.paths[i % o.paths.length]!;
            try {
                const res = await request(o.port, "GET", p, { agent, timeoutMs: 15_000 }).catch(e => {
                    if (!(e.reusedSocket && /socket hang up|ECONNRESET/.test(e.message))) throw e;
                    r.retried++;
                    return request(o.port, "GET", p, { timeoutMs: 15_000 }); // a fresh connection
                });
                r.latenciesMs.push(res.ms);
                o.onReply?.(p, res);
                if (res.status >= 200 && res.status < 300) r.ok++;
                else r.failures.push({ at: Date.now() - t0, path: p, status: res.status, body: res.text.slice(0, 160), requestId: String(res.headers["x-request-id"] ?? "") });
            } catch (e) {
                r.failures.push({ at: Date.now() - t0, path: p, error: (e as Error).message });
            }
        }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    agent.destroy();
    r.durationMs = Date.now() - t0;
    r.p50 = percentile(r.latenciesMs, 0.5);
    r.p99 = percentile(r.latenciesMs, 0.99);
    r.max = Math.max(...r.latenciesMs);
    return r;
}

/** The stack as a release with a new API image tag would record it (the plan a `pulumi up` computes first). */
export function recordRelease(s: DeployedStack, newImage: string): Promise<RecordedStack> {
    return recordStack({ dir: ROOT, stack: STACK, overrides: overridesFor({ ...s.figures, apiImage: newImage }) });
}

/** The stack with other test figures (e.g. a gateway rate limit), recorded as `pulumi up` would. */
export function recordFigures(s: DeployedStack, figures: Partial<TestFigures>): Promise<RecordedStack> {
    return recordStack({ dir: ROOT, stack: STACK, overrides: overridesFor({ ...s.figures, ...figures }) });
}

/** The load of the rollout tests and the bench: 8 clients, 200 req/s, through the gateway's "/" route to the API and Postgres. */
export const LOAD = { paths: ["/health", "/ready"], concurrency: 8, ratePerSec: 200 };

/** Run `change` under steady load through the gateway; both settle before it returns. */
export async function underLoad<T>(s: DeployedStack, change: () => Promise<T>, o: { minRequests?: number; maxMs?: number } = {}): Promise<{ load: LoadResult; result?: T; error?: unknown }> {
    let result: T | undefined, error: unknown;
    const running = change().then(r => { result = r; }, e => { error = e; });
    const load = await runLoad({
        port: s.port, ...LOAD,
        minRequests: o.minRequests ?? 2000, maxRequests: 40_000, maxMs: o.maxMs ?? 180_000, until: running,
    });
    await running;
    return { load, result, error };
}

/** Every log line of every container of the run. */
export async function allLogs(s: DeployedStack): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [logical, name] of s.h.containers) out[logical] = await s.h.logs(name, 100_000);
    return out;
}

export { isSecretValue };
