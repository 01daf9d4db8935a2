#!/usr/bin/env node
"use strict";
// Shim for the package `bin`: the CLI is TypeScript compiled to dist/ by `npm run build`.
const { main } = require("../dist/cli/slipway.js");
main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err) => { console.error(err); process.exitCode = 1; },
);
