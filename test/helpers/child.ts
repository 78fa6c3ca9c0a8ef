/**
 * Child processes for multi-process tests: TypeScript entry scripts run with
 * `node --import tsx`, stdout split into lines, helpers to wait for a line or
 * for exit, and a registry so a test's teardown kills (by PID) whatever it
 * started, even when the test failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './poll.js';

export interface Child {
  proc: ChildProcess;
  pid: number;
  lines: string[];
  stderr(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  exitCode(): number | string | undefined;
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
  /** Writes a line to the child's stdin. */
  send(line: string): void;
}

const started = new Set<Child>();

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export function spawnTs(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  proc.stdin!.on('error', () => undefined); // EPIPE after the child died: the exit code tells the story
  const lines: string[] = [];
  let partial = '';
  let err = '';
  let code: number | string | undefined;
  proc.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  proc.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8000);
  });
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (c, sig) => {
      code = c ?? sig ?? 'unknown';
      // Flush a last unterminated line.
      if (partial) lines.push(partial);
      partial = '';
      resolve(code);
    }),
  );
  const child: Child = {
    proc,
    pid: proc.pid!,
    lines,
    stderr: () => err,
    exited,
    exitCode: () => code,
    waitForLine: (re, timeoutMs = 20_000) =>
      waitFor(`a line matching ${re} from child ${proc.pid}`, () => {
        const hit = lines.find((l) => re.test(l));
        if (hit) return hit;
        if (code !== undefined) throw new Error(`child ${proc.pid} exited (${code}) before printing ${re}: ${err}`);
        return undefined;
      }, { timeoutMs, intervalMs: 10 }),
    send: (line) => {
      proc.stdin!.write(`${line}\n`);
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
  started.add(child);
  void exited.then(() => started.delete(child));
  return child;
}

/** For afterEach: SIGKILL every child still running and wait for them to go. */
export async function killAllChildren(): Promise<void> {
  const all = [...started];
  for (const c of all) c.kill('SIGKILL');
  await Promise.all(all.map((c) => c.exited));
}
