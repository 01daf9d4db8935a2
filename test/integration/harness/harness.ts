import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { RecordedResource, redact } from "../../../components/testing/recorder";
import { Engine, EngineError } from "./engine";
import { tarOf } from "./tar";
import {
    ContainerSpec, LOGICAL_LABEL, Plan, PlanOptions, RUN_LABEL, TYPES, planContainer, planResources,
} from "./translate";

export interface HarnessOptions {
    /** Id put in the `slipway.test-run` label of everything created. @default 8 random hex chars */
    runId?: string;
    /** Stack image reference -> local tag, e.g. `{ "postgres:16-bookworm": env.SLIPWAY_IMAGE_POSTGRES }`. */
    imageMap?: Record<string, string>;
    /** Prefix of autonamed containers/networks/volumes. @default `"slipway-t"` */
    namePrefix?: string;
    /** Added to names the stack fixes, so parallel runs of one stack don't collide. @default `""` */
    nameSuffix?: string;
    /** See {@link PlanOptions.imageOutputs}. */
    imageOutputs?: PlanOptions["imageOutputs"];
    engine?: Engine;
}

export interface CreatedContainer {
    logical: string;
    name: string;
    id: string;
    /** Set when the container was awaited healthy (its `wait` input, or an explicit waitHealthy). */
    healthyMs?: number;
}

export interface ApplyResult {
    plan: Plan;
    networks: string[];
    volumes: string[];
    containers: CreatedContainer[];
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Registered exit hooks per run id, so a crashed or interrupted test still removes its objects. */
const exitHooks = new Map<string, () => void>();

/**
 * Creates on a real Docker engine the networks, volumes and containers a stack program registered
 * (as recorded under mocks), and tears them down by label. Everything it creates carries
 * `slipway.test-run=<runId>`.
 */
export class DockerHarness {
    readonly engine: Engine;
    readonly runId: string;
    readonly options: Required<Pick<HarnessOptions, "namePrefix" | "nameSuffix">> & HarnessOptions;
    /** Logical container name -> current engine name (updated by replaceContainer). */
    readonly containers = new Map<string, string>();
    private readonly generations = new Map<string, number>();
    private readonly specs = new Map<string, ContainerSpec>();
    private lastPlan?: Plan;

    constructor(opts: HarnessOptions = {}) {
        this.engine = opts.engine ?? new Engine();
        this.runId = opts.runId ?? randomBytes(4).toString("hex");
        if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(this.runId)) throw new Error(`harness: runId ${JSON.stringify(this.runId)} must be short lowercase [a-z0-9-]`);
        this.options = { ...opts, namePrefix: opts.namePrefix ?? "slipway-t", nameSuffix: opts.nameSuffix ?? "" };
        if (!exitHooks.has(this.runId)) {
            const hook = () => cleanupRunSync(this.runId);
            exitHooks.set(this.runId, hook);
            process.once("exit", hook);
        }
    }

    get label(): string {
        return `${RUN_LABEL}=${this.runId}`;
    }

    private planOptions(): PlanOptions {
        return {
            runId: this.runId, namePrefix: this.options.namePrefix, nameSuffix: this.options.nameSuffix,
            imageMap: this.options.imageMap, imageOutputs: this.options.imageOutputs,
        };
    }

    /** Translate without touching the engine; throws on any unsupported input. */
    plan(resources: RecordedResource[]): Plan {
        return planResources(resources, this.planOptions());
    }

    async ping(): Promise<void> {
        await this.engine.request("GET", "/_ping", { timeoutMs: 5000 });
    }

    /**
     * Create everything, in the order Pulumi would (networks and volumes, then containers by
     * dependency). With `parallel`, a container starts as soon as its dependencies exist (and, with
     * `wait`, are healthy), as the engine does: unrelated containers come up side by side.
     */
    async apply(resources: RecordedResource[], opts: { parallel?: boolean } = {}): Promise<ApplyResult> {
        const plan = this.plan(resources);
        this.lastPlan = plan;
        await this.ping();
        const missing: string[] = [];
        for (const local of new Set(plan.containers.map(c => c.body.Image as string))) {
            const r = await this.engine.request("GET", `/images/${encodeURIComponent(local)}/json`, { ok: [404] });
            if (r.status === 404) missing.push(local);
        }
        if (missing.length) {
            throw new Error(`harness: no local image ${missing.join(", ")}. Nothing is pulled in tests: build with ` +
                `scripts/build-images.sh and pass imageMap (stack ref -> tag from images.env).`);
        }
        const result: ApplyResult = { plan, networks: [], volumes: [], containers: [] };
        for (const n of plan.networks) {
            await this.engine.json("POST", "/networks/create", { body: n.body });
            result.networks.push(n.name);
        }
        for (const v of plan.volumes) {
            await this.engine.json("POST", "/volumes/create", { body: v.body });
            result.volumes.push(v.name);
        }
        if (!opts.parallel) {
            for (const c of plan.containers) result.containers.push(await this.createContainer(c));
            return result;
        }
        // plan.containers is topologically sorted, so every dependency's promise exists already.
        const done = new Map<string, Promise<CreatedContainer>>();
        for (const c of plan.containers) {
            done.set(c.urn, Promise.all(c.dependsOn.map(d => done.get(d)!)).then(() => this.createContainer(c)));
        }
        // Settle all before reporting, so a failure never leaves creations running behind cleanup.
        const settled = await Promise.allSettled(plan.containers.map(c => done.get(c.urn)!));
        const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
        if (failed) throw failed.reason;
        result.containers.push(...settled.map(s => (s as PromiseFulfilledResult<CreatedContainer>).value));
        return result;
    }

    /** Create, upload files, connect networks, start, and (with `wait`) await healthy. */
    private async createContainer(c: ContainerSpec): Promise<CreatedContainer> {
        const created = await this.engine.json<{ Id: string }>("POST", `/containers/create?name=${encodeURIComponent(c.name)}`, { body: c.body });
        this.containers.set(c.logical, c.name);
        this.specs.set(c.name, c);
        if (c.uploads.length) {
            // The provider's way: one archive extracted at "/", parents created by the engine.
            const tar = tarOf(c.uploads.map(u => ({ path: u.file, content: u.content, mode: u.mode, uid: u.uid, gid: u.gid })));
            try {
                await this.engine.request("PUT", `/containers/${created.Id}/archive?path=${encodeURIComponent("/")}`, { raw: tar });
            } catch (e) {
                await this.engine.request("DELETE", `/containers/${created.Id}?v=1&force=1`, { ok: [404] });
                this.containers.delete(c.logical);
                this.specs.delete(c.name);
                if (e instanceof EngineError && /read-only/.test(e.body)) {
                    throw new Error(`harness: ${c.logical}: the engine refuses uploads (${c.uploads.map(u => u.file).join(", ")}) into a container ` +
                        `with readOnly: true. The docker provider extracts uploads at "/", which Docker allows only on a writable root ` +
                        `filesystem, so this stack cannot deploy as recorded. (${e.body.trim()})`);
                }
                throw e;
            }
        }
        for (const n of c.extraNetworks) {
            await this.engine.request("POST", `/networks/${encodeURIComponent(n.name)}/connect`, {
                body: { Container: created.Id, EndpointConfig: { Aliases: n.aliases } },
            });
        }
        const out: CreatedContainer = { logical: c.logical, name: c.name, id: created.Id };
        if (!c.start) return out;
        await this.engine.request("POST", `/containers/${created.Id}/start`, { ok: [304] });
        if (c.wait) {
            const t = await this.waitHealthy([c.name], c.waitTimeoutMs);
            out.healthyMs = t[c.name];
        } else if (c.mustRun) {
            const s = await this.inspect(c.name);
            if (!s.State.Running) throw new Error(`harness: ${c.name} is not running after start:\n${await this.engine.logs(c.name, 40)}`);
        }
        return out;
    }

    /**
     * Wait until every container is healthy (or, without a healthcheck, running). Returns the
     * elapsed ms at which each one got there. Fails early, with the logs, if one exits or turns
     * unhealthy.
     */
    async waitHealthy(names: string[], timeoutMs: number): Promise<Record<string, number>> {
        const start = Date.now();
        const done: Record<string, number> = {};
        const deadline = start + timeoutMs;
        for (let round = 0; round < 100_000 && Object.keys(done).length < names.length; round++) {
            for (const n of names.filter(x => !(x in done))) {
                const s = (await this.inspect(n)).State;
                const health = s.Health?.Status;
                if (health === "healthy" || (!s.Health && s.Running)) done[n] = Date.now() - start;
                else if (health === "unhealthy" || (!s.Running && !s.Restarting)) {
                    const last = s.Health?.Log?.slice(-1)[0];
                    throw new Error(`harness: ${n} is ${health ?? s.Status} (exit ${s.ExitCode})` +
                        `${last ? `; last check: ${JSON.stringify(last.Output).slice(0, 300)}` : ""}\n${await this.engine.logs(n, 40)}`);
                }
            }
            if (Object.keys(done).length === names.length) break;
            if (Date.now() > deadline) {
                const late = names.filter(x => !(x in done));
                const detail = await Promise.all(late.map(async n => `${n}: ${(await this.inspect(n)).State.Health?.Status ?? "no health"}\n${await this.engine.logs(n, 20)}`));
                throw new Error(`harness: not healthy within ${timeoutMs} ms: ${late.join(", ")}\n${detail.join("\n")}`);
            }
            await sleep(200);
        }
        return done;
    }

    /**
     * Replace a container as Pulumi does. By default create-before-delete (an autonamed
     * container): the new one (new autoname) is created and awaited healthy while the old one still
     * serves, then the old one is destroyed the provider's way (stopped with `destroyGraceSeconds`
     * when > 0, then force-removed). With the `deleteBeforeReplace` resource option recorded (e.g.
     * a database on a volume only one server may open), the old one is destroyed first.
     *
     * `opts.resources` is the whole new recording the replacement comes from: image references are
     * then resolved from it (a new image tag is a new RemoteImage `name`), not from the first apply.
     */
    async replaceContainer(oldName: string, recorded: RecordedResource, timeoutMs = 120_000,
        opts: { resources?: RecordedResource[] } = {}): Promise<{ name: string; healthyMs: number; totalMs: number }> {
        const t0 = Date.now();
        const old = await this.inspect(oldName);
        if (old.Config.Labels?.[RUN_LABEL] !== this.runId) throw new Error(`harness: ${oldName} does not belong to run ${this.runId}`);
        const gen = (this.generations.get(recorded.name) ?? 0) + 1;
        this.generations.set(recorded.name, gen);
        if (!this.lastPlan) throw new Error("harness: replaceContainer needs a prior apply() (for network, volume and image names)");
        const names = opts.resources ? this.plan(opts.resources).names : this.lastPlan.names;
        const spec = planContainer(recorded, redact(recorded.inputs, true) as Record<string, any>, this.planOptions(), names, gen);
        const destroyOld = async () => {
            // As the provider destroys: a graceful stop only when destroyGraceSeconds > 0, then force-remove.
            const grace = this.specs.get(oldName)?.destroyGraceSeconds ?? 0;
            if (grace > 0) await this.engine.request("POST", `/containers/${old.Id}/stop?t=${grace}`, { ok: [304], timeoutMs: (grace + 30) * 1000 });
            await this.engine.request("DELETE", `/containers/${old.Id}?v=1&force=1`);
            this.specs.delete(oldName);
        };
        if (recorded.options.deleteBeforeReplace) {
            await destroyOld();
            const created = await this.createContainer({ ...spec, wait: false });
            const healthy = await this.waitHealthy([created.name], timeoutMs);
            return { name: created.name, healthyMs: healthy[created.name]!, totalMs: Date.now() - t0 };
        }
        if (spec.name === oldName) throw new Error(`harness: ${recorded.name} has a fixed name; create-before-delete needs an autonamed container`);
        const created = await this.createContainer({ ...spec, wait: false });
        const healthy = await this.waitHealthy([created.name], timeoutMs);
        await destroyOld();
        return { name: created.name, healthyMs: healthy[created.name]!, totalMs: Date.now() - t0 };
    }

    async inspect(name: string): Promise<any> {
        return this.engine.json("GET", `/containers/${encodeURIComponent(name)}/json`);
    }

    /** Run a command in a running container (for probes a test cannot make from the host). */
    async exec(name: string, cmd: string[], user?: string): Promise<{ exitCode: number; output: string }> {
        return this.engine.exec(name, cmd, user);
    }

    async logs(name: string, tail = 100): Promise<string> {
        return this.engine.logs(name, tail);
    }

    /** The 127.0.0.1 host port published for a container port. */
    async portOf(name: string, internal: number, protocol = "tcp"): Promise<number> {
        const b = (await this.inspect(name)).NetworkSettings.Ports?.[`${internal}/${protocol}`];
        const p = b?.find((x: { HostIp: string }) => x.HostIp.startsWith("127."))?.HostPort;
        if (!p) throw new Error(`harness: ${name} publishes no 127.0.0.1 port for ${internal}/${protocol}`);
        return Number(p);
    }

    /** Names of everything this run owns on the engine now. */
    async owned(): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
        const f = encodeURIComponent(JSON.stringify({ label: [this.label] }));
        const cs = await this.engine.json<any[]>("GET", `/containers/json?all=1&filters=${f}`);
        const ns = await this.engine.json<any[]>("GET", `/networks?filters=${f}`);
        const vs = await this.engine.json<{ Volumes: any[] | null }>("GET", `/volumes?filters=${f}`);
        return {
            containers: cs.map(c => String(c.Names[0]).replace(/^\//, "")).sort(),
            networks: ns.map(n => n.Name).sort(),
            volumes: (vs.Volumes ?? []).map(v => v.Name).sort(),
        };
    }

    /** Remove every container (with its anonymous volumes), network and volume of this run. */
    async cleanup(): Promise<{ containers: number; networks: number; volumes: number }> {
        const before = await this.owned();
        for (const c of before.containers) {
            await this.engine.request("DELETE", `/containers/${encodeURIComponent(c)}?v=1&force=1`, { ok: [404] });
        }
        for (const n of before.networks) {
            await this.removeWithRetry(`/networks/${encodeURIComponent(n)}`);
        }
        for (const v of before.volumes) {
            await this.removeWithRetry(`/volumes/${encodeURIComponent(v)}`);
        }
        const after = await this.owned();
        const left = [...after.containers, ...after.networks, ...after.volumes];
        if (left.length) throw new Error(`harness: cleanup of run ${this.runId} left ${left.join(", ")}`);
        const hook = exitHooks.get(this.runId);
        if (hook) { process.removeListener("exit", hook); exitHooks.delete(this.runId); }
        this.containers.clear();
        return { containers: before.containers.length, networks: before.networks.length, volumes: before.volumes.length };
    }

    // A network or volume can stay "in use" for a moment after its container is removed.
    private async removeWithRetry(path: string): Promise<void> {
        for (let i = 0; i < 20; i++) {
            try {
                await this.engine.request("DELETE", path, { ok: [404] });
                return;
            } catch (e) {
                if (!(e instanceof EngineError) || e.status !== 409 || i === 19) throw e;
                await sleep(250);
            }
        }
    }
}

/** Remove everything labelled `slipway.test-run=<runId>` (e.g. left by a killed run). */
export async function cleanupRun(runId: string, engine?: Engine): Promise<{ containers: number; networks: number; volumes: number }> {
    return new DockerHarness({ runId, engine }).cleanup();
}

/**
 * Synchronous cleanup with the docker CLI, for process exit handlers (no event loop there). Never
 * throws: it runs while the process is already failing.
 */
export function cleanupRunSync(runId: string): void {
    const filter = `label=${RUN_LABEL}=${runId}`;
    const run = (args: string[]) => {
        try {
            return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 60_000 }).split("\n").filter(Boolean);
        } catch {
            return [];
        }
    };
    const cs = run(["ps", "-aq", "--filter", filter]);
    if (cs.length) run(["rm", "-fv", ...cs]);
    const ns = run(["network", "ls", "-q", "--filter", filter]);
    if (ns.length) run(["network", "rm", ...ns]);
    const vs = run(["volume", "ls", "-q", "--filter", filter]);
    if (vs.length) run(["volume", "rm", "-f", ...vs]);
}

export { LOGICAL_LABEL, RUN_LABEL, TYPES };
