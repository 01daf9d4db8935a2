// Pure App Platform facts used by do-app.ts (checkApiServiceDoApp, apiServiceAppSpec): image reference mapping and instance sizes.
// Kept apart so the do-app check stays readable and these tables are unit-tested on their own.

/**
 * The current `instance_size_slug` values, in the order of test/fixtures/shared/schemas/do-app-spec.schema.json
 * (`$defs/app_component_instance_base`). A unit test reads the schema and fails if they drift.
 */
export const DO_INSTANCE_SIZES = [
    "apps-s-1vcpu-0.5gb", "apps-s-1vcpu-1gb-fixed", "apps-s-1vcpu-1gb", "apps-s-1vcpu-2gb", "apps-s-2vcpu-4gb",
    "apps-d-1vcpu-0.5gb", "apps-d-1vcpu-1gb", "apps-d-1vcpu-2gb", "apps-d-1vcpu-4gb", "apps-d-2vcpu-4gb",
    "apps-d-2vcpu-8gb", "apps-d-4vcpu-8gb", "apps-d-4vcpu-16gb", "apps-d-8vcpu-32gb",
] as const;
export type DoInstanceSize = typeof DO_INSTANCE_SIZES[number];

/** Still accepted by the API but deprecated: rejected here with a pointer to a current size. */
export const DO_LEGACY_INSTANCE_SIZES = [
    "basic-xxs", "basic-xs", "basic-s", "basic-m",
    "professional-xs", "professional-s", "professional-m", "professional-1l", "professional-l", "professional-xl",
] as const;

export function sizeOf(slug: DoInstanceSize): { shared: boolean; vcpus: number; memoryMiB: number; fixed: boolean } {
    const m = /^apps-([sd])-(\d+)vcpu-([\d.]+)gb(-fixed)?$/.exec(slug)!;
    return { shared: m[1] === "s", vcpus: Number(m[2]), memoryMiB: Number(m[3]) * 1024, fixed: m[4] !== undefined };
}

/**
 * The smallest size that fits a Docker-style limit: shared sizes first (cheapest), then
 * dedicated; `-fixed` is skipped because it cannot autoscale. undefined when nothing fits.
 */
export function pickInstanceSize(memoryMiB: number, cpus: number): DoInstanceSize | undefined {
    const candidates = DO_INSTANCE_SIZES.filter(s => !sizeOf(s).fixed)
        .map(s => ({ s, ...sizeOf(s) }))
        .sort((a, b) => Number(a.shared === false) - Number(b.shared === false) || a.memoryMiB - b.memoryMiB || a.vcpus - b.vcpus);
    return candidates.find(c => c.memoryMiB >= memoryMiB && c.vcpus >= cpus)?.s;
}

/** The App spec `image` block (Pulumi camelCase shape). */
export interface DoImage {
    registryType: "DOCR" | "GHCR" | "DOCKER_HUB";
    registry?: string;
    repository: string;
    tag?: string;
    digest?: string;
}

export type ParsedDoImage = { ok: true; image: DoImage } | { ok: false; problem: string; fix: string };

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOCKER_HUB_HOSTS = ["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"];

/**
 * Map `[host/]path[:tag][@digest]` to App Platform's image source. DOCR leaves `registry` empty
 * (the account has one registry); GHCR and Docker Hub put the owner/namespace in `registry`.
 * An explicit tag or digest is required: `latest` on App Platform makes a redeploy silently
 * change what runs. With both, the digest wins (the API accepts only one).
 */
export function parseDoImage(ref: string): ParsedDoImage {
    const fail = (problem: string, fix: string): ParsedDoImage => ({ ok: false, problem, fix });
    let rest = ref;
    let digest: string | undefined;
    const at = rest.indexOf("@");
    if (at >= 0) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
        if (!DIGEST.test(digest)) return fail(`${JSON.stringify(ref)} has a malformed digest`, "use @sha256: followed by 64 lowercase hex characters");
    }
    let tag: string | undefined;
    const colon = rest.lastIndexOf(":");
    if (colon > rest.lastIndexOf("/")) {
        tag = rest.slice(colon + 1);
        rest = rest.slice(0, colon);
        if (!TAG.test(tag)) return fail(`${JSON.stringify(ref)} has an invalid tag`, "use letters, digits, '_', '.' and '-' (at most 128)");
    }
    if (tag === undefined && digest === undefined) {
        return fail(`${JSON.stringify(ref)} has no tag or digest`, `pin a version, e.g. "${ref}:1.4.2" or "${ref}@sha256:<digest>"`);
    }
    const parts = rest.split("/");
    let host = "docker.io";
    if (parts.length > 1 && (parts[0]!.includes(".") || parts[0]!.includes(":") || parts[0] === "localhost")) host = parts.shift()!;
    if (parts.length === 0 || !parts.every(p => COMPONENT.test(p))) {
        return fail(`${JSON.stringify(ref)} is not an image reference`, `use "registry/repository:tag" with a lowercase repository, e.g. "ghcr.io/acme/api:1.4.2"`);
    }
    const pin = digest !== undefined ? { digest } : { tag };
    if (host === "registry.digitalocean.com") {
        if (parts.length < 2) return fail(`${JSON.stringify(ref)} names no repository in the DigitalOcean registry`, `use "registry.digitalocean.com/<registry>/<repository>:<tag>"`);
        return { ok: true, image: { registryType: "DOCR", repository: parts.slice(1).join("/"), ...pin } };
    }
    if (host === "ghcr.io") {
        if (parts.length < 2) return fail(`${JSON.stringify(ref)} names no owner on GHCR`, `use "ghcr.io/<owner>/<repository>:<tag>"`);
        return { ok: true, image: { registryType: "GHCR", registry: parts[0], repository: parts.slice(1).join("/"), ...pin } };
    }
    if (DOCKER_HUB_HOSTS.includes(host)) {
        if (parts.length > 2) return fail(`${JSON.stringify(ref)} has a nested path, which Docker Hub does not have`, `use "<namespace>/<repository>:<tag>"`);
        const [registry, repository] = parts.length === 1 ? ["library", parts[0]!] : [parts[0]!, parts[1]!];
        return { ok: true, image: { registryType: "DOCKER_HUB", registry, repository, ...pin } };
    }
    return fail(`${JSON.stringify(ref)} is on ${host}, which App Platform cannot pull from`,
        "push the image to DOCR (registry.digitalocean.com), GHCR (ghcr.io) or Docker Hub");
}
