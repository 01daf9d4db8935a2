#!/usr/bin/env node
/**
 * The `slipway` command shipped with the package (package.json `bin`, via bin/slipway.js).
 * One dispatcher, subcommands in their own modules.
 */
import { RESTORE_USAGE, parseRestoreArgs, restore } from "./restore";
import { SYNTH_USAGE, synthCommand } from "./synth";
import { CliIo, PREVIEW_USAGE, UPSERT_USAGE, UsageError, nodeIo, previewCommentCommand, upsertCommentCommand } from "./preview-comment/cli";

type Command = { usage: string; run: (argv: string[], io: CliIo) => Promise<number> };

const COMMANDS: Record<string, Command> = {
    "preview-comment": { usage: PREVIEW_USAGE, run: previewCommentCommand },
    "upsert-comment": { usage: UPSERT_USAGE, run: upsertCommentCommand },
    "synth": { usage: SYNTH_USAGE + "\n", run: synthCommand },
    "restore": { usage: RESTORE_USAGE, run: async (argv, io) => restore(parseRestoreArgs(argv), io.stdout, io.stderr) },
};

const HELP = `usage: slipway <command> [options]

commands:
${Object.keys(COMMANDS).map(c => `  ${c}`).join("\n")}

Run \`slipway <command> --help\` for a command's options.
`;

export async function main(argv: string[], io: CliIo = nodeIo()): Promise<number> {
    const [name, ...rest] = argv;
    if (!name || name === "--help" || name === "-h" || name === "help") { io.stdout(HELP); return name ? 0 : 2; }
    const cmd = COMMANDS[name];
    if (!cmd) { io.stderr(`slipway: unknown command ${JSON.stringify(name)}\n${HELP}`); return 2; }
    if (rest.includes("--help") || rest.includes("-h")) { io.stdout(cmd.usage); return 0; }
    try {
        return await cmd.run(rest, io);
    } catch (e) {
        if (e instanceof UsageError) { io.stderr(`slipway ${name}: ${e.message}\n${cmd.usage}`); return 2; }
        io.stderr(`slipway ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
        return 1;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(code => { process.exitCode = code; }, e => { console.error(e); process.exitCode = 1; });
}
