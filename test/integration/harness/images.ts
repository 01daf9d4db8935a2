import { ExecFileSyncOptions, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const REPO_ROOT = path.resolve(__dirname, "../../..");

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
    return env.SLIPWAY_CACHE ?? path.join(os.homedir(), ".cache", "slipway");
}

/** Local image tags written by scripts/build-images.sh: SLIPWAY_IMAGE_<NAME>=<tag>. */
export interface SlipwayImages {
    SLIPWAY_IMAGE_BASE?: string;
    SLIPWAY_IMAGE_POSTGRES?: string;
    SLIPWAY_IMAGE_CADDY?: string;
    SLIPWAY_IMAGE_PROMETHEUS?: string;
    SLIPWAY_IMAGE_ALERTMANAGER?: string;
    SLIPWAY_IMAGE_API?: string;
    /** The host's Go toolchain on the base: a stand-in for golang:<version>-bookworm. */
    SLIPWAY_IMAGE_GO?: string;
    SLIPWAY_IMAGE_PEBBLE?: string;
    SLIPWAY_IMAGE_PGBACKUP?: string;
    SLIPWAY_IMAGE_VERSITYGW?: string;
    /** Valkey 8 and the redis exporter (ManagedCache). */
    SLIPWAY_IMAGE_VALKEY?: string;
}

export function readImagesEnv(file = path.join(cacheDir(), "images.env")): SlipwayImages {
    if (!fs.existsSync(file)) return {};
    const out: Record<string, string> = {};
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        const m = /^(SLIPWAY_IMAGE_[A-Z]+)=(\S+)$/.exec(line.trim());
        if (m) out[m[1]!] = m[2]!;
    }
    return out;
}

export type ImageName = "base" | "postgres" | "caddy" | "prometheus" | "alertmanager" | "api" | "pebble" | "pgbackup" | "versitygw" | "valkey" | "go";

/**
 * Make sure the engine runs and the named images exist: runs scripts/ensure-dockerd.sh and
 * scripts/build-images.sh (seconds when cached, minutes on a fresh machine), then returns the tags.
 */
export function ensureImages(names: ImageName[]): SlipwayImages {
    const opts: ExecFileSyncOptions = { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "inherit"], timeout: 20 * 60_000 };
    execFileSync("bash", ["scripts/ensure-dockerd.sh"], opts);
    execFileSync("bash", ["scripts/build-images.sh", ...names], opts);
    const env = readImagesEnv();
    const missing = names.filter(n => !env[`SLIPWAY_IMAGE_${n.toUpperCase()}` as keyof SlipwayImages]);
    if (missing.length) throw new Error(`build-images.sh wrote no tag for ${missing.join(", ")}`);
    return env;
}
