/**
 * The machine side of the lab: the system packages it needs (installed
 * with apt-get when asked, else named), the built files it runs, and its
 * detached processes — started with their PID in `<state>/pids/NAME.pid`
 * and their output in `<state>/logs/NAME.log`, and recognised later only
 * when /proc/PID/cmdline still names the state dir (a recycled PID is never
 * taken for ours).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { run } from './netns.js';
import { dist } from './paths.js';
import type { Print } from './state.js';

export const BIRD = '/usr/sbin/bird';
export const BIRDC = '/usr/sbin/birdc';

/** Binaries the lab runs, and the Debian package of each. */
const REQUIRED: Array<{ bin: string; pkg: string }> = [
  { bin: 'ip', pkg: 'iproute2' },
  { bin: 'iptables', pkg: 'iptables' },
  { bin: 'ipset', pkg: 'ipset' },
  { bin: 'ping', pkg: 'iputils-ping' },
  { bin: 'bird', pkg: 'bird2' },
  { bin: 'birdc', pkg: 'bird2' },
  { bin: 'dig', pkg: 'dnsutils' },
];

export function which(bin: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(dir, bin);
    if (existsSync(p)) return p;
  }
  return null;
}

/** Missing packages ("bird2 (for bird)"), after installing them with apt-get when asked to. */
export async function ensurePackages(install: boolean, print: Print): Promise<string[]> {
  let missing = REQUIRED.filter((r) => which(r.bin) === null);
  if (missing.length > 0 && install) {
    const pkgs = [...new Set(missing.map((m) => m.pkg))];
    print(`installing ${pkgs.join(' ')} (apt-get)\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update', '-q'], { env });
    const r = await run('apt-get', ['install', '-y', '-q', ...pkgs], { env });
    if (r.code !== 0) print(`apt-get install failed (${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}\n`);
    missing = REQUIRED.filter((m) => which(m.bin) === null);
  }
  return missing.map((m) => `${m.pkg} (for ${m.bin})`);
}

/** Built files the lab starts that are not there. */
export function unbuiltFiles(): string[] {
  return [dist('src/daemon/main.js'), dist('src/agent/main.js'), dist('romana-cni.cjs'), dist('src/lab/probe_agent.js'), dist('publisher/main.js'), dist('dns/main.js')].filter((f) => !existsSync(f));
}

/** A process started detached (it outlives the CLI), its PID in pids/NAME.pid, stdout+stderr in logs/NAME.log. */
export function spawnDetached(stateDir: string, name: string, file: string, args: string[]): number {
  const fd = openSync(path.join(stateDir, 'logs', `${name}.log`), 'a');
  try {
    const child = spawn(file, args, { detached: true, stdio: ['ignore', fd, fd], cwd: stateDir });
    if (child.pid === undefined) throw new Error(`cannot start ${file}`);
    child.unref();
    writeFileSync(path.join(stateDir, 'pids', `${name}.pid`), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** The same, inside network namespace `ns`. */
export function spawnInNs(stateDir: string, name: string, ns: string, file: string, args: string[]): number {
  return spawnDetached(stateDir, name, 'ip', ['netns', 'exec', ns, file, ...args]);
}

export function logTail(stateDir: string, name: string, chars = 2000): string {
  try {
    return readFileSync(path.join(stateDir, 'logs', `${name}.log`), 'utf8').slice(-chars);
  } catch {
    return '(no log)';
  }
}

export function pidOf(stateDir: string, name: string): number | null {
  try {
    const n = Number(readFileSync(path.join(stateDir, 'pids', `${name}.pid`), 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function zombie(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

/** The lab process NAME runs (its PID file names a live process), else throws with its log. */
export function mustBeAlive(stateDir: string, name: string, what = name): void {
  if (!alive(pidOf(stateDir, name) ?? -1)) throw new Error(`${what} exited: ${logTail(stateDir, name)}`);
}

/** A PID from our files still runs one of our programs (its command line names the state dir), not a recycled PID. */
export function ours(pid: number, stateDir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(stateDir);
  } catch {
    return false;
  }
}

/** True when TCP `port` on 127.0.0.1 is free. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
