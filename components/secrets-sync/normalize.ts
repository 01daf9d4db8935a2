import * as pulumi from "@pulumi/pulumi";
import { ErrorContext, invalid, requireInt } from "../core/errors";
import { Shape, checkShape, shape, unknownKeyFix } from "../core/shape";
import { Target } from "../core/target";
import { checkTransform } from "../core/transform";
import type { GenerateSpec, PagesSyncTarget, SecretSource, SecretsSyncArgs, SecretsSyncTransform } from "./args";

export type { GenerateSpec, PagesSyncTarget, SecretSource } from "./args";

/** Defaults for generated secrets. */
export const DEFAULTS = {
    /** 32 characters of [A-Za-z0-9] carry ~190 bits: plenty, and short enough for any header. */
    length: 32,
    /** Off: special characters break DSNs, shell-quoted env and URL userinfo far more often than they add strength. */
    special: false,
    /** The rotation policy for database credentials (seed 001). */
    rotationDays: 90,
} as const;

const DAY_MS = 86_400_000;
/** Upper-case snake keys only: env keys are case-sensitive, and `db_url`/`DB_URL` side by side is always a mistake. */
const SECRET_KEY = /^[A-Z_][A-Z0-9_]*$/;
const CF_ACCOUNT_ID = /^[0-9a-f]{32}$/;
const PAGES_PROJECT = /^[a-z0-9][a-z0-9-]{0,57}$/;

/** Every `transform` key. */
export const TRANSFORM_KEYS = { password: true, pagesProject: true } as const satisfies Record<keyof SecretsSyncTransform, true>;

/** Every key of any variant of a union (`keyof` of a union keeps only the shared ones). */
type KeysOfAny<T> = T extends unknown ? keyof T : never;

/** A `transform` entry: args to merge or a function, which only a program can give. */
const child = (what: string) => shape.program(`${what}: args to merge over the component's, or (args, opts, name) => void`);

/**
 * Every key SecretsSyncArgs takes, at every depth, with its type: `checkShape` runs it first in
 * normalize (unknown keys with a did-you-mean, types before meaning), and `toJsonSchema` of its
 * `secrets` property is the schema of a stack file's `slipway:secrets` block. `PropsOf` makes an
 * Args field without a shape here fail to compile. A secret's source has both keys optional in the
 * shape, so a typo in one is named; "exactly one of value and generate" is meaning, checked below.
 */
export const SECRETS_SYNC_SHAPE: Shape = shape.object<SecretsSyncArgs>({
    target: shape.program("where the linked services run: a DockerHost's target or doAppTarget(...)"),
    secrets: shape.record(shape.object<Record<KeysOfAny<SecretSource>, unknown>>({
        value: shape.input("the secret, e.g. { secret: <configKey> } or { env: <VAR> } in a stack file"),
        generate: shape.object<GenerateSpec>({
            length: shape.int("characters, 16 to 512"),
            special: shape.bool("include special characters"),
            rotationDays: shape.int("days between rotations, 1 to 3650"),
        }, [], "a random password kept in state; {} for the defaults"),
    }, [], "exactly one of value or generate"), "every secret, by upper-case env key"),
    pages: shape.list(shape.object<PagesSyncTarget>({
        accountId: shape.string(undefined, "the 32-character hex Cloudflare account id"),
        projectName: shape.string(undefined, "the Pages project's name"),
        keys: shape.list(shape.string(undefined, "a key of secrets"), "the secrets this project receives"),
        environment: shape.string(["production", "preview"], "the Pages environment written"),
        productionBranch: shape.string(undefined, "the project's production branch; defaults to main"),
    }, ["accountId", "projectName", "keys"]), "Cloudflare Pages projects that receive some of the secrets"),
    now: shape.program("the clock used for rotation windows"),
    transform: shape.object<SecretsSyncTransform>({
        password: child("each generated secret's random password"),
        pagesProject: child("each Pages project"),
    }, [], "program only: per child resource, how it is created"),
});

export interface SecretsSyncInput {
    target: Target;
    secrets: Record<string, SecretSource>;
    pages?: PagesSyncTarget[];
    now?: () => Date;
    /** Only checked here (SecretsSyncArgs documents it). */
    transform?: unknown;
}

export type NormalizedSecret =
    | { key: string; kind: "value"; value: pulumi.Input<string> }
    | { key: string; kind: "generate"; length: number; special: boolean; rotationDays: number; rotation: string };

export interface NormalizedPagesProject {
    accountId: string;
    projectName: string;
    productionBranch: string;
    /** Keys per Pages environment, sorted. */
    environments: { production?: string[]; preview?: string[] };
}

export interface NormalizedSecretsSync {
    /** Sorted by key. */
    secrets: NormalizedSecret[];
    pages: NormalizedPagesProject[];
}

/**
 * The rotation window `now` falls in. Windows are whole UTC days counted from 1970-01-01, so the
 * value is the same on every run inside a window (no permanent diff) and changes exactly at
 * midnight UTC of the day the window ends. The first rotation may come sooner than `rotationDays`
 * after creation: an early rotation is harmless, a drifting one would not be.
 */
export function rotationEpoch(now: Date, rotationDays: number): number {
    return Math.floor(Math.floor(now.getTime() / DAY_MS) / rotationDays);
}

export function normalizeSecretsSync(name: string, args: SecretsSyncInput): NormalizedSecretsSync {
    const ctx: ErrorContext = { kind: "SecretsSync", name };
    checkTransformKeys(ctx, (args as { transform?: unknown } | undefined)?.transform, Object.keys(TRANSFORM_KEYS));
    checkSourcesQuietly(ctx, (args as { secrets?: unknown } | undefined)?.secrets);
    // Types before meaning: an unknown key or a value of the wrong type, anywhere, is named first.
    checkShape(ctx, SECRETS_SYNC_SHAPE, args ?? null);
    if (!args.target || (args.target.kind !== "docker" && args.target.kind !== "do-app")) {
        invalid(ctx, "target", "is missing or not a Slipway target", "pass `host.target` (DockerHost) or `doAppTarget(...)`");
    }
    const entries = Object.entries(args.secrets ?? {});
    if (entries.length === 0) {
        invalid(ctx, "secrets", "is empty, so there is nothing to sync", "add at least one key, e.g. `{ API_TOKEN: { value: cfg.requireSecret(\"apiToken\") } }`");
    }
    const now = (args.now ?? (() => new Date()))();
    const keys = new Set<string>();
    const secrets: NormalizedSecret[] = [];
    for (const [key, source] of entries) {
        const path = `secrets.${key}`;
        if (!SECRET_KEY.test(key)) {
            invalid(ctx, path, `${JSON.stringify(key)} is not an upper-case environment key`,
                `rename it to ${JSON.stringify(key.toUpperCase().replace(/[^A-Z0-9_]/g, "_").replace(/^([0-9])/, "_$1"))} (letters A-Z, digits and '_', not starting with a digit)`);
        }
        keys.add(key);
        const hasValue = source !== null && typeof source === "object" && "value" in source;
        const hasGenerate = source !== null && typeof source === "object" && "generate" in source;
        if (hasValue === hasGenerate) {
            invalid(ctx, path, "must have exactly one of `value` or `generate`",
                "use `{ value: cfg.requireSecret(\"...\") }` for a given secret or `{ generate: {} }` for a random one");
        }
        if (hasValue) {
            const value = (source as { value: pulumi.Input<string> }).value;
            if (value === undefined || value === null || value === "") {
                invalid(ctx, `${path}.value`, "is empty", "pass the secret, e.g. `new pulumi.Config().requireSecret(\"...\")`");
            }
            secrets.push({ key, kind: "value", value });
            continue;
        }
        const g = (source as { generate: GenerateSpec }).generate ?? {};
        const length = requireInt(ctx, `${path}.generate.length`, g.length ?? DEFAULTS.length, 16, 512);
        const special = g.special ?? DEFAULTS.special;
        const rotationDays = requireInt(ctx, `${path}.generate.rotationDays`, g.rotationDays ?? DEFAULTS.rotationDays, 1, 3650);
        secrets.push({ key, kind: "generate", length, special, rotationDays, rotation: `${rotationDays}d#${rotationEpoch(now, rotationDays)}` });
    }
    // On Docker every secret KEY is delivered with a KEY_FILE variable beside it.
    for (const key of keys) {
        if (key.endsWith("_FILE") && keys.has(key.slice(0, -5))) {
            invalid(ctx, `secrets.${key}`, `collides with the ${key} variable that file delivery creates for secrets.${key.slice(0, -5)}`,
                `rename secrets.${key}`);
        }
    }
    secrets.sort((a, b) => (a.key < b.key ? -1 : 1));
    return { secrets, pages: normalizePages(ctx, args, keys) };
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isDeferred = (v: unknown) => isMapping(v) && (typeof v.apply === "function" || typeof v.then === "function");
const kindOf = (v: unknown) => Array.isArray(v) ? "a list" : isMapping(v) ? "a mapping" : `a ${typeof v}`;

/**
 * `transform` before the shape, in the wording every component shares (its keys name child
 * resources, and a misspelt one gets a did-you-mean); then each value is args or a function.
 */
function checkTransformKeys(ctx: ErrorContext, given: unknown, keys: readonly string[]): void {
    for (const k of Object.keys(isMapping(given) ? given : {})) {
        if (!keys.includes(k)) invalid(ctx, `transform.${k}`, `${JSON.stringify(k)} is not a child resource ${ctx.kind} creates`, unknownKeyFix(k, keys));
    }
    checkTransform(ctx, given, keys);
}

/**
 * The types of each secret's source and value, before the shape: its messages quote the value
 * they got, and a secret (`API_TOKEN: hunter2`, `value: 123456`) must never be repeated in a log.
 */
function checkSourcesQuietly(ctx: ErrorContext, secrets: unknown): void {
    for (const [key, source] of Object.entries(isMapping(secrets) ? secrets : {})) {
        const path = `secrets.${key}`;
        if (!isMapping(source)) {
            invalid(ctx, path, `must be a mapping with value or generate, got ${source === null ? "nothing" : kindOf(source)} (not repeated here)`,
                `write ${key}: { value: { secret: <configKey> } } for a given secret (pulumi config set --secret <configKey>), or ${key}: { generate: {} } for a random one`);
        }
        const value = source.value;
        if (value !== undefined && value !== null && typeof value !== "string" && !isDeferred(value)) {
            invalid(ctx, `${path}.value`, `must be a string or a secret reference, got ${kindOf(value)} (not repeated here)`,
                "keep the secret out of the file: pulumi config set --secret <configKey>, then write value: { secret: <configKey> }");
        }
    }
}

function normalizePages(ctx: ErrorContext, args: SecretsSyncInput, keys: Set<string>): NormalizedPagesProject[] {
    const projects = new Map<string, NormalizedPagesProject>();
    (args.pages ?? []).forEach((p, i) => {
        const path = `pages[${i}]`;
        if (!CF_ACCOUNT_ID.test(p.accountId ?? "")) {
            invalid(ctx, `${path}.accountId`, `${JSON.stringify(p.accountId)} is not a Cloudflare account id`,
                "copy the 32-character hex account id from the Cloudflare dashboard");
        }
        if (!PAGES_PROJECT.test(p.projectName ?? "")) {
            invalid(ctx, `${path}.projectName`, `${JSON.stringify(p.projectName)} is not a Pages project name`,
                "use the project's lowercase name (letters, digits, hyphens; at most 58 characters)");
        }
        const environment = p.environment ?? (args.target.production ? "production" : "preview");
        if (environment !== "production" && environment !== "preview") {
            invalid(ctx, `${path}.environment`, `${JSON.stringify(environment)} is not a Pages environment`, `use "production" or "preview"`);
        }
        if (environment === "production" && !args.target.production) {
            invalid(ctx, `${path}.environment`, "a non-production stack must not write the production Pages environment",
                `use environment: "preview", or sync from the production stack`);
        }
        if (!Array.isArray(p.keys) || p.keys.length === 0) {
            invalid(ctx, `${path}.keys`, "is empty", "list the secret keys this Pages project needs, e.g. [\"SENTRY_AUTH_TOKEN\"]");
        }
        const seen = new Set<string>();
        p.keys.forEach((k, j) => {
            if (!keys.has(k)) {
                invalid(ctx, `${path}.keys[${j}]`, `${JSON.stringify(k)} is not one of the secrets`, `use one of ${[...keys].sort().join(", ")}`);
            }
            if (seen.has(k)) invalid(ctx, `${path}.keys[${j}]`, `${JSON.stringify(k)} is listed twice`, "list each key once");
            seen.add(k);
        });
        const branch = p.productionBranch ?? "main";
        const id = `${p.accountId}/${p.projectName}`;
        const project = projects.get(id) ?? { accountId: p.accountId, projectName: p.projectName, productionBranch: branch, environments: {} };
        if (project.productionBranch !== branch) {
            invalid(ctx, `${path}.productionBranch`, `differs from an earlier entry for the Pages project "${p.projectName}"`,
                "give every entry of one project the same productionBranch");
        }
        if (project.environments[environment]) {
            invalid(ctx, `${path}.environment`, `the ${environment} environment of "${p.projectName}" is already synced by an earlier entry`,
                "merge the two entries' keys into one");
        }
        project.environments[environment] = [...p.keys].sort();
        projects.set(id, project);
    });
    return [...projects.values()].sort((a, b) => (a.projectName < b.projectName ? -1 : 1));
}
