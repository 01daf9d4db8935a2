import type * as digitalocean from "@pulumi/digitalocean";
import type { Transform } from "../../core/transform";

/** `transform` keys of the do-app target (see `ManagedDatabaseArgs.transform`); a dev database creates none of them. */
export interface ManagedDatabaseDoAppTransform {
    /** The `digitalocean.DatabaseCluster` (`<name>-cluster`). @example `{ storageSizeMib: "20480" }` */
    cluster?: Transform<digitalocean.DatabaseClusterArgs>;
    /** The `digitalocean.DatabaseDb` (`<name>-db`). @example `(args, opts) => { opts.retainOnDelete = true; }` */
    database?: Transform<digitalocean.DatabaseDbArgs>;
    /**
     * Each `digitalocean.DatabaseUser`: the application role (`<name>-user`) and one per schema
     * (`<name>-user-<schema>`). @example `(args, opts, name) => { if (name.endsWith("-user")) opts.retainOnDelete = true; }`
     */
    user?: Transform<digitalocean.DatabaseUserArgs>;
    /** The `digitalocean.DatabaseConnectionPool` (`<name>-pool`), with `do.pool`. @example `{ size: 20 }` */
    pool?: Transform<digitalocean.DatabaseConnectionPoolArgs>;
}
