import type * as docker from "@pulumi/docker";
import type { Transform } from "../../core/transform";

/** `transform` keys of the docker target (see `GatewayArgs.transform`). */
export interface GatewayDockerTransform {
    /**
     * The Caddy image: its `docker.RemoteImage`, or with `image: { build }` its `docker.Image`.
     * @example `{ keepLocally: false }`
     */
    image?: Transform<docker.RemoteImageArgs | docker.ImageArgs>;
    /**
     * Caddy's `docker.Container`. Keep the Caddy JSON flow intact (entrypoint, command, uploads,
     * the /config mount): the loader reaches Caddy through them.
     * @example `(args) => { args.ulimits = [{ name: "nofile", soft: 65536, hard: 65536 }]; }`
     */
    container?: Transform<docker.ContainerArgs>;
    /** Each config revision's loader `docker.Container` (`name` is `<gateway>-config-<revision>`). @example `{ memory: 256, memorySwap: 256 }` */
    loader?: Transform<docker.ContainerArgs>;
    /**
     * Every `docker.Volume`: `name` tells them apart (`<gateway>-caddy-config`, `-data`, `-logs`).
     * A volume's inputs must change only with its engine name (see `caddyVolumes`).
     * @example `(args, opts, name) => { if (name.endsWith("-data")) opts.retainOnDelete = true; }`
     */
    volume?: Transform<docker.VolumeArgs>;
}
