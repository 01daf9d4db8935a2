/**
 * What the real docker provider (@pulumi/docker 5.2.0, bridging kreuzwerker/terraform-provider-docker)
 * reads back from `docker inspect` after a create, and so what the next `pulumi preview` compares the
 * program's inputs with. Sources: docs/pulumi-docker-provider-facts.md ("Read-back"),
 * the provider's resource_docker_container_funcs.go (read of memory, memory_swap, healthcheck,
 * restart, user). Written independently of components/core/docker.ts on purpose: the harness must
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

/** One field where the next preview would show a change: the program says one thing, the engine another. */
export interface Drift {
    logical: string;
    field: string;
    program: unknown;
    engine: unknown;
}

/**
 * Compare a container's recorded inputs with what the provider would read back from `inspect`.
 * Covers the fields the provider reads back and the engine normalises; an input left unset is a
 * drift when the engine reports a value other than its "unset" value (the provider stores it).
 */
export function driftOf(logical: string, inputs: Record<string, any>, inspect: any): Drift[] {
    const out: Drift[] = [];
    const cmp = (field: string, program: unknown, engine: unknown, unset: unknown) => {
        const p = program ?? unset;
        if (JSON.stringify(p) !== JSON.stringify(engine)) out.push({ logical, field, program, engine });
    };
    const host = inspect.HostConfig ?? {};
    const mem = host.Memory ? host.Memory / MiB : 0;
    cmp("memory", inputs.memory, mem, 0);
    // Docker stores swap = 2 x memory when only memory is set; the provider reads it back in MiB.
    const swap = host.MemorySwap > 0 ? host.MemorySwap / MiB : host.MemorySwap === -1 ? -1 : 0;
    cmp("memorySwap", inputs.memorySwap, swap, 0);
    cmp("restart", inputs.restart, host.RestartPolicy?.Name || "no", "no");
    // `user` is optional and computed in the provider's schema: unset, it takes the image's USER
    // without a diff (the real dev-stack preview showed none for Prometheus' image user).
    if (inputs.user !== undefined) cmp("user", inputs.user, inspect.Config?.User ?? "", "");
    const hc = inspect.Config?.Healthcheck;
    const want = inputs.healthcheck;
    if (want) {
        for (const [field, key] of [["interval", "Interval"], ["timeout", "Timeout"], ["startPeriod", "StartPeriod"]] as const) {
            const ns = hc?.[key] ?? 0;
            cmp(`healthcheck.${field}`, want[field], goDurationOfNs(ns), "0s");
        }
        cmp("healthcheck.retries", want.retries, hc?.Retries ?? 0, 0);
        cmp("healthcheck.tests", want.tests, hc?.Test ?? [], []);
    }
    return out;
}
