/**
 * CIDR carving kernel: a parent CIDR and a tree of child counts → every
 * node's base address and prefix length.
 *
 * Goal: the IPAM's topology carving (DESIGN §3) without strings or objects.
 * Rule (Romana): the N children of a node split its CIDR into 2^ceil(log2 N)
 * equal parts in list order (child 0 = lowest addresses); parts beyond N are
 * padding and belong to nobody; a single child gets the whole CIDR.
 *
 * Design: the tree arrives as child counts in pre-order (node 0 is the root,
 * each node is followed by its children's subtrees in order). One left-to-right
 * pass keeps an explicit stack of open parents (no recursion, so a deep chain
 * cannot overflow the wasm stack); a frame is 16 bytes in the caller's scratch.
 *
 * Concurrency rule: stateless; all state lives in caller-provided memory for
 * the duration of one call (see common.ts).
 */
import { ERR_INVALID_INPUT, ERR_MALFORMED, ERR_NO_MEMORY, ERR_TOO_SMALL, ensureCapacity } from './common';

/** Bits needed to number k parts: ceil(log2 k); 0 for k ≤ 1. */
// @ts-ignore: decorator valid in AssemblyScript
@inline
function partBits(k: u32): u32 {
  return k <= 1 ? 0 : 32 - clz<u32>(k - 1);
}

/**
 * Carves `n` nodes. Writes bases (u32) to outBase and prefix lengths (u8) to
 * outPrefix. Returns n, or a negative status with info[0] = node index:
 * - ERR_TOO_SMALL: that node's children would get a prefix longer than maxPrefix;
 * - ERR_MALFORMED: the counts do not describe exactly one tree (info[0] is the
 *   first surplus node, or n when nodes are missing);
 * - ERR_INVALID_INPUT: prefix/maxPrefix out of range or n < 1.
 * Host bits of `base` are cleared (the caller validates user input).
 */
export function carve(
  base: u32, prefix: i32, maxPrefix: i32,
  countsPtr: usize, n: i32,
  outBase: usize, outPrefix: usize,
  scratch: usize, info: usize,
): i32 {
  store<u32>(info, 0);
  if (n < 1 || prefix < 0 || prefix > 32 || maxPrefix < prefix || maxPrefix > 32) return ERR_INVALID_INPUT;
  // Frames: k (children), next child index, base, parts' prefix length.
  if (!ensureCapacity(<u64>scratch + (<u64>n << 4))) return ERR_NO_MEMORY;
  const rootBase: u32 = prefix == 0 ? 0 : base & (0xffffffff << (32 - prefix));
  store<u32>(outBase, rootBase);
  store<u8>(outPrefix, <u8>prefix);
  let sp: usize = 0; // frames in use
  const k0 = load<u32>(countsPtr);
  if (k0 > 0) {
    const p = <u32>prefix + partBits(k0);
    if (p > <u32>maxPrefix) { store<u32>(info, 0); return ERR_TOO_SMALL; }
    store<u32>(scratch, k0);
    store<u32>(scratch, 0, 4);
    store<u32>(scratch, rootBase, 8);
    store<u32>(scratch, p, 12);
    sp = 1;
  }
  for (let i: i32 = 1; i < n; i++) {
    // Close parents whose children are all placed; the next node belongs to the nearest open one.
    while (sp > 0) {
      const f = scratch + ((sp - 1) << 4);
      if (load<u32>(f, 4) < load<u32>(f)) break;
      sp--;
    }
    if (sp == 0) { store<u32>(info, <u32>i); return ERR_MALFORMED; }
    const f = scratch + ((sp - 1) << 4);
    const j = load<u32>(f, 4);
    store<u32>(f, j + 1, 4);
    const cp = load<u32>(f, 12);
    const pb = load<u32>(f, 8);
    // A single child keeps the parent's prefix (cp == parent prefix, j == 0): no shift needed.
    const cb: u32 = j == 0 ? pb : pb + (j << (32 - cp));
    store<u32>(outBase + (<usize>i << 2), cb);
    store<u8>(outPrefix + <usize>i, <u8>cp);
    const k = load<u32>(countsPtr + (<usize>i << 2));
    if (k > 0) {
      const p = <u64>cp + <u64>partBits(k);
      if (p > <u64>maxPrefix) { store<u32>(info, <u32>i); return ERR_TOO_SMALL; }
      const g = scratch + (sp << 4);
      store<u32>(g, k);
      store<u32>(g, 0, 4);
      store<u32>(g, cb, 8);
      store<u32>(g, <u32>p, 12);
      sp++;
    }
  }
  while (sp > 0) {
    const f = scratch + ((sp - 1) << 4);
    if (load<u32>(f, 4) < load<u32>(f)) { store<u32>(info, <u32>n); return ERR_MALFORMED; }
    sp--;
  }
  return n;
}
