/**
 * A growable hierarchical bitmap answering "lowest clear bit at or after i"
 * in O(log32 n): the IPAM's free-slot index (block slots of a prefix group)
 * and free-address index (addresses of a block).
 *
 * Design: level 0 has one bit per item (1 = taken). Level k+1 has one bit
 * per 32-bit word of level k, set when that word is completely full, so a
 * search skips 32^k full items per step instead of scanning them. Storage
 * grows on demand (doubling) up to `capacity`; items past the backed part
 * are clear, so a /8 group of /32 blocks costs nothing until it is used.
 *
 * Indices must stay below 2^31 (shifts are 32-bit); callers cap capacity.
 *
 * Concurrency: plain mutable object; single-threaded use only.
 */

const FULL = 0xffffffff;

/** Index of the lowest set bit of a non-zero 32-bit word. */
function ctz(word: number): number {
  return 31 - Math.clz32(word & -word);
}

export const MAX_BITMAP_CAPACITY = 2 ** 31 - 1;

export class FreeBitmap {
  /** Items with index >= capacity are never clear (searches report -1). */
  readonly capacity: number;
  /**
   * levels[0]: item bits; levels[k]: "word of level k-1 is full" bits. Null
   * when the capacity fits one word, which is then `word`: an address block
   * is usually that small, and a typed array per block was most of a new
   * block's garbage.
   */
  private levels: Uint32Array[] | null;
  /** The only word (unsigned) when `levels` is null. */
  private word = 0;
  /** Number of set bits at level 0. */
  private setCount = 0;

  constructor(capacity: number, initialBits = 32) {
    if (!(capacity >= 0 && capacity <= MAX_BITMAP_CAPACITY)) throw new RangeError(`bitmap capacity ${capacity} out of range`);
    this.capacity = capacity;
    this.levels = capacity <= 32 ? null : FreeBitmap.allocLevels(Math.max(1, Math.ceil(Math.min(initialBits, Math.max(capacity, 1)) / 32)));
  }

  private static allocLevels(words0: number): Uint32Array[] {
    const levels = [new Uint32Array(words0)];
    let words = words0;
    while (words > 1) {
      words = Math.ceil(words / 32);
      levels.push(new Uint32Array(words));
    }
    return levels;
  }

  /** Number of taken items. */
  get count(): number {
    return this.setCount;
  }

  has(i: number): boolean {
    const w = i >>> 5;
    if (this.levels === null) return w === 0 && (this.word & (1 << (i & 31))) !== 0;
    const l0 = this.levels[0]!;
    return w < l0.length && (l0[w]! & (1 << (i & 31))) !== 0;
  }

  /** Marks item i taken. Returns false when it already was. */
  set(i: number): boolean {
    if (i < 0 || i >= this.capacity) throw new RangeError(`bitmap index ${i} out of range 0..${this.capacity - 1}`);
    if (this.levels === null) {
      const bit = 1 << i;
      if ((this.word & bit) !== 0) return false;
      this.word = (this.word | bit) >>> 0;
      this.setCount++;
      return true;
    }
    const levels = this.levels;
    let w = i >>> 5;
    if (w >= levels[0]!.length) return this.grow(w + 1).set(i);
    const l0 = levels[0]!;
    const bit = 1 << (i & 31);
    if ((l0[w]! & bit) !== 0) return false;
    l0[w] = (l0[w]! | bit) >>> 0;
    this.setCount++;
    // Propagate "word is full" upwards while words become full.
    let lvl = 0;
    while (levels[lvl]![w] === FULL && lvl + 1 < levels.length) {
      lvl++;
      const up = levels[lvl]!;
      const uw = w >>> 5;
      up[uw] = (up[uw]! | (1 << (w & 31))) >>> 0;
      w = uw;
    }
    return true;
  }

  /** Marks item i free. Returns false when it already was. */
  clear(i: number): boolean {
    let w = i >>> 5;
    if (i < 0) return false;
    const levels = this.levels;
    if (levels === null) {
      const bit = 1 << (i & 31);
      if (w !== 0 || (this.word & bit) === 0) return false;
      this.word = (this.word & ~bit) >>> 0;
      this.setCount--;
      return true;
    }
    const l0 = levels[0]!;
    if (w >= l0.length) return false;
    const bit = 1 << (i & 31);
    if ((l0[w]! & bit) === 0) return false;
    let wasFull = l0[w] === FULL;
    l0[w] = (l0[w]! & ~bit) >>> 0;
    this.setCount--;
    // A full word stopped being full: clear its summary bit, and so on up.
    let lvl = 0;
    while (wasFull && lvl + 1 < levels.length) {
      lvl++;
      const up = levels[lvl]!;
      const uw = w >>> 5;
      wasFull = up[uw] === FULL;
      up[uw] = (up[uw]! & ~(1 << (w & 31))) >>> 0;
      w = uw;
    }
    return true;
  }

  /** Lowest clear index >= from (and < capacity), or -1. */
  firstClear(from = 0): number {
    if (from >= this.capacity) return -1;
    if (from < 0) from = 0;
    const levels = this.levels;
    if (levels === null) {
      // from < capacity <= 32 here.
      const free = ~this.word & (FULL << from);
      return free === 0 ? -1 : this.clip(ctz(free));
    }
    const backed = levels[0]!.length * 32;
    if (from >= backed) return from;
    // Ascend: look in the word holding `idx` at this level; if everything at
    // or after idx in it is full, continue one level up from the next word.
    let lvl = 0;
    let idx = from;
    for (;;) {
      const arr = levels[lvl]!;
      const w = idx >>> 5;
      if (w >= arr.length) return this.clip(backed);
      const free = ~arr[w]! & (FULL << (idx & 31));
      if (free !== 0) {
        idx = (w << 5) + ctz(free);
        break;
      }
      if (lvl + 1 === levels.length) {
        // Top level: at most a few words, scan them.
        let found = -1;
        for (let w2 = w + 1; w2 < arr.length; w2++) {
          if (arr[w2] !== FULL) {
            found = (w2 << 5) + ctz(~arr[w2]!);
            break;
          }
        }
        if (found < 0) return this.clip(backed);
        idx = found;
        break;
      }
      idx = w + 1;
      lvl++;
    }
    // Descend: idx names a non-full word of the level below.
    while (lvl > 0) {
      lvl--;
      const arr = levels[lvl]!;
      if (idx >= arr.length) return this.clip(backed);
      idx = (idx << 5) + ctz(~arr[idx]!);
    }
    return this.clip(idx);
  }

  private clip(i: number): number {
    return i < this.capacity ? i : -1;
  }

  /** Backs at least `minWords` words of level 0 (never called for a one-word bitmap); returns this. */
  private grow(minWords: number): this {
    const old = this.levels![0]!;
    const maxWords = Math.ceil(this.capacity / 32);
    let words = Math.max(1, old.length);
    while (words < minWords) words *= 2;
    words = Math.min(Math.max(words, minWords), maxWords);
    const levels = FreeBitmap.allocLevels(words);
    levels[0]!.set(old);
    // Rebuild the summaries from level 0.
    for (let lvl = 0; lvl + 1 < levels.length; lvl++) {
      const lo = levels[lvl]!;
      const up = levels[lvl + 1]!;
      for (let w = 0; w < lo.length; w++) if (lo[w] === FULL) up[w >>> 5] = (up[w >>> 5]! | (1 << (w & 31))) >>> 0;
    }
    this.levels = levels;
    return this;
  }
}
