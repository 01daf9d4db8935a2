import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { RecordedResource, UNKNOWN, redact } from "../../../components/testing/recorder";
import { fakeProviderOutputs } from "../../../components/testing/fakes";

/**
 * Pure translation of recorded @pulumi/docker v5 inputs into Docker Engine API bodies. Every input
 * field is either translated or refused: a field the harness silently dropped would make a test
 * pass against a container that is not the one the stack describes.
 */

export const RUN_LABEL = "slipway.test-run";
export const LOGICAL_LABEL = "slipway.test-logical";

export const TYPES = {
    network: "docker:index/network:Network",
    volume: "docker:index/volume:Volume",
    container: "docker:index/container:Container",
    remoteImage: "docker:index/remoteImage:RemoteImage",
    image: "docker:index/image:Image",
} as const;

export class UnsupportedInputError extends Error {
    constructor(readonly resource: string, readonly fields: string[], detail = "") {
        super(`harness: ${resource}: unsupported input${fields.length > 1 ? "s" : ""} ${fields.join(", ")}` +
            `${detail ? ` (${detail})` : ""}. Teach test/integration/harness/translate.ts to apply ${fields.length > 1 ? "them" : "it"} ` +
            `for real, or the test would run a container that differs from the stack's.`);
    }
}

export interface PlanOptions {
    runId: string;
    /** Prefix of autonamed objects: `<namePrefix>-<logicalName>-<shortid>`. */
    namePrefix: string;
    /** Image reference in the stack (RemoteImage `name`, Image `imageName`, or a plain tag) -> local tag. */
    imageMap?: Record<string, string>;
    /** Suffix added to names the stack fixes (networks, volumes, containers), to isolate parallel runs. */
    nameSuffix?: string;
    /** Provider-computed outputs of image resources, to recognise ids/digests in `image`. */
    imageOutputs?: (r: RecordedResource) => Record<string, unknown> | undefined;
    /** How often each URN was replaced so far: a replacement gets a new autoname, as Pulumi's does. */
    generation?: (urn: string) => number;
}

export interface NetworkSpec { logical: string; urn: string; name: string; body: Record<string, unknown> }
export interface VolumeSpec { logical: string; urn: string; name: string; body: Record<string, unknown> }
/**
 * One `uploads` entry. `owned`: the input set `owner` or `group`, so the provider asks the daemon to
 * resolve the container's user (`CopyUIDGID`), which fails for a numeric user not in the host's passwd.
 */
export interface UploadSpec { file: string; content: Buffer; mode: number; uid: number; gid: number; owned: boolean }
/** One `registryAuth` entry of the docker.Provider a RemoteImage is created with (revealed). */
export interface RegistryAuthEntry { address: string; username?: string; password?: string }
/**
 * An image resource. `pull`: a RemoteImage, which the provider pulls when the engine lacks it, with
 * the credentials of its provider's `registryAuth` (harness/pull.ts matches them as the provider does).
 */
export interface ImageRef { logical: string; urn: string; ref: string; local: string; pull: boolean; registryAuth: RegistryAuthEntry[] }
/**
 * A `docker.Image` to build on the engine, as the provider does (pulumi-docker provider/image.go):
 * the context folder (`.dockerignore` honoured) sent to the engine's build, tagged `imageName`,
 * never pushed (`skipPush`). Paths are resolved like the provider's `filepath.Abs`: against the
 * working directory (the program's, under Pulumi); the Dockerfile defaults to `<context>/Dockerfile`.
 */
export interface BuildSpec {
    logical: string;
    urn: string;
    imageName: string;
    context: string;
    dockerfile: string;
    args: Record<string, string>;
    platform?: string;
    target?: string;
}

export interface ContainerSpec {
    logical: string;
    urn: string;
    name: string;
    /** Body of POST /containers/create. */
    body: Record<string, any>;
    /** Networks beyond the one given at create time (API 1.41 takes one), connected before start. */
    extraNetworks: { name: string; aliases: string[] }[];
    uploads: UploadSpec[];
    start: boolean;
    /** The provider's `wait`: create returns only once the container is healthy. */
    wait: boolean;
    waitTimeoutMs: number;
    mustRun: boolean;
    /** The provider's `attach`: the create waits until the container exits (a one-shot job). */
    attach: boolean;
    /** With `attach`: the logs become the `containerLogs` output. */
    logs: boolean;
    /**
     * Inputs built from other resources' outputs (the recording's property dependencies), by
     * input name: the dependents of a job's `exitCode` are what the harness holds back when it failed.
     */
    propertyDependencies: Record<string, string[]>;
    /**
     * The provider's `destroyGraceSeconds`: when > 0, a destroy first stops the container with this
     * timeout (stop signal, then SIGKILL); when 0 or unset it is force-removed (SIGKILL) at once.
     */
    destroyGraceSeconds: number;
    hasHealthcheck: boolean;
    dependsOn: string[];
}

export interface Plan {
    networks: NetworkSpec[];
    volumes: VolumeSpec[];
    images: ImageRef[];
    /** Images the harness builds for real (a `docker.Image` with `build` and no `imageMap` entry). */
    builds: BuildSpec[];
    containers: ContainerSpec[];
    /** How references were resolved; reused to plan replacement containers. */
    names: Names;
}

const sha = (...parts: string[]) => createHash("sha256").update(parts.join("\0")).digest("hex");

/** Pulumi-style autoname: the logical name plus a short id, stable for one run and generation. */
export function autoName(opts: PlanOptions, r: Pick<RecordedResource, "name" | "urn">, generation = 0): string {
    return `${opts.namePrefix}-${r.name}-${sha(opts.runId, r.urn, String(generation)).slice(0, 7)}`;
}

function findUnknown(v: unknown, path: string): string | undefined {
    if (v === UNKNOWN) return path;
    if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) { const p = findUnknown(v[i], `${path}[${i}]`); if (p) return p; }
    } else if (v && typeof v === "object") {
        for (const [k, x] of Object.entries(v)) { const p = findUnknown(x, path ? `${path}.${k}` : k); if (p) return p; }
    }
    return undefined;
}

/** Reads fields off a resource's inputs and refuses whatever is left unread. */
class Inputs {
    private readonly seen = new Set<string>();
    constructor(readonly id: string, readonly inputs: Record<string, any>) {}
    get<T = any>(key: string): T | undefined {
        this.seen.add(key);
        const v = this.inputs[key];
        return v === null ? undefined : v;
    }
    /** Fields that only matter to the provider's bookkeeping, not to the engine object. */
    ignore(...keys: string[]) { keys.forEach(k => this.seen.add(k)); }
    /** Booleans the harness supports only at their engine default. */
    onlyFalse(...keys: string[]) {
        const bad = keys.filter(k => { this.seen.add(k); return this.inputs[k] === true; });
        if (bad.length) throw new UnsupportedInputError(this.id, bad, "only false is supported");
    }
    done() {
        const left = Object.keys(this.inputs).filter(k => !this.seen.has(k) && this.inputs[k] !== undefined && this.inputs[k] !== null);
        if (left.length) throw new UnsupportedInputError(this.id, left.sort());
    }
}

function only(id: string, field: string, obj: Record<string, any> | undefined, allowed: string[]) {
    if (!obj) return;
    const bad = Object.keys(obj).filter(k => !allowed.includes(k) && obj[k] !== undefined && obj[k] !== null);
    if (bad.length) throw new UnsupportedInputError(id, bad.map(b => `${field}.${b}`));
}

function labelsOf(id: string, field: string, list: { label: string; value: string }[] | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [i, l] of (list ?? []).entries()) {
        only(id, `${field}[${i}]`, l, ["label", "value"]);
        if (l.label === RUN_LABEL || l.label === LOGICAL_LABEL) throw new Error(`harness: ${id}: label ${l.label} is reserved for the harness`);
        out[l.label] = String(l.value);
    }
    return out;
}

/** Go duration strings as the provider takes them ("10s", "1m30s", "500ms") -> nanoseconds. */
export function durationNs(id: string, field: string, s: string | undefined): number | undefined {
    if (s === undefined) return undefined;
    const units: Record<string, number> = { h: 3600e9, m: 60e9, s: 1e9, ms: 1e6, us: 1e3, "µs": 1e3, ns: 1 };
    const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;
    let total = 0, m: RegExpExecArray | null, consumed = 0;
    while ((m = re.exec(s))) { total += parseFloat(m[1]!) * units[m[2]!]!; consumed = re.lastIndex; }
    if (s === "0") return 0;
    if (!s || consumed !== s.length) throw new Error(`harness: ${id}: ${field}=${JSON.stringify(s)} is not a duration like "10s"`);
    return Math.round(total);
}

function intOf(id: string, field: string, v: unknown): number {
    const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n)) throw new UnsupportedInputError(id, [field], `need a numeric id, got ${JSON.stringify(v)}`);
    return n;
}

const MiB = 1024 * 1024;

export function planResources(resources: RecordedResource[], opts: PlanOptions): Plan {
    const docker = resources.filter(r => r.custom && r.type.startsWith("docker:"));
    const known = new Set<string>(Object.values(TYPES));
    const strange = docker.filter(r => !known.has(r.type));
    if (strange.length) {
        throw new Error(`harness: unsupported resource types: ${[...new Set(strange.map(r => `${r.type} (${r.name})`))].join(", ")}`);
    }
    const revealed = new Map(docker.map(r => [r.urn, redact(r.inputs, true) as Record<string, any>]));
    for (const r of docker) {
        const p = findUnknown(revealed.get(r.urn), "");
        if (p) throw new Error(`harness: ${r.type} "${r.name}": input ${p} is unknown at record time (run the recorder with preview: false)`);
    }
    const suffix = opts.nameSuffix ?? "";
    const fixed = (n: string) => `${n}${suffix}`;

    const networks: NetworkSpec[] = [];
    const netNames = new Map<string, string>();
    for (const r of docker.filter(x => x.type === TYPES.network)) {
        const id = `${r.type} "${r.name}"`;
        const i = new Inputs(id, revealed.get(r.urn)!);
        const given = i.get<string>("name");
        const name = given ? fixed(given) : autoName(opts, r);
        if (given) netNames.set(given, name);
        const ipam = i.get<any[]>("ipamConfigs");
        const ipamOptions = i.get<Record<string, string>>("ipamOptions");
        const ipamDriver = i.get<string>("ipamDriver");
        ipam?.forEach((c, k) => only(id, `ipamConfigs[${k}]`, c, ["subnet", "gateway", "ipRange"]));
        const body: Record<string, unknown> = {
            Name: name,
            Driver: i.get("driver") ?? "bridge",
            Internal: i.get("internal") ?? false,
            Attachable: i.get("attachable") ?? false,
            Options: i.get("options") ?? {},
            Labels: { ...labelsOf(id, "labels", i.get("labels")), [RUN_LABEL]: opts.runId, [LOGICAL_LABEL]: r.name },
            CheckDuplicate: true,
        };
        if (ipam || ipamDriver || ipamOptions) {
            body.IPAM = { Driver: ipamDriver ?? "default", Options: ipamOptions ?? {},
                Config: (ipam ?? []).map(c => ({ Subnet: c.subnet, Gateway: c.gateway, IPRange: c.ipRange })) };
        }
        i.onlyFalse("ingress", "ipv6");
        i.ignore("checkDuplicate");
        i.done();
        networks.push({ logical: r.name, urn: r.urn, name, body });
    }

    const volumes: VolumeSpec[] = [];
    const volNames = new Map<string, string>();
    for (const r of docker.filter(x => x.type === TYPES.volume)) {
        const id = `${r.type} "${r.name}"`;
        const i = new Inputs(id, revealed.get(r.urn)!);
        const given = i.get<string>("name");
        const name = given ? fixed(given) : autoName(opts, r);
        if (given) volNames.set(given, name);
        const body = {
            Name: name,
            Driver: i.get("driver") ?? "local",
            DriverOpts: i.get("driverOpts") ?? {},
            Labels: { ...labelsOf(id, "labels", i.get("labels")), [RUN_LABEL]: opts.runId, [LOGICAL_LABEL]: r.name },
        };
        i.done();
        volumes.push({ logical: r.name, urn: r.urn, name, body });
    }

    // Images: the stack references them by logical ref; containers by the id/digest the provider
    // computes, which the recorder's fakes reproduce.
    const imageMap = opts.imageMap ?? {};
    const byOutput = new Map<string, string>();
    const images: ImageRef[] = [];
    const builds: BuildSpec[] = [];
    for (const r of docker.filter(x => x.type === TYPES.remoteImage || x.type === TYPES.image)) {
        const id = `${r.type} "${r.name}"`;
        const i = new Inputs(id, revealed.get(r.urn)!);
        let ref: string;
        if (r.type === TYPES.remoteImage) {
            ref = i.get<string>("name")!;
            // keepLocally/forceRemove only matter on delete, which leaves images in place here.
            i.ignore("keepLocally", "forceRemove");
            for (const f of ["pullTriggers", "triggers", "platform"]) if (i.get(f) !== undefined) throw new UnsupportedInputError(id, [f], "the harness pulls only on create");
        } else {
            ref = i.get<string>("imageName")!;
            i.ignore("buildOnPreview");
            const build = i.get<Record<string, any>>("build");
            if (i.get("registry") !== undefined) throw new UnsupportedInputError(id, ["registry"], "nothing is pushed in tests");
            // imageMap stands in for a build with an image built beforehand (scripts/build-images.sh).
            if (!imageMap[ref]) {
                if (i.get("skipPush") !== true) throw new UnsupportedInputError(id, ["skipPush"], "without skipPush the provider pushes; nothing is pushed in tests");
                builds.push(planBuild(id, r, ref, build));
            } else {
                i.ignore("skipPush");
            }
        }
        i.done();
        const local = imageMap[ref] ?? ref;
        const pull = r.type === TYPES.remoteImage && imageMap[ref] === undefined;
        images.push({ logical: r.name, urn: r.urn, ref, local, pull, registryAuth: pull ? registryAuthOf(resources, r) : [] });
        byOutput.set(ref, ref);
        const outs = (opts.imageOutputs ?? defaultImageOutputs)(r) ?? {};
        for (const v of Object.values(outs)) if (typeof v === "string") byOutput.set(v, ref);
    }

    const containers: ContainerSpec[] = [];
    for (const r of docker.filter(x => x.type === TYPES.container)) {
        containers.push(planContainer(r, revealed.get(r.urn)!, opts, { netNames, volNames, byOutput, imageMap, fixed }, opts.generation?.(r.urn) ?? 0));
    }
    // A dependency on a component (ApiService on ManagedDatabase) means its containers.
    const parent = new Map(resources.map(r => [r.urn, r.parent]));
    const under = (c: string, anc: string) => { for (let u: string | undefined = c; u; u = parent.get(u)) if (u === anc) return true; return false; };
    for (const c of containers) {
        c.dependsOn = [...new Set(c.dependsOn.flatMap(d => containers.filter(x => x !== c && under(x.urn, d)).map(x => x.urn)))];
    }
    return { networks, volumes, images, builds, containers: topoSort(containers), names: { netNames, volNames, byOutput, imageMap, fixed } };
}

/** A `docker.Image`'s `build` with the provider's defaults (marshalBuildAndApplyDefaults). */
function planBuild(id: string, r: RecordedResource, imageName: string, build: Record<string, any> | undefined): BuildSpec {
    // builderVersion, cacheFrom, network, addHosts: not modelled (see docs/pulumi-docker-provider-facts.md).
    only(id, "build", build, ["context", "dockerfile", "args", "platform", "target"]);
    const context = path.resolve(build?.context ?? ".");
    if (!fs.existsSync(context) || !fs.statSync(context).isDirectory()) throw new Error(`harness: ${id}: build.context ${context} is not a folder`);
    const dockerfile = build?.dockerfile !== undefined ? path.resolve(build.dockerfile) : path.join(context, "Dockerfile");
    if (!fs.existsSync(dockerfile)) throw new Error(`harness: ${id}: no Dockerfile at ${dockerfile}`);
    const args: Record<string, string> = {};
    for (const [k, v] of Object.entries(build?.args ?? {})) {
        if (typeof v !== "string") throw new Error(`harness: ${id}: build.args.${k} must be a string, got ${JSON.stringify(v)}`);
        args[k] = v;
    }
    return { logical: r.name, urn: r.urn, imageName, context, dockerfile, args, platform: build?.platform, target: build?.target };
}

/**
 * The `registryAuth` of the docker.Provider a resource was registered with. A provider's inputs
 * reach the engine JSON-encoded (and, holding a secret, as one secret value).
 */
function registryAuthOf(resources: RecordedResource[], r: RecordedResource): RegistryAuthEntry[] {
    const ref = r.options.provider;
    if (!ref) return [];
    const urn = ref.slice(0, ref.lastIndexOf("::"));
    const provider = resources.find(x => x.urn === urn);
    if (!provider) throw new Error(`harness: ${r.type} "${r.name}": its provider ${urn} was not recorded`);
    const raw = (redact(provider.inputs, true) as Record<string, unknown>).registryAuth;
    if (raw === undefined || raw === null) return [];
    const list = (typeof raw === "string" ? JSON.parse(raw) : raw) as RegistryAuthEntry[];
    list.forEach((e, k) => only(`${provider.type} "${provider.name}"`, `registryAuth[${k}]`, e as never, ["address", "username", "password"]));
    return list;
}

function defaultImageOutputs(r: RecordedResource): Record<string, unknown> | undefined {
    return fakeProviderOutputs({ type: r.type, name: r.name, inputs: r.inputs, custom: true } as any);
}

export interface Names {
    netNames: Map<string, string>;
    volNames: Map<string, string>;
    byOutput: Map<string, string>;
    imageMap: Record<string, string>;
    fixed: (n: string) => string;
}

export function planContainer(r: RecordedResource, inputs: Record<string, any>, opts: PlanOptions, names: Names, generation = 0): ContainerSpec {
    const id = `${r.type} "${r.name}"`;
    const i = new Inputs(id, inputs);
    const given = i.get<string>("name");
    const name = given ? names.fixed(given) : autoName(opts, r, generation);
    const imageIn = i.get<string>("image");
    if (!imageIn) throw new Error(`harness: ${id}: no image`);
    const ref = names.byOutput.get(imageIn) ?? imageIn;
    const image = names.imageMap[ref] ?? ref;

    const config: Record<string, any> = { Image: image };
    const host: Record<string, any> = {};
    const cmd = i.get<string[]>("command");
    if (cmd) config.Cmd = cmd;
    const ep = i.get<string[]>("entrypoints");
    if (ep) config.Entrypoint = ep;
    const envs = i.get<string[]>("envs");
    if (envs) {
        for (const e of envs) if (typeof e !== "string" || !e.includes("=")) throw new Error(`harness: ${id}: envs entry ${JSON.stringify(e)} is not KEY=VALUE`);
        config.Env = envs;
    }
    for (const [k, field] of [["User", "user"], ["Hostname", "hostname"], ["Domainname", "domainname"], ["WorkingDir", "workingDir"], ["StopSignal", "stopSignal"]] as const) {
        const v = i.get<string>(field);
        if (v !== undefined) config[k] = v;
    }
    const stopTimeout = i.get<number>("stopTimeout");
    if (stopTimeout !== undefined) config.StopTimeout = stopTimeout;
    config.Labels = { ...labelsOf(id, "labels", i.get("labels")), [RUN_LABEL]: opts.runId, [LOGICAL_LABEL]: r.name };

    const hc = i.get<Record<string, any>>("healthcheck");
    if (hc) {
        only(id, "healthcheck", hc, ["tests", "interval", "timeout", "retries", "startPeriod", "startInterval"]);
        if (!Array.isArray(hc.tests) || !hc.tests.length) throw new Error(`harness: ${id}: healthcheck.tests is empty`);
        config.Healthcheck = {
            Test: hc.tests,
            Interval: durationNs(id, "healthcheck.interval", hc.interval),
            Timeout: durationNs(id, "healthcheck.timeout", hc.timeout),
            StartPeriod: durationNs(id, "healthcheck.startPeriod", hc.startPeriod),
            Retries: hc.retries,
        };
        // StartInterval needs API 1.44 (Docker 25); on 20.10 it would be dropped without a word.
        if (hc.startInterval !== undefined) throw new UnsupportedInputError(id, ["healthcheck.startInterval"], "needs Docker API 1.44");
    }
    const hasHealthcheck = !!hc && hc.tests[0] !== "NONE";

    const mem = i.get<number>("memory");
    if (mem !== undefined) host.Memory = mem * MiB;
    const memRes = i.get<number>("memoryReservation");
    if (memRes !== undefined) host.MemoryReservation = memRes * MiB;
    const memSwap = i.get<number>("memorySwap");
    if (memSwap !== undefined) host.MemorySwap = memSwap < 0 ? -1 : memSwap * MiB;
    const cpus = i.get<string>("cpus");
    if (cpus !== undefined) {
        const n = Number(cpus);
        if (!(n > 0)) throw new Error(`harness: ${id}: cpus=${JSON.stringify(cpus)} is not a positive number`);
        host.NanoCpus = Math.round(n * 1e9);
    }
    const cpuShares = i.get<number>("cpuShares");
    if (cpuShares !== undefined) host.CpuShares = cpuShares;
    const cpuSet = i.get<string>("cpuSet");
    if (cpuSet !== undefined) host.CpusetCpus = cpuSet;
    const shm = i.get<number>("shmSize");
    if (shm !== undefined) host.ShmSize = shm * MiB;
    const sec = i.get<string[]>("securityOpts");
    if (sec) host.SecurityOpt = sec;
    const caps = i.get<Record<string, string[]>>("capabilities");
    if (caps) {
        only(id, "capabilities", caps, ["adds", "drops"]);
        if (caps.adds) host.CapAdd = caps.adds;
        if (caps.drops) host.CapDrop = caps.drops;
    }
    const ro = i.get<boolean>("readOnly");
    if (ro !== undefined) host.ReadonlyRootfs = ro;
    const tmpfs = i.get<Record<string, string>>("tmpfs");
    if (tmpfs) host.Tmpfs = tmpfs;
    const init = i.get<boolean>("init");
    if (init !== undefined) host.Init = init;
    const sysctls = i.get<Record<string, string>>("sysctls");
    if (sysctls) host.Sysctls = sysctls;
    const groupAdds = i.get<string[]>("groupAdds");
    if (groupAdds) host.GroupAdd = groupAdds;
    const dns = i.get<string[]>("dns");
    if (dns) host.Dns = dns;
    const dnsOpts = i.get<string[]>("dnsOpts");
    if (dnsOpts) host.DnsOptions = dnsOpts;
    const dnsSearch = i.get<string[]>("dnsSearches");
    if (dnsSearch) host.DnsSearch = dnsSearch;
    const hosts = i.get<{ host: string; ip: string }[]>("hosts");
    if (hosts) host.ExtraHosts = hosts.map((h, k) => { only(id, `hosts[${k}]`, h, ["host", "ip"]); return `${h.host}:${h.ip}`; });
    const ulimits = i.get<{ name: string; soft: number; hard: number }[]>("ulimits");
    if (ulimits) host.Ulimits = ulimits.map((u, k) => { only(id, `ulimits[${k}]`, u, ["name", "soft", "hard"]); return { Name: u.name, Soft: u.soft, Hard: u.hard }; });

    const restart = i.get<string>("restart");
    const retries = i.get<number>("maxRetryCount");
    if (restart !== undefined) host.RestartPolicy = { Name: restart, MaximumRetryCount: retries ?? 0 };
    else if (retries !== undefined) throw new UnsupportedInputError(id, ["maxRetryCount"], "without restart");
    // The provider's schema defaults restart to "no" and always sends it (resourceDockerContainerCreate).
    else host.RestartPolicy = { Name: "no", MaximumRetryCount: 0 };
    const logDriver = i.get<string>("logDriver");
    const logOpts = i.get<Record<string, string>>("logOpts");
    if (logDriver !== undefined || logOpts !== undefined) host.LogConfig = { Type: logDriver ?? "json-file", Config: logOpts ?? {} };

    // Ports: loopback only. The provider's default address is 0.0.0.0, which would expose a test
    // database to every interface; a missing `ip` is refused rather than defaulted.
    const ports = i.get<any[]>("ports");
    if (ports?.length) {
        config.ExposedPorts = {};
        host.PortBindings = {};
        for (const [k, p] of ports.entries()) {
            only(id, `ports[${k}]`, p, ["internal", "external", "ip", "protocol"]);
            if (!p.ip || !/^127\.\d+\.\d+\.\d+$/.test(p.ip)) {
                throw new Error(`harness: ${id}: ports[${k}] publishes on ${p.ip ?? "0.0.0.0 (the provider default)"}; tests publish on 127.0.0.1 only`);
            }
            const key = `${p.internal}/${p.protocol ?? "tcp"}`;
            config.ExposedPorts[key] = {};
            (host.PortBindings[key] ??= []).push({ HostIp: p.ip, HostPort: p.external !== undefined ? String(p.external) : "" });
        }
    }
    i.onlyFalse("publishAllPorts", "privileged", "tty", "stdinOpen", "rm");
    // A one-shot job: the create waits for the exit and keeps the logs (facts sheet, "A container that exits").
    const attach = i.get<boolean>("attach") ?? false;
    const logs = i.get<boolean>("logs") ?? false;
    if (logs && !attach) throw new UnsupportedInputError(id, ["logs"], "without attach (the provider collects logs only while attached)");

    // Storage. Volume names the stack fixed are mapped like the volumes themselves.
    const volName = (n: string) => names.volNames.get(n) ?? n;
    const mounts = i.get<any[]>("mounts");
    if (mounts?.length) {
        host.Mounts = mounts.map((m, k) => {
            only(id, `mounts[${k}]`, m, ["type", "target", "source", "readOnly", "bindOptions", "volumeOptions", "tmpfsOptions"]);
            const out: Record<string, any> = { Type: m.type, Target: m.target, ReadOnly: m.readOnly ?? false };
            if (m.source !== undefined) out.Source = m.type === "volume" ? volName(m.source) : m.source;
            if (m.bindOptions) { only(id, `mounts[${k}].bindOptions`, m.bindOptions, ["propagation"]); out.BindOptions = { Propagation: m.bindOptions.propagation }; }
            if (m.volumeOptions) {
                only(id, `mounts[${k}].volumeOptions`, m.volumeOptions, ["noCopy", "labels", "driverName", "driverOptions"]);
                out.VolumeOptions = {
                    NoCopy: m.volumeOptions.noCopy ?? false,
                    Labels: labelsOf(id, `mounts[${k}].volumeOptions.labels`, m.volumeOptions.labels),
                    ...(m.volumeOptions.driverName ? { DriverConfig: { Name: m.volumeOptions.driverName, Options: m.volumeOptions.driverOptions ?? {} } } : {}),
                };
            }
            if (m.tmpfsOptions) {
                only(id, `mounts[${k}].tmpfsOptions`, m.tmpfsOptions, ["sizeBytes", "mode"]);
                out.TmpfsOptions = { SizeBytes: m.tmpfsOptions.sizeBytes, Mode: m.tmpfsOptions.mode };
            }
            return out;
        });
    }
    const vols = i.get<any[]>("volumes");
    if (vols?.length) {
        host.Binds = vols.map((v, k) => {
            only(id, `volumes[${k}]`, v, ["volumeName", "hostPath", "containerPath", "readOnly"]);
            const src = v.volumeName !== undefined ? volName(v.volumeName) : v.hostPath;
            if (!src || !v.containerPath) throw new Error(`harness: ${id}: volumes[${k}] needs volumeName or hostPath, and containerPath`);
            return `${src}:${v.containerPath}${v.readOnly ? ":ro" : ""}`;
        });
    }

    // Networks: the first one at create time (with its aliases), the rest connected before start.
    const netName = (n: string) => names.netNames.get(n) ?? n;
    const adv = (i.get<any[]>("networksAdvanced") ?? []).map((n, k) => {
        only(id, `networksAdvanced[${k}]`, n, ["name", "aliases"]);
        return { name: netName(n.name), aliases: n.aliases ?? [] };
    });
    const mode = i.get<string>("networkMode");
    host.NetworkMode = mode !== undefined ? netName(mode) : adv[0]?.name ?? "bridge";
    const first = adv.find(n => n.name === host.NetworkMode);
    const body: Record<string, any> = { ...config, HostConfig: host };
    if (first) body.NetworkingConfig = { EndpointsConfig: { [first.name]: { Aliases: first.aliases } } };
    const extraNetworks = adv.filter(n => n !== first);

    const uploads: UploadSpec[] = (i.get<any[]>("uploads") ?? []).map((u, k) => {
        only(id, `uploads[${k}]`, u, ["file", "content", "source", "sourceHash", "permissions", "owner", "group", "executable"]);
        if (!u.file?.startsWith("/")) throw new Error(`harness: ${id}: uploads[${k}].file must be an absolute path`);
        if ((u.content === undefined) === (u.source === undefined)) throw new Error(`harness: ${id}: uploads[${k}] needs exactly one of content and source`);
        const content = u.content !== undefined ? Buffer.from(String(u.content), "utf8") : fs.readFileSync(u.source);
        const mode = u.permissions !== undefined ? parseInt(String(u.permissions), 8) : u.executable ? 0o744 : 0o644;
        if (!(mode >= 0 && mode <= 0o7777)) throw new Error(`harness: ${id}: uploads[${k}].permissions=${JSON.stringify(u.permissions)} is not octal`);
        const owned = (u.owner !== undefined && u.owner !== null) || (u.group !== undefined && u.group !== null);
        return {
            file: u.file, content, mode, owned,
            uid: u.owner != null ? intOf(id, `uploads[${k}].owner`, u.owner) : 0,
            gid: u.group != null ? intOf(id, `uploads[${k}].group`, u.group) : 0,
        };
    });

    const start = i.get<boolean>("start") ?? true;
    const wait = i.get<boolean>("wait") ?? false;
    const waitTimeout = i.get<number>("waitTimeout") ?? 60;
    const mustRun = i.get<boolean>("mustRun") ?? true;
    const grace = i.get<number>("destroyGraceSeconds");
    // Provider bookkeeping with no engine-side meaning.
    i.ignore("removeVolumes", "containerReadRefreshTimeoutMilliseconds");
    i.done();
    return {
        logical: r.name, urn: r.urn, name, body, extraNetworks, uploads, start, wait,
        waitTimeoutMs: waitTimeout * 1000, mustRun, attach, logs, destroyGraceSeconds: grace ?? 0,
        hasHealthcheck, dependsOn: r.options.dependsOn ?? [], propertyDependencies: r.propertyDependencies ?? {},
    };
}

/** Containers in dependency order (a dependency first), otherwise in registration order. */
function topoSort(cs: ContainerSpec[]): ContainerSpec[] {
    const byUrn = new Map(cs.map(c => [c.urn, c]));
    const out: ContainerSpec[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (c: ContainerSpec) => {
        const s = state.get(c.urn);
        if (s === "done") return;
        if (s === "visiting") throw new Error(`harness: dependency cycle through ${c.logical}`);
        state.set(c.urn, "visiting");
        for (const d of c.dependsOn) { const dep = byUrn.get(d); if (dep) visit(dep); }
        state.set(c.urn, "done");
        out.push(c);
    };
    cs.forEach(visit);
    return out;
}
