import type * as docker from "@pulumi/docker";
import type { Transform } from "../../core/transform";

/** `transform` keys of the docker target (see `ObservabilityArgs.transform`). */
export interface ObservabilityDockerTransform {
    /** Prometheus' `docker.RemoteImage` (the target writers run it too). @example `{ keepLocally: false }` */
    image?: Transform<docker.RemoteImageArgs>;
    /** Prometheus' `docker.Container` (`<name>-prometheus`). @example `(args) => { args.memory = 1024; args.memorySwap = 1024; }` */
    container?: Transform<docker.ContainerArgs>;
    /**
     * Each `docker.Volume`: `<name>-prometheus-data` (TSDB) and `<name>-prometheus-targets`. A
     * volume's inputs must change only with its engine name.
     * @example `(args, opts, name) => { if (name.endsWith("-data")) opts.retainOnDelete = true; }`
     */
    volume?: Transform<docker.VolumeArgs>;
    /** Each linked service's target writer `docker.Container` (`<name>-targets-<service>-<revision>`). @example `{ memory: 32, memorySwap: 32 }` */
    targetsWriter?: Transform<docker.ContainerArgs>;
    /** Alertmanager's `docker.RemoteImage`. @example `{ keepLocally: false }` */
    alertmanagerImage?: Transform<docker.RemoteImageArgs>;
    /** Alertmanager's `docker.Container` (`<name>-alertmanager`). @example `{ memory: 256, memorySwap: 256 }` */
    alertmanager?: Transform<docker.ContainerArgs>;
}
