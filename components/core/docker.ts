/**
 * Container inputs in the exact form the docker provider reads them back in. The provider
 * (@pulumi/docker 5.x) refreshes a container from `docker inspect`, so any input written in
 * another form than the read-back shows as a change on every preview:
 * - durations come back through Go's `time.Duration.String()` ("1m0s", not "60s");
 * - with `memory` set and `memorySwap` unset, Docker picks swap = 2 × memory and the next
 *   preview shows `- memorySwap`;
 * - capabilities come back with the `CAP_` prefix, and they force a replacement.
 * The diff shows after `pulumi refresh` (or `up --refresh`), which stores the read-back.
 * Target-specific, so only the docker target files import it.
 */

/**
 * Seconds as Go's `time.Duration.String()` prints them: 0.5 -> "500ms", 5 -> "5s", 60 -> "1m0s",
 * 90 -> "1m30s", 3600 -> "1h0m0s", 1.5 -> "1.5s". A port of Go's algorithm on whole nanoseconds
 * (what Docker stores), so every value it accepts prints exactly as the provider reads it back.
 */
export function goDuration(seconds: number): string {
    if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`goDuration: ${seconds} is not a duration in seconds`);
    const ns = Math.round(seconds * 1e9);
    if (!Number.isSafeInteger(ns)) throw new Error(`goDuration: ${seconds} s is too long to count in nanoseconds`);
    // Go's fmtFrac: the low `digits` digits as a fraction without trailing zeros, and the rest.
    const split = (v: number, digits: number): [number, string] => {
        const unit = 10 ** digits, f = v % unit;
        return [Math.floor(v / unit), f ? `.${String(f).padStart(digits, "0").replace(/0+$/, "")}` : ""];
    };
    if (ns === 0) return "0s";
    if (ns < 1e3) return `${ns}ns`;
    if (ns < 1e6) { const [w, f] = split(ns, 3); return `${w}${f}\u00b5s`; }
    if (ns < 1e9) { const [w, f] = split(ns, 6); return `${w}${f}ms`; }
    const [secs, f] = split(ns, 9);
    const s = secs % 60, m = Math.floor(secs / 60) % 60, h = Math.floor(secs / 3600);
    if (h) return `${h}h${m}m${s}${f}s`;
    if (m) return `${m}m${s}${f}s`;
    return `${s}${f}s`;
}

const GO_UNITS: Readonly<Record<string, number>> = { h: 3600e9, m: 60e9, s: 1e9, ms: 1e6, us: 1e3, "\u00b5s": 1e3, "\u03bcs": 1e3, ns: 1 };

/**
 * Seconds from a duration in Go's `time.ParseDuration` syntax ("1m30s", "60s", "1.5s", "500ms"):
 * the inverse of `goDuration`, which accepts every spelling. `goDuration(parseGoDuration(x)) === x`
 * holds exactly when `x` is already in the read-back form.
 */
export function parseGoDuration(text: string): number {
    if (text === "0") return 0;
    const part = /(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|\u00b5s|\u03bcs|ns)/y;
    let ns = 0, at = 0;
    while (at < text.length) {
        part.lastIndex = at;
        const hit = part.exec(text);
        if (!hit) throw new Error(`parseGoDuration: ${JSON.stringify(text)} is not a Go duration`);
        ns += Number(hit[1]) * GO_UNITS[hit[2]!]!;
        at = part.lastIndex;
    }
    if (!text) throw new Error(`parseGoDuration: "" is not a Go duration`);
    return Math.round(ns) / 1e9;
}

/**
 * A memory limit with swap pinned to the same value (no swap), in MiB as the provider takes and
 * reads them back. Spread into a container's args.
 */
export function memoryLimit(mib: number): { memory: number; memorySwap: number } {
    return { memory: mib, memorySwap: mib };
}

/** Labels as the provider's list of `{ label, value }`, sorted by key so the order never diffs. */
export function labelList(labels: Readonly<Record<string, string>>): { label: string; value: string }[] {
    return Object.keys(labels).sort().map(label => ({ label, value: labels[label]! }));
}

/** Rotated json-file logs: an unbounded log is the classic way a single host fills its disk. */
export function jsonFileLogs(maxSize = "10m", maxFiles = 3): { logDriver: string; logOpts: Record<string, string> } {
    return { logDriver: "json-file", logOpts: { "max-size": maxSize, "max-file": String(maxFiles) } };
}

/**
 * Capabilities as the engine reports them and the provider reads them back: upper case with the
 * `CAP_` prefix (`"DAC_READ_SEARCH"` comes back `"CAP_DAC_READ_SEARCH"`), `"ALL"` as is, sorted
 * (the provider's sets ignore order). Any other spelling is a diff after `pulumi refresh`, and
 * capabilities force a replacement (delete-before-create). Every Docker version takes this form.
 */
export function capabilitySet(c: { drop?: readonly string[]; add?: readonly string[] }): { drops?: string[]; adds?: string[] } {
    const form = (caps: readonly string[] | undefined) => {
        if (!caps?.length) return undefined;
        return [...new Set(caps.map(x => {
            const up = x.trim().toUpperCase();
            if (!/^[A-Z_]+$/.test(up)) throw new Error(`capabilitySet: ${JSON.stringify(x)} is not a capability name`);
            return up === "ALL" || up.startsWith("CAP_") ? up : `CAP_${up}`;
        }))].sort();
    };
    const drops = form(c.drop), adds = form(c.add);
    return { ...(drops ? { drops } : {}), ...(adds ? { adds } : {}) };
}
