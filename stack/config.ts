import * as pulumi from "@pulumi/pulumi";
import { SlipwayConfigError } from "../components/core/errors";

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
    doApp: { appName?: string; region?: string };
    services: Record<string, Record<string, unknown>>;
    gateway: Record<string, unknown>;
    database: Record<string, unknown> | undefined;
    observability: Record<string, unknown> | undefined;
    secrets: Record<string, unknown>;
}

const where = () => `Stack "${pulumi.getStack()}"`;
const fail = (path: string, problem: string, fix: string): never => {
    throw new SlipwayConfigError(where(), path, problem, fix);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Reject keys the stack file may not have: a typo such as `replica: 3` must not be silently ignored. */
export function checkKeys(path: string, value: Record<string, unknown>, allowed: readonly string[]): void {
    for (const k of Object.keys(value)) {
        if (!allowed.includes(k)) {
            fail(`${path}.${k}`, "is not a known setting", `use one of ${allowed.join(", ")}`);
        }
    }
}

/** Read and shape-check the stack's config. Components validate their own blocks in depth. */
export function readStackConfig(): StackConfig {
    const cfg = new pulumi.Config("slipway");
    const target = cfg.require("target");
    if (target !== "docker" && target !== "do-app") {
        fail("slipway:target", `${JSON.stringify(target)} is not a Slipway target`, `set slipway:target to "docker" or "do-app"`);
    }
    const obj = (key: string, required: boolean): Record<string, unknown> | undefined => {
        const v = cfg.getObject<unknown>(key);
        if (v === undefined) {
            if (required) fail(`slipway:${key}`, "is missing", `add a slipway:${key} block to Pulumi.${pulumi.getStack()}.yaml`);
            return undefined;
        }
        if (!isObject(v)) fail(`slipway:${key}`, "must be a mapping", `write slipway:${key} as key: value pairs`);
        return v as Record<string, unknown>;
    };
    const services = obj("services", true)!;
    for (const [name, s] of Object.entries(services)) {
        if (!isObject(s)) fail(`slipway:services.${name}`, "must be a mapping", "write the service's settings as key: value pairs");
    }
    return {
        stack: pulumi.getStack(),
        target: target as StackConfig["target"],
        environment: cfg.get("environment") ?? pulumi.getStack(),
        production: cfg.getBoolean("production") ?? false,
        docker: obj("docker", false) ?? {},
        doApp: (obj("doApp", target === "do-app") ?? {}) as StackConfig["doApp"],
        services: services as Record<string, Record<string, unknown>>,
        gateway: obj("gateway", true)!,
        database: obj("database", false),
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
            if (synthesizing()) return pulumi.secret(`synth-placeholder:${key}`);
            fail(path, `refers to the secret config value "${key}", which is not set`,
                `run: pulumi config set --secret ${key} <value> --stack ${pulumi.getStack()}`);
        }
        return v;
    }
    if (keys.length === 1 && typeof value.env === "string") {
        const name = value.env;
        const v = process.env[name];
        if (v === undefined || v === "") {
            if (synthesizing()) return pulumi.secret(`synth-placeholder:env.${name}`);
            fail(path, `refers to the environment variable ${name}, which is not set`, `export ${name} before running pulumi`);
        }
        return pulumi.secret(v as string);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveSecrets(v, `${path}.${k}`)]));
}
