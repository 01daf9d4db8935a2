import { strict as assert } from "assert";
import type { Target } from "../../components/core/target";
import { Recorder } from "../../components/testing/recorder";
import { expectConfigError } from "../helpers/config-error";
import { dockerTarget, doTarget, freshRecorder } from "../helpers/harness";

describe("ManagedCache bad input", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    /** Build with a target made beforehand (see expectConfigError). */
    async function rejects(target: Target, args: Record<string, unknown>, path: string, problem: RegExp, fix: RegExp, name = "cache") {
        const { ManagedCache } = await import("../../components/managed-cache");
        return expectConfigError(rec, () => new ManagedCache(name, { target, ...args } as never),
            { component: `ManagedCache "${name}"`, path, problem, fix });
    }

    it("rejects an unknown eviction policy, suggesting the closest", async () => {
        await rejects(await dockerTarget(), { evictionPolicy: "allkeys-lur" }, "evictionPolicy", /"allkeys-lur" is not an eviction policy/, /did you mean "allkeys-lru"/);
    });

    it("reads DigitalOcean's API spelling of a policy as a typo of Valkey's", async () => {
        await rejects(await doTarget(), { evictionPolicy: "allkeys_lru" }, "evictionPolicy", /"allkeys_lru" is not an eviction policy/, /did you mean "allkeys-lru"/);
    });

    it("rejects an LFU policy, which DigitalOcean's Valkey does not offer, on both targets", async () => {
        const e = await rejects(await dockerTarget(), { evictionPolicy: "allkeys-lfu" }, "evictionPolicy", /DigitalOcean's managed Valkey does not offer/, /allkeys-lru/);
        assert.match(e.fix, /volatile-ttl/, "the fix lists the policies both targets take");
    });

    it("rejects an eviction policy of the wrong type before its meaning", async () => {
        await rejects(await dockerTarget(), { evictionPolicy: 3 }, "evictionPolicy", /must be a string, got the number 3/, /quote it/);
    });

    it("rejects an unknown key with a did-you-mean", async () => {
        await rejects(await dockerTarget(), { maxMemoryMB: 256 }, "maxMemoryMB", /is not a known setting/, /maxMemoryMb/);
    });

    it("rejects a maxmemory below 16 MB", async () => {
        await rejects(await dockerTarget(), { maxMemoryMb: 8 }, "maxMemoryMb", /from 16 to 65536, got 8/, /between 16 and 65536/);
    });

    it("rejects a fractional maxmemory", async () => {
        await rejects(await dockerTarget(), { maxMemoryMb: 100.5 }, "maxMemoryMb", /whole number from 16 to 65536, got 100.5/, /whole number between 16 and 65536/);
    });

    it("rejects a container limit without room above maxmemory", async () => {
        const e = await rejects(await dockerTarget(), { maxMemoryMb: 256, memoryMb: 256 }, "memoryMb", /leaves no room above maxMemoryMb \(256 MB\)/, /at least 288/);
        assert.match(e.problem, /kernel kills Valkey/);
    });

    it("rejects a privileged publish port", async () => {
        await rejects(await dockerTarget(), { publishPort: 80 }, "publishPort", /from 1024 to 65535, got 80/, /between 1024 and 65535/);
    });

    it("rejects persistence given as a string (a YAML author's \"yes\")", async () => {
        await rejects(await dockerTarget(), { persistence: "yes" }, "persistence", /is the string "yes", not a boolean/, /write true/);
    });

    it("rejects an image reference with spaces", async () => {
        await rejects(await dockerTarget(), { image: "valkey/valkey 8" }, "image", /is not an image reference/, /valkey\/valkey:8.0-bookworm/);
    });

    it("rejects a metrics image that is empty", async () => {
        await rejects(await dockerTarget(), { metrics: { image: " " } }, "metrics.image", /is not an image reference/, /redis_exporter/);
    });

    it("rejects metrics given as a list", async () => {
        await rejects(await dockerTarget(), { metrics: ["slipway/valkey:local"] }, "metrics", /must be a mapping such as \{ image: .* \}, or false, got a list/, /or false/);
    });

    it("rejects a PostgreSQL-only node size on DigitalOcean, suggesting a Valkey one", async () => {
        await rejects(await doTarget(), { do: { size: "db-s-1vcpu-1gbb" } }, "do.size", /is not a DigitalOcean Valkey node size/, /did you mean "db-s-1vcpu-1gb"/);
    });

    it("rejects a general-purpose size Valkey is not offered on", async () => {
        await rejects(await doTarget(), { do: { size: "gd-2vcpu-8gb" } }, "do.size", /"gd-2vcpu-8gb" is not a DigitalOcean Valkey node size/, /m-2vcpu-16gb/);
    });

    it("rejects standby nodes on the 1 GB size", async () => {
        await rejects(await doTarget(), { do: { nodes: 2 } }, "do.nodes", /db-s-1vcpu-1gb runs as a single node/, /db-s-1vcpu-2gb/);
    });

    it("rejects four nodes", async () => {
        await rejects(await doTarget(), { do: { size: "db-s-1vcpu-2gb", nodes: 4 } }, "do.nodes", /from 1 to 3, got 4/, /between 1 and 3/);
    });

    it("rejects an App region where a datacenter slug is expected, naming the slug", async () => {
        await rejects(await doTarget(), { do: { region: "fra" } }, "do.region", /"fra" is an App Platform region, not a datacenter slug/, /"fra1"/);
    });

    it("rejects a datacenter without managed Valkey, suggesting the closest", async () => {
        await rejects(await doTarget(), { do: { region: "ams2" } }, "do.region", /not a datacenter DigitalOcean offers managed Valkey in/, /did you mean "ams3"/);
    });

    it("rejects a name that cannot be a network alias or App database name", async () => {
        await rejects(await dockerTarget(), {}, "name", /"Cache_1" cannot be a network alias/, /lowercase letters/, "Cache_1");
    });

    it("rejects a missing target", async () => {
        const { ManagedCache } = await import("../../components/managed-cache");
        await expectConfigError(rec, () => new ManagedCache("cache", {} as never),
            { component: 'ManagedCache "cache"', path: "target", problem: /is missing/, fix: /doAppTarget/ });
    });

    it("rejects an unknown transform key", async () => {
        await rejects(await dockerTarget(), { transform: { server: {} } }, "transform.server", /is not a known setting/, /image, container, volume, password, exporter, exporterImage, cluster/);
    });
});
