import * as fs from "fs";
import { FetchLike, upsertComment } from "./comment-upsert";
import { Preview } from "./model";
import { InputError, mergePreviews, parseDigest, parseEventLog } from "./parse";
import { DEFAULT_MAX_CHARS, renderPreviewComment } from "./render";
import { code, stripColour } from "./values";

/** Everything the commands touch outside themselves, so tests can run them in-process. */
export interface CliIo {
    readFile(path: string): string;
    readStdin(): Promise<string>;
    writeFile(path: string, text: string): void;
    appendFile(path: string, text: string): void;
    stdout(text: string): void;
    stderr(text: string): void;
    env: Record<string, string | undefined>;
    fetch?: FetchLike;
}

export const nodeIo = (): CliIo => ({
    readFile: p => fs.readFileSync(p, "utf8"),
    readStdin: async () => {
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
        return Buffer.concat(chunks).toString("utf8");
    },
    writeFile: (p, t) => fs.writeFileSync(p, t),
    appendFile: (p, t) => fs.appendFileSync(p, t),
    stdout: t => { process.stdout.write(t); },
    stderr: t => { process.stderr.write(t); },
    env: process.env,
});

export class UsageError extends Error {}

/** `--name value`, `--name=value`; everything else is positional. */
export function parseArgs(argv: string[], known: readonly string[]): { flags: Record<string, string>; positional: string[] } {
    const flags: Record<string, string> = {};
    const positional: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i] ?? "";
        if (a.startsWith("--")) {
            const eq = a.indexOf("=");
            const name = a.slice(2, eq < 0 ? undefined : eq);
            if (!known.includes(name)) throw new UsageError(`unknown option --${name}`);
            const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
            if (value === undefined) throw new UsageError(`--${name} needs a value`);
            flags[name] = value;
        } else positional.push(a);
    }
    return { flags, positional };
}

function intFlag(flags: Record<string, string>, name: string): number | undefined {
    const v = flags[name];
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v)) throw new UsageError(`--${name} must be an integer, got ${JSON.stringify(v)}`);
    return Number(v);
}

export const PREVIEW_USAGE = `usage: slipway preview-comment [--stack <name>] [--event-log <events.ndjson>] [--max-chars <n>]
                              [--exit-code <n>] [--out <file>] [--github-output <file>] [<digest.json> | -]

Reads what \`pulumi preview --json\` printed (a file, or - for stdin) and/or the engine event log
written by \`pulumi preview --event-log\`, and writes one stack's PR comment as Markdown.
Credentials are redacted whether or not Pulumi marked them secret, and control characters removed.
  --stack           stack name for the header (default: taken from the URNs)
  --event-log       the engine event log; when it is missing, empty or cut short the comment says
                    so and its header reads "incomplete" (result=incomplete), never "succeeded"
  --max-chars       size limit of the Markdown in UTF-8 bytes (default ${DEFAULT_MAX_CHARS})
  --exit-code       pulumi's exit code; non-zero marks the preview failed even without diagnostics
  --out             write the Markdown here instead of stdout
  --github-output   append result= (succeeded, failed or incomplete), risks=, errors=, data_loss=
                    lines (for $GITHUB_OUTPUT)
Exit status: 0 when Markdown was written (whatever the preview's result); 1 when the digest is
empty or not a \`pulumi preview --json\` digest, or the event log is not an event log (one line on
stderr, nothing written); 2 on bad usage.
`;

export async function previewCommentCommand(argv: string[], io: CliIo): Promise<number> {
    const { flags, positional } = parseArgs(argv, ["stack", "event-log", "max-chars", "exit-code", "out", "github-output"]);
    if (positional.length > 1) throw new UsageError("give at most one digest file");
    const digestPath = positional[0];
    if (digestPath === undefined && flags["event-log"] === undefined) throw new UsageError("give a digest file (or -) and/or --event-log");
    const maxChars = intFlag(flags, "max-chars") ?? DEFAULT_MAX_CHARS;
    if (maxChars < 1000) throw new UsageError("--max-chars must be at least 1000");
    const exitCode = intFlag(flags, "exit-code");

    let digest: Preview | undefined;
    if (digestPath !== undefined) {
        const text = digestPath === "-" ? await io.readStdin() : io.readFile(digestPath);
        digest = named(digestPath === "-" ? "stdin" : digestPath, () => parseDigest(text));
    }
    const logPath = flags["event-log"];
    const events = logPath === undefined ? undefined : readEventLog(io, logPath);
    const r = renderPreviewComment(mergePreviews(digest, events), { stack: flags.stack, maxChars, exitCode });

    if (flags.out) io.writeFile(flags.out, r.markdown); else io.stdout(r.markdown);
    if (flags["github-output"]) {
        const n = (k: string) => r.risks.filter(x => x.kind === k).length;
        io.appendFile(flags["github-output"], `result=${r.status}\nrisks=${r.risks.filter(x => x.kind !== "notice").length}\nerrors=${n("error")}\ndata_loss=${n("data-loss")}\n`);
    }
    if (r.cuts.length > 0) io.stderr(`preview-comment: trimmed to fit ${maxChars} bytes: ${r.cuts.join("; ")}\n`);
    return 0;
}

/** Prefix an input's name to the one-line message of an InputError. */
function named<T>(name: string, parse: () => T): T {
    try { return parse(); } catch (e) {
        if (e instanceof InputError) throw new InputError(`${stripColour(name)}: ${e.message}`);
        throw e;
    }
}

const READ_ERRORS: Record<string, string> = { ENOENT: "it does not exist", EACCES: "permission denied", EISDIR: "it is a directory" };

/**
 * A missing or unreadable event log (the preview crashed before writing it, or the path is wrong)
 * is reported in the comment, whose header then reads "incomplete": not fatal, so the comment is
 * still posted, and not "succeeded", since the engine's own result is unknown.
 */
function readEventLog(io: CliIo, path: string): Preview {
    let text: string;
    try { text = io.readFile(path); } catch (e) {
        const errno = (e as NodeJS.ErrnoException).code ?? "";
        const why = READ_ERRORS[errno] ?? (errno || (e instanceof Error ? e.message.split("\n")[0] : String(e)));
        io.stderr(`preview-comment: cannot read event log ${path} (${why}); the comment says so and is marked incomplete\n`);
        return {
            steps: [], diagnostics: [], maybeCorrupt: false,
            incomplete: [`the event log ${code(path)} could not be read (${why}), so the engine's own result and any failed operations are unknown`],
        };
    }
    const events = named(path, () => parseEventLog(text));
    for (const n of events.incomplete ?? []) io.stderr(`preview-comment: ${path}: ${n}\n`);
    return events;
}

export const UPSERT_USAGE = `usage: slipway upsert-comment --stack <name> --body-file <file|-> [--repo owner/name] [--pr <n>] [--api-url <url>]

Creates or updates the one comment for <stack> on a pull request, found by a hidden marker.
Token from $GITHUB_TOKEN (needs pull-requests: write). Defaults: --repo $GITHUB_REPOSITORY,
--pr from $GITHUB_EVENT_PATH, --api-url $GITHUB_API_URL or https://api.github.com.
`;

export async function upsertCommentCommand(argv: string[], io: CliIo): Promise<number> {
    const { flags, positional } = parseArgs(argv, ["stack", "body-file", "repo", "pr", "api-url"]);
    if (positional.length > 0) throw new UsageError(`unexpected argument ${positional[0]}`);
    if (!flags.stack) throw new UsageError("--stack is required");
    if (!flags["body-file"]) throw new UsageError("--body-file is required");
    const repo = flags.repo ?? io.env.GITHUB_REPOSITORY;
    if (!repo) throw new UsageError("--repo or $GITHUB_REPOSITORY is required");
    const pr = intFlag(flags, "pr") ?? prFromEvent(io);
    if (pr === undefined) throw new UsageError("--pr is required outside a pull_request event");
    const body = flags["body-file"] === "-" ? await io.readStdin() : io.readFile(flags["body-file"]);
    const r = await upsertComment({
        repo, issue: pr, stack: flags.stack, body, token: io.env.GITHUB_TOKEN ?? "",
        apiUrl: flags["api-url"] ?? io.env.GITHUB_API_URL, fetch: io.fetch,
    });
    io.stdout(`${r.action} comment ${r.id}${r.url ? ` ${r.url}` : ""}\n`);
    if (r.duplicates.length > 0) io.stderr(`upsert-comment: other comments carry the same marker and were left alone: ${r.duplicates.join(", ")}\n`);
    return 0;
}

function prFromEvent(io: CliIo): number | undefined {
    const path = io.env.GITHUB_EVENT_PATH;
    if (!path) return undefined;
    try {
        const ev = JSON.parse(io.readFile(path)) as { pull_request?: { number?: unknown }; number?: unknown };
        const n = ev.pull_request?.number ?? ev.number;
        return typeof n === "number" ? n : undefined;
    } catch { return undefined; }
}
