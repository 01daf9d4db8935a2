import { strict as assert } from "assert";
import { SlipwayConfigError } from "../../components/core/errors";
import type { Target } from "../../components/core/target";
import { Recorder } from "../../components/testing/recorder";
import { dockerTarget, doTarget, freshRecorder } from "../helpers/harness";

describe("ManagedDatabase bad input", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    /** Build with a target made beforehand, expect the error, then prove nothing registered. */
    async function rejects(target: Target, args: Record<string, unknown>, path: string, fix: RegExp, name = "db") {
        await rec.settle();
        rec.clear();
        const { ManagedDatabase } = await import("../../components/managed-database");
        let err: unknown;
        try { new ManagedDatabase(name, { target, ...args }); } catch (e) { err = e; }
        assert.ok(err instanceof SlipwayConfigError, `expected a SlipwayConfigError, got ${err}`);
        assert.ok(err.message.startsWith(`ManagedDatabase "${name}": ${path}: `), err.message);
        assert.match(err.message, /\. Fix: /);
        assert.match(err.fix, fix);
        await rec.settle();
        assert.deepEqual(rec.resources.map(r => r.name), [], "nothing may register on bad input");
        return err;
    }

    it("rejects a database name that is not a PostgreSQL identifier", async () => {
        await rejects(await dockerTarget(), { database: "Shop-DB" }, "database", /lowercase letters, digits and underscores/);
    });

    it("rejects the reserved doadmin role", async () => {
        await rejects(await doTarget(), { user: "doadmin" }, "user", /application role/);
    });

    it("rejects an unsupported major version", async () => {
        await rejects(await dockerTarget(), { version: "12" }, "version", /one of 13, 14, 15, 16, 17/);
    });

    it("rejects an image whose major disagrees with version", async () => {
        const e = await rejects(await dockerTarget(), { version: "16", image: "postgis/postgis:15-3.4" }, "image", /version: "15"/);
        assert.match(e.problem, /PostgreSQL 15/);
    });

    it("rejects an extension name with SQL in it", async () => {
        await rejects(await dockerTarget(), { extensions: ["postgis", "x\"; DROP TABLE y; --"] }, "extensions[1]", /CREATE EXTENSION/);
    });

    it("rejects two schemas sharing a role", async () => {
        await rejects(await dockerTarget(), { schemas: [{ name: "core" }, { name: "media", user: "core" }] }, "schemas[1].user", /own role/);
    });

    it("rejects the public schema", async () => {
        await rejects(await dockerTarget(), { schemas: [{ name: "public" }] }, "schemas[0].name", /after its service/);
    });

    it("rejects a dev database in production", async () => {
        const e = await rejects(await doTarget("prod", true), { do: { devDatabase: true } }, "do.devDatabase", /remove do.devDatabase/);
        assert.match(e.problem, /production/);
    });

    it("rejects a dev database with a pool", async () => {
        await rejects(await doTarget("dev", false), { do: { devDatabase: true, pool: { name: "p" } } }, "do.pool", /remove do.pool/);
    });

    it("rejects an App region where a datacenter slug is expected, naming the right slug", async () => {
        const e = await rejects(await doTarget(), { do: { region: "ams" } }, "do.region", /"fra1"/);
        assert.match(e.problem, /"ams3"/);
    });

    it("rejects four nodes", async () => {
        await rejects(await doTarget(), { do: { nodes: 4 } }, "do.nodes", /between 1 and 3/);
    });

    it("rejects a backup interval below five minutes", async () => {
        await rejects(await dockerTarget(), { backup: { intervalMinutes: 1 } }, "backup.intervalMinutes", /between 5 and 10080/);
    });

    it("rejects a maintenance hour of 24", async () => {
        await rejects(await doTarget(), { do: { maintenanceWindow: { day: "monday", hour: 24 } } }, "do.maintenanceWindow.hour", /between 0 and 23/);
    });

    it("rejects a privileged publish port", async () => {
        await rejects(await dockerTarget(), { publishPort: 80 }, "publishPort", /between 1024 and 65535/);
    });

    it("rejects a component name that cannot be a network alias", async () => {
        await rejects(await dockerTarget(), {}, "name", /lowercase letters, digits and hyphens/, "Main_DB");
    });
});
