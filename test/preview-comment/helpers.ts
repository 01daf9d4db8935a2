import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { CliIo } from "../../cli/preview-comment/cli";
import { mergePreviews, parseDigest, parseEventLog } from "../../cli/preview-comment/parse";
import { RenderOptions, RenderResult, renderPreviewComment } from "../../cli/preview-comment/render";
import { CONSTRUCTED, Fixture } from "./fixtures";

export const REPO = path.resolve(__dirname, "../..");
export const SHARED_DIR = path.join(REPO, "test/fixtures/shared/fixtures/pulumi-preview");
export const PREVIEWS_DIR = path.join(REPO, "test/fixtures/previews");
export const GOLDEN_DIR = path.join(REPO, "test/golden/preview-comment");
export const UPDATE = process.env.UPDATE_GOLDEN === "1";

/** Compare with a committed file byte for byte; rewrite it only when UPDATE_GOLDEN=1. */
export function golden(file: string, actual: string): void {
    if (UPDATE) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, actual);
        return;
    }
    assert.ok(fs.existsSync(file), `golden file ${path.relative(REPO, file)} is missing; run with UPDATE_GOLDEN=1 to create it`);
    const expected = fs.readFileSync(file, "utf8");
    assert.strictEqual(actual, expected, `${path.relative(REPO, file)} differs; if the change is intended, rerun with UPDATE_GOLDEN=1 and review the diff`);
}

/** The shared upstream fixtures: real digests and real event logs. */
export function sharedFixtures(): Array<{ name: string; file: string; kind: "digest" | "events" }> {
    return fs.readdirSync(SHARED_DIR).filter(f => f.endsWith(".json")).sort().map(f => {
        const text = fs.readFileSync(path.join(SHARED_DIR, f), "utf8");
        let kind: "digest" | "events" = "events";
        try { if (Array.isArray((JSON.parse(text) as { steps?: unknown }).steps)) kind = "digest"; } catch { /* NDJSON */ }
        return { name: f.replace(/\.json$/, ""), file: path.join(SHARED_DIR, f), kind };
    });
}

export function renderShared(file: string, kind: "digest" | "events", opts: RenderOptions = {}): RenderResult {
    const text = fs.readFileSync(file, "utf8");
    const preview = kind === "digest" ? parseDigest(text) : parseEventLog(text);
    return renderPreviewComment(preview, opts);
}

export function constructed(name: string): Fixture {
    const make = CONSTRUCTED[name];
    if (!make) throw new Error(`no constructed fixture ${name}`);
    return make();
}

/**
 * Render a constructed fixture through its JSON text, as the CLI would read it. Uses the generator
 * so the order of test files does not matter; fixtures.test.ts checks the committed copies match.
 */
export function renderConstructed(name: string, opts: RenderOptions = {}, withEvents = false): RenderResult {
    const f = constructed(name);
    const digest = parseDigest(JSON.stringify(f.digest, null, 4));
    if (withEvents && !f.eventLog) throw new Error(`${name} has no event log`);
    const events = withEvents && f.eventLog ? parseEventLog(f.eventLog) : undefined;
    return renderPreviewComment(mergePreviews(digest, events), opts);
}

/** Assertions every rendered comment must pass. */
export function assertClean(md: string, planted: readonly string[] = []): void {
    assert.ok(!md.includes("\u001b"), "output contains an ESC character (ANSI colour)");
    assert.ok(!md.includes("\u001b["), "output contains an ANSI CSI sequence");
    assert.ok(!md.includes("<{%"), "output contains a Pulumi colour directive");
    assert.ok(!md.includes("4dabf18193072939515e22adb298388d"), "output contains the secret signature key");
    assert.ok(!md.includes("04da6b54-80e4-46f7-96ec-b56ff0331ba9"), "output contains the raw unknown placeholder");
    for (const p of planted) assert.ok(!md.includes(p), `output leaks planted secret ${p}`);
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    const control = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.exec(md);
    assert.ok(!control, `output contains the control character U+${control?.[0].charCodeAt(0).toString(16).padStart(4, "0")}`);
    // The first line is the header; a hidden marker is added by upsert, not here.
    assert.match(md.split("\n")[0] ?? "", /^### Pulumi preview for `[^`]+`/);
}

export function section(md: string, title: "Risks" | "Changes by component"): string {
    const start = md.indexOf(`#### ${title}`);
    assert.ok(start >= 0, `no ${title} section`);
    const next = md.indexOf("\n#### ", start + 5);
    return md.slice(start, next < 0 ? undefined : next);
}

/** In-memory IO over the real file system for reads (`files` first); writes and output are captured. */
export function fakeIo(opts: { stdin?: string; env?: Record<string, string>; fetch?: CliIo["fetch"]; files?: Record<string, string> } = {}) {
    const out = { stdout: "", stderr: "", written: {} as Record<string, string> };
    const io: CliIo = {
        readFile: p => opts.files?.[p] ?? out.written[p] ?? fs.readFileSync(p, "utf8"),
        readStdin: async () => opts.stdin ?? "",
        writeFile: (p, t) => { out.written[p] = t; },
        appendFile: (p, t) => { out.written[p] = (out.written[p] ?? "") + t; },
        stdout: t => { out.stdout += t; },
        stderr: t => { out.stderr += t; },
        env: opts.env ?? {},
        fetch: opts.fetch,
    };
    return { io, out };
}
