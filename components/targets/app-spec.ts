import type * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { SlipwayConfigError } from "../core/errors";
import { DO_NAME } from "../core/naming";

export type AppServiceSpec = digitalocean.types.input.AppSpecService;
export type AppDatabaseSpec = digitalocean.types.input.AppSpecDatabase;
export type AppEnvSpec = digitalocean.types.input.AppSpecEnv;
export type AppIngressRuleSpec = digitalocean.types.input.AppSpecIngressRule;
export type AppDomainSpec = digitalocean.types.input.AppSpecDomainName;
export type AppAlertSpec = digitalocean.types.input.AppSpecAlert;
export type AppSpec = digitalocean.types.input.AppSpec;
export type AppJobSpec = digitalocean.types.input.AppSpecJob;

/**
 * One component's contribution to the single DigitalOcean App, built by the component's own
 * do-app.ts. Additive only: a part never edits another part, and `mergeAppSpecParts` rejects
 * collisions instead of letting the last one win.
 */
export interface AppPart {
    /** Who contributed it, e.g. `ApiService "api"`: for messages only, never matched. */
    readonly owner: string;
    readonly services?: AppServiceSpec[];
    /** Jobs (a service's PRE_DEPLOY migration): components like services, in the same name space. */
    readonly jobs?: AppJobSpec[];
    readonly databases?: AppDatabaseSpec[];
    /** App-level envs (every component sees them). Service secrets land here too: see DoApp. */
    readonly envs?: AppEnvSpec[];
    readonly ingressRules?: AppIngressRuleSpec[];
    readonly domainNames?: AppDomainSpec[];
    readonly alerts?: AppAlertSpec[];
    /**
     * Database clusters whose firewall must trust the App once it exists (`type: "app"`). `key` is
     * owned by the contributing component and names the firewall resource, so it must never change.
     */
    readonly trustedClusters?: readonly TrustedCluster[];
}

export interface TrustedCluster {
    readonly key: string;
    readonly clusterId: pulumi.Input<string>;
}

/**
 * Anything that adds to the App: every component built on a do-app target. DoApp walks
 * `appDependencies` too, so a gateway brings its services and a service its linked blocks.
 */
export interface AppContributor {
    readonly appPart?: AppPart;
    readonly appDependencies?: readonly unknown[];
}

export function isAppContributor(x: unknown): x is AppContributor {
    return typeof x === "object" && x !== null && ("appPart" in x || "appDependencies" in x);
}

function fail(source: string, path: string, problem: string, fix: string): never {
    throw new SlipwayConfigError(source, path, problem, fix);
}

/**
 * Merge parts into one App spec. Pure, so it is unit-tested without the Pulumi runtime.
 * Names must be plain strings here (they are config, not outputs): that is what makes the
 * collision checks possible before anything registers.
 */
export function mergeAppSpecParts(appName: string, region: string, parts: readonly AppPart[]): AppSpec {
    const where = `DoApp "${appName}"`;
    if (!DO_NAME.test(appName)) {
        fail(where, "appName", `"${appName}" is not a valid App Platform name`,
            "use 2 to 32 lowercase letters, digits and hyphens, starting with a letter");
    }
    const owners = new Map<string, string>();
    const claim = (kind: string, name: unknown, source: string, path: string) => {
        if (typeof name !== "string") fail(source, path, `${kind} name must be a plain string`, "pass the name from config, not an Output");
        const key = `${kind}:${name}`;
        const prev = owners.get(key);
        if (prev !== undefined) {
            fail(source, path, `${kind} "${name}" is already defined by ${prev}`, `give each ${kind} a unique name`);
        }
        owners.set(key, source);
    };
    const services: AppServiceSpec[] = [];
    const jobs: AppJobSpec[] = [];
    const databases: AppDatabaseSpec[] = [];
    const envs: AppEnvSpec[] = [];
    const rules: AppIngressRuleSpec[] = [];
    const domainNames: AppDomainSpec[] = [];
    const alerts: AppAlertSpec[] = [];
    const shared = hoistable(parts);
    const secretOwners = new Map<string, { value: unknown; owner: string }>();
    for (const part of parts) {
        part.services?.forEach((s, i) => {
            claim("component", s.name, part.owner, `services[${i}].name`);
            if (!DO_NAME.test(s.name as string)) {
                fail(part.owner, `services[${i}].name`, `"${s.name}" is not a valid App Platform component name`,
                    "use 2 to 32 lowercase letters, digits and hyphens, starting with a letter");
            }
            services.push(hoistSecrets(s, shared, (key, value) => {
                const prev = secretOwners.get(key);
                if (prev?.value === value) return; // the same secret, linked to two services
                claim("app env", key, part.owner, `services[${i}].envs.${key}`);
                secretOwners.set(key, { value, owner: part.owner });
                envs.push({ key, value: pulumi.secret(value as pulumi.Input<string>), type: "SECRET", scope: "RUN_TIME" });
            }));
        });
        part.jobs?.forEach((j, i) => {
            claim("component", j.name, part.owner, `jobs[${i}].name`);
            jobs.push(hoistSecrets(j, shared, (key, value) => {
                const prev = secretOwners.get(key);
                if (prev?.value === value) return; // the service's own secret, already at the App level
                claim("app env", key, part.owner, `jobs[${i}].envs.${key}`);
                secretOwners.set(key, { value, owner: part.owner });
                envs.push({ key, value: pulumi.secret(value as pulumi.Input<string>), type: "SECRET", scope: "RUN_TIME" });
            }));
        });
        part.databases?.forEach((d, i) => { claim("database", d.name, part.owner, `databases[${i}].name`); databases.push(d); });
        part.envs?.forEach((e, i) => { claim("app env", e.key, part.owner, `envs[${i}].key`); envs.push(e); });
        part.ingressRules?.forEach((r, i) => {
            const prefix = (r.match as { path?: { prefix?: string } } | undefined)?.path?.prefix;
            claim("route", prefix, part.owner, `ingressRules[${i}].match.path.prefix`);
            rules.push(r);
        });
        part.domainNames?.forEach((d, i) => { claim("domain", d.name, part.owner, `domainNames[${i}].name`); domainNames.push(d); });
        part.alerts?.forEach((a, i) => { claim("app alert", a.rule, part.owner, `alerts[${i}].rule`); alerts.push(a); });
    }
    rules.forEach((r, i) => {
        const target = (r.component as { name?: string } | undefined)?.name;
        if (target !== undefined && !owners.has(`component:${target}`)) {
            fail(where, `ingress.rules[${i}].component.name`, `routes to "${target}", which no part defines`,
                `create the ApiService "${target}" on this target and pass it to DoApp`);
        }
    });
    // Stable order: parts can arrive in any order, the spec (and its diff) must not change.
    const byName = <T>(key: (x: T) => string) => (a: T, b: T) => key(a).localeCompare(key(b));
    const spec: AppSpec = {
        name: appName,
        region,
        services: services.sort(byName(s => s.name as string)),
    };
    if (jobs.length) spec.jobs = jobs.sort(byName(j => j.name as string));
    if (databases.length) spec.databases = databases.sort(byName(d => d.name as string));
    if (envs.length) spec.envs = envs.sort(byName(e => e.key as string));
    if (rules.length) {
        // Longest prefix first, as App Platform matches in order.
        const prefix = (r: AppIngressRuleSpec) => (r.match as { path: { prefix: string } }).path.prefix;
        spec.ingress = { rules: rules.sort((a, b) => prefix(b).length - prefix(a).length || prefix(a).localeCompare(prefix(b))) };
    }
    if (domainNames.length) spec.domainNames = domainNames.sort(byName(d => d.name as string));
    if (alerts.length) spec.alerts = alerts.sort(byName(a => a.rule as string));
    return spec;
}

/**
 * Move a service's SECRET envs to the App level. The engine shows a spec list that holds any
 * secret as one opaque `[secret]` (seen on `spec.services` under the real engine), so a secret
 * in a service would hide its image, size and count from every preview. App-level envs reach
 * every component of the App: the price is that `secrets.pick(...)` narrows what a service is
 * declared to use, not what App Platform lets it read (use separate Apps to isolate).
 */
function hoistSecrets<T extends AppServiceSpec | AppJobSpec>(service: T, shared: ReadonlySet<string>, hoist: (key: string, value: unknown) => void): T {
    const envs = (service.envs ?? []) as AppEnvSpec[];
    const moving = (e: AppEnvSpec) => e.type === "SECRET" && shared.has(e.key as string);
    if (!envs.some(moving)) return service;
    envs.filter(moving).forEach(e => hoist(e.key as string, e.value));
    const staying = envs.filter(e => !moving(e));
    return { ...service, envs: staying.length ? staying : undefined };
}

/**
 * SECRET keys that can live at the App level: every service that has the key has the same value
 * object. A key two services need with different values (a per-schema DATABASE_URL) stays in
 * each service, which then shows as `[secret]` as a whole in a preview: correct, only opaque.
 */
function hoistable(parts: readonly AppPart[]): Set<string> {
    const values = new Map<string, Set<unknown>>();
    for (const s of parts.flatMap(p => [...(p.services ?? []), ...(p.jobs ?? [])])) {
        for (const e of (s.envs ?? []) as AppEnvSpec[]) {
            if (e.type === "SECRET") values.set(e.key as string, (values.get(e.key as string) ?? new Set()).add(e.value));
        }
    }
    return new Set([...values].filter(([, v]) => v.size === 1).map(([k]) => k));
}

const snake = (k: string) => k.replace(/[A-Z]/g, c => "_" + c.toLowerCase());

/**
 * Convert a resolved Pulumi App spec (camelCase, provider shapes) to DigitalOcean's API AppSpec
 * (snake_case, API shapes), following test/fixtures/shared/schemas/pulumi-to-api-mapping.md. `undefined`
 * is dropped, as godo's omitempty does.
 */
export function toApiSpec(value: unknown, parentKey = ""): unknown {
    if (Array.isArray(value)) return value.map(v => toApiSpec(v, parentKey));
    if (value === null || typeof value !== "object") return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v === undefined) continue;
        switch (k) {
            case "domainNames":
                out.domains = (v as Record<string, unknown>[]).map(({ name, ...rest }) => toApiSpec({ domain: name, ...rest }));
                continue;
            case "domains":
                if (Array.isArray(v) && v.every(x => typeof x === "string")) {
                    if (!("domainNames" in (value as object))) out.domains = v.map(d => ({ domain: d }));
                    continue;
                }
                break;
            case "egresses": out.egress = toApiSpec((v as unknown[])[0]); continue;
            case "vpcs": out.vpc = toApiSpec((v as unknown[])[0]); continue;
            case "deployOnPushes": out.deploy_on_push = toApiSpec((v as unknown[])[0]); continue;
            case "destinations": if (parentKey === "alerts") continue; break;
            case "allowOrigins":
                out.allow_origins = Object.entries(v as Record<string, string>)
                    .filter(([, m]) => m !== undefined).map(([kind, m]) => ({ [kind]: m }));
                continue;
        }
        out[snake(k)] = toApiSpec(v, k);
    }
    return out;
}

export type AppServiceAlertSpec = digitalocean.types.input.AppSpecServiceAlert;
export type AppServiceLogDestinationSpec = digitalocean.types.input.AppSpecServiceLogDestination;

/** Keys of App-spec objects that hold credentials even outside SECRET envs (log destinations, registries). */
const CREDENTIAL_KEYS = new Set(["apiKey", "token", "password", "endpoint", "registryCredentials"]);

/**
 * Replace every secret in a resolved Pulumi App spec by `"[secret]"`. Needed because the engine
 * marks the whole `spec` secret as soon as one env is (pulumi/pulumi#17440), which would otherwise
 * hide the entire spec from reviewers: we redact by meaning instead of by the wrapper.
 */
export function redactAppSpec(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(redactAppSpec);
    if (value === null || typeof value !== "object") return value;
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
        const secret = (k === "value" && obj.type === "SECRET")
            || (CREDENTIAL_KEYS.has(k) && typeof v === "string")
            // Slack webhook URLs are credentials; other URLs (health paths, repos) are not.
            || k === "slackWebhooks";
        out[k] = secret && v !== undefined ? (k === "slackWebhooks" ? redactWebhooks(v) : "[secret]") : redactAppSpec(v);
    }
    return out;
}

function redactWebhooks(v: unknown): unknown {
    return Array.isArray(v) ? v.map(w => ({ ...(w as object), url: "[secret]" })) : v;
}
