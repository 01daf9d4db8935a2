import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { markerFor } from "../../cli/preview-comment/comment-upsert";
import { main } from "../../cli/slipway";
import { FakeGitHub } from "./fake-github";
import { PLANTED_VALUES } from "./fixtures";
import { PREVIEWS_DIR, REPO, SHARED_DIR, assertClean, fakeIo } from "./helpers";

const fixture = (name: string) => path.join(PREVIEWS_DIR, name);

describe("slipway CLI", () => {
    it("preview-comment <digest>: Markdown on stdout, exit 0", async () => {
        const { io, out } = fakeIo();
        assert.strictEqual(await main(["preview-comment", "--stack", "dev", fixture("postgres-volume-replace.json")], io), 0);
        assertClean(out.stdout, PLANTED_VALUES);
        assert.match(out.stdout, /^### Pulumi preview for `dev`/);
        assert.match(out.stdout, /\*\*⚠ 1 data-loss risk · 1 traffic risk\*\*/);
    });

    it("reads the digest from stdin with -, merges --event-log, writes --out and --github-output", async () => {
        const { io, out } = fakeIo({ stdin: fs.readFileSync(fixture("protected-replace-failure.json"), "utf8") });
        const code = await main(["preview-comment", "--stack=prod", "--event-log", fixture("protected-replace-failure.eventlog.json"),
            "--out", "/virtual/comment.md", "--github-output", "/virtual/gh-output", "-"], io);
        assert.strictEqual(code, 0, out.stderr);
        assert.strictEqual(out.stdout, "");
        assert.match(out.written["/virtual/comment.md"] ?? "", /`prod` \(`slipway-demo`\): ❌ failed/);
        assert.strictEqual(out.written["/virtual/gh-output"], "result=failed\nrisks=5\nerrors=2\ndata_loss=1\n");
    });

    it("event log alone (a real upstream one) is enough", async () => {
        const { io, out } = fakeIo();
        const file = path.join(SHARED_DIR, "pulumi-pulumi__pkg-engine-lifecycletest__TestProtect-1.eventstream.json");
        assert.strictEqual(await main(["preview-comment", "--event-log", file], io), 0);
        assert.match(out.stdout, /Protected resource\*\*: `resA`/);
    });

    it("--exit-code marks a preview failed even when the digest has no error (crash after planning)", async () => {
        const { io, out } = fakeIo();
        await main(["preview-comment", "--exit-code", "255", "--github-output", "/v/o", fixture("secret-rotation.json")], io);
        assert.match(out.stdout, /❌ failed/);
        assert.match(out.stdout, /`pulumi preview` exited with code 255 without an error diagnostic/);
        assert.match(out.written["/v/o"] ?? "", /^result=failed$/m);
    });

    it("--max-chars trims and reports the cut on stderr", async () => {
        const { io, out } = fakeIo();
        await main(["preview-comment", "--max-chars", "5000", fixture("large-500-steps.json")], io);
        assert.ok(Buffer.byteLength(out.stdout) <= 5000);
        assert.match(out.stderr, /trimmed to fit 5000 bytes: before\/after values; /);
    });

    it("bad usage exits 2 with the usage text; unknown command too", async () => {
        for (const argv of [["preview-comment"], ["preview-comment", "--max-chars", "lots", "x.json"], ["preview-comment", "--nope", "1"], ["frobnicate"], []]) {
            const { io, out } = fakeIo();
            assert.strictEqual(await main(argv, io), 2, argv.join(" "));
            assert.match(out.stderr + out.stdout, /usage: slipway/);
        }
    });

    it("upsert-comment: PR number from the event payload, token from GITHUB_TOKEN, one comment per stack", async () => {
        const gh = new FakeGitHub("acme/infra", 42, "ghs_abc");
        const env = { GITHUB_REPOSITORY: "acme/infra", GITHUB_TOKEN: "ghs_abc", GITHUB_EVENT_PATH: "/event.json", GITHUB_API_URL: "https://api.github.com" };
        const files = { "/event.json": JSON.stringify({ pull_request: { number: 42 } }), "/dev.md": "### dev body\n", "/prod.md": "### prod body\n" };
        for (const [stack, file] of [["dev", "/dev.md"], ["prod", "/prod.md"], ["dev", "/dev.md"]] as const) {
            const { io, out } = fakeIo({ env, files, fetch: gh.fetch });
            assert.strictEqual(await main(["upsert-comment", "--stack", stack, "--body-file", file], io), 0, out.stderr);
        }
        assert.deepStrictEqual(gh.comments.map(c => c.body), [`${markerFor("dev")}\n### dev body\n`, `${markerFor("prod")}\n### prod body\n`]);
    });

    it("upsert-comment: API failure exits 1 with the reason", async () => {
        const gh = new FakeGitHub("acme/infra", 42, "right");
        const { io, out } = fakeIo({ env: { GITHUB_TOKEN: "wrong" }, files: { "/b.md": "x" }, fetch: gh.fetch });
        assert.strictEqual(await main(["upsert-comment", "--stack", "dev", "--body-file", "/b.md", "--repo", "acme/infra", "--pr", "42"], io), 1);
        assert.match(out.stderr, /HTTP 401: Bad credentials/);
    });

    it("bin/slipway.js is the package bin: executable, dist/cli/slipway.js when built, else the sources through ts-node", () => {
        const shim = fs.readFileSync(path.join(REPO, "bin/slipway.js"), "utf8");
        assert.match(shim, /^#!\/usr\/bin\/env node\n/);
        assert.match(shim, /path\.join\(root, "dist", "cli", "slipway\.js"\)/);
        assert.match(shim, /require\("ts-node"\)/);
        assert.ok((fs.statSync(path.join(REPO, "bin/slipway.js")).mode & 0o111) !== 0, "bin/slipway.js is not executable");
        // Both branches are run in hardening.test.ts ("bin/slipway.js in a fresh clone").
    });
});
