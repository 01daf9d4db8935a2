// ESLint flat config: typescript-eslint's recommended rules, @pulumi/eslint-plugin's rules, and
// the import rules that keep the layout: each target SDK is imported only by the files of its
// target, and normalizers stay pure (no SDK, no fs/path/child_process).
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

// TypeScript the type-aware rules read: what tsconfig.json includes, and the example consumer
// (its own tsconfig). Any other .ts file (say a one-off under scripts/) is linted without types.
const TYPED = ["index.ts", "stack/**/*.ts", "components/**/*.ts", "cli/**/*.ts", "policy/**/*.ts", "test/**/*.ts", "bench/**/*.ts", "examples/*/**/*.ts"];

// The target SDKs, and what a file that imports one where it does not belong is told.
const SDK = {
    digitalocean: {
        regex: "^@pulumi/digitalocean(/.*)?$",
        message: "@pulumi/digitalocean belongs in components/**/do-app.ts, components/**/app-spec*.ts or components/targets/**.",
    },
    docker: {
        regex: "^@pulumi/docker(/.*)?$",
        message: "@pulumi/docker belongs in components/**/docker.ts or components/targets/docker-host.ts.",
    },
    cloudflare: {
        regex: "^@pulumi/cloudflare(/.*)?$",
        message: "@pulumi/cloudflare belongs in components/**/cloudflare*.ts or components/targets/**.",
    },
};
const NODE_IO = {
    regex: "^(node:)?(fs|path|child_process)(/.*)?$",
    message: "normalize.ts is pure: no file system, paths or processes (pass what it needs in as arguments).",
};

/**
 * no-restricted-imports forbidding the given SDKs (type-only imports too). In a flat config the
 * last object matching a file sets the rule's options whole, so each object below lists every
 * SDK still forbidden for its files rather than adding to the one before.
 */
const restrict = (...names) => {
    const patterns = names.map(n => (typeof n === "string" ? SDK[n] : n));
    return patterns.length === 0 ? "off" : ["error", { patterns }];
};
const RULE = "@typescript-eslint/no-restricted-imports"; // also sees `import x = require("...")`

export default tseslint.config(
    {
        ignores: [
            "dist/", "node_modules/", "out/", "scratch/", "examples/**/node_modules/", "examples/**/bin/",
            ".cache/", ".pulumi-state/", "bench/out/", "bench/results/",
        ],
    },
    js.configs.recommended,
    ...tseslint.configs.recommended,

    // @pulumi/eslint-plugin ships rules, not a preset: both are its recommended set. They read
    // types, so they run on the files a tsconfig.json includes.
    {
        files: TYPED,
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
        },
    },

    // House style the code already follows; unused names may be marked with a leading underscore.
    {
        rules: {
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
        },
    },

    // no-explicit-any stays an error (typescript-eslint's recommended level) for the library, the
    // stack program, the CLI and the bench; tests may reach into untyped SDK internals and mocks.
    { files: ["test/**/*.ts", "examples/**/test/**/*.ts"], rules: { "@typescript-eslint/no-explicit-any": "off" } },

    // TODO(issue 8): back to "error" once the runtime require()s (cli/synth.ts, components/testing/recorder.ts,
    // test/integration/harness.test.ts, test/program/fake-engine.ts, examples/consumer/test/stack.test.ts)
    // are imports or carry an eslint-disable comment saying why they load at run time.
    { rules: { "@typescript-eslint/no-require-imports": "warn" } },

    // The package's bin shim is plain CommonJS.
    {
        files: ["bin/**/*.js"],
        languageOptions: {
            sourceType: "commonjs",
            globals: { require: "readonly", module: "writable", process: "readonly", console: "readonly", __dirname: "readonly" },
        },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },

    // Layout: where each target SDK may be imported. Later objects win for the files they match.
    // A consumer stack in examples/ is someone else's program and may use any SDK.
    { ignores: ["examples/**"], rules: { [RULE]: restrict("digitalocean", "docker", "cloudflare") } },
    // The policy pack's hand-written bad stack is someone else's program too.
    { files: ["test/fixtures/policy-bad/**"], rules: { [RULE]: restrict() } },
    { files: ["components/**/do-app.ts", "components/**/app-spec*.ts"], rules: { [RULE]: restrict("docker", "cloudflare") } },
    { files: ["components/**/docker.ts"], rules: { [RULE]: restrict("digitalocean", "cloudflare") } },
    { files: ["components/**/cloudflare*.ts"], rules: { [RULE]: restrict("digitalocean", "docker") } },
    { files: ["components/targets/**"], rules: { [RULE]: restrict("docker") } },
    { files: ["components/targets/docker-host.ts", "components/targets/**/docker.ts"], rules: { [RULE]: restrict() } },
    // Normalizers: no SDK at all (not even `import type`), and no I/O.
    { files: ["components/**/normalize.ts"], rules: { [RULE]: restrict("digitalocean", "docker", "cloudflare", NODE_IO) } },
);
