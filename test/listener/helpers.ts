/**
 * Starts the built romana-listener (dist/src/listener/main.js) against a
 * fake API server and a real daemon, keeps its JSON log lines, and kills it
 * (by PID) at teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { collectLogs, REPO, type LogLine } from '../helpers/daemon.js';
import { waitFor } from '../helpers/poll.js';

export const LISTENER_MAIN = path.join(REPO, 'dist/src/listener/main.js');

export interface ListenerProcess {
  proc: ChildProcess;
  logs: LogLine[];
  stderr(): string;
  /** Health server base URL (after the "listening" line). */
  url(): Promise<string>;
  waitLog(pred: (l: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

const started = new Set<ListenerProcess>();

export function spawnListener(args: string[]): ListenerProcess {
  const proc = spawn(process.execPath, [LISTENER_MAIN, '--health-port', '0', '--health-host', '127.0.0.1', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let code: number | string | undefined;
  const { logs, text: stderrText } = collectLogs(proc.stderr!);
  proc.stdout!.resume();
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (c, s) => resolve((code = c ?? s ?? 'unknown'))));
  const waitLog = (pred: (l: LogLine) => boolean, what: string, timeoutMs = 15_000): Promise<LogLine> =>
    waitFor(what, () => {
      const hit = logs.find(pred);
      if (hit) return hit;
      if (code !== undefined) throw new Error(`listener exited (${code}): ${stderrText()}`);
      return undefined;
    }, { timeoutMs });
  const p: ListenerProcess = {
    proc,
    logs,
    stderr: stderrText,
    url: async () => String((await waitLog((l) => l.msg.startsWith('listening on '), 'listener to listen')).url),
    waitLog,
    exited,
    stop: async () => {
      if (code === undefined) process.kill(proc.pid!, 'SIGTERM');
      await exited;
    },
  };
  started.add(p);
  return p;
}

export async function killListeners(): Promise<void> {
  for (const p of started) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
  await Promise.all([...started].map((p) => p.exited));
  started.clear();
}

export function node(name: string, ip: string, labels: Record<string, string> = {}): Record<string, unknown> {
  return {
    metadata: { name, labels },
    status: { addresses: [{ type: 'Hostname', address: name }, { type: 'ExternalIP', address: '203.0.113.9' }, { type: 'InternalIP', address: ip }] },
  };
}

export function pod(namespace: string, name: string, labels: Record<string, string> = {}, extra: { nodeName?: string; ports?: number[]; phase?: string } = {}): Record<string, unknown> {
  return {
    metadata: { name, namespace, labels },
    spec: { nodeName: extra.nodeName ?? 'node1', containers: [{ name: 'c', image: 'x', ports: (extra.ports ?? []).map((p) => ({ name: `p${p}`, containerPort: p, protocol: 'TCP' })) }] },
    status: { phase: extra.phase ?? 'Running' },
  };
}
