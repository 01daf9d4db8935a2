import { strict as assert } from "assert";
import type { Target } from "../../components/core/target";
import { Recorder } from "../../components/testing/recorder";
import { expectConfigError } from "../helpers/config-error";
import { dockerTarget, doTarget, freshRecorder } from "../helpers/harness";

describe("ManagedDatabase bad input", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    /** Build with a target made beforehand (see expectConfigError). */
    async function rejects(target: Target, args: Record<string, unknown>, path: string, problem: RegExp, fix: RegExp, name = "db") {
        const { ManagedDatabase } = await import("../../components/managed-database");
        return expectConfigError(rec, () => new ManagedDatabase(name, { target, ...args }),
            { component: `ManagedDatabase "${name}"`, path, problem, fix });
    }

    it("rejects a database name that is not a PostgreSQL identifier", async () => {
        await rejects(await dockerTarget(), { database: "Shop-DB" }, "database", /not a usable PostgreSQL database name/, /lowercase letters, digits and underscores/);
    });

    it("rejects the reserved doadmin role", async () => {
        await rejects(await doTarget(), { user: "doadmin" }, "user", /"doadmin" is reserved/, /application role/);
    });

    it("rejects an unsupported major version", async () => {
        await rejects(await dockerTarget(), { version: "12" }, "version", /"12" is not supported/, /one of 13, 14, 15, 16, 17/);
    });

    it("rejects an image whose major disagrees with version", async () => {
        const e = await rejects(await dockerTarget(), { version: "16", image: "postgis/postgis:15-3.4" }, "image", /runs PostgreSQL 15 but version is "16"/, /version: "15"/);
        assert.match(e.problem, /PostgreSQL 15/);
    });

    it("rejects an extension name with SQL in it", async () => {
        await rejects(await dockerTarget(), { extensions: ["postgis", "x\"; DROP TABLE y; --"] }, "extensions[1]", /is not an extension name/, /CREATE EXTENSION/);
    });

    it("rejects two schemas sharing a role", async () => {
        await rejects(await dockerTarget(), { schemas: [{ name: "core" }, { name: "media", user: "core" }] }, "schemas[1].user", /role "core" is already used by schemas\[0\]/, /own role/);
    });

    it("rejects the public schema", async () => {
        await rejects(await dockerTarget(), { schemas: [{ name: "public" }] }, "schemas[0].name", /"public" already exists/, /after its service/);
    });

    it("rejects a dev database in production", async () => {
        const e = await rejects(await doTarget("prod", true), { do: { devDatabase: true } }, "do.devDatabase", /cannot back a production stack/, /remove do.devDatabase/);
        assert.match(e.problem, /production/);
    });

    it("rejects a dev database with a pool", async () => {
        await rejects(await doTarget("dev", false), { do: { devDatabase: true, pool: { name: "p" } } }, "do.pool", /dev databases have no connection pools/, /remove do.pool/);
    });

    it("rejects an App region where a datacenter slug is expected, naming the right slug", async () => {
        const e = await rejects(await doTarget(), { do: { region: "ams" } }, "do.region", /"ams" is not a database datacenter slug/, /"fra1"/);
        assert.match(e.problem, /"ams3"/);
    });

    it("rejects four nodes", async () => {
        await rejects(await doTarget(), { do: { nodes: 4 } }, "do.nodes", /from 1 to 3, got 4/, /between 1 and 3/);
    });

    it("rejects a backup interval below five minutes", async () => {
        await rejects(await dockerTarget(), { backup: { intervalMinutes: 1 } }, "backup.intervalMinutes", /from 5 to 10080, got 1/, /between 5 and 10080/);
    });

    it("rejects a maintenance hour of 24", async () => {
        await rejects(await doTarget(), { do: { maintenanceWindow: { day: "monday", hour: 24 } } }, "do.maintenanceWindow.hour", /from 0 to 23, got 24/, /between 0 and 23/);
    });

    it("rejects a privileged publish port", async () => {
        await rejects(await dockerTarget(), { publishPort: 80 }, "publishPort", /from 1024 to 65535, got 80/, /between 1024 and 65535/);
    });

    it("rejects a component name that cannot be a network alias", async () => {
        await rejects(await dockerTarget(), {}, "name", /"Main_DB" cannot be a network alias/, /lowercase letters, digits and hyphens/, "Main_DB");
    });
});
