import { strict as assert } from "assert";
import { rotationEpoch } from "../../components/secrets-sync/normalize";

const DAY = 86_400_000;

describe("SecretsSync rotation", () => {
    it("keeps the epoch for the whole window and bumps it exactly at midnight UTC of the boundary", () => {
        const start = 30 * 700 * DAY;
        assert.strictEqual(rotationEpoch(new Date(start), 30), 700);
        assert.strictEqual(rotationEpoch(new Date(start - 1), 30), 699, "one millisecond before");
        assert.strictEqual(rotationEpoch(new Date(start + 30 * DAY - 1), 30), 700, "last millisecond of the window");
        assert.strictEqual(rotationEpoch(new Date(start + 30 * DAY), 30), 701);
    });

    it("gives every run inside a window the same value, whatever the time of day", () => {
        const values = new Set<number>();
        for (let h = 0; h < 90 * 24; h += 7) values.add(rotationEpoch(new Date(90 * 300 * DAY + h * 3_600_000), 90));
        assert.deepEqual([...values], [300]);
    });
});
