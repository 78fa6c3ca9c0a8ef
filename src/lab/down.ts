/**
 * `lab down` and `lab status`. Down removes exactly what `lab up` made:
 * processes by PID file (only when /proc/PID/cmdline still names the state
 * dir) and every process inside a `<prefix>-` namespace, then those
 * namespaces by name (deleting a namespace takes its veths, bridges,
 * routes, rules and sets with it), then the state dir. Idempotent.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { expectedNamespaces } from './fabric.js';
import { run } from './netns.js';
import { waitFor } from './poll.js';
import { readState, type Print } from './state.js';
import { alive, ours, pidOf, zombie } from './system.js';

/** Namespaces whose name starts with `<prefix>-`. */
export async function labNamespaces(prefix: string): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`${prefix}-`));
}

export async function labDown(stateDir: string, prefix: string, print: Print): Promise<{ killed: number; namespaces: number }> {
  const st = readState(stateDir);
  const pfx = st?.prefix ?? prefix;
  const pids = new Set<number>();
  const pidDir = path.join(stateDir, 'pids');
  if (existsSync(pidDir)) {
    for (const f of readdirSync(pidDir)) {
      const pid = pidOf(stateDir, f.replace(/\.pid$/, ''));
      if (pid !== null && ours(pid, stateDir)) pids.add(pid);
    }
  }
  const namespaces = await labNamespaces(pfx);
  for (const ns of namespaces) {
    const r = await run('ip', ['netns', 'pids', ns]);
    for (const l of r.stdout.split('\n')) if (/^\d+$/.test(l.trim())) pids.add(Number(l.trim()));
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await waitFor(`processes ${[...pids].join(' ')} to exit`, () => [...pids].every((p) => !alive(p) || zombie(p)), { timeoutMs: 10_000, intervalMs: 20 });
  for (const ns of namespaces.reverse()) {
    const r = await run('ip', ['netns', 'del', ns]);
    if (r.code !== 0 && (await labNamespaces(pfx)).includes(ns)) print(`warning: ip netns del ${ns}: ${r.stderr.trim()}\n`);
  }
  rmSync(stateDir, { recursive: true, force: true });
  return { killed: pids.size, namespaces: namespaces.length };
}

export async function labStatus(stateDir: string, prefix: string): Promise<{ up: boolean; text: string }> {
  const st = readState(stateDir);
  const namespaces = await labNamespaces(st?.prefix ?? prefix);
  if (!st) {
    return { up: false, text: `no lab in ${stateDir}${namespaces.length > 0 ? `; but ${namespaces.length} ${prefix}- namespaces exist (romana lab down removes them)` : ''}\n` };
  }
  const lines = [`lab in ${stateDir}: ${st.hosts.length} hosts, ${st.racks.length} rack(s), ${st.pods.length} pods; daemon ${st.url} (unix:${st.socket})`];
  let up = true;
  for (const f of existsSync(path.join(stateDir, 'pids')) ? readdirSync(path.join(stateDir, 'pids')).sort() : []) {
    const name = f.replace(/\.pid$/, '');
    const pid = pidOf(stateDir, name);
    const running = pid !== null && alive(pid) && !zombie(pid) && ours(pid, stateDir);
    if (!running) up = false;
    lines.push(`  ${name.padEnd(16)} pid ${String(pid).padEnd(8)} ${running ? 'running' : 'NOT RUNNING'}`);
  }
  const want = expectedNamespaces(st).length;
  if (namespaces.length !== want) up = false;
  lines.push(`  namespaces: ${namespaces.length} of ${want} (${st.prefix}-*)`);
  return { up, text: lines.join('\n') + '\n' };
}
