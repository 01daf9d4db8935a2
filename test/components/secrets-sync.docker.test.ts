import { strict as assert } from "assert";
import { Recorder, isSecretValue, redact, secretness, valueOf } from "../../components/testing/recorder";
import { dockerTarget, freshRecorder } from "../helpers/harness";

const PASSWORD = "random:index/randomPassword:RandomPassword";
const CONTAINER = "docker:index/container:Container";
const STRIPE = "sk_live_plaintext_for_tests_only";
const DAY = 86_400_000;

describe("SecretsSync on docker", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    async function sync(now: Date, extra: Record<string, unknown> = {}) {
        const { SecretsSync } = await import("../../components/secrets-sync");
        return new SecretsSync("secrets", {
            target: await dockerTarget(),
            secrets: {
                STRIPE_KEY: { value: STRIPE },
                DB_PASSWORD: { generate: {} },
                SESSION_SECRET: { generate: { rotationDays: 30, length: 48, special: true } },
            },
            now: () => now,
            ...extra,
        } as any);
    }

    it("generates random passwords with a rotation keeper and wraps every value as secret", async () => {
        const s = await sync(new Date(Date.UTC(2030, 0, 1)));
        await rec.settle();
        assert.deepEqual(s.keys, ["DB_PASSWORD", "SESSION_SECRET", "STRIPE_KEY"]);
        const db = rec.get(PASSWORD, "secrets-db-password").inputs as any;
        assert.deepEqual({ length: db.length, special: db.special }, { length: 32, special: false });
        const days = Math.floor(Date.UTC(2030, 0, 1) / DAY);
        assert.deepEqual(db.keepers, { rotation: `90d#${Math.floor(days / 90)}` });
        const session = rec.get(PASSWORD, "secrets-session-secret").inputs as any;
        assert.deepEqual({ length: session.length, special: session.special, keepers: session.keepers },
            { length: 48, special: true, keepers: { rotation: `30d#${Math.floor(days / 30)}` } });
        for (const k of s.keys) assert.strictEqual(await secretness(s.values[k]!), true, `${k} is secret`);
        assert.strictEqual(await valueOf(s.values.STRIPE_KEY!), STRIPE);
        assert.deepEqual(rec.ofType(PASSWORD).map(r => r.parent), rec.ofType(PASSWORD).map(() => rec.get("slipway:secrets:SecretsSync", "secrets").urn));
    });

    it("keeps the keeper stable inside a window and changes it exactly at the boundary", async () => {
        const boundary = 90 * 228 * DAY; // a multiple of 90 days since the epoch
        const keeper = async (t: number) => {
            rec.clear();
            await sync(new Date(t));
            await rec.settle();
            return (rec.get(PASSWORD, "secrets-db-password").inputs as any).keepers.rotation;
        };
        const before = await keeper(boundary - 1);
        assert.strictEqual(await keeper(boundary - 89 * DAY), before, "same window, same keeper: no diff on re-runs");
        const after = await keeper(boundary);
        assert.notStrictEqual(after, before, "rotates at the boundary");
        assert.strictEqual(after, "90d#228");
        assert.strictEqual(await keeper(boundary + 89 * DAY + DAY - 1), after);
    });

    it("links every secret to a service, which receives them as files, and pick() narrows the set", async () => {
        const s = await sync(new Date(Date.UTC(2030, 0, 1)));
        const { ApiService } = await import("../../components/api-service");
        const target = await dockerTarget();
        new ApiService("api", { target, image: "ghcr.io/acme/api:1", link: [s] });
        new ApiService("worker", { target, image: "ghcr.io/acme/worker:1", link: [s.pick("STRIPE_KEY")] });
        await rec.settle();
        // Replica 1 of each service (logical names carry the release: `<service>-<release>-1`).
        const first = (svc: string) => rec.ofType(CONTAINER).find(c => new RegExp(`^${svc}-[0-9a-f]{8}-1$`).test(c.name))!;
        const api = first("api").inputs as any;
        assert.deepEqual(redact(api.envs, true), ["DB_PASSWORD_FILE=/run/secrets/DB_PASSWORD", "PORT=8080", "SESSION_SECRET_FILE=/run/secrets/SESSION_SECRET", "STRIPE_KEY_FILE=/run/secrets/STRIPE_KEY"]);
        assert.ok(!JSON.stringify(redact(api.envs, true)).includes(STRIPE));
        const worker = first("worker").inputs as any;
        assert.deepEqual(redact(worker.envs, true), ["PORT=8080", "STRIPE_KEY_FILE=/run/secrets/STRIPE_KEY"]);
        assert.ok(isSecretValue(worker.uploads) || isSecretValue(worker.uploads[0].content));
        assert.deepEqual((redact(worker.uploads, true) as any[]).map(u => u.content), [STRIPE]);
    });

    it("creates nothing but its passwords on docker", async () => {
        await sync(new Date(Date.UTC(2030, 0, 1)));
        await rec.settle();
        const own = rec.descendants(rec.get("slipway:secrets:SecretsSync", "secrets").urn).map(r => r.type);
        assert.deepEqual(own, [PASSWORD, PASSWORD]);
    });
});
