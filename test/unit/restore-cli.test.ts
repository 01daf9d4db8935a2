// `npm run restore` / `slipway restore` arguments: the identity is required for a restore (it is
// piped to the sidecar), not for --list; unknown flags and missing values are usage errors.
import { strict as assert } from "assert";
import { parseRestoreArgs } from "../../cli/restore";
import { UsageError } from "../../cli/preview-comment/cli";

describe("restore command arguments", () => {
    it("reads the stack, the object, the target database and the identity file", () => {
        assert.deepEqual(parseRestoreArgs(["prod", "--from", "shop-20260101T000000Z.dump.age", "--into", "shop_copy", "--identity", "id.txt"], {}),
            { stack: "prod", list: false, identity: "id.txt", from: "shop-20260101T000000Z.dump.age", into: "shop_copy" });
    });

    it("takes the identity from SLIPWAY_BACKUP_IDENTITY, and needs none to list", () => {
        assert.equal(parseRestoreArgs(["prod"], { SLIPWAY_BACKUP_IDENTITY: "/keys/id.txt" }).identity, "/keys/id.txt");
        assert.equal(parseRestoreArgs(["prod", "--list"], {}).list, true);
        assert.throws(() => parseRestoreArgs(["prod"], {}), (e: Error) => e instanceof UsageError && /--identity/.test(e.message));
    });

    it("refuses a missing stack, a flag without its value and an unknown flag", () => {
        assert.throws(() => parseRestoreArgs(["--list"], {}), UsageError);
        assert.throws(() => parseRestoreArgs(["prod", "--from", "--list"], {}), /--from needs a value/);
        assert.throws(() => parseRestoreArgs(["prod", "--force"], {}), /unexpected argument "--force"/);
        assert.throws(() => parseRestoreArgs(["prod", "dev"], {}), /unexpected argument "dev"/);
    });
});
