/**
 * Reading the JSON documents `policy add` and `topology update` send: from a
 * file, or from standard input when no file (or "-") is given, as in the
 * seed's `cat policy.json | romana policy add`.
 *
 * Parsing uses the topology reader (src/core/topology/json_text.ts): strict
 * JSON plus `#` comments and trailing commas, with "line:column" in every
 * syntax error, so the documentation's commented examples load as printed.
 * Every problem here is a UsageError (exit 2): nothing was sent.
 */
import { isRomanaError } from '../core/errors.js';
import { parseLenientJson } from '../core/topology/json_text.js';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';

export async function readJsonInput(file: string | undefined, what: string, io: Pick<CliIo, 'readFile' | 'readStdin' | 'stdinIsTty'>): Promise<unknown> {
  const fromStdin = file === undefined || file === '-';
  const source = fromStdin ? 'standard input' : JSON.stringify(file);
  let text: string;
  if (fromStdin) {
    if (io.stdinIsTty) throw new UsageError(`No ${what} file given and standard input is a terminal: name a file, or pipe the JSON in`);
    text = await io.readStdin();
  } else {
    try {
      text = await io.readFile(file);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'it is a directory' : err.message;
      throw new UsageError(`Cannot read the ${what} file ${source}: ${why}`);
    }
  }
  if (text.trim() === '') throw new UsageError(`The ${what} from ${source} is empty`, 'INVALID_JSON');
  try {
    return parseLenientJson(text);
  } catch (e) {
    if (isRomanaError(e)) throw new UsageError(`The ${what} from ${source} is not valid JSON: ${e.message}`, 'INVALID_JSON');
    throw e;
  }
}
