// The rules as @pulumi/policy policies: each resource rule validates one resource, each stack
// rule the whole stack; a policy's config (the `--policy-pack-config` file) becomes its settings.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { RULES, Rule, SETTING_SCHEMAS, Settings, StackResource, settingsFor, stackOfUrn } from "./rules";

export const PACK_NAME = "slipway";

function configSchema(rule: Rule) {
    return { properties: Object.fromEntries(rule.settings.map(k => [k, SETTING_SCHEMAS[k]])) };
}

/** The description the CLI prints with every violation: what the rule asks, then the fix. */
export function describe(rule: Rule): string {
    return `${rule.description} Fix: ${rule.fix}`;
}

function toPolicy(rule: Rule): ResourceValidationPolicy | StackValidationPolicy {
    const base = {
        name: rule.name,
        description: describe(rule),
        enforcementLevel: rule.level,
        remediationSteps: rule.fix,
        configSchema: configSchema(rule),
    };
    if (rule.kind === "resource") {
        return {
            ...base,
            validateResource: (args, report) => {
                if (!rule.types.includes(args.type)) return;
                const settings = settingsFor(args.getConfig<Partial<Settings>>(), stackOfUrn(args.urn));
                // The analyzer protocol sends `protect` but not retainOnDelete: undefined here means "not known".
                for (const m of rule.check(args.type, args.props, { protect: args.opts.protect }, settings)) report(m);
            },
        };
    }
    return {
        ...base,
        validateStack: (args, report) => {
            const resources: StackResource[] = args.resources.map(r => ({
                urn: r.urn, type: r.type, name: r.name, props: r.props,
                options: { protect: r.opts.protect },
                dependencies: [...new Set([...r.dependencies, ...Object.values(r.propertyDependencies).flat()].map(d => d.urn))],
            }));
            const settings = settingsFor(args.getConfig<Partial<Settings>>(), stackOfUrn(resources[0]?.urn ?? ""));
            for (const v of rule.check(resources, settings)) report(v.message, v.urn);
        },
    };
}

export function policies(): (ResourceValidationPolicy | StackValidationPolicy)[] {
    return RULES.map(toPolicy);
}
