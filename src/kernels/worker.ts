/**
 * Worker-thread entry for the kernel pool (loaded by piscina from
 * dist/src/kernels/worker.js; see pool.ts).
 *
 * Goal: run large kernel calls off the main thread.
 * Design: each worker instantiates the release build once, at module load,
 * and then serves tasks through the same `runTask` dispatch the pool uses
 * inline. Results return by structured clone: transferring would need
 * piscina's `move()`, and pool.ts is the only module allowed to import
 * piscina (DESIGN §4); the clone is part of the measured crossover.
 * Concurrency rule: one task at a time per worker (piscina's default), so the
 * worker's single instance is never re-entered.
 */
import { runTask, type KernelTask, type TaskResult } from './tasks.js';
import { loadKernels } from './wasm.js';

const kernels = loadKernels('release');

export default function run(task: KernelTask): TaskResult {
  return runTask(kernels, task);
}
