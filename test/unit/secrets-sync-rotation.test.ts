import { strict as assert } from "assert";
import { rotationEpoch, secretsRevision } from "../../components/secrets-sync/normalize";

const DAY = 86_400_000;

describe("SecretsSync rotation and revision", () => {
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

    it("fingerprints keys and values order-independently, 16 hex characters", () => {
        const a = secretsRevision("k", [["A", "1"], ["B", "2"]]);
        assert.match(a, /^[0-9a-f]{16}$/);
        assert.strictEqual(secretsRevision("k", [["B", "2"], ["A", "1"]]), a);
        assert.notStrictEqual(secretsRevision("k", [["A", "1"], ["B", "3"]]), a, "a value change shows");
        assert.notStrictEqual(secretsRevision("k", [["A", "1"], ["C", "2"]]), a, "a key rename shows");
        assert.notStrictEqual(secretsRevision("other-stack", [["A", "1"], ["B", "2"]]), a, "keyed per stack");
        assert.notStrictEqual(secretsRevision("k", [["AB", "C"]]), secretsRevision("k", [["A", "BC"]]), "no boundary ambiguity");
    });
});
