/**
 * One PR comment per stack: find our earlier comment by a hidden marker naming the stack, update it
 * in place, or create it. Talks to the GitHub REST API through an injected `fetch`, so tests run
 * against an in-memory fake and the workflow against api.github.com (or GHES via GITHUB_API_URL).
 */

/** GitHub's hard limit on an issue comment body. */
export const GITHUB_COMMENT_LIMIT = 65_536;

const MARKER_PREFIX = "<!-- slipway-preview-comment stack=";

/**
 * Stack names go inside an HTML comment, so anything that could end it (`--`, `>`) or confuse a
 * reader is percent-encoded. Org-qualified names (`acme/api/prod`) stay readable.
 */
export function encodeStack(stack: string): string {
    if (stack.trim() === "") throw new Error("upsert-comment: the stack name is empty; pass --stack <name>");
    return stack.replace(/[^A-Za-z0-9._/-]|-(?=-)/gu, ch => [...Buffer.from(ch, "utf8")].map(b => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""));
}

/** The hidden first line of a stack's comment. Two stacks never share one. */
export function markerFor(stack: string): string {
    return `${MARKER_PREFIX}${encodeStack(stack)} -->`;
}

export function withMarker(stack: string, body: string): string {
    return `${markerFor(stack)}\n${body}`;
}

/**
 * Ours means the body STARTS with the exact marker: a reviewer quoting our comment produces a body
 * starting with `>`, and another stack's marker differs (the closing ` -->` stops prefix matches
 * such as `prod` vs `prod-eu`).
 */
export function isCommentFor(stack: string, body: string | null | undefined): boolean {
    const marker = markerFor(stack);
    return typeof body === "string" && (body === marker || body.startsWith(`${marker}\n`) || body.startsWith(`${marker}\r\n`));
}

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<{
    status: number;
    ok: boolean;
    json(): Promise<unknown>;
    text(): Promise<string>;
    headers: { get(name: string): string | null };
}>;

export interface UpsertOptions {
    /** `owner/name`. */
    repo: string;
    /** Pull request (issue) number. */
    issue: number;
    stack: string;
    /** Markdown from `preview-comment`, without the marker. */
    body: string;
    token: string;
    /** Default https://api.github.com; GITHUB_API_URL on GitHub Enterprise Server. */
    apiUrl?: string;
    fetch?: FetchLike;
    /** Stop listing after this many pages of 100 comments (a very long PR thread). */
    maxPages?: number;
}

export interface UpsertResult {
    action: "created" | "updated" | "unchanged";
    id: number;
    url?: string;
    /** Other comments carrying the same marker (left untouched; only possible after a race). */
    duplicates: number[];
}

interface ApiComment { id: number; body?: string | null; html_url?: string }

class GitHubApiError extends Error {
    constructor(readonly status: number, what: string, detail: string) {
        super(`GitHub API ${what} failed with HTTP ${status}: ${detail}`);
    }
}

export async function upsertComment(o: UpsertOptions): Promise<UpsertResult> {
    const doFetch: FetchLike = o.fetch ?? (globalThis.fetch as unknown as FetchLike);
    if (!/^[^/\s]+\/[^/\s]+$/.test(o.repo)) throw new Error(`upsert-comment: repo must be "owner/name", got ${JSON.stringify(o.repo)}`);
    if (!Number.isInteger(o.issue) || o.issue <= 0) throw new Error(`upsert-comment: pull request number must be a positive integer, got ${o.issue}`);
    if (!o.token) throw new Error("upsert-comment: no token (set GITHUB_TOKEN; the job needs `permissions: pull-requests: write`)");
    const body = withMarker(o.stack, o.body);
    if (body.length > GITHUB_COMMENT_LIMIT) {
        throw new Error(`upsert-comment: body is ${body.length} characters, over GitHub's ${GITHUB_COMMENT_LIMIT}; render it with a lower --max-chars`);
    }
    const api = (o.apiUrl ?? "https://api.github.com").replace(/\/+$/, "");
    const headers = {
        "Accept": "application/vnd.github+json",
        "Authorization": `Bearer ${o.token}`,
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "slipway-preview-comment",
        "Content-Type": "application/json",
    };
    const call = async (method: string, url: string, what: string, payload?: unknown) => {
        const res = await doFetch(url, { method, headers, body: payload === undefined ? undefined : JSON.stringify(payload) });
        if (!res.ok) {
            let detail = "";
            try { detail = ((await res.json()) as { message?: string })?.message ?? ""; } catch { /* body not JSON */ }
            throw new GitHubApiError(res.status, what, detail || "no message");
        }
        return res;
    };

    const mine: ApiComment[] = [];
    const maxPages = o.maxPages ?? 50;
    for (let page = 1; page <= maxPages; page++) {
        const res = await call("GET", `${api}/repos/${o.repo}/issues/${o.issue}/comments?per_page=100&page=${page}`, "listing comments");
        const list = (await res.json()) as ApiComment[];
        if (!Array.isArray(list)) throw new Error("upsert-comment: unexpected response listing comments (not an array)");
        for (const c of list) if (isCommentFor(o.stack, c.body)) mine.push(c);
        const next = res.headers.get("link")?.includes('rel="next"') ?? false;
        if (!next && list.length < 100) break;
    }
    mine.sort((a, b) => a.id - b.id);
    const [target, ...dups] = mine;
    const duplicates = dups.map(c => c.id);
    if (target) {
        if (target.body === body) return { action: "unchanged", id: target.id, url: target.html_url, duplicates };
        const res = await call("PATCH", `${api}/repos/${o.repo}/issues/comments/${target.id}`, "updating the comment", { body });
        const c = (await res.json()) as ApiComment;
        return { action: "updated", id: c.id ?? target.id, url: c.html_url, duplicates };
    }
    const res = await call("POST", `${api}/repos/${o.repo}/issues/${o.issue}/comments`, "creating the comment", { body });
    const c = (await res.json()) as ApiComment;
    return { action: "created", id: c.id, url: c.html_url, duplicates };
}
