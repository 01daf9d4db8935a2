import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { EnvVar, secretEnv } from "../../components/core/env";
import { Linkable } from "../../components/core/link";
import type { Target } from "../../components/core/target";
import { Recorder } from "../../components/testing/recorder";
import { expectConfigError } from "../helpers/config-error";
import { dockerTarget, doTarget, freshRecorder } from "../helpers/harness";

/** A block whose link gives `env`, as the contract lets any block. */
const fake = (linkLabel: string, env: EnvVar[]): Linkable => ({ linkLabel, link: () => ({ env }) });

describe("ApiService bad input", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    /** Build with a target made beforehand (see expectConfigError). */
    async function rejects(target: Target, args: Record<string, unknown>, path: string, problem: RegExp, fix: RegExp, name = "api") {
        const { ApiService } = await import("../../components/api-service");
        return expectConfigError(rec, () => new ApiService(name, { target, image: "ghcr.io/acme/api:1.0.0", ...args } as any),
            { component: `ApiService "${name}"`, path, problem, fix });
    }

    it("requires exactly one of image and build", async () => {
        await rejects(await dockerTarget(), { build: { context: "." } }, "build", /together with image/, /exactly one/);
        await rejects(await dockerTarget(), { image: undefined }, "image", /missing/, /exactly one/);
    });

    it("rejects a PORT in env that disagrees with port, on both targets", async () => {
        for (const target of [await dockerTarget(), await doTarget()]) {
            await rejects(target, { port: 3000, env: { PORT: "8080" } }, "env.PORT", /is "8080", but port is 3000/, /remove PORT from env .*set it to "3000"/);
            await rejects(target, { env: { PORT: pulumi.output("8080") } }, "env.PORT", /not a plain value, but port is 8080/, /PORT=8080/);
        }
    });

    it("rejects a local build on App Platform", async () => {
        await rejects(await doTarget(), { image: undefined, build: { context: "." } }, "build", /cannot build/, /registry\.digitalocean\.com/);
    });

    it("rejects a build context that does not exist", async () => {
        await rejects(await dockerTarget(), { image: undefined, build: { context: "./no-such-dir" } }, "build.context", /not a directory/, /folder holding the Dockerfile/);
    });

    it("rejects an image App Platform cannot pull, and one without a tag", async () => {
        await rejects(await doTarget(), { image: "quay.io/acme/api:1.0" }, "image", /quay\.io/, /DOCR .*GHCR .*Docker Hub/);
        await rejects(await doTarget(), { image: "ghcr.io/acme/api" }, "image", /no tag or digest/, /ghcr\.io\/acme\/api:1\.4\.2/);
    });

    it("rejects nonsense memory and cpu limits", async () => {
        await rejects(await dockerTarget(), { memory: "lots" }, "memory", /"lots"/, /"512m"/);
        await rejects(await dockerTarget(), { memory: "2m" }, "memory", /between 6m and 64g/, /"1g"/);
        await rejects(await dockerTarget(), { cpus: 0 }, "cpus", /not a CPU limit/, /0\.01 to 64/);
    });

    it("refuses root unless allowRoot, and non-numeric users", async () => {
        await rejects(await dockerTarget(), { user: "root" }, "user", /as root/, /allowRoot: true/);
        await rejects(await dockerTarget(), { user: "0:0" }, "user", /as root/, /"10001:10001"/);
        await rejects(await dockerTarget(), { user: "app" }, "user", /numeric/, /names resolve differently/);
    });

    it("rejects an env key Docker and DigitalOcean would refuse", async () => {
        await rejects(await dockerTarget(), { env: { "1BAD-KEY": "x" } }, "env.1BAD-KEY", /not a valid environment key/, /not starting with a digit/);
    });

    it("names both sources of a duplicated env key", async () => {
        const link = fake('ManagedDatabase "db"', [secretEnv("DATABASE_URL", pulumi.secret("postgres://x"))]);
        const e = await rejects(await dockerTarget(), { env: { DATABASE_URL: "postgres://local" }, link: [link] }, "link[0]",
            /DATABASE_URL is set by both env\.DATABASE_URL and link\[0\] \(ManagedDatabase "db"\)/, /rename or drop DATABASE_URL in link\[0\] \(ManagedDatabase "db"\)/);
        assert.match(e.message, /env\.DATABASE_URL/);
        // Two links giving one key: both are named, by position and label.
        const other = fake('SecretsSync "secrets"', [secretEnv("DATABASE_URL", pulumi.secret("postgres://y"))]);
        await rejects(await doTarget(), { link: [link, other] }, "link[1]",
            /DATABASE_URL is set by both link\[0\] \(ManagedDatabase "db"\) and link\[1\] \(SecretsSync "secrets"\)/, /keep one/);
    });

    it("rejects a variable that file delivery would shadow", async () => {
        const link = fake("fake", [secretEnv("TOKEN", pulumi.secret("t"))]);
        await rejects(await dockerTarget(), { env: { TOKEN_FILE: "/x" }, link: [link] }, "link[0]",
            /TOKEN_FILE is set by both env\.TOKEN_FILE and link\[0\] \(fake\) \(file delivery of TOKEN\)/, /keep one/);
    });

    it("rejects a read-only root filesystem with file-delivered secrets", async () => {
        const link = fake("fake", [secretEnv("TOKEN", pulumi.secret("t"))]);
        await rejects(await dockerTarget(), { readOnlyRootFilesystem: true, link: [link] }, "readOnlyRootFilesystem",
            /read-only container/, /secretDelivery: "env"/);
    });

    it("rejects health paths that are not paths and a healthcheck without CMD", async () => {
        await rejects(await dockerTarget(), { readyPath: "ready" }, "readyPath", /not an HTTP path/, /start with "\/"/);
        await rejects(await dockerTarget(), { healthcheck: { command: ["curl", "-f", "x"] } }, "healthcheck.command", /not a Docker healthcheck/, /"CMD-SHELL"/);
        await rejects(await dockerTarget(), { healthcheck: { timeoutSeconds: 500 } }, "healthcheck.timeoutSeconds", /1 to 120/, /between 1 and 120/);
    });

    it("rejects settings App Platform cannot honour", async () => {
        await rejects(await doTarget(), { user: "1000:1000" }, "user", /image's own USER/, /USER in the Dockerfile/);
        await rejects(await doTarget(), { stopSignal: "SIGQUIT" }, "stopSignal", /always stops instances with SIGTERM/, /gracefully on SIGTERM/);
    });

    it("rejects unknown, legacy and too-small instance sizes", async () => {
        await rejects(await doTarget(), { instanceSize: "apps-s-9vcpu-1tb" }, "instanceSize", /not supported/, /apps-s-1vcpu-0\.5gb/);
        await rejects(await doTarget(), { instanceSize: "basic-xxs" }, "instanceSize", /deprecated/, /apps-s-1vcpu-1gb/);
        await rejects(await doTarget(), { instanceSize: "apps-s-1vcpu-1gb", memory: "2g" }, "instanceSize", /smaller than memory/, /larger instanceSize/);
    });

    it("rejects out-of-range replicas and ports, bad names and restart policies", async () => {
        await rejects(await dockerTarget(), { replicas: 0 }, "replicas", /1 to 20/, /between 1 and 20/);
        await rejects(await dockerTarget(), { port: 70000 }, "port", /1 to 65535/, /between 1 and 65535/);
        await rejects(await dockerTarget(), { restart: "no" }, "restart", /"no" is not supported/, /unless-stopped, always, on-failure/);
        await rejects(await dockerTarget(), {}, "name", /not a valid service name/, /lowercase letters/, "Core_API");
    });

    it("rejects a link that is not linkable and duplicate alerts from links", async () => {
        await rejects(await dockerTarget(), { link: [{}] }, "link[0]", /not linkable/, /SecretsSync/);
        // A block written against the old contract (linkEnv) is refused, not silently ignored.
        await rejects(await dockerTarget(), { link: [{ linkEnv: () => [] }] }, "link[0]", /not linkable/, /SecretsSync/);
        await rejects(await dockerTarget(), { link: [{ link: () => ({}) }] }, "link[0]", /not linkable/, /SecretsSync/);
        const obs = (label: string): Linkable => ({
            linkLabel: label,
            link: () => ({
                doApp: {
                    alerts: [{ rule: "CPU_UTILIZATION", operator: "GREATER_THAN", value: 80, window: "FIVE_MINUTES" }],
                    logDestinations: [{ name: "logtail", logtail: { token: "t" } }],
                },
            }),
        });
        await rejects(await doTarget(), { link: [obs("A"), obs("B")] }, "link[1]",
            /alert CPU_UTILIZATION is set by both link\[0\] \(A\) and link\[1\] \(B\)/, /only one link/);
        const logsOnly = (label: string): Linkable => ({ linkLabel: label, link: () => ({ doApp: { logDestinations: [{ name: "logtail", logtail: { token: "t" } }] } }) });
        await rejects(await doTarget(), { link: [logsOnly("A"), logsOnly("B")] }, "link[1]",
            /log destination "logtail" is set by both link\[0\] \(A\) and link\[1\] \(B\)/, /unique name/);
    });
});

describe("ApiService bad input: migrate and volumes (issue 16)", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    async function rejects(target: Target, args: Record<string, unknown>, path: string, problem: RegExp, fix: RegExp, name = "api") {
        const { ApiService } = await import("../../components/api-service");
        return expectConfigError(rec, () => new ApiService(name, { target, image: "ghcr.io/acme/api:1.0.0", ...args } as any),
            { component: `ApiService "${name}"`, path, problem, fix });
    }
    const migrate = (m: Record<string, unknown>) => ({ migrate: { command: ["/usr/local/bin/api", "migrate"], ...m } });

    it("refuses a migrate command given as one string, and says how to split it", async () => {
        await rejects(await dockerTarget(), migrate({ command: "api migrate --all" }), "migrate.command",
            /must be a list .*got the string "api migrate --all"/, /\["api","migrate","--all"\].*\/bin\/sh/);
    });

    it("refuses an empty command, an empty argument, and a migrate without command", async () => {
        await rejects(await dockerTarget(), migrate({ command: [] }), "migrate.command", /\[\] is not a command/, /1 to 64 non-empty strings/);
        await rejects(await dockerTarget(), migrate({ command: ["/usr/local/bin/api", ""] }), "migrate.command", /is not a command/, /non-empty/);
        await rejects(await dockerTarget(), { migrate: { timeoutSeconds: 60 } }, "migrate.command", /is missing/, /add command/);
    });

    it("refuses a timeout of 0, above an hour, or not a number; and an unknown key", async () => {
        await rejects(await dockerTarget(), migrate({ timeoutSeconds: 0 }), "migrate.timeoutSeconds", /0/, /1.*3600/);
        await rejects(await dockerTarget(), migrate({ timeoutSeconds: 7200 }), "migrate.timeoutSeconds", /7200/, /1.*3600/);
        await rejects(await dockerTarget(), migrate({ timeoutSeconds: "60" }), "migrate.timeoutSeconds", /must be a number/, /without quotes/);
        await rejects(await dockerTarget(), migrate({ timeout: 60 }), "migrate.timeout", /not a known setting/, /timeoutSeconds/);
    });

    it("refuses backupFirst: true when no linked database takes backups", async () => {
        await rejects(await dockerTarget(), migrate({ backupFirst: true }), "migrate.backupFirst", /no linked ManagedDatabase takes backups/, /backup: \{ \.\.\. \}.*backupFirst: false/);
    });

    it("refuses a volume path that is not absolute, or not a plain path", async () => {
        await rejects(await dockerTarget(), { volumes: [{ name: "uploads", path: "data/uploads" }] }, "volumes[0].path", /not an absolute path/, /"\/data\/uploads"/);
        await rejects(await dockerTarget(), { volumes: [{ name: "uploads", path: "/var/../etc" }] }, "volumes[0].path", /not a plain mount path/, /normalised absolute path/);
        await rejects(await dockerTarget(), { volumes: [{ name: "uploads", path: "/" }] }, "volumes[0].path", /not a plain mount path/, /below "\/"/);
    });

    it("refuses two volumes on one path, and two volumes of one name", async () => {
        await rejects(await dockerTarget(), { volumes: [{ name: "a", path: "/data" }, { name: "b", path: "/data" }] }, "volumes[1].path",
            /also the path of volumes\[0\].*one path/, /its own path/);
        await rejects(await dockerTarget(), { volumes: [{ name: "a", path: "/data" }, { name: "a", path: "/cache" }] }, "volumes[1].name",
            /also the name of volumes\[0\]/, /its own name/);
    });

    it("refuses volume names Docker or the stack cannot carry", async () => {
        await rejects(await dockerTarget(), { volumes: [{ name: "Uploads_1", path: "/data" }] }, "volumes[0].name", /"Uploads_1" is not a volume name/, /lowercase/);
        await rejects(await dockerTarget(), { volumes: [{ name: "uploads" }] }, "volumes[0].path", /is missing/, /add path/);
        await rejects(await dockerTarget(), { volumes: { name: "uploads", path: "/data" } }, "volumes", /must be a list/, /list/);
    });

    it("refuses a volume over or above the secret files, and on the kernel's file systems", async () => {
        await rejects(await dockerTarget(), { volumes: [{ name: "run", path: "/run" }] }, "volumes[0].path", /would hide \/run\/secrets, where the secret files/, /elsewhere/);
        await rejects(await dockerTarget(), { volumes: [{ name: "s", path: "/run/secrets/extra" }] }, "volumes[0].path", /sit inside \/run\/secrets/, /elsewhere/);
        await rejects(await dockerTarget(), { volumes: [{ name: "p", path: "/proc/x" }] }, "volumes[0].path", /sit inside \/proc/, /elsewhere/);
        await rejects(await dockerTarget(), { readOnlyRootFilesystem: true, secretDelivery: "env", volumes: [{ name: "t", path: "/tmp" }] }, "volumes[0].path",
            /tmpfs a read-only root filesystem gets at \/tmp/, /outside \/tmp/);
    });

    it("refuses volumes on App Platform, pointing at object storage", async () => {
        await rejects(await doTarget(), { volumes: [{ name: "uploads", path: "/data" }] }, "volumes", /App Platform has no volumes/, /Spaces/);
    });

    it("refuses a migrate on App Platform whose PRE_DEPLOY job name would be too long", async () => {
        await rejects(await doTarget(), migrate({}), "migrate", /"orders-fulfilment-service-migrate".*32/, /at most 24/, "orders-fulfilment-service");
    });
});
