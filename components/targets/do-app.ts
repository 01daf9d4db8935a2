import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { slug } from "../core/naming";
import { DoAppTarget } from "../core/target";
import { Transform, checkTransform, transform } from "../core/transform";
import { AppContributor, AppPart, AppSpec, isAppContributor, mergeAppSpecParts } from "./app-spec";
import { SecretRollout, SECRETS_REVISION_OUTPUT, decideSecretRollout, previousSecretsRevision } from "./secrets-rollout";

/** Per child resource, args to merge over DoApp's, or a function editing copies of them and the options. */
export interface DoAppTransform {
    /**
     * The `digitalocean.App` (`<name>-app`), after the merge: `args.spec` is the merged spec. Its
     * secret handling (`ignoreChanges` under `"keep-deployed"`) is in `opts`; keep it.
     * @example `(args, opts) => { opts.customTimeouts = { create: "30m" }; }`
     */
    app?: Transform<digitalocean.AppArgs>;
    /** Each `digitalocean.DatabaseFirewall` (`<name>-db-firewall-<key>`). @example `(args, opts) => { opts.protect = true; }` */
    firewall?: Transform<digitalocean.DatabaseFirewallArgs>;
}

/** The resources a DoApp created. */
export interface DoAppNodes {
    /** Resolves to the App once it is registered (see `DoApp.app`). */
    readonly app: Promise<digitalocean.App>;
    /** Resolves, with the App, to the `digitalocean.DatabaseFirewall` of each trusted cluster. */
    readonly firewalls: Promise<readonly digitalocean.DatabaseFirewall[]>;
}

const TRANSFORM_KEYS = { app: true, firewall: true } as const satisfies Record<keyof DoAppTransform, true>;

export interface DoAppArgs {
    /** The do-app target every contributing component was built on. */
    target: DoAppTarget;
    /**
     * The components that make up the App. Each one brings what it depends on (a Gateway its
     * services, a service the blocks it links), so listing the Gateway alone is enough for a
     * stack whose every component is reachable from it; a component listed twice counts once.
     * @example `[gateway, db, observability]`
     */
    components: readonly AppContributor[];
    /**
     * What to do with the SECRET env values. DigitalOcean reads them back as `EV[...]`, so sending
     * the same plaintext again is a diff on every preview (pulumi-digitalocean#624).
     * `"auto"` sends them only when their fingerprint differs from the one the last update
     * exported (see `previousSecretsRevision`), `"send"` always, `"keep-deployed"` never.
     * @default `"auto"`
     */
    secretValues?: SecretRollout | "auto";
    /**
     * The fingerprint the last update deployed. Export `secretsRevision` as the stack output
     * named `secretsRevision` and leave this unset: DoApp then reads it back through a reference
     * to this stack. Pass it yourself when the stack output is kept elsewhere.
     * @default the stack output `secretsRevision` of this stack
     */
    previousSecretsRevision?: pulumi.Input<string | undefined>;
    /**
     * Transform how this component creates its underlying resources: `app` (the App, after the
     * merge) and `firewall` (each database firewall), args merged over the component's (shallow)
     * or a function editing copies of the args and options in place. Logical names never change.
     * @default none
     * @example `{ app: (args, opts) => { opts.customTimeouts = { create: "30m", update: "30m" }; } }`
     */
    transform?: DoAppTransform;
}

/** Every component reachable from `roots` through `appDependencies`, each once, in a stable order. */
export function collectParts(roots: readonly unknown[]): AppPart[] {
    const seen = new Set<unknown>();
    const parts: AppPart[] = [];
    const visit = (x: unknown) => {
        if (!isAppContributor(x) || seen.has(x)) return;
        seen.add(x);
        if (x.appPart) parts.push(x.appPart);
        (x.appDependencies ?? []).forEach(visit);
    };
    roots.forEach(visit);
    return parts;
}

interface SecretEnvAt { path: string; key: string; value: pulumi.Input<string> }

/** Every SECRET env of a merged spec (all app-level: see `hoistSecrets`), with its path. */
function secretEnvs(spec: AppSpec): SecretEnvAt[] {
    return ((spec.envs ?? []) as { type?: unknown; key: string; value: pulumi.Input<string> }[])
        .map((e, j) => ({ path: `spec.envs[${j}].value`, key: e.key, value: e.value, type: e.type }))
        .filter(e => e.type === "SECRET")
        .map(({ path, key, value }) => ({ path, key, value }));
}

/** Paths of every SECRET env value in a merged spec, for `ignoreChanges`. */
export function secretValuePaths(spec: AppSpec): string[] {
    return secretEnvs(spec).map(e => e.path);
}

/**
 * Fingerprint of every SECRET env with its position: a changed value, a new secret or a shifted
 * position changes it, which is what makes keeping the deployed values safe only when it is
 * unchanged. Secret itself, so a preview never shows anything to guess at.
 */
export function fingerprintSecrets(spec: AppSpec): pulumi.Output<string> {
    const envs = secretEnvs(spec);
    return pulumi.secret(pulumi.all(envs.map(e => e.value)).apply(values =>
        createHash("sha256").update(JSON.stringify(envs.map((e, i) => [e.path, e.key, values[i]]))).digest("hex").slice(0, 32)));
}

/**
 * The sole owner of the `digitalocean.App`: it merges every component's part into one spec and
 * then creates what needs the App to exist (database firewall rules that trust it). Components
 * never depend on the App, so the graph stays acyclic. Edge DNS is a separate piece built after
 * it (`CloudflareEdge`), so this file knows nothing of Cloudflare.
 */
export class DoApp extends pulumi.ComponentResource {
    readonly spec: AppSpec;
    /** Resolves to the App once the secret rollout is decided (it needs the last update's output). */
    readonly app: Promise<digitalocean.App>;
    /** `https://<app>.ondigitalocean.app`, or the primary custom domain once it is live. */
    readonly liveUrl: pulumi.Output<string>;
    readonly defaultIngress: pulumi.Output<string>;
    /** Export it as the stack output `secretsRevision` (secret): the next run compares against it. */
    readonly secretsRevision: pulumi.Output<string>;
    /** What this run does with secret values, once decided. */
    readonly secretRollout: Promise<SecretRollout>;
    /** The Pulumi name, for pieces that alias resources this component used to own. */
    readonly logicalName: string;
    /** The underlying resources this component creates: the ones `transform` reaches. */
    readonly nodes: DoAppNodes;
    private readonly firewalls: digitalocean.DatabaseFirewall[] = [];

    constructor(name: string, args: DoAppArgs, opts?: pulumi.ComponentResourceOptions) {
        const { target } = args;
        checkTransform({ kind: "DoApp", name }, args.transform, Object.keys(TRANSFORM_KEYS));
        const parts = collectParts(args.components);
        const spec = mergeAppSpecParts(target.appName, target.region, parts);
        super("slipway:targets:DoApp", name, {}, opts);
        this.logicalName = name;
        this.spec = spec;
        this.secretsRevision = fingerprintSecrets(spec);
        this.secretRollout = this.decide(args);
        // The App registers once the decision is made; keep the program alive until it has, or
        // the run could end without it and the engine would plan to delete the deployed App.
        const registered = pulumi.runtime.rpcKeepAlive();
        this.app = this.secretRollout.then(mode => this.createApp(name, target, parts, spec, mode, args.transform ?? {}));
        // Released either way; a failure still rejects (and fails the run), it is never swallowed.
        this.app.then(registered, (err: unknown) => { registered(); throw err; });
        const firewalls = this.app.then(() => this.firewalls);
        // The App's own rejection reports a failure; this one is for readers of `nodes` only.
        firewalls.catch(() => undefined);
        this.nodes = { app: this.app, firewalls };
        const app = pulumi.output(this.app);
        this.liveUrl = app.apply(a => a.liveUrl);
        this.defaultIngress = app.apply(a => a.defaultIngress);
        this.registerOutputs({ liveUrl: this.liveUrl, defaultIngress: this.defaultIngress, secretsRevision: this.secretsRevision });
    }

    private async decide(args: DoAppArgs): Promise<SecretRollout> {
        const mode = args.secretValues ?? "auto";
        if (mode !== "auto") return mode;
        const previous = args.previousSecretsRevision !== undefined
            ? await new Promise<string | undefined>(resolve => pulumi.output(args.previousSecretsRevision).apply(v => { resolve(v); return v; }))
            : await previousSecretsRevision(SECRETS_REVISION_OUTPUT, this);
        return decideSecretRollout(this.secretsRevision, previous);
    }

    private createApp(name: string, target: DoAppTarget, parts: AppPart[], spec: AppSpec, mode: SecretRollout, t: DoAppTransform): digitalocean.App {
        const provider = target.providers?.digitalocean;
        const app = new digitalocean.App(...transform(t.app, `${name}-app`, { spec }, {
            parent: this,
            provider,
            ignoreChanges: mode === "keep-deployed" ? secretValuePaths(spec) : [],
            // Deleting the App drops its dev database and domains; make that an explicit act in production.
            protect: target.production,
        }));
        // A firewall replaces every rule of its cluster, so a renamed one (create new, delete old)
        // would cut the App off its database: the name comes from the owner's stable key.
        for (const part of parts) {
            (part.trustedClusters ?? []).forEach((c, i) => {
                this.firewalls.push(new digitalocean.DatabaseFirewall(...transform(t.firewall, `${name}-db-firewall-${c.key}`, {
                    clusterId: c.clusterId,
                    rules: [{ type: "app", value: app.id }],
                }, {
                    parent: this, provider, protect: target.production,
                    // Named after the owner's label before 0.2 (docs/aliases.md).
                    aliases: [{ name: `${name}-db-firewall-${slug(part.owner)}${i ? `-${i + 1}` : ""}` }],
                })));
            });
        }
        return app;
    }
}
