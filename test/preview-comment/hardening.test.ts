/**
 * Issue 9: what the preview comment does with hostile or broken input. Each case has a golden
 * (test/golden/preview-comment/): credentials that arrive unwrapped, credentials in diagnostics,
 * control characters, a missing or truncated event log, inputs that are refused; and
 * bin/slipway.js runs in a clone without dist/.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseDigest, parseEventLog } from "../../cli/preview-comment/parse";
import { RenderResult, renderPreviewComment } from "../../cli/preview-comment/render";
import { main } from "../../cli/slipway";
import { DigestBuilder } from "./digest-builder";
import { CONSTRUCTED, PLANTED_VALUES } from "./fixtures";
import { GOLDEN_DIR, PREVIEWS_DIR, REPO, assertClean, fakeIo, golden, section, sharedFixtures } from "./helpers";
import { HOSTILE_VALUES, benignUpdate, controlCharacters, diagnosticCredentials, truncatedEventLog, unwrappedCredentials } from "./hostile-inputs";

const render = (b: DigestBuilder, opts: { stack?: string } = {}): RenderResult => {
    const r = renderPreviewComment(parseDigest(JSON.stringify(b.digest(), null, 4)), opts);
    assertClean(r.markdown, [...HOSTILE_VALUES, ...PLANTED_VALUES]);
    assert.ok(!r.markdown.includes("PLANTED"), "a planted value leaks");
    return r;
};
const header = (md: string) => md.split("\n")[0] ?? "";
const riskFor = (r: RenderResult, name: string) => r.risks.filter(x => x.change?.name === name).map(x => x.kind);

/** Run the CLI in-process over virtual files. */
async function run(argv: string[], files: Record<string, string> = {}) {
    const { io, out } = fakeIo({ files });
    const code = await main(["preview-comment", ...argv], io);
    return { code, ...out };
}

describe("preview-comment hardening: credentials that arrive unwrapped", () => {
    it("golden: no planted value in the comment of a preview that changes them", () => {
        golden(path.join(GOLDEN_DIR, "unwrapped-credentials.md"), render(unwrappedCredentials()).markdown);
    });

    it("every changed credential is a credential risk, shown only as [secret]", () => {
        const r = render(unwrappedCredentials());
        for (const name of ["orders-user", "api-1", "app", "metrics-alertmanager", "orders-db"]) {
            assert.ok(riskFor(r, name).includes("credential"), `${name}: ${riskFor(r, name).join(",")}`);
        }
        const changes = section(r.markdown, "Changes by component");
        assert.match(changes, /`password`: `\[secret\]` → `\[secret\]`/);
        assert.match(changes, /`envs\[1\]`: `"STRIPE_SECRET_KEY=\[secret\]"` → `"STRIPE_SECRET_KEY=\[secret\]"`/);
        assert.match(changes, /`spec\.services\[0\]\.envs\[0\]\.value`: `\[secret\]` → `\[secret\]`/);
        assert.match(changes, /`uploads\[0\]\.content`: `\[secret\]` → `\[secret\]`/);
        assert.match(changes, /`labels\[0\]\.value`: `"off"` → `\[secret\]`/);
        assert.match(section(r.markdown, "Risks"), /secret inputs `envs\[1\]`, `envs\[2\]`, `uploads\[0\]\.content` change \(values not shown\)/);
    });

    it("ordinary values next to them stay readable (image tags, regions, host names, log levels)", () => {
        const changes = section(render(unwrappedCredentials()).markdown, "Changes by component");
        assert.match(changes, /`image`: `"ghcr\.io\/acme\/api:1\.5\.0"` → `"ghcr\.io\/acme\/api:1\.6\.0"`/);
        assert.match(changes, /`spec\.region`: `"fra"` → `"ams"`/);
        assert.match(changes, /`spec\.services\[0\]\.envs\[2\]\.value`: `"info"` → `"debug"`/);
        // The userinfo of a URL-named variable goes, the host change stays visible.
        assert.match(changes, /`envs\[2\]`: `"DATABASE_URL=postgres:\/\/\[secret\]@orders-db:5432\/orders"` → `"DATABASE_URL=postgres:\/\/\[secret\]@orders-db-2:5432\/orders"`/);
        assert.match(changes, /`image`: `"prom\/alertmanager:v0\.27\.0"` → `"prom\/alertmanager:v0\.28\.1"`/);
    });
});

describe("preview-comment hardening: credentials in diagnostics", () => {
    it("golden: URL passwords, Bearer/Basic, key shapes, PEM, JWT and key=value redacted; the rest of each message kept", () => {
        const r = render(diagnosticCredentials());
        golden(path.join(GOLDEN_DIR, "diagnostic-credentials.md"), r.markdown);
        const risks = section(r.markdown, "Risks");
        assert.match(risks, /connecting to postgres:\/\/app:\[secret\]@orders-pg-do-user-1\.db\.ondigitalocean\.com:25060\/orders\?sslmode=require: password authentication failed/);
        assert.match(risks, /> Authorization: Bearer \[secret\]\n/);
        assert.match(risks, /> Proxy-Authorization: Basic \[secret\]\n/);
        // The whole PEM block goes, frame included.
        assert.match(risks, /got a key instead:\n {2}\[secret\]\n/);
        assert.ok(!risks.includes(["PRIVATE", "KEY"].join(" ")), "no PEM frame left");
        assert.match(risks, /password=\[secret\] sslmode=require/);
        // Prose and ordinary values are not mistaken for credentials.
        assert.match(risks, /a Bearer token is required for the metrics endpoint at https:\/\/metrics\.example\.com\/v1\?format=prometheus; image ghcr\.io\/acme\/api:1\.6\.0 is not signed/);
    });
});

describe("preview-comment hardening: control characters", () => {
    it("golden: none survive in names, URNs, types, paths, values, diagnostics or the stack name", () => {
        const r = render(controlCharacters(), { stack: "dev\u001b[2J\u0007" });
        golden(path.join(GOLDEN_DIR, "control-characters.md"), r.markdown);
        assert.match(header(r.markdown), /^### Pulumi preview for `dev` \(`slipway-demo`\)/);
        assert.ok(r.markdown.includes("**update** `api-1` `docker:index/container:Container`: `hostname`: `\"api-1\"` → `\"api-1\"`, `image`: `\"ghcr.io/acme/api:1.5.0\"` → `\"ghcr.io/acme/api:1.6.0\"`"));
        assert.ok(r.markdown.includes("`edge-www`"));
        assert.ok(r.markdown.includes("`scratch-data`"));
        assert.ok(r.markdown.includes("deprecated field `restart`; link text\n"));
        assert.ok(!r.markdown.includes("evil.example"), "an OSC 8 hyperlink target survived");
    });
});

const DIGEST = "/home/runner/work/_temp/preview.json";
const LOG = "/home/runner/work/_temp/events.ndjson";

describe("preview-comment hardening: event log missing, empty or cut short", () => {
    const digest = JSON.stringify(benignUpdate().digest(), null, 4);

    it("golden: --event-log missing: exit 0, the comment says so, header and result=incomplete, never succeeded", async () => {
        const r = await run(["--stack", "dev", "--event-log", LOG, "--github-output", "/gh", DIGEST], { [DIGEST]: digest });
        assert.strictEqual(r.code, 0, r.stderr);
        golden(path.join(GOLDEN_DIR, "event-log-missing.md"), r.stdout);
        assertClean(r.stdout);
        assert.match(header(r.stdout), /: ⚠ incomplete · 2 to update · 10 unchanged$/);
        assert.ok(r.stdout.includes(`> - the event log \`${LOG}\` could not be read (it does not exist), so the engine's own result and any failed operations are unknown.`));
        assert.ok(!r.stdout.includes("✅"));
        assert.match(r.written["/gh"] ?? "", /^result=incomplete$/m);
        assert.match(r.stderr, /cannot read event log .*events\.ndjson \(it does not exist\)/);
    });

    it("--event-log alone and missing: still a comment, incomplete, with no resources claimed", async () => {
        const r = await run(["--stack", "dev", "--event-log", LOG]);
        assert.strictEqual(r.code, 0);
        assert.match(header(r.stdout), /^### Pulumi preview for `dev`: ⚠ incomplete · no resources$/);
        assert.match(r.stdout, /risks found in what could be read, but the input is incomplete/);
    });

    it("a missing event log does not hide a failure: failed wins, the note stays", async () => {
        const r = await run(["--event-log", LOG, "--exit-code", "1", "--github-output", "/gh", DIGEST], { [DIGEST]: digest });
        assert.match(header(r.stdout), /❌ failed/);
        assert.match(r.stdout, /> ⚠ \*\*Incomplete input\*\*/);
        assert.match(r.written["/gh"] ?? "", /^result=failed$/m);
    });

    it("an empty event log (the preview died before the engine started) is incomplete", async () => {
        const r = await run(["--event-log", LOG, DIGEST], { [DIGEST]: digest, [LOG]: "" });
        assert.strictEqual(r.code, 0);
        assert.match(header(r.stdout), /⚠ incomplete/);
        assert.match(r.stdout, /the event log is empty: the engine wrote no events/);
    });

    it("golden: an event log cut before its summary says it is truncated, shows what it has, and does not claim success", async () => {
        const r = await run(["--event-log", LOG, "--github-output", "/gh"], { [LOG]: truncatedEventLog() });
        assert.strictEqual(r.code, 0, r.stderr);
        golden(path.join(GOLDEN_DIR, "event-log-truncated.md"), r.stdout);
        assertClean(r.stdout);
        assert.match(header(r.stdout), /^### Pulumi preview for `dev` \(`slipway-demo`\): ⚠ incomplete · 1 to delete · 2 to update · 1 unchanged$/);
        assert.match(r.stdout, /the event log ends before the engine's summary event: it was cut short .* \(its last line stops mid-event\)\./);
        assert.match(section(r.stdout, "Risks"), /Data loss\*\*: `uploads-data`/);
        assert.ok(!r.stdout.includes("after the cut\"") && !r.stdout.includes("logged after the cut"));
        assert.match(r.written["/gh"] ?? "", /^result=incomplete$/m);
    });

    it("a complete digest with a truncated event log is still incomplete", async () => {
        const r = await run(["--event-log", LOG, DIGEST], { [DIGEST]: digest, [LOG]: truncatedEventLog() });
        assert.match(header(r.stdout), /⚠ incomplete · 2 to update · 10 unchanged$/);
    });

    it("complete event logs (all real upstream ones, and the constructed one) carry no incomplete note", () => {
        for (const f of sharedFixtures().filter(x => x.kind === "events")) {
            assert.strictEqual(parseEventLog(fs.readFileSync(f.file, "utf8")).incomplete, undefined, f.name);
        }
        const withLog = CONSTRUCTED["protected-replace-failure"]?.();
        assert.strictEqual(parseEventLog(withLog?.eventLog ?? "").incomplete, undefined);
    });
});

describe("preview-comment hardening: input that is not a preview is refused", () => {
    const eventLog = CONSTRUCTED["protected-replace-failure"]?.().eventLog ?? "";
    const cases: Array<[string, string, string[]]> = [
        ["empty file", "", ["input.json"]],
        ["whitespace only", "\n  \n", ["input.json"]],
        ["not JSON (a crash on stdout)", "panic: runtime error: invalid memory address or nil pointer dereference\n", ["input.json"]],
        ["a JSON list", "[]", ["input.json"]],
        ["JSON null", "null", ["input.json"]],
        ["a JSON string", "\"hello\"", ["input.json"]],
        ["an empty object", "{}", ["input.json"]],
        ["package.json", JSON.stringify({ name: "x", version: "1.0.0", scripts: { test: "mocha" } }), ["input.json"]],
        ["pulumi stack export", JSON.stringify({ version: 3, deployment: { manifest: {}, resources: [] } }), ["input.json"]],
        ["pulumi stack output --json", JSON.stringify({ url: "https://example.com" }), ["input.json"]],
        ["a CI document with steps", JSON.stringify({ steps: [{ name: "build", run: "npm ci" }] }), ["input.json"]],
        ["steps that are not a list", JSON.stringify({ steps: {}, changeSummary: { same: 1 } }), ["input.json"]],
        ["counts that are not numbers", JSON.stringify({ changeSummary: { create: "1" } }), ["input.json"]],
        ["names with control characters", JSON.stringify({ "\u001b[31mred": 1 }), ["input.json"]],
        ["an event log given as the digest", eventLog, ["input.json"]],
        ["one engine event given as the digest", eventLog.split("\n")[0] ?? "", ["input.json"]],
        ["a digest given as the event log", fs.readFileSync(path.join(PREVIEWS_DIR, "secret-rotation.json"), "utf8"), ["--event-log", "input.json"]],
        ["text given as the event log", "hello\nworld\n", ["--event-log", "input.json"]],
    ];

    it("golden: each refusal is exit 1, one line on stderr, nothing on stdout or in --out/--github-output", async () => {
        const lines: string[] = [];
        for (const [label, text, args] of cases) {
            const r = await run(["--out", "/out.md", "--github-output", "/gh", ...args], { "input.json": text });
            assert.strictEqual(r.code, 1, `${label}: ${r.stderr}`);
            assert.strictEqual(r.stdout, "", label);
            assert.deepStrictEqual(r.written, {}, label);
            assert.match(r.stderr, /^slipway preview-comment: input\.json: [^\n]+\n$/, label);
            // eslint-disable-next-line no-control-regex
            assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(r.stderr), `${label}: control characters in the error`);
            lines.push(`${label}\n  ${r.stderr.trim()}\n`);
        }
        golden(path.join(GOLDEN_DIR, "refused-inputs.txt"), lines.join("\n"));
    });

    it("empty stdin (`-`) is refused the same way", async () => {
        const { io, out } = fakeIo({ stdin: "" });
        assert.strictEqual(await main(["preview-comment", "--event-log", LOG, "-"], io), 1);
        assert.strictEqual(out.stdout, "");
        assert.strictEqual(out.stderr, "slipway preview-comment: stdin: the digest is empty: `pulumi preview --json` printed nothing (see its log)\n");
    });

    it("real digests are accepted: the upstream one and every committed constructed preview", async () => {
        const files = [
            ...sharedFixtures().filter(f => f.kind === "digest").map(f => f.file),
            ...fs.readdirSync(PREVIEWS_DIR).filter(f => f.endsWith(".json") && !f.includes("eventlog")).map(f => path.join(PREVIEWS_DIR, f)),
        ];
        assert.ok(files.length >= 6);
        for (const file of files) {
            const r = await run([file]);
            assert.strictEqual(r.code, 0, `${file}: ${r.stderr}`);
            assert.match(header(r.stdout), /^### Pulumi preview for /);
        }
    });

    it("a banner before the digest is still tolerated", () => {
        const p = parseDigest(`Previewing update (dev):\n${JSON.stringify(benignUpdate().digest())}\n`);
        assert.strictEqual(p.steps.length, 3);
    });
});

describe("bin/slipway.js in a fresh clone (no dist/)", function () {
    this.timeout(60_000);
    let dir = "";
    before(() => {
        // A copy of what a clone has after `npm install`: bin/, cli/, the configs, node_modules (linked).
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-clone-"));
        for (const p of ["bin", "cli", "components"]) fs.cpSync(path.join(REPO, p), path.join(dir, p), { recursive: true });
        for (const p of ["package.json", "tsconfig.json"]) fs.copyFileSync(path.join(REPO, p), path.join(dir, p));
        fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"), "dir");
    });
    after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

    const node = (args: string[]) => spawnSync(process.execPath, [path.join(dir, "bin/slipway.js"), ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "" } });

    it("runs preview-comment from the TypeScript sources, with the same output as in-process", async () => {
        assert.ok(!fs.existsSync(path.join(dir, "dist")));
        const fixture = path.join(PREVIEWS_DIR, "postgres-volume-replace.json");
        const r = node(["preview-comment", "--stack", "dev", fixture]);
        assert.strictEqual(r.status, 0, r.stderr);
        const inProcess = await run(["--stack", "dev", fixture]);
        assert.strictEqual(r.stdout, inProcess.stdout);
    });

    it("refuses a non-digest with exit 1 and one line, through the real process", () => {
        const empty = path.join(dir, "empty.json");
        fs.writeFileSync(empty, "");
        const r = node(["preview-comment", empty]);
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stdout, "");
        assert.strictEqual(r.stderr, `slipway preview-comment: ${empty}: the digest is empty: \`pulumi preview --json\` printed nothing (see its log)\n`);
    });

    it("prefers dist/cli/slipway.js once it exists (the published package)", () => {
        fs.mkdirSync(path.join(dir, "dist/cli"), { recursive: true });
        fs.writeFileSync(path.join(dir, "dist/cli/slipway.js"), "exports.main = async argv => { process.stdout.write(`dist ${argv.join(' ')}\\n`); return 3; };\n");
        try {
            const r = node(["preview-comment", "x"]);
            assert.strictEqual(r.stdout, "dist preview-comment x\n");
            assert.strictEqual(r.status, 3);
        } finally {
            fs.rmSync(path.join(dir, "dist"), { recursive: true, force: true });
        }
    });
});
