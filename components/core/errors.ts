import { RunError } from "@pulumi/pulumi";

/**
 * A user-facing configuration error. Every message names the component, the property path and
 * the fix, so a `pulumi up` that fails on input reads like a code review comment.
 *
 * Components raise it from their pure `normalize*()` functions, which run before `super()`, so a
 * bad input never leaves a half-registered component behind.
 *
 * It is a `pulumi.RunError`: when one escapes the program, @pulumi/pulumi's run entry
 * (cmd/run/run.ts, its uncaught-error handler: `RunError.isInstance(err)`, which checks the
 * `__pulumiRunError` brand, so another copy of the SDK counts too) logs only `err.message`, one
 * line, instead of "Running program ... failed with an unhandled exception:", the stack and the
 * object's fields. test/program/ checks this against the real run entry.
 */
export class SlipwayConfigError extends RunError {
    constructor(
        /** e.g. `Gateway "edge"` */
        readonly component: string,
        /** e.g. `routes[1].pathPrefix` */
        readonly propertyPath: string,
        readonly problem: string,
        readonly fix: string,
    ) {
        super(`${component}: ${propertyPath}: ${problem}. Fix: ${fix}`);
        this.name = "SlipwayConfigError";
    }
}

/** A named component instance, used as the prefix of every error it raises. */
export interface ErrorContext {
    /** The component class, e.g. `ApiService`. */
    readonly kind: string;
    /** The Pulumi logical name, e.g. `api`. */
    readonly name: string;
}

export function describe(ctx: ErrorContext): string {
    return `${ctx.kind} "${ctx.name}"`;
}

/** Throw a {@link SlipwayConfigError} for `ctx` at `path`. */
export function invalid(ctx: ErrorContext, path: string, problem: string, fix: string): never {
    throw new SlipwayConfigError(describe(ctx), path, problem, fix);
}

/** Throws unless `value` is a whole number in [min, max]. Returns it for chaining. */
export function requireInt(ctx: ErrorContext, path: string, value: number, min: number, max: number): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        invalid(ctx, path, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
            `set ${path} to a whole number between ${min} and ${max}`);
    }
    return value;
}

/** Throws unless `value` is one of `allowed`. */
export function requireOneOf<T extends string>(ctx: ErrorContext, path: string, value: string, allowed: readonly T[]): T {
    if (!(allowed as readonly string[]).includes(value)) {
        invalid(ctx, path, `${JSON.stringify(value)} is not supported`, `use one of ${allowed.join(", ")}`);
    }
    return value as T;
}
