#!/usr/bin/env node
"use strict";
// The package `bin`. The CLI is TypeScript: in the published package (and after `npm run build`)
// it runs compiled from dist/cli/slipway.js; in a clone that has not been built (no dist/), the
// sources run through ts-node, a devDependency, so `node bin/slipway.js` works after `npm install`.
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const built = path.join(root, "dist", "cli", "slipway.js");

function load() {
    if (fs.existsSync(built)) return require(built);
    let tsNode;
    try {
        tsNode = require("ts-node");
    } catch {
        throw new Error("slipway: dist/ is not built and ts-node is not installed; run `npm install` (and `npm run build` for the compiled CLI)");
    }
    tsNode.register({ transpileOnly: true, project: path.join(root, "tsconfig.json") });
    return require(path.join(root, "cli", "slipway.ts"));
}

let cli;
try {
    cli = load();
} catch (err) {
    console.error(err instanceof Error && err.message.startsWith("slipway:") ? err.message : err);
    process.exitCode = 1;
}
if (cli) {
    cli.main(process.argv.slice(2)).then(
        (code) => { process.exitCode = code; },
        (err) => { console.error(err); process.exitCode = 1; },
    );
}
