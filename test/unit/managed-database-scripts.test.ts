// ManagedDatabase's generated scripts and strings, as text. test/tools/managed-database-scripts.test.ts
// runs them: the health probe under sh, the init script and backup loop against a real PostgreSQL.
import { strict as assert } from "assert";
import { backupMaxAgeSeconds, initScript, pgpassLine, postgresUrl } from "../../components/managed-database/scripts";

describe("ManagedDatabase scripts (pure)", () => {
    it("percent-encodes user and password in the URL", () => {
        assert.equal(postgresUrl({ user: "app", password: "a b@c:d/e?f#g%", host: "db", port: 5432, database: "shop", sslmode: "disable" }),
            "postgresql://app:a%20b%40c%3Ad%2Fe%3Ff%23g%25@db:5432/shop?sslmode=disable");
    });

    it("escapes : and \\ in .pgpass lines", () => {
        assert.equal(pgpassLine("app", "a:b\\c"), "*:*:*:app:a\\:b\\\\c\n");
    });

    it("has no init script when there are no extensions and no schemas", () => {
        assert.equal(initScript({ extensions: [], schemas: [], database: "shop" }), undefined);
    });

    it("lets the last dump be one interval old plus time for the dump: a quarter interval, at least 15 minutes", () => {
        assert.equal(backupMaxAgeSeconds(300), 300 + 900);
        assert.equal(backupMaxAgeSeconds(3600), 3600 + 900);
        assert.equal(backupMaxAgeSeconds(86400), 86400 + 21600);
    });
});
