// The two checks every component's normalize runs first, once here instead of a copy per
// component folder. Each component keeps its own wording (the tests pin every message), so the
// problem, and where it differs the fix, are arguments.
import { ErrorContext, invalid } from "./errors";
import { DO_NAME } from "./naming";
import type { Target } from "./target";

/** Every target kind. `satisfies` makes a new kind in `Target` fail to compile until it is listed here. */
const TARGET_KINDS = { "docker": true, "do-app": true } as const satisfies Record<Target["kind"], true>;

/**
 * Throws unless `target` is a Slipway target (of a kind this library knows); returns it typed.
 * Runs before anything else reads the target, so a missing one is named rather than a TypeError.
 */
export function requireTarget(ctx: ErrorContext, target: unknown, problem: string, fix: string): Target {
    const kind = (target as { kind?: unknown } | null | undefined)?.kind;
    if (typeof kind !== "string" || !Object.hasOwn(TARGET_KINDS, kind)) invalid(ctx, "target", problem, fix);
    return target as Target;
}

/**
 * Throws unless the component's logical name also works as a Docker network alias and as an App
 * Platform component or database name: one rule on both targets, so a program moves between them
 * unchanged.
 */
export function requireDoName(ctx: ErrorContext, name: string, problem: string): void {
    if (!DO_NAME.test(name)) invalid(ctx, "name", problem, "use 2 to 32 lowercase letters, digits and hyphens, starting with a letter");
}
