// Bad `backup.offsite` input: named by component, path, problem and fix, before anything registers.
import { strict as assert } from "assert";
import { Recorder } from "../../components/testing/recorder";
import { expectConfigError } from "../helpers/config-error";
import { dockerTarget, freshRecorder } from "../helpers/harness";

const RECIPIENT = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
const OK = { endpoint: "https://fra1.digitaloceanspaces.com", bucket: "acme-db-backups", accessKeyId: "id", secretAccessKey: "s", recipient: RECIPIENT };

describe("ManagedDatabase backup.offsite bad input", () => {
    let rec: Recorder;
    beforeEach(async () => { rec = await freshRecorder(); });

    async function rejects(offsite: Record<string, unknown>, path: string, problem: RegExp, fix: RegExp, backup: Record<string, unknown> = {}) {
        const { ManagedDatabase } = await import("../../components/managed-database");
        const target = await dockerTarget();
        return expectConfigError(rec, () => new ManagedDatabase("db", { target, backup: { ...backup, offsite: { ...OK, ...offsite } } as never }),
            { component: `ManagedDatabase "db"`, path, problem, fix });
    }

    it("rejects an endpoint that is not a URL", async () => {
        await rejects({ endpoint: "fra1.digitaloceanspaces.com" }, "backup.offsite.endpoint", /"fra1.digitaloceanspaces.com" is not a URL/, /https:\/\//);
    });

    it("rejects plain http to a public host, and accepts it for a container alias or loopback", async () => {
        await rejects({ endpoint: "http://s3.example.com" }, "backup.offsite.endpoint", /unencrypted to s3.example.com/, /use https:\/\//);
        const { ManagedDatabase } = await import("../../components/managed-database");
        const target = await dockerTarget();
        for (const endpoint of ["http://minio:9000", "http://127.0.0.1:9000"]) {
            new ManagedDatabase(`ok-${endpoint.length}`, { target, backup: { offsite: { ...OK, endpoint } } });
        }
    });

    it("rejects credentials or a path in the endpoint", async () => {
        await rejects({ endpoint: "https://key:secret@s3.example.com" }, "backup.offsite.endpoint", /credentials in the URL/, /accessKeyId and secretAccessKey/);
        await rejects({ endpoint: "https://s3.example.com/my-bucket" }, "backup.offsite.endpoint", /has a path/, /set bucket and prefix/);
    });

    it("rejects a bucket name S3 would refuse", async () => {
        await rejects({ bucket: "My_Bucket" }, "backup.offsite.bucket", /"My_Bucket" is not an S3 bucket name/, /3 to 63 lowercase/);
    });

    it("rejects an off-site retention of 0", async () => {
        await rejects({ keep: 0 }, "backup.offsite.keep", /from 1 to 3650, got 0/, /between 1 and 3650/);
    });

    it("rejects a private age identity where the public key belongs, without echoing it", async () => {
        const identity = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
        const e = await rejects({ recipient: identity }, "backup.offsite.recipient", /is an age identity \(private key\)/, /age-keygen -y/);
        assert.ok(!JSON.stringify(e).includes(identity));
        await rejects({ recipient: "ssh-ed25519 AAAA" }, "backup.offsite.recipient", /is not an age public key/, /age-keygen -o identity.txt/);
    });

    it("rejects a prefix with a leading slash or without a trailing one", async () => {
        await rejects({ prefix: "/prod/shop/" }, "backup.offsite.prefix", /is not a key prefix/, /ending in "\/"/);
        await rejects({ prefix: "prod/shop" }, "backup.offsite.prefix", /is not a key prefix/, /ending in "\/"/);
    });

    it("rejects an empty key, a missing one and an unknown field", async () => {
        await rejects({ secretAccessKey: " " }, "backup.offsite.secretAccessKey", /is empty/, /\{ secret: backupS3Secret \}/);
        await rejects({ accessKeyId: undefined }, "backup.offsite.accessKeyId", /missing|required/i, /./);
        await rejects({ secretKey: "x" }, "backup.offsite.secretKey", /./, /secretAccessKey/);
    });

    it("rejects a region with spaces and a backup image with spaces", async () => {
        await rejects({ region: "eu west" }, "backup.offsite.region", /is not a region name/, /us-east-1/);
        await rejects({}, "backup.image", /is not an image reference/, /ghcr\.io\/slipway\/slipway-pgbackup:16/, { image: "my image" });
    });
});
