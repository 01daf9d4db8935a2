// Slipway uses @pulumi/pulumi through its declared (public) API only: a cast that turns an Output
// into something else to reach a member its .d.ts does not declare (e.g. the internal `isKnown`)
// compiles today and breaks silently on an SDK upgrade. The type checker finds every such cast.
import { strict as assert } from "assert";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "../..");
const PRODUCT = /^(components|cli|stack|policy)\//;

/** `x as T` (or `<T>x`) where x is a Pulumi Output and T is not: file:line and the cast text. */
function outputCasts(): string[] {
    const cfg = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: d => { throw new Error(String(d.messageText)); } })!;
    const files = cfg.fileNames.filter(f => PRODUCT.test(path.relative(ROOT, f)) && !f.includes("/components/testing/"));
    const program = ts.createProgram(files, cfg.options);
    const checker = program.getTypeChecker();
    const isOutput = (t: ts.Type): boolean => {
        const name = (t.aliasSymbol ?? t.getSymbol())?.getName();
        if (name === "Output" || name === "OutputInstance") return true;
        // Output<T> is OutputInstance<T> & Lifted<T>; an Input<T> union that merely may be one is not flagged.
        if (t.isIntersection()) return t.types.some(isOutput);
        return t.isUnion() && t.types.every(isOutput);
    };
    const found: string[] = [];
    for (const sf of program.getSourceFiles()) {
        if (!files.includes(sf.fileName)) continue;
        const visit = (n: ts.Node) => {
            if (ts.isAsExpression(n) || ts.isTypeAssertionExpression(n)) {
                let inner: ts.Expression = n.expression;
                while (ts.isParenthesizedExpression(inner) || ts.isAsExpression(inner)) inner = inner.expression;
                if (isOutput(checker.getTypeAtLocation(inner)) && !isOutput(checker.getTypeAtLocation(n))) {
                    const { line } = sf.getLineAndCharacterOfPosition(n.getStart());
                    found.push(`${path.relative(ROOT, sf.fileName)}:${line + 1}: ${n.getText().replace(/\s+/g, " ")}`);
                }
            }
            ts.forEachChild(n, visit);
        };
        visit(sf);
    }
    return found;
}

describe("public @pulumi/pulumi API only", function () {
    this.timeout(240_000);
    it("no product file casts an Output to reach an undeclared member", () => {
        assert.deepEqual(outputCasts(), []);
    });
});
