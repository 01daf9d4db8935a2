// Run the real program (index.ts) in-process under the Recorder with a committed stack's config
// changed by one case, expecting a SlipwayConfigError before anything registers.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "../../cli/stack-config";
import { Recorder } from "../../components/testing/recorder";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import { expectConfigError } from "./config-error";

const ROOT = path.resolve(__dirname, "../..");

export interface StackCase {
    name: string;
    stack?: "dev" | "prod";
    set?: Record<string, unknown>;
    secret?: Record<string, unknown>;
    env?: Record<string, string>;
    component: string;
    path: string;
    problem: RegExp;
    fix: RegExp;
}

/** The committed stack's `slipway:*` config with the case's changes (undefined removes a key). */
export function stackConfigWith(c: Pick<StackCase, "stack" | "set">): { values: Record<string, string>; secretKeys: string[] } {
    const cfg = loadStackConfig(ROOT, c.stack ?? "dev", {});
    const values = { ...cfg.values };
    for (const [k, v] of Object.entries(c.set ?? {})) {
        if (v === undefined) delete values[`slipway:${k}`];
        else values[`slipway:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return { values, secretKeys: cfg.secretKeys };
}

/** Run index.ts with the committed stack's config changed by `c`, expecting it to fail before anything registers. */
export async function runStackCase(c: StackCase): Promise<void> {
    const stack = c.stack ?? "dev";
    const cfg = stackConfigWith(c);
    const values = cfg.values;
    const saved: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries({ SLIPWAY_SYNTH: "1", STRIPE_SECRET_KEY: "x", ...c.env })) { saved[k] = process.env[k]; process.env[k] = v; }
    try {
        const rec = await Recorder.start({ project: "slipway", stack, outputs: fakeProviderOutputs });
        pulumi.runtime.setAllConfig(values, cfg.secretKeys);
        const program = require.resolve("../../index");
        delete require.cache[program];
        const main = require(program) as () => Promise<unknown>;
        await expectConfigError(rec, () => main(), { component: c.component, path: c.path, problem: c.problem, fix: c.fix });
    } finally {
        for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    }
}

