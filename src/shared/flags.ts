/**
 * Flag parsing shared by the executables' config modules: node:util's
 * parseArgs (strict, positionals allowed so that each binary can name a
 * stray argument itself), with its error turned into one line that names the
 * flag. Pure apart from reading the given argv.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export type FlagParse = { ok: true; values: FlagValues; positionals: string[] } | { ok: false; problem: string };

export function parseFlags(args: readonly string[], options: NonNullable<ParseArgsConfig['options']>): FlagParse {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
    return { ok: true, values: values as FlagValues, positionals };
  } catch (e) {
    // node:util's messages already name the flag ("Unknown option '--x'", "Option '--port <value>'
    // argument missing"); drop its hint about positionals and keep it on one line.
    const problem = String((e as Error).message)
      .replace(/\. To specify a positional argument.*$/s, '')
      .replace(/\s*\n\s*/g, ' ');
    return { ok: false, problem };
  }
}
