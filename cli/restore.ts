/**
 * `npm run restore -- <stack> [--database <name>] [--from <object>] [--into <database>] [--list]
 *  [--identity <file>] [--container <name>]`, also `slipway restore ...`.
 *
 * Restores a ManagedDatabase's off-site backup (docker target, `backup.offsite`): finds the
 * stack's backup sidecar on the Docker engine the `docker` CLI talks to (DOCKER_HOST), and runs
 * the `slipway-restore` command Slipway uploaded into it, which fetches the newest (or the named)
 * object, decrypts it with your age identity and `pg_restore`s it into an empty database. The
 * identity file is piped to it on stdin: it never enters argv, env, the image or a log.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import { UsageError } from "./preview-comment/cli";

export const RESTORE_USAGE = `usage: npm run restore -- <stack> [options]
  --identity <file>    age identity (private key) file; default $SLIPWAY_BACKUP_IDENTITY
  --from <object>      the object to restore (name or key); default the newest
  --into <database>    an empty database to restore into, created when missing; default the app's
  --list               list the off-site objects instead
  --database <name>    the ManagedDatabase component, when the stack has several
  --container <name>   the backup sidecar container, instead of finding it by labels
`;

export interface RestoreOptions {
    stack: string;
    identity?: string;
    from?: string;
    into?: string;
    list: boolean;
    database?: string;
    container?: string;
}

export function parseRestoreArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): RestoreOptions {
    const o: RestoreOptions = { stack: "", list: false, identity: env.SLIPWAY_BACKUP_IDENTITY || undefined };
    const value = (i: number) => {
        const v = argv[i + 1];
        if (v === undefined || v.startsWith("--")) throw new UsageError(`${argv[i]} needs a value`);
        return v;
    };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]!;
        switch (a) {
            case "--identity": o.identity = value(i++); break;
            case "--from": o.from = value(i++); break;
            case "--into": o.into = value(i++); break;
            case "--database": o.database = value(i++); break;
            case "--container": o.container = value(i++); break;
            case "--list": o.list = true; break;
            default:
                if (a.startsWith("--") || o.stack) throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
                o.stack = a;
        }
    }
    if (!o.stack && !o.container) throw new UsageError("name the stack (e.g. prod) or --container");
    if (!o.list && !o.identity) throw new UsageError("pass --identity <file> or set SLIPWAY_BACKUP_IDENTITY (the age identity the dumps are encrypted to)");
    return o;
}

function docker(args: string[], input?: Buffer) {
    return spawnSync("docker", args, { input, encoding: "buffer", maxBuffer: 64 << 20 });
}

/** The running backup sidecar of `stack` (and `database`), by the labels ManagedDatabase sets. */
export function findBackupContainer(o: RestoreOptions): string {
    if (o.container) return o.container;
    const filters = ["slipway.component=ManagedDatabase", "slipway.role=backup", `slipway.stack=${o.stack}`, ...(o.database ? [`slipway.name=${o.database}`] : [])];
    const r = docker(["ps", "--format", "{{.Names}}", ...filters.flatMap(f => ["--filter", `label=${f}`])]);
    if (r.status !== 0) throw new Error(`docker ps failed: ${r.stderr.toString().trim()}`);
    const names = r.stdout.toString().split("\n").filter(Boolean);
    if (names.length === 0) throw new Error(`no running backup sidecar for stack "${o.stack}"${o.database ? ` and database "${o.database}"` : ""}: run \`pulumi up\` first (the sidecar holds the bucket settings and keys)`);
    if (names.length > 1) throw new Error(`several backup sidecars (${names.join(", ")}): choose one with --database <name> or --container <name>`);
    return names[0]!;
}

/** Runs the restore; returns the exit status and writes the command's output through. */
export function restore(o: RestoreOptions, out: (s: string) => void = s => process.stdout.write(s), err: (s: string) => void = s => process.stderr.write(s)): number {
    const container = findBackupContainer(o);
    const identity = o.list ? Buffer.alloc(0) : fs.readFileSync(o.identity!);
    const args = [...(o.from ? ["--from", o.from] : []), ...(o.into ? ["--into", o.into] : []), ...(o.list ? ["--list"] : [])];
    const r = docker(["exec", "-i", container, "slipway-restore", ...args], identity);
    out(r.stdout.toString());
    err(r.stderr.toString());
    if (r.status === 126 || r.status === 127) err(`${container} has no slipway-restore: only a sidecar with backup.offsite has it\n`);
    return r.status ?? 1;
}

if (require.main === module) {
    try {
        process.exitCode = restore(parseRestoreArgs(process.argv.slice(2)));
    } catch (e) {
        process.stderr.write(`restore: ${e instanceof Error ? e.message : String(e)}\n${e instanceof UsageError ? RESTORE_USAGE : ""}`);
        process.exitCode = e instanceof UsageError ? 2 : 1;
    }
}
