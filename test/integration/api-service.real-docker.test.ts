// Real-engine checks of three ApiService decisions, on the project's own base image (debootstrap,
// busybox; no pulls). The engine and the image are made here; a failure to make them fails the test.
// Containers run with --network none: all traffic stays on the container's own loopback.
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { defaultHealthcheckCommand } from "../../components/api-service/normalize";
import { ensureImages } from "./harness/images";

const IMAGE = "slipway-test-busybox:api-service";
const docker = (args: string[], timeout = 30_000) => spawnSync("docker", args, { encoding: "utf8", timeout });


describe("ApiService decisions against a real Docker engine", function () {
    this.timeout(120_000);
    const started: string[] = [];

    before(function () {
        this.timeout(1_200_000); // a cold machine installs dockerd and builds the base image here
        const base = ensureImages(["base"]).SLIPWAY_IMAGE_BASE;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-bb-"));
        fs.writeFileSync(path.join(dir, "Dockerfile"), [
            `FROM ${base}`,
            "RUN mkdir -p /www /run/secrets && echo ok > /www/ready",
        ].join("\n"));
        const built = docker(["build", "-q", "-t", IMAGE, dir], 120_000);
        fs.rmSync(dir, { recursive: true, force: true });
        assert.strictEqual(built.status, 0, `could not build the test image: ${built.stderr}`);
    });

    after(() => {
        for (const id of started) docker(["rm", "-f", id], 20_000);
        docker(["rmi", IMAGE], 20_000);
    });

    it("the default healthcheck passes in a curl-less image as the unprivileged default user, and fails on a missing path", () => {
        const run = docker(["run", "-d", "--network", "none", "--user", "10001:10001", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges:true", IMAGE, "busybox", "httpd", "-f", "-p", "127.0.0.1:8080", "-h", "/www"]);
        assert.strictEqual(run.status, 0, run.stderr);
        const id = run.stdout.trim();
        started.push(id);
        const probe = (p: string) => {
            const [, cmd] = defaultHealthcheckCommand(8080, p);
            // Bounded: at most 20 attempts, 250 ms apart, for httpd to start listening.
            for (let i = 0; i < 20; i++) {
                const r = docker(["exec", id, "sh", "-c", cmd!], 10_000);
                if (r.status === 0 || p !== "/ready") return r.status;
                execFileSync("sleep", ["0.25"]);
            }
            return 1;
        };
        assert.strictEqual(probe("/ready"), 0);
        assert.notStrictEqual(probe("/missing"), 0);
    });

    it("refuses to copy a file into a read-only container, which is why readOnlyRootFilesystem excludes file secrets", () => {
        const src = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "slipway-secret-")), "TOKEN");
        fs.writeFileSync(src, "not-a-real-secret");
        const copyInto = (readOnly: boolean) => {
            const created = docker(["create", ...(readOnly ? ["--read-only"] : []), "--network", "none", IMAGE, "true"]);
            assert.strictEqual(created.status, 0, created.stderr);
            const id = created.stdout.trim();
            started.push(id);
            return docker(["cp", src, `${id}:/run/secrets/TOKEN`]);
        };
        const writable = copyInto(false);
        const cp = copyInto(true);
        fs.rmSync(path.dirname(src), { recursive: true, force: true });
        assert.strictEqual(writable.status, 0, `control: a writable container accepts the upload (${writable.stderr})`);
        assert.notStrictEqual(cp.status, 0);
        assert.match(cp.stderr, /read-only/i);
    });

    it("mounts a named volume on a read-only root, even where the image has no such directory, which is why volumes never refuse readOnlyRootFilesystem", () => {
        const vol = `slipway-test-ro-${process.pid}`;
        const run = (user: string, script: string) => docker(["run", "--rm", "--read-only", "--network", "none", "--user", user, "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges:true", "-v", `${vol}:/var/lib/app/uploads`, IMAGE, "sh", "-c", script]);
        try {
            const root = run("0:0", "touch /var/lib/app/uploads/by-root && ! touch /elsewhere 2>/dev/null && echo ok");
            assert.strictEqual(root.status, 0, root.stderr);
            assert.strictEqual(root.stdout.trim(), "ok", "the volume is writable, the root file system is not");
            // A fresh volume on a path the image lacks is root-owned: the README tells users to create it in the image.
            const user = run("10001:10001", "stat -c %u /var/lib/app/uploads; touch /var/lib/app/uploads/by-user 2>/dev/null && echo wrote || echo refused");
            assert.strictEqual(user.status, 0, user.stderr);
            assert.deepEqual(user.stdout.trim().split("\n"), ["0", "refused"]);
        } finally {
            docker(["volume", "rm", "-f", vol], 20_000);
        }
    });
});
