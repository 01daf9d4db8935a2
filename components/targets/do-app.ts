import * as cloudflare from "@pulumi/cloudflare";
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { DoAppTarget } from "../core/target";
import { AppSpec, AppSpecContributor, AppSpecPart, mergeAppSpecParts } from "./app-spec";
import { SlipwayConfigError } from "../core/errors";
import { slug } from "../core/naming";

export interface DoAppArgs {
    /** The do-app target every contributing component was built on. */
    target: DoAppTarget;
    /**
     * Every component built on `target`, or raw parts. Components without a part (e.g. a
     * SecretsSync that only feeds `link`) may be listed too; they contribute nothing.
     */
    parts: (AppSpecContributor | AppSpecPart)[];
    /**
     * What to do with `type: SECRET` env values. DigitalOcean stores them encrypted and reads them
     * back as `EV[...]`, so sending the same plaintext again shows a diff on every preview
     * (pulumi-digitalocean#624). `"keep-deployed"` tells Pulumi to leave them as deployed;
     * `"send"` pushes them. `planSecretRollout()` picks one from the secrets revision.
     * @default `"send"`
     */
    secretValues?: "send" | "keep-deployed";
}

function isPart(x: AppSpecContributor | AppSpecPart): x is AppSpecPart {
    return typeof (x as AppSpecPart).source === "string";
}

interface SecretEnvAt { path: string; key: string; value: pulumi.Input<string> }

function secretEnvs(spec: AppSpec): SecretEnvAt[] {
    const found: SecretEnvAt[] = [];
    const scan = (envs: unknown, prefix: string) => {
        if (!Array.isArray(envs)) return;
        envs.forEach((e, j) => {
            const env = e as { type?: unknown; key: string; value: pulumi.Input<string> };
            if (env.type === "SECRET") found.push({ path: `${prefix}.envs[${j}].value`, key: env.key, value: env.value });
        });
    };
    scan(spec.envs, "spec");
    (spec.services as unknown[] | undefined)?.forEach((s, i) => scan((s as { envs?: unknown }).envs, `spec.services[${i}]`));
    return found;
}

/** Paths of every SECRET env value in a merged spec, for `ignoreChanges`. */
export function secretValuePaths(spec: AppSpec): string[] {
    return secretEnvs(spec).map(e => e.path);
}

function partsOf(list: DoAppArgs["parts"]): AppSpecPart[] {
    return list.map(p => (isPart(p) ? p : p.appSpec)).filter((p): p is AppSpecPart => p !== undefined);
}

/**
 * Fingerprint of every SECRET env the App would get, with its position in the spec. Whoever
 * contributed it (SecretsSync, the database URL, an OTLP header), a changed value, a new secret
 * or a shifted position changes the fingerprint, which is what makes `"keep-deployed"` safe to
 * use only when it is unchanged. Secret itself, so a preview never shows anything to guess at.
 */
export function secretsRevision(target: DoAppTarget, parts: DoAppArgs["parts"]): pulumi.Output<string> {
    const envs = secretEnvs(mergeAppSpecParts(target.appName, target.region, partsOf(parts)));
    return pulumi.secret(pulumi.all(envs.map(e => e.value)).apply(values =>
        createHash("sha256").update(JSON.stringify(envs.map((e, i) => [e.path, e.key, values[i]]))).digest("hex").slice(0, 32)));
}

/**
 * The sole owner of the `digitalocean.App`. It merges every contributor's part into one spec and
 * then creates what needs the App to exist: database firewall rules that trust the App, and the
 * Cloudflare records that point at its default ingress. Contributors never depend on the App, so
 * the graph stays acyclic.
 */
export class DoApp extends pulumi.ComponentResource {
    readonly app: digitalocean.App;
    readonly spec: AppSpec;
    /** `https://<app>.ondigitalocean.app`, or the primary custom domain once it is live. */
    readonly liveUrl: pulumi.Output<string>;
    readonly defaultIngress: pulumi.Output<string>;

    constructor(name: string, args: DoAppArgs, opts?: pulumi.ComponentResourceOptions) {
        const { target } = args;
        const parts = partsOf(args.parts);
        const given = new Set(parts.map(p => p.source));
        const missing = [...target.contributors].filter(c => !given.has(c)).sort();
        if (missing.length) {
            throw new SlipwayConfigError(`DoApp "${name}"`, "parts",
                `${missing.join(", ")} ${missing.length === 1 ? "targets" : "target"} do-app but ${missing.length === 1 ? "was" : "were"} not passed to DoApp`,
                "add every component built on this target to `parts`");
        }
        const spec = mergeAppSpecParts(target.appName, target.region, parts);
        super("slipway:targets:DoApp", name, {}, opts);
        this.spec = spec;

        const ignoreChanges = args.secretValues === "keep-deployed" ? secretValuePaths(spec) : [];
        this.app = new digitalocean.App(`${name}-app`, { spec }, {
            parent: this,
            ignoreChanges,
            // Deleting the App drops its dev database and domains; make that an explicit act in production.
            protect: target.production,
        });
        this.defaultIngress = this.app.defaultIngress;
        this.liveUrl = this.app.liveUrl;

        // Named after the contributing component, not its position: a firewall replaces every rule
        // of its cluster, so a rename (create new, delete old) would cut the App off its database.
        for (const p of parts) {
            (p.trustedClusterIds ?? []).forEach((clusterId, i) => {
                new digitalocean.DatabaseFirewall(`${name}-db-firewall-${slug(p.source)}${i ? `-${i + 1}` : ""}`, {
                    clusterId,
                    rules: [{ type: "app", value: this.app.id }],
                }, { parent: this, protect: target.production });
            });
        }

        const host = this.app.defaultIngress.apply(u => u.replace(/^https?:\/\//, "").replace(/\/.*$/, ""));
        parts.flatMap(p => p.edgeRecords ?? []).forEach(r => {
            new cloudflare.DnsRecord(`${name}-dns-${r.hostname}`, {
                zoneId: r.zoneId,
                name: r.hostname,
                type: "CNAME",
                content: host,
                proxied: r.proxied,
                ttl: 1, // "automatic"; required to be 1 when proxied.
                comment: `Managed by Slipway (${pulumi.getStack()}): App Platform ingress`,
            }, { parent: this, protect: target.production });
        });

        this.registerOutputs({ appId: this.app.id, liveUrl: this.liveUrl, defaultIngress: this.defaultIngress });
    }
}
