import * as pulumi from "@pulumi/pulumi";
import { DoAppTarget } from "../core/target";
import { PagesProjectTransform, createPagesSync } from "./cloudflare-pages";
import { NormalizedSecretsSync } from "./normalize";

/**
 * On App Platform the secrets reach services only through `link` (DoApp places them as SECRET
 * envs), so the component adds nothing to the App itself: only the optional Pages sync.
 */
export function createSecretsSyncDoApp(
    name: string,
    parent: pulumi.Resource,
    n: NormalizedSecretsSync,
    _target: DoAppTarget,
    valueOf: (key: string) => pulumi.Output<string>,
    t?: PagesProjectTransform,
): ReturnType<typeof createPagesSync> {
    return createPagesSync(name, parent, n.pages, valueOf, t);
}
