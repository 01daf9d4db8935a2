// The shapes the rules work on: what a policy engine (Pulumi's analyzer, or the tests' recorded
// stacks) knows about a resource. Pure data; no SDK, so every rule runs without an engine.

/** A resource's inputs as the engine sees them (camelCase, as the program set them). */
export type Props = Record<string, unknown>;

/** Resource options a rule may read. `retainOnDelete` is undefined where the engine does not say (Pulumi's analyzer protocol). */
export interface Options {
    protect?: boolean;
    retainOnDelete?: boolean;
}

/** One resource of a whole stack, with the URNs it depends on (explicit and through its inputs). */
export interface StackResource {
    urn: string;
    type: string;
    name: string;
    props: Props;
    options: Options;
    dependencies: string[];
}

/** What a team can set per policy in the policy config file (`--policy-pack-config`). */
export interface Settings {
    /** Whether the stack is production; unset means "decided by the stack name". */
    production: boolean;
    /** Capabilities a container may add back after dropping ALL. */
    allowedCapabilities: string[];
    /** Container ports that carry data (databases, caches, queues): never published on every interface. */
    dataPorts: number[];
    /** Image names (the last path segment, before the tag) of databases and caches, whose volumes hold data. */
    dataImages: string[];
    /** Instances each App Platform service runs in production. */
    minInstances: number;
}

export type Level = "advisory" | "mandatory";

interface RuleBase {
    /** kebab-case, unique in the pack; what the config file keys on. */
    name: string;
    /** What the rule asks for. */
    description: string;
    /** How to comply, shown with every violation. */
    fix: string;
    level: Level;
    /** The settings this rule reads (each becomes a config property of the policy). */
    settings: (keyof Settings)[];
}

/** A rule over one resource at a time: returns one message per problem, none when it complies. */
export interface ResourceRule extends RuleBase {
    kind: "resource";
    /** Type tokens it applies to, e.g. `docker:index/container:Container`. */
    types: string[];
    check(type: string, props: Props, options: Options, settings: Settings): string[];
}

export interface StackViolation {
    urn: string;
    message: string;
}

/** A rule that needs the whole stack (which volume a database container mounts, which firewall guards a cluster). */
export interface StackRule extends RuleBase {
    kind: "stack";
    check(resources: StackResource[], settings: Settings): StackViolation[];
}

export type Rule = ResourceRule | StackRule;

/** Pulumi's marker for a value not known until the resource exists (a preview of a new resource). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Set and known now. */
export function isKnown(v: unknown): boolean {
    return v !== UNKNOWN && v !== undefined;
}

/** Set, but only known once the resource exists: a rule cannot judge it yet. */
export function isUnknown(v: unknown): boolean {
    return v === UNKNOWN;
}

export function asArray<T = unknown>(v: unknown): T[] {
    return Array.isArray(v) ? (v as T[]) : [];
}

export function asRecord(v: unknown): Record<string, unknown> {
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
