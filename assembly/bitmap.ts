/**
 * Block bitmap kernel: free/used bits of address offsets in a block, or of
 * block slots in a prefix group.
 *
 * Goal: allocation queries over bitmaps of any size without per-bit loops in JS.
 * Layout: bit i lives in u32 word i >> 5 at bit position i & 31 (LSB first),
 * 1 = used, 0 = free; `nbits` bounds the bitmap and bits of the last word past
 * it are ignored (neither free nor counted).
 *
 * Design: word-at-a-time with ctz/popcnt; runs are edited with one mask per
 * word. Queries do not modify the bitmap; set/clear edit it in place and return
 * how many bits actually changed, so a caller can detect double allocation or
 * double release without a second pass.
 *
 * Concurrency rule: stateless; the bitmap is caller memory for one call.
 */

/** Mask of bits [lo, hi) inside one word, 0 ≤ lo < hi ≤ 32. */
// @ts-ignore: decorator valid in AssemblyScript
@inline
function rangeMask(lo: u32, hi: u32): u32 {
  const upper: u32 = hi >= 32 ? 0xffffffff : (<u32>1 << hi) - 1;
  return upper & (0xffffffff << lo);
}

/** Free bits of word w as ones, restricted to bit indices [from, nbits). */
// @ts-ignore: decorator valid in AssemblyScript
@inline
function freeBits(ptr: usize, w: u32, from: u32, nbits: u32): u32 {
  let free = ~load<u32>(ptr + (<usize>w << 2));
  const first = w << 5;
  if (from > first) free &= 0xffffffff << (from - first);
  if (nbits - first < 32) free &= (<u32>1 << (nbits - first)) - 1;
  return free;
}

/** Lowest free bit index ≥ from, or -1. */
export function bmFirstFree(ptr: usize, nbits: i32, from: i32): i32 {
  if (from < 0) from = 0;
  if (nbits <= 0 || from >= nbits) return -1;
  const nb = <u32>nbits;
  const f = <u32>from;
  const words = (nb + 31) >> 5;
  for (let w = f >> 5; w < words; w++) {
    const free = freeBits(ptr, w, f, nb);
    if (free != 0) return <i32>((w << 5) + ctz<u32>(free));
  }
  return -1;
}

/** Writes up to `count` free bit indices ≥ from, lowest first, as u32 at out; returns how many. */
export function bmFindFree(ptr: usize, nbits: i32, from: i32, count: i32, out: usize): i32 {
  if (from < 0) from = 0;
  if (nbits <= 0 || from >= nbits || count <= 0) return 0;
  const nb = <u32>nbits;
  const f = <u32>from;
  const words = (nb + 31) >> 5;
  let found: i32 = 0;
  for (let w = f >> 5; w < words; w++) {
    let free = freeBits(ptr, w, f, nb);
    while (free != 0) {
      store<u32>(out + (<usize>found << 2), (w << 5) + ctz<u32>(free));
      found++;
      if (found == count) return found;
      free &= free - 1; // drop the lowest set bit
    }
  }
  return found;
}

/** Number of free bits in [0, nbits). */
export function bmCountFree(ptr: usize, nbits: i32): i32 {
  if (nbits <= 0) return 0;
  const nb = <u32>nbits;
  const words = (nb + 31) >> 5;
  let n: i32 = 0;
  for (let w: u32 = 0; w < words; w++) n += <i32>popcnt<u32>(freeBits(ptr, w, 0, nb));
  return n;
}

/**
 * Sets (value = 1) or clears (value = 0) bits [start, start + len). Returns
 * how many bits changed, or -1 (bitmap untouched) when the run leaves [0, nbits).
 */
function editRun(ptr: usize, nbits: i32, start: i32, len: i32, set: bool): i32 {
  if (start < 0 || len < 0 || nbits < 0 || <i64>start + <i64>len > <i64>nbits) return -1;
  if (len == 0) return 0;
  const s = <u32>start;
  const e = s + <u32>len; // exclusive; ≤ nbits < 2^31, no overflow
  let changed: i32 = 0;
  for (let w = s >> 5; w <= (e - 1) >> 5; w++) {
    const first = w << 5;
    const lo: u32 = s > first ? s - first : 0;
    const hi: u32 = e - first >= 32 ? 32 : e - first;
    const m = rangeMask(lo, hi);
    const at = ptr + (<usize>w << 2);
    const old = load<u32>(at);
    if (set) {
      changed += <i32>popcnt<u32>(~old & m);
      store<u32>(at, old | m);
    } else {
      changed += <i32>popcnt<u32>(old & m);
      store<u32>(at, old & ~m);
    }
  }
  return changed;
}

/** Marks [start, start + len) used; returns bits that were free (changed), or -1 if out of range. */
export function bmSetRun(ptr: usize, nbits: i32, start: i32, len: i32): i32 {
  return editRun(ptr, nbits, start, len, true);
}

/** Marks [start, start + len) free; returns bits that were used (changed), or -1 if out of range. */
export function bmClearRun(ptr: usize, nbits: i32, start: i32, len: i32): i32 {
  return editRun(ptr, nbits, start, len, false);
}
