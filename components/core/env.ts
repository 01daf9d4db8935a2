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

const SECRET = Symbol.for("slipway.secret");

/**
 * A value that stays secret wherever it lands: a SECRET env on App Platform, a file (not env) on
 * Docker, `[secret]` in every file Slipway writes. A Pulumi secret Output, branded so a component
 * can tell it apart synchronously (Pulumi's own secretness is only known once resolved).
 */
export type Secret = pulumi.Output<string> & { readonly [SECRET]: true };

/**
 * Mark a value as secret for Slipway. Wrap config secrets with it wherever a plain string would
 * also do: `env: { TOKEN: secret(cfg.requireSecret("token")) }`.
 */
export function secret(value: pulumi.Input<string>): Secret {
    const out = pulumi.secret(value);
    Object.defineProperty(out, SECRET, { value: true });
    return out as Secret;
}

export function isSecret(value: unknown): value is Secret {
    return typeof value === "object" && value !== null && (value as { [SECRET]?: unknown })[SECRET] === true;
}

/** A plain env var, or a secret one when the value is a {@link Secret}. */
export function envVar(key: string, value: pulumi.Input<string>): EnvVar {
    return { key, value, secret: isSecret(value) };
}

/** Wrap a value as secret, whatever it is: mocks and real providers alike then keep it encrypted. */
export function secretEnv(key: string, value: pulumi.Input<string>): EnvVar {
    return { key, value: pulumi.secret(value), secret: true };
}

export function plainEnv(key: string, value: pulumi.Input<string>): EnvVar {
    return { key, value, secret: false };
}
