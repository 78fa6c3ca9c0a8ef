/**
 * Kernel pool benchmark: inline (main thread's wasm instance) against a
 * worker call (clone in, compute, clone out) per input size, for each kernel.
 *
 * Goal: the measured crossover behind WORKER_THRESHOLDS in
 * src/kernels/pool.ts.
 * Design: two numbers per call and path, medians over repeated calls on a
 * warm pool: latency (start to result, via tinybench) and main-thread time
 * (event-loop active time during the call, from
 * performance.eventLoopUtilization). A worker call repeats the compute on
 * another thread, so its latency can only exceed the inline one by the
 * transfer and hop; what it buys is a free event loop. The crossover is thus
 * the smallest size from which a worker call keeps the main thread busy for
 * less time than computing inline (transfer included), reported with the
 * latency it costs.
 * Concurrency rule: one call in flight at a time; the pool is closed at the end.
 */
import { performance } from 'node:perf_hooks';
import { Bench } from 'tinybench';
import { cidr } from '../src/core/ip.js';
import * as pool from '../src/kernels/pool.js';
import { syntheticRoutes } from '../src/kernels/synthetic.js';
import type { BenchOptions, BenchSection, BenchSuite } from './types.js';

type Call = (mode: pool.PoolMode) => Promise<unknown>;

async function latency(fn: () => Promise<unknown>, opts: BenchOptions): Promise<number> {
  const bench = new Bench({
    time: opts.quick ? 40 : 400,
    iterations: opts.quick ? 3 : 10,
    warmupTime: opts.quick ? 10 : 50,
    warmupIterations: 2,
    throws: true,
  });
  bench.add('x', fn);
  await bench.run();
  const r = bench.tasks[0]!.result;
  if (r.state !== 'completed') throw new Error(`benchmark did not complete: ${r.state}`);
  return r.latency.p50;
}

/** Median event-loop active time (ms) of one call. */
async function mainThreadTime(fn: () => Promise<unknown>, opts: BenchOptions): Promise<number> {
  const samples: number[] = [];
  const runs = opts.quick ? 5 : 25;
  for (let i = 0; i < runs; i++) {
    const before = performance.eventLoopUtilization();
    await fn();
    samples.push(performance.eventLoopUtilization(before).active);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(3));

interface Series {
  kernel: string;
  unit: string;
  sizes: number[];
  make: (size: number) => Call;
}

async function measureSeries(s: Series, opts: BenchOptions): Promise<BenchSection> {
  const rows: Array<Record<string, string | number>> = [];
  let crossover: number | null = null;
  for (const size of s.sizes) {
    const call = s.make(size);
    await call('worker'); // warm: worker started, wasm instantiated, memory grown
    await call('inline');
    const inline = await latency(() => call('inline'), opts);
    const worker = await latency(() => call('worker'), opts);
    const inlineMain = await mainThreadTime(() => call('inline'), opts);
    const workerMain = await mainThreadTime(() => call('worker'), opts);
    const wins = workerMain < inlineMain;
    if (wins && crossover === null) crossover = size;
    if (!wins) crossover = null; // must hold from here on up
    rows.push({
      [s.unit]: size,
      'inline ms': ms(inline),
      'worker ms': ms(worker),
      'inline main-thread ms': ms(inlineMain),
      'worker main-thread ms': ms(workerMain),
      'worker frees the main thread': wins ? 'yes' : 'no',
    });
  }
  return {
    title: `Pool crossover: ${s.kernel}`,
    rows,
    notes: [
      crossover === null
        ? `No crossover in the measured range: the worker's transfer and hop cost the main thread more than computing inline.`
        : `Crossover: from ${crossover} ${s.unit} on, a worker call costs the main thread less than computing inline.`,
      'Latencies are medians (tinybench); main-thread time is the median event-loop active time of one awaited call.',
    ],
  };
}

function chain(n: number, seed: number): Uint32Array {
  let s = seed;
  return Uint32Array.from({ length: n }, () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0));
}

export const run: BenchSuite = async (opts) => {
  const q = opts.quick;
  const series: Series[] = [
    {
      kernel: 'route aggregation (synthetic cluster tables)',
      unit: 'routes',
      sizes: q ? [1000, 16_000] : [250, 500, 1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000],
      make: (size) => {
        const routes = syntheticRoutes({ routes: size, seed: 5 });
        return (mode) => pool.aggregate(routes, { mode });
      },
    },
    {
      kernel: 'ruleset diff (3 scattered edits)',
      unit: 'rules',
      sizes: q ? [10_000] : [2000, 10_000, 50_000, 200_000],
      make: (size) => {
        const desired = chain(size, size);
        const actual = desired.slice();
        actual[Math.floor(size / 3)] = 1;
        actual[Math.floor(size / 2)] = 2;
        actual[Math.floor((2 * size) / 3)] = 3;
        return (mode) => pool.diffRules(actual, desired, undefined, { mode });
      },
    },
    {
      kernel: 'block bitmap findFree (1000 free slots, one in 97)',
      unit: 'words',
      sizes: q ? [4096] : [1024, 8192, 65_536, 262_144],
      make: (size) => {
        const bm = new Uint32Array(size).fill(0xffffffff);
        for (let i = 5; i < size * 32; i += 97) bm[i >>> 5]! &= ~(1 << (i & 31));
        return (mode) => pool.findFree(bm, size * 32, 1000, 0, { mode });
      },
    },
    {
      kernel: 'CIDR carving (flat groups of 64 hosts)',
      unit: 'nodes',
      sizes: q ? [4097] : [1025, 16_385, 131_073],
      make: (size) => {
        // Root with (size-1)/64 groups of 63 hosts each: size nodes in total.
        const groups = Math.floor((size - 1) / 64);
        const counts = [groups];
        for (let g = 0; g < groups; g++) counts.push(63, ...new Array<number>(63).fill(0));
        return (mode) => pool.carve(cidr('10.0.0.0/8'), counts, 32, { mode });
      },
    },
  ];
  const sections: BenchSection[] = [];
  try {
    for (const s of series) sections.push(await measureSeries(s, opts));
  } finally {
    await pool.closeKernelPool();
  }
  return sections;
};
