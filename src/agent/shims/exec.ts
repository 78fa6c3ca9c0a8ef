/**
 * The agent's only way to run programs (iptables-save/-restore, ipset, ip,
 * sysctl): an injectable shim, so that tests and the bench run the real
 * drivers inside a network namespace they created (`netnsExec`) and count
 * what was written (`recordingExec`).
 *
 * Design: `run` never throws for a non-zero exit (drivers decide what a
 * failure means and quote stderr); it rejects only when the program cannot
 * be started or exceeds its deadline. `mustRun` is the common "fail with a
 * DriverError naming the command" wrapper.
 *
 * Concurrency rule: calls are independent child processes; drivers
 * serialise their own calls (one apply at a time).
 */
import { spawn } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Written to the program's stdin (then closed). */
  input?: string;
  /** Kill the program after this long (default 60 s). */
  timeoutMs?: number;
}

export interface Exec {
  run(cmd: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
}

/** A failed kernel operation: which driver, which command, what it said. */
export class DriverError extends Error {
  constructor(
    readonly driver: string,
    message: string,
    readonly command: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** Runs programs in this process's namespaces. */
export function localExec(): Exec {
  return {
    run(cmd, args, opts = {}) {
      return new Promise<ExecResult>((resolve, reject) => {
        const child = spawn(cmd, [...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
        child.stdout.on('data', (d: Buffer) => out.push(d));
        child.stderr.on('data', (d: Buffer) => err.push(d));
        // EPIPE when the program exits without reading stdin: its exit status tells the story.
        child.stdin.on('error', () => undefined);
        child.once('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        child.once('close', (code, signal) => {
          clearTimeout(timer);
          const stderr = Buffer.concat(err).toString('utf8');
          if (signal !== null) {
            reject(new Error(`${cmd} ${args.join(' ')}: killed by ${signal}${signal === 'SIGKILL' ? ' (deadline exceeded?)' : ''}: ${stderr.trim()}`));
            return;
          }
          resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr });
        });
        child.stdin.end(opts.input ?? '');
      });
    },
  };
}

/** Runs every program inside network namespace `ns` (`ip netns exec NS …`). */
export function netnsExec(ns: string, inner: Exec = localExec()): Exec {
  return { run: (cmd, args, opts) => inner.run('ip', ['netns', 'exec', ns, cmd, ...args], opts) };
}

export interface ExecRecord {
  cmd: string;
  args: readonly string[];
  /** Bytes written to stdin. */
  inputBytes: number;
  input: string;
  code: number;
}

/** Wraps an Exec and keeps every call (tests count writes; the bench counts bytes). */
export function recordingExec(inner: Exec): Exec & { readonly calls: ExecRecord[]; reset(): void } {
  const calls: ExecRecord[] = [];
  return {
    calls,
    reset: () => {
      calls.length = 0;
    },
    async run(cmd, args, opts) {
      const r = await inner.run(cmd, args, opts);
      calls.push({ cmd, args, inputBytes: Buffer.byteLength(opts?.input ?? ''), input: opts?.input ?? '', code: r.code });
      return r;
    },
  };
}

/** Runs and returns stdout; a non-zero exit becomes a DriverError quoting stderr. */
export async function mustRun(exec: Exec, driver: string, cmd: string, args: readonly string[], opts?: ExecOptions): Promise<string> {
  let r: ExecResult;
  const line = `${cmd} ${args.join(' ')}`;
  try {
    r = await exec.run(cmd, args, opts);
  } catch (e) {
    throw new DriverError(driver, `Cannot run "${line}": ${(e as Error).message}`, line, '');
  }
  if (r.code !== 0) throw new DriverError(driver, `"${line}" failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`, line, r.stderr);
  return r.stdout;
}
