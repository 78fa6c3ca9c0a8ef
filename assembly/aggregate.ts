/**
 * Route aggregation kernel: an IPv4 longest-prefix-match table → the minimal
 * LPM table with the same forwarding for all 2^32 addresses (ORTC, Draves,
 * King, Venkatachary, Zill, "Constructing optimal IP routing tables", 1999).
 *
 * Goal: the agent's and publisher's route sets (DESIGN §4, §6, §7) as few
 * entries as possible, with 100k prefixes in a few milliseconds.
 *
 * Semantics (mirrored by src/kernels/reference/aggregate.ts):
 * - input entries are (address, length, next hop) u32 triplets; host bits of
 *   the address are ignored; next hop 0xFFFFFFFF is DONT_CARE: addresses
 *   whose longest match is such an entry may be routed anywhere or not at all;
 * - when a prefix appears more than once the LAST entry wins (a later
 *   statement of intent overrides an earlier one, like a map assignment);
 * - addresses without a route stay without a route and every output entry
 *   carries a real next hop (no blackhole entries), so a trie node whose
 *   subtree holds an unrouted address never carries an entry and ORTC runs on
 *   each maximal fully-routed subtree, whose root therefore always emits;
 * - a don't-care leaf carries ORTC's universal set U (every next hop and
 *   "none"), the identity of A#B: with U in force nothing is ever emitted
 *   for it, and "none" may be handed down into it. Without DONT_CARE
 *   entries U never arises and the tables are exactly ORTC's;
 * - where ORTC may pick any next hop of a set, it picks the smallest id, so the
 *   reference and this kernel produce identical tables;
 * - output is sorted by (address, length).
 *
 * Design, all in caller-provided scratch (no allocation):
 * 1. LSD radix sort of 64-bit keys (address, length), next hops carried
 *    alongside → pre-order of the trie; stability makes "last duplicate
 *    wins" a neighbour check.
 *    13-bit digits (3 passes) for big inputs, 8-bit ones for small calls;
 *    passes whose digit is the same in every key are skipped.
 * 2. One stack pass builds a path-compressed binary trie (input prefixes plus
 *    branching nodes, ≤ 2n+1 nodes of 32 bytes). ORTC's normalisation is not
 *    materialised: along a compressed edge every skipped node has one real
 *    child and one leaf filled with the edge's inherited next hop f, so the
 *    set one level above child c is S(c)#{f} and every set above that is {f}
 *    (for a don't-care f, every one of them is S(c)#U = S(c)).
 *    A node's subtree is complete when it leaves the stack, so the bottom-up
 *    set pass (A#B = A∩B if non-empty else A∪B) runs right there.
 * 3. A recursive pre-order walk (the compressed trie is ≤ 33 nodes deep, so
 *    the wasm stack is never at risk) makes ORTC's top-down choices and emits
 *    entries already in (address, length) order.
 * Sets are sorted u32 lists in a pool after the trie (grown on demand);
 * singletons live inline in the node.
 *
 * Concurrency rule: stateless; every byte used is caller memory for one call.
 */
import { ERR_CAPACITY, ERR_INVALID_INPUT, ERR_NO_MEMORY, align16, ensureCapacity } from './common';

/**
 * Next hops inside the kernel are u64 so that all three kinds fit: real ids
 * 0..0xFFFFFFFE, DONT_CARE (0xFFFFFFFF, the input value) and NONE ("no input
 * prefix covers this"), which no u32 id can spell.
 */
const NONE: u64 = 0x1_0000_0000;
const DC: u64 = 0xffffffff;
/** Set-slot length marking the universal set (a don't-care subtree). */
const ALL: u32 = 0xffffffff;
// Sort keys (u64): address in bits 32..63, length in 26..31, the rest zero.
// Next hops travel alongside in a u32 array (a gather by input index after
// sorting would be a cache miss per route on big tables); LSD stability keeps
// input order among equal prefixes, which is what "last one wins" needs.
const KEY_LEN_SHIFT: u64 = 26;
const KEY_BITS: u64 = 38;
/** Bounds the scratch arithmetic; the loader enforces the same limit. */
const MAX_ROUTES: i32 = 1 << 24;

// Trie node layout (32 bytes). A "set slot" is two words: len (0 = not fully
// routed, 1 = the element itself is in val, ALL = universal, otherwise val
// points to len sorted ids).
const N_ADDR: usize = 0;
const N_LEN: usize = 4;
// Next hop handed down to everything below (u64, see NONE): an input
// prefix's own, else its ancestors' (NONE when nothing above routes). A leaf
// is always an input prefix or the empty root, so this is also a leaf's own.
const N_DOWN: usize = 8;
const N_LEFT: usize = 16; // child node index, 0 = none (node 0 is the root, never a child)
const N_RIGHT: usize = 20;
const N_SET: usize = 24; // set slot: len at +0, val at +4
const NODE_BYTES: usize = 32;

const BUILD_DEPTH: usize = 64; // compressed trie depth ≤ 33

// @ts-ignore: decorator valid in AssemblyScript
@inline
function nodeAt(nodes: usize, i: u32): usize {
  return nodes + (<usize>i) * NODE_BYTES;
}

/** Pointer to a set slot's elements (the inline word for a singleton). */
// @ts-ignore: decorator valid in AssemblyScript
@inline
function elems(slot: usize): usize {
  return load<u32>(slot) == 1 ? slot + 4 : <usize>load<u32>(slot, 4);
}

// @ts-ignore: decorator valid in AssemblyScript
@inline
function setSlot(slot: usize, len: u32, val: u32): void {
  store<u32>(slot, len);
  store<u32>(slot, val, 4);
}

/** The set of a leaf whose addresses forward to h, written into `slot`. */
// @ts-ignore: decorator valid in AssemblyScript
@inline
function setLeaf(slot: usize, h: u64): void {
  if (h == NONE) setSlot(slot, 0, 0);
  else if (h == DC) setSlot(slot, ALL, 0);
  else setSlot(slot, 1, <u32>h);
}

/** Smallest element of a non-empty set other than ALL. */
// @ts-ignore: decorator valid in AssemblyScript
@inline
function first(slot: usize): u32 {
  return load<u32>(elems(slot));
}

function member(slot: usize, hop: u64): bool {
  const len = load<u32>(slot);
  if (len == ALL) return true;
  if (len == 0 || hop >= DC) return false; // only ALL holds "none"
  const h = <u32>hop;
  if (len == 1) return load<u32>(slot, 4) == h;
  const p = <usize>load<u32>(slot, 4);
  let lo: u32 = 0;
  let hi: u32 = len;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const v = load<u32>(p + (<usize>mid << 2));
    if (v == h) return true;
    if (v < h) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

/**
 * dst := a # b (ORTC's merge) for two fully-routed sets; dst must not alias
 * a or b. Returns the new pool top, or 0 when memory cannot grow.
 */
function combine(dst: usize, a: usize, b: usize, top: usize): usize {
  const la = load<u32>(a);
  const lb = load<u32>(b);
  // U is the identity of #; pooled lists are never modified, so sharing is safe.
  if (la == ALL) { setSlot(dst, lb, load<u32>(b, 4)); return top; }
  if (lb == ALL) { setSlot(dst, la, load<u32>(a, 4)); return top; }
  if (la == 1 && lb == 1) {
    const x = load<u32>(a, 4);
    const y = load<u32>(b, 4);
    if (x == y) { setSlot(dst, 1, x); return top; }
    if (!ensureCapacity(<u64>top + 8)) return 0;
    store<u32>(top, x < y ? x : y);
    store<u32>(top, x < y ? y : x, 4);
    setSlot(dst, 2, <u32>top);
    return top + 8;
  }
  if (!ensureCapacity(<u64>top + ((<u64>la + <u64>lb) << 2))) return 0;
  const pa = elems(a);
  const pb = elems(b);
  let i: u32 = 0;
  let j: u32 = 0;
  let k: u32 = 0;
  while (i < la && j < lb) {
    const x = load<u32>(pa + (<usize>i << 2));
    const y = load<u32>(pb + (<usize>j << 2));
    if (x < y) i++;
    else if (y < x) j++;
    else { store<u32>(top + (<usize>k << 2), x); k++; i++; j++; }
  }
  if (k == 1) { setSlot(dst, 1, load<u32>(top)); return top; }
  if (k == 0) {
    i = 0; j = 0;
    while (i < la || j < lb) {
      let v: u32;
      if (j >= lb) { v = load<u32>(pa + (<usize>i << 2)); i++; }
      else if (i >= la) { v = load<u32>(pb + (<usize>j << 2)); j++; }
      else {
        const x = load<u32>(pa + (<usize>i << 2));
        const y = load<u32>(pb + (<usize>j << 2));
        if (x < y) { v = x; i++; }
        else if (y < x) { v = y; j++; }
        else { v = x; i++; j++; }
      }
      store<u32>(top + (<usize>k << 2), v);
      k++;
    }
  }
  setSlot(dst, k, <u32>top);
  return top + (<usize>k << 2);
}

/**
 * The set one level below node u on one side, as ORTC's normalised trie sees
 * it (see the module header), written into `slot`. Returns the pool top or 0.
 */
function sideSet(u: usize, nodes: usize, c: u32, slot: usize, fSlot: usize, top: usize): usize {
  const f = load<u64>(u, N_DOWN);
  if (c == 0) {
    // Missing child: a leaf filled with f (unrouted when f is none).
    setLeaf(slot, f);
    return top;
  }
  const cn = nodeAt(nodes, c);
  const d = load<u32>(cn, N_LEN) - load<u32>(u, N_LEN);
  if (d == 1) {
    setSlot(slot, load<u32>(cn, N_SET), load<u32>(cn, N_SET + 4));
    return top;
  }
  if (f == NONE) { setSlot(slot, 0, 0); return top; }
  if (f == DC) {
    // Every skipped node's set is S(c)#U = S(c).
    setSlot(slot, load<u32>(cn, N_SET), load<u32>(cn, N_SET + 4));
    return top;
  }
  if (d == 2) {
    setSlot(fSlot, 1, <u32>f);
    return combine(slot, cn + N_SET, fSlot, top);
  }
  setSlot(slot, 1, <u32>f);
  return top;
}

/** Bottom-up step for a node whose subtree is complete. Returns the pool top or 0. */
function finish(u: usize, nodes: usize, tmp: usize, top: usize): usize {
  const l = load<u32>(u, N_LEFT);
  const r = load<u32>(u, N_RIGHT);
  if (l == 0 && r == 0) {
    // A leaf route: {own next hop}; the empty root: not routed.
    setLeaf(u + N_SET, load<u64>(u, N_DOWN));
    return top;
  }
  if (l != 0 && r != 0) {
    // Fast path for dense regions: two adjacent children with the same single
    // next hop (the general path below computes the same, with more work).
    const ln = nodeAt(nodes, l);
    const rn = nodeAt(nodes, r);
    const cl = load<u32>(u, N_LEN) + 1;
    if (load<u32>(ln, N_LEN) == cl && load<u32>(rn, N_LEN) == cl &&
        load<u32>(ln, N_SET) == 1 && load<u32>(rn, N_SET) == 1 &&
        load<u32>(ln, N_SET + 4) == load<u32>(rn, N_SET + 4)) {
      setSlot(u + N_SET, 1, load<u32>(ln, N_SET + 4));
      return top;
    }
  }
  const sl = tmp;
  const sr = tmp + 8;
  const sf = tmp + 16;
  top = sideSet(u, nodes, l, sl, sf, top);
  if (top == 0) return 0;
  top = sideSet(u, nodes, r, sr, sf, top);
  if (top == 0) return 0;
  if (load<u32>(sl) == 0 || load<u32>(sr) == 0) {
    setSlot(u + N_SET, 0, 0);
    return top;
  }
  return combine(u + N_SET, sl, sr, top);
}

/** Appends one entry; returns the new count, or ERR_CAPACITY when out is full. */
// @ts-ignore: decorator valid in AssemblyScript
@inline
function emit(out: usize, emitted: i32, outCap: i32, addr: u32, len: u32, nh: u64): i32 {
  if (emitted >= outCap) return ERR_CAPACITY;
  const o = out + (<usize>emitted) * 12;
  store<u32>(o, addr);
  store<u32>(o, len, 4);
  store<u32>(o, <u32>nh, 8);
  return emitted + 1;
}

/**
 * ORTC's top-down pass at node u with next hop h in force: emit an entry
 * unless h is in u's set, then both sides. Returns the entry count or a
 * negative status.
 */
function walkNode(nodes: usize, u: u32, h: u64, out: usize, emitted: i32, outCap: i32): i32 {
  const un = nodeAt(nodes, u);
  const s = un + N_SET;
  let g: u64;
  const sl = load<u32>(s);
  if (sl == 0) g = NONE; // not fully routed: no entry may cover it
  else if (sl == 1 ? <u64>load<u32>(s, 4) == h : member(s, h)) g = h;
  else {
    g = first(s); // not ALL, which holds everything
    emitted = emit(out, emitted, outCap, load<u32>(un, N_ADDR), load<u32>(un, N_LEN), g);
    if (emitted < 0) return emitted;
  }
  if (load<u32>(un, N_LEN) == 32) return emitted;
  const l = load<u32>(un, N_LEFT);
  const r = load<u32>(un, N_RIGHT);
  const down = load<u64>(un, N_DOWN);
  if (l == 0 && r == 0 && (g == down || down == DC)) return emitted; // both added leaves agree
  emitted = walkSide(nodes, un, 0, l, g, out, emitted, outCap);
  if (emitted < 0) return emitted;
  return walkSide(nodes, un, 1, r, g, out, emitted, outCap);
}

/**
 * One side of node un (child c, 0 = none) with next hop g in force after un's
 * decision: the compressed edge's skipped nodes and added leaves (module
 * header), then c's subtree.
 */
function walkSide(nodes: usize, un: usize, side: u32, c: u32, g: u64, out: usize, emitted: i32, outCap: i32): i32 {
  const f = load<u64>(un, N_DOWN);
  const ulen = load<u32>(un, N_LEN);
  const childLen = ulen + 1;
  const childAddr = load<u32>(un, N_ADDR) | (side << (31 - ulen));
  if (c == 0) {
    // An added leaf with set {f} (U for a don't-care f).
    if (f < DC && g != f) return emit(out, emitted, outCap, childAddr, childLen, f);
    return emitted;
  }
  const cn = nodeAt(nodes, c);
  const clen = load<u32>(cn, N_LEN);
  const d = clen - ulen;
  if (d == 1) return walkNode(nodes, c, g, out, emitted, outCap);
  if (f == NONE) return walkNode(nodes, c, NONE, out, emitted, outCap); // unrouted leaves on the edge
  const cs = cn + N_SET;
  if (f == DC) {
    // The top skipped node's set is S(c) and its added leaf is U: an entry
    // there (the top, as the reference decides) unless g is already in S(c).
    let kept = g;
    if (!member(cs, g)) {
      kept = first(cs);
      emitted = emit(out, emitted, outCap, childAddr, childLen, kept);
      if (emitted < 0) return emitted;
    }
    return walkNode(nodes, c, kept, out, emitted, outCap);
  }
  if (d >= 3) {
    // The top skipped node's set is {f}; below it everything inherits f.
    if (g != f) {
      emitted = emit(out, emitted, outCap, childAddr, childLen, f);
      if (emitted < 0) return emitted;
    }
    return walkNode(nodes, c, f, out, emitted, outCap);
  }
  // d == 2: skipped node p at childLen with S(p) = {f} if f ∈ S(c), else S(c) ∪ {f}.
  const fIn = member(cs, f);
  let passed = g;
  if (!(g == f || (!fIn && member(cs, g)))) {
    passed = f;
    if (!fIn) {
      // S(c) is not ALL here (ALL holds f), so it has a smallest element.
      const m0 = <u64>first(cs);
      if (m0 < f) passed = m0;
    }
    emitted = emit(out, emitted, outCap, childAddr, childLen, passed);
    if (emitted < 0) return emitted;
  }
  if (passed == f) return walkNode(nodes, c, passed, out, emitted, outCap);
  // p's other child is an added leaf with {f}: it sorts before c's subtree
  // when c is p's right child, after it otherwise.
  const cbit = (load<u32>(cn, N_ADDR) >> (31 - childLen)) & 1;
  const fillAddr = childAddr | ((cbit ^ 1) << (31 - childLen));
  if (cbit == 1) {
    emitted = emit(out, emitted, outCap, fillAddr, clen, f);
    if (emitted < 0) return emitted;
    return walkNode(nodes, c, passed, out, emitted, outCap);
  }
  emitted = walkNode(nodes, c, passed, out, emitted, outCap);
  if (emitted < 0) return emitted;
  return emit(out, emitted, outCap, fillAddr, clen, f);
}

/**
 * Aggregates n routes given as u32 triplets (address, length, next hop) at
 * `input`; writes at most outCap triplets to `out`, sorted by (address,
 * length). Returns the entry count, or a negative status:
 * ERR_INVALID_INPUT (info[0] = offending input index, or n when n is out of
 * range), ERR_NO_MEMORY, ERR_CAPACITY (outCap too small; never with outCap ≥ n,
 * since the input without its DONT_CARE entries is a valid table and ORTC is
 * optimal).
 * On success info[0] = distinct prefixes, info[1] = trie nodes.
 */
export function aggregate(input: usize, n: i32, out: usize, outCap: i32, scratch: usize, info: usize): i32 {
  store<u32>(info, 0);
  store<u32>(info, 0, 4);
  if (n < 0 || n > MAX_ROUTES) { store<u32>(info, <u32>n); return ERR_INVALID_INPUT; }
  const nn = <usize>n;
  // Digit width of the radix sort: wide digits mean fewer passes over big
  // inputs, narrow ones keep the histogram work small for tiny calls.
  const digitBits: u64 = n >= 4096 ? 13 : 8;
  const buckets = <usize>1 << <usize>digitBits;
  const passes = <usize>((KEY_BITS + digitBits - 1) / digitBits);
  const keysA = <usize>align16(<u64>scratch);
  const keysB = keysA + (nn << 3);
  const hopsA = keysB + (nn << 3);
  const hopsB = hopsA + (nn << 2);
  const hist = <usize>align16(<u64>(hopsB + (nn << 2)));
  const nodes = hist + passes * buckets * 4;
  const buildStack = nodes + (2 * nn + 1) * NODE_BYTES;
  const tmp = buildStack + BUILD_DEPTH * 4;
  let top = tmp + 32; // set pool, grows
  if (!ensureCapacity(<u64>top + 1024)) return ERR_NO_MEMORY;

  // 1. Validate, build keys and every pass's digit histogram in one read.
  memory.fill(hist, 0, passes * buckets * 4);
  const mask = <u64>(buckets - 1);
  for (let i: usize = 0; i < nn; i++) {
    const e = input + i * 12;
    const len = load<u32>(e, 4);
    const nh = load<u32>(e, 8);
    if (len > 32) { store<u32>(info, <u32>i); return ERR_INVALID_INPUT; }
    const addr: u32 = len == 0 ? 0 : load<u32>(e) & (0xffffffff << (32 - len));
    const key = ((<u64>addr) << 32) | ((<u64>len) << KEY_LEN_SHIFT);
    store<u64>(keysA + (i << 3), key);
    store<u32>(hopsA + (i << 2), nh);
    for (let d: usize = 0; d < passes; d++) {
      const h = hist + ((d * buckets) << 2) + (<usize>((key >> (KEY_LEN_SHIFT + <u64>d * digitBits)) & mask) << 2);
      store<u32>(h, load<u32>(h) + 1);
    }
  }
  let src = keysA;
  let dst = keysB;
  let srcH = hopsA;
  let dstH = hopsB;
  for (let d: usize = 0; d < passes && nn > 1; d++) {
    const h = hist + ((d * buckets) << 2);
    const shift = KEY_LEN_SHIFT + <u64>d * digitBits;
    // A digit shared by every key (e.g. the first bits of 10/8) needs no pass.
    if (load<u32>(h + (<usize>((load<u64>(src) >> shift) & mask) << 2)) == <u32>n) continue;
    let sum: u32 = 0;
    for (let b: usize = 0; b < buckets; b++) {
      const c = load<u32>(h + (b << 2));
      store<u32>(h + (b << 2), sum);
      sum += c;
    }
    for (let i: usize = 0; i < nn; i++) {
      const key = load<u64>(src + (i << 3));
      const slot = h + (<usize>((key >> shift) & mask) << 2);
      const at = load<u32>(slot);
      store<u32>(slot, at + 1);
      store<u64>(dst + (<usize>at << 3), key);
      store<u32>(dstH + (<usize>at << 2), load<u32>(srcH + (i << 2)));
    }
    const t = src; src = dst; dst = t;
    const th = srcH; srcH = dstH; dstH = th;
  }

  // 2. Build the compressed trie in pre-order; finish nodes as they leave the stack.
  const root = nodeAt(nodes, 0);
  memory.fill(root, 0, NODE_BYTES);
  store<u64>(root, NONE, N_DOWN);
  store<u32>(buildStack, 0);
  let sp: usize = 1;
  let count: u32 = 1;
  let distinct: u32 = 0;
  for (let i: usize = 0; i < nn; i++) {
    const key = load<u64>(src + (i << 3));
    // Stable sort: equal prefixes keep input order, so only the last one counts.
    if (i + 1 < nn && (load<u64>(src + ((i + 1) << 3)) >> KEY_LEN_SHIFT) == (key >> KEY_LEN_SHIFT)) continue;
    distinct++;
    const addr = <u32>(key >> 32);
    const len = <u32>(key >> KEY_LEN_SHIFT) & 0x3f;
    const nh = load<u32>(srcH + (i << 2));
    if (len == 0) {
      store<u64>(root, <u64>nh, N_DOWN);
      continue;
    }
    let t: u32;
    let tn: usize;
    let tl: u32;
    while (true) {
      t = load<u32>(buildStack + ((sp - 1) << 2));
      tn = nodeAt(nodes, t);
      tl = load<u32>(tn, N_LEN);
      if (tl < len && (tl == 0 || ((addr ^ load<u32>(tn, N_ADDR)) >> (32 - tl)) == 0)) break;
      top = finish(tn, nodes, tmp, top);
      if (top == 0) return ERR_NO_MEMORY;
      sp--;
    }
    const side: usize = (addr >> (31 - tl)) & 1;
    const q = count++;
    const qn = nodeAt(nodes, q);
    store<u32>(qn, addr, N_ADDR);
    store<u32>(qn, len, N_LEN);
    store<u64>(qn, <u64>nh, N_DOWN);
    store<u32>(qn, 0, N_LEFT);
    store<u32>(qn, 0, N_RIGHT);
    const slot = tn + N_LEFT + (side << 2);
    const c = load<u32>(slot);
    if (c == 0) {
      store<u32>(slot, q);
    } else {
      // c is finished and does not contain q, and q (later in pre-order) cannot
      // contain c: they part below t at their first differing bit, c on the left.
      const cn = nodeAt(nodes, c);
      const l = clz<u32>(addr ^ load<u32>(cn, N_ADDR));
      const b = count++;
      const bn = nodeAt(nodes, b);
      store<u32>(bn, addr & (0xffffffff << (32 - l)), N_ADDR);
      store<u32>(bn, l, N_LEN);
      store<u64>(bn, load<u64>(tn, N_DOWN), N_DOWN);
      store<u32>(bn, c, N_LEFT);
      store<u32>(bn, q, N_RIGHT);
      store<u32>(slot, b);
      store<u32>(buildStack + (sp << 2), b);
      sp++;
    }
    // q's own next hop is what it hands down (it is a route).
    store<u32>(buildStack + (sp << 2), q);
    sp++;
  }
  while (sp > 0) {
    top = finish(nodeAt(nodes, load<u32>(buildStack + ((sp - 1) << 2))), nodes, tmp, top);
    if (top == 0) return ERR_NO_MEMORY;
    sp--;
  }
  store<u32>(info, distinct);
  store<u32>(info, count, 4);

  // 3. Top-down choices in pre-order; output comes out sorted. The compressed
  // trie is at most 33 nodes deep, so plain recursion is safe here.
  return walkNode(nodes, 0, NONE, out, 0, outCap);
}
