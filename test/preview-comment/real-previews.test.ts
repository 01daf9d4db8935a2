/**
 * Issue 15: previews made by the real Pulumi CLI (3.248.0) and real providers, copied into
 * test/fixtures/previews/real-do-app and real-docker (their READMEs say how they were made). Each
 * has a golden comment; the assertions name the risks each must and must not have.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { mergePreviews, parseDigest, parseEventLog } from "../../cli/preview-comment/parse";
import { RenderResult, renderPreviewComment } from "../../cli/preview-comment/render";
import { DigestBuilder, secret } from "./digest-builder";
import { PLANTED, PLANTED_VALUES } from "./fixtures";
import { GOLDEN_DIR, PREVIEWS_DIR, assertClean, golden, section } from "./helpers";

const DO_APP = ["a-nochange", "b-image", "c1-count", "c2-size", "d-secret"];
const DOCKER = ["rollout", "after-refresh"];

function renderReal(dir: "real-do-app" | "real-docker", name: string, withEvents = true): RenderResult {
    const base = path.join(PREVIEWS_DIR, dir, name);
    const digest = parseDigest(fs.readFileSync(`${base}.json`, "utf8"));
    const log = `${base}.eventlog.ndjson`;
    const events = withEvents && fs.existsSync(log) ? parseEventLog(fs.readFileSync(log, "utf8")) : undefined;
    const r = renderPreviewComment(mergePreviews(digest, events));
    assertClean(r.markdown);
    return r;
}

const kinds = (r: RenderResult) => r.risks.map(x => [x.kind, x.change?.name]);
const verdict = (r: RenderResult) => r.markdown.split("\n")[1] ?? "";
const appLine = (r: RenderResult) => section(r.markdown, "Changes by component").split("\n").find(l => l.includes("`app-app`")) ?? "";

describe("preview-comment: real App Platform previews (real CLI, real digitalocean provider)", () => {
    for (const name of DO_APP) {
        it(`${name}: golden`, () => golden(path.join(GOLDEN_DIR, `real-do-app-${name}.md`), renderReal("real-do-app", name).markdown));
    }

    it("no change: no risk, no changed resource", () => {
        const r = renderReal("real-do-app", "a-nochange");
        assert.deepStrictEqual(kinds(r), []);
        assert.match(r.markdown, /No resource changes\./);
    });

    for (const [name, path_, now] of [
        ["b-image", "spec.services[0].image.tag", "\"1.0.1\""],
        ["c1-count", "spec.services[0].instanceCount", "3"],
        ["c2-size", "spec.services[0].instanceSizeSlug", "\"apps-s-1vcpu-2gb\""],
    ]) {
        it(`${name}: an update of the protected app in place, no credential and no protected-resource risk`, () => {
            const r = renderReal("real-do-app", name as string);
            assert.deepStrictEqual(kinds(r), []);
            assert.match(verdict(r), /✅ No data-loss, credential, traffic or protected-resource risks found/);
            // Still marked protected in the list, and the new value shown as the plain value it is.
            assert.ok(appLine(r).includes("_[protected]_"), appLine(r));
            assert.ok(appLine(r).includes(`\`${path_}\`: now \`${now}\` (old value not shown: the state holds \`spec.services\` as one secret)`), appLine(r));
            assert.ok(!appLine(r).includes(`\`[secret]\` → \`${now}\``), "the old value reads as a secret");
        });
    }

    it("b-image over a state that was not refreshed (old inputs per value, as `pulumi up` leaves them): old and new tag shown", () => {
        // Derived from the real b-image.json: the old inputs get the per-value form the program sent
        // (tag 1.0.0, each env value its own secret); a refresh is what turned them into one secret.
        const digest = JSON.parse(fs.readFileSync(path.join(PREVIEWS_DIR, "real-do-app", "b-image.json"), "utf8")) as {
            steps: Array<{ urn: string; oldState?: { inputs: { spec: Record<string, unknown> } }; newState?: { inputs: { spec: { services: Array<Record<string, unknown>> } } } }>;
        };
        const app = digest.steps.find(s => s.urn.endsWith("::app-app"));
        assert.ok(app?.oldState && app.newState);
        const services = JSON.parse(JSON.stringify(app.newState.inputs.spec.services)) as Array<{ image: { tag: string }; envs: Array<{ value: unknown }> }>;
        services[0]!.image.tag = "1.0.0";
        services[0]!.envs[0]!.value = secret(PLANTED.pgPassword);
        app.oldState.inputs.spec.services = services;
        const r = renderPreviewComment(parseDigest(JSON.stringify(digest)));
        assertClean(r.markdown, PLANTED_VALUES);
        assert.deepStrictEqual(kinds(r), []);
        assert.ok(appLine(r).includes("`spec.services[0].image.tag`: `\"1.0.0\"` → `\"1.0.1\"`"), appLine(r));
    });

    it("d-secret: a given secret rotated is the one credential risk; values only as [secret]", () => {
        const r = renderReal("real-do-app", "d-secret");
        assert.deepStrictEqual(kinds(r), [["credential", "app-app"]]);
        assert.match(section(r.markdown, "Risks"), /secret inputs `spec\.envs\[0\]\.value`, `spec\.envs\[1\]\.value`, `spec\.envs\[2\]\.value` change \(values not shown\)/);
        assert.match(appLine(r), /`spec\.envs\[0\]\.value`: `\[secret\]` → `\[secret\]`/);
    });
});

describe("preview-comment: real docker previews (real CLI, real docker provider)", () => {
    for (const name of DOCKER) {
        it(`${name}: golden (digest and event log)`, () => golden(path.join(GOLDEN_DIR, `real-docker-${name}.md`), renderReal("real-docker", name).markdown));
    }

    it("rollout (new API image): no risk; the volumes stay, and replicas renamed by release are created before the old ones go", () => {
        for (const withEvents of [true, false]) {
            const r = renderReal("real-docker", "rollout", withEvents);
            assert.deepStrictEqual(kinds(r), [], `with event log: ${withEvents}`);
            assert.match(verdict(r), /✅ No data-loss/);
        }
    });

    it("after-refresh: the database container and both API replicas replaced delete-before-create are two outages, not data loss", () => {
        const r = renderReal("real-docker", "after-refresh");
        assert.deepStrictEqual(r.risks.map(x => [x.kind, x.component.name, x.subject, x.related?.length]), [
            ["traffic", "api", "both containers", 2],
            ["traffic", "db", "the only `server` container", 1],
        ]);
        assert.match(verdict(r), /^\*\*⚠ 2 traffic risks\*\*$/);
        const risks = section(r.markdown, "Risks");
        assert.match(risks, /`api-f6f6f95a-1`, `api-f6f6f95a-2` will be \*\*replaced\*\* \(the engine gave no reason; they depend on `db-server`, which is replaced too\), each deleted before its replacement is created, all at once/);
        assert.match(risks, /`db-server` will be \*\*replaced\*\* because `capabilities` changed/);
        assert.match(risks, /volume `"slipway-dev-db-data-pg15"` stays: the data in it is kept/);
        // The event log lists the unchanged resources, so the count is known to be complete.
        assert.ok(!risks.includes("pass `--event-log`"));
        // Both replicas are marked in the Changes section.
        assert.strictEqual((section(r.markdown, "Changes by component").match(/⚠ `\+-` \*\*replace\*\* `api-f6f6f95a-/g) ?? []).length, 2);
    });

    it("after-refresh from the digest alone: the same outages (Docker containers always go delete-first), with the count's caveat", () => {
        const r = renderReal("real-docker", "after-refresh", false);
        assert.deepStrictEqual(kinds(r), [["traffic", "api-f6f6f95a-1"], ["traffic", "db-server"]]);
        assert.match(section(r.markdown, "Risks"), /the digest lists, which leaves unchanged ones out: pass `--event-log`/);
    });
});

describe("preview-comment: outages of replicated services", () => {
    const SVC = "slipway:service:ApiService";
    const labels = (replica: number, release: string) => [
        { label: "slipway.component", value: "ApiService" }, { label: "slipway.name", value: "api" },
        { label: "slipway.release", value: release }, { label: "slipway.replica", value: String(replica) },
    ];
    const replica = (b: DigestBuilder, i: number, op: "replace" | "same" | "update") => {
        const parent = b.urn(SVC, "api");
        const inputs = { image: "api:1", labels: labels(i, "aaaa1111") };
        return { type: "docker:index/container:Container", name: `api-aaaa1111-${i}`, parent, old: { id: `c${i}`, inputs }, new: { inputs: { ...inputs, image: op === "same" ? "api:1" : "api:2" } },
            replaceReasons: op === "replace" ? ["image"] : [], diffReasons: op === "same" ? [] : ["image"], detailedDiff: op === "same" ? null : { image: op === "replace" ? "update-replace" : "update" } };
    };
    const risksOf = (digest: DigestBuilder, events?: string) =>
        renderPreviewComment(mergePreviews(parseDigest(JSON.stringify(digest.digest())), events ? parseEventLog(events) : undefined)).risks;

    it("two of three replicas replaced, the third unchanged in the event log: no outage", () => {
        const b = new DigestBuilder("dev");
        b.replace(replica(b, 1, "replace"));
        b.replace(replica(b, 2, "replace"));
        const log = new DigestBuilder("dev");
        log.replace(replica(log, 1, "replace"));
        log.replace(replica(log, 2, "replace"));
        log.same(replica(log, 3, "same"));
        assert.deepStrictEqual(risksOf(b, log.eventLog()).map(r => r.kind), []);
        // Without the log the third replica is not visible: flagged, with the caveat.
        const alone = risksOf(b);
        assert.deepStrictEqual(alone.map(r => [r.kind, r.subject]), [["traffic", "both containers"]]);
        assert.match(alone[0]?.details.join(" ") ?? "", /pass `--event-log`/);
    });

    it("every replica replaced: one outage naming the service and the count", () => {
        const b = new DigestBuilder("dev");
        for (const i of [1, 2, 3]) b.replace(replica(b, i, "replace"));
        const [r, ...rest] = risksOf(b);
        assert.strictEqual(rest.length, 0);
        assert.strictEqual(r?.kind, "traffic");
        assert.strictEqual(r?.subject, "all 3 containers");
        assert.deepStrictEqual(r?.component, { type: SVC, name: "api" });
    });

    it("the event log tells which replacements delete first (delete-replaced logged before create-replacement)", () => {
        const deleteFirst = (name: string) => {
            const p = parseEventLog(fs.readFileSync(path.join(PREVIEWS_DIR, "real-docker", `${name}.eventlog.ndjson`), "utf8"));
            return [...new Set(p.steps.filter(s => s.deleteFirst).map(s => s.urn.split("::").pop()))].sort();
        };
        assert.deepStrictEqual(deleteFirst("after-refresh"), ["api-f6f6f95a-1", "api-f6f6f95a-2", "db-server"]);
        // The image is replaced create-first; renamed replicas are plain creates and deletes.
        assert.deepStrictEqual(deleteFirst("rollout"), []);
    });
});

describe("preview-comment: old values and secrecy", () => {
    it("an old value read from the outputs (plain there) next to a new secret prints as [secret]", () => {
        const b = new DigestBuilder("prod");
        b.update({
            type: "digitalocean:index/app:App", name: "app",
            old: { inputs: { spec: { name: "a" } }, outputs: { spec: { name: "a", motd: PLANTED.apiKey } } },
            new: { inputs: { spec: { name: "a", motd: secret(PLANTED.apiKey) } } },
            diffReasons: ["spec"], detailedDiff: { "spec.motd": "update" },
        });
        const r = renderPreviewComment(parseDigest(JSON.stringify(b.digest())));
        assertClean(r.markdown, PLANTED_VALUES);
        assert.match(section(r.markdown, "Changes by component"), /`spec\.motd`: `\[secret\]` → `\[secret\]`/);
    });
});
