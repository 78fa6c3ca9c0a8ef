/**
 * Daemon suite: allocations through the HTTP API (POST /address) of a real
 * romana-daemon process — embedded store, and etcd at concurrency 1 and 16 —
 * next to etcd's raw compare-and-swap rate measured from this process in
 * the same run (the ceiling: one CAS txn per round trip, no HTTP, no IPAM).
 *
 * For each cell a fresh daemon (fresh data dir / etcd prefix) registers 16
 * hosts of the kubeadm topology; allocations go round-robin over them, as on
 * a real cluster. Latency is per request as the client sees it. The daemon's
 * own /metrics give the store transactions per allocation (target: 1) and
 * the CAS conflicts (target: 0 for one replica).
 *
 * Targets: one store transaction per allocation; p99 < 50 ms at concurrency
 * 16 on etcd. etcd runs on tmpfs (/dev/shm) and the embedded store on
 * os.tmpdir() (a disk: every commit fsyncs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RomanaClient } from '../src/shared/api_client.js';
import { openEtcdStore } from '../src/store/etcd.js';
import { startEtcd } from '../src/store/local_etcd.js';
import type { Store } from '../src/store/store.js';
import { drive, percentile, rawCas, type Measured } from './load.js';
import type { BenchSection, BenchSuite } from './types.js';

const HOSTS = 16;
const DAEMON_MAIN = fileURLToPath(new URL('../src/daemon/main.js', import.meta.url));


interface Daemon {
  proc: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** Starts `node dist/src/daemon/main.js` and resolves once its "listening" log line names the URL. */
function startDaemonProcess(args: string[]): Promise<Daemon> {
  const proc = spawn(process.execPath, [DAEMON_MAIN, '--port', '0', '--log-level', 'info', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let buf = '';
    let done = false;
    const timer = setTimeout(() => fail(new Error(`daemon did not listen within 30 s: ${buf.slice(-2000)}`)), 30_000);
    const fail = (e: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(e);
    };
    proc.once('exit', (code) => fail(new Error(`daemon exited (${code}) before listening: ${buf.slice(-2000)}`)));
    proc.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"url":"(http:[^"]+)"[^\n]*"msg":"listening on/.exec(buf);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        resolve({
          proc,
          url: m[1]!,
          stop: async () => {
            proc.kill('SIGTERM');
            await exited;
          },
        });
      }
      if (buf.length > 1 << 20) buf = buf.slice(-65536);
    });
  });
}

/** Sum of a counter family (all label sets) in a Prometheus exposition. */
function counter(metrics: string, name: string, labelFilter = ''): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    if (labelFilter && !line.includes(labelFilter)) continue;
    if (line[name.length] !== '{' && line[name.length] !== ' ') continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

interface Cell {
  measured: Measured;
  txnsPerAlloc: number;
  conflicts: number;
}

async function allocationsThroughHttp(storeArgs: string[], n: number, conc: number): Promise<Cell> {
  const d = await startDaemonProcess(storeArgs);
  const client = new RomanaClient({ baseUrl: d.url, connections: Math.max(conc, 1), timeoutMs: 60_000 });
  try {
    for (let h = 0; h < HOSTS; h++) await client.addHost({ name: `h${h}`, ip: `192.168.${h >> 8}.${(h & 255) + 1}` });
    // Warm-up: JIT, connections, the first block of every host.
    await drive(HOSTS * 4, conc, async (i) => {
      await client.allocate({ name: `warm-${i}`, host: `h${i % HOSTS}`, tenant: 't', segment: 's' });
    });
    const before = await client.metrics();
    const measured = await drive(n, conc, async (i) => {
      await client.allocate({ name: `pod-${i}`, host: `h${i % HOSTS}`, tenant: 't', segment: 's' });
    });
    const after = await client.metrics();
    const txns = counter(after, 'romana_daemon_store_txn_total') - counter(before, 'romana_daemon_store_txn_total');
    const conflicts = counter(after, 'romana_daemon_store_txn_conflicts_total') - counter(before, 'romana_daemon_store_txn_conflicts_total');
    return { measured, txnsPerAlloc: txns / n, conflicts };
  } finally {
    await client.close();
    await d.stop();
  }
}

function row(store: string, operation: string, conc: number, m: Measured, extra: { txns?: string; conflicts?: string } = {}): Record<string, string | number> {
  const sorted = [...m.latencies].sort((x, y) => x - y);
  return {
    store,
    operation,
    concurrency: conc,
    ops: m.ops,
    'ops/s': Math.round((m.ops / m.ms) * 1000),
    'p50 ms': percentile(sorted, 50).toFixed(2),
    'p99 ms': percentile(sorted, 99).toFixed(2),
    'txns/alloc': extra.txns ?? '',
    conflicts: extra.conflicts ?? '',
  };
}

export const run: BenchSuite = async ({ quick }) => {
  const n = (conc: number): number => (quick ? 48 : conc === 1 ? 500 : 2000);
  const rows: Array<Record<string, string | number>> = [];
  const notes: string[] = [];
  const etcd = await startEtcd({ parentDir: '/dev/shm' });
  const embDirs: string[] = [];
  let prefixN = 0;
  let etcdP99At16 = NaN;
  let worstTxns = 0;
  try {
    for (const conc of [1, 16]) {
      // Ceiling: raw CAS from this process straight to etcd.
      const raw = await openEtcdStore({ endpoints: [etcd.endpoint], prefix: `/bench-raw-${prefixN++}` });
      try {
        rows.push(row('etcd', 'raw CAS txn (no HTTP)', conc, await rawCas(raw, n(conc), conc)));
      } finally {
        await raw.close();
      }
      const e = await allocationsThroughHttp(['--etcd-endpoints', etcd.endpoint, '--etcd-prefix', `/bench-daemon-${prefixN++}`], n(conc), conc);
      rows.push(row('etcd', 'POST /address', conc, e.measured, { txns: e.txnsPerAlloc.toFixed(2), conflicts: String(e.conflicts) }));
      worstTxns = Math.max(worstTxns, e.txnsPerAlloc);
      if (conc === 16) etcdP99At16 = percentile([...e.measured.latencies].sort((x, y) => x - y), 99);

      const dir = mkdtempSync(path.join(os.tmpdir(), 'romana-bench-daemon-'));
      embDirs.push(dir);
      const emb = await allocationsThroughHttp(['--data-dir', dir], n(conc), conc);
      rows.push(row(`embedded (${os.tmpdir()})`, 'POST /address', conc, emb.measured, { txns: emb.txnsPerAlloc.toFixed(2), conflicts: String(emb.conflicts) }));
      worstTxns = Math.max(worstTxns, emb.txnsPerAlloc);
    }
  } finally {
    await etcd.stop();
    for (const d of embDirs) rmSync(d, { recursive: true, force: true });
  }
  notes.push(
    `Target "one store transaction per allocation": ${worstTxns <= 1.0001 ? 'met' : 'missed'} (worst cell ${worstTxns.toFixed(2)} txns/allocation, from the daemon's romana_daemon_store_txn_total).`,
    `Target "p99 < 50 ms at concurrency 16 on etcd": ${etcdP99At16 < 50 ? 'met' : 'missed'} (${etcdP99At16.toFixed(2)} ms).`,
    'POST /address: a separate daemon process, client over HTTP/1.1 keep-alive (undici, one connection per concurrent worker), 16 hosts round-robin, tenant/segment fixed; raw CAS: one key per worker, "put if modRevision == last", from the bench process.',
    'etcd data on /dev/shm (tmpfs); the embedded store fsyncs every commit to os.tmpdir(). Both processes share the 2 cores with the client.',
  );
  const sections: BenchSection[] = [{ title: 'Daemon: allocations through the HTTP API vs raw etcd compare-and-swap', rows, notes }];
  return sections;
};
