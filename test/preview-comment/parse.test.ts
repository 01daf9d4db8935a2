import * as assert from "assert";
import { collectChanges, componentOf } from "../../cli/preview-comment/changes";
import { InputError, mergePreviews, parseDigest, parseEventLog } from "../../cli/preview-comment/parse";
import { renderPreviewComment } from "../../cli/preview-comment/render";
import { findRisks } from "../../cli/preview-comment/risks";
import { STATEFUL_TYPES, statefulType } from "../../cli/preview-comment/stateful-types";
import { parsePropertyPath, shortValue, stripColour } from "../../cli/preview-comment/values";
import { DigestBuilder, UNKNOWN, secret } from "./digest-builder";

describe("preview-comment: values", () => {
    it("strips ANSI CSI/OSC sequences, Pulumi colour directives and control characters, keeps newlines", () => {
        const raw = "<{%fg 1%}>error: <{%reset%}>\u001b[1;31mboom\u001b[0m\r\nnext\u001b]8;;http://x\u0007link\u001b]8;;\u0007\u0000 line";
        assert.strictEqual(stripColour(raw), "error: boom\nnextlink line");
    });

    it("never opens a secret: signature objects and the digest's [secret] both print as [secret]", () => {
        assert.strictEqual(shortValue(secret("hunter2")), "[secret]");
        assert.strictEqual(shortValue("[secret]"), "[secret]");
        assert.strictEqual(shortValue({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "AAAA" }), "[secret]");
    });

    it("prints unknowns as (known after apply), also inside interpolated strings", () => {
        assert.strictEqual(shortValue(UNKNOWN), "(known after apply)");
        assert.strictEqual(shortValue(`postgres://${UNKNOWN}:5432`), JSON.stringify("postgres://(known after apply):5432"));
    });

    it("summarises documents instead of dumping them", () => {
        assert.strictEqual(shortValue({ a: secret("x"), b: 1 }), "{2 keys}");
        assert.strictEqual(shortValue([1, 2, 3]), "[3 items]");
        assert.strictEqual(shortValue("x".repeat(100)).length, 62);
    });

    it("parses Pulumi property paths", () => {
        assert.deepStrictEqual(parsePropertyPath("volumes[0].volumeName"), ["volumes", 0, "volumeName"]);
        assert.deepStrictEqual(parsePropertyPath('labels["app.kubernetes.io/name"]'), ["labels", "app.kubernetes.io/name"]);
        assert.strictEqual(parsePropertyPath("a[x"), undefined);
    });
});

describe("preview-comment: parsing", () => {
    it("digest: reads steps, reasons, detailedDiff (kind) and diagnostics; tolerates a banner before the JSON", () => {
        const b = new DigestBuilder("dev");
        b.update({ type: "docker:index/container:Container", name: "c", old: { inputs: { image: "a" } }, new: { inputs: { image: "b" } }, diffReasons: ["image"], detailedDiff: { image: "update" } });
        b.diagnostic("warning", "warning: careful");
        const p = parseDigest(`Previewing update (dev):\n${JSON.stringify(b.digest())}\n`);
        assert.strictEqual(p.incomplete, undefined);
        const step = p.steps.find(s => s.op === "update");
        assert.deepStrictEqual(step?.detailedDiff, { image: { kind: "update", inputDiff: true } });
        assert.deepStrictEqual(step?.diffReasons, ["image"]);
        assert.deepStrictEqual(p.diagnostics, [{ severity: "warning", urn: undefined, message: "warning: careful" }]);
    });

    it("empty or broken digest: refused with an InputError (never a comment), see hardening.test.ts for the full list", () => {
        for (const text of ["", "panic: runtime error", "[]", "{}"]) {
            assert.throws(() => parseDigest(text), (e: unknown) => e instanceof InputError, JSON.stringify(text));
        }
    });

    it("event log: pre-event wins over outputs event, diffKind read, failed ops marked, result from the summary", () => {
        const meta = (op: string, extra: Record<string, unknown> = {}) => ({
            op, urn: "urn:pulumi:dev::p::docker:index/volume:Volume::v", type: "docker:index/volume:Volume",
            old: { type: "docker:index/volume:Volume", urn: "urn:pulumi:dev::p::docker:index/volume:Volume::v", inputs: { name: "v1" } },
            new: { type: "docker:index/volume:Volume", urn: "urn:pulumi:dev::p::docker:index/volume:Volume::v", inputs: { name: "v2" } },
            keys: ["name"], detailedDiff: { name: { diffKind: "update-replace", inputDiff: true } }, ...extra,
        });
        const lines = [
            { resourcePreEvent: { metadata: meta("replace"), planning: true } },
            { resOutputsEvent: { metadata: meta("replace", { keys: ["other"] }), planning: true } },
            { resOpFailedEvent: { metadata: meta("replace"), status: 2, steps: 1 } },
            { diagnosticEvent: { message: "debug noise", severity: "debug", color: "raw" } },
            { diagnosticEvent: { message: "spinner", severity: "info", ephemeral: true, color: "raw" } },
            { summaryEvent: { resourceChanges: { replace: 1 }, maybeCorrupt: false, isPreview: true, result: "failed" } },
        ].map(l => JSON.stringify(l)).join("\n");
        const p = parseEventLog(lines);
        assert.strictEqual(p.steps.length, 1);
        assert.deepStrictEqual(p.steps[0]?.replaceReasons, ["name"]);
        assert.deepStrictEqual(p.steps[0]?.detailedDiff, { name: { kind: "update-replace", inputDiff: true } });
        assert.strictEqual(p.steps[0]?.failed, true);
        assert.strictEqual(p.diagnostics.length, 0);
        assert.strictEqual(p.engineResult, "failed");
    });

    it("merge: digest steps, event-log result and deduplicated diagnostics", () => {
        const b = new DigestBuilder("prod");
        b.diagnostic("error", "error: preview failed");
        const merged = mergePreviews(parseDigest(JSON.stringify(b.digest())), parseEventLog(b.eventLog("failed")));
        assert.strictEqual(merged.engineResult, "failed");
        assert.strictEqual(merged.diagnostics.length, 1);
        assert.strictEqual(merged.steps.length, 1);
    });

    it("merge: a digest without steps (the program failed early) falls back to the event log's steps", () => {
        const b = new DigestBuilder("prod");
        b.delete({ type: "docker:index/volume:Volume", name: "v", old: { inputs: {} } });
        const digest = parseDigest(JSON.stringify({ diagnostics: [{ message: "error: program failed", severity: "error" }] }));
        const merged = mergePreviews(digest, parseEventLog(b.eventLog()));
        assert.strictEqual(merged.incomplete, undefined);
        assert.ok(merged.steps.some(s => s.op === "delete"));
        assert.strictEqual(merged.diagnostics.length, 1);
    });
});

describe("preview-comment: component attribution", () => {
    const stack = "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev";
    const db = "urn:pulumi:dev::p::slipway:database:ManagedDatabase::orders";
    const pw = "urn:pulumi:dev::p::slipway:database:ManagedDatabase$random:index/randomPassword:RandomPassword::orders-password";

    it("uses the parent URN, which names the component", () => {
        const urn = "urn:pulumi:dev::p::slipway:database:ManagedDatabase$docker:index/volume:Volume::orders-data";
        assert.deepStrictEqual(componentOf(urn, "docker:index/volume:Volume", db, new Map()), { type: "slipway:database:ManagedDatabase", name: "orders" });
    });

    it("walks up through non-Slipway parents it has seen", () => {
        const parents = new Map<string, string | undefined>([[pw, db], [db, stack]]);
        const urn = "urn:pulumi:dev::p::slipway:database:ManagedDatabase$random:index/randomPassword:RandomPassword$x:y:Z::leaf";
        assert.deepStrictEqual(componentOf(urn, "x:y:Z", pw, parents), { type: "slipway:database:ManagedDatabase", name: "orders" });
    });

    it("falls back to the URN's type chain when no parent is recorded (type known, name not)", () => {
        const urn = "urn:pulumi:dev::p::slipway:service:ApiService$docker:index/container:Container::api-1";
        assert.deepStrictEqual(componentOf(urn, "docker:index/container:Container", undefined, new Map()), { type: "slipway:service:ApiService" });
        const r = renderPreviewComment(parseDigest(JSON.stringify({ steps: [{ op: "delete", urn, oldState: { urn, type: "docker:index/container:Container", inputs: {} }, detailedDiff: null }] })));
        assert.match(r.markdown, /<b>ApiService \(name not in preview\)<\/b>/);
    });

    it("resources under the stack only are 'Not in a Slipway component'; a component's own step is in its group", () => {
        assert.deepStrictEqual(componentOf("urn:pulumi:dev::p::random:index/randomId:RandomId::r", "random:index/randomId:RandomId", stack, new Map([[stack, undefined]])), {});
        assert.deepStrictEqual(componentOf(db, "slipway:database:ManagedDatabase", stack, new Map()), { type: "slipway:database:ManagedDatabase", name: "orders" });
    });
});

describe("preview-comment: risk table", () => {
    it("is data: every row names a type token, and reacts to replace or delete only", () => {
        const types = STATEFUL_TYPES.map(t => t.type);
        assert.strictEqual(new Set(types).size, types.length, "duplicate rows");
        for (const required of [
            "docker:index/volume:Volume", "docker:index/container:Container", "digitalocean:index/databaseCluster:DatabaseCluster",
            "digitalocean:index/databaseDb:DatabaseDb", "digitalocean:index/databaseUser:DatabaseUser",
            "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool", "cloudflare:index/zone:Zone",
            "cloudflare:index/dnsRecord:DnsRecord", "cloudflare:index/record:Record",
            "random:index/randomPassword:RandomPassword", "digitalocean:index/app:App",
        ]) assert.ok(statefulType(required), `missing ${required}`);
        for (const t of STATEFUL_TYPES) {
            assert.match(t.type, /^[a-z0-9-]+:[a-zA-Z0-9/]+:[A-Z][A-Za-z0-9]*$/, t.type);
            for (const op of Object.keys(t.ops)) {
                assert.ok(op === "replace" || op === "delete");
                assert.ok(t.consequence[op as "replace" | "delete"], `${t.type} ${op} has no consequence text`);
            }
        }
    });

    const risksFor = (b: DigestBuilder) => {
        const p = parseDigest(JSON.stringify(b.digest()));
        return findRisks(p, collectChanges(p));
    };

    it("data loss is judged by the volume, not by a container that mounts it", () => {
        const b = new DigestBuilder("dev");
        b.delete({ type: "docker:index/container:Container", name: "stateless", old: { inputs: { image: "x", volumes: [] } } });
        b.delete({ type: "docker:index/container:Container", name: "pg", old: { inputs: { image: "postgres:16", mounts: [{ type: "volume", source: "pgdata", target: "/var/lib/postgresql/data" }] } } });
        b.delete({ type: "docker:index/container:Container", name: "prometheus-targets", old: { inputs: { image: "x", volumes: [{ volumeName: "targets", containerPath: "/prometheus" }] } } });
        assert.deepStrictEqual(risksFor(b).map(r => [r.kind, r.change?.name]), []);
        b.delete({ type: "docker:index/volume:Volume", name: "pgdata", old: { inputs: { name: "pgdata" } } });
        assert.deepStrictEqual(risksFor(b).map(r => [r.kind, r.change?.name]), [["data-loss", "pgdata"]]);
    });

    it("DNS records carry traffic when they are A/AAAA/CNAME (v6 dnsRecord and the older record type)", () => {
        const b = new DigestBuilder("prod");
        b.delete({ type: "cloudflare:index/dnsRecord:DnsRecord", name: "mx", old: { inputs: { type: "MX", name: "example.com" } } });
        b.delete({ type: "cloudflare:index/record:Record", name: "old-api", old: { inputs: { type: "A", name: "api.example.com" } } });
        b.delete({ type: "cloudflare:index/dnsRecord:DnsRecord", name: "www", old: { inputs: { type: "cname", name: "www.example.com" } } });
        assert.deepStrictEqual(risksFor(b).map(r => [r.kind, r.change?.name]), [["traffic", "www"], ["traffic", "old-api"]]);
    });

    it("retainOnDelete on a delete downgrades data loss to a notice; creates and updates of stateful types are not risks", () => {
        const b = new DigestBuilder("dev");
        b.delete({ type: "docker:index/volume:Volume", name: "kept", old: { retainOnDelete: true, inputs: {} } });
        b.create({ type: "docker:index/volume:Volume", name: "new", new: { inputs: {} } });
        b.update({ type: "docker:index/volume:Volume", name: "relabel", old: { inputs: { labels: [] } }, new: { inputs: { labels: [{ label: "a", value: "b" }] } }, diffReasons: ["labels"], detailedDiff: { labels: "update" } });
        assert.deepStrictEqual(risksFor(b).map(r => [r.kind, r.change?.name]), [["notice", "kept"]]);
    });

    it("credential: a changed key named like a credential is flagged even when not marked secret", () => {
        const b = new DigestBuilder("prod");
        b.update({ type: "digitalocean:index/databaseUser:DatabaseUser", name: "u", old: { inputs: { name: "u" } }, new: { inputs: { name: "u" } }, diffReasons: ["password"], detailedDiff: null });
        const [r] = risksFor(b);
        assert.strictEqual(r?.kind, "credential");
        assert.match(r?.reason ?? "", /`password`/);
    });

    it("a protected resource updated in place is no risk: protection stops only a replace or a delete", () => {
        const b = new DigestBuilder("prod");
        b.update({ type: "digitalocean:index/databaseCluster:DatabaseCluster", name: "c", old: { protect: true, inputs: { size: "s" } }, new: { protect: true, inputs: { size: "m" } }, diffReasons: ["size"], detailedDiff: { size: "update" } });
        assert.deepStrictEqual(risksFor(b), []);
        b.delete({ type: "digitalocean:index/app:App", name: "app", old: { protect: true, inputs: {} } });
        assert.deepStrictEqual(risksFor(b).map(r => [r.kind, r.change?.name]), [["protected", "app"], ["traffic", "app"]]);
    });
});
