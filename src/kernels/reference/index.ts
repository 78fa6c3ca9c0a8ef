/**
 * The reference implementations as one `Kernels` object, so differential tests
 * and benchmarks treat them exactly like a wasm build.
 * Concurrency rule: pure functions, shareable freely.
 */
import type { Kernels } from '../types.js';
import { aggregateReference } from './aggregate.js';
import { clearRunReference, countFreeReference, findFreeReference, firstFreeReference, setRunReference } from './bitmap.js';
import { carveReference } from './carve.js';
import { diffRulesReference } from './ruleset_diff.js';

export const referenceKernels: Kernels = {
  carve: carveReference,
  firstFree: firstFreeReference,
  findFree: findFreeReference,
  countFree: countFreeReference,
  setRun: setRunReference,
  clearRun: clearRunReference,
  aggregate: aggregateReference,
  diffRules: diffRulesReference,
};
