// Fields the providers' schemas call secret are redacted by the preview comment whatever their
// names, and the generated list is what the installed provider SDKs say.
import * as assert from "assert";
import * as fs from "fs";
import { sanitizePreview } from "../../cli/preview-comment/redact";
import { renderPreviewComment } from "../../cli/preview-comment";
import { SECRET_TEXT } from "../../cli/preview-comment/values";
import { OUT, generate, render } from "../../scripts/gen-provider-secrets";

const S = SECRET_TEXT;
const WORKER = "cloudflare:index/workersScript:WorkersScript";
const urn = (type: string, name: string) => `urn:pulumi:prod::slipway::${type}::${name}`;

/** A preview creating a Workers script whose secret_text binding the program passed in plain text. */
function workerPreview(secretText: string) {
    const u = urn(WORKER, "edge-worker");
    const inputs = {
        accountId: "023e105f4ecef8ad9ca31a8372d0c353", scriptName: "edge-worker", content: "export default {}",
        bindings: [
            { name: "UPSTREAM_API", type: "secret_text", text: secretText },
            { name: "GREETING", type: "plain_text", text: "hello from the edge" },
        ],
    };
    return {
        steps: [{ op: "create", urn: u, type: WORKER, new: { urn: u, type: WORKER, inputs }, diffReasons: [], replaceReasons: [], detailedDiff: null }],
        diagnostics: [], maybeCorrupt: false,
    };
}

describe("preview-comment: secrets by the providers' schemas", () => {
    it("provider-secrets.ts is current with the installed SDKs (npm run gen:provider-secrets)", () => {
        assert.equal(fs.readFileSync(OUT, "utf8"), render(generate()));
    });

    it("the generated data knows the fields the tests below rely on", () => {
        const g = generate();
        assert.ok(g.typedSecrets.types.includes("secret_text"), "Cloudflare's secret_text bindings and Pages env vars");
        assert.ok(g.typedSecrets.fields.includes("text"));
        assert.deepEqual(g.properties["random:index/randomBytes:RandomBytes"], ["base64", "hex"]);
    });

    it("a Workers script's secret_text binding shown in plain text is redacted; the plain_text one stays", () => {
        const plain = "upstream-9f2c1e7a0b";
        const p = sanitizePreview(workerPreview(plain) as never);
        const bindings = (p.steps[0]!.new!.inputs as { bindings: { name: string; text: string }[] }).bindings;
        assert.deepEqual(bindings.map(b => [b.name, b.text]), [["UPSTREAM_API", S], ["GREETING", "hello from the edge"]]);
        const comment = renderPreviewComment(workerPreview(plain) as never).markdown;
        assert.ok(comment.includes("edge-worker"), "the comment shows the script");
        assert.ok(!comment.includes(plain), "the secret must not reach the comment");
    });

    it("a Pages env var typed secret_text is redacted by its type, not its name", () => {
        const type = "cloudflare:index/pagesProject:PagesProject";
        const u = urn(type, "site");
        const inputs = { deploymentConfigs: { production: { envVars: { SITE_COLOUR: { type: "secret_text", value: "teal-4471" }, MODE: { type: "plain_text", value: "prod" } } } } };
        const p = sanitizePreview({ steps: [{ op: "update", urn: u, type, new: { urn: u, inputs }, diffReasons: [], replaceReasons: [], detailedDiff: null }], diagnostics: [], maybeCorrupt: false } as never);
        const env = (p.steps[0]!.new!.inputs as typeof inputs).deploymentConfigs.production.envVars;
        assert.deepEqual([env.SITE_COLOUR.value, env.MODE.value], [S, "prod"]);
    });

    it("a property the schema marks secret (random.RandomBytes hex) is redacted in plain outputs; others stay", () => {
        const type = "random:index/randomBytes:RandomBytes";
        const u = urn(type, "salt");
        const outputs = { length: 16, hex: "00112233445566778899aabbccddeeff", id: "salt" };
        const p = sanitizePreview({ steps: [{ op: "same", urn: u, type, old: { urn: u, type, outputs }, diffReasons: [], replaceReasons: [], detailedDiff: null }], diagnostics: [], maybeCorrupt: false } as never);
        assert.deepEqual(p.steps[0]!.old!.outputs, { length: 16, hex: S, id: "salt" });
    });
});
