/**
 * The kernel pool: async entry points for the four kernels that run small
 * calls inline and large calls on worker threads.
 *
 * Goal: big jobs (a cluster's routes, a node's full ruleset, bulk allocation
 * in the simulator) must not stall the main thread's event loop, while tiny
 * calls must not pay a thread hop (DESIGN §4).
 *
 * Design: this is the only module that imports piscina. The piscina pool is
 * created lazily on the first call that goes to a worker, and
 * `closeKernelPool()` destroys it (the next large call creates a new one);
 * its idle workers are unref'd, so a forgotten pool never keeps a process
 * alive. Workers run dist/src/kernels/worker.js (found from package.json, so
 * `npm run build` must have run) with their own release instance; inline
 * calls use this thread's release instance. Both execute `runTask`
 * (tasks.ts), so the two paths compute the same thing. Arguments are checked
 * here, before dispatch, so bad input fails the same way on either path.
 * A call goes to a worker when its size reaches the kernel's threshold below
 * (each measured by bench/pool.bench.ts); `mode` forces a path (benchmarks,
 * tests).
 *
 * Concurrency rule: any number of calls may be in flight. Inline calls
 * compute synchronously before their promise is returned. Worker calls queue
 * in piscina (one task per worker at a time) and their inputs are cloned when
 * a worker takes them, so a caller must not modify an input array until its
 * promise settles; setRun/clearRun overwrite the caller's bitmap with the
 * worker's result when the promise resolves.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import type { Cidr4 } from '../core/ip.js';
import { runTask, type KernelTask, type TaskResults } from './tasks.js';
import {
  checkBitmapArgs, checkCarveArgs, checkIndex, checkMaxEdits, checkRoutes, checkRun,
  DEFAULT_MAX_EDITS, type CarveResult, type RouteTriplets, type RuleDiff,
} from './types.js';
import { loadKernels, projectRoot } from './wasm.js';

export type PoolMode = 'auto' | 'inline' | 'worker';

export interface PoolCallOptions {
  /** 'auto' (default) picks by size; 'inline'/'worker' force a path. */
  mode?: PoolMode;
}

/**
 * Sizes from which a call goes to a worker. A worker repeats the same compute
 * on another thread, so its latency is always the inline time plus transfer
 * and hop; what it wins is main-thread time. bench/pool.bench.ts therefore
 * measures, per size, the event-loop time a worker call costs (clones and
 * messaging included) against computing inline, and the threshold is the
 * size from which the worker costs the main thread less in every run.
 * Measurements: 2026-11-26, 2 × Xeon (shared, noisy), Node 20.20.2, release
 * build, warm pool; full run in bench/results.md (12:05 UTC) plus one rerun.
 */
export const WORKER_THRESHOLDS = {
  /**
   * Routes. Crossover measured at 2,000 routes (recorded run) and 4,000
   * (rerun; noise at the small end); at 4,000 a worker call costs the main
   * thread ~0.05–0.12 ms instead of ~0.3 ms, for ~0.05–0.3 ms more latency.
   */
  aggregate: 4_000,
  /**
   * actual + desired rules. No stable crossover up to 200,000 rules (3 edits):
   * the common-case kernel is a linear compare (~0.3 ms at 200k), as cheap as
   * cloning its input, so diffs always run inline.
   */
  diffRules: Number.POSITIVE_INFINITY,
  /**
   * Tree nodes. Worker lost at 16,385 nodes and won at 131,073 in both runs
   * (0.8–1.2 ms instead of 1.6–5.6 ms of main thread); no size in between was measured.
   */
  carve: 131_072,
  /**
   * Bitmap words. No crossover up to 262,144 words (8M bits): scanning is
   * cheaper than cloning the bitmap, so bitmap calls always run inline.
   */
  bitmap: Number.POSITIVE_INFINITY,
} as const;

let pool: Piscina | null = null;
const counters = { inline: 0, worker: 0 };

/** The compiled worker, next to this module's compiled form under dist/. */
export function workerPath(): string {
  return join(projectRoot(), 'dist', 'src', 'kernels', 'worker.js');
}

function getPool(): Piscina {
  if (!pool) {
    pool = new Piscina({
      filename: pathToFileURL(workerPath()).href,
      // Leave one core to the main thread (the machine this ships on has two).
      maxThreads: Math.max(1, availableParallelism() - 1),
      minThreads: 1,
      // Keep a warm worker between bursts (wasm compile + instantiate costs
      // tens of ms); idle workers are unref'd, so this never blocks exit.
      idleTimeout: 30_000,
    });
  }
  return pool;
}

/**
 * Structured clone copies a typed array's whole ArrayBuffer: a small view into
 * a big buffer is sliced first so only its own bytes cross to the worker.
 */
function compactViews<T extends KernelTask>(task: T): T {
  let copy: Record<string, unknown> | null = null;
  for (const [key, v] of Object.entries(task)) {
    if (v instanceof Uint32Array && v.byteLength !== v.buffer.byteLength) {
      copy ??= { ...task };
      copy[key] = v.slice();
    }
  }
  return (copy ?? task) as T;
}

async function dispatch<K extends KernelTask['kernel']>(
  task: KernelTask & { kernel: K }, size: number, threshold: number, opts?: PoolCallOptions,
): Promise<TaskResults[K]> {
  const mode = opts?.mode ?? 'auto';
  const toWorker = mode === 'worker' || (mode === 'auto' && size >= threshold);
  if (toWorker) {
    counters.worker++;
    return (await getPool().run(compactViews(task))) as TaskResults[K];
  }
  counters.inline++;
  return runTask(loadKernels('release'), task) as TaskResults[K];
}

export async function carve(
  parent: Cidr4, childCounts: ArrayLike<number>, maxPrefix = 32, opts?: PoolCallOptions,
): Promise<CarveResult> {
  checkCarveArgs(parent, childCounts, maxPrefix);
  const counts = Uint32Array.from(childCounts);
  return dispatch({ kernel: 'carve', parent: { base: parent.base, prefix: parent.prefix }, childCounts: counts, maxPrefix },
    counts.length, WORKER_THRESHOLDS.carve, opts);
}

export async function findFree(
  bitmap: Uint32Array, nbits: number, count: number, from = 0, opts?: PoolCallOptions,
): Promise<Uint32Array> {
  checkBitmapArgs(bitmap, nbits);
  checkIndex('count', count);
  checkIndex('from', from);
  return dispatch({ kernel: 'findFree', bitmap, nbits, count, from }, bitmap.length, WORKER_THRESHOLDS.bitmap, opts);
}

export async function countFree(bitmap: Uint32Array, nbits: number, opts?: PoolCallOptions): Promise<number> {
  checkBitmapArgs(bitmap, nbits);
  return dispatch({ kernel: 'countFree', bitmap, nbits }, bitmap.length, WORKER_THRESHOLDS.bitmap, opts);
}

async function editRun(
  kernel: 'setRun' | 'clearRun', bitmap: Uint32Array, nbits: number, start: number, len: number, opts?: PoolCallOptions,
): Promise<number> {
  checkBitmapArgs(bitmap, nbits);
  checkRun(nbits, start, len);
  const r = await dispatch({ kernel, bitmap, nbits, start, len }, bitmap.length, WORKER_THRESHOLDS.bitmap, opts);
  if (r.bitmap !== bitmap) bitmap.set(r.bitmap); // came back from a worker as a copy
  return r.changed;
}

/** Marks [start, start+len) used in the caller's bitmap; resolves to how many bits were free. */
export function setRun(bitmap: Uint32Array, nbits: number, start: number, len: number, opts?: PoolCallOptions): Promise<number> {
  return editRun('setRun', bitmap, nbits, start, len, opts);
}

/** Marks [start, start+len) free in the caller's bitmap; resolves to how many bits were used. */
export function clearRun(bitmap: Uint32Array, nbits: number, start: number, len: number, opts?: PoolCallOptions): Promise<number> {
  return editRun('clearRun', bitmap, nbits, start, len, opts);
}

export async function aggregate(routes: RouteTriplets, opts?: PoolCallOptions): Promise<RouteTriplets> {
  checkRoutes(routes);
  return dispatch({ kernel: 'aggregate', routes }, routes.length / 3, WORKER_THRESHOLDS.aggregate, opts);
}

export async function diffRules(
  actual: Uint32Array, desired: Uint32Array, maxEdits = DEFAULT_MAX_EDITS, opts?: PoolCallOptions,
): Promise<RuleDiff> {
  checkMaxEdits(maxEdits);
  return dispatch({ kernel: 'diffRules', actual, desired, maxEdits },
    actual.length + desired.length, WORKER_THRESHOLDS.diffRules, opts);
}

/** Where calls went so far (tests, metrics). */
export function kernelPoolStats(): { inline: number; worker: number; poolOpen: boolean } {
  return { ...counters, poolOpen: pool !== null };
}

/** Destroys the worker pool, if any; later large calls create a new one. */
export async function closeKernelPool(): Promise<void> {
  const p = pool;
  pool = null;
  if (p) await p.destroy();
}
