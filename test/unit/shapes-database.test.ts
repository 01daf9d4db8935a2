// ManagedDatabase's strict Args (issue 9): MANAGED_DATABASE_SHAPE checked first in normalize
// (unknown keys at every depth with a did-you-mean, types before meaning), the do-app checks
// against DigitalOcean's own lists (do-options.ts), and the shape's JSON Schema agreeing with the
// constructor key by key. Every bad input asserts component, exact path, problem, fix and that
// nothing registered (expectConfigError).
import { clone, getAt, setAt, shapePaths } from "../helpers/shape-paths";
import { strict as assert } from "assert";
import Ajv2020 from "ajv/dist/2020";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { SlipwayConfigError } from "../../components/core/errors";
import { Shape, toJsonSchema } from "../../components/core/shape";
import type { Target } from "../../components/core/target";
import { checkPoolBudget, DB_REGION_FOR_APP } from "../../components/managed-database/do-app";
import { DO_DB_REGIONS, DO_DB_SIZES, poolConnectionLimit } from "../../components/managed-database/do-options";
import { MANAGED_DATABASE_SHAPE } from "../../components/managed-database/normalize";
import { Recorder } from "../../components/testing/recorder";
import { expectConfigError } from "../helpers/config-error";
import { dockerTarget, doTarget, freshRecorder } from "../helpers/harness";

type On = "docker" | "do-app";
const BOTH: On[] = ["docker", "do-app"];
const ROOT = path.resolve(__dirname, "../..");

/** A block that sets every key of the shape, valid on both targets and in a stack file. */
const FULL = {
    version: "16",
    database: "shop",
    user: "app",
    extensions: ["pgcrypto"],
    schemas: [{ name: "core", user: "core_svc" }],
    production: false,
    backup: {
        intervalMinutes: 60, keep: 24, image: "slipway/pgbackup:16",
        offsite: {
            endpoint: "https://fra1.digitaloceanspaces.com", bucket: "acme-db-backups", region: "fra1", prefix: "prod/shop/",
            accessKeyId: "not-a-real-key-id", secretAccessKey: "not-a-real-secret-key",
            recipient: "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p", keep: 30, forcePathStyle: false,
        },
    },
    image: "postgres:16-bookworm",
    password: "not-a-real-password",
    memoryMb: 512,
    publishPort: 15432,
    do: {
        size: "db-s-1vcpu-2gb",
        nodes: 2,
        region: "fra1",
        maintenanceWindow: { day: "sunday", hour: 3 },
        pool: { name: "api_pool", mode: "transaction", size: 20 },
        devDatabase: false,
    },
    transform: {},
};

let validateJson: ((x: unknown) => boolean) & { errors?: unknown } | undefined;
/** ajv's verdict on a stack file's block against toJsonSchema(MANAGED_DATABASE_SHAPE). */
function schemaAccepts(block: unknown): boolean {
    if (!validateJson) {
        const ajv = new Ajv2020({ allErrors: true, strict: false });
        validateJson = ajv.compile(toJsonSchema(MANAGED_DATABASE_SHAPE)!);
    }
    return validateJson(block);
}




/** A value of the wrong type for `s`, as a YAML author might write one. */
function wrongTyped(s: Shape): unknown {
    switch (s.kind) {
        case "string": case "input": return 15;
        case "number": return "many";
        case "boolean": return 1;
        case "list": case "object": case "record": return "x";
        case "oneOf": return "hourly";
        case "program": return undefined;
    }
}

describe("ManagedDatabase strict Args (issue 9)", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    const targetFor = async (on: On): Promise<Target> => (on === "docker" ? dockerTarget() : doTarget());

    async function rejects(target: Target, args: Record<string, unknown>, at: string, problem: RegExp, fix: RegExp) {
        const { ManagedDatabase } = await import("../../components/managed-database");
        return expectConfigError(rec, () => new ManagedDatabase("db", { target, ...args } as never),
            { component: 'ManagedDatabase "db"', path: at, problem, fix });
    }

    describe("types and keys, on both targets (the shape, before any meaning)", () => {
        const cases: { name: string; args: Record<string, unknown>; path: string; problem: RegExp; fix: RegExp }[] = [
            { name: "a misspelt key in the do block (maintainanceWindow)", args: { do: { maintainanceWindow: { day: "sunday", hour: 3 } } },
                path: "do.maintainanceWindow", problem: /is not a known setting/, fix: /did you mean "maintenanceWindow"\?/ },
            { name: "backup: hourly", args: { backup: "hourly" },
                path: "backup", problem: /must be a mapping such as \{ intervalMinutes: 60, keep: 24 \}.*got the string "hourly"/, fix: /write a mapping such as \{ intervalMinutes: 60, keep: 24 \}/ },
            { name: "a string where the extensions list goes", args: { extensions: "pgcrypto" },
                path: "extensions", problem: /must be a list, got the string "pgcrypto"/, fix: /write \[pgcrypto\]/ },
            { name: "schemas as a mapping", args: { schemas: { core: { user: "core_svc" } } },
                path: "schemas", problem: /must be a list, got a mapping/, fix: /one "- item" per line/ },
            { name: "version: 15 (a number)", args: { version: 15 },
                path: "version", problem: /must be a string, got the number 15/, fix: /quote it: "15"/ },
            { name: "a misspelt top-level key", args: { extentions: ["pgcrypto"] },
                path: "extentions", problem: /is not a known setting/, fix: /did you mean "extensions"\?/ },
            { name: "a misspelt key in a schema entry", args: { schemas: [{ name: "core", usr: "core_svc" }] },
                path: "schemas[0].usr", problem: /is not a known setting/, fix: /did you mean "user"\?/ },
            { name: "a schema without a name", args: { schemas: [{ name: "core" }, { user: "media_svc" }] },
                path: "schemas[1].name", problem: /is missing/, fix: /add name/ },
            { name: "a misspelt backup key", args: { backup: { intervalMinute: 60 } },
                path: "backup.intervalMinute", problem: /is not a known setting/, fix: /did you mean "intervalMinutes"\?/ },
            { name: "a quoted backup interval", args: { backup: { intervalMinutes: "60" } },
                path: "backup.intervalMinutes", problem: /must be a number, got the string "60"/, fix: /write it without quotes: 60/ },
            { name: "production: \"yes\"", args: { production: "yes" },
                path: "production", problem: /is the string "yes", not a boolean \(YAML 1\.2/, fix: /write true/ },
            { name: "memory with a unit", args: { memoryMb: "512MB" },
                path: "memoryMb", problem: /must be a whole number, got the string "512MB"/, fix: /write a number/ },
            { name: "a pool given as its name", args: { do: { pool: "api_pool" } },
                path: "do.pool", problem: /must be a mapping, got the string "api_pool"/, fix: /key: value pairs/ },
            { name: "a quoted maintenance hour", args: { do: { maintenanceWindow: { day: "sunday", hour: "3" } } },
                path: "do.maintenanceWindow.hour", problem: /must be a number, got the string "3"/, fix: /without quotes: 3/ },
            { name: "a maintenance window without its hour", args: { do: { maintenanceWindow: { day: "sunday" } } },
                path: "do.maintenanceWindow.hour", problem: /is missing/, fix: /add hour/ },
            { name: "a misspelt transform key", args: { transform: { clustr: {} } },
                path: "transform.clustr", problem: /is not a known setting/, fix: /did you mean "cluster"\?/ },
            { name: "the do block as a region string", args: { do: "fra1" },
                path: "do", problem: /must be a mapping, got the string "fra1"/, fix: /key: value pairs/ },
            { name: "a numeric password", args: { password: 1234 },
                path: "password", problem: /must be a string, got the number 1234/, fix: /quote it: "1234"/ },
            { name: "a number in the extensions list", args: { extensions: ["postgis", 5] },
                path: "extensions[1]", problem: /must be a string, got the number 5/, fix: /quote it: "5"/ },
            { name: "an unknown pool key with nothing near it", args: { do: { pool: { name: "api_pool", max: 20 } } },
                path: "do.pool.max", problem: /is not a known setting/, fix: /remove it; the known settings are name, mode, size/ },
            { name: "a quoted node count", args: { do: { nodes: "2" } },
                path: "do.nodes", problem: /must be a number, got the string "2"/, fix: /without quotes: 2/ },
            { name: "a pool size given as a list", args: { do: { pool: { name: "api_pool", size: [10] } } },
                path: "do.pool.size", problem: /must be a whole number, got a list/, fix: /write a number/ },
        ];
        for (const c of cases) {
            for (const on of BOTH) {
                it(`${on}: ${c.name}`, async () => {
                    await rejects(await targetFor(on), c.args, c.path, c.problem, c.fix);
                });
            }
        }
    });

    describe("DigitalOcean's lists on do-app (do-options.ts)", () => {
        it("an unknown datacenter gets the nearest one (fra2 -> fra1)", async () => {
            await rejects(await doTarget(), { do: { region: "fra2" } }, "do.region",
                /"fra2" is not a datacenter DigitalOcean offers managed PostgreSQL in/, /did you mean "fra1"\? \(offered: ams3, blr1, fra1/);
        });

        it("a datacenter with nothing near it lists every offered one", async () => {
            await rejects(await doTarget(), { do: { region: "mars1" } }, "do.region",
                /"mars1" is not a datacenter/, /use one of ams3, blr1, fra1, lon1, nyc1, nyc2, nyc3, sfo2, sfo3, sgp1, syd1, tor1, or leave it out to follow the App's region \("fra1"\)/);
        });

        it("an App in atl must name a datacenter: DigitalOcean lists no atl1 for databases", async () => {
            const { doAppTarget } = await import("../../components/core/target");
            const target = doAppTarget({ appName: "shop-api", region: "atl", environment: "prod", production: true });
            await rejects(target, {}, "do.region", /the App's region "atl" has no managed PostgreSQL datacenter \("atl1" is not among/, /set do.region to a datacenter near it, e.g. "nyc3"/);
        });

        it("a dev database in atl needs no datacenter (App Platform places it)", async () => {
            const { doAppTarget } = await import("../../components/core/target");
            const { validateManagedDatabase } = await import("../../components/managed-database");
            const target = doAppTarget({ appName: "shop-api", region: "atl", environment: "dev", production: false });
            assert.equal(validateManagedDatabase("db", { target, do: { devDatabase: true } }).do.devDatabase, true);
        });

        it("a mistyped size gets the size it was meant to be (db-s-1vcpu-2gbb -> db-s-1vcpu-2gb)", async () => {
            await rejects(await doTarget(), { do: { size: "db-s-1vcpu-2gbb" } }, "do.size",
                /"db-s-1vcpu-2gbb" is not a DigitalOcean PostgreSQL node size/, /did you mean "db-s-1vcpu-2gb"\?/);
        });

        it("a size of another product (a Droplet slug) lists the basic sizes", async () => {
            await rejects(await doTarget(), { do: { size: "s-1vcpu-1gb-amd" } }, "do.size",
                /"s-1vcpu-1gb-amd" is not a DigitalOcean PostgreSQL node size/, /db-s-1vcpu-1gb, db-s-1vcpu-2gb, db-s-2vcpu-4gb/);
        });

        it("a pool of 200 on a 2 GB cluster: the plan allows 47, and a size that fits is named", async () => {
            const e = await rejects(await doTarget(), { do: { size: "db-s-1vcpu-2gb", pool: { name: "api_pool", size: 200 } } }, "do.pool.size",
                /200 connections for pool "api_pool" is more than a db-s-1vcpu-2gb cluster allows: 47 \(25 per GB of the primary node's 2 GB, 3 reserved/,
                /set do.pool.size to at most 47, or choose a larger do.size such as "db-s-6vcpu-16gb" \(397 connections\)/);
            assert.match(e.problem, /standby nodes add none/);
        });

        it("standby nodes add no connections: 48 on a 3-node 2 GB cluster is still over 47", async () => {
            await rejects(await doTarget(), { do: { size: "db-s-1vcpu-2gb", nodes: 3, pool: { name: "api_pool", size: 48 } } }, "do.pool.size",
                /48 connections .* allows: 47/, /at most 47, or choose a larger do.size such as "db-s-2vcpu-4gb" \(97 connections\)/);
        });

        it("the default 1 GB size allows 22", async () => {
            await rejects(await doTarget(), { do: { pool: { name: "api_pool", size: 23 } } }, "do.pool.size",
                /db-s-1vcpu-1gb cluster allows: 22/, /at most 22, or choose a larger do.size such as "db-s-1vcpu-2gb" \(47 connections\)/);
        });

        it("a pool of no connections", async () => {
            await rejects(await doTarget(), { do: { pool: { name: "api_pool", size: 0 } } }, "do.pool.size", /at least 1, got 0/, /e\.g\. 10/);
        });

        it("a pool name DigitalOcean refuses (under 3 characters)", async () => {
            await rejects(await doTarget(), { do: { pool: { name: "ap" } } }, "do.pool.name", /"ap" has 2 characters; DigitalOcean takes 3 to 60/, /"shop_pool"|"db_pool"/);
        });

        it("an unknown pool mode", async () => {
            await rejects(await doTarget(), { do: { pool: { name: "api_pool", mode: "txn" } } }, "do.pool.mode", /"txn" is not supported/, /transaction, session, statement/);
        });

        it("a pool exactly at the limit is accepted, and the do block reaches the cluster", async () => {
            const { validateManagedDatabase } = await import("../../components/managed-database");
            const n = validateManagedDatabase("db", { target: await doTarget(), do: { size: "db-s-1vcpu-2gb", pool: { name: "api_pool", size: 47 } } });
            assert.deepEqual(n.do.pool, { name: "api_pool", mode: "transaction", size: 47 });
            assert.equal(n.do.region, "fra1");
        });

        it("backup: true (accepted by the shape) turns dumps on with the defaults on docker", async () => {
            const { validateManagedDatabase } = await import("../../components/managed-database");
            const n = validateManagedDatabase("db", { target: await dockerTarget(), backup: true as never });
            assert.deepEqual(n.docker?.backup, { intervalMinutes: 1440, keep: 7, image: "postgres:16-bookworm" });
        });

        it("the docker target reads none of it: an unknown size or region there is only type-checked", async () => {
            const { validateManagedDatabase } = await import("../../components/managed-database");
            const n = validateManagedDatabase("db", { target: await dockerTarget(), do: { size: "db-s-1vcpu-2gbb", region: "fra2", pool: { name: "p", size: 200 } } });
            assert.equal((n as { do?: unknown }).do, undefined);
        });
    });

    describe("the pool budget, summed over pools (pure)", () => {
        const ctx = { kind: "ManagedDatabase", name: "db" };
        const oneGb = DO_DB_SIZES.find(s => s.slug === "db-s-1vcpu-1gb")!;

        it("names the pool that takes the sum over the limit, with the room left for it", () => {
            assert.throws(() => checkPoolBudget(ctx, oneGb, [
                { path: "do.pools[0].size", name: "api", size: 10 },
                { path: "do.pools[1].size", name: "jobs", size: 15 },
            ]), (e: unknown) => {
                assert.ok(e instanceof SlipwayConfigError);
                assert.equal(e.propertyPath, "do.pools[1].size");
                assert.match(e.problem, /15 connections for pool "jobs" \(pools api 10, jobs 15: 25 in all\) is more than a db-s-1vcpu-1gb cluster allows: 22/);
                assert.match(e.fix, /set do.pools\[1\].size to at most 12, or choose a larger do.size such as "db-s-1vcpu-2gb" \(47 connections\)/);
                return true;
            });
        });

        it("accepts pools that share the limit exactly", () => {
            checkPoolBudget(ctx, oneGb, [{ path: "a", name: "a", size: 12 }, { path: "b", name: "b", size: 10 }]);
        });
    });

    describe("the DigitalOcean data", () => {
        it("12 regions, 33 sizes (30 may take standbys), each slug's vCPU and memory as written", () => {
            assert.equal(DO_DB_REGIONS.length, 12);
            assert.equal(DO_DB_SIZES.length, 33);
            assert.equal(DO_DB_SIZES.filter(s => s.maxNodes === 3).length, 30);
            assert.equal(new Set(DO_DB_SIZES.map(s => s.slug)).size, 33);
            for (const s of DO_DB_SIZES) {
                const m = /-(\d+)vcpu-(\d+)gb$/.exec(s.slug);
                assert.ok(m, s.slug);
                assert.equal(s.vcpus, Number(m[1]), s.slug);
                assert.equal(s.memoryGb, Number(m[2]), s.slug);
                assert.equal(s.maxNodes, s.memoryGb === 1 ? 1 : 3, s.slug);
            }
        });

        it("connections per plan: 22 on 1 GB, 47 on 2 GB, 97 on 4 GB (DigitalOcean's own examples and rule)", () => {
            const limit = (slug: string) => poolConnectionLimit(DO_DB_SIZES.find(s => s.slug === slug)!);
            assert.equal(limit("db-s-1vcpu-1gb"), 22);
            assert.equal(limit("db-s-1vcpu-2gb"), 47);
            assert.equal(limit("db-s-2vcpu-4gb"), 97);
        });

        it("every App region's default datacenter offers PostgreSQL, but atl's", () => {
            const missing = Object.entries(DB_REGION_FOR_APP).filter(([, dc]) => !(DO_DB_REGIONS as readonly string[]).includes(dc)).map(([r]) => r);
            assert.deepEqual(missing, ["atl"]);
        });
    });

    describe("the JSON Schema and the constructor agree, key by key", () => {
        const all = shapePaths(MANAGED_DATABASE_SHAPE);
        const typed = all.filter(p => p.shape.kind !== "program");
        const keyed = all.filter(p => p.key !== undefined);

        it("covers every property path: 41 typed (12 program-only, under target and transform), 51 keys; FULL sets each typed one", () => {
            assert.equal(all.length, 53);
            assert.equal(typed.length, 41);
            assert.equal(keyed.length, 51);
            for (const p of typed) assert.notEqual(getAt(FULL, p.path), undefined, `FULL does not set ${p.path}`);
        });

        it("FULL itself is accepted by ajv and by the constructor on both targets", async () => {
            assert.ok(schemaAccepts(FULL), JSON.stringify(validateJson?.errors));
            const { ManagedDatabase } = await import("../../components/managed-database");
            for (const on of BOTH) new ManagedDatabase(`full-${on}`, { target: await targetFor(on), ...clone(FULL) } as never);
        });

        for (const on of BOTH) {
            it(`${on}: a wrong-typed value at every path is refused by both, at that path`, async () => {
                const target = await targetFor(on);
                for (const p of typed) {
                    const block = clone(FULL) as Record<string, unknown>;
                    setAt(block, p.path, wrongTyped(p.shape));
                    assert.equal(schemaAccepts(block), false, `ajv accepted ${p.path} = ${JSON.stringify(wrongTyped(p.shape))}`);
                    await rejects(target, block, p.path, /must be|not a boolean/, /./);
                }
            });

            it(`${on}: an unknown key beside every key is refused by both, with a did-you-mean`, async () => {
                const target = await targetFor(on);
                for (const p of keyed) {
                    const block = clone(FULL) as Record<string, unknown>;
                    const sibling = p.parent ? `${p.parent}.${p.key}x` : `${p.key}x`;
                    setAt(block, sibling, 1);
                    assert.equal(schemaAccepts(block), false, `ajv accepted ${sibling}`);
                    await rejects(target, block, sibling, /is not a known setting/, new RegExp(`did you mean "${p.key}"\\?`));
                }
            });
        }
    });

    describe("the committed stacks' slipway:database blocks", () => {
        const blockOf = (stack: string) => {
            const config = (parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> }).config;
            return { block: config["slipway:database"] as Record<string, unknown>, config };
        };

        it("dev (docker) is accepted by ajv and the constructor", async () => {
            const { block } = blockOf("dev");
            assert.ok(block, "Pulumi.dev.yaml has a slipway:database block");
            assert.ok(schemaAccepts(block), JSON.stringify(validateJson?.errors));
            const { ManagedDatabase } = await import("../../components/managed-database");
            new ManagedDatabase("db", { target: await dockerTarget("dev", false), ...block } as never);
        });

        it("prod (do-app) is accepted by ajv and the constructor", async () => {
            const { block, config } = blockOf("prod");
            assert.ok(block, "Pulumi.prod.yaml has a slipway:database block");
            assert.ok(schemaAccepts(block), JSON.stringify(validateJson?.errors));
            const { doAppTarget } = await import("../../components/core/target");
            const app = config["slipway:doApp"] as { appName: string; region: "fra" };
            const { ManagedDatabase } = await import("../../components/managed-database");
            new ManagedDatabase("db", { target: doAppTarget({ ...app, environment: "prod", production: true }), ...block } as never);
        });
    });
});
