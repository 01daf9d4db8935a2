/**
 * Container inputs in the exact form the docker provider reads them back in. The provider
 * (@pulumi/docker 5.x) refreshes a container from `docker inspect`, so any input written in
 * another form than the read-back shows as a change on every preview:
 * - durations come back through Go's `time.Duration.String()` ("1m0s", not "60s");
 * - with `memory` set and `memorySwap` unset, Docker picks swap = 2 × memory and the next
 *   preview shows `- memorySwap`.
 * Target-specific, so only the docker target files import it.
 */

/** Seconds as Go's `time.Duration.String()` prints them: 5 -> "5s", 60 -> "1m0s", 90 -> "1m30s", 3600 -> "1h0m0s". */
export function goDuration(seconds: number): string {
    if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`goDuration: ${seconds} is not a duration in seconds`);
    if (seconds === 0) return "0s";
    if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
    const whole = Math.floor(seconds);
    const frac = seconds - whole;
    const h = Math.floor(whole / 3600), m = Math.floor((whole % 3600) / 60), s = whole % 60;
    // Go prints fractional seconds without trailing zeros ("1.5s").
    const sec = frac ? `${(s + frac).toFixed(3).replace(/0+$/, "")}s` : `${s}s`;
    if (h) return `${h}h${m}m${sec}`;
    if (m) return `${m}m${sec}`;
    return sec;
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
