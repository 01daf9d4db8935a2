// backup.offsite on docker: its checks (before anything registers) and what the backup sidecar
// gets from it (settings in env, the S3 keys and the restore command as uploaded files).
import * as pulumi from "@pulumi/pulumi";
import { ErrorContext, invalid, requireInt } from "../core/errors";
import type { OffsiteBackupArgs } from "./args";
import { DEFAULTS, OffsiteSettings } from "./normalize";
import { RESTORE_COMMAND, restoreScript } from "./scripts";

const SECRETS = "/run/secrets";

/**
 * The default image of a sidecar with off-site backups (tagged `:<major>`): docker/pgbackup (shipped
 * in the package) built FROM `postgres:<major>-bookworm`, plus age and rclone, which
 * .github/workflows/release-images.yml publishes to GHCR for each major ManagedDatabase accepts.
 * Until a release has run it exists nowhere: set `backup.image` to one you built with
 * `docker build --build-arg BASE=postgres:16-bookworm node_modules/@slipway/components/docker/pgbackup`.
 */
export const OFFSITE_IMAGE = "ghcr.io/slipway/slipway-pgbackup";

/** Hosts a plain-http endpoint may name: this machine, or a single-label name (a container alias on the stack's network). */
function privateHost(host: string): boolean {
    return host === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(host) || host === "[::1]" || /^[a-z0-9-]+$/i.test(host);
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** An age X25519 recipient: "age1" and 58 bech32 characters. */
const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

/** `backup.offsite`: every field checked, defaults filled in; the keys stay Inputs (they become secret files). */
export function checkOffsite(ctx: ErrorContext, o: OffsiteBackupArgs, defaultPrefix: string): OffsiteSettings {
    const at = (k: string) => `backup.offsite.${k}`;
    let url: URL | undefined;
    try { url = new URL(o.endpoint); } catch { url = undefined; }
    if (!url || !/^https?:$/.test(url.protocol) || !url.hostname) {
        invalid(ctx, at("endpoint"), `${JSON.stringify(o.endpoint)} is not a URL`, `use the S3 API's https:// URL, e.g. "https://fra1.digitaloceanspaces.com"`);
    }
    if (url.username || url.password) {
        invalid(ctx, at("endpoint"), "carries credentials in the URL, which would land in the container's env", "remove them from the URL and set accessKeyId and secretAccessKey (as secrets)");
    }
    if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
        invalid(ctx, at("endpoint"), `${JSON.stringify(o.endpoint)} has a path, query or fragment; the bucket and prefix are set on their own`, `use only scheme, host and port, e.g. "${url.protocol}//${url.host}", and set bucket and prefix`);
    }
    if (url.protocol === "http:" && !privateHost(url.hostname)) {
        invalid(ctx, at("endpoint"), `http:// would send the requests, signed with the keys, unencrypted to ${url.hostname}`,
            "use https:// (plain http is accepted only for localhost, 127.x and single-label hosts such as a test server on the stack's network)");
    }
    if (!BUCKET.test(o.bucket) || o.bucket.includes("..")) {
        invalid(ctx, at("bucket"), `${JSON.stringify(o.bucket)} is not an S3 bucket name`, "use 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit");
    }
    const region = o.region ?? DEFAULTS.backup.region;
    if (!/^[a-z0-9-]{1,40}$/.test(region)) invalid(ctx, at("region"), `${JSON.stringify(region)} is not a region name`, `use e.g. "us-east-1", or "auto" for Cloudflare R2`);
    const prefix = o.prefix ?? defaultPrefix;
    if (prefix !== "" && !/^([A-Za-z0-9._-]+\/)+$/.test(prefix)) {
        invalid(ctx, at("prefix"), `${JSON.stringify(prefix)} is not a key prefix`, `use /-separated names of letters, digits, ".", "_" and "-" ending in "/", e.g. "prod/shop/" (no leading "/"), or "" for the bucket's root`);
    }
    if (typeof o.recipient === "string" && /^AGE-SECRET-KEY-/i.test(o.recipient)) {
        invalid(ctx, at("recipient"), "is an age identity (private key), which must never be on the server", "give its public key instead: `age-keygen -y identity.txt` prints it (age1...)");
    }
    if (!AGE_RECIPIENT.test(o.recipient)) {
        invalid(ctx, at("recipient"), `${JSON.stringify(o.recipient)} is not an age public key`, "make a key pair with `age-keygen -o identity.txt` (keep that file safe, off the server) and use the age1... key it prints");
    }
    for (const k of ["accessKeyId", "secretAccessKey"] as const) {
        if (typeof o[k] === "string" && (o[k] as string).trim() === "") invalid(ctx, at(k), "is empty", `set it from a secret, e.g. { secret: backupS3${k === "accessKeyId" ? "KeyId" : "Secret"} }`);
    }
    return {
        endpoint: url.origin, bucket: o.bucket, region, prefix,
        accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey, recipient: o.recipient,
        keep: requireInt(ctx, at("keep"), o.keep ?? DEFAULTS.backup.offsiteKeep, 1, 3650),
        forcePathStyle: o.forcePathStyle ?? false,
    };
}

/** The off-site settings the loop reads (scripts.ts `OFFSITE_ENV`): no secret, the keys are files. */
export function offsiteEnv(o: OffsiteSettings): string[] {
    return [
        `BACKUP_AGE_RECIPIENT=${o.recipient}`,
        `BACKUP_OFFSITE_KEEP=${o.keep}`,
        `BACKUP_S3_ACCESS_KEY_ID_FILE=${SECRETS}/${S3_KEY_ID}`,
        `BACKUP_S3_BUCKET=${o.bucket}`,
        `BACKUP_S3_ENDPOINT=${o.endpoint}`,
        `BACKUP_S3_PATH_STYLE=${o.forcePathStyle}`,
        `BACKUP_S3_PREFIX=${o.prefix}`,
        `BACKUP_S3_REGION=${o.region}`,
        `BACKUP_S3_SECRET_ACCESS_KEY_FILE=${SECRETS}/${S3_SECRET}`,
    ];
}

const S3_KEY_ID = "BACKUP_S3_ACCESS_KEY_ID";
const S3_SECRET = "BACKUP_S3_SECRET_ACCESS_KEY";

/** The S3 keys as secret files (root-owned 0444, like every Slipway secret file) and the restore command. */
/** A container upload as docker.ts hands it to the provider (`docker.types.input.ContainerUpload`). */
export interface SidecarUpload { file: string; content: pulumi.Input<string>; permissions: string; owner?: string; group?: string; executable?: boolean }

export function offsiteUploads(o: OffsiteSettings): SidecarUpload[] {
    const secretFile = (key: string, value: pulumi.Input<string>) =>
        ({ file: `${SECRETS}/${key}`, content: pulumi.secret(value), permissions: "0444", owner: "0", group: "0" });
    return [
        secretFile(S3_KEY_ID, o.accessKeyId),
        secretFile(S3_SECRET, o.secretAccessKey),
        { file: RESTORE_COMMAND, content: restoreScript(), executable: true, permissions: "0555" },
    ];
}
