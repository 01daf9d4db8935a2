import * as pulumi from "@pulumi/pulumi";

/** The stack output under which the deployed secrets revision is kept between runs. */
export const SECRETS_REVISION_OUTPUT = "secretsRevision";

/**
 * Decide whether DoApp must push SECRET env values this run. DigitalOcean reads them back
 * encrypted (`EV[...]`), so pushing unchanged values shows a diff on every preview. We push only
 * when the fingerprint of the secrets differs from the one the last update exported, or cannot
 * be known yet (a generated secret that rotates in this very run is unknown during preview).
 */
export async function planSecretRollout(
    current: pulumi.Output<string>,
    previous: string | undefined,
): Promise<"send" | "keep-deployed"> {
    // `isKnown` is internal but stable; awaiting an unknown Output's value would hang a preview.
    const known = await (current as unknown as { isKnown: Promise<boolean> }).isKnown;
    if (!known || previous === undefined) return "send";
    const value = await new Promise<string>(resolve => current.apply(v => { resolve(v); return v; }));
    return value === previous ? "keep-deployed" : "send";
}

/**
 * The revision the previous update exported, read through a reference to this very stack.
 * Undefined on the first update, or when the backend cannot resolve the reference.
 */
export async function previousSecretsRevision(): Promise<string | undefined> {
    try {
        const self = new pulumi.StackReference("slipway-self", {
            name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
        });
        const details = await self.getOutputDetails(SECRETS_REVISION_OUTPUT);
        const v = details.value ?? details.secretValue;
        return typeof v === "string" ? v : undefined;
    } catch {
        return undefined;
    }
}
