/**
 * Linear-memory plumbing shared by every kernel.
 *
 * Goal: let the TypeScript loader (src/kernels/wasm.ts) pass arbitrarily large
 * inputs without any allocator inside the module.
 *
 * Design: the module never allocates (runtime "stub", no managed objects).
 * Everything after the static data (`arenaStart()`) is one arena laid out by
 * the caller per call: [info words][inputs][outputs][scratch → grows]. A kernel
 * receives raw pointers, uses the memory after `scratch` for its working set
 * and grows linear memory itself when that is not enough, so the caller must
 * re-read `memory.buffer` after every call (growth detaches old views).
 *
 * Concurrency rule: none needed. Kernels keep no state between calls (no
 * mutable globals at all); one instance serves one thread, and JS calls into it
 * synchronously, so calls never interleave.
 */

/** Status codes returned (as negative numbers) by the kernels; mirrored in src/kernels/types.ts. */
export const ERR_INVALID_INPUT: i32 = -1;
export const ERR_NO_MEMORY: i32 = -2;
export const ERR_TOO_SMALL: i32 = -3;
export const ERR_MALFORMED: i32 = -4;
export const ERR_CAPACITY: i32 = -5;

/** Highest byte address + 1 that wasm32 memory can ever reach (65536 pages). */
const MAX_BYTES: u64 = 0x1_0000_0000;

/** First arena byte: right after static data, 16-byte aligned so i64 scratch stays aligned. */
export function arenaStart(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

/**
 * Makes [0, end) addressable, growing memory when needed. `end` is u64 so a
 * caller's size arithmetic cannot silently wrap around 4 GiB.
 */
export function ensureCapacity(end: u64): bool {
  if (end > MAX_BYTES) return false;
  const have = (<u64>memory.size()) << 16;
  if (end <= have) return true;
  const pages = <i32>((end - have + 0xffff) >> 16);
  return memory.grow(pages) >= 0;
}

/** Exported form of ensureCapacity for the loader: 1 when [0, end) is addressable. */
export function reserve(end: f64): i32 {
  // f64 so the JS side can pass byte counts ≥ 2^31 without sign games.
  if (!(end >= 0)) return 0;
  return ensureCapacity(<u64>end) ? 1 : 0;
}

/** Rounds a byte address up to a multiple of 16. */
// @ts-ignore: decorator valid in AssemblyScript
@inline
export function align16(p: u64): u64 {
  return (p + 15) & ~(<u64>15);
}
