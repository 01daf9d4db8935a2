import type * as digitalocean from "@pulumi/digitalocean";
import type { Transform } from "../../core/transform";

/** `transform` keys of the do-app target (see `ManagedCacheArgs.transform`). */
export interface ManagedCacheDoAppTransform {
    /** The Valkey `digitalocean.DatabaseCluster` (`<name>-cluster`). @example `{ tags: ["cache"] }` */
    cluster?: Transform<digitalocean.DatabaseClusterArgs>;
}
