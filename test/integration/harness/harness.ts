import { execFile, execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { RecordedResource, redact } from "../../../components/testing/recorder";
import { Engine, EngineError } from "./engine";
import { ensurePulled } from "./pull";
import { tarOf } from "./tar";
import {
    BuildSpec, ContainerSpec, LOGICAL_LABEL, Plan, PlanOptions, RUN_LABEL, TYPES, planResources,
} from "./translate";
import { Drift, changedInputs, driftOf, readBack } from "./readback";

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
    /** Set when the container was awaited healthy (its `wait` input). */
    healthyMs?: number;
    /** A job (`attach`): the exit code it ended with, as the provider's `exitCode` output. */
    exitCode?: number;
}

/** What the engine did to one resource in one `up`, with when (ms since the up started). */
export interface Step {
    op: "create" | "update" | "replace" | "delete" | "same";
    type: string;
    urn: string;
    logical: string;
    /** Inputs that differ from the deployed ones (update and replace). */
    changed?: string[];
    startMs: number;
    endMs?: number;
    /** replace: when the old container was gone, and when the new one existed (delete-before-create). */
    deletedMs?: number;
    createdMs?: number;
    error?: string;
}

export interface ApplyResult {
    plan: Plan;
    steps: Step[];
    networks: string[];
    volumes: string[];
    containers: CreatedContainer[];
}

/** An `up` that failed: like `pulumi up`, it stopped at the failed step and deleted nothing. */
export class UpError extends Error {
    constructor(override readonly cause: unknown, readonly result: ApplyResult) {
        super(`harness: up failed: ${(cause as Error)?.message ?? cause}`);
    }
}

/** One resource in the harness's state, like an entry of a Pulumi stack's checkpoint. */
interface Deployed {
    urn: string;
    type: string;
    logical: string;
    /** Revealed inputs the resource was created or last updated with. */
    inputs: Record<string, any>;
    /** Engine name (containers, networks, volumes). */
    name: string;
    id?: string;
    spec?: ContainerSpec;
    /** The create failed after the object existed (failed upload or health wait): Pulumi keeps it with init errors. */
    failed?: boolean;
    /**
     * Created in its first network's mode (one API call) where the provider, with no `networkMode`
     * input, creates in its default "bridge" mode and connects the networks after.
     */
    modeOfFirstNetwork?: boolean;
    /** A job (`attach`): its `exitCode` and `containerLogs` outputs. */
    exitCode?: number;
    logs?: string;
    generation: number;
}

/**
 * The container inputs the provider updates in place (ContainerUpdate); every other changed input
 * is a replacement. Facts sheet, "Replacement"; provider: resourceDockerContainerUpdate.
 */
export const IN_PLACE_INPUTS = new Set([
    "restart", "maxRetryCount", "cpuShares", "cpuSet", "memory", "memoryReservation", "memorySwap",
    "deviceReadBps", "deviceWriteBps", "deviceReadIops", "deviceWriteIops", "mustRun", "start",
]);

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const stable = (v: unknown): string => JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && !Array.isArray(x) && !Buffer.isBuffer(x) ? Object.fromEntries(Object.keys(x).sort().map(k => [k, x[k]])) : x);

/** Top-level input keys whose values differ (absent and null count as the same). */
function changedKeys(a: Record<string, any>, b: Record<string, any>): string[] {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].filter(k => stable(a[k] ?? null) !== stable(b[k] ?? null)).sort();
}

/**
 * What the engine does with a resource it deployed before, given the program's new inputs: a
 * failed create or a changed container input outside {@link IN_PLACE_INPUTS} is a replacement
 * (networks and volumes: any change), other changes update in place. Container inputs are compared
 * the provider's way against its state (readback.ts `changedInputs`), which after {@link
 * DockerHarness.refresh} holds what the engine reported. `unknown`: inputs built from the outputs of
 * a resource being replaced (or created), which the engine cannot know yet: they count as changed.
 */
function decide(old: Deployed | undefined, inputs: Record<string, any>, unknown: string[] = []): { op: Step["op"]; changed: string[] } {
    if (!old) return { op: "create", changed: [] };
    const isContainer = old.type === TYPES.container;
    const changed = [...new Set([...(isContainer ? changedInputs(old.inputs, inputs) : changedKeys(old.inputs, inputs)), ...unknown])].sort();
    const replaces = isContainer ? changed.some(k => !IN_PLACE_INPUTS.has(k)) : changed.length > 0;
    return { op: old.failed || replaces ? "replace" : changed.length ? "update" : "same", changed };
}

/** Registered exit hooks per run id, so a crashed or interrupted test still removes its objects. */
const exitHooks = new Map<string, () => void>();

/**
 * Stands in for `pulumi up` with the real @pulumi/docker provider: it keeps a state of what it
 * deployed and turns each new recording of the stack program into the steps the engine would run,
 * with the provider's semantics (docs/pulumi-docker-provider-facts.md):
 * - a changed container input other than {@link IN_PLACE_INPUTS} replaces the container, and every
 *   container replacement deletes the old one first (the provider maps Container with
 *   DeleteBeforeReplace, whatever the program's option says);
 * - independent resources are created, updated and replaced in parallel; a resource waits for the
 *   resources it depends on;
 * - a resource whose logical name (URN) is new is created during the update; one no longer in the
 *   program is deleted at the end, after every create and update; nothing is deleted after a failure;
 * - uploads with `owner`/`group` go through the daemon's CopyUIDGID path (it resolves the
 *   container's user in the host's passwd database); a failed upload leaves the container `Created`;
 * - a create with `wait` blocks until healthy and fails (leaving the container) when it is not;
 * - {@link refresh} reads every container back through `docker inspect` the provider's way (units,
 *   the engine's spelling, what it does not read) into the state, as `pulumi refresh` does; {@link
 *   drift} says what a refresh would change without storing it;
 * - an input built from the outputs of a resource being replaced is unknown, and replaces its
 *   container too (the engine's dependent replacements around a delete-before-replace).
 * Not modelled (refused or stated): replacing networks and volumes; reading networks and volumes back.
 * Everything it creates carries `slipway.test-run=<runId>`.
 */
export class DockerHarness {
    readonly engine: Engine;
    readonly runId: string;
    readonly options: Required<Pick<HarnessOptions, "namePrefix" | "nameSuffix">> & HarnessOptions;
    /** Logical container name -> current engine name. */
    readonly containers = new Map<string, string>();
    private readonly state = new Map<string, Deployed>();
    /** RemoteImage URN -> the reference it was last created with (the provider keeps images locally). */
    private readonly pulledRefs = new Map<string, string>();
    /** Built images: URN -> the build's inputs and the image id it produced (images stay on the engine, as the provider leaves them). */
    private readonly built = new Map<string, { key: string; id: string }>();

    constructor(opts: HarnessOptions = {}) {
        this.engine = opts.engine ?? new Engine();
        this.runId = opts.runId ?? randomBytes(4).toString("hex");
        if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(this.runId)) throw new Error(`harness: runId ${JSON.stringify(this.runId)} must be short lowercase [a-z0-9-]`);
        this.options = { ...opts, namePrefix: opts.namePrefix ?? "slipway-t", nameSuffix: opts.nameSuffix ?? "" };
        if (!exitHooks.has(this.runId)) {
            const hook = () => cleanupRunSync(this.runId, this.engine.cliEnv());
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
            generation: urn => this.state.get(urn)?.generation ?? 0,
        };
    }

    /** Translate without touching the engine; throws on any unsupported input. */
    plan(resources: RecordedResource[]): Plan {
        return planResources(resources, this.planOptions());
    }

    async ping(): Promise<void> {
        await this.engine.request("GET", "/_ping", { timeoutMs: 5000 });
    }

    /** The first `up` of a stack (nothing deployed yet by this harness). */
    async apply(resources: RecordedResource[]): Promise<ApplyResult> {
        if (this.state.size) throw new Error("harness: apply() is the first deploy; use up() for the next ones");
        return this.up(resources);
    }

    /**
     * `pulumi up` of a new recording of the program against what this harness deployed before.
     * Resolves with the steps; rejects with {@link UpError} (carrying the steps) when one failed.
     */
    async up(resources: RecordedResource[]): Promise<ApplyResult> {
        const t0 = Date.now();
        const at = () => Date.now() - t0;
        // Replaced containers get a new autoname: bump their generation before planning names.
        const revealedNew = new Map(resources.filter(r => r.custom && r.type.startsWith("docker:")).map(r => [r.urn, redact(r.inputs, true) as Record<string, any>]));
        const ops = this.plannedOps(resources, "up");
        const replaced = new Set([...ops].filter(([urn, o]) => o.op === "replace" && this.state.get(urn)?.type === TYPES.container).map(([urn]) => urn));
        const plan = planResources(resources, {
            ...this.planOptions(), generation: urn => (this.state.get(urn)?.generation ?? 0) + (replaced.has(urn) ? 1 : 0),
        });
        this.refuseUnmodelled(plan, revealedNew);
        await this.ping();

        const result: ApplyResult = { plan, steps: [], networks: [], volumes: [], containers: [] };
        const step = (s: Omit<Step, "startMs">): Step => { const x = { ...s, startMs: at() }; result.steps.push(x); return x; };
        await this.imageSteps(plan, step, at, result);
        for (const b of plan.builds) {
            const key = stable(b);
            const before = this.built.get(b.urn);
            if (before?.key === key) { step({ op: "same", type: TYPES.image, urn: b.urn, logical: b.logical }).endMs = at(); continue; }
            const st = step({ op: before ? "update" : "create", type: TYPES.image, urn: b.urn, logical: b.logical });
            try {
                this.built.set(b.urn, { key, id: await this.buildImage(b) });
            } catch (e) {
                st.error = String(e);
                throw new UpError(e, result);
            }
            st.endMs = at();
        }
        await this.requireImages(plan);
        for (const n of plan.networks) {
            if (this.state.has(n.urn)) { step({ op: "same", type: TYPES.network, urn: n.urn, logical: n.logical }).endMs = at(); continue; }
            const st = step({ op: "create", type: TYPES.network, urn: n.urn, logical: n.logical });
            await this.engine.json("POST", "/networks/create", { body: n.body });
            this.state.set(n.urn, { urn: n.urn, type: TYPES.network, logical: n.logical, inputs: revealedNew.get(n.urn)!, name: n.name, generation: 0 });
            result.networks.push(n.name);
            st.endMs = at();
        }
        for (const v of plan.volumes) {
            if (this.state.has(v.urn)) { step({ op: "same", type: TYPES.volume, urn: v.urn, logical: v.logical }).endMs = at(); continue; }
            const st = step({ op: "create", type: TYPES.volume, urn: v.urn, logical: v.logical });
            await this.engine.json("POST", "/volumes/create", { body: v.body });
            this.state.set(v.urn, { urn: v.urn, type: TYPES.volume, logical: v.logical, inputs: revealedNew.get(v.urn)!, name: v.name, generation: 0 });
            result.volumes.push(v.name);
            st.endMs = at();
        }

        // Containers: each waits for its dependencies' steps, independent ones run side by side.
        let failure: unknown;
        const done = new Map<string, Promise<void>>();
        for (const c of plan.containers) {
            const deps = c.dependsOn.map(d => done.get(d)!).filter(Boolean);
            done.set(c.urn, Promise.all(deps).then(async () => {
                if (failure) throw new Error("skipped: an earlier step failed");
                try {
                    this.refuseAfterFailedJob(c);
                    await this.containerStep(c, revealedNew.get(c.urn)!, ops.get(c.urn)!, step, at, result);
                } catch (e) {
                    failure ??= e;
                    throw e;
                }
            }));
        }
        // Settle all before reporting, so a failure never leaves steps running behind cleanup.
        await Promise.allSettled(done.values());
        if (failure) throw new UpError(failure, result);

        // The end of the update: what the program no longer declares is deleted, containers first.
        const gone = [...this.state.values()].filter(d => !revealedNew.has(d.urn));
        await Promise.all(gone.filter(d => d.type === TYPES.container).map(async d => {
            const st = step({ op: "delete", type: d.type, urn: d.urn, logical: d.logical });
            await this.destroyContainer(d);
            st.endMs = at();
        }));
        for (const d of gone.filter(x => x.type !== TYPES.container)) {
            const st = step({ op: "delete", type: d.type, urn: d.urn, logical: d.logical });
            await this.removeWithRetry(d.type === TYPES.network ? `/networks/${encodeURIComponent(d.name)}` : `/volumes/${encodeURIComponent(d.name)}`);
            this.state.delete(d.urn);
            st.endMs = at();
        }
        return result;
    }

    /**
     * The program's check of a job's `exitCode` (the provider succeeds whatever the exit code;
     * facts sheet, "A container that exits"): a resource with an input built from the outputs of a
     * job that exited non-zero is never registered, because that input's callback throws, and the
     * `up` fails with the job's exit code and last log lines. The harness cannot run the
     * program's callbacks, so it stops there itself.
     */
    private refuseAfterFailedJob(c: ContainerSpec): void {
        for (const [input, deps] of Object.entries(c.propertyDependencies)) {
            for (const dep of deps) {
                const job = this.state.get(dep);
                if (job?.exitCode === undefined || job.exitCode === 0) continue;
                const last = (job.logs ?? "").trimEnd().split("\n").slice(-20).join("\n");
                throw new Error(`harness: ${c.logical} not registered: its input ${input} reads job ${job.logical}, which exited with code ${job.exitCode}; last log lines:\n${last}`);
            }
        }
    }

    private async containerStep(c: ContainerSpec, inputs: Record<string, any>, planned: { op: Step["op"]; changed: string[] },
        step: (s: Omit<Step, "startMs">) => Step, at: () => number, result: ApplyResult): Promise<void> {
        const old = this.state.get(c.urn);
        const base = { type: TYPES.container, urn: c.urn, logical: c.logical };
        const { op, changed } = planned;
        if (!old) {
            const st = step({ op: "create", ...base });
            result.containers.push(await this.createContainer(c, inputs));
            st.createdMs = st.endMs = at();
            return;
        }
        if (op === "replace") {
            const st = step({ op: "replace", ...base, changed });
            // The provider's DeleteBeforeReplace: the old container is gone before the new one exists.
            await this.destroyContainer(old);
            st.deletedMs = at();
            result.containers.push(await this.createContainer(c, inputs, old));
            st.createdMs = st.endMs = at();
            return;
        }
        if (op === "update") {
            const st = step({ op: "update", ...base, changed });
            await this.updateInPlace(old, inputs);
            st.endMs = at();
            return;
        }
        step({ op: "same", ...base }).endMs = at();
    }

    /** ContainerUpdate with the in-place fields, as the provider's Update does. */
    private async updateInPlace(d: Deployed, inputs: Record<string, any>): Promise<void> {
        const MiB = 1024 * 1024;
        const body: Record<string, unknown> = {};
        if (inputs.memory !== undefined) body.Memory = inputs.memory * MiB;
        if (inputs.memorySwap !== undefined) body.MemorySwap = inputs.memorySwap < 0 ? -1 : inputs.memorySwap * MiB;
        if (inputs.memoryReservation !== undefined) body.MemoryReservation = inputs.memoryReservation * MiB;
        if (inputs.cpuShares !== undefined) body.CpuShares = inputs.cpuShares;
        if (inputs.cpuSet !== undefined) body.CpusetCpus = inputs.cpuSet;
        if (inputs.restart !== undefined) body.RestartPolicy = { Name: inputs.restart, MaximumRetryCount: inputs.maxRetryCount ?? 0 };
        await this.engine.request("POST", `/containers/${d.id}/update`, { body });
        d.inputs = inputs;
    }

    private refuseUnmodelled(plan: Plan, revealedNew: Map<string, Record<string, any>>): void {
        for (const x of [...plan.networks, ...plan.volumes]) {
            const { op, changed } = decide(this.state.get(x.urn), revealedNew.get(x.urn)!);
            if (op === "replace") throw new Error(`harness: ${x.logical}: replacing a network or volume is not modelled (changed ${changed.join(", ")})`);
        }
    }

    /**
     * RemoteImage creates (a new logical name or a new `name`, which the provider replaces): each
     * pulls when the engine lacks the image (harness/pull.ts). The engine runs them before the
     * containers that use them; a failed pull fails the update before any container step, so
     * nothing old is touched. Unmapped images only: an `imageMap` entry stands for a local build.
     */
    private async imageSteps(plan: Plan, step: (s: Omit<Step, "startMs">) => Step, at: () => number, result: ApplyResult): Promise<void> {
        const todo = plan.images.filter(i => i.pull && this.pulledRefs.get(i.urn) !== i.ref);
        const outcomes = await Promise.allSettled(todo.map(async img => {
            const st = step({ op: this.pulledRefs.has(img.urn) ? "replace" : "create", type: TYPES.remoteImage, urn: img.urn, logical: img.logical });
            try {
                await ensurePulled(this.engine, img.ref, img.registryAuth);
                this.pulledRefs.set(img.urn, img.ref);
            } catch (e) {
                st.error = (e as Error).message;
                throw e;
            } finally {
                st.endMs = at();
            }
        }));
        const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
        if (failed) throw new UpError(failed.reason, result);
    }

    /**
     * The provider's Image create: a build of the context on the engine, tagged `imageName`, not
     * pushed. Through the docker CLI with the classic builder: the provider opens a BuildKit
     * session over the engine API, which this machine's CLI (no buildx) cannot; the Dockerfiles
     * built here use nothing BuildKit-only, so both builders make the same image. Like the
     * provider's, the build's RUN steps use the engine's default network. Returns the image id.
     */
    private async buildImage(b: BuildSpec): Promise<string> {
        const args = ["build", "--force-rm", "-t", b.imageName, "-f", b.dockerfile];
        for (const [k, v] of Object.entries(b.args)) args.push("--build-arg", `${k}=${v}`);
        if (b.platform) args.push("--platform", b.platform);
        if (b.target) args.push("--target", b.target);
        args.push(b.context);
        const out = await new Promise<string>((resolve, reject) => {
            execFile("docker", args, { env: { ...process.env, DOCKER_BUILDKIT: "0" }, maxBuffer: 64 << 20, timeout: 40 * 60_000 }, (err, stdout, stderr) => {
                const log = `${stdout}\n${stderr}`;
                if (err) reject(new Error(`harness: ${b.logical}: docker build of ${b.imageName} failed (${err.message.split("\n")[0]}):\n${log.split("\n").slice(-40).join("\n")}`));
                else resolve(log);
            });
        });
        const id = (await this.engine.json<{ Id: string }>("GET", `/images/${encodeURIComponent(b.imageName)}/json`)).Id;
        if (!id) throw new Error(`harness: ${b.logical}: built ${b.imageName} but the engine has no such image:\n${out.slice(-2000)}`);
        return id;
    }

    /** The image id a `docker.Image` built (its `repoDigest` for a local image), if this harness built it. */
    builtImageId(logical: string): string | undefined {
        for (const [urn, b] of this.built) if (urn.endsWith(`::${logical}`)) return b.id;
        return undefined;
    }

    private async requireImages(plan: Plan): Promise<void> {
        const missing: string[] = [];
        for (const local of new Set(plan.containers.map(c => c.body.Image as string))) {
            const r = await this.engine.request("GET", `/images/${encodeURIComponent(local)}/json`, { ok: [404] });
            if (r.status === 404) missing.push(local);
        }
        if (missing.length) {
            throw new Error(`harness: no local image ${missing.join(", ")}. Only RemoteImages are pulled (from loopback registries a test starts): build with ` +
                `scripts/build-images.sh and pass imageMap (stack ref -> tag from images.env).`);
        }
    }

    /**
     * The provider's create: create, connect networks, upload each file (CopyUIDGID when it has an
     * owner or group), start, and with `wait` block until healthy. Whatever fails after the
     * container exists leaves it in place and in the state as failed, as Pulumi records a create
     * with init errors.
     */
    private async createContainer(c: ContainerSpec, inputs: Record<string, any>, previous?: Deployed): Promise<CreatedContainer> {
        const created = await this.engine.json<{ Id: string }>("POST", `/containers/create?name=${encodeURIComponent(c.name)}`, { body: c.body });
        const d: Deployed = {
            urn: c.urn, type: TYPES.container, logical: c.logical, inputs, name: c.name, id: created.Id, spec: c,
            failed: true, generation: previous ? previous.generation + 1 : 0,
            modeOfFirstNetwork: inputs.networkMode == null && c.body.HostConfig.NetworkMode !== "bridge",
        };
        this.state.set(c.urn, d);
        this.containers.set(c.logical, c.name);
        for (const n of c.extraNetworks) {
            await this.engine.request("POST", `/networks/${encodeURIComponent(n.name)}/connect`, {
                body: { Container: created.Id, EndpointConfig: { Aliases: n.aliases } },
            });
        }
        for (const u of c.uploads) {
            // One archive per upload, extracted at "/" (the provider's way; parents made by the engine).
            const tar = tarOf([{ path: u.file, content: u.content, mode: u.mode, uid: u.uid, gid: u.gid }]);
            try {
                await this.engine.request("PUT", `/containers/${created.Id}/archive?path=${encodeURIComponent("/")}${u.owned ? "&copyUIDGID=true" : ""}`, { raw: tar });
            } catch (e) {
                const body = e instanceof EngineError ? e.body.trim() : String(e);
                const hint = /read-only/.test(body)
                    ? ` The provider extracts uploads at "/", which Docker allows only on a writable root filesystem (readOnly: true).`
                    : /getent|passwd|group database/.test(body)
                        ? ` With owner/group set the provider asks the daemon to copy with the container user's uid/gid, which it looks up in the host's passwd database (moby/moby#34142).`
                        : "";
                throw new Error(`harness: ${c.logical}: Unable to upload volume content (${u.file}): ${body}.${hint} The container stays in state Created.`);
            }
        }
        const out: CreatedContainer = { logical: c.logical, name: c.name, id: created.Id };
        if (c.start) {
            await this.engine.request("POST", `/containers/${created.Id}/start`, { ok: [304] });
            if (c.attach) {
                await this.runJob(c, d, out);
            } else if (c.wait) {
                const t = await this.waitHealthy([c.name], c.waitTimeoutMs);
                out.healthyMs = t[c.name];
            } else if (c.mustRun) {
                await sleep(100); // the provider re-reads the container once after start
                const s = await this.inspect(c.name);
                if (!s.State.Running) throw new Error(`harness: ${c.name} is not running after start:\n${await this.engine.logs(c.name, 40)}`);
            }
        }
        d.failed = false;
        return out;
    }

    /**
     * The provider's `attach`: wait for the exit (no timeout of its own), keep the logs and the exit
     * code as outputs. `mustRun: true` then fails the create and removes the container, whatever
     * the exit code ("container exited immediately"); `mustRun: false` succeeds whatever it is.
     */
    private async runJob(c: ContainerSpec, d: Deployed, out: CreatedContainer): Promise<void> {
        const r = await this.engine.request("POST", `/containers/${d.id}/wait?condition=not-running`, { timeoutMs: 60 * 60_000 });
        const code = Number(JSON.parse(r.bytes.toString("utf8")).StatusCode);
        if (c.mustRun) {
            await this.engine.request("DELETE", `/containers/${d.id}?v=1&force=1`, { ok: [404] });
            this.state.delete(c.urn);
            throw new Error(`harness: ${c.logical}: container exited immediately (exit ${code}; mustRun: true deletes a stopped container)`);
        }
        d.exitCode = code;
        out.exitCode = code;
        if (c.logs) d.logs = await this.engine.logs(d.id!, 100_000);
    }

    /** The provider's destroy: a graceful stop only when destroyGraceSeconds > 0, then a forced remove. */
    private async destroyContainer(d: Deployed): Promise<void> {
        // With `attach` the provider skips the stop and force-removes at once.
        const grace = d.spec?.attach ? 0 : d.spec?.destroyGraceSeconds ?? 0;
        if (grace > 0) await this.engine.request("POST", `/containers/${d.id}/stop?t=${grace}`, { ok: [304, 404], timeoutMs: (grace + 30) * 1000 });
        await this.engine.request("DELETE", `/containers/${d.id}?v=1&force=1`, { ok: [404] });
        this.state.delete(d.urn);
        if (this.containers.get(d.logical) === d.name) this.containers.delete(d.logical);
    }

    /**
     * Fields where the next `pulumi preview` would show a change although nothing changed: the
     * inputs of every deployed container against the provider's read-back of it.
     */
    async drift(): Promise<Drift[]> {
        const out: Drift[] = [];
        for (const d of this.state.values()) {
            if (d.type !== TYPES.container) continue;
            out.push(...driftOf(d.logical, d.inputs, await this.providerView(d)));
        }
        return out;
    }

    /**
     * The steps the next `up` of `resources` would take, without running them (a preview): the
     * program's inputs against the state, which after {@link refresh} is what the engine reported.
     */
    preview(resources: RecordedResource[]): { op: Step["op"]; logical: string; changed?: string[] }[] {
        const ops = this.plannedOps(resources, "preview");
        const out: { op: Step["op"]; logical: string; changed?: string[] }[] = [];
        for (const r of resources) {
            const o = ops.get(r.urn);
            if (o) out.push({ op: o.op, logical: r.name, ...(o.changed.length ? { changed: o.changed } : {}) });
        }
        const next = new Set(ops.keys());
        for (const d of this.state.values()) if (!next.has(d.urn)) out.push({ op: "delete", logical: d.logical });
        return out;
    }

    /**
     * Each resource's step, with the engine's unknowns: an input whose value was built from the
     * outputs of a resource being replaced (its recorded property dependencies) is unknown, so it
     * counts as changed, and a container input outside {@link IN_PLACE_INPUTS} then replaces the
     * dependent too: the engine's dependent replacements around a delete-before-replace (every
     * container), in the same step. A preview also cannot know a created resource's outputs; an
     * `up` does by the time it steps the dependent, so only replacements count there.
     */
    private plannedOps(resources: RecordedResource[], mode: "preview" | "up"): Map<string, { op: Step["op"]; changed: string[] }> {
        const next = resources.filter(r => r.custom && r.type.startsWith("docker:") && r.type !== TYPES.remoteImage && r.type !== TYPES.image);
        const inputs = new Map(next.map(r => [r.urn, redact(r.inputs, true) as Record<string, any>]));
        const ops = new Map(next.map(r => [r.urn, decide(this.state.get(r.urn), inputs.get(r.urn)!)]));
        const unknownOutputs = (urn: string) => {
            const op = ops.get(urn)?.op;
            return op === "replace" || (mode === "preview" && op === "create");
        };
        for (let changed = true, round = 0; changed && round <= next.length; round++) {
            changed = false;
            for (const r of next) {
                const o = ops.get(r.urn)!;
                if (o.op === "create" || o.op === "replace") continue;
                const unknown = Object.entries(r.propertyDependencies ?? {}).filter(([, deps]) => deps.some(unknownOutputs)).map(([k]) => k);
                if (!unknown.length || unknown.every(k => o.changed.includes(k))) continue;
                ops.set(r.urn, decide(this.state.get(r.urn), inputs.get(r.urn)!, unknown));
                changed = true;
            }
        }
        return ops;
    }

    /**
     * `pulumi refresh`: reads every deployed container back through `docker inspect` the way the
     * provider does (readback.ts) and stores that in the state, so the next {@link preview} and
     * {@link up} compare the program with what the engine reports. A container that no longer
     * exists leaves the state (the provider's read clears its id), so the next `up` creates it.
     * Returns, per container, the inputs the refresh changed in the state.
     */
    async refresh(): Promise<{ logical: string; changed: string[]; gone?: boolean }[]> {
        const out: { logical: string; changed: string[]; gone?: boolean }[] = [];
        for (const d of [...this.state.values()]) {
            if (d.type !== TYPES.container) continue;
            const r = await this.engine.request("GET", `/containers/${d.id}/json`, { ok: [404] });
            if (r.status === 404) {
                this.state.delete(d.urn);
                if (this.containers.get(d.logical) === d.name) this.containers.delete(d.logical);
                out.push({ logical: d.logical, changed: [], gone: true });
                continue;
            }
            const read = readBack(d.inputs, await this.providerView(d));
            out.push({ logical: d.logical, changed: changedInputs(read, d.inputs) });
            d.inputs = read;
        }
        return out;
    }

    /** `docker inspect` of a deployed container as it would read had the provider created it. */
    private async providerView(d: Deployed): Promise<any> {
        const i = await this.inspect(d.id!);
        if (d.modeOfFirstNetwork) i.HostConfig = { ...i.HostConfig, NetworkMode: "bridge" };
        return i;
    }

    /** Logical names of deployed containers whose create failed (kept, as Pulumi keeps them). */
    failedContainers(): string[] {
        return [...this.state.values()].filter(d => d.failed).map(d => d.logical);
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
        this.state.clear();
        this.pulledRefs.clear();
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

/**
 * The engine the recorded docker provider talks to, when it is not the local default: an `ssh://`
 * host with its `sshOpts` (the SDK sends those JSON-encoded, provider.js). Undefined for `unix://`,
 * which the harness reaches through DOCKER_HOST or the default socket.
 */
export function engineOfRecording(resources: RecordedResource[]): Engine | undefined {
    const providers = resources.filter(r => r.type === "pulumi:providers:docker");
    if (providers.length !== 1) throw new Error(`harness: expected one docker provider in the recording, found ${providers.length}`);
    const inputs = redact(providers[0]!.inputs, true) as { host?: string; sshOpts?: string | string[] };
    if (!inputs.host?.startsWith("ssh://")) return undefined;
    const opts = typeof inputs.sshOpts === "string" ? JSON.parse(inputs.sshOpts) as string[] : inputs.sshOpts ?? [];
    return Engine.forProvider(inputs.host, opts);
}

/** Remove everything labelled `slipway.test-run=<runId>` (e.g. left by a killed run). */
export async function cleanupRun(runId: string, engine?: Engine): Promise<{ containers: number; networks: number; volumes: number }> {
    return new DockerHarness({ runId, engine }).cleanup();
}

/**
 * Synchronous cleanup with the docker CLI, for process exit handlers (no event loop there). Never
 * throws: it runs while the process is already failing.
 */
export function cleanupRunSync(runId: string, env: NodeJS.ProcessEnv = process.env): void {
    const filter = `label=${RUN_LABEL}=${runId}`;
    const run = (args: string[]) => {
        try {
            return execFileSync("docker", args, { encoding: "utf8", env, stdio: ["ignore", "pipe", "ignore"], timeout: 60_000 }).split("\n").filter(Boolean);
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
