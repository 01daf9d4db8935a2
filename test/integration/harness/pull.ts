import { Engine, EngineError } from "./engine";
import { RegistryAuthEntry } from "./translate";

/**
 * The provider's pull of a RemoteImage, on the Engine API (docs/pulumi-docker-provider-facts.md,
 * "Pulls and registry credentials"; terraform-provider-docker resource_docker_image_funcs.go
 * findImage/pullImage, provider.go providerSetToRegistryAuth):
 * - an image the engine already has (by reference) is used as it is: nothing is pulled, no
 *   credential is checked;
 * - otherwise `POST /images/create` with an `X-Registry-Auth` header: the `registryAuth` entry whose
 *   host equals the reference's registry host, else an empty one (anonymous);
 * - an error answer of the daemon fails the create with the registry's words; an error that only
 *   shows in the progress stream is not read by the provider, which then fails with
 *   "unable to find or pull image".
 * Unlike the provider, it pulls only from registries on loopback (tests never reach other hosts).
 */
export async function ensurePulled(engine: Engine, ref: string, registryAuth: RegistryAuthEntry[]): Promise<"present" | "pulled"> {
    if (await hasImage(engine, ref)) return "present";
    // Tests send traffic to loopback only: a registry elsewhere would make the daemon go out.
    if (!/^(127\.\d+\.\d+\.\d+|localhost)(:\d+)?$/.test(registryOf(ref))) {
        throw new Error(`harness: no local image ${ref}, and tests pull only from registries on 127.0.0.1 that they start: build it with ` +
            `scripts/build-images.sh and pass imageMap (stack ref -> tag from images.env).`);
    }
    const auth = authFor(ref, registryAuth);
    const header = xRegistryAuth(auth ?? {});
    const { repo, tag } = splitRef(ref);
    const query = `fromImage=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`;
    let stream: string;
    try {
        stream = (await engine.request("POST", `/images/create?${query}`, { headers: { "X-Registry-Auth": header }, timeoutMs: 600_000 })).body;
    } catch (e) {
        const answer = e instanceof EngineError ? daemonMessage(e.body) : String(e);
        throw new Error(`Unable to read Docker image into resource: unable to pull image ${ref}: error pulling image ${ref}: Error response from daemon: ${answer}`);
    }
    if (await hasImage(engine, ref)) return "pulled";
    const streamed = stream.split("\n").map(l => { try { return JSON.parse(l) as { error?: string }; } catch { return {}; } }).find(m => m.error)?.error;
    throw new Error(`Unable to read Docker image into resource: unable to find or pull image ${ref}` +
        (streamed ? ` (harness: the pull stream said ${JSON.stringify(streamed)}, which the provider does not read)` : ""));
}

/**
 * The X-Registry-Auth header: base64url WITH padding. The daemon decodes it with Go's padded
 * base64.URLEncoding (the provider encodes with the same); unpadded, it is ignored and the pull is anonymous.
 */
export function xRegistryAuth(auth: object): string {
    return Buffer.from(JSON.stringify(auth)).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

async function hasImage(engine: Engine, ref: string): Promise<boolean> {
    return (await engine.request("GET", `/images/${encodeURIComponent(ref)}/json`, { ok: [404] })).status === 200;
}

const daemonMessage = (body: string): string => { try { return (JSON.parse(body) as { message: string }).message; } catch { return body.trim(); } };

/** The registry host of a reference as the provider decides it (parseImageOptions). */
export function registryOf(ref: string): string {
    const slash = ref.indexOf("/");
    const first = slash >= 0 ? ref.slice(0, slash) : "";
    const qualified = ref.split("/").length > 2 || (slash >= 0 && (/[.:]/.test(first) || first === "localhost"));
    return qualified ? first : "registry-1.docker.io";
}

/** The provider keys an entry by its address without scheme and path, and looks a pull up by exact host. */
export function authFor(ref: string, entries: RegistryAuthEntry[]): { username: string; password: string; serveraddress: string } | undefined {
    const host = registryOf(ref);
    const hit = entries.find(e => e.address.replace(/^https?:\/\//, "").split("/")[0] === host);
    if (!hit) return undefined;
    const server = /^https?:\/\//.test(hit.address) ? hit.address : `https://${hit.address}`;
    return { username: hit.username ?? "", password: hit.password ?? "", serveraddress: server };
}

/** `repo[:tag]` or `repo@digest` -> the query of POST /images/create (the tag defaults to latest). */
export function splitRef(ref: string): { repo: string; tag: string } {
    const at = ref.indexOf("@");
    if (at >= 0) return { repo: ref.slice(0, at), tag: ref.slice(at + 1) };
    const colon = ref.lastIndexOf(":");
    if (colon > ref.lastIndexOf("/")) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
    return { repo: ref, tag: "latest" };
}
