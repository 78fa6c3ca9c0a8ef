/**
 * Store suite: IPAM allocation throughput and latency through the embedded
 * SQLite store and through etcd, at concurrency 1 and 16, next to the raw
 * compare-and-swap rate of the same store (txn "put if modRevision ==" on
 * distinct keys, same concurrency) measured in the same run: the ceiling an
 * allocation (one CAS txn with 2–4 compares and 2 puts, plus planning and
 * JSON) can approach.
 *
 * The suite starts and stops its own etcd (src/store/local_etcd.ts). Full
 * runs measure both on disk (os.tmpdir()) and on tmpfs (/dev/shm), since
 * every commit fsyncs (SQLite synchronous=FULL, etcd's WAL); `--quick` runs
 * tmpfs only with a few dozen operations.
 *
 * Allocations go round-robin over 16 hosts of the kubeadm topology (one
 * IpamService per cell, fresh key prefix): requests for different hosts
 * touch different blocks, as on a real cluster.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtinTopology } from '../src/core/topology/index.js';
import { IpamService } from '../src/daemon/ipam_service.js';
import { openEmbeddedStore } from '../src/store/embedded.js';
import { openEtcdStore } from '../src/store/etcd.js';
import { startEtcd } from '../src/store/local_etcd.js';
import type { Store } from '../src/store/store.js';
import { drive, percentile, rawCas, type Measured } from './load.js';
import type { BenchSection, BenchSuite } from './types.js';

const HOSTS = 16;
const CONCURRENCY = [1, 16] as const;


async function allocations(store: Store, n: number, conc: number): Promise<Measured> {
  const ipam = await IpamService.open(store);
  try {
    await ipam.setTopology(builtinTopology('kubeadm'));
    for (let h = 0; h < HOSTS; h++) await ipam.addHost({ name: `h${h}`, ip: `192.168.${h >> 8}.${(h & 255) + 1}` });
    // Warm-up: JIT, first blocks of every host.
    for (let h = 0; h < HOSTS; h++) await ipam.allocate({ name: `warm-${h}`, host: `h${h}`, tenant: 't', segment: 's' });
    const m = await drive(n, conc, async (i) => {
      await ipam.allocate({ name: `pod-${i}`, host: `h${i % HOSTS}`, tenant: 't', segment: 's' });
    });
    if (ipam.stats.conflicts > 0) throw new Error(`one process should never conflict with itself (${ipam.stats.conflicts})`);
    return m;
  } finally {
    await ipam.close();
  }
}

export const run: BenchSuite = async ({ quick }) => {
  const n = quick ? 40 : 1000;
  const media = quick ? [{ name: 'tmpfs', dir: '/dev/shm' }] : [{ name: `disk (${os.tmpdir()})`, dir: os.tmpdir() }, { name: 'tmpfs', dir: '/dev/shm' }];
  const rows: Array<Record<string, string | number>> = [];
  const notes: string[] = [];
  let prefixN = 0;
  for (const medium of media) {
    const etcd = await startEtcd({ parentDir: medium.dir });
    const embDir = mkdtempSync(path.join(medium.dir, 'romana-bench-embedded-'));
    try {
      const backends: Array<{ name: string; open: (prefix: string) => Promise<Store> }> = [
        { name: 'embedded', open: async (prefix) => openEmbeddedStore({ dataDir: embDir, prefix }) },
        { name: 'etcd', open: (prefix) => openEtcdStore({ endpoints: [etcd.endpoint], prefix }) },
      ];
      for (const b of backends) {
        for (const conc of CONCURRENCY) {
          const cells: Array<[string, Measured]> = [];
          for (const op of ['raw CAS txn', 'allocate'] as const) {
            const store = await b.open(`/bench-${prefixN++}`);
            try {
              cells.push([op, op === 'allocate' ? await allocations(store, n, conc) : await rawCas(store, n, conc)]);
            } finally {
              await store.close();
            }
          }
          for (const [op, m] of cells) {
            const sorted = [...m.latencies].sort((x, y) => x - y);
            rows.push({
              medium: medium.name,
              store: b.name,
              operation: op,
              concurrency: conc,
              ops: m.ops,
              'ops/s': Math.round((m.ops / m.ms) * 1000),
              'p50 ms': percentile(sorted, 50).toFixed(2),
              'p99 ms': percentile(sorted, 99).toFixed(2),
            });
          }
          const [raw, alloc] = [cells[0]![1], cells[1]![1]];
          notes.push(
            `${medium.name}, ${b.name}, concurrency ${conc}: allocation reaches ${Math.round((100 * (alloc.ops / alloc.ms)) / (raw.ops / raw.ms))}% of the raw CAS rate`,
          );
        }
      }
    } finally {
      await etcd.stop();
      rmSync(embDir, { recursive: true, force: true });
    }
  }
  notes.push(
    'raw CAS txn: one key per worker, "put if modRevision == last" (never conflicts); allocate: IpamService.allocate, one CAS txn per allocation (2–4 compares, 2 puts), hosts round-robin over 16.',
    'The embedded store is synchronous (better-sqlite3): concurrency within one process cannot overlap its commits, each of which fsyncs.',
  );
  const sections: BenchSection[] = [{ title: 'Store: allocation vs raw compare-and-swap', rows, notes }];
  return sections;
};
