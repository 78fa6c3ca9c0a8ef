/**
 * The plugin's log: one JSON object per line, to stderr or appended to the
 * configured `log_file` — never to stdout, which carries only the CNI
 * result. Kept tiny on purpose (pino's import costs more than an ADD's own
 * work): an invocation writes a handful of lines.
 */
import type { LogLevel } from './config.js';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface CniLog {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLog(level: LogLevel, write: (line: string) => void, base: Record<string, unknown>, now: () => number): CniLog {
  const emit = (l: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (RANK[l] < RANK[level]) return;
    try {
      write(JSON.stringify({ time: new Date(now()).toISOString(), level: l, name: 'romana-cni', ...base, ...fields, msg }) + '\n');
    } catch {
      // A log that cannot be written must not fail the verb.
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
