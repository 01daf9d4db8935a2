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

/**
 * One component's contribution to the single DigitalOcean App. Additive only: a part never edits
 * another part, and `mergeAppSpecParts` rejects collisions instead of letting the last one win.
 */
export interface AppSpecPart {
    /** Who contributed it, e.g. `ApiService "api"`. Used in merge errors and the contributor check. */
    readonly source: string;
    readonly services?: AppServiceSpec[];
    readonly databases?: AppDatabaseSpec[];
    /** App-level envs (every component sees them). Prefer per-service envs via `link`. */
    readonly envs?: AppEnvSpec[];
    readonly ingressRules?: AppIngressRuleSpec[];
    readonly domainNames?: AppDomainSpec[];
    readonly alerts?: AppAlertSpec[];
    /** Database clusters whose firewall must trust the App once it exists (`type: "app"`). */
    readonly trustedClusterIds?: pulumi.Input<string>[];
    /**
     * Cloudflare DNS records that DoApp creates once the App exists, as proxied CNAMEs to the
     * App's default ingress. They need the App, so no contributor can create them itself.
     */
    readonly edgeRecords?: EdgeRecord[];
}

export interface EdgeRecord {
    readonly zoneId: pulumi.Input<string>;
    /** The full hostname, e.g. `api.example.com`. */
    readonly hostname: string;
    readonly proxied: boolean;
}

/** Anything that contributes to the App. Every component has an `appSpec` on the do-app target. */
export interface AppSpecContributor {
    readonly appSpec?: AppSpecPart;
}

function fail(source: string, path: string, problem: string, fix: string): never {
    throw new SlipwayConfigError(source, path, problem, fix);
}

/**
 * Merge parts into one App spec. Pure, so it is unit-tested without the Pulumi runtime.
 * Names must be plain strings here (they are config, not outputs): that is what makes the
 * collision checks possible before anything registers.
 */
export function mergeAppSpecParts(appName: string, region: string, parts: readonly AppSpecPart[]): AppSpec {
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
    const databases: AppDatabaseSpec[] = [];
    const envs: AppEnvSpec[] = [];
    const rules: AppIngressRuleSpec[] = [];
    const domainNames: AppDomainSpec[] = [];
    const alerts: AppAlertSpec[] = [];
    for (const part of parts) {
        part.services?.forEach((s, i) => {
            claim("component", s.name, part.source, `services[${i}].name`);
            if (!DO_NAME.test(s.name as string)) {
                fail(part.source, `services[${i}].name`, `"${s.name}" is not a valid App Platform component name`,
                    "use 2 to 32 lowercase letters, digits and hyphens, starting with a letter");
            }
            services.push(s);
        });
        part.databases?.forEach((d, i) => { claim("database", d.name, part.source, `databases[${i}].name`); databases.push(d); });
        part.envs?.forEach((e, i) => { claim("app env", e.key, part.source, `envs[${i}].key`); envs.push(e); });
        part.ingressRules?.forEach((r, i) => {
            const prefix = (r.match as { path?: { prefix?: string } } | undefined)?.path?.prefix;
            claim("route", prefix, part.source, `ingressRules[${i}].match.path.prefix`);
            rules.push(r);
        });
        part.domainNames?.forEach((d, i) => { claim("domain", d.name, part.source, `domainNames[${i}].name`); domainNames.push(d); });
        part.alerts?.forEach((a, i) => { claim("app alert", a.rule, part.source, `alerts[${i}].rule`); alerts.push(a); });
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

/**
 * A Linkable that also shapes the linked service's own App spec entry on DigitalOcean (e.g.
 * Observability adding CPU_UTILIZATION / MEM_UTILIZATION / RESTART_COUNT alerts and log
 * destinations). ApiService calls it once per link with its component name; the result is
 * additive and must be deterministic, as it lands in the App spec diff.
 */
export interface DoServiceLinkable {
    linkDoService(serviceName: string): {
        alerts?: AppServiceAlertSpec[];
        logDestinations?: AppServiceLogDestinationSpec[];
    };
}

export function isDoServiceLinkable(x: unknown): x is DoServiceLinkable {
    return typeof x === "object" && x !== null && typeof (x as DoServiceLinkable).linkDoService === "function";
}

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
