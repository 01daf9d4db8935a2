// Which file `pulumi up` runs as this project's program, worked out step by step the way the real
// pieces do it, so a test can assert on it without the Pulumi CLI:
//
// 1. The engine (pulumi/pulumi pkg/engine/project.go, getPwdMain): no `main` in Pulumi.yaml gives
//    pwd = the project root and entry point "."; a `main` naming a folder gives pwd = that folder and
//    ".", and a `main` naming a file gives pwd = its folder and entry point = its file name.
// 2. The Node.js language host (sdk/nodejs/cmd/pulumi-language-nodejs/main.go, constructArguments)
//    passes these on unchanged: `--pwd <ProgramDirectory> ... <EntryPoint>`.
// 3. @pulumi/pulumi's run entry (sdk/nodejs/cmd/run/run.ts, run()): chdir(pwd), program = pwd/entry.
//    Only when the entry point is "." does it look at the nearest package.json: `exports` (a string,
//    or `exports["."]` as a string or its default/require/import), else `main`; each only if that
//    file exists (resolveEntrypoint), otherwise it warns "Could not find entry point ..." and keeps
//    the folder. It then `require()`s the program: a folder goes through Node's own folder lookup
//    (package.json `main`, DEP0128 when that file is missing, then index.js, then index.ts once
//    ts-node is registered).
// The same reading is cited in Pulumi.yaml; @pulumi/pulumi 3.248's cmd/run/run.js is the copy in
// node_modules that test/program/ runs for real.
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";

export interface ResolvedEntry {
    /** `--pwd` the host passes (the engine's ProgramDirectory). */
    pwd: string;
    /** The program argument the host passes (the engine's EntryPoint): "." or a file name. */
    entryPoint: string;
    /** The path run.ts hands to require()/import(). */
    program: string;
    /** The file Node finally loads. */
    file: string;
    /** What run.ts (`Could not find entry point`) or Node (DEP0128) would warn on the way. */
    warnings: string[];
}

export interface ResolveOptions {
    /** Take Pulumi.yaml's `main` as this instead of reading it (undefined: read it; null: no main). */
    main?: string | null;
}

const isFile = (p: string) => fs.existsSync(p) && fs.statSync(p).isFile();
const isDir = (p: string) => fs.existsSync(p) && fs.statSync(p).isDirectory();

/** The engine's getPwdMain(root, main). */
export function pwdAndEntryPoint(root: string, main: string | undefined): { pwd: string; entryPoint: string } {
    if (!main) return { pwd: root, entryPoint: "." };
    const abs = path.resolve(root, main);
    if (!fs.existsSync(abs)) throw new Error(`project 'main' could not be read: ${abs}`);
    return isDir(abs) ? { pwd: abs, entryPoint: "." } : { pwd: path.dirname(abs), entryPoint: path.basename(abs) };
}

/** run.ts's npmPackageRootFromProgramPath: the folder of the nearest package.json at or above. */
function packageRoot(program: string): string {
    let dir = isDir(program) ? program : path.dirname(program);
    for (;;) {
        if (fs.existsSync(path.join(dir, "package.json"))) return dir;
        const up = path.dirname(dir);
        if (up === dir) return isDir(program) ? program : path.dirname(program);
        dir = up;
    }
}

/** Node's require() of an absolute path, with ts-node's `.ts` registered after the built-in extensions. */
function nodeRequireResolve(p: string, warnings: string[]): string {
    const exts = [".js", ".json", ".node", ".ts"];
    if (isFile(p)) return p;
    for (const e of exts) if (isFile(p + e)) return p + e;
    if (isDir(p)) {
        const pkgFile = path.join(p, "package.json");
        if (fs.existsSync(pkgFile)) {
            const main = JSON.parse(fs.readFileSync(pkgFile, "utf8")).main as string | undefined;
            if (main) {
                const m = path.resolve(p, main);
                for (const c of [m, ...exts.map(e => m + e), ...exts.map(e => path.join(m, "index" + e))]) {
                    if (isFile(c)) return c;
                }
                warnings.push(`DEP0128: Invalid 'main' field in '${pkgFile}' of '${main}'`);
            }
        }
        for (const e of exts) if (isFile(path.join(p, "index" + e))) return path.join(p, "index" + e);
    }
    throw new Error(`Cannot find module '${p}'`);
}

/** The program `pulumi up` would run for the project in `root`, as things stand on disk now. */
export function resolveProgram(root: string, opts: ResolveOptions = {}): ResolvedEntry {
    const project = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { main?: unknown };
    const main = opts.main === undefined ? (typeof project.main === "string" ? project.main : undefined) : opts.main ?? undefined;
    const { pwd, entryPoint } = pwdAndEntryPoint(root, main);
    const warnings: string[] = [];

    let program = path.isAbsolute(entryPoint) ? entryPoint : path.join(pwd, entryPoint);
    if (entryPoint === ".") {
        const pkgRoot = packageRoot(program);
        const pkgFile = path.join(pkgRoot, "package.json");
        const pkg = fs.existsSync(pkgFile) ? JSON.parse(fs.readFileSync(pkgFile, "utf8")) : {};
        const take = (e: unknown) => {
            if (typeof e !== "string") return;
            if (fs.existsSync(path.join(pkgRoot, e))) program = path.join(pkgRoot, e);
            else warnings.push(`Could not find entry point '${e}' specified in package.json; using '${program}' instead`);
        };
        if (typeof pkg.exports === "string") take(pkg.exports);
        else if (pkg.exports && typeof pkg.exports === "object") {
            const dot = pkg.exports["."];
            if (typeof dot === "string") take(dot);
            else if (dot && typeof dot === "object") take(dot.default || dot.require || dot.import);
        } else if (pkg.main) take(pkg.main);
    }
    return { pwd, entryPoint, program, file: nodeRequireResolve(program, warnings), warnings };
}
