import * as pulumi from "@pulumi/pulumi";

/** What DoApp does with SECRET env values this run. */
export type SecretRollout = "send" | "keep-deployed";

/** The stack output under which the deployed secrets revision is kept between runs. */
export const SECRETS_REVISION_OUTPUT = "secretsRevision";

/**
 * Keep the deployed values only when this run's fingerprint is known and equal to the last
 * update's. Unknown (a generated secret that rotates in this very run is unknown during a
 * preview) or no previous fingerprint: send, which is always correct, only noisier.
 */
export async function decideSecretRollout(current: pulumi.Output<string>, previous: string | undefined): Promise<SecretRollout> {
    const now = await knownValue(current);
    if (!now.known || previous === undefined) return "send";
    return now.value === previous ? "keep-deployed" : "send";
}

/**
 * An Output's value, or `known: false` when the engine has not computed it (a preview). Awaiting
 * `apply` on an unknown value would hang, so this asks the SDK's public serializer, which turns an
 * unknown into `runtime.unknownValue`, as it does for the engine.
 */
export async function knownValue<T>(output: pulumi.Output<T>): Promise<{ known: true; value: T } | { known: false }> {
    const wire: unknown = await pulumi.runtime.serializeProperty("slipway:knownValue", pulumi.unsecret(output));
    return wire === pulumi.runtime.unknownValue ? { known: false } : { known: true, value: wire as T };
}

/**
 * The revision the previous update exported as `output`, read through a reference to this very
 * stack. Undefined on a stack's first update. Every other failure is reported (a warning on
 * `resource`, naming the consequence) rather than swallowed: the run then sends the values,
 * which shows `spec.envs` as changed but never loses a rotation.
 */
export async function previousSecretsRevision(output: string, resource: pulumi.Resource): Promise<string | undefined> {
    let self = `<this stack>/${pulumi.getStack()}`;
    let value: unknown;
    try {
        self = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
        const ref = new pulumi.StackReference("slipway-self", { name: self }, { parent: resource });
        const details = await ref.getOutputDetails(output);
        value = details.value ?? details.secretValue;
    } catch (err) {
        // A stack with no update yet has no checkpoint to read: that is the first run, not a fault.
        if (/no stack|not found|unknown stack|does not exist/i.test(String(err))) return undefined;
        pulumi.log.warn(`cannot read the stack output "${output}" of ${self} (${String(err).split("\n")[0]}): `
            + "secret values are sent this run, so the preview shows spec.envs as changed", resource);
        return undefined;
    }
    if (value === undefined) {
        pulumi.log.info(`no "${output}" output on ${self} yet: secret values are sent this run. `
            + `Export the DoApp's secretsRevision as "${output}" to keep deployed values on unchanged runs.`, resource);
        return undefined;
    }
    return typeof value === "string" ? value : undefined;
}
