import * as pulumi from "@pulumi/pulumi";
import { ErrorContext, invalid } from "./errors";
import { Shape, shape } from "./shape";

/**
 * Credentials for one private registry: what `docker login <host>` takes. On a Docker host they
 * become the provider's `registryAuth` (every pull through that provider); on App Platform the
 * `registry_credentials` of each service image on that registry (GHCR and Docker Hub; DOCR needs none).
 */
export interface RegistryCredentialArgs {
    /**
     * The registry's host, exactly as image references name it: no scheme, no path.
     * `docker.io` (or `index.docker.io`, `registry-1.docker.io`) means Docker Hub.
     * @example `"ghcr.io"`
     * @example `"registry.example.com:5000"`
     */
    host: string;
    /** The account to pull as. @example `"acme-ci"` */
    username: string;
    /**
     * A read-only access token (or password). Always secret: pass `config.requireSecret(...)`, or
     * `{ secret: <configKey> }` in a stack file. A plain string is refused on a production target.
     * @example `cfg.requireSecret("ghcrToken")`
     */
    token: pulumi.Input<string>;
}

/** A checked credential: `host` canonical (Docker Hub's aliases are `docker.io`), `token` secret. */
export interface RegistryCredential {
    readonly host: string;
    readonly username: string;
    readonly token: pulumi.Output<string>;
}

export const REGISTRY_SHAPE: Shape = shape.object<RegistryCredentialArgs>({
    host: shape.string(undefined, "the registry host as image references name it, e.g. ghcr.io (no https://, no path)"),
    username: shape.string(undefined, "the account to pull as"),
    token: shape.input("a read-only token: { secret: <configKey> } in a stack file"),
}, ["host", "username", "token"], "credentials for one private registry");

export const REGISTRIES_SHAPE: Shape = shape.list(REGISTRY_SHAPE, "credentials for private registries, one per host");

/** Docker Hub's spellings. The provider looks a reference without a host up as `registry-1.docker.io`. */
export const DOCKER_HUB_HOSTS = ["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"] as const;

const HOST = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?$/;

/** The canonical host: Docker Hub's aliases are one registry. */
export function canonicalHost(host: string): string {
    return (DOCKER_HUB_HOSTS as readonly string[]).includes(host) ? "docker.io" : host;
}

/**
 * Check `registries` (already shape-checked): a bare host per entry, each host once, a username,
 * and a token that is a secret on a production target. Returns the credentials with the token
 * wrapped in `pulumi.secret`, so it stays secret wherever it lands.
 */
export function normalizeRegistries(ctx: ErrorContext, path: string, given: RegistryCredentialArgs[] | undefined, production: boolean): RegistryCredential[] {
    const seen = new Map<string, number>();
    return (given ?? []).map((r, i) => {
        const at = `${path}[${i}]`;
        const host = checkHost(ctx, `${at}.host`, r.host);
        const canonical = canonicalHost(host);
        const first = seen.get(canonical);
        if (first !== undefined) {
            invalid(ctx, `${at}.host`, `${JSON.stringify(host)} is the same registry as ${path}[${first}]`,
                "keep one entry per registry (Docker Hub's docker.io, index.docker.io and registry-1.docker.io are one)");
        }
        seen.set(canonical, i);
        if (r.username.trim() === "") invalid(ctx, `${at}.username`, "is empty", "set the account the token belongs to");
        if (typeof r.token === "string") {
            if (r.token === "") invalid(ctx, `${at}.token`, "is empty", "set a read-only access token for the registry");
            if (production) {
                invalid(ctx, `${at}.token`, "is a plain string on a production target, so it would sit in the program's source",
                    "pass it as a secret: cfg.requireSecret(\"<key>\") after `pulumi config set --secret <key>`, or { secret: <key> } in a stack file");
            }
        }
        return { host: canonical, username: r.username, token: pulumi.secret(r.token) };
    });
}

function checkHost(ctx: ErrorContext, path: string, host: string): string {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(host);
    if (scheme) {
        invalid(ctx, path, `${JSON.stringify(host)} has a scheme (${scheme[1]}://)`,
            `write the host alone, as image references name it: ${JSON.stringify(bare(host))}`);
    }
    if (host.includes("/")) {
        invalid(ctx, path, `${JSON.stringify(host)} has a path; credentials belong to a whole registry host`,
            `write the host alone: ${JSON.stringify(bare(host))}`);
    }
    if (host !== host.toLowerCase()) {
        invalid(ctx, path, `${JSON.stringify(host)} has capital letters; the credential is matched to image references by exact host`,
            `write it in lowercase, as the image references do: ${JSON.stringify(host.toLowerCase())}`);
    }
    if (!HOST.test(host)) {
        invalid(ctx, path, `${JSON.stringify(host)} is not a registry host`, `use a host name with an optional port, e.g. "ghcr.io" or "registry.example.com:5000"`);
    }
    return host;
}

const bare = (host: string) => host.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").split("/")[0]!.toLowerCase();

/**
 * The registry host of an image reference, the way the docker provider decides it
 * (terraform-provider-docker `parseImageOptions`): the first path component when the reference has
 * more than one `/`, or when that component has a `.` or `:` or is `localhost`; otherwise Docker
 * Hub, which the provider names `registry-1.docker.io`.
 */
export function registryOfImage(ref: string): string {
    const slash = ref.indexOf("/");
    const first = slash >= 0 ? ref.slice(0, slash) : "";
    const qualified = ref.split("/").length > 2 || (slash >= 0 && (/[.:]/.test(first) || first === "localhost"));
    return qualified ? first : "registry-1.docker.io";
}

/**
 * Why `ref` can only exist on the deploying machine, or undefined. The rule: a reference with no
 * registry host (nothing a remote engine could pull it from) that is tagged `local` or names one of
 * Slipway's own `slipway/*` images, which scripts/build-images.sh builds and no registry serves.
 */
export function localOnlyImage(ref: string): string | undefined {
    const firstSlash = ref.indexOf("/");
    const first = firstSlash >= 0 ? ref.slice(0, firstSlash) : "";
    if (firstSlash >= 0 && (/[.:]/.test(first) || first === "localhost")) return undefined;
    const path = ref.split("@")[0]!;
    const colon = path.lastIndexOf(":");
    const tag = colon > path.lastIndexOf("/") ? path.slice(colon + 1) : undefined;
    if (tag === "local") return "it is tagged :local (an image built on this machine)";
    if (first === "slipway") return "it is one of Slipway's local images (slipway/*, built by scripts/build-images.sh), which no registry serves";
    return undefined;
}

/**
 * The docker provider's `registryAuth` for these credentials. The provider keys each entry by its
 * host and looks a pull up by the reference's host exactly (provider.go providerSetToRegistryAuth,
 * resource_docker_image_funcs.go pullImage), so Docker Hub gets one entry per spelling a reference
 * can carry: none (`registry-1.docker.io`), `docker.io` and `index.docker.io`.
 */
export function providerRegistryAuth(creds: readonly RegistryCredential[]): { address: string; username: string; password: pulumi.Output<string> }[] {
    return creds.flatMap(c => (c.host === "docker.io" ? ["registry-1.docker.io", "docker.io", "index.docker.io"] : [c.host])
        .map(address => ({ address, username: c.username, password: c.token })));
}

/**
 * A remote engine (ssh://, tcp://) sees none of this machine's images, and the provider would ask it
 * to pull the reference from Docker Hub: refuse, at `path`, what can only exist here. Every docker
 * component calls it for each image reference it runs, before anything registers.
 */
export function refuseLocalOnlyImage(ctx: ErrorContext, path: string, ref: pulumi.Input<string> | undefined, remote: boolean): void {
    if (!remote || typeof ref !== "string") return;
    const why = localOnlyImage(ref);
    if (!why) return;
    invalid(ctx, path, `${JSON.stringify(ref)} exists only on the deploying machine (${why}), and the DockerHost's engine is remote`,
        "push it to a registry and name it there (with the registry's credentials in the DockerHost's registries), or use build, which builds on the target engine");
}
