/**
 * Kernel calls as plain, structured-cloneable task objects.
 *
 * Goal: the pool's inline path (main thread) and its worker path (worker.ts)
 * execute the very same dispatch code, so "inline" and "worker" can only
 * differ in where they run, never in what they compute.
 * Design: a discriminated union of tasks (numbers and typed arrays only, so
 * they cross postMessage by structured clone) and one `runTask` switch.
 * Bitmap edits return the edited bitmap: inline it is the caller's own array
 * (edited in place), from a worker it is a copy the pool writes back.
 * Concurrency rule: pure dispatch; the `Kernels` instance passed in is the
 * calling thread's own.
 */
import type { Cidr4 } from '../core/ip.js';
import type { CarveResult, Kernels, RouteTriplets, RuleDiff } from './types.js';

export type KernelTask =
  | { kernel: 'carve'; parent: Cidr4; childCounts: Uint32Array; maxPrefix: number }
  | { kernel: 'findFree'; bitmap: Uint32Array; nbits: number; count: number; from: number }
  | { kernel: 'countFree'; bitmap: Uint32Array; nbits: number }
  | { kernel: 'setRun' | 'clearRun'; bitmap: Uint32Array; nbits: number; start: number; len: number }
  | { kernel: 'aggregate'; routes: RouteTriplets }
  | { kernel: 'diffRules'; actual: Uint32Array; desired: Uint32Array; maxEdits: number };

export interface BitmapEdit {
  changed: number;
  bitmap: Uint32Array;
}

/** Result type of each task kind. */
export interface TaskResults {
  carve: CarveResult;
  findFree: Uint32Array;
  countFree: number;
  setRun: BitmapEdit;
  clearRun: BitmapEdit;
  aggregate: RouteTriplets;
  diffRules: RuleDiff;
}

export type TaskResult = TaskResults[keyof TaskResults];

export function runTask(k: Kernels, t: KernelTask): TaskResult {
  switch (t.kernel) {
    case 'carve':
      return k.carve(t.parent, t.childCounts, t.maxPrefix);
    case 'findFree':
      return k.findFree(t.bitmap, t.nbits, t.count, t.from);
    case 'countFree':
      return k.countFree(t.bitmap, t.nbits);
    case 'setRun':
      return { changed: k.setRun(t.bitmap, t.nbits, t.start, t.len), bitmap: t.bitmap };
    case 'clearRun':
      return { changed: k.clearRun(t.bitmap, t.nbits, t.start, t.len), bitmap: t.bitmap };
    case 'aggregate':
      return k.aggregate(t.routes);
    case 'diffRules':
      return k.diffRules(t.actual, t.desired, t.maxEdits);
  }
}
