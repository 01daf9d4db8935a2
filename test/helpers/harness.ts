// Shared test setup: one Recorder per mocha process (Pulumi mocks are global), plus targets.
import { Recorder } from "../../components/testing/recorder";
import { fakeProviderOutputs } from "../../components/testing/fakes";

let recorder: Recorder | undefined;

/** Start (once) and clear the recorder. Call in a `beforeEach`. */
export async function freshRecorder(opts: { stack?: string } = {}): Promise<Recorder> {
    // Another test file may have installed its own mocks since: start again then.
    if (!recorder || Recorder.current !== recorder) recorder = await Recorder.start({ stack: opts.stack ?? "test", outputs: fakeProviderOutputs });
    await recorder.settle();
    recorder.clear();
    return recorder;
}

/** A Docker target on a real DockerHost component, as stacks build it. Import after the recorder starts. */
export async function dockerTarget(environment = "dev", production = false) {
    const { DockerHost } = await import("../../components/targets/docker-host");
    return new DockerHost(`host-${environment}`, { environment, production }).target;
}

/** A DigitalOcean App Platform target (plain data). */
export async function doTarget(environment = "prod", production = true) {
    const { doAppTarget } = await import("../../components/core/target");
    return doAppTarget({ appName: "shop-api", region: "fra", environment, production });
}
