/**
 * Ruleset diffing kernel: the rule hashes a chain has (actual) and should have
 * (desired) → the fewest insert/replace/delete operations, each costing 1
 * (Levenshtein distance), as iptables rule numbers applied in order.
 *
 * Goal: the agent rewrites only what changed (STYLE 1, Felix-style desired
 * state) on chains of 10k+ rules, where almost every diff is "identical", "a
 * few rules inserted/removed/changed" or "appended at the end".
 *
 * Design:
 * 1. Strip the common prefix and suffix (the whole job for identical chains
 *    and for pure appends or truncations).
 * 2. On the middle (a actual × b desired rules), Ukkonen/Landau–Vishkin
 *    furthest-reaching diagonals: L[e][k] is the furthest actual row reachable
 *    on diagonal k = column − row with at most e edits, sliding over equal
 *    rules for free. Time O((a+b)·D), memory (D+1)² i32 for the backtrace,
 *    where D is the edit distance; so a few edits anywhere in 10k rules cost
 *    a few linear scans.
 * 3. Fallback when D exceeds the caller's `maxEdits` (huge rewrites, where
 *    (D+1)² would not fit or pay off): replace position by position, then
 *    insert or delete the length difference at the end of the middle. Correct
 *    but not minimal (≤ max(a, b) ops); info[0] says which path ran.
 * The backtrace is written from the end of `out` backwards as (kind, row,
 * column) and then rewritten in place, front to back, into rule numbers.
 *
 * Op triplets: (kind, position, hash): kind 0 = insert `hash` so it becomes
 * rule `position`; 1 = replace rule `position` with `hash`; 2 = delete rule
 * `position` (hash = the deleted rule's, for logs). Positions are 1-based and
 * valid at the moment each op is applied, in array order.
 *
 * Concurrency rule: stateless; caller memory for one call.
 */
import { ERR_INVALID_INPUT, ERR_NO_MEMORY, align16, ensureCapacity } from './common';

const OP_INSERT: u32 = 0;
const OP_REPLACE: u32 = 1;
const OP_DELETE: u32 = 2;

// @ts-ignore: decorator valid in AssemblyScript
@inline
function at(p: usize, i: i32): u32 {
  return load<u32>(p + (<usize>i << 2));
}

// @ts-ignore: decorator valid in AssemblyScript
@inline
function putOp(out: usize, idx: i32, kind: u32, pos: u32, hash: u32): void {
  const o = out + (<usize>idx) * 12;
  store<u32>(o, kind);
  store<u32>(o, pos, 4);
  store<u32>(o, hash, 8);
}

/** L[e][k] lives at level base e² + (k + e). */
// @ts-ignore: decorator valid in AssemblyScript
@inline
function cell(levels: usize, e: i32, k: i32): usize {
  return levels + ((<usize>(e * e + k + e)) << 2);
}

/**
 * Diffs `actual` (m hashes) into `desired` (n hashes); writes op triplets to
 * `out` (capacity must be ≥ max(m, n) ops). Returns the op count or a negative
 * status; info[0] = 1 when the script is minimal, 0 when the fallback ran;
 * info[1] = common prefix length, info[2] = common suffix length.
 */
export function diffRules(
  actual: usize, m: i32, desired: usize, n: i32,
  out: usize, scratch: usize, maxEdits: i32, info: usize,
): i32 {
  store<u32>(info, 1);
  store<u32>(info, 0, 4);
  store<u32>(info, 0, 8);
  if (m < 0 || n < 0 || maxEdits < 0) return ERR_INVALID_INPUT;
  let p: i32 = 0;
  while (p < m && p < n && at(actual, p) == at(desired, p)) p++;
  let s: i32 = 0;
  while (s < m - p && s < n - p && at(actual, m - 1 - s) == at(desired, n - 1 - s)) s++;
  store<u32>(info, <u32>p, 4);
  store<u32>(info, <u32>s, 8);
  const a = m - p - s;
  const b = n - p - s;
  const A = actual + (<usize>p << 2);
  const B = desired + (<usize>p << 2);
  const base = <u32>p + 1; // rule number of the middle's first actual rule
  if (a == 0) {
    for (let j: i32 = 0; j < b; j++) putOp(out, j, OP_INSERT, base + <u32>j, at(B, j));
    return b;
  }
  if (b == 0) {
    for (let i: i32 = 0; i < a; i++) putOp(out, i, OP_DELETE, base, at(A, i));
    return a;
  }
  const target = b - a;
  const levels = <usize>align16(<u64>scratch);
  let dist: i32 = -1;
  const limit = maxEdits < (a > b ? a : b) ? maxEdits : (a > b ? a : b); // D ≤ max(a, b) always
  if ((target < 0 ? -target : target) <= limit) {
    for (let e: i32 = 0; e <= limit && dist < 0; e++) {
      if (!ensureCapacity(<u64>levels + ((<u64>(e + 1) * <u64>(e + 1)) << 2))) return ERR_NO_MEMORY;
      for (let k: i32 = -e; k <= e; k++) {
        if (k < -a || k > b) { store<i32>(cell(levels, e, k), -1); continue; }
        let i: i32 = -1;
        if (e == 0) i = 0;
        else {
          if (k >= -(e - 1) && k <= e - 1) {
            const v = load<i32>(cell(levels, e - 1, k));
            if (v >= 0) {
              if (v > i) i = v; // no further edit
              if (v < a && v + k < b && v + 1 > i) i = v + 1; // replace
            }
          }
          if (k + 1 <= e - 1) {
            const v = load<i32>(cell(levels, e - 1, k + 1));
            if (v >= 0 && v < a && v + 1 > i) i = v + 1; // delete actual[v]
          }
          if (k - 1 >= -(e - 1)) {
            const v = load<i32>(cell(levels, e - 1, k - 1));
            if (v >= 0 && v + k <= b && v > i) i = v; // insert desired[v + k - 1]
          }
        }
        if (i >= 0) {
          while (i < a && i + k < b && at(A, i) == at(B, i + k)) i++;
        }
        store<i32>(cell(levels, e, k), i);
        if (k == target && i == a) dist = e;
      }
    }
  }
  if (dist < 0) {
    store<u32>(info, 0);
    const c = a < b ? a : b;
    let ops: i32 = 0;
    for (let i: i32 = 0; i < c; i++) {
      if (at(A, i) != at(B, i)) { putOp(out, ops, OP_REPLACE, base + <u32>i, at(B, i)); ops++; }
    }
    for (let j: i32 = c; j < b; j++) { putOp(out, ops, OP_INSERT, base + <u32>j, at(B, j)); ops++; }
    for (let i: i32 = c; i < a; i++) { putOp(out, ops, OP_DELETE, base + <u32>c, at(A, i)); ops++; }
    return ops;
  }

  // Backtrace: record (kind, row, column) from the last op backwards.
  let e = dist;
  let k = target;
  let slot = dist;
  while (e > 0) {
    const i = load<i32>(cell(levels, e, k));
    let sub: i32 = -1;
    let del: i32 = -1;
    let ins: i32 = -1;
    let stay: i32 = -1;
    if (k >= -(e - 1) && k <= e - 1) {
      const v = load<i32>(cell(levels, e - 1, k));
      if (v >= 0) { stay = v; if (v < a && v + k < b) sub = v + 1; }
    }
    if (k + 1 <= e - 1) {
      const v = load<i32>(cell(levels, e - 1, k + 1));
      if (v >= 0 && v < a) del = v + 1;
    }
    if (k - 1 >= -(e - 1)) {
      const v = load<i32>(cell(levels, e - 1, k - 1));
      if (v >= 0 && v + k <= b) ins = v;
    }
    let best = stay;
    if (sub > best) best = sub;
    if (del > best) best = del;
    if (ins > best) best = ins;
    // The forward pass slid from `best` to i over equal rules; those need no op.
    if (best > i) unreachable();
    if (sub == best) {
      slot--; putOp(out, slot, OP_REPLACE, <u32>(best - 1), <u32>(best - 1 + k));
    } else if (del == best) {
      slot--; putOp(out, slot, OP_DELETE, <u32>(best - 1), 0);
      k = k + 1;
    } else if (ins == best) {
      slot--; putOp(out, slot, OP_INSERT, <u32>best, <u32>(best + k - 1));
      k = k - 1;
    }
    // (stay: the same point was reachable with fewer edits; step down without an op.)
    e--;
  }
  // Minimality makes every level carry an op; shift down if a "stay" ever did not.
  const ops = dist - slot;
  let inserted: i32 = 0;
  let deleted: i32 = 0;
  for (let x: i32 = 0; x < ops; x++) {
    const o = out + (<usize>(slot + x)) * 12;
    const kind = load<u32>(o);
    const row = <i32>load<u32>(o, 4);
    const col = <i32>load<u32>(o, 8);
    const pos = base + <u32>(row + inserted - deleted);
    if (kind == OP_REPLACE) putOp(out, x, OP_REPLACE, pos, at(B, col));
    else if (kind == OP_DELETE) { putOp(out, x, OP_DELETE, pos, at(A, row)); deleted++; }
    else { putOp(out, x, OP_INSERT, pos, at(B, col)); inserted++; }
  }
  return ops;
}
