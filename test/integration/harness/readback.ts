/**
 * What the real docker provider (@pulumi/docker 5.x, bridging kreuzwerker/terraform-provider-docker)
 * reads back from `docker inspect` on `pulumi refresh` (and after every create), and how its diff
 * then compares the program's inputs with that state. Sources, cited in
 * docs/pulumi-docker-provider-facts.md ("Read-back, input by input"): the provider's
 * `resourceDockerContainerRead` (resource_docker_container_funcs.go), `flattenContainerPorts`, and
 * the schema in resource_docker_container.go (which inputs are Computed, which have a Default,
 * which are sets). Written independently of components/core/docker.ts on purpose: the harness must
 * not check the library with the library's own formatter.
 */

const MiB = 1024 * 1024;

/** Go's `time.Duration.String()` for a whole number of nanoseconds ("1m0s", "1.5s", "500ms", "0s"). */
export function goDurationOfNs(ns: number): string {
    if (ns === 0) return "0s";
    const neg = ns < 0;
    let u = Math.abs(Math.round(ns));
    let out: string;
    if (u < 1e9) {
        // Below one second Go picks ns, µs or ms and prints a trimmed fraction.
        const [unit, div] = u < 1e3 ? ["ns", 1] : u < 1e6 ? ["µs", 1e3] : ["ms", 1e6];
        out = `${trimFraction(u / (div as number))}${unit}`;
    } else {
        const h = Math.floor(u / 3600e9); u -= h * 3600e9;
        const m = Math.floor(u / 60e9); u -= m * 60e9;
        const s = `${trimFraction(u / 1e9)}s`;
        out = h ? `${h}h${m}m${s}` : m ? `${m}m${s}` : s;
    }
    return neg ? `-${out}` : out;
}

function trimFraction(x: number): string {
    return Number.isInteger(x) ? String(x) : x.toFixed(9).replace(/0+$/, "").replace(/\.$/, "");
}

/**
 * A capability as current engines report it: upper case with the `CAP_` prefix, `ALL` as is.
 * dockerd 20.10 still echoes what it was given; newer engines (the dev stack's) normalise, and the
 * provider stores what the engine reports. The harness applies the newer rule so a test on 20.10
 * sees what a user on a current engine sees.
 */
export function engineCapability(c: string): string {
    const up = c.toUpperCase();
    return up === "ALL" || up.startsWith("CAP_") ? up : `CAP_${up}`;
}

/** How the provider's schema and read treat one container input (Pulumi's camelCase name). */
interface Field {
    /** The provider's read of the input from `docker inspect`; without it the state keeps the last applied value. */
    read?: (inspect: any, state: Record<string, any>) => unknown;
    /** Optional + Computed (or a diff-suppressed ""): left unset in the program, it takes the state's value without a diff. */
    computed?: boolean;
    /** The schema default an unset input stands for (Optional, not Computed). */
    default?: unknown;
    /** The form the diff compares (sets ignore order, blocks fill their defaults). */
    canon?: (v: any) => unknown;
    /** Computed parts of the input the program left unset, taken from the state without a diff. */
    fill?: (program: any, state: any) => unknown;
}

const sortedSet = (v: unknown[] | undefined | null) => [...(v ?? [])].map(x => JSON.stringify(x)).sort().map(x => JSON.parse(x));
const emptyToNull = (v: unknown) => (v == null || (Array.isArray(v) && !v.length) || (typeof v === "object" && !Array.isArray(v) && !Object.keys(v as object).length) ? null : v);
const map = (v: unknown) => emptyToNull(v);

/** `healthcheck` is one block; unset fields mean the schema's defaults ("0s", 0). */
function healthcheckCanon(h: any): unknown {
    if (!h) return null;
    return {
        tests: h.tests ?? [], interval: h.interval ?? "0s", timeout: h.timeout ?? "0s", startPeriod: h.startPeriod ?? "0s",
        startInterval: h.startInterval ?? "0s", retries: h.retries ?? 0,
    };
}

/** `ports`: the provider's diff suppression matches ports by internal port and protocol, whatever the order. */
function portsCanon(ps: any[] | undefined | null): unknown {
    const list = (ps ?? []).map(p => ({ internal: p.internal, external: p.external ?? null, ip: p.ip || "0.0.0.0", protocol: p.protocol ?? "tcp" }));
    return emptyToNull(list.sort((a, b) => a.internal - b.internal || a.protocol.localeCompare(b.protocol)));
}

function capabilitiesCanon(c: any): unknown {
    if (!c) return null;
    return emptyToNull({ ...(c.adds?.length ? { adds: [...c.adds].sort() } : {}), ...(c.drops?.length ? { drops: [...c.drops].sort() } : {}) });
}

/** `ports[].external` is Optional + Computed: unset, it takes the port the engine picked. */
function fillExternalPorts(program: any[] | undefined, state: any[] | undefined): unknown {
    if (!Array.isArray(program)) return program;
    return program.map(p => {
        if (p.external != null) return p;
        const same = (state ?? []).find(x => x.internal === p.internal && (x.protocol ?? "tcp") === (p.protocol ?? "tcp"));
        return same?.external != null ? { ...p, external: same.external } : p;
    });
}

/** flattenContainerPorts: every binding of NetworkSettings.Ports, sorted by internal port. */
function readPorts(inspect: any): unknown[] {
    const out: unknown[] = [];
    const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = inspect.NetworkSettings?.Ports ?? {};
    for (const key of Object.keys(ports).sort((a, b) => parseInt(a) - parseInt(b))) {
        const [internal, protocol] = key.split("/");
        for (const b of ports[key] ?? []) out.push({ internal: Number(internal), external: Number(b.HostPort), ip: b.HostIp, protocol });
    }
    return out;
}

/**
 * Every container input: how it is read back. Inputs not listed here, and listed ones without a
 * `read`, are not read back: the state keeps what was applied (envs and labels: "not set because
 * they are taken over from the Docker image", uploads, volumes, networksAdvanced, cpus,
 * destroyGraceSeconds, wait, waitTimeout, mustRun, start, ...).
 */
export const FIELDS: Readonly<Record<string, Field>> = {
    // The image is read back as the id; the recorded id is the recorder's fake, the engine's is the
    // local tag's, so the harness keeps the state's (components send the id, as the provider stores).
    image: {},
    command: { read: i => i.Config?.Cmd ?? null, computed: true },
    entrypoints: { read: i => i.Config?.Entrypoint ?? null, computed: true },
    user: { read: i => i.Config?.User ?? "", computed: true },
    hostname: { read: i => i.Config?.Hostname ?? "", computed: true },
    domainname: { read: i => i.Config?.Domainname ?? "", default: "" },
    workingDir: { read: i => i.Config?.WorkingDir ?? "", computed: true },
    stopSignal: { read: i => i.Config?.StopSignal ?? "", computed: true },
    stopTimeout: { read: i => i.Config?.StopTimeout ?? null, computed: true },
    tty: { read: i => i.Config?.Tty ?? false, default: false },
    stdinOpen: { read: i => i.Config?.OpenStdin ?? false, default: false },
    healthcheck: {
        // interval/timeout/start_period through Duration.String(); start_interval is not read.
        read: (i, state) => {
            const hc = i.Config?.Healthcheck;
            if (!hc) return state.healthcheck ?? null;
            return {
                tests: hc.Test ?? [], interval: goDurationOfNs(hc.Interval ?? 0), timeout: goDurationOfNs(hc.Timeout ?? 0),
                startPeriod: goDurationOfNs(hc.StartPeriod ?? 0), retries: hc.Retries ?? 0,
                ...(state.healthcheck?.startInterval !== undefined ? { startInterval: state.healthcheck.startInterval } : {}),
            };
        },
        computed: true, canon: healthcheckCanon,
    },
    restart: { read: i => i.HostConfig?.RestartPolicy?.Name || "no", default: "no" },
    maxRetryCount: { read: i => i.HostConfig?.RestartPolicy?.MaximumRetryCount ?? 0, default: 0 },
    memory: { read: i => (i.HostConfig?.Memory ?? 0) / MiB, default: 0 },
    // Docker stores swap = 2 x memory when only memory is set; read back in MiB, -1 as is.
    memorySwap: { read: i => (i.HostConfig?.MemorySwap > 0 ? i.HostConfig.MemorySwap / MiB : i.HostConfig?.MemorySwap ?? 0), default: 0 },
    shmSize: { read: i => (i.HostConfig?.ShmSize ?? 0) / MiB, computed: true },
    cpuShares: { read: i => i.HostConfig?.CpuShares ?? 0, default: 0 },
    cpuSet: { read: i => i.HostConfig?.CpusetCpus ?? "", default: "" },
    readOnly: { read: i => i.HostConfig?.ReadonlyRootfs ?? false, default: false },
    rm: { read: i => i.HostConfig?.AutoRemove ?? false, default: false },
    privileged: { read: i => i.HostConfig?.Privileged ?? false, default: false },
    publishAllPorts: { read: i => i.HostConfig?.PublishAllPorts ?? false, default: false },
    // The provider always sends Init (false when unset), so the engine reports false, not null.
    init: { read: i => i.HostConfig?.Init ?? false, computed: true },
    // Read only when the engine reports some; the engine's spelling (see engineCapability).
    capabilities: {
        read: (i, state) => {
            const add = i.HostConfig?.CapAdd ?? [], drop = i.HostConfig?.CapDrop ?? [];
            if (!add.length && !drop.length) return state.capabilities ?? null;
            return { adds: add.map(engineCapability), drops: drop.map(engineCapability) };
        },
        canon: capabilitiesCanon,
    },
    securityOpts: { read: i => i.HostConfig?.SecurityOpt ?? [], computed: true, canon: sortedSet },
    tmpfs: { read: i => i.HostConfig?.Tmpfs ?? null, canon: map },
    logDriver: { read: i => i.HostConfig?.LogConfig?.Type ?? "", computed: true },
    logOpts: { read: i => i.HostConfig?.LogConfig?.Config ?? null, canon: map },
    sysctls: { read: i => i.HostConfig?.Sysctls ?? null, canon: map },
    storageOpts: { read: i => i.HostConfig?.StorageOpt ?? null, canon: map },
    groupAdds: { read: i => i.HostConfig?.GroupAdd ?? [], canon: sortedSet },
    dns: { read: i => i.HostConfig?.Dns ?? [], canon: sortedSet },
    dnsOpts: { read: i => i.HostConfig?.DnsOptions ?? [], canon: sortedSet },
    dnsSearches: { read: i => i.HostConfig?.DnsSearch ?? [], canon: sortedSet },
    hosts: { read: i => (i.HostConfig?.ExtraHosts ?? []).map((x: string) => { const k = x.lastIndexOf(":"); return { host: x.slice(0, k), ip: x.slice(k + 1) }; }), canon: sortedSet },
    ulimits: { read: i => (i.HostConfig?.Ulimits ?? []).map((u: any) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })), canon: sortedSet },
    ipcMode: { read: i => i.HostConfig?.IpcMode ?? "", computed: true },
    pidMode: { read: i => i.HostConfig?.PidMode ?? "", default: "" },
    usernsMode: { read: i => i.HostConfig?.UsernsMode ?? "", default: "" },
    runtime: { read: i => i.HostConfig?.Runtime ?? "", computed: true },
    // Default "bridge". Unset, the provider creates in "bridge" mode and then connects the
    // networksAdvanced networks: the engine keeps reporting "bridge" (the harness, which creates in
    // the first network's mode, shows the inspect the provider's container would have).
    networkMode: { read: i => i.HostConfig?.NetworkMode ?? "default", default: "bridge" },
    ports: { read: readPorts, canon: portsCanon, fill: fillExternalPorts },
};

/**
 * The provider's state after a refresh: the last applied inputs with every read-back input
 * replaced by what `docker inspect` reports, in the provider's units and the engine's spelling.
 */
export function readBack(state: Record<string, any>, inspect: any): Record<string, any> {
    const out: Record<string, any> = { ...state };
    for (const [key, f] of Object.entries(FIELDS)) if (f.read) out[key] = f.read(inspect, state);
    return out;
}

function canonOf(key: string, v: unknown): string {
    const f = FIELDS[key];
    const c = f?.canon ? f.canon(v) : v;
    return stable(c ?? null);
}

const stable = (v: unknown): string => JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && !Array.isArray(x) && !Buffer.isBuffer(x) ? Object.fromEntries(Object.keys(x).sort().map(k => [k, x[k]])) : x);

/**
 * The inputs the provider's diff reports as changed between the state and the program: unset
 * Computed inputs never differ, unset ones with a default stand for it, sets ignore order, and
 * anything not in {@link FIELDS} is compared as is.
 */
export function changedInputs(state: Record<string, any>, program: Record<string, any>): string[] {
    const keys = new Set([...Object.keys(state), ...Object.keys(program)]);
    return [...keys].filter(k => {
        const f = FIELDS[k];
        let p = program[k] ?? undefined, s = state[k] ?? undefined;
        if (f && p === undefined) {
            if (f.computed) return false;
            p = f.default;
        }
        if (f && s === undefined) s = f.default;
        if (f?.fill) p = f.fill(p, s);
        return canonOf(k, p) !== canonOf(k, s);
    }).sort();
}

/** One field where the next preview would show a change: the program says one thing, the engine another. */
export interface Drift {
    logical: string;
    field: string;
    program: unknown;
    engine: unknown;
}

/**
 * Compare a container's inputs with what the provider would read back from `inspect`: the changes
 * the preview after a `pulumi refresh` would show. A block (healthcheck, capabilities) is reported
 * per differing field (`healthcheck.startPeriod`).
 */
export function driftOf(logical: string, inputs: Record<string, any>, inspect: any): Drift[] {
    const read = readBack(inputs, inspect);
    const out: Drift[] = [];
    for (const field of changedInputs(read, inputs)) {
        const f = FIELDS[field];
        const p = f?.canon ? f.canon(inputs[field] ?? f.default) : inputs[field] ?? f?.default;
        const e = f?.canon ? f.canon(read[field]) : read[field];
        if (isBlock(p) && isBlock(e)) {
            for (const k of [...new Set([...Object.keys(p), ...Object.keys(e)])].sort()) {
                if (stable(p[k] ?? null) !== stable(e[k] ?? null)) out.push({ logical, field: `${field}.${k}`, program: p[k], engine: e[k] });
            }
        } else {
            out.push({ logical, field, program: inputs[field], engine: read[field] });
        }
    }
    return out;
}

const isBlock = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
