import type * as cloudflare from "@pulumi/cloudflare";
import type { Transform } from "../../core/transform";

/**
 * The `pagesProject` transform (see `SecretsSyncArgs.transform`): each `cloudflare.PagesProject`,
 * named `<name>-pages-<project>`.
 * @example `(args, opts) => { opts.ignoreChanges = [...(opts.ignoreChanges ?? []), "deploymentConfigs.preview.compatibilityDate"]; }`
 */
export type PagesProjectTransform = Transform<cloudflare.PagesProjectArgs>;
