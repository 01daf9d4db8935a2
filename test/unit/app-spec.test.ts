import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { mergeAppSpecParts, redactAppSpec, toApiSpec, AppPart } from "../../components/targets/app-spec";
import { appSpecErrors, upperCaseKeys, SHARED } from "../helpers/do-schema";

const svc = (name: string) => ({
    name, httpPort: 8080, instanceCount: 2, instanceSizeSlug: "apps-s-1vcpu-1gb",
    image: { registryType: "DOCR", repository: name, tag: "1.0.0" },
});

describe("mergeAppSpecParts", () => {
    const parts: AppPart[] = [
        { owner: 'ApiService "media"', services: [svc("media")] },
        { owner: 'ApiService "core"', services: [svc("core")] },
        {
            owner: 'Gateway "edge"',
            ingressRules: [
                { match: { path: { prefix: "/v1" } }, component: { name: "core" } },
                { match: { path: { prefix: "/v1/media" } }, component: { name: "media" } },
            ],
        },
    ];

    it("orders services by name and rules longest prefix first, whatever the part order", () => {
        const a = mergeAppSpecParts("shop", "fra", parts);
        const b = mergeAppSpecParts("shop", "fra", [...parts].reverse());
        assert.deepStrictEqual(a, b);
        assert.deepStrictEqual((a.services as { name: string }[]).map(s => s.name), ["core", "media"]);
        const prefixes = (a.ingress as { rules: { match: { path: { prefix: string } } }[] }).rules.map(r => r.match.path.prefix);
        assert.deepStrictEqual(prefixes, ["/v1/media", "/v1"]);
    });

    it("rejects a component defined twice, naming both owners", () => {
        assert.throws(() => mergeAppSpecParts("shop", "fra", [...parts, { owner: 'ApiService "core2"', services: [svc("core")] }]),
            /ApiService "core2": services\[0\]\.name: component "core" is already defined by ApiService "core"\. Fix: give each component a unique name/);
    });

    it("rejects a route to a component no part defines", () => {
        assert.throws(() => mergeAppSpecParts("shop", "fra", [parts[2]!, parts[0]!]),
            /DoApp "shop": ingress\.rules\[\d\]\.component\.name: routes to "core", which no part defines\. Fix: create the ApiService "core"/);
    });

    it("rejects a duplicate route prefix across parts", () => {
        const dup: AppPart = { owner: 'Gateway "other"', ingressRules: [{ match: { path: { prefix: "/v1" } }, component: { name: "media" } }] };
        assert.throws(() => mergeAppSpecParts("shop", "fra", [...parts, dup]), /Gateway "other": ingressRules\[0\]\.match\.path\.prefix: route "\/v1" is already defined by Gateway "edge"/);
    });

    it("rejects App and component names that App Platform refuses", () => {
        assert.throws(() => mergeAppSpecParts("Shop_API", "fra", parts), /DoApp "Shop_API": appName: .*Fix: use 2 to 32 lowercase/);
        assert.throws(() => mergeAppSpecParts("shop", "fra", [{ owner: 'ApiService "x"', services: [svc("Core-")] }]),
            /ApiService "x": services\[0\]\.name: "Core-" is not a valid App Platform component name/);
    });
});

describe("mergeAppSpecParts: service secrets", () => {
    type Env = { key: string; value: pulumi.Input<string>; type: string; scope?: string };
    const withEnvs = (name: string, envs: Env[]): AppPart => ({ owner: `ApiService "${name}"`, services: [{ ...svc(name), envs }] });
    const plain = (key: string, value = "v"): Env => ({ key, value, type: "GENERAL", scope: "RUN_TIME" });
    const secret = (key: string, value: pulumi.Input<string>): Env => ({ key, value, type: "SECRET", scope: "RUN_TIME" });
    const resolve = (v: pulumi.Input<string>) => new Promise<string>(r => pulumi.output(v).apply(x => { r(x); return x; }));

    it("moves SECRET envs to the App level and leaves the services their GENERAL ones", async () => {
        const spec = mergeAppSpecParts("shop", "fra", [withEnvs("core", [plain("LOG_FORMAT", "json"), secret("DATABASE_URL", "postgres://x")])]);
        const envs = spec.envs as Env[];
        assert.deepStrictEqual(envs.map(e => [e.key, e.type, e.scope]), [["DATABASE_URL", "SECRET", "RUN_TIME"]]);
        assert.strictEqual(await pulumi.isSecret(pulumi.output(envs[0]!.value)), true, "wrapped as a secret whatever the part gave");
        assert.strictEqual(await resolve(envs[0]!.value), "postgres://x");
        assert.deepStrictEqual((spec.services as { envs: Env[] }[])[0]!.envs, [plain("LOG_FORMAT", "json")]);
        const onlySecrets = mergeAppSpecParts("shop", "fra", [withEnvs("core", [secret("A", "a")])]);
        assert.strictEqual((onlySecrets.services as { envs?: Env[] }[])[0]!.envs, undefined, "no empty envs list left behind");
    });

    it("merges the same secret linked to two services into one App env", () => {
        const url = pulumi.secret("postgres://x");
        const spec = mergeAppSpecParts("shop", "fra", [withEnvs("core", [secret("DATABASE_URL", url)]), withEnvs("media", [secret("DATABASE_URL", url)])]);
        assert.deepStrictEqual((spec.envs as Env[]).map(e => e.key), ["DATABASE_URL"]);
        for (const s of spec.services as { envs?: Env[] }[]) assert.strictEqual(s.envs, undefined);
    });

    it("keeps a key two services need with different values in each service (a per-schema DATABASE_URL)", () => {
        const core = pulumi.secret("postgres://core");
        const media = pulumi.secret("postgres://media");
        const spec = mergeAppSpecParts("shop", "fra", [
            withEnvs("core", [secret("DATABASE_URL", core), secret("TOKEN", "t")]),
            withEnvs("media", [secret("DATABASE_URL", media)]),
        ]);
        const envOf = (svc: string) => (spec.services as { name: string; envs?: { key: string; value: unknown; type: string }[] }[])
            .find(x => x.name === svc)!.envs ?? [];
        assert.strictEqual(envOf("core").find(e => e.key === "DATABASE_URL")?.value, core);
        assert.strictEqual(envOf("media").find(e => e.key === "DATABASE_URL")?.value, media);
        assert.deepStrictEqual((spec.envs as { key: string }[]).map(e => e.key), ["TOKEN"], "the unique secret still moves up");
    });

    it("rejects a secret that shadows an App env, naming both owners", () => {
        assert.throws(() => mergeAppSpecParts("shop", "fra", [
            { owner: 'Observability "obs"', envs: [{ key: "TOKEN", value: "t", type: "GENERAL" }] },
            withEnvs("core", [secret("TOKEN", "s")]),
        ]), /ApiService "core": services\[0\]\.envs\.TOKEN: app env "TOKEN" is already defined by Observability "obs"/);
    });
});

describe("toApiSpec", () => {
    it("reshapes Pulumi's spec into the API form, which DigitalOcean's schema accepts", () => {
        const pulumiSpec = {
            name: "shop", region: "fra",
            domainNames: [{ name: "api.example.com", type: "PRIMARY", zone: "example.com" }],
            alerts: [{ rule: "DEPLOYMENT_FAILED", destinations: { emails: ["ops@example.com"] } }],
            services: [{
                ...svc("core"),
                image: { registryType: "DOCR", repository: "core", tag: "1", deployOnPushes: [{ enabled: false }] },
                envs: [{ key: "DATABASE_URL", value: "[secret]", type: "SECRET", scope: "RUN_TIME" }],
                healthCheck: { httpPath: "/ready", periodSeconds: 10 },
                alerts: [{ rule: "CPU_UTILIZATION", operator: "GREATER_THAN", value: 80, window: "FIVE_MINUTES", destinations: { emails: ["x@example.com"] } }],
            }],
            ingress: { rules: [{ match: { path: { prefix: "/" } }, component: { name: "core", preservePathPrefix: true },
                cors: { allowOrigins: { exact: "https://example.com" }, allowMethods: ["GET"] } }] },
            egresses: [{ type: "AUTOASSIGN" }],
        };
        const api = toApiSpec(pulumiSpec) as Record<string, any>;
        assert.deepStrictEqual(upperCaseKeys(api), []);
        assert.deepStrictEqual(appSpecErrors(api), []);
        assert.deepStrictEqual(api.domains, [{ domain: "api.example.com", type: "PRIMARY", zone: "example.com" }]);
        assert.deepStrictEqual(api.egress, { type: "AUTOASSIGN" });
        assert.deepStrictEqual(api.services[0].image.deploy_on_push, { enabled: false });
        assert.strictEqual(api.alerts[0].destinations, undefined);
        assert.strictEqual(api.services[0].alerts[0].destinations, undefined);
        assert.deepStrictEqual(api.ingress.rules[0].cors.allow_origins, [{ exact: "https://example.com" }]);
        // The raw Pulumi object "passes" the open schema too; only the key check catches it.
        assert.notDeepStrictEqual(upperCaseKeys(pulumiSpec), []);
    });

    it("agrees with the schema on the shared valid and invalid examples", () => {
        const dir = path.join(SHARED, "schemas/examples");
        for (const f of fs.readdirSync(dir)) {
            const errors = appSpecErrors(JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")));
            assert.strictEqual(errors.length === 0, f.startsWith("valid-"), `${f}: ${errors.join("; ")}`);
        }
    });
});

describe("redactAppSpec", () => {
    it("hides SECRET env values, credential fields and Slack webhook URLs, and nothing else", () => {
        const spec = {
            envs: [{ key: "A", value: "plain", type: "GENERAL" }, { key: "B", value: "s3cret", type: "SECRET" }],
            alerts: [{ rule: "DEPLOYMENT_FAILED", destinations: { emails: ["o@example.com"], slackWebhooks: [{ url: "https://hooks/x", channel: "#a" }] } }],
            services: [{ name: "api", healthCheck: { httpPath: "/ready" },
                logDestinations: [{ name: "lt", logtail: { token: "lt-token-value" } }, { name: "dd", datadog: { apiKey: "dd-api-key-value" } }] }],
        };
        const out = JSON.stringify(redactAppSpec(spec));
        for (const hidden of ["s3cret", "https://hooks/x", "lt-token-value", "dd-api-key-value"]) assert.ok(!out.includes(hidden), hidden);
        for (const kept of ["plain", "/ready", "#a", "o@example.com", "DEPLOYMENT_FAILED"]) assert.ok(out.includes(kept), kept);
    });
});
