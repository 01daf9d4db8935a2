import { SlipwayConfigError } from "../components/core/errors";
import type { Target } from "../components/core/target";

/** What preflight learnt from each block's validator, for the checks that span blocks. */
export interface StackFacts {
    stack: string;
    target: Target;
    services: { name: string; replicas: number }[];
    /** The CORS origins as the stack file lists them (the normalized list is sorted). */
    origins: readonly string[];
    /** Host ports each block publishes on docker, by the config path that sets them. */
    published: { path: string; port: number; data: boolean }[];
}

/** The names the other blocks take on the network (docker aliases) and in the App (component names). */
const BLOCK_NAMES: Record<string, string> = {
    db: "slipway:database (its network alias and App database name)",
    gateway: "slipway:gateway (its network alias)",
    "observability-prometheus": "slipway:observability (Prometheus's network alias)",
};

const DEV_ORIGIN = /^http:\/\/|^https?:\/\/(localhost|127\.\d+\.\d+\.\d+|\[::1\]|0\.0\.0\.0)(:\d+)?$/i;

/**
 * Mistakes no single block can see: a name two blocks would share, a host port bound twice, a
 * data port on a public address, a development origin trusted in production.
 */
export function checkAcrossBlocks(f: StackFacts): void {
    const fail = (path: string, problem: string, fix: string): never => {
        throw new SlipwayConfigError(`Stack "${f.stack}"`, path, problem, fix);
    };
    const aliases = new Map<string, string>(Object.entries(BLOCK_NAMES));
    for (const s of f.services) {
        for (let i = 1; i <= s.replicas; i++) aliases.set(`${s.name}-${i}`, `slipway:services.${s.name} (replica ${i}'s network alias)`);
    }
    for (const s of f.services) {
        const owner = aliases.get(s.name);
        if (owner) fail(`slipway:services.${s.name}`, `is also the name of ${owner}: both would answer to "${s.name}"`, "rename the service");
    }
    const byPort = new Map<number, string>();
    for (const p of f.published) {
        const prev = byPort.get(p.port);
        if (prev) fail(p.path, `publishes host port ${p.port}, which ${prev} already publishes`, "give each published port its own number");
        byPort.set(p.port, p.path);
        if (p.data && f.target.kind === "docker" && f.target.publishAddress !== "127.0.0.1") {
            fail(p.path, `publishes a data port on ${f.target.publishAddress}, every interface of the host`,
                "leave it unpublished (containers reach it on the stack's network) or set slipway:docker.publishAddress to 127.0.0.1");
        }
    }
    if (f.target.production) {
        f.origins.forEach((o, i) => {
            if (DEV_ORIGIN.test(o)) {
                fail(`slipway:gateway.cors.allowOrigins[${i}]`, `${JSON.stringify(o)} is a development origin, trusted in production`,
                    "list only the https origins of the production front end");
            }
        });
    }
}
