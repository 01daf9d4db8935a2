#!/usr/bin/env node
/**
 * `npm run synth -- <stack>`: run a stack program under Pulumi mocks (no CLI, no credentials, no
 * network) and write what it would deploy to `out/<stack>/`:
 *   resources.json   every registered resource: type, name, parent, inputs, options; secrets as "[secret]"
 *   outputs.json     the stack outputs, secrets as "[secret]"
 *   caddy.json, alert-rules.yml, prometheus.yml, app-spec.json   the generated documents, in their native format
 */
import * as fs from "fs";
import * as path from "path";
import { loadStackConfig } from "./stack-config";

export interface SynthOptions {
    /** Project directory holding Pulumi.yaml, Pulumi.<stack>.yaml and the program. */
    dir: string;
    stack: string;
    /** Where to write; `<dir>/out/<stack>` by default. */
    outDir?: string;
    /** The program module; `<dir>/index.ts` by default. */
    program?: string;
    overrides?: Record<string, unknown>;
    secretOverrides?: Record<string, unknown>;
    /** Print the resource tree. */
    print?: boolean;
}

export interface SynthResult {
    outDir: string;
    files: string[];
    resources: number;
    placeholders: string[];
}

/** Upload paths that are documents worth reviewing on their own, and the file each becomes. */
const DOCUMENTS: Record<string, string> = {
    "/etc/caddy/caddy.json": "caddy.json",
    "/etc/prometheus/rules/slipway-alerts.yml": "alert-rules.yml",
    "/etc/prometheus/prometheus.yml": "prometheus.yml",
    "/etc/alertmanager/alertmanager.yml": "alertmanager.yml",
};

/** JSON with object keys sorted at every level: the same data always gives the same bytes. */
export function stableJson(v: unknown): string {
    const sort = (x: unknown): unknown => {
        if (Array.isArray(x)) return x.map(sort);
        if (x && typeof x === "object") {
            return Object.fromEntries(Object.keys(x).sort().map(k => [k, sort((x as Record<string, unknown>)[k])]));
        }
        return x;
    };
    return JSON.stringify(sort(v), null, 2) + "\n";
}

export interface RecordedStack {
    /** Every registration, secrets still wrapped (use `redact(x, true)` to reveal, e.g. in a test harness). */
    resources: import("../components/testing/recorder").RecordedResource[];
    /** Stack outputs, resolved, secrets as "[secret]". */
    outputs: Record<string, unknown>;
    placeholders: string[];
}

/**
 * Run a stack program under mocks with the stack's config and return what it registered. The
 * single place that knows how to run a program offline: synth writes files from it, and the
 * real-engine tests deploy exactly these resources.
 */
export async function recordStack(opts: Omit<SynthOptions, "outDir" | "print">): Promise<RecordedStack> {
    const dir = path.resolve(opts.dir);
    // Lets the program use placeholders for secrets it cannot read here (see stack/config.ts).
    process.env.SLIPWAY_SYNTH = "1";
    const cfg = loadStackConfig(dir, opts.stack, opts.overrides, opts.secretOverrides);
    // Config must be in place before the program (or any component) reads it.
    const pulumi = await import("@pulumi/pulumi");
    pulumi.runtime.setAllConfig(cfg.values, cfg.secretKeys);
    const { Recorder, redact } = await import("../components/testing/recorder");
    const { fakeProviderOutputs } = await import("../components/testing/fakes");
    const rec = await Recorder.start({ project: cfg.project, stack: opts.stack, outputs: fakeProviderOutputs });

    const programPath = require.resolve(path.resolve(dir, opts.program ?? "index.ts"));
    // An installed package runs as JavaScript; a TypeScript program then needs ts-node, as Pulumi does.
    if (programPath.endsWith(".ts") && !require.extensions[".ts"]) {
        require("ts-node").register({ transpileOnly: true, compilerOptions: { module: "commonjs" } });
    }
    delete require.cache[programPath];
    let exported: Record<string, unknown>;
    try {
        // A top-level program runs while it is required, so that is inside the try as well.
        const mod = require(programPath);
        const main = typeof mod === "function" ? mod : typeof mod?.default === "function" ? mod.default : undefined;
        exported = (main ? await main() : mod) ?? {};
        await rec.settle();
    } catch (err) {
        // Tells the user (and the tests) whether a failure left anything half-made.
        await rec.settle().catch(() => undefined);
        (err as { registered?: number }).registered = rec.resources.length;
        throw err;
    }

    const outputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(exported).sort(([a], [b]) => a.localeCompare(b))) {
        const o: import("@pulumi/pulumi").Output<unknown> = pulumi.output(v);
        const secret = await pulumi.isSecret(o);
        const value = await new Promise(resolve => o.apply((x: unknown) => { resolve(x); return x; }));
        outputs[k] = secret ? "[secret]" : redact(value);
    }
    await rec.settle();
    return { resources: [...rec.resources], outputs, placeholders: cfg.placeholders };
}

export async function synth(opts: SynthOptions): Promise<SynthResult> {
    const dir = path.resolve(opts.dir);
    const outDir = path.resolve(opts.outDir ?? path.join(dir, "out", opts.stack));
    // Gone before the program runs: a failed synth must not leave the last run's files looking current.
    fs.rmSync(outDir, { recursive: true, force: true });
    const { resources, outputs, placeholders } = await recordStack(opts);
    const { redact, isSecretValue } = await import("../components/testing/recorder");
    const { toApiSpec, redactAppSpec } = await import("../components/targets/app-spec");
    const rec = { resources, ofType: (t: string) => resources.filter(r => r.type === t) };

    fs.mkdirSync(outDir, { recursive: true });
    const files: string[] = [];
    const write = (name: string, content: string) => {
        fs.writeFileSync(path.join(outDir, name), content);
        files.push(name);
    };

    const byUrn = new Map(rec.resources.map(r => [r.urn, r]));
    const label = (urn?: string) => (urn && byUrn.has(urn) ? `${byUrn.get(urn)!.type}::${byUrn.get(urn)!.name}` : undefined);
    write("resources.json", stableJson(rec.resources.map(r => ({
        type: r.type,
        name: r.name,
        parent: label(r.parent),
        // As sent to the engine: a secret hides only itself, not the list or object around it.
        inputs: redact(r.wire),
        options: { ...r.options, provider: undefined, dependsOn: r.options.dependsOn.map(label) },
    }))));
    write("outputs.json", stableJson(outputs));

    const docs = new Map<string, { owner: string; content: string }[]>();
    for (const r of rec.ofType("docker:index/container:Container")) {
        // Read as sent to the engine, where a secret upload hides only its own content.
        const wrapped = isSecretValue(r.wire.uploads);
        const uploads = (wrapped ? (r.wire.uploads as { value: unknown }).value : r.wire.uploads) as { file?: string; content?: unknown }[] | undefined;
        for (const u of uploads ?? []) {
            const name = u.file && DOCUMENTS[u.file];
            if (!name) continue;
            const content = !wrapped && typeof u.content === "string" ? u.content : "[secret]\n";
            docs.set(name, [...(docs.get(name) ?? []), { owner: r.name, content }]);
        }
    }
    // A component output that is a document of its own: Observability's Grafana dashboard (docker, with Prometheus).
    for (const r of rec.ofType("slipway:observability:Observability")) if (typeof r.outputs?.dashboardJson === "string") docs.set("grafana-dashboard.json", [...(docs.get("grafana-dashboard.json") ?? []), { owner: r.name, content: r.outputs.dashboardJson }]);
    const apps = rec.ofType("digitalocean:index/app:App");
    if (apps.length) {
        docs.set("app-spec.json", apps.map(a => ({ owner: a.name, content: stableJson(toApiSpec(redactAppSpec(redact(a.inputs.spec, true)))) })));
    }
    for (const [name, list] of [...docs.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        // Several owners of one kind (two gateways) get their logical name as a prefix.
        for (const d of list) write(list.length === 1 ? name : `${d.owner}.${name}`, d.content);
    }

    if (opts.print) printTree(rec.resources, outDir, files, placeholders);
    return { outDir, files: files.sort(), resources: rec.resources.length, placeholders };
}

function printTree(resources: { urn: string; parent?: string; type: string; name: string }[], outDir: string,
    files: string[], placeholders: string[]) {
    const known = new Set(resources.map(r => r.urn));
    const lines: string[] = [];
    const walk = (parent: string | undefined, depth: number) => {
        for (const r of resources.filter(x => (x.parent && known.has(x.parent) ? x.parent : undefined) === parent)) {
            lines.push(`${"  ".repeat(depth)}+ ${r.type}  ${r.name}`);
            walk(r.urn, depth + 1);
        }
    };
    walk(undefined, 0);
    console.log(lines.join("\n"));
    console.log(`\n${resources.length} resources would be created. Wrote ${files.join(", ")} to ${path.relative(process.cwd(), outDir) || "."}`);
    if (placeholders.length) {
        console.log(`Secure config values replaced by secret placeholders (not decryptable here): ${placeholders.join(", ")}`);
    }
}

export const SYNTH_USAGE = `usage: slipway synth (or npm run synth --) -- <stack> [--out=DIR] [--set key=JSON]... [--secret key=VALUE]...
  <stack>          one of the Pulumi.<stack>.yaml files in this directory
  --set k=JSON     override a config value (k without a namespace means slipway:k)
  --secret k=V     set a config value as a secret (what \`pulumi config set --secret\` would)`;

/** Parse `--set`/`--secret` pairs; `--set` values are JSON when they parse, strings otherwise. */
export function parseSynthArgs(argv: string[]): { stack?: string; outDir?: string; overrides: Record<string, unknown>; secrets: Record<string, unknown> } {
    const overrides: Record<string, unknown> = {};
    const secrets: Record<string, unknown> = {};
    let stack: string | undefined;
    let outDir: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]!;
        const pair = (flag: string) => {
            const v = a.includes("=") && a.startsWith(`${flag}=`) ? a.slice(flag.length + 1) : argv[++i];
            const eq = v?.indexOf("=") ?? -1;
            if (!v || eq < 1) throw new Error(`${flag} takes key=value\n${SYNTH_USAGE}`);
            return [v.slice(0, eq), v.slice(eq + 1)] as const;
        };
        if (a === "--set" || a.startsWith("--set=")) {
            const [k, v] = pair("--set");
            try { overrides[k] = JSON.parse(v); } catch { overrides[k] = v; }
        } else if (a === "--secret" || a.startsWith("--secret=")) {
            const [k, v] = pair("--secret");
            secrets[k] = v;
        } else if (a.startsWith("--out=")) outDir = a.slice(6);
        else if (a.startsWith("-")) throw new Error(`unknown option ${a}\n${SYNTH_USAGE}`);
        else stack = a;
    }
    return { stack, outDir, overrides, secrets };
}

/** `slipway synth`: the same as `npm run synth`, for projects that installed the package. */
export async function synthCommand(argv: string[]): Promise<number> {
    const a = parseSynthArgs(argv);
    if (!a.stack) {
        console.error(SYNTH_USAGE);
        return 2;
    }
    try {
        await synth({ dir: process.cwd(), stack: a.stack, outDir: a.outDir, overrides: a.overrides, secretOverrides: a.secrets, print: true });
        return 0;
    } catch (err) {
        const e = err as { name?: string; message?: string; registered?: number };
        // Config errors already say component, path and fix; no stack trace needed for them.
        console.error(e?.name === "SlipwayConfigError" ? `error: ${e.message}` : err);
        if (typeof e?.registered === "number") console.error(`${e.registered} resources were registered before the error.`);
        return 1;
    }
}

if (require.main === module) {
    synthCommand(process.argv.slice(2)).then(code => { process.exitCode = code; });
}
