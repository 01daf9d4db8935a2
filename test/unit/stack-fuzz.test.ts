// Fuzz the committed stack files with wrong types: any value of any block replaced by a value of
// another type must give a SlipwayConfigError (never a TypeError, never a stack trace) before the
// first resource registers. Seeded and bounded, so a failure reproduces with its seed.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { SlipwayConfigError } from "../../components/core/errors";
import { Recorder } from "../../components/testing/recorder";
import { fakeProviderOutputs } from "../../components/testing/fakes";
import { stackConfigWith } from "../helpers/stack-case";

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

/** mulberry32: small, seedable, good enough to pick paths. */
function rng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

type Path = (string | number)[];

/** Every path to a value inside `v`, the value itself included. */
function paths(v: unknown, at: Path = []): Path[] {
    const out: Path[] = [at];
    if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
    return out;
}

/** A value of another type than `v`. */
function wrongType(v: unknown, pick: () => number): unknown {
    const choices: unknown[] = typeof v === "string" ? [42, true, ["x"], { x: 1 }]
        : typeof v === "number" ? [String(v + 1), "many", [v], { n: v }, false]
            : typeof v === "boolean" ? [v ? "yes" : "no", 1, [v], { on: v }]
                : Array.isArray(v) ? [String(v[0] ?? "x"), { first: v[0] ?? 1 }, 3, true]
                    : [String(Object.keys(v as object)[0] ?? "x"), [v], 7]; // not a boolean: `backup: true` means "the defaults"
    return choices[Math.floor(pick() * choices.length)];
}

function setAt(root: unknown, path: Path, value: unknown): unknown {
    if (!path.length) return value;
    const [head, ...rest] = path;
    const copy: Record<string | number, unknown> = Array.isArray(root) ? [...root] as unknown as Record<number, unknown> : { ...(root as object) };
    copy[head!] = setAt(copy[head!], rest, value);
    return copy;
}

const BLOCKS = ["docker", "doApp", "services", "gateway", "database", "observability", "secrets", "production", "environment"];

describe(`stack fuzz: wrong types anywhere are config errors (seed ${SEED}, ${RUNS} runs)`, function () {
    this.timeout(600_000);
    it("never crashes and never registers", async () => {
        const synth = process.env.SLIPWAY_SYNTH;
        try { await fuzz(); } finally { if (synth === undefined) delete process.env.SLIPWAY_SYNTH; else process.env.SLIPWAY_SYNTH = synth; }
    });
});

async function fuzz(): Promise<void> {
    {
        const pick = rng(SEED);
        const failures: string[] = [];
        for (let run = 0; run < RUNS; run++) {
            const stack = pick() < 0.5 ? "dev" : "prod";
            const base = stackConfigWith({ stack });
            const blocks = BLOCKS.filter(b => base.values[`slipway:${b}`] !== undefined);
            const block = blocks[Math.floor(pick() * blocks.length)]!;
            const raw = base.values[`slipway:${block}`]!;
            let parsed: unknown;
            try { parsed = JSON.parse(raw); } catch { parsed = raw; }
            const all = paths(parsed);
            const path = all[Math.floor(pick() * all.length)]!;
            const current = path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], parsed);
            const next = setAt(parsed, path, wrongType(current, pick));
            const what = `run ${run} ${stack} slipway:${block}${path.map(p => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("")} = ${JSON.stringify(next === undefined ? null : path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], next))}`;

            const rec = await Recorder.start({ project: "slipway", stack, outputs: fakeProviderOutputs });
            const values = { ...base.values, [`slipway:${block}`]: typeof next === "string" ? next : JSON.stringify(next) };
            pulumi.runtime.setAllConfig(values, base.secretKeys);
            process.env.SLIPWAY_SYNTH = "1";
            const program = require.resolve("../../index");
            delete require.cache[program];
            let err: unknown;
            try { await (require(program) as () => Promise<unknown>)(); } catch (e) { err = e; }
            await rec.settle();
            if (!(err instanceof SlipwayConfigError)) failures.push(`${what}: ${err === undefined ? "accepted" : String((err as Error).stack ?? err).split("\n").slice(0, 3).join(" | ")}`);
            else if (rec.resources.length) failures.push(`${what}: ${rec.resources.length} resources registered before: ${err.message}`);
        }
        assert.deepStrictEqual(failures, [], `${failures.length} of ${RUNS} wrong-typed configs were not clean config errors:\n${failures.join("\n")}`);
    }
}
