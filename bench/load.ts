/**
 * Closed-loop load generation shared by the store and daemon suites: `conc`
 * workers take the next operation index until `n` are done, recording each
 * operation's latency. Same driver, same raw-CAS baseline, so numbers from
 * both suites compare.
 */
import type { Store } from '../src/store/store.js';

export interface Measured {
  ops: number;
  ms: number;
  latencies: number[];
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `op(i, worker)` for i < n with `conc` workers; per-op latency in ms. */
export async function drive(n: number, conc: number, op: (i: number, worker: number) => Promise<void>): Promise<Measured> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async (_, worker) => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        const s = performance.now();
        await op(i, worker);
        latencies.push(performance.now() - s);
      }
    }),
  );
  return { ops: n, ms: performance.now() - t0, latencies };
}

/** The ceiling: each worker updates its own key with "put if modRevision == last" (never a conflict). */
export async function rawCas(store: Store, n: number, conc: number): Promise<Measured> {
  const revs = new Array<number>(conc).fill(0);
  return drive(n, conc, async (i, w) => {
    const key = `raw/${w}`;
    const r = await store.txn([{ key, modRevision: revs[w]! }], [{ op: 'put', key, value: String(i) }]);
    if (!r.succeeded) throw new Error(`raw CAS on ${key} failed: the bench's revision bookkeeping is wrong`);
    revs[w] = r.revision;
  });
}
