import * as pulumi from "@pulumi/pulumi";
import { invalid } from "./errors";
import { DO_NAME } from "./naming";
import { RegistryCredential, RegistryCredentialArgs, normalizeRegistries } from "./registries";

/** The DigitalOcean App Platform regions (the App spec's enum; droplet slugs such as `fra1` are not valid here). */
export const DO_REGIONS = ["atl", "nyc", "sfo", "tor", "ams", "fra", "lon", "blr", "sgp", "syd"] as const;
export type DoRegion = typeof DO_REGIONS[number];

interface TargetBase {
    /** Environment name, e.g. `dev`, `staging`, `prod`. Lands in labels, Sentry and OTEL attributes. */
    readonly environment: string;
    /**
     * Production turns on the safety rails: `protect` and `retainOnDelete` on stateful resources,
     * HTTPS only, and no dev database.
     */
    readonly production: boolean;
}

/**
 * A single Docker host. Built by `DockerHost` (components/targets/docker-host.ts), which must exist
 * before the components because they create containers through its provider on its network.
 */
export interface DockerTarget extends TargetBase {
    readonly kind: "docker";
    readonly provider: pulumi.ProviderResource;
    /** The host's private bridge network; every container joins it and finds the others by alias. */
    readonly networkName: pulumi.Output<string>;
    /** Interface that published ports bind to. `127.0.0.1` unless the gateway must face the internet. */
    readonly publishAddress: string;
    /**
     * The engine is not reached through a local unix socket (`ssh://`, `tcp://`): it sees none of
     * the deploying machine's images, so local-only images are refused (core/registries.ts `localOnlyImage`).
     */
    readonly remote: boolean;
    /** Prefix of physical container and volume names, so two stacks can share one engine. */
    readonly namePrefix: string;
    /** Labels put on every container, volume and network (`slipway.stack`, `slipway.environment`). */
    readonly labels: Readonly<Record<string, string>>;
    /** The host VM's price in USD per month (`DockerHostArgs.hostMonthlyCost`); undefined: not estimated. */
    readonly hostMonthlyCost?: number;
}

/**
 * DigitalOcean App Platform. Plain, immutable data: components describe their App part, and one
 * `DoApp` (components/targets/do-app.ts) merges the parts into the single `digitalocean.App`.
 */
export interface DoAppTarget extends TargetBase {
    readonly kind: "do-app";
    /** The App's name (DO rule: 2 to 32 lowercase letters, digits and hyphens). */
    readonly appName: string;
    readonly region: DoRegion;
    /** Explicit providers, e.g. two DigitalOcean or Cloudflare accounts in one program. */
    readonly providers?: DoAppProviders;
    /** Credentials for private GHCR and Docker Hub images (`registry_credentials` of each service image there). */
    readonly registries?: readonly RegistryCredential[];
}

export interface DoAppProviders {
    /** Every DigitalOcean resource (App, clusters, uptime checks). @default the default provider */
    readonly digitalocean?: pulumi.ProviderResource;
    /** Every Cloudflare resource (zone settings, rulesets, DNS, Pages). @default the default provider */
    readonly cloudflare?: pulumi.ProviderResource;
}

export type Target = DockerTarget | DoAppTarget;

/**
 * Create the plain do-app target value, checked here because every component reads it first.
 * @example doAppTarget({ appName: "shop-api", region: "fra", environment: "prod", production: true })
 */
export function doAppTarget(args: {
    appName: string; region: DoRegion; environment: string; production: boolean; providers?: DoAppProviders;
    /**
     * Credentials for private images on GHCR (`ghcr.io`) or Docker Hub (`docker.io`); DOCR needs none.
     * @example `[{ host: "ghcr.io", username: "acme-ci", token: cfg.requireSecret("ghcrToken") }]`
     */
    registries?: RegistryCredentialArgs[];
}): DoAppTarget {
    const ctx = { kind: "DoAppTarget", name: args.appName };
    if (!DO_NAME.test(args.appName ?? "")) {
        invalid(ctx, "appName", `${JSON.stringify(args.appName)} is not a valid App Platform app name`,
            "use 2 to 32 lowercase letters, digits and hyphens, starting with a letter");
    }
    if (!(DO_REGIONS as readonly string[]).includes(args.region)) {
        const hint = /^[a-z]{3}\d$/.test(args.region ?? "") ? ` (App Platform regions have no number: "${args.region.slice(0, 3)}")` : "";
        invalid(ctx, "region", `${JSON.stringify(args.region)} is not an App Platform region${hint}`, `use one of ${DO_REGIONS.join(", ")}`);
    }
    const registries = normalizeRegistries(ctx, "registries", args.registries, args.production);
    registries.forEach((r, i) => {
        if (r.host !== "ghcr.io" && r.host !== "docker.io") {
            invalid(ctx, `registries[${i}].host`, `App Platform takes credentials for GHCR and Docker Hub only, not ${JSON.stringify(r.host)}`,
                r.host === "registry.digitalocean.com" ? "remove it: App Platform pulls from DOCR with the account's own access"
                    : "push the image to GHCR (ghcr.io), Docker Hub (docker.io) or DOCR");
        }
    });
    return { kind: "do-app", ...args, registries };
}

/** The `default:` of every `switch (target.kind)`: adding a target kind fails to compile there. */
export function unknownTarget(target: never): never {
    throw new Error(`unknown target kind ${JSON.stringify((target as { kind?: unknown }).kind)}`);
}
