import * as pulumi from "@pulumi/pulumi";

/**
 * One environment variable handed to a service. `secret: true` values are wrapped in
 * `pulumi.secret()` by whoever creates them, become `type: SECRET` on DigitalOcean, and are
 * delivered as files rather than plain env on Docker (see SecretsSync).
 */
export interface EnvVar {
    readonly key: string;
    readonly value: pulumi.Input<string>;
    readonly secret: boolean;
}

/** Wrap a value as secret, whatever it is: mocks and real providers alike then keep it encrypted. */
export function secretEnv(key: string, value: pulumi.Input<string>): EnvVar {
    return { key, value: pulumi.secret(value), secret: true };
}

export function plainEnv(key: string, value: pulumi.Input<string>): EnvVar {
    return { key, value, secret: false };
}
