// Walking an Args shape and a block together, for the tests that check the JSON Schema and the
// constructors agree at every property path.
import type { Shape } from "../../components/core/shape";

export const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** `do.pool.size`, `pages[0].keys[1]` -> the keys to walk. */
const keysOf = (at: string) => at.split(/\.|\[(\d+)\]/).filter(k => k !== undefined && k !== "");

/** The value at a property path such as `do.pool.size` or `schemas[0].name`. */
export function getAt(obj: unknown, at: string): unknown {
    return keysOf(at).reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

/** Set `value` at a property path whose parent exists. */
export function setAt(obj: Record<string, unknown>, at: string, value: unknown): void {
    const keys = keysOf(at);
    const parent = keys.slice(0, -1).reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, obj);
    parent[keys[keys.length - 1]!] = value;
}

export interface ShapePath { path: string; parent: string; key?: string; shape: Shape }

/**
 * Every property path of a shape: object keys (through oneOf's object options), `[0]` for list
 * items, `.<recordKey>` for record values (a key the test's full block sets).
 */
export function shapePaths(s: Shape, recordKey = "*", at = ""): ShapePath[] {
    switch (s.kind) {
        case "object":
            return Object.entries(s.props).flatMap(([k, sub]) => {
                const p = at ? `${at}.${k}` : k;
                return [{ path: p, parent: at, key: k, shape: sub }, ...shapePaths(sub, recordKey, p)];
            });
        case "list": return [{ path: `${at}[0]`, parent: at, shape: s.items }, ...shapePaths(s.items, recordKey, `${at}[0]`)];
        case "record": return [{ path: `${at}.${recordKey}`, parent: at, shape: s.values }, ...shapePaths(s.values, recordKey, `${at}.${recordKey}`)];
        case "oneOf": return s.options.flatMap(o => shapePaths(o, recordKey, at));
        default: return [];
    }
}
