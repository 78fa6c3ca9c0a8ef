/** Where a benchmark ran: every quoted figure carries this (bench/results.md, bench/results/). */
import { execSync } from 'node:child_process';
import os from 'node:os';

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`;
}

export function commit(): string {
  try {
    const sha = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execSync('git status --porcelain', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() ? '+dirty' : '';
    return sha + dirty;
  } catch {
    return 'unknown';
  }
}
