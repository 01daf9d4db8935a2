/**
 * Constructed previews of our own stacks. `npm run`-free regeneration: the fixtures test writes
 * test/fixtures/previews/*.json from these builders when UPDATE_GOLDEN=1 and otherwise checks the
 * committed files still match them.
 */
import { DigestBuilder, UNKNOWN, secret } from "./digest-builder";
import { appInstancesCost, dbClusterCost, sumCosts } from "../../components/core/prices";

/** Plaintext planted inside secret values; none may ever appear in rendered output. */
export const PLANTED = {
    pgPassword: "PLANTED-pg-pass-3f9c1a7e",
    pgPasswordOld: "PLANTED-pg-pass-old-55d2",
    dbUrl: "PLANTED-postgres://orders:hunter2@db:5432/orders",
    doUserPassword: "PLANTED-do-user-9a1b",
    doClusterUri: "PLANTED-do-uri-77e0",
    apiKey: "PLANTED-api-key-c0ffee",
};
export const PLANTED_VALUES = Object.values(PLANTED);

const MD = "slipway:database:ManagedDatabase";
const SVC = "slipway:service:ApiService";
const GW = "slipway:gateway:Gateway";
const DOAPP = "slipway:targets:DoApp";

const pgUpload = (pass: unknown) => ({ file: "/run/secrets/POSTGRES_PASSWORD", content: pass, permissions: "0400", owner: 999 });
const labels = (kind: string, name: string) => [
    { label: "slipway.component", value: kind }, { label: "slipway.name", value: name },
];

/** Docker target: the Postgres volume is replaced (driver options changed); the DB container follows. */
function postgresVolumeReplace(): DigestBuilder {
    const b = new DigestBuilder("dev", "slipway-demo", 9);
    const db = b.urn(MD, "orders");
    b.replace({
        type: "docker:index/volume:Volume", name: "orders-data", parent: db,
        old: { id: "orders-data-7f3a1c2", retainOnDelete: true, inputs: { name: "orders-data-7f3a1c2", driver: "local", driverOpts: { type: "none", o: "bind", device: "/srv/pg" }, labels: labels("ManagedDatabase", "orders") } },
        new: { retainOnDelete: true, inputs: { name: "orders-data-2c9e4b1", driver: "local", driverOpts: { type: "none", o: "bind", device: "/mnt/fast/pg" }, labels: labels("ManagedDatabase", "orders") } },
        replaceReasons: ["driverOpts"],
        detailedDiff: { "driverOpts.device": "update-replace", "name": "update" },
    });
    b.replace({
        type: "docker:index/container:Container", name: "orders-db", parent: db,
        old: { id: "c0ffee01", inputs: { image: "postgres:16.4", volumes: [{ volumeName: "orders-data-7f3a1c2", containerPath: "/var/lib/postgresql/data" }], envs: ["POSTGRES_PASSWORD_FILE=/run/secrets/POSTGRES_PASSWORD", "POSTGRES_USER=orders"], uploads: [pgUpload(secret(PLANTED.pgPassword))] } },
        new: { inputs: { image: "postgres:16.4", volumes: [{ volumeName: UNKNOWN, containerPath: "/var/lib/postgresql/data" }], envs: ["POSTGRES_PASSWORD_FILE=/run/secrets/POSTGRES_PASSWORD", "POSTGRES_USER=orders"], uploads: [pgUpload(secret(PLANTED.pgPassword))] } },
        replaceReasons: ["volumes"],
        detailedDiff: { "volumes[0].volumeName": "update-replace" },
    });
    const api = b.urn(SVC, "api");
    for (const i of [1, 2]) {
        b.update({
            type: "docker:index/container:Container", name: `api-${i}`, parent: api,
            old: { id: `a${i}`, inputs: { image: "ghcr.io/acme/api:1.4.0", envs: ["PORT=8080", "DATABASE_URL_FILE=/run/secrets/DATABASE_URL"], uploads: [{ file: "/run/secrets/DATABASE_URL", content: secret(PLANTED.dbUrl) }] } },
            new: { inputs: { image: "ghcr.io/acme/api:1.5.0", envs: ["PORT=8080", "DATABASE_URL_FILE=/run/secrets/DATABASE_URL"], uploads: [{ file: "/run/secrets/DATABASE_URL", content: "[secret]" }] } },
            diffReasons: ["image"], detailedDiff: { image: "update" },
        });
    }
    const edge = b.urn(GW, "edge");
    b.update({
        type: "docker:index/container:Container", name: "edge-caddy", parent: edge,
        old: { id: "e1", inputs: { image: "slipway/caddy:2.10.2", uploads: [{ file: "/etc/caddy/caddy.json", content: "{\"apps\":{\"http\":{\"servers\":{\"edge\":{\"listen\":[\":80\"]}}}}}" }] } },
        new: { inputs: { image: "slipway/caddy:2.10.2", uploads: [{ file: "/etc/caddy/caddy.json", content: "{\"apps\":{\"http\":{\"servers\":{\"edge\":{\"listen\":[\":80\",\":443\"]}}}}}" }] } },
        diffReasons: ["uploads"], detailedDiff: { "uploads[0].content": "update" },
    });
    return b;
}

/** DO App Platform: the ManagedDatabase was removed from the program, so its cluster goes. */
function doDatabaseClusterDelete(): DigestBuilder {
    const b = new DigestBuilder("prod", "slipway-demo", 14);
    const app = b.urn(DOAPP, "app");
    b.update({
        type: "digitalocean:index/app:App", name: "app", parent: app,
        old: { id: "5e1f", inputs: { spec: { name: "slipway-demo", region: "fra", services: [{ name: "api", envs: [{ key: "DATABASE_URL", value: secret(PLANTED.dbUrl), type: "SECRET", scope: "RUN_TIME" }] }] } } },
        new: { inputs: { spec: { name: "slipway-demo", region: "fra", services: [{ name: "api", envs: [] }] } } },
        diffReasons: ["spec"], detailedDiff: null,
    });
    const edge = b.urn(GW, "edge");
    b.update({
        type: "cloudflare:index/dnsRecord:DnsRecord", name: "edge-www", parent: edge,
        old: { id: "r1", inputs: { zoneId: "z1", name: "www.example.com", type: "CNAME", content: "slipway-demo.ondigitalocean.app", proxied: false, ttl: 1 } },
        new: { inputs: { zoneId: "z1", name: "www.example.com", type: "CNAME", content: "slipway-demo.ondigitalocean.app", proxied: true, ttl: 1 } },
        diffReasons: ["proxied"], detailedDiff: { proxied: "update" },
    });
    b.delete({
        type: "cloudflare:index/dnsRecord:DnsRecord", name: "edge-verify", parent: edge,
        old: { id: "r2", inputs: { zoneId: "z1", name: "_verify.example.com", type: "TXT", content: "v=ok", ttl: 3600 } },
    });
    const db = b.urn(MD, "orders");
    const cluster = { clusterId: "9c2d0a4e" };
    b.delete({ type: "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool", name: "orders-pool", parent: db, old: { id: "p1", inputs: { ...cluster, name: "orders-pool", dbName: "orders", mode: "transaction", size: 10, user: "orders" } } });
    b.delete({ type: "digitalocean:index/databaseUser:DatabaseUser", name: "orders-user", parent: db, old: { id: "u1", inputs: { ...cluster, name: "orders" }, outputs: { name: "orders", password: secret(PLANTED.doUserPassword) } } });
    b.delete({ type: "digitalocean:index/databaseDb:DatabaseDb", name: "orders-db", parent: db, old: { id: "d1", inputs: { ...cluster, name: "orders" } } });
    b.delete({
        type: "digitalocean:index/databaseCluster:DatabaseCluster", name: "orders-cluster", parent: db,
        old: { id: "9c2d0a4e", inputs: { name: "orders-pg", engine: "pg", version: "16", region: "fra1", size: "db-s-1vcpu-1gb", nodeCount: 1 }, outputs: { uri: secret(PLANTED.doClusterUri), host: "orders-pg-do-user-1.db.ondigitalocean.com" } },
    });
    b.delete({ type: MD, name: "orders", old: {} });
    return b;
}

/** A region change would replace the protected production cluster: the engine fails the preview. */
function protectedReplaceFailure(): DigestBuilder {
    const b = new DigestBuilder("prod", "slipway-demo", 20);
    const db = b.urn(MD, "orders");
    const clusterUrn = b.replace({
        type: "digitalocean:index/databaseCluster:DatabaseCluster", name: "orders-cluster", parent: db,
        old: { id: "9c2d0a4e", protect: true, inputs: { name: "orders-pg", engine: "pg", version: "16", region: "fra1", size: "db-s-1vcpu-1gb", nodeCount: 1 } },
        new: { protect: true, inputs: { name: "orders-pg", engine: "pg", version: "16", region: "ams3", size: "db-s-1vcpu-1gb", nodeCount: 1 } },
        replaceReasons: ["region"], detailedDiff: { region: "update-replace" },
    });
    const edge = b.urn(GW, "edge");
    b.replace({
        type: "cloudflare:index/dnsRecord:DnsRecord", name: "edge-api", parent: edge,
        old: { id: "r9", inputs: { zoneId: "z1", name: "api.example.com", type: "A", content: "203.0.113.10", proxied: true, ttl: 1 } },
        new: { inputs: { zoneId: "z2", name: "api.example.com", type: "A", content: "203.0.113.10", proxied: true, ttl: 1 } },
        replaceReasons: ["zoneId"], detailedDiff: { zoneId: "update-replace" },
    });
    b.diagnostic("error", `error: unable to replace resource "${clusterUrn}"\nas it is currently marked for protection. To unprotect the resource, remove the \`protect\` flag from the resource in your Pulumi program and run \`pulumi up\``, clusterUrn);
    b.diagnostic("error", "error: preview failed");
    return b;
}

/** The generated DB password is rotated: the password resource is replaced, its consumers update. */
function secretRotation(): DigestBuilder {
    const b = new DigestBuilder("dev", "slipway-demo", 11);
    const db = b.urn(MD, "orders");
    b.replace({
        type: "random:index/randomPassword:RandomPassword", name: "orders-password", parent: db,
        old: { id: "none", inputs: { length: 32, special: false, keepers: { rotation: "2026-01" } }, outputs: { result: secret(PLANTED.pgPasswordOld), length: 32 } },
        new: { inputs: { length: 32, special: false, keepers: { rotation: "2026-04" } }, outputs: { result: UNKNOWN } },
        replaceReasons: ["keepers"], detailedDiff: { "keepers.rotation": "update-replace" },
    });
    const dbContainer = b.update({
        type: "docker:index/container:Container", name: "orders-db", parent: db,
        old: { id: "c0ffee01", inputs: { image: "postgres:16.4", volumes: [{ volumeName: "orders-data-7f3a1c2", containerPath: "/var/lib/postgresql/data" }], uploads: [pgUpload(secret(PLANTED.pgPasswordOld))] } },
        new: { inputs: { image: "postgres:16.4", volumes: [{ volumeName: "orders-data-7f3a1c2", containerPath: "/var/lib/postgresql/data" }], uploads: [pgUpload(secret(PLANTED.pgPassword))] } },
        diffReasons: ["uploads"], detailedDiff: { "uploads[0].content": "update" },
    });
    const api = b.urn(SVC, "api");
    b.update({
        type: "docker:index/container:Container", name: "api-1", parent: api,
        old: { id: "a1", inputs: { image: "ghcr.io/acme/api:1.5.0", uploads: [{ file: "/run/secrets/DATABASE_URL", content: secret(PLANTED.dbUrl) }, { file: "/run/secrets/API_KEY", content: secret(PLANTED.apiKey) }] } },
        new: { inputs: { image: "ghcr.io/acme/api:1.5.0", uploads: [{ file: "/run/secrets/DATABASE_URL", content: "[secret]" }, { file: "/run/secrets/API_KEY", content: secret(PLANTED.apiKey) }] } },
        diffReasons: ["uploads"], detailedDiff: { "uploads[0].content": "update" },
    });
    // A provider that writes raw terminal colour into its warning (seen with some bridged providers).
    b.diagnostic("warning", "warning: \u001b[33mdocker:index/container:Container\u001b[0m \u001b[1morders-db\u001b[0m: the `restart` field is deprecated; use `restartPolicy`\u001b]8;;https://example.invalid\u0007\u001b]8;;\u0007", dbContainer);
    return b;
}

/** 500+ steps: a busy prod stack. Detail must be trimmed to fit, the one data-loss risk must not. */
export function largePreview(services = 52): DigestBuilder {
    const b = new DigestBuilder("prod", "slipway-demo", 40);
    const edge = b.urn(GW, "edge");
    for (let s = 1; s <= services; s++) {
        const svc = b.urn(SVC, `svc-${String(s).padStart(2, "0")}`);
        const name = `svc-${String(s).padStart(2, "0")}`;
        for (let r = 1; r <= 4; r++) {
            b.update({
                type: "docker:index/container:Container", name: `${name}-${r}`, parent: svc,
                old: { id: `${s}-${r}`, inputs: { image: `ghcr.io/acme/${name}:2.${s}.0`, memory: 256, envs: [`PORT=${8000 + s}`] } },
                new: { inputs: { image: `ghcr.io/acme/${name}:2.${s}.1`, memory: 384, envs: [`PORT=${8000 + s}`] } },
                diffReasons: ["image", "memory"], detailedDiff: { image: "update", memory: "update" },
            });
        }
        for (const host of ["a", "b", "c", "d"]) {
            b.create({
                type: "cloudflare:index/dnsRecord:DnsRecord", name: `edge-${name}-${host}`, parent: edge,
                new: { inputs: { zoneId: "z1", name: `${host}.${name}.example.com`, type: "CNAME", content: "edge.example.com", proxied: true, ttl: 1 } },
            });
        }
        b.update({
            type: "docker:index/image:RemoteImage", name: `${name}-image`, parent: svc,
            old: { id: `img-${s}`, inputs: { name: `ghcr.io/acme/${name}:2.${s}.0` } },
            new: { inputs: { name: `ghcr.io/acme/${name}:2.${s}.1` } },
            diffReasons: ["name"], detailedDiff: null,
        });
    }
    for (let i = 1; i <= 60; i++) {
        b.create({ type: "random:index/randomId:RandomId", name: `suffix-${String(i).padStart(2, "0")}`, new: { inputs: { byteLength: 4 } } });
    }
    const db = b.urn(MD, "analytics");
    b.delete({
        type: "docker:index/volume:Volume", name: "analytics-data", parent: db,
        old: { id: "analytics-data-01", inputs: { name: "analytics-data-01", driver: "local" } },
    });
    return b;
}

/**
 * Pulumi.prod.yaml's shape on App Platform (api 2 × apps-s-1vcpu-1gb, a db-s-1vcpu-2gb cluster of
 * 2 nodes) whose last update exported its monthlyCost, priced by the same list the comment reads.
 */
function doProdCost(change: (b: DigestBuilder, app: { spec: Record<string, unknown> }) => void): DigestBuilder {
    const b = new DigestBuilder("prod", "slipway-demo", 10);
    b.lastOutputs({ url: "https://api.example.com", monthlyCost: sumCosts([appInstancesCost("apps-s-1vcpu-1gb", 2), dbClusterCost("db-s-1vcpu-2gb", 2)]) });
    const service = (count: number) => ({ name: "api", image: { registryType: "DOCR", repository: "api", tag: "1.0.0" }, httpPort: 8080, instanceCount: count, instanceSizeSlug: "apps-s-1vcpu-1gb" });
    change(b, { spec: { name: "slipway-prod", region: "fra", services: [service(2)], databases: [{ name: "db", engine: "PG", production: true, clusterName: "slipway-prod-db" }] } });
    return b;
}

/** The api service gains a replica (replicas 2 → 3): one App update. */
function doCostAddedReplica(): DigestBuilder {
    return doProdCost((b, app) => {
        const services = app.spec.services as Array<Record<string, unknown>>;
        b.update({
            type: "digitalocean:index/app:App", name: "app-app", parent: b.urn(DOAPP, "app"),
            old: { id: "a1", protect: true, inputs: app },
            new: { protect: true, inputs: { spec: { ...app.spec, services: [{ ...services[0], instanceCount: 3 }] } } },
            diffReasons: ["spec"], detailedDiff: { "spec.services[0].instanceCount": "update" },
        });
    });
}

/** The database is resized (db-s-1vcpu-2gb → db-s-2vcpu-4gb, still 2 nodes): one cluster update in place. */
function doCostDatabaseResize(): DigestBuilder {
    return doProdCost(b => {
        const cluster = { name: "slipway-prod-db", engine: "pg", version: "16", region: "fra1", nodeCount: 2 };
        b.update({
            type: "digitalocean:index/databaseCluster:DatabaseCluster", name: "db-cluster", parent: b.urn(MD, "db"),
            old: { id: "9c2d0a4e", protect: true, retainOnDelete: true, inputs: { ...cluster, size: "db-s-1vcpu-2gb" } },
            new: { protect: true, retainOnDelete: true, inputs: { ...cluster, size: "db-s-2vcpu-4gb" } },
            diffReasons: ["size"], detailedDiff: { size: "update" },
        });
    });
}

export interface Fixture { digest: Record<string, unknown>; eventLog?: string }

export const CONSTRUCTED: Record<string, () => Fixture> = {
    "postgres-volume-replace": () => ({ digest: postgresVolumeReplace().digest() }),
    "do-database-cluster-delete": () => ({ digest: doDatabaseClusterDelete().digest() }),
    "protected-replace-failure": () => {
        const b = protectedReplaceFailure();
        return { digest: b.digest(), eventLog: b.eventLog("failed") };
    },
    "secret-rotation": () => ({ digest: secretRotation().digest() }),
    "large-500-steps": () => ({ digest: largePreview().digest() }),
    "do-cost-added-replica": () => ({ digest: doCostAddedReplica().digest() }),
    "do-cost-database-resize": () => ({ digest: doCostDatabaseResize().digest() }),
};
