// The PR comment's monthly cost (cli/preview-comment/cost.ts): which changes move it, and what a
// side that cannot be read says. Figures come from components/core/prices.ts, never typed here.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { APP_SIZES, DEV_DATABASE, appInstancesCost, devDatabaseCost, sumCosts } from "../../components/core/prices";
import { collectChanges } from "../../cli/preview-comment/changes";
import { previewCost } from "../../cli/preview-comment/cost";
import { parseDigest } from "../../cli/preview-comment/parse";
import { DigestBuilder, UNKNOWN, secret } from "./digest-builder";
import { PREVIEWS_DIR } from "./helpers";

const APP = "digitalocean:index/app:App";
const DOAPP = "slipway:targets:DoApp";
const costOf = (b: DigestBuilder) => previewCost(collectChanges(parseDigest(JSON.stringify(b.digest()))));
const real = (name: string) => previewCost(collectChanges(parseDigest(fs.readFileSync(path.join(PREVIEWS_DIR, "real-do-app", `${name}.json`), "utf8"))));
const svc = (count: number, size = "apps-s-1vcpu-1gb", envs: unknown[] = []) => ({ name: "api", instanceCount: count, instanceSizeSlug: size, envs });

describe("preview-comment: monthly cost", () => {
    it("real previews: an image or secret change moves no price; a count or size change does, its old side not known (one secret list)", () => {
        assert.strictEqual(real("a-nochange"), undefined);
        assert.strictEqual(real("b-image"), undefined);
        assert.strictEqual(real("d-secret"), undefined);
        for (const name of ["c1-count", "c2-size"]) {
            const c = real(name)!;
            assert.deepStrictEqual(c.components.map(x => x.component), [{ type: "slipway:service:ApiService", name: "api" }]);
            assert.strictEqual(c.components[0]!.old.usd, undefined);
            assert.match(c.components[0]!.old.note!, /`spec.services` as one secret/);
            assert.ok(c.components[0]!.new.usd! > 0);
            assert.strictEqual(c.total.new.usd, undefined, "no total without the old side");
        }
    });

    it("adding a dev database to a seed-002-like App: + its price, on top of the last update's total", () => {
        const b = new DigestBuilder("staging", "instant-lite", 3);
        const last = sumCosts([appInstancesCost("apps-s-1vcpu-1gb", 2)]);
        b.lastOutputs({ monthlyCost: last });
        const spec = { name: "instant-lite", services: [svc(2)] };
        b.update({
            type: APP, name: "app-app", parent: b.urn(DOAPP, "app"),
            old: { id: "a1", inputs: { spec } },
            new: { inputs: { spec: { ...spec, databases: [{ name: "db", engine: "PG", production: false }] } } },
            detailedDiff: { "spec.databases": "add" },
        });
        const c = costOf(b)!;
        assert.deepStrictEqual(c.components.map(x => [x.component.name, x.old.usd, x.new.usd]), [["db", 0, DEV_DATABASE]]);
        assert.deepStrictEqual(c.total, { old: { usd: last.usd, items: [] }, new: { usd: last.usd! + devDatabaseCost().usd!, items: [] } });
    });

    it("a change beside the priced keys (an env) is no cost change even with the spec's services in it", () => {
        const b = new DigestBuilder("prod");
        b.update({
            type: APP, name: "app-app", parent: b.urn(DOAPP, "app"),
            old: { id: "a1", inputs: { spec: { services: [svc(2, "apps-s-1vcpu-1gb", [{ key: "K", value: secret("old") }])] } } },
            new: { inputs: { spec: { services: [svc(2, "apps-s-1vcpu-1gb", [{ key: "K", value: "[secret]" }])] } } },
            detailedDiff: { "spec.services[0].envs[0].value": "update" },
        });
        assert.strictEqual(costOf(b), undefined);
    });

    it("a new App is priced from 0; an unknown instance count (known after apply) is not known, not guessed", () => {
        const b = new DigestBuilder("prod");
        b.create({ type: APP, name: "app-app", parent: b.urn(DOAPP, "app"), new: { inputs: { spec: { services: [svc(3, "apps-d-1vcpu-2gb")] } } } });
        const c = costOf(b)!;
        assert.strictEqual(c.changed.old.usd, 0);
        assert.strictEqual(c.changed.new.usd, 3 * APP_SIZES["apps-d-1vcpu-2gb"]!);
        const u = new DigestBuilder("prod");
        u.create({ type: APP, name: "app-app", parent: u.urn(DOAPP, "app"), new: { inputs: { spec: { services: [{ name: "api", instanceSizeSlug: "apps-s-1vcpu-1gb", instanceCount: UNKNOWN }] } } } });
        assert.strictEqual(costOf(u)!.changed.new.usd, undefined);
    });
});
