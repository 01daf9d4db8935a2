// Runs this project's stack program the way `pulumi preview` / `pulumi up` does, without the CLI:
// node on @pulumi/pulumi's own run entry (cmd/run), with the arguments and environment the Node.js
// language host gives it, talking gRPC to a minimal engine and resource monitor served here.
//
// What the host does (pulumi/pulumi sdk/nodejs/cmd/pulumi-language-nodejs/main.go: Run, execNodejs,
// constructArguments, constructConfig):
//   node <require.resolve("@pulumi/pulumi/cmd/run") from the program directory>
//     --monitor <addr> --engine <addr> [--sync <dir>] --organization <o> --project <p> --stack <s>
//     --pwd <ProgramDirectory> [--dry-run] --query-mode false --parallel <n> <EntryPoint>
//   env: PULUMI_CONFIG = JSON of config with keys as "<namespace>:config:<name>",
//        PULUMI_CONFIG_SECRET_KEYS = JSON array, PULUMI_NODEJS_TYPESCRIPT=true when Pulumi.yaml's
//        runtime option typescript is true (PULUMI_NODEJS_TSCONFIG_PATH when tsconfig is set).
// ProgramDirectory and EntryPoint come from Pulumi.yaml's `main` (see ./entry.ts). `--sync` (the
// host's synchronous-invoke pipes) is optional for the run entry and left out.
//
// The engine's Log RPC is how the program's errors and warnings reach the user, so every Log call
// is recorded. The monitor answers every registration with a URN and no outputs, as a preview does
// for resources it has not created.
import { spawn } from "child_process";
import * as path from "path";
import { resolveProgram } from "./entry";

const ROOT = path.resolve(__dirname, "../..");
// The gRPC library and generated protos @pulumi/pulumi itself uses (its dependencies, not ours).
const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [ROOT] }));
const fromPulumi = (m: string) => require(require.resolve(m, { paths: [pulumiDir] }));
/* eslint-disable @typescript-eslint/no-explicit-any */
const grpc: typeof import("@grpc/grpc-js") = fromPulumi("@grpc/grpc-js");
const resrpc: any = fromPulumi("@pulumi/pulumi/proto/resource_grpc_pb");
const resproto: any = fromPulumi("@pulumi/pulumi/proto/resource_pb");
const engrpc: any = fromPulumi("@pulumi/pulumi/proto/engine_grpc_pb");
const engproto: any = fromPulumi("@pulumi/pulumi/proto/engine_pb");
const emptyproto: any = fromPulumi("google-protobuf/google/protobuf/empty_pb");
const structproto: any = fromPulumi("google-protobuf/google/protobuf/struct_pb");

export interface LogEntry { severity: "debug" | "info" | "warning" | "error"; message: string; urn: string }
export interface Registration { type: string; name: string; parent: string; custom: boolean; urn: string }

export interface ProgramRun {
    /** The process's exit code (32: it already told the user, the host adds nothing). */
    code: number | null;
    stdout: string;
    stderr: string;
    /** Every Log RPC, in order. */
    logs: LogEntry[];
    registrations: Registration[];
    /** RegisterResourceOutputs of the Stack resource: the stack outputs as the engine gets them. */
    stackOutputs?: Record<string, unknown>;
    /** The command line, for failure messages. */
    argv: string[];
}

export interface RunOptions {
    stack: string;
    /** Config as `slipway:key` -> string (objects as JSON), e.g. from cli/stack-config's loadStackConfig. */
    config: Record<string, string>;
    secretKeys?: string[];
    dryRun?: boolean;
    /** Override Pulumi.yaml's main (null: as if it had none). */
    main?: string | null;
    timeoutMs?: number;
}

const SEVERITY: Record<number, LogEntry["severity"]> = {
    [engproto.LogSeverity.DEBUG]: "debug",
    [engproto.LogSeverity.INFO]: "info",
    [engproto.LogSeverity.WARNING]: "warning",
    [engproto.LogSeverity.ERROR]: "error",
};

/** Serve a fake engine + monitor, run the program once through @pulumi/pulumi's run entry, stop. */
export async function runProgram(opts: RunOptions): Promise<ProgramRun> {
    const project = "slipway";
    const logs: LogEntry[] = [];
    const registrations: Registration[] = [];
    let stackOutputs: Record<string, unknown> | undefined;
    let rootUrn = "";
    const urnOf = new Map<string, string>();

    const server = new grpc.Server();
    const unary = (fn: (req: any) => any) => (call: any, cb: any) => {
        try { cb(null, fn(call.request)); } catch (e) { cb(e, null); }
    };
    server.addService(resrpc.ResourceMonitorService, {
        supportsFeature: unary(() => new resproto.SupportsFeatureResponse().setHassupport(false)),
        registerResource: unary((req: any) => {
            const type: string = req.getType();
            const name: string = req.getName();
            const parent: string = req.getParent();
            const parentType = parent ? parent.split("::")[2] ?? "" : "";
            const qualified = parent && !parentType.startsWith("pulumi:pulumi:Stack") ? `${parentType}$${type}` : type;
            const urn = `urn:pulumi:${opts.stack}::${project}::${qualified}::${name}`;
            urnOf.set(`${type}::${name}`, urn);
            registrations.push({ type, name, parent, custom: req.getCustom(), urn });
            return new resproto.RegisterResourceResponse().setUrn(urn).setId("").setObject(new structproto.Struct());
        }),
        registerResourceOutputs: unary((req: any) => {
            if (req.getUrn() === rootUrn || /::pulumi:pulumi:Stack::/.test(req.getUrn())) {
                stackOutputs = req.getOutputs()?.toJavaScript() ?? {};
            }
            return new emptyproto.Empty();
        }),
        readResource: unary((req: any) => new resproto.ReadResourceResponse()
            .setUrn(`urn:pulumi:${opts.stack}::${project}::${req.getType()}::${req.getName()}`).setProperties(new structproto.Struct())),
        invoke: unary(() => new resproto.InvokeResponse().setReturn(new structproto.Struct())),
        signalAndWaitForShutdown: unary(() => new emptyproto.Empty()),
    });
    server.addService(engrpc.EngineService, {
        log: unary((req: any) => {
            logs.push({ severity: SEVERITY[req.getSeverity()] ?? "info", message: req.getMessage(), urn: req.getUrn() });
            return new emptyproto.Empty();
        }),
        getRootResource: unary(() => new engproto.GetRootResourceResponse().setUrn(rootUrn)),
        setRootResource: unary((req: any) => { rootUrn = req.getUrn(); return new engproto.SetRootResourceResponse(); }),
    });
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    const address = `127.0.0.1:${port}`;

    try {
        const entry = resolveProgram(ROOT, opts.main === undefined ? {} : { main: opts.main });
        const runPath = require.resolve("@pulumi/pulumi/cmd/run", { paths: [entry.pwd] });
        const argv = [runPath,
            "--monitor", address, "--engine", address,
            "--organization", "organization", "--project", project, "--stack", opts.stack,
            "--pwd", entry.pwd,
            ...(opts.dryRun === false ? [] : ["--dry-run"]),
            "--query-mode", "false", "--parallel", "16",
            entry.entryPoint];
        // The host's config: keys become "<namespace>:config:<name>".
        const config = Object.fromEntries(Object.entries(opts.config).map(([k, v]) => {
            const i = k.indexOf(":");
            return [`${k.slice(0, i)}:config:${k.slice(i + 1)}`, v];
        }));
        // The environment a shell running `pulumi up` would have: nothing of this test runner's own
        // (mocha's TS_NODE_* settings, synth's SLIPWAY_SYNTH) leaks into the program.
        const env: NodeJS.ProcessEnv = {};
        for (const [k, v] of Object.entries(process.env)) {
            if (!/^(TS_NODE_|SLIPWAY_SYNTH$|PULUMI_)/.test(k)) env[k] = v;
        }
        Object.assign(env, {
            PULUMI_CONFIG: JSON.stringify(config),
            PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(opts.secretKeys ?? []),
            PULUMI_NODEJS_TYPESCRIPT: "true",
        });

        const child = spawn(process.execPath, argv, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", d => { stdout += d; });
        child.stderr.on("data", d => { stderr += d; });
        const timeout = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 240_000);
        const code = await new Promise<number | null>(resolve => child.on("close", c => resolve(c)));
        clearTimeout(timeout);
        return { code, stdout, stderr, logs, registrations, stackOutputs, argv: [process.execPath, ...argv] };
    } finally {
        await new Promise<void>(resolve => server.tryShutdown(() => resolve()));
    }
}

/** A readable account of a run, for assertion messages. */
export function describeRun(r: ProgramRun): string {
    return [`exit ${r.code}: ${r.argv.join(" ")}`,
        `logs:\n${r.logs.filter(l => l.severity !== "debug").map(l => `  ${l.severity}: ${l.message}`).join("\n")}`,
        `registered: ${r.registrations.length}`,
        `stdout:\n${r.stdout}`, `stderr:\n${r.stderr}`].join("\n");
}
