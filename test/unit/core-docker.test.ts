// core/docker's read-back helpers: the forms the Docker provider reads back (Go durations, labels,
// log options). test/tools/core-docker.test.ts checks goDuration against Go itself.
import { strict as assert } from "assert";
import { capabilitySet, goDuration, jsonFileLogs, labelList, memoryLimit, parseGoDuration } from "../../components/core/docker";

// Checked once against Go and kept as the readable contract; test/tools/core-docker.test.ts re-checks them with Go.
const GO_FORM: [number, string][] = [
    [0.5, "500ms"], [5, "5s"], [59, "59s"], [60, "1m0s"], [61, "1m1s"], [90, "1m30s"], [3600, "1h0m0s"], [3661, "1h1m1s"],
];

describe("core/docker read-back helpers", () => {
    it("prints healthcheck durations as Go's time.Duration.String() does", () => {
        for (const [s, want] of GO_FORM) assert.equal(goDuration(s), want, `${s}s`);
    });

    it("refuses what is not a duration", () => {
        for (const bad of [-1, NaN, Infinity]) assert.throws(() => goDuration(bad), /not a duration/);
        assert.throws(() => goDuration(1e10), /too long/);
    });

    it("parses every Go spelling, so a test can tell the read-back form from the others", () => {
        for (const [text, s] of [["60s", 60], ["1m0s", 60], ["1m", 60], ["1.5s", 1.5], ["500ms", 0.5], ["1h1m1s", 3661],
            ["90s", 90], ["0s", 0], ["0", 0], ["250us", 0.00025], ["250\u00b5s", 0.00025], ["1h30m", 5400]] as const) {
            assert.equal(parseGoDuration(text), s, text);
        }
        for (const bad of ["", "60", "1x", "m", "1m 0s"]) assert.throws(() => parseGoDuration(bad), /not a Go duration/, bad);
        assert.equal(goDuration(parseGoDuration("1m0s")), "1m0s");
        assert.notEqual(goDuration(parseGoDuration("60s")), "60s", "the form that diffs on every preview");
    });

    it("pins swap to memory, sorts labels and bounds json-file logs", () => {
        assert.deepEqual(memoryLimit(512), { memory: 512, memorySwap: 512 });
        assert.deepEqual(labelList({ b: "2", a: "1" }), [{ label: "a", value: "1" }, { label: "b", value: "2" }]);
        assert.deepEqual(jsonFileLogs(), { logDriver: "json-file", logOpts: { "max-size": "10m", "max-file": "3" } });
    });

    it("writes capabilities as the engine reports them: CAP_ prefix, upper case, ALL as is, sorted, no duplicates", () => {
        assert.deepEqual(capabilitySet({ drop: ["ALL"], add: ["SETUID", "dac_read_search", "CAP_SETGID", "SETUID"] }),
            { drops: ["ALL"], adds: ["CAP_DAC_READ_SEARCH", "CAP_SETGID", "CAP_SETUID"] });
        assert.deepEqual(capabilitySet({ drop: ["NET_RAW"] }), { drops: ["CAP_NET_RAW"] });
        assert.deepEqual(capabilitySet({}), {});
        assert.throws(() => capabilitySet({ add: ["NET RAW"] }), /not a capability name/);
    });
});
