/**
 * How the CLI fails: exit codes and the one line it prints on stderr.
 *
 * Exit codes (documented in `romana --help`):
 *   0  success
 *   1  the daemon answered with an error (not found, conflict, validation…),
 *      or an unexpected failure inside the CLI
 *   2  usage: a bad command line, config file or input file — nothing was sent
 *   3  the daemon cannot be reached (connection refused, timeout)
 *
 * Every failure prints exactly one line, `romana: <message> (<code>)`, with a
 * code from the shared catalogue (src/core/errors.ts) so that scripts can
 * match on it whichever side raised the error.
 */
import { isRomanaError, type ErrorCode } from '../core/errors.js';

export const EXIT_OK = 0;
export const EXIT_API = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;

/** A problem with what the user typed or pointed us at; nothing reached the daemon. */
export class UsageError extends Error {
  readonly code: ErrorCode;
  constructor(message: string, code: ErrorCode = 'INVALID_ARGUMENT') {
    super(message);
    this.name = 'UsageError';
    this.code = code;
  }
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof UsageError) return EXIT_USAGE;
  if (isRomanaError(e)) return e.code === 'DAEMON_UNREACHABLE' ? EXIT_UNREACHABLE : EXIT_API;
  return EXIT_API;
}

/** Collapses whitespace runs (including newlines) so the message stays one line. */
function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * The stderr line for `e`. `daemonUrl` names the daemon in "cannot reach"
 * messages: the client's own message names only the route.
 */
export function errorLine(e: unknown, daemonUrl?: string): string {
  if (e instanceof UsageError) return `romana: ${oneLine(e.message)} (${e.code})`;
  if (isRomanaError(e)) {
    let message = e.code === 'DAEMON_UNREACHABLE' ? unreachableMessage(e.message, e.cause, daemonUrl) : e.message;
    if (e.code === 'UNAUTHORIZED') message += '; give a token with --token, ROMANA_TOKEN or Token in the config file';
    return `romana: ${oneLine(message)} (${e.code})`;
  }
  const err = e as Error | undefined;
  return `romana: internal error: ${oneLine(err?.message ?? String(e))} (INTERNAL)`;
}

/**
 * "Cannot reach the romana daemon at http://…:9600 (GET /hosts): connect
 * ECONNREFUSED …". The client's message may end with an empty reason: a
 * connection to "localhost" tried over IPv4 and IPv6 fails with an
 * AggregateError whose own message is empty, so the reason is rebuilt from
 * the cause then.
 */
export function unreachableMessage(message: string, cause: unknown, daemonUrl?: string): string {
  const m = /^Cannot reach the romana daemon \(([^)]*)\):\s*(.*)$/s.exec(message);
  const what = m?.[1];
  let why = m ? m[2]!.trim() : message;
  if (why === '') why = describeCause(cause);
  const at = daemonUrl === undefined ? '' : ` at ${daemonUrl}`;
  return `Cannot reach the romana daemon${at}${what ? ` (${what})` : ''}: ${why}; is romana-daemon running there? (address: -r/-p, or RootURL/RootPort in the config file)`;
}

function describeCause(cause: unknown): string {
  const c = cause as (Error & { code?: string; errors?: unknown[] }) | undefined;
  if (c === undefined || c === null) return 'no answer';
  if (c.message) return c.message;
  if (Array.isArray(c.errors) && c.errors.length > 0) {
    return [...new Set(c.errors.map((x) => (x as Error)?.message || String(x)))].join('; ');
  }
  return c.code ?? String(c);
}
