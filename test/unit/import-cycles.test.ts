// No import cycles between Slipway's own files (type-only imports included: they still tie two
// files' declarations together). A cycle makes load order decide what is undefined at runtime.
// Walks the imports with the TypeScript compiler's own parser and resolver.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "../..");
const DIRS = ["components", "cli", "stack", "policy"];

function sources(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) return e.name === "node_modules" ? [] : sources(p);
        return /\.ts$/.test(e.name) && !e.name.endsWith(".d.ts") ? [p] : [];
    });
}

/** file -> the project files it imports (or re-exports from). */
function importGraph(): Map<string, string[]> {
    const files = [...DIRS.flatMap(d => sources(path.join(ROOT, d))), path.join(ROOT, "index.ts")];
    const options: ts.CompilerOptions = { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 };
    const graph = new Map<string, string[]>();
    for (const f of files) {
        const info = ts.preProcessFile(fs.readFileSync(f, "utf8"), true, true);
        const deps = info.importedFiles.map(i => ts.resolveModuleName(i.fileName, f, options, ts.sys).resolvedModule?.resolvedFileName)
            .filter((r): r is string => !!r && r.startsWith(ROOT) && !r.includes("/node_modules/"));
        graph.set(f, [...new Set(deps)]);
    }
    return graph;
}

/** Every strongly connected group of more than one file (or a file importing itself), as relative paths. */
function cycles(graph: Map<string, string[]>): string[][] {
    let index = 0;
    const idx = new Map<string, number>(), low = new Map<string, number>(), on = new Set<string>(), stack: string[] = [];
    const out: string[][] = [];
    const visit = (v: string) => {
        idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
        for (const w of graph.get(v) ?? []) {
            if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
            else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
        }
        if (low.get(v) === idx.get(v)) {
            const group: string[] = [];
            let w: string;
            do { w = stack.pop()!; on.delete(w); group.push(w); } while (w !== v);
            if (group.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(group.map(g => path.relative(ROOT, g)).sort());
        }
    };
    for (const v of graph.keys()) if (!idx.has(v)) visit(v);
    return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

describe("import graph", () => {
    it("has no cycles between project files (each component's Args live in args.ts, not index.ts)", () => {
        assert.deepEqual(cycles(importGraph()), []);
    });

    it("the walker sees a cycle when there is one", () => {
        assert.deepEqual(cycles(new Map([["/r/a.ts", ["/r/b.ts"]], ["/r/b.ts", ["/r/a.ts"]], ["/r/c.ts", ["/r/a.ts"]]])).length, 1);
    });
});
