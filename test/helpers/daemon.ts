/**
 * Real romana-daemon processes for tests and benchmarks: `node
 * dist/src/daemon/main.js` (built by `npm run build` / `npx tsc`), started
 * on port 0 with its own data dir; the test reads the port from the
 * daemon's "listening" log line. Logs (pino JSON on stderr) are kept as
 * parsed lines so tests can assert on them. A registry lets teardown kill
 * (by PID) whatever a test started, also when the test failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request, type Dispatcher } from 'undici';
import { RomanaClient } from '../../src/shared/api_client.js';
import { waitFor } from './poll.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const DAEMON_MAIN = path.join(REPO, 'dist/src/daemon/main.js');

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

/**
 * Collects a child's JSON log lines (pino, on stderr for our binaries) into
 * `logs` — a line that is not JSON becomes {level: 'raw', msg} — keeping the
 * last 64 KiB of raw text for error messages; `onLog` sees each line as it
 * arrives.
 */
export function collectLogs(stream: NodeJS.ReadableStream, onLog?: (line: LogLine) => void): { logs: LogLine[]; text(): string } {
  const logs: LogLine[] = [];
  let text = '';
  let partial = '';
  stream.on('data', (d: Buffer) => {
    const chunk = d.toString();
    text = (text + chunk).slice(-65536);
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      if (l.trim() === '') continue;
      let obj: LogLine;
      try {
        obj = JSON.parse(l) as LogLine;
      } catch {
        obj = { level: 'raw', msg: l };
      }
      logs.push(obj);
      onLog?.(obj);
    }
  });
  return { logs, text: () => text };
}

export interface DaemonProcess {
  proc: ChildProcess;
  pid: number;
  /** Parsed JSON log lines so far (non-JSON stderr lines as {level:'raw', msg}). */
  logs: LogLine[];
  /** Everything the process wrote to stderr (last 64 KiB). */
  stderr(): string;
  stdout(): string;
  exited: Promise<number | string>;
  exitCode(): number | string | undefined;
  /** Resolves with the base URL once the daemon logged "listening". */
  ready(timeoutMs?: number): Promise<string>;
  url(): string;
  client(token?: string): RomanaClient;
  /** SIGTERM, then wait for exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | string>;
  kill(): Promise<void>;
}

const started = new Set<DaemonProcess>();
const clients = new Set<RomanaClient>();

export function assertBuilt(): void {
  if (!existsSync(DAEMON_MAIN)) throw new Error(`${DAEMON_MAIN} is missing: run "npx tsc -p tsconfig.json" (npm test builds it)`);
}

/** A fresh temporary directory (removed by cleanupDaemons). */
const tempDirs: string[] = [];
export function tempDir(prefix = 'romana-daemon-test-'): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

/**
 * Spawns the daemon with `args` (add --port 0 and a --data-dir yourself, or
 * use the defaults given by `withDefaults`).
 */
export function spawnDaemon(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): DaemonProcess {
  assertBuilt();
  const proc = spawn(process.execPath, [DAEMON_MAIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let code: number | string | undefined;
  let baseUrl: string | undefined;
  proc.stdout!.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-65536);
  });
  const { logs, text: stderrText } = collectLogs(proc.stderr!, (obj) => {
    if (baseUrl === undefined && typeof obj.msg === 'string' && obj.msg.startsWith('listening on ') && typeof obj.url === 'string') {
      baseUrl = obj.url.replace('0.0.0.0', '127.0.0.1');
    }
  });
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (c, sig) => {
      code = c ?? sig ?? 'unknown';
      resolve(code);
    }),
  );
  const d: DaemonProcess = {
    proc,
    pid: proc.pid!,
    logs,
    stderr: stderrText,
    stdout: () => out,
    exited,
    exitCode: () => code,
    ready: (timeoutMs = 30_000) =>
      waitFor(
        `daemon ${proc.pid} to listen`,
        () => {
          if (baseUrl) return baseUrl;
          if (code !== undefined) throw new Error(`daemon ${proc.pid} exited (${code}) before listening: ${stderrText()}`);
          return undefined;
        },
        { timeoutMs, intervalMs: 10 },
      ),
    url: () => {
      if (!baseUrl) throw new Error('daemon not listening yet');
      return baseUrl;
    },
    client: (token) => {
      const c = new RomanaClient({ baseUrl: d.url(), ...(token === undefined ? {} : { token }) });
      clients.add(c);
      return c;
    },
    stop: async (graceMs = 15_000) => {
      if (code === undefined) {
        try {
          process.kill(proc.pid!, 'SIGTERM');
        } catch {
          // gone
        }
        const t = setTimeout(() => {
          try {
            process.kill(proc.pid!, 'SIGKILL');
          } catch {
            // gone
          }
        }, graceMs);
        await exited;
        clearTimeout(t);
      }
      return code!;
    },
    kill: async () => {
      if (code === undefined) {
        try {
          process.kill(proc.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await exited;
    },
  };
  started.add(d);
  void exited.then(() => started.delete(d));
  return d;
}

/** Spawns on port 0 with a fresh data dir (unless given) and waits until it listens. */
export async function startDaemon(args: string[] = [], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<DaemonProcess> {
  const full = [...args];
  if (!full.includes('--port')) full.push('--port', '0');
  if (!full.includes('--data-dir') && !full.includes('--etcd-endpoints')) full.push('--data-dir', tempDir());
  if (!full.includes('--log-level')) full.push('--log-level', 'info');
  const d = spawnDaemon(full, opts);
  await d.ready();
  return d;
}

/** For afterAll/afterEach: closes clients, SIGKILLs daemons still running, removes temp dirs. */
export async function cleanupDaemons(): Promise<void> {
  await Promise.all([...clients].map((c) => c.close().catch(() => undefined)));
  clients.clear();
  const all = [...started];
  await Promise.all(all.map((d) => d.kill()));
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Plain HTTP for what the typed client hides: raw status codes, headers and bodies (no implicit Content-Type). */
export async function http(
  base: string,
  method: string,
  pathAndQuery: string,
  opts: { body?: string | object; contentType?: string | null; token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string; json: any }> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    if (opts.contentType !== null) headers['content-type'] = opts.contentType ?? 'application/json';
  }
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const res = await request(base + pathAndQuery, { method: method as Dispatcher.HttpMethod, headers, body });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}
