// Recorded inputs of Cloudflare resources against the types of the installed @pulumi/cloudflare
// (its `<Resource>Args` and `types.input.*` declarations, read with the TypeScript compiler): every
// key must be a property the provider declares at that depth, and every required one present. The
// Pulumi CLI and the provider plugin cannot run here; these declarations are generated from the
// provider's schema, so they are the schema's shape as close as this machine has it.
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "../..");
let checker: ts.TypeChecker | undefined;
let types: Map<string, ts.Type> | undefined;

/** The type of `cloudflare.<name>` (e.g. `DnsRecordArgs`), from a throwaway source file. */
function argsType(name: string): ts.Type {
    if (!types) {
        const file = path.join(ROOT, "test", "helpers", "__cloudflare_schema_probe.ts");
        const names = ["DnsRecordArgs", "ZoneSettingArgs", "RulesetArgs", "AuthenticatedOriginPullsSettingsArgs"];
        const text = `import * as cf from "@pulumi/cloudflare";\n${names.map(n => `export type P_${n} = cf.${n};`).join("\n")}\n`;
        const host = ts.createCompilerHost({ strict: true, esModuleInterop: true });
        const read = host.readFile.bind(host);
        host.readFile = f => (path.resolve(f) === file ? text : read(f));
        const exists = host.fileExists.bind(host);
        host.fileExists = f => path.resolve(f) === file || exists(f);
        const program = ts.createProgram([file], { strict: true, esModuleInterop: true, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, types: [] }, host);
        checker = program.getTypeChecker();
        const src = program.getSourceFile(file)!;
        types = new Map();
        for (const st of src.statements) {
            if (ts.isTypeAliasDeclaration(st)) types.set(st.name.text.slice(2), checker.getTypeAtLocation(st.name));
        }
    }
    const t = types.get(name);
    if (!t) throw new Error(`cloudflare-schema: no type ${name}`);
    return t;
}

/** `Input<T>` and `T | undefined` down to the object (or array) type a value of that key must have. */
function objectPart(t: ts.Type): ts.Type | undefined {
    const parts = t.isUnion() ? t.types : [t];
    for (const p of parts) {
        const name = p.getSymbol()?.getName() ?? p.aliasSymbol?.getName();
        if (name === "Promise" || name === "OutputInstance" || name === "Output") continue;
        if (p.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BooleanLike)) continue;
        if (checker!.isArrayType(p)) return p;
        if (p.flags & ts.TypeFlags.Object) return p;
    }
    return undefined;
}

/** Problems of `value` against `t`, with their paths; empty when the value fits. */
function check(value: unknown, t: ts.Type, at: string, out: string[]): void {
    if (value === null || value === undefined || typeof value !== "object") return;
    const obj = objectPart(t);
    if (!obj) { out.push(`${at}: the provider declares no object here`); return; }
    if (Array.isArray(value)) {
        if (!checker!.isArrayType(obj)) { out.push(`${at}: the provider declares no list here`); return; }
        const el = checker!.getTypeArguments(obj as ts.TypeReference)[0]!;
        value.forEach((v, i) => check(v, el, `${at}[${i}]`, out));
        return;
    }
    // An index signature (`{ [key: string]: ... }`) or `any` takes any key.
    if (checker!.getIndexInfosOfType(obj).length || obj.flags & ts.TypeFlags.Any) return;
    const props = new Map(checker!.getPropertiesOfType(obj).map(p => [p.getName(), p]));
    for (const [k, v] of Object.entries(value)) {
        const p = props.get(k);
        if (!p) { out.push(`${at}.${k}: not a property the provider declares (${[...props.keys()].join(", ")})`); continue; }
        const pt = checker!.getTypeOfSymbol(p);
        if (pt.flags & ts.TypeFlags.Any) continue;
        check(v, pt, `${at}.${k}`, out);
    }
    for (const [k, p] of props) {
        if (!(p.flags & ts.SymbolFlags.Optional) && !(k in (value as object))) out.push(`${at}.${k}: required by the provider, missing`);
    }
}

/** Where recorded inputs stray from `cloudflare.<argsType>`; empty when they fit. */
export function cloudflareShapeProblems(args: "DnsRecordArgs" | "ZoneSettingArgs" | "RulesetArgs" | "AuthenticatedOriginPullsSettingsArgs", inputs: Record<string, unknown>): string[] {
    const out: string[] = [];
    check(inputs, argsType(args), args, out);
    return out;
}
