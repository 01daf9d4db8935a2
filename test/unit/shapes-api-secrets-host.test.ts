// Strict Args for ApiService, SecretsSync and DockerHost (issue 9): each component's shape is
// checked first in normalize (unknown keys at every depth with a did-you-mean, types before
// meaning, YAML 1.1 booleans, never a TypeError), and its JSON Schema agrees with the
// constructor key by key. Every bad input asserts component, exact path, problem, fix and that
// nothing registered (expectConfigError).
import { clone, getAt, setAt } from "../helpers/shape-paths";
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import Ajv2020 from "ajv/dist/2020";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { API_SERVICE_SHAPE } from "../../components/api-service/normalize";
import { Shape, toJsonSchema } from "../../components/core/shape";
import type { Target } from "../../components/core/target";
import { SECRETS_SYNC_SHAPE } from "../../components/secrets-sync/normalize";
import { DOCKER_HOST_SHAPE } from "../../components/targets/docker-host";
import { Recorder } from "../../components/testing/recorder";
import { expectConfigError } from "../helpers/config-error";
import { dockerTarget, doTarget, freshRecorder } from "../helpers/harness";

type On = "docker" | "do-app";
const BOTH: On[] = ["docker", "do-app"];
const ROOT = path.resolve(__dirname, "../..");
const ACCOUNT = "0123456789abcdef0123456789abcdef";

type Block = Record<string, unknown>;


interface PathOf {
    /** Where, in a given block: `env.GO_ENV`, `healthcheck.command[0]`. */
    path: string;
    /** The same with record keys as `*`, to compare with the shape's own paths. */
    pattern: string;
    /** The object holding it, when it is an object's key (a sibling can be added there). */
    parent?: string;
    key?: string;
    shape: Shape;
}

/**
 * Every property path of `s`, walked together with `value`: an object's every key (set in
 * `value` or not), a record's keys as `value` has them, a list's first item when there is one.
 * Without `value`, the shape's own paths (records as `*`, lists as `[0]`).
 */
function pathsOf(s: Shape, value: unknown, at = "", pattern = ""): PathOf[] {
    const join = (a: string, k: string) => (a ? `${a}.${k}` : k);
    switch (s.kind) {
        case "object":
            return Object.entries(s.props).flatMap(([k, sub]) => {
                const p = join(at, k);
                const here = { path: p, pattern: join(pattern, k), parent: at, key: k, shape: sub };
                const v = (value as Record<string, unknown> | undefined)?.[k];
                return [here, ...(value === NONE || v !== undefined ? pathsOf(sub, value === NONE ? NONE : v, p, here.pattern) : [])];
            });
        case "record": {
            const keys = value === NONE ? ["*"] : Object.keys(value as Block);
            return keys.flatMap(k => {
                const p = join(at, k);
                const v = value === NONE ? NONE : (value as Block)[k];
                return [{ path: p, pattern: join(pattern, "*"), shape: s.values }, ...pathsOf(s.values, v, p, join(pattern, "*"))];
            });
        }
        case "list": {
            if (value !== NONE && (value as unknown[]).length === 0) return [];
            const v = value === NONE ? NONE : (value as unknown[])[0];
            return [{ path: `${at}[0]`, pattern: `${pattern}[0]`, shape: s.items }, ...pathsOf(s.items, v, `${at}[0]`, `${pattern}[0]`)];
        }
        case "oneOf": return s.options.flatMap(o => pathsOf(o, value, at, pattern));
        default: return [];
    }
}
const NONE = Symbol("the shape alone");

/** A value of the wrong type for `s`, as a YAML author might write one. */
function wrongTyped(s: Shape): unknown {
    switch (s.kind) {
        case "string": case "input": return 15;
        case "number": return "many";
        case "boolean": return "yes";
        case "list": case "object": case "record": return "x";
        case "oneOf": return 15;
        case "program": return undefined;
    }
}

const validators = new Map<Shape, ReturnType<Ajv2020["compile"]>>();
/** ajv's verdict on a block against toJsonSchema(shape); the errors, or undefined when valid. */
function schemaErrors(s: Shape, block: unknown): string | undefined {
    let v = validators.get(s);
    if (!v) {
        v = new Ajv2020({ allErrors: true, strict: false }).compile(toJsonSchema(s)!);
        validators.set(s, v);
    }
    return v(block) ? undefined : JSON.stringify(v.errors);
}

/** An ApiService block that sets every typed key, valid in shape (not in meaning: it has image and build). */
const API_ALL: Block = {
    image: "ghcr.io/acme/api:1.4.2",
    build: { context: path.join(ROOT, "images/api"), dockerfile: "Dockerfile", args: { BUILD_VERSION: "1.4.2" }, platform: "linux/amd64" },
    replicas: 2,
    port: 8080,
    healthPath: "/health",
    readyPath: "/ready",
    healthcheck: { command: ["CMD", "/app/healthcheck"], intervalSeconds: 5, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 10 },
    waitForHealthy: true,
    restart: "always",
    memory: "512m",
    cpus: 0.5,
    instanceSize: "apps-s-1vcpu-1gb",
    user: "10001:10001",
    allowRoot: false,
    readOnlyRootFilesystem: true,
    stopSignal: "SIGTERM",
    stopGracePeriodSeconds: 30,
    logs: { maxSize: "10m", maxFiles: 3 },
    env: { GO_ENV: "production" },
    release: "3f9a2c1",
    secretDelivery: "env",
    migrate: { command: ["/usr/local/bin/api", "migrate"], timeoutSeconds: 300, backupFirst: false },
    volumes: [{ name: "uploads", path: "/var/lib/app/uploads", readOnly: false }],
    transform: {},
};
/** What each target accepts in meaning too: docker with an image, docker with a build, do-app. */
const without = (b: Block, ...keys: string[]) => Object.fromEntries(Object.entries(b).filter(([k]) => !keys.includes(k)));
const API_VALID: { on: On; block: Block }[] = [
    { on: "docker", block: without(API_ALL, "build") },
    { on: "docker", block: without(API_ALL, "image") },
    { on: "do-app", block: without(API_ALL, "build", "user", "allowRoot", "readOnlyRootFilesystem", "volumes") },
];

const SECRETS_ALL: Block = {
    secrets: {
        API_TOKEN: { value: "t0ken-for-tests" },
        SESSION_SECRET: { generate: { length: 48, special: false, rotationDays: 30 } },
    },
    pages: [{ accountId: ACCOUNT, projectName: "web", keys: ["API_TOKEN"], environment: "preview", productionBranch: "main" }],
    transform: {},
};

const HOST_ALL: Block = {
    host: "ssh://deploy@dev.example.com",
    environment: "dev",
    production: false,
    namePrefix: "slipway-dev",
    publishAddress: "127.0.0.1",
    registries: [{ host: "ghcr.io", username: "acme-ci", token: "dev-only-token" }],
    hostMonthlyCost: 24,
    ssh: {
        port: 2222, identityFile: "~/.ssh/deploy_ed25519", knownHostsFile: "~/.ssh/known_hosts", strictHostKeyChecking: true,
        configFile: "/home/ci/.ssh/config", connectTimeoutSeconds: 10, preflight: true,
    },
    transform: {},
};

describe("ApiService, SecretsSync and DockerHost: strict Args (issue 9)", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    const targetFor = async (on: On): Promise<Target> => (on === "docker" ? dockerTarget() : doTarget());

    /** Each component with its usual valid base and `args` over it, or (whole) `args` alone. */
    const build = {
        api: async (target: Target, args: Block, whole = false) => {
            const { ApiService } = await import("../../components/api-service");
            return () => new ApiService("api", { target, ...(whole ? {} : { image: "ghcr.io/acme/api:1.4.2" }), ...args } as never);
        },
        secrets: async (target: Target, args: Block, whole = false) => {
            const { SecretsSync } = await import("../../components/secrets-sync");
            return () => new SecretsSync("secrets", { target, ...(whole ? {} : { secrets: { API_TOKEN: { value: pulumi.secret("t0ken") } } }), ...args } as never);
        },
        host: async (_target: Target, args: Block, whole = false) => {
            const { DockerHost } = await import("../../components/targets/docker-host");
            return () => new DockerHost("host", { ...(whole ? {} : { environment: "dev" }), ...args } as never);
        },
    };
    const LABEL = { api: 'ApiService "api"', secrets: 'SecretsSync "secrets"', host: 'DockerHost "host"' };
    type Which = keyof typeof build;

    async function rejects(which: Which, target: Target, args: Block, at: string, problem: RegExp, fix: RegExp) {
        const make = await build[which](target, args);
        return expectConfigError(rec, make, { component: LABEL[which], path: at, problem, fix });
    }

    interface Case { which: Which; name: string; args: Block; path: string; problem: RegExp; fix: RegExp; on?: On[] }
    const cases: Case[] = [
        // ApiService: keys
        { which: "api", name: "replica: 3", args: { replica: 3 },
            path: "replica", problem: /is not a known setting/, fix: /did you mean "replicas"\?/ },
        { which: "api", name: "Replicas with a capital", args: { Replicas: 2 },
            path: "Replicas", problem: /is not a known setting/, fix: /did you mean "replicas"\?/ },
        { which: "api", name: "prot: 3000", args: { prot: 3000 },
            path: "prot", problem: /is not a known setting/, fix: /did you mean "port"\?/ },
        { which: "api", name: "healthcheck: { path: ... } (a path belongs in healthPath/readyPath)", args: { healthcheck: { path: "/health" } },
            path: "healthcheck.path", problem: /is not a known setting/, fix: /remove it; the known settings are command, intervalSeconds, timeoutSeconds, retries, startPeriodSeconds/ },
        { which: "api", name: "logs.maxsize in lower case", args: { logs: { maxsize: "50m" } },
            path: "logs.maxsize", problem: /is not a known setting/, fix: /did you mean "maxSize"\?/ },
        { which: "api", name: "build.dockerFile", args: { image: undefined, build: { context: ".", dockerFile: "Dockerfile" } }, on: ["docker"],
            path: "build.dockerFile", problem: /is not a known setting/, fix: /did you mean "dockerfile"\?/ },
        { which: "api", name: "a build without its context", args: { image: undefined, build: { dockerfile: "Dockerfile" } },
            path: "build.context", problem: /is missing/, fix: /add context/ },
        { which: "api", name: "transform.containers", args: { transform: { containers: {} } },
            path: "transform.containers", problem: /"containers" is not a child resource ApiService creates/, fix: /did you mean "container"\? \(known: image, container, service\)/ },
        // ApiService: YAML 1.2 booleans
        { which: "api", name: "allowRoot: no, with a root user (must not run as root)", args: { user: "0:0", allowRoot: "no" }, on: ["docker"],
            path: "allowRoot", problem: /is the string "no", not a boolean \(YAML 1\.2 reads yes\/no\/on\/off as text\)/, fix: /write false/ },
        { which: "api", name: "waitForHealthy: off", args: { waitForHealthy: "off" },
            path: "waitForHealthy", problem: /is the string "off", not a boolean/, fix: /write false/ },
        { which: "api", name: "readOnlyRootFilesystem: yes", args: { readOnlyRootFilesystem: "yes" },
            path: "readOnlyRootFilesystem", problem: /is the string "yes", not a boolean/, fix: /write true/ },
        // ApiService: types
        { which: "api", name: "an env value that is a mapping", args: { env: { FEATURES: { beta: true } } },
            path: "env.FEATURES", problem: /must be a string, got a mapping/, fix: /write it as text, or as a reference such as \{ secret: <configKey> \}/ },
        { which: "api", name: "an env value that is a list", args: { env: { ORIGINS: ["https://a.example", "https://b.example"] } },
            path: "env.ORIGINS", problem: /must be a string, got a list/, fix: /write it as text/ },
        { which: "api", name: "an env value that is a number", args: { env: { MAX_CONNS: 20 } },
            path: "env.MAX_CONNS", problem: /must be a string, got the number 20/, fix: /quote it: "20"/ },
        { which: "api", name: "an env key with nothing after it", args: { env: { SENTRY_RELEASE: null } },
            path: "env.SENTRY_RELEASE", problem: /SENTRY_RELEASE has no value/, fix: /give SENTRY_RELEASE a value or leave it out/ },
        { which: "api", name: "env written as KEY=value text", args: { env: "GO_ENV=production" },
            path: "env", problem: /must be a mapping, got the string "GO_ENV=production"/, fix: /key: value pairs/ },
        { which: "api", name: "a healthcheck command as one string", args: { healthcheck: { command: "curl -f localhost" } },
            path: "healthcheck.command", problem: /must be a list, got the string "curl -f localhost"/, fix: /write \[curl -f localhost\]/ },
        { which: "api", name: "a number inside the healthcheck command", args: { healthcheck: { command: ["CMD", "/bin/probe", 8080] } },
            path: "healthcheck.command[2]", problem: /must be a string, got the number 8080/, fix: /quote it: "8080"/ },
        { which: "api", name: "replicas quoted", args: { replicas: "2" },
            path: "replicas", problem: /must be a number, got the string "2"/, fix: /write it without quotes: 2/ },
        { which: "api", name: "a grace period with a unit", args: { stopGracePeriodSeconds: "30s" },
            path: "stopGracePeriodSeconds", problem: /must be a whole number, got the string "30s"/, fix: /write a number/ },
        { which: "api", name: "cpus quoted", args: { cpus: "0.5" },
            path: "cpus", problem: /must be a number, got the string "0\.5"/, fix: /without quotes: 0\.5/ },
        { which: "api", name: "memory as a bare number", args: { memory: 512 },
            path: "memory", problem: /must be a string, got the number 512/, fix: /quote it: "512"/ },
        { which: "api", name: "a numeric user", args: { user: 1000 }, on: ["docker"],
            path: "user", problem: /must be a string, got the number 1000/, fix: /quote it: "1000"/ },
        { which: "api", name: "restart: false", args: { restart: false },
            path: "restart", problem: /must be a string, got the boolean false/, fix: /use one of unless-stopped, always, on-failure/ },
        { which: "api", name: "secretDelivery as a list", args: { secretDelivery: ["file"] },
            path: "secretDelivery", problem: /must be a string, got a list/, fix: /use one of file, env/ },
        { which: "api", name: "logs as a size", args: { logs: "10m" },
            path: "logs", problem: /must be a mapping, got the string "10m"/, fix: /key: value pairs/ },
        { which: "api", name: "a build given as its context", args: { image: undefined, build: "./api" },
            path: "build", problem: /must be a mapping, got the string "\.\/api"/, fix: /key: value pairs/ },
        { which: "api", name: "a numeric build argument", args: { image: undefined, build: { context: ".", args: { NODE_MAJOR: 20 } } },
            path: "build.args.NODE_MAJOR", problem: /must be a string, got the number 20/, fix: /quote it: "20"/ },
        { which: "api", name: "an image given as a mapping", args: { image: { repository: "ghcr.io/acme/api", tag: "1.4.2" } },
            path: "image", problem: /must be a string, got a mapping/, fix: /write it as text/ },
        // ApiService: an untagged image, on docker as on do-app
        { which: "api", name: "an untagged image", args: { image: "nginx" },
            path: "image", problem: /"nginx" has no tag or digest/, fix: /pin a version, e.g\. "nginx:1\.4\.2" or "nginx@sha256:<digest>"/ },
        { which: "api", name: "a registry port is not a tag", args: { image: "localhost:5000/api" },
            path: "image", problem: /"localhost:5000\/api" has no tag or digest/, fix: /"localhost:5000\/api:1\.4\.2"/ },
        // SecretsSync
        { which: "secrets", name: "a misspelt value key", args: { secrets: { API_TOKEN: { valeu: "x" } } },
            path: "secrets.API_TOKEN.valeu", problem: /is not a known setting/, fix: /did you mean "value"\?/ },
        { which: "secrets", name: "a misspelt generate key", args: { secrets: { SESSION_SECRET: { generate: { lenght: 64 } } } },
            path: "secrets.SESSION_SECRET.generate.lenght", problem: /is not a known setting/, fix: /did you mean "length"\?/ },
        { which: "secrets", name: "special: yes", args: { secrets: { SESSION_SECRET: { generate: { special: "yes" } } } },
            path: "secrets.SESSION_SECRET.generate.special", problem: /is the string "yes", not a boolean/, fix: /write true/ },
        { which: "secrets", name: "rotationDays quoted", args: { secrets: { SESSION_SECRET: { generate: { rotationDays: "30" } } } },
            path: "secrets.SESSION_SECRET.generate.rotationDays", problem: /must be a number, got the string "30"/, fix: /without quotes: 30/ },
        { which: "secrets", name: "generate: true", args: { secrets: { SESSION_SECRET: { generate: true } } },
            path: "secrets.SESSION_SECRET.generate", problem: /must be a mapping, got the boolean true/, fix: /key: value pairs/ },
        { which: "secrets", name: "the secrets as a list of keys", args: { secrets: ["API_TOKEN"] },
            path: "secrets", problem: /must be a mapping, got a list/, fix: /key: value pairs/ },
        { which: "secrets", name: "a pages entry as a mapping, not a list", args: { pages: { accountId: ACCOUNT, projectName: "web", keys: ["API_TOKEN"] } },
            path: "pages", problem: /must be a list, got a mapping/, fix: /one "- item" per line/ },
        { which: "secrets", name: "pages keys as one string", args: { pages: [{ accountId: ACCOUNT, projectName: "web", keys: "API_TOKEN" }] },
            path: "pages[0].keys", problem: /must be a list, got the string "API_TOKEN"/, fix: /write \[API_TOKEN\]/ },
        { which: "secrets", name: "projectname in lower case", args: { pages: [{ accountId: ACCOUNT, projectname: "web", keys: ["API_TOKEN"] }] },
            path: "pages[0].projectname", problem: /is not a known setting/, fix: /did you mean "projectName"\?/ },
        { which: "secrets", name: "a pages entry without a project", args: { pages: [{ accountId: ACCOUNT, keys: ["API_TOKEN"] }] },
            path: "pages[0].projectName", problem: /is missing/, fix: /add projectName/ },
        { which: "secrets", name: "an all-digit account id YAML reads as a number", args: { pages: [{ accountId: 1234567890, projectName: "web", keys: ["API_TOKEN"] }] },
            path: "pages[0].accountId", problem: /must be a string, got the number 1234567890/, fix: /quote it: "1234567890"/ },
        { which: "secrets", name: "a pages environment that is a boolean", args: { pages: [{ accountId: ACCOUNT, projectName: "web", keys: ["API_TOKEN"], environment: true }] },
            path: "pages[0].environment", problem: /must be a string, got the boolean true/, fix: /use one of production, preview/ },
        { which: "secrets", name: "transform.passwords", args: { transform: { passwords: {} } },
            path: "transform.passwords", problem: /not a child resource SecretsSync creates/, fix: /did you mean "password"\?/ },
        // DockerHost (docker only)
        { which: "host", name: "publishaddress in lower case", args: { publishaddress: "0.0.0.0" }, on: ["docker"],
            path: "publishaddress", problem: /is not a known setting/, fix: /did you mean "publishAddress"\?/ },
        { which: "host", name: "production: yes", args: { production: "yes" }, on: ["docker"],
            path: "production", problem: /is the string "yes", not a boolean/, fix: /write true/ },
        { which: "host", name: "host as a mapping", args: { host: { ssh: "deploy@dev.example.com" } }, on: ["docker"],
            path: "host", problem: /must be a string, got a mapping/, fix: /write it as text/ },
        { which: "host", name: "a numeric environment", args: { environment: 2024 }, on: ["docker"],
            path: "environment", problem: /must be a string, got the number 2024/, fix: /quote it: "2024"/ },
        { which: "host", name: "transform.networks", args: { transform: { networks: {} } }, on: ["docker"],
            path: "transform.networks", problem: /not a child resource DockerHost creates/, fix: /did you mean "network"\?/ },
    ];

    describe("bad input: keys, YAML booleans, types, an untagged image (the shape, before any meaning)", () => {
        it(`has at least 30 cases (${cases.length})`, () => assert.ok(cases.length >= 30));
        for (const c of cases) {
            for (const on of c.on ?? BOTH) {
                it(`${LABEL[c.which].split(" ")[0]} on ${on}: ${c.name}`, async () => {
                    await rejects(c.which, await targetFor(on), c.args, c.path, c.problem, c.fix);
                });
            }
        }
    });

    describe("a secret is never repeated in a message", () => {
        for (const on of BOTH) {
            it(`${on}: a secret written as a bare string, or a value that is not text`, async () => {
                const target = await targetFor(on);
                const e1 = await rejects("secrets", target, { secrets: { API_TOKEN: "hunter2-hunter2" } }, "secrets.API_TOKEN",
                    /must be a mapping with value or generate, got a string \(not repeated here\)/, /API_TOKEN: \{ value: \{ secret: <configKey> \} \}/);
                const e2 = await rejects("secrets", target, { secrets: { API_TOKEN: { value: 987654321 } } }, "secrets.API_TOKEN.value",
                    /must be a string or a secret reference, got a number/, /pulumi config set --secret <configKey>/);
                for (const e of [e1, e2]) assert.doesNotMatch(e.message, /hunter2|987654321/);
            });
        }
    });

    describe("an env value given as a program's secret or Output passes the shape", () => {
        it("docker and do-app", async () => {
            const { secret } = await import("../../components/core/env");
            const { validateApiService } = await import("../../components/api-service");
            for (const on of BOTH) {
                const n = validateApiService("api", { target: await targetFor(on), image: "ghcr.io/acme/api:1.4.2", env: { A: pulumi.output("x"), B: secret("y") } });
                assert.deepEqual(n.env.map(e => [e.key, e.secret]), [["A", false], ["B", true], ["PORT", false]]);
            }
        });
    });

    /** One component's shape: its JSON Schema and its constructor, on the same blocks. */
    const SUBJECTS: { which: Which; shape: Shape; all: Block; valid: { on: On; block: Block }[]; on: On[] }[] = [
        { which: "api", shape: API_SERVICE_SHAPE, all: API_ALL, valid: API_VALID, on: BOTH },
        { which: "secrets", shape: SECRETS_SYNC_SHAPE, all: SECRETS_ALL, valid: BOTH.map(on => ({ on, block: SECRETS_ALL })), on: BOTH },
        { which: "host", shape: DOCKER_HOST_SHAPE, all: HOST_ALL, valid: [{ on: "docker", block: HOST_ALL }], on: ["docker"] },
    ];

    describe("the JSON Schema and the constructor agree, key by key", () => {
        const EXPECTED = { api: { typed: 46, keyed: 46 }, secrets: { typed: 19, keyed: 19 }, host: { typed: 20, keyed: 21 } };
        for (const subject of SUBJECTS) {
            const { which, shape, all } = subject;
            const own = pathsOf(shape, NONE);
            const given = pathsOf(shape, all);
            const typed = given.filter(p => p.shape.kind !== "program");
            const keyed = given.filter(p => p.key !== undefined);
            const label = LABEL[which].split(" ")[0];

            it(`${label}: ${EXPECTED[which].typed} typed paths and ${EXPECTED[which].keyed} keys; the valid blocks set every typed one, and ajv and the constructor accept them`, async () => {
                assert.equal(typed.length, EXPECTED[which].typed, typed.map(p => p.path).join(", "));
                assert.equal(keyed.length, EXPECTED[which].keyed, keyed.map(p => p.path).join(", "));
                // Every typed path of the shape is set, with a value of its type, in some block both accept.
                const covered = new Set(subject.valid.flatMap(v => pathsOf(shape, v.block).filter(p => getAt(v.block, p.path) !== undefined).map(p => p.pattern)));
                for (const p of own.filter(x => x.shape.kind !== "program")) assert.ok(covered.has(p.pattern), `no valid block sets ${p.pattern}`);
                for (const { on, block } of subject.valid) {
                    assert.equal(schemaErrors(shape, block), undefined, `ajv refused the ${on} block`);
                    const make = await build[which](await targetFor(on), clone(block), true);
                    make();
                }
            });

            for (const on of subject.on) {
                it(`${label} on ${on}: a wrong-typed value at every path is refused by both, at that path`, async () => {
                    const target = await targetFor(on);
                    for (const p of typed) {
                        const block = clone(all);
                        setAt(block, p.path, wrongTyped(p.shape));
                        assert.notEqual(schemaErrors(shape, block), undefined, `ajv accepted ${p.path} = ${JSON.stringify(wrongTyped(p.shape))}`);
                        await expectConfigError(rec, await build[which](target, block, true), { component: LABEL[which], path: p.path, problem: /must be|not a boolean/, fix: /./ });
                    }
                });

                it(`${label} on ${on}: an unknown key beside every key is refused by both, with a did-you-mean`, async () => {
                    const target = await targetFor(on);
                    for (const p of keyed) {
                        const block = clone(all);
                        const sibling = p.parent ? `${p.parent}.${p.key}x` : `${p.key}x`;
                        setAt(block, sibling, 1);
                        assert.notEqual(schemaErrors(shape, block), undefined, `ajv accepted ${sibling}`);
                        await expectConfigError(rec, await build[which](target, block, true),
                            { component: LABEL[which], path: sibling, problem: /is not a known setting|is not a child resource/, fix: new RegExp(`did you mean "${p.key}"\\?`) });
                    }
                });
            }
        }
    });

    describe("never a TypeError: odd values at every path are a SlipwayConfigError or accepted", () => {
        const ODD: unknown[] = [null, [], {}, "", 0, -1, 1.5, true, "yes", [null], { x: 1 }];
        for (const subject of SUBJECTS) {
            subject.valid.forEach(({ on, block: valid }, i) => {
                it(`${LABEL[subject.which].split(" ")[0]} on ${on}, valid block ${i + 1}`, async () => {
                    const { SlipwayConfigError } = await import("../../components/core/errors");
                    const target = await targetFor(on);
                    let refused = 0;
                    for (const p of pathsOf(subject.shape, valid).filter(x => x.shape.kind !== "program")) {
                        for (const odd of ODD) {
                            const block = clone(valid);
                            setAt(block, p.path, odd);
                            try {
                                (await build[subject.which](target, block, true))();
                            } catch (e) {
                                assert.ok(e instanceof SlipwayConfigError, `${p.path} = ${JSON.stringify(odd)}: ${String(e)}`);
                                refused++;
                            }
                        }
                    }
                    assert.ok(refused > 0);
                });
            });
        }
    });

    describe("the committed stacks' blocks are accepted by both", () => {
        const configOf = (stack: string) =>
            (parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> }).config;
        /** As stack/plan.ts hands them on: a service without the stack-only `link`/`secrets`, the secrets map as `secrets`, the docker block with the stack's environment. */
        const blocks = (stack: string): { which: Which; block: Block }[] => {
            const c = configOf(stack);
            const out: { which: Which; block: Block }[] = [];
            const api = (c["slipway:services"] as Record<string, Block>).api!;
            out.push({ which: "api", block: without(api, "link", "secrets") });
            if (c["slipway:secrets"]) out.push({ which: "secrets", block: { secrets: c["slipway:secrets"] } });
            if (c["slipway:docker"]) {
                out.push({ which: "host", block: { ...(c["slipway:docker"] as Block), environment: c["slipway:environment"], production: c["slipway:production"] } });
            }
            return out;
        };

        for (const [stack, on] of [["dev", "docker"], ["prod", "do-app"]] as const) {
            it(`${stack} (${on}): services.api, secrets${on === "docker" ? ", docker" : ""}`, async () => {
                const found = blocks(stack);
                assert.deepEqual(found.map(b => b.which), on === "docker" ? ["api", "secrets", "host"] : ["api", "secrets"]);
                const target = on === "docker" ? await dockerTarget(stack, false) : await doTarget(stack, true);
                for (const { which, block } of found) {
                    // A stack file's { env: VAR } / { secret: key } is a reference the schema allows; the program gets a secret.
                    const shapeView = clone(block);
                    assert.equal(schemaErrors(SUBJECTS.find(s => s.which === which)!.shape, shapeView), undefined, `ajv refused ${stack}'s ${which} block`);
                    const resolved = JSON.parse(JSON.stringify(block), (_k, v: unknown) =>
                        (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && "env" in v ? "from-env" : v)) as Block;
                    const make = await build[which](target, resolved, true);
                    make();
                }
            });
        }
    });
});
