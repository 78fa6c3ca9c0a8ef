/**
 * Logging for every romana executable: pino, JSON lines on stderr (stdout
 * stays free for command output and for NDJSON/CNI results).
 *
 * Design: one root logger per process, created by its main.ts from the
 * configured level; modules take a child logger (`log.child({component})`)
 * instead of importing a global, so tests can pass a silent one.
 * Writes are synchronous (pino.destination sync): a daemon that exits on a
 * fatal error must not lose its last lines, and log volume is low.
 *
 * Concurrency rule: pino loggers are safe to share within one process.
 */
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

/** The process's root logger: JSON on stderr, `name` = executable. */
export function createLogger(name: string, level: LogLevel = 'info'): Logger {
  return pino(
    {
      name,
      level,
      // Stable field names for log shippers; `time` as ISO text is easier to read in kubectl logs.
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that drops everything (tests, library defaults). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
