// Data protection: in production every resource that holds data is `protect`ed (and retained on
// delete), so neither a refactor nor `pulumi destroy` can drop it.
import { REMOTE_IMAGE, CONTAINER } from "./docker";
import { StackResource, StackRule, StackViolation, asArray, asRecord, isKnown, isUnknown } from "./types";

export const DOCKER_VOLUME = "docker:index/volume:Volume";
/** Stateful whatever mounts them: DO managed databases and caches (every engine is a cluster), block storage. */
export const ALWAYS_STATEFUL = ["digitalocean:index/databaseCluster:DatabaseCluster", "digitalocean:index/volume:Volume"];

/** "postgres" from "registry.example.com/team/postgres:16@sha256:..." */
export function imageBaseName(ref: string): string {
    const noDigest = ref.split("@")[0]!;
    const last = noDigest.slice(noDigest.lastIndexOf("/") + 1);
    return last.split(":")[0]!.toLowerCase();
}

/** The image references a container runs: its `image` when that is a name, and the RemoteImages it depends on. */
function imagesOf(c: StackResource, byUrn: Map<string, StackResource>): string[] {
    const refs = c.dependencies.map(u => byUrn.get(u)).filter(r => r?.type === REMOTE_IMAGE).map(r => r!.props.name);
    if (typeof c.props.image === "string" && isKnown(c.props.image) && !c.props.image.startsWith("sha256:")) refs.push(c.props.image);
    return refs.filter((r): r is string => typeof r === "string" && isKnown(r));
}

/** Docker volumes a database or cache container mounts: by volume name, or (name not known yet) by dependency. */
function databaseVolumes(resources: StackResource[], dataImages: string[]): Set<string> {
    const byUrn = new Map(resources.map(r => [r.urn, r]));
    const volumes = resources.filter(r => r.type === DOCKER_VOLUME);
    const out = new Set<string>();
    const isData = (ref: string) => dataImages.some(d => {
        const base = imageBaseName(ref);
        return base === d || base.startsWith(`${d}-`);
    });
    for (const c of resources.filter(r => r.type === CONTAINER && imagesOf(r, byUrn).some(isData))) {
        const names = [
            ...asArray<Record<string, unknown>>(c.props.volumes).map(v => v?.volumeName),
            ...asArray<Record<string, unknown>>(c.props.mounts).filter(m => m?.type === "volume").map(m => m?.source),
        ];
        for (const v of volumes) {
            const named = isKnown(v.props.name) && names.includes(v.props.name);
            const pending = names.some(isUnknown) && c.dependencies.includes(v.urn);
            if (named || pending) out.add(v.urn);
        }
    }
    return out;
}

export const dataProtected: StackRule = {
    kind: "stack",
    name: "production-data-protected",
    description: "In production, stateful resources (DO database and cache clusters, DO volumes, the Docker volumes a database " +
        "or cache container mounts) are protected and retained on delete.",
    fix: "Pass `{ protect: true, retainOnDelete: true }` to the resource (Slipway's components do when `production: true`). " +
        "retainOnDelete is checked where the engine reports it: Pulumi's analyzer protocol sends `protect` but not retainOnDelete.",
    level: "mandatory",
    settings: ["production", "dataImages"],
    check(resources, s) {
        if (!s.production) return [];
        const dbVolumes = databaseVolumes(resources, s.dataImages);
        const out: StackViolation[] = [];
        for (const r of resources.filter(x => ALWAYS_STATEFUL.includes(x.type) || dbVolumes.has(x.urn))) {
            const engine = asRecord(r.props).engine;
            const what = r.type === DOCKER_VOLUME ? "a database volume" : typeof engine === "string" ? `a ${engine} cluster` : "stateful";
            if (!r.options.protect) out.push({ urn: r.urn, message: `${r.name} is ${what} and not protected: a replace or destroy deletes the data` });
            if (r.options.retainOnDelete === false) out.push({ urn: r.urn, message: `${r.name} is ${what} and not retained on delete` });
        }
        return out;
    },
};

export const DATA_RULES: StackRule[] = [dataProtected];
