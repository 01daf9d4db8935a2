import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Recorder, isSecretValue, redact, secretness, valueOf } from "../../components/testing/recorder";
import { doTarget, freshRecorder } from "../helpers/harness";

const PAGES = "cloudflare:index/pagesProject:PagesProject";
const ACCOUNT = "0123456789abcdef0123456789abcdef";
const SENTRY = "sntrys_plaintext_for_tests";
const CLERK = "sk_clerk_plaintext_for_tests";

describe("SecretsSync on do-app", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    async function sync(pages: unknown[] = []) {
        const { SecretsSync } = await import("../../components/secrets-sync");
        const target = await doTarget();
        const s = new SecretsSync("secrets", {
            target,
            secrets: {
                SENTRY_AUTH_TOKEN: { value: pulumi.secret(SENTRY) },
                CLERK_SECRET_KEY: { value: CLERK },
                DATABASE_PASSWORD: { generate: { rotationDays: 90 } },
            },
            pages: pages as any,
            now: () => new Date(Date.UTC(2031, 5, 1)),
        });
        await rec.settle();
        return { s, target };
    }

    it("contributes an empty part and registers as a contributor", async () => {
        const { s, target } = await sync();
        assert.ok(target.contributors.has('SecretsSync "secrets"'));
        assert.deepEqual(s.appSpec, { source: 'SecretsSync "secrets"' });
        assert.deepEqual(rec.ofType(PAGES), []);
    });

    it("reaches linked services as sorted SECRET run-time envs", async () => {
        const { s, target } = await sync();
        const { ApiService } = await import("../../components/api-service");
        const api = new ApiService("api", { target, image: "ghcr.io/acme/api:1.0.0", link: [s.pick("CLERK_SECRET_KEY", "SENTRY_AUTH_TOKEN")] });
        const envs = api.appSpec!.services![0]!.envs as any[];
        assert.deepEqual(envs.map(e => [e.key, e.type, e.scope]), [["CLERK_SECRET_KEY", "SECRET", "RUN_TIME"], ["PORT", "GENERAL", "RUN_TIME"], ["SENTRY_AUTH_TOKEN", "SECRET", "RUN_TIME"]]);
        for (const e of envs.filter(x => x.type === "SECRET")) assert.strictEqual(await secretness(e.value), true);
        assert.strictEqual(await valueOf(envs[0].value), CLERK);
    });

    it("syncs chosen keys to one PagesProject per project, as secret_text, retained on delete", async () => {
        await sync([
            { accountId: ACCOUNT, projectName: "web", keys: ["SENTRY_AUTH_TOKEN", "CLERK_SECRET_KEY"] },
            { accountId: ACCOUNT, projectName: "web", keys: ["SENTRY_AUTH_TOKEN"], environment: "preview" },
        ]);
        const projects = rec.ofType(PAGES);
        assert.strictEqual(projects.length, 1, "two environments of one project share one resource");
        const p = projects[0]!;
        assert.strictEqual(p.name, "secrets-pages-web");
        assert.strictEqual(p.inputs.accountId, ACCOUNT);
        assert.strictEqual(p.inputs.name, "web");
        assert.strictEqual(p.inputs.productionBranch, "main");
        assert.strictEqual(p.options.retainOnDelete, true, "never deletes the frontend's project");
        assert.deepEqual([...p.options.ignoreChanges].sort(), ["buildConfig", "productionBranch", "source"]);
        const dc = redact(p.inputs.deploymentConfigs, true) as any;
        assert.deepEqual(Object.keys(dc.production.envVars), ["CLERK_SECRET_KEY", "SENTRY_AUTH_TOKEN"]);
        assert.deepEqual(dc.production.envVars.SENTRY_AUTH_TOKEN, { type: "secret_text", value: SENTRY });
        assert.deepEqual(Object.keys(dc.preview.envVars), ["SENTRY_AUTH_TOKEN"]);
        // No plaintext outside a secret marker.
        const masked = JSON.stringify(redact(p.inputs));
        assert.ok(!masked.includes(SENTRY) && !masked.includes(CLERK), masked);
        assert.ok(isSecretValue(p.inputs.deploymentConfigs) || isSecretValue((p.inputs.deploymentConfigs as any).production.envVars.CLERK_SECRET_KEY.value));
    });

    it("defaults the Pages environment to production on a production target", async () => {
        await sync([{ accountId: ACCOUNT, projectName: "web", keys: ["CLERK_SECRET_KEY"] }]);
        const dc = redact(rec.get(PAGES, "secrets-pages-web").inputs.deploymentConfigs, true) as any;
        assert.deepEqual(Object.keys(dc.production.envVars), ["CLERK_SECRET_KEY"]);
        assert.strictEqual(dc.preview, undefined);
    });
});
