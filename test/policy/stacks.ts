// The stacks the pack runs over, recorded under mocks in a child process (Pulumi's mocks are
// process-global) and turned into what a policy engine sees of them.
import { StackResource } from "../../policy/rules";
import { RecordedResource, redact } from "../../components/testing/recorder";
import { recordInChild } from "../helpers/record-in-child";

/** A recorded resource as the engine hands it to a policy: inputs with secrets revealed (as @pulumi/policy does), protect, dependencies. */
export function toStackResource(r: RecordedResource): StackResource {
    return {
        urn: r.urn, type: r.type, name: r.name,
        props: redact(r.inputs, true) as Record<string, unknown>,
        options: { protect: r.options.protect, retainOnDelete: r.options.retainOnDelete },
        dependencies: r.options.dependsOn,
    };
}

/** Custom resources only: the engine analyzes components too, but no rule applies to a `slipway:` type. */
export async function recordForPolicy(stack: string, opts: { dir?: string; overrides?: Record<string, unknown> } = {}): Promise<{ recorded: RecordedResource[]; resources: StackResource[] }> {
    const recorded = await recordInChild({ stack, dir: opts.dir, overrides: opts.overrides, types: ["*"] });
    return { recorded, resources: recorded.map(toStackResource) };
}

export const BAD_FIXTURE = "test/fixtures/policy-bad";
