/**
 * Child processes for multi-process tests: TypeScript entry scripts run with
 * `node --import tsx`, stdout split into lines, helpers to wait for a line or
 * for exit, and a registry so a test's teardown kills (by PID) whatever it
 * started, even when the test failed.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { watchLines, type LineChild } from '../../src/lab/child_lines.js';

export type Child = LineChild;

const started = new Set<Child>();

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export function spawnTs(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const child = watchLines(proc, `child ${proc.pid}`, { stderrTail: 8000, waitMs: 20_000 });
  started.add(child);
  void child.exited.then(() => started.delete(child));
  return child;
}

/** For afterEach: SIGKILL every child still running and wait for them to go. */
export async function killAllChildren(): Promise<void> {
  const all = [...started];
  for (const c of all) c.kill('SIGKILL');
  await Promise.all(all.map((c) => c.exited));
}
