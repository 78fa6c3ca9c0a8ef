/**
 * CNI suite: what one pod start costs in romana-cni.
 *
 * 1. Start-up of the entry point: `CNI_COMMAND=VERSION` (no network, no
 *    daemon) through the tsc output (dist/src/cni/main.js) and the
 *    single-file bundle (dist/romana-cni.cjs), next to `node -e 0`, the
 *    floor any Node program pays. VERSION touches nothing, so it runs
 *    directly, without a namespace wrapper.
 * 2. ADD and DEL of a pod, end to end as a runtime sees them: the real
 *    executable inside a host network namespace created here, a real
 *    daemon (embedded store) reached over its unix socket, a fresh pod
 *    namespace per iteration. Includes `ip netns exec` (measured alone
 *    as "wrapper") — kubelet runs the plugin directly and does not pay it.
 *
 * Needs root (network namespaces); otherwise the suite reports why it did
 * not run. Every namespace is created with a unique per-run name and
 * deleted afterwards; nothing touches the root namespace's network.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSection, BenchSuite } from './types.js';

const DIST = fileURLToPath(new URL('..', import.meta.url));
const DAEMON_MAIN = path.join(DIST, 'src/daemon/main.js');
const CNI_MAIN = path.join(DIST, 'src/cni/main.js');
const CNI_BUNDLE = path.join(DIST, 'romana-cni.cjs');

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function stats(label: string, ms: number[]): Record<string, string | number> {
  const s = [...ms].sort((a, b) => a - b);
  return { what: label, runs: s.length, p50_ms: s.length ? +percentile(s, 50).toFixed(1) : '-', p99_ms: s.length ? +percentile(s, 99).toFixed(1) : '-', max_ms: s.length ? +s[s.length - 1]!.toFixed(1) : '-' };
}

/** Runs a program to completion; resolves with wall time, exit code and output. */
function timed(file: string, args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<{ ms: number; code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.once('close', (code) => resolve({ ms: performance.now() - t0, code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

function startDaemon(dataDir: string, socket: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [DAEMON_MAIN, '--port', '0', '--data-dir', dataDir, '--socket', socket, '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`daemon did not listen within 30 s: ${buf.slice(-1000)}`)), 30_000);
    proc.once('exit', (code) => reject(new Error(`daemon exited (${code}): ${buf.slice(-1000)}`)));
    proc.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"url":"(http:[^"]+)"[^\n]*"msg":"listening on/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1]! });
      }
    });
  });
}

export const run: BenchSuite = async ({ quick }) => {
  const startRuns = quick ? 5 : 40;
  const pods = quick ? 5 : 40;
  const sections: BenchSection[] = [];
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };

  // ---- 1: start-up ----
  const versionIn = JSON.stringify({ cniVersion: '1.1.0' });
  const floor: number[] = [];
  const tsc: number[] = [];
  const bundle: number[] = [];
  for (let i = 0; i < startRuns; i++) {
    floor.push((await timed(process.execPath, ['-e', '0'], env)).ms);
    tsc.push((await timed(process.execPath, [CNI_MAIN], { ...env, CNI_COMMAND: 'VERSION' }, versionIn)).ms);
    bundle.push((await timed(process.execPath, [CNI_BUNDLE], { ...env, CNI_COMMAND: 'VERSION' }, versionIn)).ms);
  }
  sections.push({
    title: 'romana-cni start-up (CNI_COMMAND=VERSION, wall time per process)',
    rows: [stats('node -e 0 (floor)', floor), stats('dist/src/cni/main.js (tsc, ESM, 16 modules)', tsc), stats('dist/romana-cni.cjs (esbuild bundle)', bundle)],
    notes: ['Interleaved runs, so machine load hits all three alike.'],
  });

  // ---- 2: ADD/DEL ----
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    sections.push({ title: 'romana-cni ADD/DEL', rows: [], notes: ['Not run: creating network namespaces needs root.'] });
    return sections;
  }
  const prefix = `rb${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const made: string[] = [];
  const netns = (name: string): string => {
    const full = `${prefix}-${name}`;
    execFileSync('ip', ['netns', 'add', full]);
    made.push(full);
    return full;
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'romana-cni-bench-'));
  let daemon: { proc: ChildProcess; url: string } | undefined;
  try {
    const socket = path.join(dir, 'daemon.sock');
    daemon = await startDaemon(path.join(dir, 'data'), socket);
    const reg = await fetch(`${daemon.url}/hosts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench-node', ip: '10.250.0.1' }) });
    if (!reg.ok) throw new Error(`registering the host failed: ${reg.status} ${await reg.text()}`);
    const host = netns('host');
    execFileSync('ip', ['-n', host, 'link', 'set', 'lo', 'up']);
    const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'bench', type: 'romana', daemon: `unix:${socket}`, node_name: 'bench-node', mtu: 1500 });
    const wrapper: number[] = [];
    const results: Record<string, { add: number[]; del: number[] }> = { bundle: { add: [], del: [] }, tsc: { add: [], del: [] } };
    for (let i = 0; i < pods; i++) {
      wrapper.push((await timed('ip', ['netns', 'exec', host, 'true'], env)).ms);
      for (const [label, entry] of [['bundle', CNI_BUNDLE], ['tsc', CNI_MAIN]] as const) {
        const pod = netns(`${label[0]}${i}`);
        const cid = randomBytes(32).toString('hex');
        const vars = { ...env, CNI_CONTAINERID: cid, CNI_NETNS: `/var/run/netns/${pod}`, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', CNI_ARGS: `K8S_POD_NAMESPACE=bench;K8S_POD_NAME=pod-${label}-${i}` };
        const add = await timed('ip', ['netns', 'exec', host, process.execPath, entry], { ...vars, CNI_COMMAND: 'ADD' }, conf);
        if (add.code !== 0) throw new Error(`ADD failed: ${add.stdout} ${add.stderr}`);
        const del = await timed('ip', ['netns', 'exec', host, process.execPath, entry], { ...vars, CNI_COMMAND: 'DEL' }, conf);
        if (del.code !== 0) throw new Error(`DEL failed: ${del.stdout} ${del.stderr}`);
        results[label]!.add.push(add.ms);
        results[label]!.del.push(del.ms);
        execFileSync('ip', ['netns', 'del', pod]);
        made.splice(made.indexOf(pod), 1);
      }
    }
    sections.push({
      title: 'romana-cni ADD and DEL of one pod (real kernel, daemon over its unix socket, embedded store)',
      rows: [
        stats('ADD, bundle', results.bundle!.add),
        stats('DEL, bundle', results.bundle!.del),
        stats('ADD, tsc output', results.tsc!.add),
        stats('DEL, tsc output', results.tsc!.del),
        stats('wrapper: ip netns exec HOST true', wrapper),
      ],
      notes: [
        'ADD = allocate (one store transaction, fsync) + 1 veth create + 2 ip -batch runs + endpoint record; no agent configured (its /sync adds the agent\'s apply time).',
        'DEL = veth delete + address lookup, endpoint withdrawal and release.',
      ],
    });
  } finally {
    for (const n of made.reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    daemon?.proc.kill('SIGTERM');
    if (daemon) await new Promise((r) => daemon!.proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
  return sections;
};
