// Every rule of the pack, its default settings, and how a policy's config and the stack's name
// become the settings it runs with. `evaluate` runs the whole pack over a stack's resources the
// way the engine would (each resource rule per resource, then each stack rule), without an engine.
import { APP_PLATFORM_RULES } from "./app-platform";
import { CLOUDFLARE_RULES } from "./cloudflare";
import { DATA_RULES } from "./data";
import { DOCKER_RULES, STEP_DOWN_CAPABILITIES } from "./docker";
import { Level, Rule, Settings, StackResource } from "./types";

export * from "./types";
export const RULES: Rule[] = [...DOCKER_RULES, ...DATA_RULES, ...APP_PLATFORM_RULES, ...CLOUDFLARE_RULES];

export const DEFAULT_SETTINGS: Omit<Settings, "production"> = {
    allowedCapabilities: [...STEP_DOWN_CAPABILITIES, "NET_BIND_SERVICE"],
    dataPorts: [5432, 3306, 33060, 1433, 1521, 27017, 27018, 27019, 6379, 6380, 11211, 9200, 9300, 5984, 8086, 9042, 26257, 2379, 5672, 9092, 4222, 7687, 8123, 9000],
    dataImages: ["postgres", "postgresql", "postgis", "timescaledb", "mysql", "mariadb", "percona", "mongo", "mongodb", "redis", "valkey",
        "keydb", "dragonfly", "elasticsearch", "opensearch", "clickhouse", "cassandra", "scylla", "couchdb", "influxdb", "cockroach",
        "etcd", "neo4j", "rabbitmq", "nats", "kafka", "minio", "memcached"],
    minInstances: 2,
};

/** JSON schema of each setting, for the policy's `configSchema` (what `pulumi policy validate-config` checks). */
type JsonType = "boolean" | "number" | "string" | "array";
export const SETTING_SCHEMAS: Record<keyof Settings, { type: JsonType; items?: { type: JsonType }; description: string; minimum?: number }> = {
    production: { type: "boolean", description: "Treat this stack as production. Unset: a stack named prod, production, or with a -prod/-production suffix or prod-/production- prefix." },
    allowedCapabilities: { type: "array", items: { type: "string" }, description: "Capabilities a container may add back after dropping ALL." },
    dataPorts: { type: "array", items: { type: "number" }, description: "Container ports of databases, caches and queues." },
    dataImages: { type: "array", items: { type: "string" }, description: "Image names (last path segment, no tag) whose volumes hold data." },
    minInstances: { type: "number", minimum: 1, description: "Instances per App Platform service in production." },
};

const PRODUCTION_STACK = /(^|[-_.])prod(uction)?($|[-_.])/i;

/** The stack name in `urn:pulumi:<stack>::<project>::...`. */
export function stackOfUrn(urn: string): string {
    return urn.startsWith("urn:pulumi:") ? urn.slice("urn:pulumi:".length).split("::")[0] ?? "" : "";
}

/** A policy's settings: its config over the defaults; production from config, else from the stack's name. */
export function settingsFor(config: Partial<Settings> | undefined, stack: string): Settings {
    const c = config ?? {};
    return {
        ...DEFAULT_SETTINGS,
        ...Object.fromEntries(Object.entries(c).filter(([k, v]) => v !== undefined && k in SETTING_SCHEMAS)),
        production: typeof c.production === "boolean" ? c.production : PRODUCTION_STACK.test(stack),
    };
}

export interface Violation {
    policy: string;
    level: Level;
    urn: string;
    message: string;
}

/** Per-policy config as in the `--policy-pack-config` file: `{ "<policy>": "disabled" | level | { enforcementLevel?, ...settings } }`. */
export type PackConfig = Record<string, string | ({ enforcementLevel?: string } & Partial<Settings>)>;

/** Run every rule over a stack's resources, honouring the config's levels (disabled rules do not run) and settings. */
export function evaluate(resources: StackResource[], config: PackConfig = {}): Violation[] {
    const stack = stackOfUrn(resources[0]?.urn ?? "");
    const out: Violation[] = [];
    for (const rule of RULES) {
        const entry = config[rule.name] ?? config.all;
        const level = (typeof entry === "string" ? entry : entry?.enforcementLevel) ?? rule.level;
        if (level === "disabled") continue;
        const settings = settingsFor(typeof entry === "object" ? entry : undefined, stack);
        const found = rule.kind === "stack"
            ? rule.check(resources, settings)
            : resources.filter(r => rule.types.includes(r.type))
                .flatMap(r => rule.check(r.type, r.props, r.options, settings).map(message => ({ urn: r.urn, message })));
        out.push(...found.map(v => ({ policy: rule.name, level: level as Level, ...v })));
    }
    return out;
}
