import * as pulumi from "@pulumi/pulumi";
import { MonthlyCost, free, targetCost } from "../core/prices";
import * as random from "@pulumi/random";
import { SlipwayConfigError, describe } from "../core/errors";
import { EnvVar } from "../core/env";
import { Link, Linkable } from "../core/link";
import { transform } from "../core/transform";
import type { SecretsSyncArgs } from "./args";
import type { createPagesSync } from "./cloudflare-pages";
import { createSecretsSyncDocker } from "./docker";
import { createSecretsSyncDoApp } from "./do-app";
import { normalizeSecretsSync } from "./normalize";

export { GenerateSpec, PagesSyncTarget, SecretSource, rotationEpoch } from "./normalize";
export type { SecretsSyncArgs, SecretsSyncTransform } from "./args";

/** The resources a SecretsSync created (`transform` changes how they are made). */
export interface SecretsSyncNodes {
    /** The `random.RandomPassword` of each `generate` secret, by key. */
    readonly passwords: Readonly<Record<string, random.RandomPassword>>;
    /** One `cloudflare.PagesProject` per entry of `pages`. */
    readonly pagesProjects: ReturnType<typeof createPagesSync>;
}

/**
 * Holds a stack's secrets once and fans them out: to linked ApiServices (`link: [secrets]` or
 * `link: [secrets.pick("A", "B")]`) and, optionally, to Cloudflare Pages.
 */
export class SecretsSync extends pulumi.ComponentResource implements Linkable {
    /** Secret keys, sorted. */
    readonly keys: readonly string[];
    /** Every value, each wrapped as a Pulumi secret. */
    readonly values: Readonly<Record<string, pulumi.Output<string>>>;
    /** Resources the Pages sync owns (empty without `pages`). */
    readonly pagesProjects: readonly pulumi.CustomResource[];
    /** The underlying resources this component created: the ones `transform` reaches. */
    readonly nodes: SecretsSyncNodes;
    /** USD per month with its line items (components/core/prices.ts); on docker the host's price covers it. */
    readonly monthlyCost: pulumi.Output<MonthlyCost>;

    readonly linkLabel: string;
    private readonly componentName: string;
    private readonly env: Readonly<Record<string, EnvVar>>;

    constructor(name: string, args: SecretsSyncArgs, opts?: pulumi.ComponentResourceOptions) {
        const n = normalizeSecretsSync(name, args);
        super("slipway:secrets:SecretsSync", name, {}, opts);
        this.componentName = name;
        this.linkLabel = describe({ kind: "SecretsSync", name });
        const values: Record<string, pulumi.Output<string>> = {};
        const passwords: Record<string, random.RandomPassword> = {};
        for (const s of n.secrets) {
            if (s.kind === "value") {
                values[s.key] = pulumi.secret(pulumi.output(s.value));
                continue;
            }
            const password = new random.RandomPassword(...transform(args.transform?.password, `${name}-${s.key.toLowerCase().replace(/_/g, "-")}`, {
                length: s.length,
                special: s.special,
                // Changes only when a rotation window ends, which replaces the password.
                keepers: { rotation: s.rotation },
            }, { parent: this }));
            passwords[s.key] = password;
            values[s.key] = pulumi.secret(password.result);
        }
        this.keys = n.secrets.map(s => s.key);
        this.values = values;
        // One EnvVar per key, shared by every link: App Platform merges equal secrets by identity.
        this.env = Object.fromEntries(this.keys.map(k => [k, { key: k, value: values[k]!, secret: true }]));
        const valueOf = (key: string) => values[key]!;
        const pagesProjects = args.target.kind === "docker"
            ? createSecretsSyncDocker(name, this, n, args.target, valueOf, args.transform?.pagesProject)
            : createSecretsSyncDoApp(name, this, n, args.target, valueOf, args.transform?.pagesProject);
        this.pagesProjects = pagesProjects;
        this.nodes = { passwords, pagesProjects };
        this.monthlyCost = pulumi.output(targetCost(args.target, () => free("App-level secrets and Cloudflare Pages variables add no priced resource")));
        this.registerOutputs({ keys: this.keys, values: this.values, monthlyCost: this.monthlyCost });
    }

    /** Every secret, as a secret env var of the linked service. */
    link(): Link {
        return secretsLinkable(this.componentName, this.env).link({ service: "", port: 0 });
    }

    /**
     * A Linkable carrying only `keys`, for services that should not see every secret.
     * @example `link: [secrets.pick("STRIPE_KEY")]`
     */
    pick(...keys: string[]): Linkable {
        return secretsLinkable(this.componentName, this.env).pick(...keys);
    }
}

/** The SecretsSync named `name` as a Linkable handing over `env`, and its `pick`. */
function secretsLinkable(name: string, env: Readonly<Record<string, EnvVar>>): Linkable & { pick(...keys: string[]): Linkable } {
    const where = describe({ kind: "SecretsSync", name });
    const all = Object.keys(env).sort();
    return {
        linkLabel: where,
        link: () => ({ env: all.map(k => env[k]!) }),
        pick(...keys: string[]): Linkable {
            if (keys.length === 0) {
                throw new SlipwayConfigError(where, "pick()", "was called without keys", `name the keys to pass, e.g. pick("${all[0]}")`);
            }
            const seen = new Set<string>();
            for (const k of keys) {
                if (!all.includes(k)) {
                    throw new SlipwayConfigError(where, `pick("${k}")`, `"${k}" is not one of the secrets`, `use one of ${all.join(", ")}`);
                }
                if (seen.has(k)) throw new SlipwayConfigError(where, `pick("${k}")`, `"${k}" is picked twice`, "name each key once");
                seen.add(k);
            }
            const picked = [...seen].sort();
            return { linkLabel: `${where} (${picked.join(", ")})`, link: () => ({ env: picked.map(k => env[k]!) }) };
        },
    };
}

/**
 * The SecretsSync named `name` with placeholder values and no resources: a stack's preflight
 * links each service to it (or to its `pick`) before anything registers.
 */
export function secretsSyncLinkStandIn(name: string, keys: readonly string[]): Linkable & { pick(...keys: string[]): Linkable } {
    const value = pulumi.secret("preflight");
    return secretsLinkable(name, Object.fromEntries(keys.map(k => [k, { key: k, value, secret: true }])));
}
