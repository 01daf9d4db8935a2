import type * as docker from "@pulumi/docker";
import type * as random from "@pulumi/random";
import type { Transform } from "../../core/transform";

/** `transform` keys of the docker target (see `ManagedDatabaseArgs.transform`). */
export interface ManagedDatabaseDockerTransform {
    /** The server image's `docker.RemoteImage` (the backup sidecar runs it too). @example `{ keepLocally: false }` */
    image?: Transform<docker.RemoteImageArgs>;
    /** The server's `docker.Container` (`<name>-server`). @example `(args) => { args.shmSize = 1024; }` */
    container?: Transform<docker.ContainerArgs>;
    /**
     * The data `docker.Volume` (`<name>-data`). Its inputs must change only with its engine name
     * (see `dataVolume`). @example `{ driver: "local" }`
     */
    volume?: Transform<docker.VolumeArgs>;
    /** The backup sidecar's `docker.Container` (`<name>-backup`). @example `{ memory: 512, memorySwap: 512 }` */
    backup?: Transform<docker.ContainerArgs>;
    /** The backups `docker.Volume` (`<name>-backups`). @example `(args, opts) => { opts.retainOnDelete = true; }` */
    backupVolume?: Transform<docker.VolumeArgs>;
    /** The sidecar's own image (`<name>-backup-image`), when `backup.image` differs from the server's. @example `{ keepLocally: false }` */
    backupImage?: Transform<docker.RemoteImageArgs>;
    /**
     * Each generated `random.RandomPassword`: `<name>-password`, and `<name>-password-<schema>` per
     * schema. Set once, as `password` says: a new value does not reach the role.
     * @example `{ length: 48 }`
     */
    password?: Transform<random.RandomPasswordArgs>;
}
