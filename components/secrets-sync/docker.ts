import * as pulumi from "@pulumi/pulumi";
import { DockerTarget } from "../core/target";
import { PagesProjectTransform, createPagesSync } from "./cloudflare-pages";
import { NormalizedSecretsSync } from "./normalize";

/**
 * On a Docker host SecretsSync creates no container and no file of its own: each linked
 * ApiService uploads the values it receives as `/run/secrets/<KEY>` into its own containers
 * (see the api-service docker.ts), so a secret exists only inside the containers that use it.
 * Only the optional Cloudflare Pages sync creates resources.
 */
export function createSecretsSyncDocker(
    name: string,
    parent: pulumi.Resource,
    n: NormalizedSecretsSync,
    _target: DockerTarget,
    valueOf: (key: string) => pulumi.Output<string>,
    t?: PagesProjectTransform,
): ReturnType<typeof createPagesSync> {
    return createPagesSync(name, parent, n.pages, valueOf, t);
}
