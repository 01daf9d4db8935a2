// validateGateway / validateManagedDatabase: the target-neutral normalize, then only the chosen
// target's check. Pure (no Pulumi runtime): the targets are plain values.
import { strict as assert } from "assert";
import { doAppTarget, Target } from "../../components/core/target";
import { validateGateway } from "../../components/gateway";
import { normalizeGateway } from "../../components/gateway/normalize";
import { validateManagedDatabase } from "../../components/managed-database";
import { normalizeManagedDatabase } from "../../components/managed-database/normalize";
import { localArgs, plainDocker } from "./gateway-fixtures";

const doApp = (production = true) => doAppTarget({ appName: "shop", region: "ams", environment: "prod", production });

describe("validate: normalize, then the target's own check", () => {
    it("Gateway: a do-app-only rule is not part of normalize, and does not apply on docker", () => {
        const args = { ...localArgs(plainDocker()), maxBodySize: "1MB", compression: [] as [] };
        assert.equal(validateGateway("g", args).maxBodyBytes, 1_000_000);
        const onDo = { ...args, target: doApp() };
        assert.equal(normalizeGateway("g", onDo).maxBodyBytes, 1_000_000);
        assert.throws(() => validateGateway("g", onDo), /maxBodySize: App Platform has no request body limit/);
    });

    it("Gateway: the docker dial-host rule is checked on docker only", () => {
        const e = { name: "api", port: 8080, replicas: 1, dialHosts: [], healthPath: "/health", readyPath: "/ready" };
        const args = { routes: [{ pathPrefix: "/", service: { endpoint: e } }] };
        assert.throws(() => validateGateway("g", { ...args, target: plainDocker() }), /routes\[0\]\.service\.endpoint\.dialHosts: is empty/);
        assert.equal(validateGateway("g", { ...args, target: doApp() }).routes.length, 1);
    });

    it("ManagedDatabase on docker: the container's settings, and no do block (not even a checked one)", () => {
        const n = validateManagedDatabase("db", { target: plainDocker() as Target, image: "postgres:16-alpine", do: { nodes: 9 } });
        assert.deepEqual(n.docker, { backup: undefined, image: "postgres:16-alpine", postgresUid: 70, memoryMb: 512, publishPort: undefined });
        assert.equal((n as { do?: unknown }).do, undefined);
    });

    it("ManagedDatabase on do-app: the do block from the App's region, and no docker settings", () => {
        const n = validateManagedDatabase("db", { target: doApp(), memoryMb: 1, image: "postgres:15" });
        assert.deepEqual(n.do, { size: "db-s-1vcpu-1gb", nodes: 1, region: "ams3", maintenanceWindow: undefined, pool: undefined, devDatabase: false });
        assert.equal(n.docker, undefined);
    });

    it("ManagedDatabase: normalize alone checks neither target's settings; validate checks the chosen one", () => {
        const args = { target: doApp(), do: { devDatabase: true } };
        assert.equal(normalizeManagedDatabase("db", args).production, true);
        assert.throws(() => validateManagedDatabase("db", args), /do\.devDatabase: a dev database has no backups/);
        // production defaults backups on, from the neutral production flag.
        assert.deepEqual(validateManagedDatabase("db", { target: plainDocker(true) }).docker?.backup, { intervalMinutes: 1440, keep: 7, image: "postgres:16-bookworm" });
    });
});
