/**
 * The `romana` command: argv → commander → one command → exit code.
 * All printing goes through the injected CliIo, so tests can run it
 * in-process; main.ts wires the real process.
 *
 * Concurrency rule: one call per command; nothing is shared between calls.
 */
import { CommandContext } from './context.js';
import { EXIT_OK, EXIT_USAGE, UsageError, errorLine, exitCodeFor } from './errors.js';
import type { CliIo } from './io.js';
import { buildProgram, CommandLineError } from './program.js';

/** Commander's outcomes that are not failures. */
const CLEAN_EXITS = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const ctx = new CommandContext(io);
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommandLineError) {
      if (CLEAN_EXITS.has(e.commander.code)) return EXIT_OK;
      const message = e.commander.message.replace(/^error:\s*/, '').replace(/\.$/, '');
      io.stderr(`${errorLine(new UsageError(`${message}; see '${e.commandPath} --help'`))}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`${errorLine(e, ctx.settings?.daemonUrl)}\n`);
    return exitCodeFor(e);
  }
}
