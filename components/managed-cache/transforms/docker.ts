import type * as docker from "@pulumi/docker";
import type * as random from "@pulumi/random";
import type { Transform } from "../../core/transform";

/** `transform` keys of the docker target (see `ManagedCacheArgs.transform`). */
export interface ManagedCacheDockerTransform {
    /** The server image's `docker.RemoteImage` (`<name>-image`). @example `{ keepLocally: false }` */
    image?: Transform<docker.RemoteImageArgs>;
    /** The server's `docker.Container` (`<name>-server`). @example `{ cpuShares: 512 }` */
    container?: Transform<docker.ContainerArgs>;
    /** The AOF `docker.Volume` (`<name>-data`), with `persistence`. @example `(args, opts) => { opts.retainOnDelete = true; }` */
    volume?: Transform<docker.VolumeArgs>;
    /** The generated `random.RandomPassword` (`<name>-password`). @example `{ length: 48 }` */
    password?: Transform<random.RandomPasswordArgs>;
    /** The metrics exporter's `docker.Container` (`<name>-exporter`). @example `{ memory: 64, memorySwap: 64 }` */
    exporter?: Transform<docker.ContainerArgs>;
    /** The exporter's own image (`<name>-exporter-image`), when it differs from the server's. @example `{ keepLocally: false }` */
    exporterImage?: Transform<docker.RemoteImageArgs>;
}
