import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { PG_VERSIONS } from "../../components/managed-database/normalize";
import { OFFSITE_IMAGE } from "../../components/managed-database/offsite";
import { REPO } from "./helpers";

/**
 * Structure checks for the workflows that actionlint cannot know about (our own conventions).
 * actionlint itself runs through scripts/actionlint.sh in CI.
 */
interface Step { name?: string; id?: string; uses?: string; run?: string; if?: string; env?: Record<string, string>; with?: Record<string, unknown> }
interface Job { if?: string; strategy?: { matrix?: { stack?: string[] } }; concurrency?: { group: string; "cancel-in-progress": boolean }; environment?: { name: string; url?: string }; env?: Record<string, string>; steps: Step[] }
interface Workflow { on: Record<string, { branches?: string[] }>; permissions: Record<string, string>; env?: Record<string, string>; jobs: Record<string, Job> }

const load = (name: string) => {
    const text = fs.readFileSync(path.join(REPO, ".github/workflows", name), "utf8");
    return { text, wf: parse(text) as Workflow };
};
const step = (job: Job, pred: (s: Step) => boolean, what: string): Step => {
    const s = job.steps.find(pred);
    assert.ok(s, `no step ${what}`);
    return s;
};

/** Every workflow file this repo has. */
const workflowFiles = () => fs.readdirSync(path.join(REPO, ".github/workflows")).filter(f => /\.ya?ml$/.test(f)).sort();

/**
 * The `pulumi` commands in a `run:` script that pass `--event-log`, each with whether the command
 * line itself sets PULUMI_DEBUG_COMMANDS=true (`PULUMI_DEBUG_COMMANDS=true pulumi ...`). Lines
 * continued with a backslash are joined; `&&`, `||`, `;` and `|` separate commands, so
 * `node bin/slipway.js preview-comment --event-log ...` is not a pulumi command.
 */
export function pulumiEventLogCommands(run: string): { command: string; inlineDebug: boolean }[] {
    const found: { command: string; inlineDebug: boolean }[] = [];
    for (const line of run.replace(/\\\r?\n/g, " ").split(/\r?\n/)) {
        for (const segment of line.split(/&&|\|\||;|\|/)) {
            const words = segment.trim().split(/\s+/).filter(Boolean);
            const assigns: string[] = [];
            while (words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) assigns.push(words.shift()!);
            if (words[0] === "exec" || words[0] === "command") words.shift();
            if (!/^(\S*\/)?pulumi$/.test(words[0] ?? "")) continue;
            if (!words.some(w => w === "--event-log" || w.startsWith("--event-log="))) continue;
            found.push({ command: segment.trim(), inlineDebug: assigns.some(a => /^PULUMI_DEBUG_COMMANDS=["']?true["']?$/.test(a)) });
        }
    }
    return found;
}

const debugOn = (env?: Record<string, unknown>) => env !== undefined && String(env.PULUMI_DEBUG_COMMANDS) === "true";

/**
 * Steps that run `pulumi ... --event-log` without PULUMI_DEBUG_COMMANDS=true in the command itself
 * or in the step's, job's or workflow's env. The flag only exists with that variable set; without
 * it the CLI stops with `unknown flag: --event-log`.
 */
export function eventLogWithoutDebug(wf: { env?: Record<string, unknown>; jobs?: Record<string, { env?: Record<string, unknown>; steps?: { name?: string; run?: string; env?: Record<string, unknown> }[] }> }): string[] {
    const bad: string[] = [];
    for (const [jobName, job] of Object.entries(wf.jobs ?? {})) {
        (job.steps ?? []).forEach((s, i) => {
            for (const c of pulumiEventLogCommands(s.run ?? "")) {
                if (!c.inlineDebug && !debugOn(s.env) && !debugOn(job.env) && !debugOn(wf.env)) {
                    bad.push(`${jobName} step ${s.name ?? i}: ${c.command}`);
                }
            }
        });
    }
    return bad;
}

describe("workflows", () => {
    it("the --event-log check finds pulumi commands and their PULUMI_DEBUG_COMMANDS wherever it is set", () => {
        const run = 'set +e\npulumi preview --stack "$STACK" --json \\\n  --event-log "$RUNNER_TEMP/e.ndjson" > out.json\nnode bin/slipway.js preview-comment --event-log x';
        const wf = (stepEnv?: object, jobEnv?: object, wfEnv?: object, script = run) =>
            ({ env: wfEnv, jobs: { j: { env: jobEnv, steps: [{ name: "p", run: script, env: stepEnv }] } } }) as never;
        assert.equal(pulumiEventLogCommands(run).length, 1, "only the pulumi command, joined across the backslash");
        assert.equal(eventLogWithoutDebug(wf()).length, 1);
        assert.equal(eventLogWithoutDebug(wf({ PULUMI_DEBUG_COMMANDS: "false" })).length, 1);
        assert.deepEqual(eventLogWithoutDebug(wf({ PULUMI_DEBUG_COMMANDS: "true" })), []);
        assert.deepEqual(eventLogWithoutDebug(wf(undefined, { PULUMI_DEBUG_COMMANDS: true })), []);
        assert.deepEqual(eventLogWithoutDebug(wf(undefined, undefined, { PULUMI_DEBUG_COMMANDS: "true" })), []);
        assert.deepEqual(eventLogWithoutDebug(wf(undefined, undefined, undefined, "PULUMI_DEBUG_COMMANDS=true pulumi up --event-log=e --yes")), []);
        assert.equal(eventLogWithoutDebug(wf(undefined, undefined, undefined, "npm ci && pulumi up --yes --event-log e")).length, 1);
        assert.deepEqual(eventLogWithoutDebug(wf(undefined, undefined, undefined, "pulumi up --yes")), []);
    });

    for (const name of workflowFiles()) {
        it(`${name}: every \`pulumi ... --event-log\` runs with PULUMI_DEBUG_COMMANDS=true (else: unknown flag)`, () => {
            const { wf } = load(name);
            assert.deepEqual(eventLogWithoutDebug(wf as never), []);
        });
    }

    for (const name of ["preview.yml", "deploy.yml", "release-images.yml"]) {
        it(`${name}: every action is pinned (commit SHA with a version comment, or an exact vX.Y.Z tag)`, () => {
            const { text } = load(name);
            const uses = [...text.matchAll(/uses:\s*(\S+)(.*)$/gm)];
            assert.ok(uses.length >= 1, "no action found: the check would pass on nothing");
            for (const [, ref = "", rest = ""] of uses) {
                const [, version = ""] = ref.split("@");
                const sha = /^[0-9a-f]{40}$/.test(version) && /#\s*v\d+\.\d+\.\d+/.test(rest);
                assert.ok(sha || /^v\d+\.\d+\.\d+$/.test(version), `${ref} is not pinned`);
            }
        });
    }

    it("preview.yml: per-stack matrix, one concurrency group per PR and stack, comment always posted, job fails on errors", () => {
        const { wf } = load("preview.yml");
        assert.ok(wf.on.pull_request);
        assert.strictEqual(wf.permissions["pull-requests"], "write");
        const job = wf.jobs.preview;
        assert.ok(job);
        assert.deepStrictEqual(job.strategy?.matrix?.stack, ["dev", "prod"]);
        assert.match(job.concurrency?.group ?? "", /pull_request\.number.*matrix\.stack/);
        const preview = step(job, s => /pulumi preview/.test(s.run ?? ""), "running pulumi preview");
        assert.match(preview.run ?? "", /--json/);
        assert.match(preview.run ?? "", /--event-log/);
        assert.match(preview.run ?? "", /set \+e/, "a failing preview must not skip the comment");
        const render = step(job, s => /slipway\.js preview-comment/.test(s.run ?? ""), "rendering");
        assert.match(render.if ?? "", /always\(\)/);
        assert.match(render.run ?? "", /--exit-code "\$EXIT_CODE"/);
        const upsert = step(job, s => /slipway\.js upsert-comment/.test(s.run ?? ""), "upserting");
        assert.match(upsert.if ?? "", /always\(\)/);
        assert.match(upsert.run ?? "", /--stack "\$STACK"/);
        assert.strictEqual(upsert.env?.GITHUB_TOKEN, "${{ github.token }}");
        const fail = job.steps[job.steps.length - 1];
        assert.match(fail?.if ?? "", /always\(\).*exit_code != '0'.*result != 'succeeded'/);
        assert.match(fail?.run ?? "", /exit 1/);
        // Our CLI comes from this checkout's build, before it is used.
        const build = job.steps.findIndex(s => /npm ci && npm run build/.test(s.run ?? ""));
        assert.ok(build >= 0 && build < job.steps.indexOf(render));
    });

    it("deploy.yml: staging branch -> staging, main -> production, up then /health and /ready, never cancelled", () => {
        const { wf } = load("deploy.yml");
        assert.deepStrictEqual(wf.on.push?.branches, ["main", "staging"]);
        const job = wf.jobs.deploy;
        assert.ok(job);
        assert.strictEqual(job.environment?.name, "${{ github.ref_name == 'main' && 'production' || 'staging' }}");
        assert.strictEqual(job.concurrency?.["cancel-in-progress"], false);
        const up = step(job, s => /pulumi up/.test(s.run ?? ""), "pulumi up");
        assert.match(up.run ?? "", /--yes/);
        const health = step(job, s => /curl/.test(s.run ?? ""), "health check");
        assert.match(health.run ?? "", /for path in \/health \/ready/);
        assert.match(health.run ?? "", /--fail/);
        assert.match(health.run ?? "", /--retry-max-time \d+/, "retries must be bounded in time");
        assert.ok(job.steps.indexOf(up) < job.steps.indexOf(health));
    });

    it("release-images.yml: publishes the off-site backup image for every PostgreSQL major ManagedDatabase accepts, under the name its default uses", () => {
        const { wf } = load("release-images.yml");
        const job = wf.jobs.pgbackup!;
        assert.deepStrictEqual((job.strategy?.matrix as { major?: string[] } | undefined)?.major, [...PG_VERSIONS]);
        const build = step(job, s => /docker build/.test(s.run ?? ""), "building");
        assert.match(build.run ?? "", /BASE=postgres:\$MAJOR-bookworm/);
        assert.match(build.run ?? "", /docker\/pgbackup$/m, "the Dockerfile the package ships");
        assert.match(build.run ?? "", /docker push/);
        // The default's repository name (owner aside: the workflow pushes under the repository's owner).
        const repo = /ghcr\.io\/\$\{GITHUB_REPOSITORY_OWNER,,\}\/([a-z0-9-]+):\$MAJOR/.exec(build.run ?? "")?.[1];
        assert.equal(repo, OFFSITE_IMAGE.split("/").pop());
        const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { files: string[] };
        assert.ok(pkg.files.includes("docker/"), "the package ships docker/pgbackup");
    });

    it("release-images.yml: builds docker/caddy, pushes to GHCR under scripts/caddy-image-tag.sh's tag, and its rewrite pins the Gateway's default by digest", () => {
        const { wf } = load("release-images.yml");
        assert.deepStrictEqual(Object.keys(wf.on).sort(), ["release", "workflow_dispatch"]);
        const job = wf.jobs.caddy!;
        const name = step(job, s => /scripts\/caddy-image-tag\.sh/.test(s.run ?? ""), "naming the image");
        assert.match(name.run ?? "", /ghcr\.io\/\$owner\/slipway-caddy/);
        const push = step(job, s => /buildx build/.test(s.run ?? ""), "building and pushing");
        assert.match(push.run ?? "", /--push\b.*docker\/caddy$/ms, "the Dockerfile the package ships");
        assert.doesNotMatch(push.run ?? "", /--build-arg/, "the Dockerfile's own defaults, as a stranger's engine uses them");
        const propose = step(job, s => /published-image\.ts/.test(s.run ?? ""), "rewriting the default");
        // The rewrite, run on a copy of the real file: it must change the one constant and nothing else.
        const fileLine = /^\s*(file=\S+)$/m.exec(propose.run ?? "")?.[1];
        const sedLine = /^\s*(sed -i -E .*)$/m.exec(propose.run ?? "")?.[1];
        assert.ok(fileLine && sedLine, "a sed rewrite of $file");
        const sed = `${fileLine}\n${sedLine}`;
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-release-"));
        try {
            const file = path.join(tmp, "components/gateway/published-image.ts");
            fs.mkdirSync(path.dirname(file), { recursive: true });
            const before = fs.readFileSync(path.join(REPO, "components/gateway/published-image.ts"), "utf8");
            fs.writeFileSync(file, before);
            const pinned = `ghcr.io/acme/slipway-caddy:2.10.2-ratelimit-0.1.0@sha256:${"ab".repeat(32)}`;
            const r = spawnSync("bash", ["-c", sed], { cwd: tmp, env: { ...process.env, PINNED: pinned }, encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
            const after = fs.readFileSync(file, "utf8");
            assert.ok(after.includes(`export const PUBLISHED_CADDY_IMAGE = "${pinned}";`), after);
            assert.deepEqual(after.split("\n").filter((l, i) => l !== before.split("\n")[i]).length, 1, "one line changed");
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });

    it("scripts/actionlint.sh installs a pinned actionlint with go install and lints .github/workflows", () => {
        const text = fs.readFileSync(path.join(REPO, "scripts/actionlint.sh"), "utf8");
        assert.match(text, /ACTIONLINT_VERSION="v\d+\.\d+\.\d+"/);
        assert.match(text, /go install "github\.com\/rhysd\/actionlint\/cmd\/actionlint@\$ACTIONLINT_VERSION"/);
        assert.match(text, /\.github\/workflows\/\*\.yml/);
    });
});

describe("docs/preview-comments.md", () => {
    it("its sample comment is the golden output, byte for byte", () => {
        const doc = fs.readFileSync(path.join(REPO, "docs/preview-comments.md"), "utf8");
        const m = /<!-- sample:start -->\n````markdown\n([\s\S]*?)````\n<!-- sample:end -->/.exec(doc);
        assert.ok(m, "sample markers missing");
        const golden = fs.readFileSync(path.join(REPO, "test/golden/preview-comment/postgres-volume-replace.md"), "utf8");
        assert.strictEqual(m[1], golden);
    });
});
