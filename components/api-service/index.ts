import * as pulumi from "@pulumi/pulumi";
import { MonthlyCost, targetCost } from "../core/prices";
import { apiServiceMonthlyCost } from "./do-app";
import { Linkable } from "../core/link";
import { Routable, ServiceEndpoint } from "../core/service";
import { unknownTarget } from "../core/target";
import type { AppContributor, AppPart } from "../targets/app-spec";
import type { ApiServiceArgs } from "./args";
import type { ApiServiceDockerResources } from "./docker";
import { checkApiServiceDocker, createApiServiceDocker } from "./docker";
import { apiServiceAppSpec, checkApiServiceDoApp } from "./do-app";
import { ApiServiceInput, NormalizedApiService, normalizeApiService, serviceEndpoint } from "./normalize";

export { BuildArgs, HealthcheckArgs, DEFAULTS as API_SERVICE_DEFAULTS, parseMemory, normalizeApiService, serviceEndpoint } from "./normalize";
export { DO_INSTANCE_SIZES, parseDoImage, pickInstanceSize } from "./images";
export type { ApiServiceArgs, ApiServiceTransform, MigrateArgs, VolumeArgs } from "./args";

/** The resources an ApiService created (`transform` changes how they are made). */
export interface ApiServiceNodes {
    /** docker: the image the replicas run (a `docker.RemoteImage`, or a `docker.Image` with `build`). */
    readonly image?: ApiServiceDockerResources["image"];
    /** docker: one `docker.Container` per replica, replica i at `[i - 1]`; empty on do-app. */
    readonly containers: readonly ApiServiceDockerResources["containers"][number][];
    /** docker, with `migrate`: this release's one-shot migration container. */
    readonly migration?: ApiServiceDockerResources["migration"];
    /** docker, with `migrate.backupFirst`: the dump jobs run before the migration. */
    readonly backups?: readonly ApiServiceDockerResources["backups"][number][];
    /** docker: the named volumes of `volumes`. */
    readonly volumes?: readonly ApiServiceDockerResources["volumes"][number][];
}

/**
 * Every check ApiService makes, without registering anything (a stack's preflight runs it): the
 * target-neutral normalize, then the target's own checks and defaults. Returns the service
 * normalized for its target, which is what the constructor builds from.
 */
export function validateApiService(name: string, args: ApiServiceInput): NormalizedApiService {
    const n = normalizeApiService(name, args);
    switch (args.target.kind) {
        case "docker": return checkApiServiceDocker(name, args, n);
        case "do-app": return checkApiServiceDoApp(name, args, n);
        default: return unknownTarget(args.target);
    }
}

/** A stateless HTTP service: replicated containers on Docker, a service component on App Platform. */
export class ApiService extends pulumi.ComponentResource implements Routable, AppContributor {
    readonly endpoint: ServiceEndpoint;
    /** `http://<name>:<port>`: the address other containers/components use (same on both targets). */
    readonly internalUrl: pulumi.Output<string>;
    /** do-app: the service's entry in the App. */
    readonly appPart?: AppPart;
    /** do-app: the linked blocks, which DoApp adds to the App with the service. */
    readonly appDependencies?: readonly Linkable[];
    /** docker only: one per replica. */
    readonly containers?: ApiServiceDockerResources["containers"];
    /** docker only. */
    readonly image?: ApiServiceDockerResources["image"];
    /** The underlying resources this component created: the ones `transform` reaches. */
    readonly nodes: ApiServiceNodes;
    /** USD per month with its line items (components/core/prices.ts); on docker the host's price covers it. */
    readonly monthlyCost: pulumi.Output<MonthlyCost>;

    constructor(name: string, args: ApiServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        const n = validateApiService(name, args);
        super("slipway:service:ApiService", name, {}, opts);
        this.endpoint = serviceEndpoint(name, n, args.target.kind);
        this.internalUrl = pulumi.output(`http://${name}:${n.port}`);
        switch (args.target.kind) {
            case "docker": {
                const r = createApiServiceDocker(name, this, n, args.target, args.transform);
                this.containers = r.containers;
                this.image = r.image;
                this.nodes = { image: r.image, containers: r.containers, migration: r.migration, backups: r.backups, volumes: r.volumes };
                break;
            }
            case "do-app":
                this.appPart = apiServiceAppSpec(name, n, args.target, args.transform);
                this.appDependencies = args.link ?? [];
                this.nodes = { containers: [] };
                break;
            default: unknownTarget(args.target);
        }
        this.monthlyCost = pulumi.output(targetCost(args.target, () => apiServiceMonthlyCost(n)));
        this.registerOutputs({ endpoint: this.endpoint, internalUrl: this.internalUrl, monthlyCost: this.monthlyCost });
    }
}
