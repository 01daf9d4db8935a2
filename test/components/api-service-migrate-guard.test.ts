import { strict as assert } from "assert";
import { Recorder } from "../../components/testing/recorder";
import { fakeProviderOutputs } from "../../components/testing/fakes";

const CONTAINER = "docker:index/container:Container";

/**
 * The program's half of a failed migration (the provider's half, a create that succeeds whatever
 * the exit code, is in the facts sheet and the harness): the replicas read the job's exit code
 * from its outputs, so a non-zero one leaves them unregistered and fails the update with the log.
 */
describe("ApiService migrate: a job that exited non-zero stops the release", () => {
    let rec: Recorder;
    const errors: unknown[] = [];
    const onRejection = (e: unknown) => { errors.push(e); };

    before(async () => {
        rec = await Recorder.start({
            stack: "test",
            outputs: r => (r.inputs as { attach?: boolean }).attach
                ? { exitCode: 3, containerLogs: "migrate: applying 0042_widgets\nERROR: relation \"widgets\" does not exist\n" }
                : fakeProviderOutputs(r),
        });
        process.on("unhandledRejection", onRejection);
    });
    after(() => { process.off("unhandledRejection", onRejection); });

    it("registers the job but no replica, and the error carries the exit code, the log and the re-run command", async () => {
        const { DockerHost } = await import("../../components/targets/docker-host");
        const { ApiService } = await import("../../components/api-service");
        const target = new DockerHost("host-guard", { environment: "dev", production: false }).target;
        const svc = new ApiService("api", { target, image: "ghcr.io/acme/api:1.4.2", migrate: { command: ["/usr/local/bin/api", "migrate"] } });
        // The rejected input surfaces as the program's error (an unhandled rejection under mocks).
        for (let i = 0; i < 100 && !errors.length; i++) await new Promise(r => setTimeout(r, 100));
        await rec.settle().catch(() => undefined);
        const names = rec.ofType(CONTAINER).map(c => c.name);
        assert.ok(names.some(n => /^api-migrate-[0-9a-f]{8}$/.test(n)), names.join());
        assert.deepEqual(names.filter(n => /^api-[0-9a-f]{8}-\d$/.test(n)), [], "no replica registered");
        assert.ok(svc.nodes.migration, "the job is a node");
        const msg = errors.map(e => String((e as Error)?.message ?? e)).join("\n");
        assert.match(msg, /ApiService "api": the migration of release [0-9a-f]{8} exited with code 3/);
        assert.match(msg, /old ones keep serving/);
        assert.match(msg, /ERROR: relation "widgets" does not exist/);
        assert.match(msg, /pulumi up --replace 'urn:pulumi:test::[^']*api-migrate-[0-9a-f]{8}'/);
    });
});
