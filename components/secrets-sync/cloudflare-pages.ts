import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { transform } from "../core/transform";
import { NormalizedPagesProject } from "./normalize";
import type { PagesProjectTransform } from "./transforms/cloudflare-pages";

export type { PagesProjectTransform } from "./transforms/cloudflare-pages";

/**
 * Cloudflare Pages sync, shared by both targets: the Pages project is independent of where the
 * API runs (seed 001 syncs the same store to the backend and to Pages), so it cannot live in
 * do-app.ts alone. This is the only file of the folder that imports @pulumi/cloudflare.
 *
 * Cloudflare v6 has no resource for a single Pages env var: `PagesProject` is the only writer of
 * `deployment_configs.<env>.env_vars`. Owning the whole project is the least destructive option
 * there is, made safer by:
 * - `retainOnDelete`: removing the sync (or the stack) never deletes the frontend's project;
 * - `ignoreChanges` on `buildConfig`, `source` and `productionBranch`: those stay with whoever set
 *   up the project (dashboard, git integration) and are never overwritten after creation.
 * Limits (documented, not hidden): an existing project must be imported first
 * (`pulumi import cloudflare:index/pagesProject:PagesProject ...`), which Cloudflare only allows
 * once its secret env vars are removed; and the synced environments' env vars are owned here,
 * so a var added in the dashboard to a synced environment is removed on the next update.
 */
export function createPagesSync(
    name: string,
    parent: pulumi.Resource,
    projects: readonly NormalizedPagesProject[],
    valueOf: (key: string) => pulumi.Output<string>,
    t?: PagesProjectTransform,
): cloudflare.PagesProject[] {
    return projects.map(p => {
        const envVars = (keys: string[] | undefined) => keys === undefined ? undefined
            : { envVars: Object.fromEntries(keys.map(k => [k, { type: "secret_text", value: pulumi.secret(valueOf(k)) }])) };
        return new cloudflare.PagesProject(...transform(t, `${name}-pages-${p.projectName}`, {
            accountId: p.accountId,
            name: p.projectName,
            productionBranch: p.productionBranch,
            deploymentConfigs: {
                production: envVars(p.environments.production),
                preview: envVars(p.environments.preview),
            },
        }, { parent, retainOnDelete: true, ignoreChanges: ["buildConfig", "source", "productionBranch"] }));
    });
}
