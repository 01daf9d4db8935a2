// What a reviewer of a production change sees: the prod stack's App under mocks in two runs, and
// the diff between them rendered the way `pulumi preview` shows it. The rule modelled is the one
// the real engine showed for the App (issue 8): a list or object under `spec` that holds a secret
// anywhere is printed as one opaque `[secret]`, changed or not. So the test reads the inputs as
// they went over the wire (secrets wrapped where the program made them), not as the SDK's
// deserializer lifts them.
import assert from "node:assert/strict";
import { RecordedResource } from "../../components/testing/recorder";
import { recordInChild } from "../helpers/record-in-child";

const SIG = "4dabf18193072939515e22adb298388d";
const isSecret = (v: unknown): v is { value: unknown } =>
    typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG] === "1b47061264138c4ac30d75fd1eb44270";
const holdsSecret = (v: unknown): boolean =>
    isSecret(v) || (typeof v === "object" && v !== null && Object.values(v).some(holdsSecret));
const reveal = (v: unknown): unknown => isSecret(v) ? reveal(v.value)
    : Array.isArray(v) ? v.map(reveal)
        : typeof v === "object" && v !== null ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)])) : v;

/** `path: old => new` lines, as a preview prints an update's property diff. */
function previewDiff(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
    const lines: string[] = [];
    const walk = (p: string, a: unknown, b: unknown) => {
        if (JSON.stringify(reveal(a)) === JSON.stringify(reveal(b))) return;
        const objects = typeof a === "object" && a !== null && typeof b === "object" && b !== null && !isSecret(a) && !isSecret(b);
        if (!objects) {
            lines.push(`${p}: ${JSON.stringify(a)} => ${JSON.stringify(b)}`);
            return;
        }
        for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
            walk(Array.isArray(a) ? `${p}[${k}]` : `${p}.${k}`, (a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
        }
    };
    const spec = (r: Record<string, unknown>) => (isSecret(r.spec) ? r.spec.value : r.spec) as Record<string, unknown>;
    const [sa, sb] = [spec(before), spec(after)];
    for (const k of [...new Set([...Object.keys(sa), ...Object.keys(sb)])].sort()) {
        if (holdsSecret(sa[k]) || holdsSecret(sb[k])) {
            if (JSON.stringify(reveal(sa[k])) !== JSON.stringify(reveal(sb[k]))) lines.push(`spec.${k}: [secret] => [secret]`);
            continue;
        }
        walk(`spec.${k}`, sa[k], sb[k]);
    }
    return lines;
}

async function prodApp(overrides: Record<string, unknown>, stripeKey: string): Promise<RecordedResource> {
    const apps = await recordInChild({ stack: "prod", overrides, types: ["digitalocean:index/app:App"] }, { STRIPE_SECRET_KEY: stripeKey });
    assert.equal(apps.length, 1);
    return apps[0]!;
}

const PLANTED = "sk_live_planted_value_9c1e";

describe("prod App preview", function () {
    this.timeout(60_000);
    const services = (image: string) => ({
        "slipway:services": { api: { image, replicas: 2, instanceSize: "apps-s-1vcpu-1gb", port: 8080, env: { SLIPWAY_ENVIRONMENT: "prod" } } },
    });

    it("shows an image change in the clear and every secret as [secret]", async () => {
        const a = await prodApp(services("registry.digitalocean.com/slipway/example-api:1.0.0"), PLANTED);
        const b = await prodApp(services("registry.digitalocean.com/slipway/example-api:1.0.1"), PLANTED);
        const diff = previewDiff(a.wire, b.wire);
        assert.deepEqual(diff, ['spec.services[0].image.tag: "1.0.0" => "1.0.1"'], diff.join("\n"));
        // The secrets exist, they are just not in the services.
        const services0 = (isSecret(a.wire.spec) ? a.wire.spec.value : a.wire.spec) as { services: unknown; envs: unknown };
        assert.equal(holdsSecret(services0.services), false, "no secret in spec.services");
        assert.equal(holdsSecret(services0.envs), true, "the secrets are app-level envs");
        assert.ok(!JSON.stringify(diff).includes(PLANTED));
    });

    it("shows a secret rotation as a change of spec.envs, without the value", async () => {
        const img = services("registry.digitalocean.com/slipway/example-api:1.0.0");
        const a = await prodApp(img, PLANTED);
        const b = await prodApp(img, `${PLANTED}-rotated`);
        const diff = previewDiff(a.wire, b.wire);
        assert.deepEqual(diff, ["spec.envs: [secret] => [secret]"], diff.join("\n"));
        assert.ok(!JSON.stringify(diff).includes(PLANTED));
    });
});
