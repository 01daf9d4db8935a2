import type * as docker from "@pulumi/docker";
import type { Transform } from "../../core/transform";

/** `transform` keys of the docker target (see `ApiServiceArgs.transform`). */
export interface ApiServiceDockerTransform {
    /**
     * The image the replicas run: a `docker.RemoteImage` with `image`, a `docker.Image` with
     * `build` (a function tells them apart with `"build" in args`).
     * @example `{ keepLocally: false }`
     */
    image?: Transform<docker.RemoteImageArgs | docker.ImageArgs>;
    /**
     * Every replica's `docker.Container`; `name` is `<service>-<release>-<i>`. A change here alone
     * keeps the release, so the provider updates or replaces the replicas in place: set `release`
     * for a gapless rollout.
     * @example `(args) => { args.ulimits = [{ name: "nofile", soft: 65536, hard: 65536 }]; }`
     */
    container?: Transform<docker.ContainerArgs>;
}
