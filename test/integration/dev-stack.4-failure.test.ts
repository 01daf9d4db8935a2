import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { RUN_LABEL, TYPES } from "./harness";
import { C, DeployedStack, eventually, gatewayConfig, generatedSecret, request, sharedStack, sleep, teardownShared } from "./stack-under-test";
import { edgeHandlers } from "../helpers/caddy";

/** The gateway's upstream health settings, from the generated Caddy config. */
function upstreamHealth(s: DeployedStack): any {
    const cfg = gatewayConfig(s.resources);
    return edgeHandlers(cfg).find((h: any) => h.handler === "reverse_proxy").health_checks;
}

/**
 * The dev stack on a real engine, part 4 (destructive, so last): Postgres down and back, the
 * gateway killed, then everything the run created removed.
 */

describe("dev stack on a real engine: failures and cleanup", function () {
    this.timeout(10 * 60_000);
    let s: DeployedStack;

    before(async function () {
        this.timeout(25 * 60_000);
        s = await sharedStack();
    });

    /** /health inside each API replica, past the gateway. */
    const replicaHealth = async () => Promise.all(s.apiNames().map(async n =>
        (await s.h.exec(n, ["wget", "-q", "-O", "-", "http://127.0.0.1:8080/health"])).exitCode));

    it("with Postgres stopped, /ready fails while /health stays up; started again, it recovers by itself", async () => {
        const db = s.name(C.db);
        const grace = (await s.h.inspect(db)).Config.StopTimeout ?? 10;
        await s.h.engine.request("POST", `/containers/${encodeURIComponent(db)}/stop?t=${grace}`, { timeoutMs: (grace + 30) * 1000 });
        const failedAfter = await eventually("failing /ready", 20_000, async () => (await request(s.port, "GET", "/ready")).status === 503);
        // Held down past the gateway's active health interval and passive failure budget, probing
        // both endpoints through the gateway as a monitor would.
        const interval = upstreamHealth(s).active.interval as string;
        const holdMs = Number(/^(\d+)s$/.exec(interval)![1]) * 1000 + 3000;
        const seen = { ready: new Map<number, number>(), health: new Map<number, number>() };
        for (const t0 = Date.now(); Date.now() - t0 < holdMs;) {
            for (const p of ["ready", "health"] as const) {
                const st = (await request(s.port, "GET", `/${p}`)).status;
                seen[p].set(st, (seen[p].get(st) ?? 0) + 1);
            }
            await sleep(250);
        }
        console.log(`      Postgres stopped: /ready failing after ${failedAfter} ms; over ${holdMs} ms via the gateway ` +
            `/ready ${JSON.stringify([...seen.ready])}, /health ${JSON.stringify([...seen.health])}`);
        assert.deepEqual([...seen.ready.keys()], [503]);
        assert.deepEqual([...seen.health.keys()], [200], "/health through the gateway stays up");
        assert.deepEqual(await replicaHealth(), [0, 0], "the API processes are alive");
        // A stopped container stays stopped (unless-stopped), so recovery below is the stack's own doing.
        assert.equal((await s.h.inspect(db)).State.Running, false);

        await s.h.engine.request("POST", `/containers/${encodeURIComponent(db)}/start`, { ok: [304] });
        await s.h.waitHealthy([db], 90_000);
        const back = await eventually("ready again", 60_000, async () => (await request(s.port, "GET", "/ready")).status === 200, 500);
        console.log(`      Postgres started: /ready 200 again ${back} ms after it was healthy`);
        const created = await request(s.port, "POST", "/v1/items", { body: { name: "after the outage" } });
        assert.equal(created.status, 201, created.text);
        // The replicas' own probes turned them unhealthy during the outage; Docker flips them back
        // only at their next passing probe, so wait for that (waitHealthy fails fast on "unhealthy").
        await eventually("every API replica healthy again", 60_000, async () => {
            const states = await Promise.all(s.apiNames().map(async n => (await s.h.inspect(n)).State.Health?.Status));
            return states.every(st => st === "healthy");
        });
    });

    it("brings a killed gateway back by its restart policy", async () => {
        const gw = s.name(C.gateway);
        const before = await s.h.inspect(gw);
        assert.equal(before.HostConfig.RestartPolicy.Name, "unless-stopped");
        // A crash, not a `docker stop`/`kill` (which Docker counts as a manual stop): SIGKILL to the
        // container's main process, which this run started.
        process.kill(before.State.Pid, "SIGKILL");
        await eventually("restarted", 30_000, async () => {
            const st = await s.h.inspect(gw);
            return st.RestartCount > before.RestartCount && st.State.Running;
        });
        await s.h.waitHealthy([gw], 60_000);
        assert.equal((await request(s.port, "GET", "/health")).status, 200);
        const after = await s.h.inspect(gw);
        assert.equal(after.Id, before.Id, "the same container, restarted");
        assert.ok(after.State.Pid !== before.State.Pid);
    });

    it("leaves no secret in any log, then removes every container, network and volume it created", async () => {
        const secrets = [generatedSecret(s.resources, "db-password"), generatedSecret(s.resources, "secrets-session-secret"), generatedSecret(s.resources, "cache-password")];
        for (const [logical, name] of s.h.containers) {
            const logs = await s.h.logs(name, 100_000);
            for (const x of secrets) assert.ok(!logs.includes(x), `${logical} logs a secret`);
        }
        // Exactly what the deployed recording declares: nothing left over from the ups before.
        const declared = (type: string) => s.resources.filter(r => r.type === type).length;
        const want = { containers: declared(TYPES.container), networks: declared(TYPES.network), volumes: declared(TYPES.volume) };
        const owned = await s.h.owned();
        assert.deepEqual({ containers: owned.containers.length, networks: owned.networks.length, volumes: owned.volumes.length }, want);
        const removed = await teardownShared();
        assert.deepEqual(removed, want);
        const cli = (what: string) => execFileSync("docker", [what, "ls", ...(what === "container" ? ["-a"] : []), "-q", "--filter", `label=${RUN_LABEL}=${s.h.runId}`], { encoding: "utf8" }).trim();
        assert.equal(cli("container") + cli("network") + cli("volume"), "");
    });
});
