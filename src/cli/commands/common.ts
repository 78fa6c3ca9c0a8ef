/**
 * Helpers shared by the command modules.
 */
import { Command } from 'commander';
import { isRomanaError } from '../../core/errors.js';
import { wrapText } from '../table.js';

/**
 * Fetches one item per argument (`host show a b c`), in argument order.
 * Answers like "not found" are collected so the others still print; a
 * failure that would hit every argument (daemon unreachable, no access,
 * anything unexpected) is thrown at once.
 */
export async function fetchEach<T>(refs: readonly string[], get: (ref: string) => Promise<T>): Promise<{ found: T[]; errors: unknown[] }> {
  const settled = await Promise.allSettled(refs.map((r) => get(r)));
  const found: T[] = [];
  const errors: unknown[] = [];
  for (const s of settled) {
    if (s.status === 'fulfilled') {
      found.push(s.value);
      continue;
    }
    const e = s.reason as unknown;
    if (!isRomanaError(e) || e.code === 'DAEMON_UNREACHABLE' || e.code === 'UNAUTHORIZED' || e.code === 'FORBIDDEN' || e.status >= 500) throw e;
    errors.push(e);
  }
  return { found, errors };
}

/**
 * The text after a command's --help: its examples, one command per line,
 * then notes (JSON shape, behaviour), each wrapped to 80 columns with a
 * hanging indent (commander prints after-help text as given).
 */
export function helpAfter(examples: readonly string[], ...notes: string[]): string {
  let text = `\nExamples:\n${examples.map((l) => `  ${l}`).join('\n')}\n`;
  if (notes.length > 0) text += `\n${notes.map((n) => hanging(n)).join('\n')}\n`;
  return text;
}

function hanging(note: string, width = 80): string {
  const [first, ...rest] = wrapText(note, width - 2);
  return [first ?? '', ...rest.map((l) => `  ${l}`)].join('\n');
}

/**
 * A command that only groups sub-commands: without one it prints its help
 * (like the original's cobra commands); an unknown one is a usage error
 * naming the group.
 */
export function group(parent: Command, name: string, description: string): Command {
  const g = parent.command(name).description(description).helpCommand('help [command]', 'Help about any command');
  g.action((_opts: unknown, cmd: Command) => {
    if (cmd.args.length > 0) {
      cmd.error(`error: unknown command '${cmd.args[0]}' for '${parent.name()} ${name}'`, { code: 'commander.unknownCommand' });
    }
    cmd.help();
  });
  return g;
}
