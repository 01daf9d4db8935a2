import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Recorder, isSecretValue, redact, secretness, valueOf } from "../../components/testing/recorder";
import { isAppContributor } from "../../components/targets/app-spec";
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

    it("adds nothing to the App itself and links every secret, or the picked ones, under a label naming them", async () => {
        const { s } = await sync();
        assert.equal(isAppContributor(s), false, "it reaches the App only through the services that link it");
        assert.deepEqual(rec.ofType(PAGES), []);
        assert.equal(s.linkLabel, 'SecretsSync "secrets"');
        const all = s.link().env!;
        assert.deepEqual(all.map(e => [e.key, e.secret]), [["CLERK_SECRET_KEY", true], ["DATABASE_PASSWORD", true], ["SENTRY_AUTH_TOKEN", true]]);
        for (const e of all) assert.strictEqual(await secretness(e.value), true, `${e.key} is wrapped by the block that made it`);
        const picked = s.pick("SENTRY_AUTH_TOKEN", "CLERK_SECRET_KEY");
        assert.equal(picked.linkLabel, 'SecretsSync "secrets" (CLERK_SECRET_KEY, SENTRY_AUTH_TOKEN)');
        const env = picked.link({ service: "api", port: 8080 }).env!;
        assert.deepEqual(env.map(e => e.key), ["CLERK_SECRET_KEY", "SENTRY_AUTH_TOKEN"]);
        assert.strictEqual(env[0]!.value, all[0]!.value, "one value object per key, whoever links it");
    });

    it("reaches linked services as sorted SECRET run-time envs", async () => {
        const { s, target } = await sync();
        const { ApiService } = await import("../../components/api-service");
        const api = new ApiService("api", { target, image: "ghcr.io/acme/api:1.0.0", link: [s.pick("CLERK_SECRET_KEY", "SENTRY_AUTH_TOKEN")] });
        // A second service linking one of the same secrets: one App env, merged by identity.
        const worker = new ApiService("worker", { target, image: "ghcr.io/acme/worker:1.0.0", link: [s.pick("CLERK_SECRET_KEY")] });
        const { DoApp } = await import("../../components/targets/do-app");
        const app = new DoApp("app", { target, components: [api, worker], secretValues: "send" });
        // Secrets are App-level SECRET envs; the services keep only their plain ones.
        const envs = app.spec.envs as any[];
        assert.deepEqual(envs.map(e => [e.key, e.type, e.scope]), [["CLERK_SECRET_KEY", "SECRET", "RUN_TIME"], ["SENTRY_AUTH_TOKEN", "SECRET", "RUN_TIME"]]);
        for (const e of envs) assert.strictEqual(await secretness(e.value), true);
        assert.strictEqual(await valueOf(envs[0].value), CLERK);
        assert.strictEqual(await valueOf(envs[1].value), SENTRY);
        for (const svc of app.spec.services as any[]) {
            assert.deepEqual(svc.envs.map((e: any) => [e.key, e.type, e.scope]), [["PORT", "GENERAL", "RUN_TIME"]], svc.name);
        }
        await app.app;
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
