/**
 * Entry point of the kernels module: re-exports every kernel so `asc` emits
 * one wasm per build target (debug, release; see asconfig.json).
 *
 * Goal: a single, flat, typed export surface for src/kernels/wasm.ts.
 * Design: each kernel lives in its own file with its own header; this file
 * only decides what is visible. Concurrency rule: see common.ts (stateless).
 */
export { arenaStart, reserve } from './common';
export { carve } from './carve';
export { bmFirstFree, bmFindFree, bmCountFree, bmSetRun, bmClearRun } from './bitmap';
export { aggregate } from './aggregate';
export { diffRules } from './ruleset_diff';

/** Version of the kernel ABI; the loader refuses a build with another number. */
export function abiVersion(): i32 {
  return 1;
}
