import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    APP_SIZES, DB_NODE_SIZES, DEV_DATABASE, PRICE_SOURCES, appInstancesCost, dbClusterCost, devDatabaseCost, formatUsd, hostCost, onDockerHost, sumCosts,
} from "../../components/core/prices";
import { DO_INSTANCE_SIZES } from "../../components/api-service/images";
import { DO_DB_SIZES } from "../../components/managed-database/do-options";

describe("price data (components/core/prices.ts)", () => {
    it("prices every App Platform size ApiService accepts, and only those", () => {
        assert.deepEqual(Object.keys(APP_SIZES).sort(), [...DO_INSTANCE_SIZES].sort());
    });

    it("prices database sizes DigitalOcean offers only (a typo'd slug would never match a cluster)", () => {
        const offered = DO_DB_SIZES.map(s => s.slug);
        for (const slug of Object.keys(DB_NODE_SIZES)) assert.ok(offered.includes(slug), slug);
    });

    it("says where every table came from and when it was read", () => {
        for (const [table, s] of Object.entries(PRICE_SOURCES)) {
            assert.ok(s.source.length > 10, table);
            assert.match(s.read, /^\d{4}-\d{2}-\d{2}$/, table);
        }
        // The source comment at the top of the file names each table it prices.
        const text = fs.readFileSync(path.resolve(__dirname, "../../components/core/prices.ts"), "utf8").split("export ")[0]!;
        for (const table of Object.keys(PRICE_SOURCES)) assert.ok(text.includes(`- ${table}`), `${table} has a source line`);
    });

    it("App Platform: instances × the size's price, one line item", () => {
        const c = appInstancesCost("apps-s-1vcpu-2gb", 3);
        assert.deepEqual(c.items, [{ what: "App Platform apps-s-1vcpu-2gb", quantity: 3, unitUsd: APP_SIZES["apps-s-1vcpu-2gb"], usd: 3 * APP_SIZES["apps-s-1vcpu-2gb"]! }]);
        assert.strictEqual(c.usd, 3 * APP_SIZES["apps-s-1vcpu-2gb"]!);
    });

    it("a cluster: nodes × the node price; a size without a price is not estimated, never guessed", () => {
        assert.strictEqual(dbClusterCost("db-s-2vcpu-4gb", 3).usd, 3 * DB_NODE_SIZES["db-s-2vcpu-4gb"]!);
        const unknown = dbClusterCost("gd-2vcpu-8gb", 2);
        assert.strictEqual(unknown.usd, undefined);
        assert.match(unknown.note!, /no price for database size gd-2vcpu-8gb/);
        assert.strictEqual(appInstancesCost("professional-xs", 1).usd, undefined);
    });

    it("docker: the host's price once, or not estimated; components on it add nothing", () => {
        assert.strictEqual(hostCost(undefined).usd, undefined);
        assert.match(hostCost(undefined).note!, /hostMonthlyCost/);
        assert.deepEqual(hostCost(24).items, [{ what: "Docker host VM", quantity: 1, unitUsd: 24, usd: 24 }]);
        assert.strictEqual(onDockerHost({}).usd, undefined);
        assert.strictEqual(onDockerHost({ hostMonthlyCost: 24 }).usd, 0);
        assert.strictEqual(sumCosts([hostCost(24), onDockerHost({ hostMonthlyCost: 24 }), onDockerHost({ hostMonthlyCost: 24 })]).usd, 24);
    });

    it("a sum is not estimated as soon as one part is, and keeps every line item", () => {
        const s = sumCosts([devDatabaseCost(), dbClusterCost("gd-2vcpu-8gb", 1)]);
        assert.strictEqual(s.usd, undefined);
        assert.strictEqual(s.items.length, 1);
        assert.strictEqual(sumCosts([devDatabaseCost(), appInstancesCost("apps-s-1vcpu-0.5gb", 1)]).usd, DEV_DATABASE + APP_SIZES["apps-s-1vcpu-0.5gb"]!);
    });

    it("formats dollars with cents, and says when there is no figure", () => {
        assert.strictEqual(formatUsd(27), "$27.00");
        assert.strictEqual(formatUsd(12.5), "$12.50");
        assert.strictEqual(formatUsd(undefined), "not estimated");
    });
});
