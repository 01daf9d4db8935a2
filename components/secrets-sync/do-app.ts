import * as pulumi from "@pulumi/pulumi";
import { DoAppTarget } from "../core/target";
import { AppSpecPart } from "../targets/app-spec";
import { createPagesSync } from "./cloudflare-pages";
import { NormalizedSecretsSync } from "./normalize";

/**
 * On App Platform the secrets reach services through `link`: each linked ApiService puts them in
 * its own `envs` as `type: SECRET`, so only the services that need a key see it. The part is
 * therefore empty; it exists so DoApp's contributor check knows the component was passed.
 */
export function secretsSyncAppSpec(
    name: string,
    parent: pulumi.Resource,
    n: NormalizedSecretsSync,
    _target: DoAppTarget,
    valueOf: (key: string) => pulumi.Output<string>,
): { part: AppSpecPart; resources: pulumi.CustomResource[] } {
    return {
        part: { source: `SecretsSync "${name}"` },
        resources: createPagesSync(name, parent, n.pages, valueOf),
    };
}
