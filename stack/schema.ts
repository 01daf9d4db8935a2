// The JSON Schema of a Slipway stack file (Pulumi.<stack>.yaml), generated from the components'
// own Args shapes, so editors, CI and the program agree key by key. `npm run schema` rewrites
// schemas/slipway-stack.schema.json; test/unit/stack-schema.test.ts fails when it is stale.
import * as fs from "fs";
import * as path from "path";
import { API_SERVICE_SHAPE } from "../components/api-service/normalize";
import { DO_REGIONS } from "../components/core/target";
import { Shape, toJsonSchema } from "../components/core/shape";
import { GATEWAY_SHAPE } from "../components/gateway/normalize";
import { MANAGED_CACHE_SHAPE } from "../components/managed-cache/normalize";
import { MANAGED_DATABASE_SHAPE } from "../components/managed-database/normalize";
import { OBSERVABILITY_SHAPE } from "../components/observability/normalize";
import { SECRETS_SYNC_SHAPE } from "../components/secrets-sync/normalize";
import { DOCKER_HOST_SHAPE } from "../components/targets/docker-host";
import { STACK_KEYS } from "./config";
import { LINKS } from "./plan";

export const SCHEMA_FILE = path.resolve(__dirname, "../schemas/slipway-stack.schema.json");

type Json = Record<string, unknown>;

/** An object shape without the properties the stack root sets itself. */
function without(s: Shape, ...keys: string[]): Shape {
    if (s.kind !== "object") throw new Error(`expected an object shape, got ${s.kind}`);
    const props = Object.fromEntries(Object.entries(s.props).filter(([k]) => !keys.includes(k)));
    return { ...s, props, required: s.required.filter(k => !keys.includes(k)) };
}

function schemaOf(s: Shape): Json {
    return toJsonSchema(s) ?? {};
}

/** A service block: ApiServiceArgs plus the stack's own wiring keys. */
function serviceSchema(): Json {
    const j = schemaOf(without(API_SERVICE_SHAPE, "target", "link"));
    const props = j.properties as Json;
    props.link = { type: "array", items: { enum: [...LINKS] }, description: "Blocks of this stack the service links to. Default: every one defined." };
    props.secrets = { type: "array", items: { type: "string" }, description: "Keys of slipway:secrets this service gets. Default: all." };
    return j;
}

/** The gateway block: GatewayArgs with routes naming services of this stack. */
function gatewaySchema(): Json {
    const j = schemaOf(without(GATEWAY_SHAPE, "target"));
    const routes = (j.properties as Json).routes as Json | undefined;
    const route = routes?.items as Json | undefined;
    if (route?.properties) (route.properties as Json).service = { type: "string", description: "A service of slipway:services." };
    if (route) route.required = [...new Set([...((route.required as string[] | undefined) ?? []), "service"])];
    return j;
}

/** `slipway:secrets`: SecretsSync's `secrets` record (the stack has no Pages block). */
function secretsSchema(): Json {
    if (SECRETS_SYNC_SHAPE.kind !== "object") throw new Error("SecretsSync shape is not an object");
    return schemaOf(SECRETS_SYNC_SHAPE.props.secrets!);
}

export function stackSchema(): Json {
    const known = STACK_KEYS.join("|");
    const config: Json = {
        type: "object",
        properties: {
            "slipway:target": { enum: ["docker", "do-app"], description: "A single Docker host, or DigitalOcean App Platform." },
            "slipway:environment": { type: "string", pattern: "^[a-z][a-z0-9-]{0,31}$", description: "Default: the stack name." },
            "slipway:production": { type: "boolean", description: "Safety rails: protect stateful resources, HTTPS only. Default: false." },
            "slipway:docker": schemaOf(without(DOCKER_HOST_SHAPE, "environment", "production")),
            "slipway:doApp": {
                type: "object", additionalProperties: false, required: ["appName", "region"],
                properties: { appName: { type: "string", pattern: "^[a-z][a-z0-9-]{0,30}[a-z0-9]$" }, region: { enum: [...DO_REGIONS] } },
            },
            "slipway:services": { type: "object", minProperties: 1, additionalProperties: serviceSchema() },
            "slipway:gateway": gatewaySchema(),
            "slipway:database": schemaOf(without(MANAGED_DATABASE_SHAPE, "target")),
            "slipway:cache": schemaOf(without(MANAGED_CACHE_SHAPE, "target")),
            "slipway:observability": schemaOf(without(OBSERVABILITY_SHAPE, "target")),
            "slipway:secrets": secretsSchema(),
        },
        required: ["slipway:target", "slipway:services", "slipway:gateway"],
        // Any other slipway: key is a secret value that a { secret: <key> } reference reads.
        patternProperties: {
            [`^slipway:(?!(${known})$)`]: {
                type: "object", required: ["secure"], additionalProperties: false, properties: { secure: { type: "string" } },
                description: "A secret set with `pulumi config set --secret`, read through { secret: <key> }.",
            },
        },
    };
    return {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        $id: "https://github.com/slipway/slipway/schemas/slipway-stack.schema.json",
        title: "Slipway stack file (Pulumi.<stack>.yaml)",
        type: "object",
        properties: { config, environment: {}, encryptionsalt: { type: "string" }, secretsprovider: { type: "string" }, encryptedkey: { type: "string" } },
        required: ["config"],
    };
}

export function schemaText(): string {
    return JSON.stringify(stackSchema(), null, 2) + "\n";
}

if (require.main === module) {
    fs.mkdirSync(path.dirname(SCHEMA_FILE), { recursive: true });
    fs.writeFileSync(SCHEMA_FILE, schemaText());
    console.log(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}`);
}
