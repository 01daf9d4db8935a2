// Runs a policy pack the way the Pulumi CLI does (pkg/resource/plugin/analyzer_plugin.go,
// NewPolicyAnalyzer + the `pulumi-analyzer-policy` script): working directory = the pack's folder,
// `@pulumi/pulumi/cmd/run-policy-pack` resolved from there, args `<engine> .`, the gRPC port read
// from the first stdout line. Then talks the analyzer protocol to it as the engine does: Configure,
// GetAnalyzerInfo, Analyze per resource, AnalyzeStack at the end. The CLI itself cannot run here.
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { StackResource } from "../../policy/rules";

/* eslint-disable @typescript-eslint/no-require-imports */
const analyzerGrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const pb = require("@pulumi/pulumi/proto/analyzer_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

export const LEVELS = ["advisory", "mandatory", "disabled", "remediate"] as const;
export type EngineLevel = (typeof LEVELS)[number];

/** `message` as sent (@pulumi/policy puts the policy's description before the rule's message); `detail` the rule's message alone. */
export interface Diagnostic { policy: string; pack: string; version: string; level: EngineLevel; urn: string; message: string; detail: string; description: string }
export interface PolicyInfo { name: string; level: EngineLevel; description: string; config: string[] }

export interface RunningPack {
    info(): Promise<{ name: string; version: string; policies: PolicyInfo[] }>;
    /** Send a `--policy-pack-config` file's content; like the CLI, a policy without a level keeps its declared one. */
    configure(config: Record<string, EngineLevel | ({ enforcementLevel?: EngineLevel } & Record<string, unknown>)>): Promise<void>;
    /** What the engine does over a whole preview: Analyze each resource, then AnalyzeStack once. */
    analyzeAll(resources: StackResource[]): Promise<Diagnostic[]>;
    stop(): void;
    output(): string;
}

function call<T>(client: Record<string, (...a: unknown[]) => unknown>, method: string, req: unknown): Promise<T> {
    return new Promise((resolve, reject) => client[method]!(req, (err: Error | null, resp: T) => (err ? reject(err) : resolve(resp))));
}

function toProto(r: StackResource, withDeps: boolean) {
    const x = withDeps ? new pb.AnalyzerResource() : new pb.AnalyzeRequest();
    x.setType(r.type);
    x.setUrn(r.urn);
    x.setName(r.name);
    x.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(r.props))));
    const o = new pb.AnalyzerResourceOptions();
    o.setProtect(r.options.protect ?? false);
    x.setOptions(o);
    if (withDeps) x.setDependenciesList(r.dependencies);
    return x;
}

function diagnostics(resp: { getDiagnosticsList(): { [k: string]: () => unknown }[] }): Diagnostic[] {
    return resp.getDiagnosticsList().map(d => {
        const message = d.getMessage!() as string;
        const description = d.getDescription!() as string;
        return {
            policy: d.getPolicyname!() as string, pack: d.getPolicypackname!() as string, version: d.getPolicypackversion!() as string,
            level: LEVELS[d.getEnforcementlevel!() as number]!, urn: d.getUrn!() as string, message, description,
            detail: message.startsWith(`${description}\n`) ? message.slice(description.length + 1) : message,
        };
    });
}

/** Start the pack in `packDir` as the CLI would; resolves once it printed its port. */
export async function startPack(packDir: string, timeoutMs = 120_000): Promise<RunningPack> {
    const script = execFileSync(process.execPath, ["-e", "console.log(require.resolve('@pulumi/pulumi/cmd/run-policy-pack'))"],
        { cwd: packDir, encoding: "utf8" }).trim();
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TS_NODE_") && k !== "NODE_OPTIONS"));
    const child: ChildProcess = spawn(process.execPath, [script, "127.0.0.1:1", "."], { cwd: packDir, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stderr!.on("data", d => { out += d; });
    const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => { child.kill(); reject(new Error(`the pack printed no port within ${timeoutMs} ms:\n${out}`)); }, timeoutMs);
        child.stdout!.on("data", d => {
            out += d;
            const m = /^(\d+)\s*$/m.exec(out);
            if (m) { clearTimeout(timer); resolve(Number(m[1])); }
        });
        child.on("exit", code => { clearTimeout(timer); reject(new Error(`the pack exited (${code}) before serving:\n${out}`)); });
    });
    const client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const pack: RunningPack = {
        async info() {
            const i = await call<{ [k: string]: () => unknown }>(client, "getAnalyzerInfo", new Empty());
            const policies = (i.getPoliciesList!() as { [k: string]: () => unknown }[]).map(p => ({
                name: p.getName!() as string, level: LEVELS[p.getEnforcementlevel!() as number]!, description: p.getDescription!() as string,
                config: Object.keys(((p.getConfigschema!() as { getProperties(): Struct } | undefined)?.getProperties()?.toJavaScript()) ?? {}).sort(),
            }));
            return { name: i.getName!() as string, version: i.getVersion!() as string, policies };
        },
        async configure(config) {
            const declared = new Map<string, EngineLevel>((await pack.info()).policies.map(p => [p.name, p.level]));
            const req = new pb.ConfigureAnalyzerRequest();
            const map = req.getPolicyconfigMap();
            for (const [name, entry] of Object.entries(config)) {
                const { enforcementLevel, ...props }: { enforcementLevel?: EngineLevel } & Record<string, unknown> =
                    typeof entry === "string" ? { enforcementLevel: entry } : entry;
                const c = new pb.PolicyConfig();
                c.setEnforcementlevel(LEVELS.indexOf(enforcementLevel ?? declared.get(name) ?? "advisory"));
                c.setProperties(Struct.fromJavaScript(props as Record<string, never>));
                map.set(name, c);
            }
            await call(client, "configure", req);
        },
        async analyzeAll(resources) {
            const out: Diagnostic[] = [];
            // A resource's diagnostics carry no URN: the engine knows which resource it asked about.
            for (const r of resources) out.push(...diagnostics(await call(client, "analyze", toProto(r, false))).map(d => ({ ...d, urn: d.urn || r.urn })));
            const req = new pb.AnalyzeStackRequest();
            req.setResourcesList(resources.map(r => toProto(r, true)));
            out.push(...diagnostics(await call(client, "analyzeStack", req)));
            return out;
        },
        stop() { client.close(); child.kill(); },
        output: () => out,
    };
    return pack;
}

/**
 * Diagnostics printed the way `pulumi preview` lists policy violations (pkg/backend/display:
 * `[level]  pack vversion  policy (name: type)`, then the description, then the message). This is
 * our renderer, not the CLI's output: the README sample says so.
 */
export function render(ds: Diagnostic[], resources: StackResource[]): string {
    const byUrn = new Map(resources.map(r => [r.urn, r]));
    const lines = ["Policy Violations:"];
    for (const d of ds) {
        const r = byUrn.get(d.urn);
        lines.push(`    [${d.level}]  ${d.pack} v${d.version}  ${d.policy} (${r ? `${r.name}: ${r.type}` : d.urn})`);
        lines.push(...d.message.split("\n").map(l => `    ${l}`));
    }
    return lines.join("\n");
}
