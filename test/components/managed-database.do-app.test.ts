import { strict as assert } from "assert";
import { Linkable } from "../../components/core/link";
import { isSecretValue, Recorder, secretness, valueOf } from "../../components/testing/recorder";
import { doTarget, freshRecorder } from "../helpers/harness";

const CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster";
const DB = "digitalocean:index/databaseDb:DatabaseDb";
const USER = "digitalocean:index/databaseUser:DatabaseUser";
const POOL = "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool";

/** What the database hands a service named `service`. */
const env = (db: Linkable, service: string) => [...(db.link({ service, port: 8080 }).env ?? [])];

describe("ManagedDatabase on do-app", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    async function build(args: Record<string, unknown> = {}, production = true) {
        const { ManagedDatabase } = await import("../../components/managed-database");
        const target = await doTarget(production ? "prod" : "dev", production);
        const db = new ManagedDatabase("db", { target, database: "shop", ...args });
        await rec.settle();
        return { db, target };
    }

    it("creates a pg cluster in the App region's datacenter, protected and retained in production", async () => {
        const { db } = await build({ do: { nodes: 2, maintenanceWindow: { day: "Sunday", hour: 3 } } });
        const c = rec.get(CLUSTER, "db-cluster");
        assert.equal(c.inputs.engine, "pg");
        assert.equal(c.inputs.version, "16");
        assert.equal(c.inputs.size, "db-s-1vcpu-1gb");
        assert.equal(c.inputs.nodeCount, 2);
        assert.equal(c.inputs.region, "fra1");
        assert.equal(c.inputs.name, "shop-api-db");
        assert.deepEqual(c.inputs.maintenanceWindows, [{ day: "sunday", hour: "03:00" }]);
        assert.ok((c.inputs.tags as string[]).includes("slipway-env-prod"));
        assert.equal(c.options.protect, true);
        assert.equal(c.options.retainOnDelete, true);
        const d = rec.get(DB, "db-db");
        assert.equal(d.inputs.name, "shop");
        assert.equal(d.options.protect, true);
        assert.equal(rec.get(USER, "db-user").inputs.name, "app");
        assert.equal(rec.get(USER, "db-user").options.protect, true, "a renamed user drops the role");
        assert.equal(db.appPart!.owner, 'ManagedDatabase "db"');
    });

    it("neither protects nor retains outside production", async () => {
        await build({}, false);
        const c = rec.get(CLUSTER, "db-cluster");
        assert.equal(c.options.protect, false);
        assert.equal(c.options.retainOnDelete, false);
        assert.equal(rec.get(USER, "db-user").options.protect, false);
    });

    it("contributes a production database part and asks DoApp to trust the cluster", async () => {
        const { db } = await build();
        const part = db.appPart!;
        assert.equal(part.owner, 'ManagedDatabase "db"');
        const entry = part.databases![0]!;
        assert.equal(entry.name, "db");
        assert.equal(entry.engine, "PG");
        assert.equal(entry.production, true);
        assert.equal(await valueOf(entry.clusterName as string), "shop-api-db");
        assert.equal(await valueOf(entry.dbName as string), "shop");
        assert.equal(await valueOf(entry.dbUser as string), "app");
        assert.equal(part.trustedClusters!.length, 1);
        // The key names the App's firewall resource: the component's own name, never a position.
        assert.equal(part.trustedClusters![0]!.key, "db");
        assert.match(await valueOf(part.trustedClusters![0]!.clusterId), /^db-cluster-id-/);
    });

    it("links a secret sslmode=require DATABASE_URL", async () => {
        const { db } = await build();
        assert.equal(await secretness(db.url), true);
        assert.equal(await secretness(db.password), true);
        assert.match(await valueOf(db.url), /^postgresql:\/\/app:.*\/shop\?sslmode=require$/);
        const url = env(db, "api").find(e => e.key === "DATABASE_URL")!;
        assert.equal(url.secret, true);
        assert.equal(await secretness(url.value), true);
        // One object for every service, so DoApp merges it into one App-level secret by identity.
        assert.equal(env(db, "web").find(e => e.key === "DATABASE_URL")!.value, url.value);
        assert.deepEqual(env(db, "api").filter(e => !e.secret).map(e => e.key), ["PGDATABASE", "PGHOST", "PGPORT", "PGUSER"]);
        assert.ok(!env(db, "api").some(e => e.key === "PGPASSWORD"), "the URL carries the password: one secret to rotate");
    });

    it("adds a connection pool on the app's db and user, and links through it", async () => {
        const { db } = await build({ do: { pool: { name: "app_pool", size: 12 } } });
        const p = rec.get(POOL, "db-pool");
        assert.equal(p.inputs.name, "app_pool");
        assert.equal(p.inputs.mode, "transaction");
        assert.equal(p.inputs.size, 12);
        assert.equal(p.inputs.dbName, "shop");
        assert.equal(p.inputs.user, "app");
        assert.ok(db.poolUrl);
        assert.match(await valueOf(env(db, "api").find(e => e.key === "DATABASE_URL")!.value), /\/app_pool\?sslmode=require$/);
    });

    it("creates one DatabaseUser per schema role", async () => {
        const { db } = await build({ schemas: [{ name: "core" }, { name: "links", user: "links_svc" }] });
        assert.deepEqual(rec.ofType(USER).map(u => u.inputs.name).sort(), ["app", "core", "links_svc"]);
        assert.equal(await secretness(db.schemaUrls.links!), true);
        // A service named like a schema gets that schema's role; another service the main one.
        const links = env(db, "links");
        assert.equal(links.find(e => e.key === "DATABASE_URL")!.value, db.schemaUrls.links);
        assert.equal(await valueOf(links.find(e => e.key === "PGUSER")!.value), "links_svc");
        assert.equal(env(db, "api").find(e => e.key === "DATABASE_URL")!.value, db.url);
        assert.equal(await valueOf(env(db, "api").find(e => e.key === "PGUSER")!.value), "app");
    });

    it("uses an App Platform dev database with bindable variables when asked, creating no resource", async () => {
        const { db } = await build({ do: { devDatabase: true } }, false);
        assert.equal(rec.resources.filter(r => r.custom).length, 0);
        assert.deepEqual(db.appPart!.databases, [{ name: "db", engine: "PG", production: false, version: "16" }]);
        assert.equal(db.appPart!.trustedClusters, undefined);
        const url = env(db, "api").find(e => e.key === "DATABASE_URL")!;
        assert.equal(await valueOf(url.value), "${db.DATABASE_URL}");
        assert.equal(await secretness(url.value), true);
        assert.equal(await valueOf(env(db, "api").find(e => e.key === "PGHOST")!.value), "${db.HOSTNAME}");
        const comp = rec.get("slipway:database:ManagedDatabase", "db");
        assert.ok(isSecretValue(comp.outputs!.url));
    });
});
