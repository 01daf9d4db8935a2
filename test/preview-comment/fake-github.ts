import { FetchLike, isCommentFor, upsertComment } from "../../cli/preview-comment/comment-upsert";

interface Comment { id: number; body: string; html_url: string; user: { login: string } }

/** An in-memory GitHub issue-comments API: list (paginated, Link header), create, update. */
export class FakeGitHub {
    comments: Comment[] = [];
    calls: Array<{ method: string; url: string }> = [];
    private nextId = 1000;
    failNext?: { status: number; message: string };

    constructor(readonly repo = "acme/infra", readonly issue = 7, readonly token = "ghs_test") {}

    seed(body: string, login = "someone"): Comment {
        const c = { id: this.nextId++, body, html_url: "", user: { login } };
        c.html_url = `https://github.com/${this.repo}/pull/${this.issue}#issuecomment-${c.id}`;
        this.comments.push(c);
        return c;
    }

    fetch: FetchLike = async (url, init) => {
        this.calls.push({ method: init.method, url });
        const reply = (status: number, data: unknown, link?: string) => ({
            status, ok: status >= 200 && status < 300,
            json: async () => data, text: async () => JSON.stringify(data),
            headers: { get: (n: string) => (n.toLowerCase() === "link" ? link ?? null : null) },
        });
        if (init.headers.Authorization !== `Bearer ${this.token}`) return reply(401, { message: "Bad credentials" });
        if (this.failNext) { const f = this.failNext; this.failNext = undefined; return reply(f.status, { message: f.message }); }
        const u = new URL(url);
        const base = `/repos/${this.repo}/issues`;
        if (init.method === "GET" && u.pathname === `${base}/${this.issue}/comments`) {
            const per = Number(u.searchParams.get("per_page")), page = Number(u.searchParams.get("page"));
            const slice = this.comments.slice((page - 1) * per, page * per);
            const more = page * per < this.comments.length;
            return reply(200, slice, more ? `<${u.origin}${u.pathname}?per_page=${per}&page=${page + 1}>; rel="next"` : undefined);
        }
        if (init.method === "POST" && u.pathname === `${base}/${this.issue}/comments`) {
            const c = this.seed((JSON.parse(init.body ?? "{}") as { body: string }).body, "github-actions[bot]");
            return reply(201, c);
        }
        const m = /\/issues\/comments\/(\d+)$/.exec(u.pathname);
        if (init.method === "PATCH" && m) {
            const c = this.comments.find(x => x.id === Number(m[1]));
            if (!c) return reply(404, { message: "Not Found" });
            c.body = (JSON.parse(init.body ?? "{}") as { body: string }).body;
            return reply(200, c);
        }
        return reply(404, { message: "Not Found" });
    };

    upsert(stack: string, body: string) {
        return upsertComment({ repo: this.repo, issue: this.issue, stack, body, token: this.token, fetch: this.fetch });
    }
    bodiesFor(stack: string) { return this.comments.filter(c => isCommentFor(stack, c.body)).map(c => c.body); }
}
