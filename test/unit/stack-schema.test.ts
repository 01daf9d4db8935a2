// The JSON Schema that ships for Pulumi.<stack>.yaml (schemas/slipway-stack.schema.json) is
// generated from the components' Args shapes. It must be current, accept both committed stacks,
// and reject each shape mistake the program rejects, key by key with the program.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import Ajv2020 from "ajv/dist/2020";
import * as YAML from "yaml";
import { SCHEMA_FILE, schemaText } from "../../stack/schema";
import { StackCase, runStackCase, stackConfigWith } from "../helpers/stack-case";

const ROOT = path.resolve(__dirname, "../..");
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validate = ajv.compile(JSON.parse(schemaText()));
const errorsOf = (doc: unknown) => (validate(doc) ? [] : (validate.errors ?? []).map(e => `${e.instancePath} ${e.message}`));

/** The case's stack file, as the editor sees it: the committed YAML with the change applied. */
function stackFileWith(c: Pick<StackCase, "stack" | "set">): unknown {
    const file = YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${c.stack ?? "dev"}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const { values } = stackConfigWith(c);
    const config: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) {
        if (!k.startsWith("slipway:")) continue;
        try { config[k] = JSON.parse(v); } catch { config[k] = v; }
        if (typeof file.config[k] === "string" && typeof config[k] !== "string") config[k] = v; // a string YAML value stays a string
    }
    return { ...file, config };
}

const dev = 'Stack "dev"';
const api = (extra: Record<string, unknown>) => ({ api: { image: "slipway/example-api:local", ...extra } });
const route = [{ pathPrefix: "/", service: "api" }];

/** Shape mistakes: each is rejected by the schema and by the program, naming the same path. */
const SHAPE_CASES: StackCase[] = [
    { name: "replica instead of replicas", set: { services: api({ replica: 3 }) },
        component: 'ApiService "api"', path: "replica", problem: /is not a known setting/, fix: /did you mean "replicas"\?/ },
    { name: "allowRoot: no (a YAML 1.1 boolean)", set: { services: api({ allowRoot: "no" }) },
        component: 'ApiService "api"', path: "allowRoot", problem: /is the string "no", not a boolean/, fix: /write false/ },
    { name: "an env value that is a mapping", set: { services: api({ env: { MODE: { fast: true } } }) },
        component: 'ApiService "api"', path: "env.MODE", problem: /must be a string, got a mapping/, fix: /.+/ },
    { name: "healthcheck.path (not a healthcheck setting)", set: { services: api({ healthcheck: { path: "/up" } }) },
        component: 'ApiService "api"', path: "healthcheck.path", problem: /is not a known setting/, fix: /.+/ },
    { name: "extensions as a string", set: { database: { version: "16", extensions: "pgcrypto" } },
        component: 'ManagedDatabase "db"', path: "extensions", problem: /must be a list/, fix: /\[pgcrypto\]/ },
    { name: "version as a number", set: { database: { version: 16 } },
        component: 'ManagedDatabase "db"', path: "version", problem: /must be a string, got the number 16/, fix: /quote it/ },
    { name: "backup: hourly", set: { database: { version: "16", backup: "hourly" } },
        component: 'ManagedDatabase "db"', path: "backup", problem: /got the string "hourly"/, fix: /.+/ },
    { name: "maxBodySise (typo)", set: { gateway: { routes: route, maxBodySise: "1MB" } },
        component: 'Gateway "gateway"', path: "maxBodySise", problem: /is not a known setting/, fix: /did you mean "maxBodySize"\?/ },
    { name: "publishport (typo)", set: { gateway: { routes: route, publishport: 8081 } },
        component: 'Gateway "gateway"', path: "publishport", problem: /is not a known setting/, fix: /publishPort/ },
    { name: "a secrets entry with a typo", set: { secrets: { SESSION_SECRET: { generat: { length: 48 } } } },
        component: 'SecretsSync "secrets"', path: "secrets.SESSION_SECRET.generat", problem: /is not a known setting/, fix: /generate/ },
    { name: "production: yes", set: { production: "yes" },
        component: dev, path: "slipway:production", problem: /not true or false/, fix: /true/ },
    { name: "services as a list", set: { services: ["api"] },
        component: dev, path: "slipway:services", problem: /must be a mapping/, fix: /key: value/ },
    { name: "a misspelt block", set: { databse: { version: "16" } },
        component: dev, path: "slipway:databse", problem: /is not a Slipway setting/, fix: /slipway:database/ },
];

describe("the stack file's JSON Schema", function () {
    this.timeout(60_000);

    it("is the one generated from the components' shapes (run `npm run schema` after changing Args)", () => {
        assert.strictEqual(fs.readFileSync(SCHEMA_FILE, "utf8"), schemaText());
    });

    for (const stack of ["dev", "prod", "staging"] as const) {
        it(`accepts the committed Pulumi.${stack}.yaml and names itself in its modeline`, () => {
            const text = fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8");
            assert.deepStrictEqual(errorsOf(YAML.parse(text)), []);
            assert.match(text, /^# yaml-language-server: \$schema=\.\/schemas\/slipway-stack\.schema\.json$/m);
        });
    }

    for (const c of SHAPE_CASES) {
        it(`rejects ${c.name}, as the program does`, async () => {
            assert.notDeepStrictEqual(errorsOf(stackFileWith(c)), [], "the schema accepts it");
            await runStackCase(c);
        });
    }
});
