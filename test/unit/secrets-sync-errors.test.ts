import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { SlipwayConfigError } from "../../components/core/errors";
import type { Target } from "../../components/core/target";
import { Recorder } from "../../components/testing/recorder";
import { expectConfigError } from "../helpers/config-error";
import { dockerTarget, doTarget, freshRecorder } from "../helpers/harness";

const ACCOUNT = "0123456789abcdef0123456789abcdef";

describe("SecretsSync bad input", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    /** Build with a target made beforehand (see expectConfigError). */
    async function rejects(target: Target, args: Record<string, unknown>, path: string, problem: RegExp, fix: RegExp, name = "secrets") {
        const { SecretsSync } = await import("../../components/secrets-sync");
        return expectConfigError(rec, () => new SecretsSync(name, { target, secrets: { API_TOKEN: { value: pulumi.secret("t0ken") } }, ...args } as any),
            { component: `SecretsSync "${name}"`, path, problem, fix });
    }

    it("rejects an empty set of secrets", async () => {
        await rejects(await dockerTarget(), { secrets: {} }, "secrets", /nothing to sync/, /requireSecret/);
    });

    it("rejects lower-case and malformed keys, suggesting the upper-case name", async () => {
        await rejects(await dockerTarget(), { secrets: { db_password: { generate: {} } } }, "secrets.db_password", /upper-case/, /"DB_PASSWORD"/);
        await rejects(await doTarget(), { secrets: { "9-LIVES": { generate: {} } } }, "secrets.9-LIVES", /upper-case/, /"_9_LIVES"/);
    });

    it("requires exactly one of value and generate", async () => {
        await rejects(await dockerTarget(), { secrets: { A: { value: "x", generate: {} } } }, "secrets.A", /exactly one/, /generate: \{\}/);
        await rejects(await dockerTarget(), { secrets: { A: {} } }, "secrets.A", /exactly one/, /requireSecret/);
        await rejects(await dockerTarget(), { secrets: { A: { value: "" } } }, "secrets.A.value", /empty/, /requireSecret/);
    });

    it("bounds rotationDays and length", async () => {
        await rejects(await dockerTarget(), { secrets: { A: { generate: { rotationDays: 0 } } } }, "secrets.A.generate.rotationDays", /1 to 3650/, /between 1 and 3650/);
        await rejects(await dockerTarget(), { secrets: { A: { generate: { rotationDays: 4000 } } } }, "secrets.A.generate.rotationDays", /1 to 3650/, /between 1 and 3650/);
        await rejects(await dockerTarget(), { secrets: { A: { generate: { length: 8 } } } }, "secrets.A.generate.length", /16 to 512/, /between 16 and 512/);
    });

    it("rejects a key that collides with another key's _FILE variable", async () => {
        await rejects(await dockerTarget(), { secrets: { TOKEN: { generate: {} }, TOKEN_FILE: { value: "x" } } }, "secrets.TOKEN_FILE", /file delivery creates/, /rename/);
    });

    it("rejects Pages entries with unknown or repeated keys", async () => {
        await rejects(await doTarget(), { pages: [{ accountId: ACCOUNT, projectName: "web", keys: ["NOPE"] }] }, "pages[0].keys[0]", /not one of the secrets/, /API_TOKEN/);
        await rejects(await doTarget(), { pages: [{ accountId: ACCOUNT, projectName: "web", keys: ["API_TOKEN", "API_TOKEN"] }] }, "pages[0].keys[1]", /twice/, /once/);
    });

    it("rejects a bad account id and project name", async () => {
        await rejects(await doTarget(), { pages: [{ accountId: "acme", projectName: "web", keys: ["API_TOKEN"] }] }, "pages[0].accountId", /not a Cloudflare account id/, /32-character hex/);
        await rejects(await doTarget(), { pages: [{ accountId: ACCOUNT, projectName: "Web App", keys: ["API_TOKEN"] }] }, "pages[0].projectName", /not a Pages project name/, /lowercase/);
    });

    it("keeps a non-production stack away from the production Pages environment", async () => {
        await rejects(await dockerTarget("dev", false), { pages: [{ accountId: ACCOUNT, projectName: "web", keys: ["API_TOKEN"], environment: "production" }] },
            "pages[0].environment", /non-production stack/, /environment: "preview"/);
    });

    it("rejects two entries syncing the same Pages environment", async () => {
        const p = { accountId: ACCOUNT, projectName: "web", keys: ["API_TOKEN"], environment: "preview" };
        await rejects(await doTarget(), { pages: [p, p] }, "pages[1].environment", /already synced/, /merge/);
    });

    it("pick() rejects unknown and missing keys without registering anything", async () => {
        const { SecretsSync } = await import("../../components/secrets-sync");
        const s = new SecretsSync("secrets", { target: await doTarget(), secrets: { API_TOKEN: { value: pulumi.secret("t") } } });
        await rec.settle();
        const count = rec.resources.length;
        assert.throws(() => s.pick("NOPE"), (e: unknown) => e instanceof SlipwayConfigError
            && e.message.startsWith('SecretsSync "secrets": pick("NOPE"): ') && /use one of API_TOKEN/.test(e.fix));
        assert.throws(() => s.pick(), (e: unknown) => e instanceof SlipwayConfigError && /without keys/.test(e.problem));
        await rec.settle();
        assert.strictEqual(rec.resources.length, count);
    });
});
