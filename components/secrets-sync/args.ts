// SecretsSync's public Args types, apart from index.ts so normalize.ts and the target files can
// import them without an import cycle.
import type * as pulumi from "@pulumi/pulumi";
import type * as random from "@pulumi/random";
import type { Target } from "../core/target";
import type { Transform } from "../core/transform";
import type { PagesProjectTransform } from "./transforms/cloudflare-pages";

export interface GenerateSpec {
    length?: number;
    special?: boolean;
    rotationDays?: number;
}

export type SecretSource = { value: pulumi.Input<string> } | { generate: GenerateSpec };

export interface PagesSyncTarget {
    accountId: string;
    projectName: string;
    keys: string[];
    environment?: "production" | "preview";
    productionBranch?: string;
}

/**
 * Per child resource, args to merge over the ones SecretsSync builds, or a function that edits
 * copies of them and of the resource options (see `Transform` in core/transform.ts). The same on
 * both targets.
 */
export interface SecretsSyncTransform {
    /**
     * Each `generate` secret's `random.RandomPassword`, named `<name>-<key in kebab case>`
     * (`SESSION_SECRET` -> `<name>-session-secret`). A changed arg replaces the password.
     * @example `(args, opts, name) => { if (name.endsWith("-session-secret")) args.length = 64; }`
     */
    password?: Transform<random.RandomPasswordArgs>;
    /** Each Pages project's `cloudflare.PagesProject` (see `PagesProjectTransform`). */
    pagesProject?: PagesProjectTransform;
}

export interface SecretsSyncArgs {
    /** Where the linked services run. @example `host.target` */
    target: Target;
    /**
     * The single source of truth: every secret the stack hands to services, by env key
     * (upper-case snake case). A `value` comes from Pulumi config (`requireSecret`); Pulumi ESC
     * environments reach it the same way, through the stack's `environment:` import into config.
     * A `generate` entry is a random password kept in state and rotated every `rotationDays`.
     * Generated values default to 32 characters without special characters
     * (@default `{ length: 32, special: false, rotationDays: 90 }`).
     * @example `{ STRIPE_KEY: { value: cfg.requireSecret("stripeKey") }, SESSION_SECRET: { generate: { rotationDays: 30 } } }`
     */
    secrets: Record<string, SecretSource>;
    /**
     * Cloudflare Pages projects that receive some of the secrets as `secret_text` env vars.
     * `environment` defaults to `production` on a production target and `preview` otherwise;
     * a non-production stack may not write `production`. See cloudflare-pages.ts for what
     * owning the project means.
     * @default `[]`
     * @example `[{ accountId: "0123...cdef", projectName: "web", keys: ["SENTRY_AUTH_TOKEN"] }]`
     */
    pages?: PagesSyncTarget[];
    /**
     * Clock used for rotation windows; tests inject one.
     * @default `() => new Date()`
     * @example `() => new Date("2030-01-01T00:00:00Z")`
     */
    now?: () => Date;
    /**
     * Transform how this component creates its underlying resources, for what the args above do
     * not cover: per child, args merged over the component's (shallow), or a function editing
     * copies of the args and options in place. `password` (each generated secret), `pagesProject`
     * (each Pages project). Logical names never change.
     * @default none
     * @example `{ password: { special: true, overrideSpecial: "-_" } }`
     */
    transform?: SecretsSyncTransform;
}
