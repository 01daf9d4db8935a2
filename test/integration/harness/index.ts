/**
 * Generic integration harness: runs what a stack program registered (recorded under Pulumi mocks
 * by components/testing/recorder.ts) on a real Docker engine.
 *
 * ```ts
 * const images = ensureImages(["postgres", "caddy", "api"]);          // dockerd + cached local images
 * const h = new DockerHarness({ imageMap: { "postgres:16-bookworm": images.SLIPWAY_IMAGE_POSTGRES! } });
 * after(() => h.cleanup());                                            // an exit hook also cleans up
 * const { containers } = await h.apply(recorder.resources);            // the first `pulumi up`
 * await h.waitHealthy(containers.map(c => c.name), 60_000);            // -> { name: ms }
 * const port = await h.portOf(h.containers.get("api-1")!, 8080);       // 127.0.0.1 port
 * const { steps } = await h.up(nextRecording.resources);               // the next `pulumi up`
 * assert.deepEqual(await h.drift(), []);                               // a refresh would change nothing
 * await h.refresh();                                                   // `pulumi refresh`: state = read-back
 * assert.deepEqual(h.preview(next).filter(x => x.op !== "same"), []);  // ... and the preview is clean
 * ```
 *
 * The harness behaves like the real engine and provider, not like a kinder one: see the class
 * comment of {@link DockerHarness} and docs/pulumi-docker-provider-facts.md.
 *
 * - Inputs are the @pulumi/docker v5 inputs, secrets revealed (`redact(x, true)` is applied here).
 * - Every input field is applied for real or refused with {@link UnsupportedInputError}; ports must
 *   publish on 127.x; nothing is built (map image refs to local tags with `imageMap`); a RemoteImage
 *   the engine lacks is pulled with its provider's `registryAuth`, as the provider does (pull.ts).
 * - Autonamed objects are `<namePrefix>-<logicalName>-<7 hex>` (stable per run id and generation);
 *   fixed names are kept (plus `nameSuffix`). Everything is labelled `slipway.test-run=<runId>`.
 * - Uploads are extracted at "/" like the provider does, so Docker refuses them on a read-only
 *   root filesystem, and uploads with an owner use the daemon's CopyUIDGID path, as in a real deployment.
 */
export * from "./harness";
export * from "./images";
export { Engine, EngineError } from "./engine";
export { authFor, ensurePulled, registryOf, splitRef, xRegistryAuth } from "./pull";
export { changedInputs, driftOf, engineCapability, goDurationOfNs, readBack } from "./readback";
export type { Drift } from "./readback";
export { planResources, autoName, durationNs, UnsupportedInputError, RUN_LABEL, LOGICAL_LABEL, TYPES } from "./translate";
export type { Plan, ContainerSpec, NetworkSpec, VolumeSpec, UploadSpec, PlanOptions, ImageRef, RegistryAuthEntry } from "./translate";
