/**
 * Reference block bitmap operations (pure TypeScript; the oracle for
 * assembly/bitmap.ts).
 *
 * Goal: the same answers as the kernel, written bit by bit so that they are
 * obviously right. Layout: bit i is word i >> 5, bit i & 31 (LSB first);
 * 1 = used, 0 = free; only bits below `nbits` exist.
 * Design: per-bit loops; no word tricks to share bugs with the kernel.
 * Concurrency rule: pure, except setRun/clearRun which edit the caller's
 * bitmap in place (as the kernel does).
 */
import { checkBitmapArgs, checkIndex, checkRun } from '../types.js';

function isUsed(bitmap: Uint32Array, i: number): boolean {
  return ((bitmap[i >>> 5]! >>> (i & 31)) & 1) === 1;
}

export function firstFreeReference(bitmap: Uint32Array, nbits: number, from = 0): number {
  checkBitmapArgs(bitmap, nbits);
  checkIndex('from', from);
  for (let i = Math.max(0, from); i < nbits; i++) if (!isUsed(bitmap, i)) return i;
  return -1;
}

export function findFreeReference(bitmap: Uint32Array, nbits: number, count: number, from = 0): Uint32Array {
  checkBitmapArgs(bitmap, nbits);
  checkIndex('from', from);
  checkIndex('count', count);
  const found: number[] = [];
  for (let i = Math.max(0, from); i < nbits && found.length < count; i++) if (!isUsed(bitmap, i)) found.push(i);
  return Uint32Array.from(found);
}

export function countFreeReference(bitmap: Uint32Array, nbits: number): number {
  checkBitmapArgs(bitmap, nbits);
  let n = 0;
  for (let i = 0; i < nbits; i++) if (!isUsed(bitmap, i)) n++;
  return n;
}

function editRun(bitmap: Uint32Array, nbits: number, start: number, len: number, used: boolean): number {
  checkBitmapArgs(bitmap, nbits);
  checkRun(nbits, start, len);
  let changed = 0;
  for (let i = start; i < start + len; i++) {
    if (isUsed(bitmap, i) !== used) changed++;
    const bit = (1 << (i & 31)) >>> 0;
    bitmap[i >>> 5] = used ? (bitmap[i >>> 5]! | bit) >>> 0 : (bitmap[i >>> 5]! & ~bit) >>> 0;
  }
  return changed;
}

export function setRunReference(bitmap: Uint32Array, nbits: number, start: number, len: number): number {
  return editRun(bitmap, nbits, start, len, true);
}

export function clearRunReference(bitmap: Uint32Array, nbits: number, start: number, len: number): number {
  return editRun(bitmap, nbits, start, len, false);
}
