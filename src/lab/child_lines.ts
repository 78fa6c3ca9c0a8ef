/**
 * A child process watched line by line: its stdout split into lines (the
 * last unterminated one flushed at exit), a tail of its stderr, its exit as
 * a promise, and waiting for a line without sleeping. The lab's processes
 * in namespaces (netns.ts) and the tests' child processes
 * (test/helpers/child.ts) are this plus what they add.
 */
import type { ChildProcess } from 'node:child_process';
import { waitFor } from './poll.js';

export interface LineChild {
  proc: ChildProcess;
  pid: number;
  lines: string[];
  stderr(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  exitCode(): number | string | undefined;
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Writes a line to the process's stdin. */
  send(line: string): void;
  /** Calls `fn` with every stdout line from now on. */
  onLine(fn: (line: string) => void): void;
  /** Signals the process by PID unless it has exited. */
  kill(signal?: NodeJS.Signals): void;
}

/** `label` names the process in timeouts and errors; stdin, stdout and stderr must be pipes. */
export function watchLines(proc: ChildProcess, label: string, opts: { stderrTail?: number; waitMs?: number } = {}): LineChild {
  const tail = opts.stderrTail ?? 65536;
  proc.stdin!.on('error', () => undefined); // EPIPE after the process died: its exit code tells the story
  const lines: string[] = [];
  const listeners: Array<(line: string) => void> = [];
  let partial = '';
  let err = '';
  let code: number | string | undefined;
  proc.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const l of parts) for (const fn of listeners) fn(l);
  });
  proc.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-tail);
  });
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (c, sig) => {
      code = c ?? sig ?? 'unknown';
      if (partial) lines.push(partial);
      partial = '';
      resolve(code);
    }),
  );
  return {
    proc,
    pid: proc.pid!,
    lines,
    stderr: () => err,
    exited,
    exitCode: () => code,
    waitForLine: (re, timeoutMs = opts.waitMs ?? 15_000) =>
      waitFor(
        `a line matching ${re} from ${label}`,
        () => {
          const hit = lines.find((l) => re.test(l));
          if (hit) return hit;
          if (code !== undefined) throw new Error(`${label} exited (${code}) before printing ${re}: ${err.slice(-2000)}`);
          return undefined;
        },
        { timeoutMs, intervalMs: 10 },
      ),
    send: (line) => {
      proc.stdin!.write(`${line}\n`);
    },
    onLine: (fn) => {
      listeners.push(fn);
    },
    kill: (signal = 'SIGKILL') => {
      if (code === undefined) {
        try {
          process.kill(proc.pid!, signal);
        } catch {
          // already gone
        }
      }
    },
  };
}
