import * as pulumi from "@pulumi/pulumi";
import { credentialShape, isCredentialKey } from "../components/core/credentials";
import { secret } from "../components/core/env";
import { SlipwayConfigError } from "../components/core/errors";
import { describeValue, didYouMean } from "../components/core/shape";

/**
 * A value that must not live in the stack file in plain text. Anywhere in a component's config
 * block, `{ secret: "<configKey>" }` reads a `pulumi config set --secret` value (ESC environments
 * land there too) and `{ env: "<VAR>" }` reads an environment variable of the deploying shell.
 * Both arrive wrapped in `pulumi.secret()`.
 */
export type SecretRef = { secret: string } | { env: string };

export interface StackConfig {
    stack: string;
    target: "docker" | "do-app";
    environment: string;
    production: boolean;
    docker: Record<string, unknown>;
    doApp: { appName?: string; region?: string; registries?: unknown };
    services: Record<string, Record<string, unknown>>;
    gateway: Record<string, unknown>;
    database: Record<string, unknown> | undefined;
    cache: Record<string, unknown> | undefined;
    observability: Record<string, unknown> | undefined;
    secrets: Record<string, unknown>;
}

const where = () => `Stack "${pulumi.getStack()}"`;
const fail = (path: string, problem: string, fix: string): never => {
    throw new SlipwayConfigError(where(), path, problem, fix);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);


/** The `slipway:*` keys a stack file may set; any other one must be a secret some `{ secret: ... }` names. */
export const STACK_KEYS = ["target", "environment", "production", "docker", "doApp", "services", "gateway", "database", "cache", "observability", "secrets"] as const;

/** Every `{ secret: <key> }` named anywhere in `value`. */
function secretRefs(value: unknown, out = new Set<string>()): Set<string> {
    if (Array.isArray(value)) value.forEach(v => secretRefs(v, out));
    else if (isObject(value)) {
        if (typeof value.secret === "string" && Object.keys(value).length === 1) out.add(value.secret);
        Object.values(value).forEach(v => secretRefs(v, out));
    }
    return out;
}

/**
 * A misspelt block (`slipway:databse:`) must not silently drop the database from the program, so
 * every `slipway:*` key is a known block or a secret value that a `{ secret: ... }` refers to.
 */
function checkTopLevelKeys(): void {
    const keys = Object.keys(pulumi.runtime.allConfig()).filter(k => k.startsWith("slipway:")).map(k => k.slice("slipway:".length));
    const cfg = new pulumi.Config("slipway");
    const referenced = new Set<string>();
    for (const k of STACK_KEYS) {
        const raw = cfg.get(k);
        if (raw !== undefined && raw.trimStart().startsWith("{")) {
            try { secretRefs(JSON.parse(raw), referenced); } catch { /* a block that is not JSON fails when it is read */ }
        }
    }
    for (const k of keys) {
        if ((STACK_KEYS as readonly string[]).includes(k) || referenced.has(k)) continue;
        const near = didYouMean(k, STACK_KEYS);
        fail(`slipway:${k}`, near ? "is not a Slipway setting" : "is not a Slipway setting, and no { secret: ... } reference names it",
            near ? `did you mean slipway:${near}?` : `remove it, or refer to it as { secret: ${k} } where the value is used (known settings: ${STACK_KEYS.join(", ")})`);
    }
}

/** `true`/`false` only: YAML 1.2 reads `yes`, `no`, `on` and `off` as strings. */
function readBoolean(cfg: pulumi.Config, key: string): boolean | undefined {
    const raw = cfg.get(key);
    if (raw === undefined) return undefined;
    if (raw === "true" || raw === "false") return raw === "true";
    const yaml11: Record<string, boolean> = { yes: true, no: false, on: true, off: false };
    const meant = yaml11[raw.toLowerCase()];
    return fail(`slipway:${key}`, `is ${JSON.stringify(raw)}, not true or false${meant !== undefined ? " (YAML 1.2 reads yes/no/on/off as text)" : ""}`,
        `write slipway:${key}: ${meant ?? false}`);
}

/** Read and shape-check the stack's config. Components validate their own blocks in depth. */
export function readStackConfig(): StackConfig {
    const cfg = new pulumi.Config("slipway");
    checkTopLevelKeys();
    const target = cfg.get("target");
    if (target === undefined) fail("slipway:target", "is missing", `add slipway:target: docker (or do-app) to Pulumi.${pulumi.getStack()}.yaml`);
    if (target !== "docker" && target !== "do-app") {
        fail("slipway:target", `${JSON.stringify(target)} is not a Slipway target`, `set slipway:target to "docker" or "do-app"`);
    }
    const obj = (key: string, required: boolean): Record<string, unknown> | undefined => {
        const v = readObject(cfg, key);
        if (v === undefined) {
            if (required) fail(`slipway:${key}`, "is missing", `add a slipway:${key} block to Pulumi.${pulumi.getStack()}.yaml`);
            return undefined;
        }
        if (!isObject(v)) fail(`slipway:${key}`, `must be a mapping, got ${describeValue(v)}`, `write slipway:${key} as key: value pairs`);
        return v as Record<string, unknown>;
    };
    const services = obj("services", true)!;
    for (const [name, s] of Object.entries(services)) {
        if (!isObject(s)) fail(`slipway:services.${name}`, `must be a mapping, got ${describeValue(s)}`, "write the service's settings as key: value pairs");
    }
    if (Object.keys(services).length === 0) fail("slipway:services", "has no service", "add one, e.g. api: { image: ghcr.io/acme/api:1.0.0 }");
    const environment = cfg.get("environment");
    if (environment !== undefined && (!/^[a-z][a-z0-9-]{0,31}$/.test(environment) || /^(true|false|yes|no|on|off|null|y|n)$/.test(environment))) {
        fail("slipway:environment", `${JSON.stringify(environment)} is not an environment name`, "use lowercase letters, digits and hyphens, e.g. staging");
    }
    return {
        stack: pulumi.getStack(),
        target: target as StackConfig["target"],
        environment: environment ?? pulumi.getStack(),
        production: readBoolean(cfg, "production") ?? false,
        docker: obj("docker", false) ?? {},
        doApp: (obj("doApp", target === "do-app") ?? {}) as StackConfig["doApp"],
        services: services as Record<string, Record<string, unknown>>,
        gateway: obj("gateway", true)!,
        database: obj("database", false),
        cache: obj("cache", false),
        observability: obj("observability", false),
        secrets: obj("secrets", false) ?? {},
    };
}

/** Placeholders keep `npm run synth` working without credentials; a real update must have the values. */
const synthesizing = () => process.env.SLIPWAY_SYNTH === "1";

/** Replace every {@link SecretRef} in a config block with the secret Output it names. */
export function resolveSecrets(value: unknown, path: string): unknown {
    if (Array.isArray(value)) return value.map((v, i) => resolveSecrets(v, `${path}[${i}]`));
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && typeof value.secret === "string") {
        const key = value.secret;
        const v = new pulumi.Config("slipway").getSecret(key);
        if (v === undefined) {
            if (synthesizing()) return secret(`synth-placeholder:${key}`);
            return fail(path, `refers to the secret config value "${key}", which is not set`,
                `run: pulumi config set --secret ${key} <value> --stack ${pulumi.getStack()}`);
        }
        return secret(v);
    }
    if (keys.length === 1 && typeof value.env === "string") {
        const name = value.env;
        const v = process.env[name];
        if (v === undefined || v === "") {
            if (synthesizing()) return secret(`synth-placeholder:env.${name}`);
            fail(path, `refers to the environment variable ${name}, which is not set`, `export ${name} before running pulumi`);
        }
        return secret(v as string);
    }
    // `{ secert: key }` must not be used as a literal mapping where a secret was meant.
    const only = keys.length === 1 ? keys[0]! : undefined;
    if (only !== undefined && typeof value[only] === "string" && only !== "secret" && only !== "env"
        && (didYouMean(only, ["secret"]) === "secret" || only.toLowerCase() === "env")) {
        fail(`${path}.${only}`, "is not a secret reference key", `did you mean { ${only.toLowerCase() === "env" ? "env" : "secret"}: ${String(value[only])} }?`);
    }
    if (only === "secret" && typeof value.secret !== "object") {
        fail(`${path}.secret`, `must name a config key, got ${describeValue(value.secret)}`, "write { secret: myKey }");
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveSecrets(v, `${path}.${k}`)]));
}

/** A block as the stack file wrote it: JSON (Pulumi stores structured config as JSON) or a scalar. */
function readObject(cfg: pulumi.Config, key: string): unknown {
    const raw = cfg.get(key);
    if (raw === undefined) return undefined;
    try { return JSON.parse(raw); } catch { return raw; }
}

const camel = (key: string) => key.toLowerCase().replace(/[_.-]+([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * In a production stack file, a value that looks like a credential must not be plain text: by its
 * key (`DB_PASSWORD`, `apiKey`), by its shape (`sk_live_...`, a URL with a password), or by being a
 * SecretsSync value. The message never repeats the value.
 */
export function checkPlaintextCredentials(c: StackConfig): void {
    if (!c.production) return;
    const blocks: [string, unknown][] = [["docker", c.docker], ["doApp", c.doApp], ["services", c.services], ["gateway", c.gateway],
        ["database", c.database], ["cache", c.cache], ["observability", c.observability], ["secrets", c.secrets]];
    const walk = (value: unknown, path: string, key: string, inSecrets: boolean): void => {
        if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${path}[${i}]`, key, inSecrets));
        if (isObject(value)) {
            const keys = Object.keys(value);
            if (keys.length === 1 && (keys[0] === "secret" || keys[0] === "env") && typeof value[keys[0]] === "string") return; // a reference
            return Object.entries(value).forEach(([k, v]) => walk(v, `${path}.${k}`, k, inSecrets));
        }
        if (typeof value !== "string" || value === "") return;
        const shape = credentialShape(value);
        const why = shape ? `looks like ${shape}` : isCredentialKey(key) ? `is a ${key} in plain text` : inSecrets && key === "value" ? "is a SecretsSync value in plain text" : undefined;
        if (!why) return;
        const name = camel(path.split(/[.[\]]+/).filter(p => p && p !== "value").pop() ?? key);
        fail(path, `${why} in a production stack file`,
            `run \`pulumi config set --secret ${name} --stack ${c.stack}\` (it prompts for the value), then write { secret: ${name} } here`);
    };
    for (const [name, block] of blocks) walk(block, `slipway:${name}`, name, name === "secrets");
}
