import type * as pulumi from "@pulumi/pulumi";
import type { AppServiceAlertSpec, AppServiceLogDestinationSpec } from "../targets/app-spec";
import { EnvVar } from "./env";

/**
 * The one link contract. An ApiService calls `link()` on every block in its `link` list, once,
 * while it validates its args (so `link()` must be pure: no resources, no I/O), and applies the
 * sections of its own target. Each section is additive; a key or rule given twice is an error
 * that names both links. Adding a kind of link means implementing `Linkable`, nothing else.
 */
export interface Linkable {
    /** Who this is in error messages, e.g. `ManagedDatabase "db"`. */
    readonly linkLabel: string;
    link(request: LinkRequest): Link;
}

/** The service asking to be linked: what a block may tailor its gift to. */
export interface LinkRequest {
    /** The ApiService's logical name (its App component name and Docker network alias). */
    readonly service: string;
    /** The port the service listens on. */
    readonly port: number;
}

/** What a linked block gives one service, per target. */
export interface Link {
    /** Both targets. Secret entries are wrapped in `pulumi.secret()` by the block that made them. */
    readonly env?: readonly EnvVar[];
    /** App Platform: merged into the service's own spec entry. */
    readonly doApp?: DoAppLinkSection;
    /** Docker: who else must know where the service's replicas are. */
    readonly docker?: DockerLinkSection;
}

export interface DoAppLinkSection {
    readonly alerts?: readonly AppServiceAlertSpec[];
    readonly logDestinations?: readonly AppServiceLogDestinationSpec[];
}

export interface DockerLinkSection {
    /** A scraper (Observability's Prometheus) that wants the replicas as targets. */
    readonly scrape?: ScrapeSink;
    /**
     * Resources the replicas are created after (a healthy database server). An ordering only: a
     * value taken from their outputs would turn unknown whenever they are replaced, and replace
     * the replicas with them.
     */
    readonly dependsOn?: readonly pulumi.Resource[];
    /**
     * A database's dump before a migration (ManagedDatabase with backups): the service runs it as
     * a one-shot container of its own, once per release, before its migration. Typed parts, so the
     * volume, image and credentials stay the database's.
     */
    readonly backupBeforeMigration?: BackupBeforeMigration;
}

/** The one-shot dump job a database hands a service with a `migrate` step (docker). */
export interface BackupBeforeMigration {
    /** Who takes it, for messages and the job's logical name, e.g. `db`. */
    readonly database: string;
    /** The container's parts for a release (the dump's name carries it), bounded by `timeoutSeconds`. */
    job(release: string, timeoutSeconds: number): DockerJobParts;
}

/** What a one-shot container needs beyond the hardening every Slipway container gets. */
export interface DockerJobParts {
    readonly image: pulumi.Input<string>;
    readonly entrypoints: string[];
    readonly envs: pulumi.Input<string>[];
    readonly uploads: { file: string; content: pulumi.Input<string>; permissions: string; owner?: string; group?: string }[];
    readonly volumes: { volumeName: pulumi.Input<string>; containerPath: string }[];
    /** Numeric `uid:gid`; root (the image default) when unset. */
    readonly user?: string;
    readonly labels: Record<string, string>;
    readonly memoryMiB: number;
}

/** Where a service's replicas answer on Docker, handed to a scraper once they are declared. */
export interface ScrapeTargets {
    readonly service: string;
    /**
     * One network alias per replica index (`api-1`, `api-2`): a stopped replica's name stops
     * resolving, so it reads as down instead of vanishing. During a rollout the old and new
     * replica of an index share it, which is fine for liveness: either answering is up.
     */
    readonly hosts: readonly string[];
    readonly port: number;
    /** The replica set's release: a new one is a new set of hosts. */
    readonly release: string;
}

export interface ScrapeSink {
    /**
     * The scraper's checks on what the service will hand over, called while the service validates
     * (before anything registers): a bad name must not surface after the replicas exist.
     */
    check?(targets: Omit<ScrapeTargets, "release">): void;
    /** Called by the service after its replicas are declared; `dependsOn` are those replicas. */
    addTargets(targets: ScrapeTargets, dependsOn: pulumi.Resource[]): void;
}

export function isLinkable(x: unknown): x is Linkable {
    return typeof x === "object" && x !== null && typeof (x as Linkable).link === "function"
        && typeof (x as Linkable).linkLabel === "string";
}

