import * as assert from "assert";
import { GITHUB_COMMENT_LIMIT, markerFor, upsertComment } from "../../cli/preview-comment/comment-upsert";
import { FakeGitHub } from "./fake-github";
import { renderConstructed } from "./helpers";

describe("preview-comment: marker and comment upsert", () => {
    it("the marker names the stack, is an HTML comment, and is the first line of the posted body", async () => {
        assert.strictEqual(markerFor("dev"), "<!-- slipway-preview-comment stack=dev -->");
        assert.strictEqual(markerFor("acme/api/prod-eu"), "<!-- slipway-preview-comment stack=acme/api/prod-eu -->");
        // Nothing in a stack name can close the comment early.
        assert.strictEqual(markerFor("a-->b c"), "<!-- slipway-preview-comment stack=a%2D-%3Eb%20c -->");
        const gh = new FakeGitHub();
        await gh.upsert("dev", "### hello\n");
        assert.strictEqual(gh.comments[0]?.body, "<!-- slipway-preview-comment stack=dev -->\n### hello\n");
    });

    it("two stacks get two comments and never overwrite each other, across re-runs", async () => {
        const gh = new FakeGitHub();
        gh.seed("LGTM", "reviewer");
        const dev1 = renderConstructed("postgres-volume-replace", { stack: "dev" }).markdown;
        const prod1 = renderConstructed("do-database-cluster-delete", { stack: "prod" }).markdown;
        assert.strictEqual((await gh.upsert("dev", dev1)).action, "created");
        assert.strictEqual((await gh.upsert("prod", prod1)).action, "created");
        assert.strictEqual(gh.comments.length, 3);

        // Re-run: dev changed, prod did not.
        const dev2 = renderConstructed("secret-rotation", { stack: "dev" }).markdown;
        const devRes = await gh.upsert("dev", dev2);
        const prodRes = await gh.upsert("prod", prod1);
        assert.strictEqual(devRes.action, "updated");
        assert.strictEqual(prodRes.action, "unchanged");
        assert.strictEqual(gh.comments.length, 3, "a re-run must not add comments");
        assert.deepStrictEqual(gh.bodiesFor("dev"), [`${markerFor("dev")}\n${dev2}`]);
        assert.deepStrictEqual(gh.bodiesFor("prod"), [`${markerFor("prod")}\n${prod1}`]);
        assert.strictEqual(gh.comments[0]?.body, "LGTM");
        // Unchanged bodies are not PATCHed again.
        assert.strictEqual(gh.calls.filter(c => c.method === "PATCH").length, 1);
    });

    it("a failed preview replaces the stack's earlier successful comment in place", async () => {
        const gh = new FakeGitHub();
        const ok = renderConstructed("do-database-cluster-delete", { stack: "prod" }).markdown;
        const created = await gh.upsert("prod", ok);
        const failed = renderConstructed("protected-replace-failure", { stack: "prod", exitCode: 255 });
        assert.ok(failed.failed);
        const updated = await gh.upsert("prod", failed.markdown);
        assert.strictEqual(updated.action, "updated");
        assert.strictEqual(updated.id, created.id);
        assert.match(gh.comments[0]?.body ?? "", /^<!-- slipway-preview-comment stack=prod -->\n### Pulumi preview for `prod` \(`slipway-demo`\): ❌ failed/);
    });

    it("does not take over look-alikes: a quoted copy, another stack with the same prefix", async () => {
        const gh = new FakeGitHub();
        const quoted = gh.seed(`> ${markerFor("prod")}\n> ### Pulumi preview ...\nwhy is this failing?`, "reviewer");
        const other = gh.seed(`${markerFor("prod-eu")}\nsomething`, "github-actions[bot]");
        const r = await gh.upsert("prod", "fresh\n");
        assert.strictEqual(r.action, "created");
        assert.strictEqual(gh.comments.find(c => c.id === quoted.id)?.body.startsWith("> "), true);
        assert.strictEqual(gh.comments.find(c => c.id === other.id)?.body, `${markerFor("prod-eu")}\nsomething`);
    });

    it("finds its comment on a later page of a long thread", async () => {
        const gh = new FakeGitHub();
        for (let i = 0; i < 130; i++) gh.seed(`chatter ${i}`);
        const mine = gh.seed(`${markerFor("dev")}\nold`, "github-actions[bot]");
        for (let i = 0; i < 20; i++) gh.seed(`more ${i}`);
        const r = await gh.upsert("dev", "new\n");
        assert.deepStrictEqual([r.action, r.id], ["updated", mine.id]);
        assert.strictEqual(gh.calls.filter(c => c.method === "GET").length, 2);
    });

    it("after a race left two comments for one stack, updates the oldest and reports the other", async () => {
        const gh = new FakeGitHub();
        const first = gh.seed(`${markerFor("dev")}\nA`, "github-actions[bot]");
        const second = gh.seed(`${markerFor("dev")}\nB`, "github-actions[bot]");
        const r = await gh.upsert("dev", "C\n");
        assert.deepStrictEqual([r.action, r.id, r.duplicates], ["updated", first.id, [second.id]]);
    });

    it("fails clearly: API errors carry status and message (never the token); oversize bodies are refused before any call", async () => {
        const gh = new FakeGitHub();
        gh.failNext = { status: 403, message: "Resource not accessible by integration" };
        await assert.rejects(gh.upsert("dev", "x"), (e: Error) => {
            assert.match(e.message, /HTTP 403: Resource not accessible by integration/);
            assert.ok(!e.message.includes(gh.token));
            return true;
        });
        const calls = gh.calls.length;
        await assert.rejects(gh.upsert("dev", "x".repeat(GITHUB_COMMENT_LIMIT)), /over GitHub's 65536/);
        assert.strictEqual(gh.calls.length, calls);
        await assert.rejects(upsertComment({ repo: "acme/infra", issue: 7, stack: "dev", body: "x", token: "", fetch: gh.fetch }), /no token/);
        await assert.rejects(upsertComment({ repo: "infra", issue: 7, stack: "dev", body: "x", token: "t", fetch: gh.fetch }), /owner\/name/);
    });
});

