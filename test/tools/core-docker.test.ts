// core/docker's read-back helpers against the real thing: goDuration is compared with Go's own
// time.Duration.String() (the provider reads healthcheck durations back through it), run here.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { goDuration } from "../../components/core/docker";

const GO_PROGRAM = `package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// One nanosecond count per argument in, one time.Duration.String() per line out.
func main() {
	for _, a := range os.Args[1:] {
		ns, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			panic(err)
		}
		fmt.Println(time.Duration(ns).String())
	}
}
`;

/** Go's time.Duration(ns).String() for each count, from a real `go run`. */
function goStrings(nanos: bigint[]): string[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-goduration-"));
    try {
        fs.writeFileSync(path.join(dir, "main.go"), GO_PROGRAM);
        const r = spawnSync("go", ["run", "main.go", ...nanos.map(String)], {
            cwd: dir, encoding: "utf8", timeout: 120_000, env: { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "" },
        });
        if (r.error) throw new Error(`go run failed: ${r.error.message} (Go is needed: npm test builds the example API with it too)`);
        assert.equal(r.status, 0, `go run failed:\n${r.stderr}`);
        return r.stdout.trimEnd().split("\n");
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const nanos = (seconds: number) => BigInt(Math.round(seconds * 1e9));

// The readable contract test/unit/core-docker.test.ts holds goDuration to; the test below re-checks it with Go.
const GO_FORM: [number, string][] = [
    [0.5, "500ms"], [5, "5s"], [59, "59s"], [60, "1m0s"], [61, "1m1s"], [90, "1m30s"], [3600, "1h0m0s"], [3661, "1h1m1s"],
];

describe("core/docker goDuration against Go", function () {
    this.timeout(150_000);

    it("matches Go itself on the table and on fractions, sub-second, sub-millisecond and long values", () => {
        const extra = [0, 1e-9, 5e-7, 5e-4, 1.5e-3, 0.001, 0.25, 0.999, 1, 1.5, 1.0001, 10.125, 59.9996, 119, 120, 599.5,
            900, 3599, 7322.5, 86400, 90061.000001, 100000];
        // A deterministic spread of whole and fractional values as well.
        for (let i = 1; i <= 60; i++) extra.push((i * i * 7919) % 200000, ((i * 104729) % 1000000) / 1000);
        const seconds = [...GO_FORM.map(([s]) => s), ...extra];
        const go = goStrings(seconds.map(nanos));
        assert.equal(go.length, seconds.length);
        const ours = seconds.map(goDuration);
        const diff = seconds.map((s, i) => [s, ours[i], go[i]]).filter(([, a, b]) => a !== b);
        assert.deepEqual(diff, [], "goDuration disagrees with Go on [seconds, ours, Go]");
        for (const [s, want] of GO_FORM) assert.equal(go[seconds.indexOf(s)], want, `the literal for ${s}s is Go's`);
    });
});
