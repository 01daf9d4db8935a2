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

/**
 * Anything an ApiService can `link` to: a database, a secrets set, the observability wiring.
 * Linking is how cross-cutting data flows without one component patching another.
 */
export interface Linkable {
    /** Environment the linked service receives. `serviceName` lets a source tailor values (e.g. OTEL_SERVICE_NAME). */
    linkEnv(serviceName: string): EnvVar[];
}

export function isLinkable(x: unknown): x is Linkable {
    return typeof x === "object" && x !== null && typeof (x as Linkable).linkEnv === "function";
}

/** Wrap a value as secret, whatever it is: mocks and real providers alike then keep it encrypted. */
export function secretEnv(key: string, value: pulumi.Input<string>): EnvVar {
    return { key, value: pulumi.secret(value), secret: true };
}

export function plainEnv(key: string, value: pulumi.Input<string>): EnvVar {
    return { key, value, secret: false };
}
