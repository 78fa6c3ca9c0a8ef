/**
 * The kernels' TypeScript-facing contract, shared by the WASM wrappers
 * (wasm.ts), the reference implementations (reference/*.ts) and the pool.
 *
 * Goal: one interface, so a differential test can run the very same property
 * against the reference and both wasm builds, and callers can swap them.
 * Design: numbers and typed arrays only (no strings on hot paths, DESIGN §4);
 * list-shaped results are flat u32 triplets so they cross a worker boundary
 * as one transferable buffer. Argument checks live here, once, so every
 * implementation rejects exactly the same inputs with the same errors.
 * Concurrency rule: pure values and functions; nothing here holds state.
 */
import type { Cidr4 } from '../core/ip.js';

/** Negative statuses returned by the wasm kernels (assembly/common.ts). */
export const KERNEL_STATUS = {
  INVALID_INPUT: -1,
  NO_MEMORY: -2,
  TOO_SMALL: -3,
  MALFORMED: -4,
  CAPACITY: -5,
} as const;

/** Next hop id reserved for "no route"; real next hops are 0 .. 0xFFFFFFFE. */
export const NO_NEXT_HOP = 0xffffffff;

/**
 * The same reserved id as an aggregation *input*: "don't care". Addresses
 * whose longest match is such an entry may be routed via any next hop or
 * left unrouted; the kernel uses that freedom to need fewer entries (e.g.
 * the unallocated rest of a prefix group). It never appears in an output.
 */
export const DONT_CARE = NO_NEXT_HOP;

/**
 * Carving outcome. `bases[i]`/`prefixes[i]` belong to node i of the pre-order
 * child-count tree. Errors name a node index: for 'too-small' the node whose
 * children would need a prefix longer than allowed; for 'malformed' the first
 * surplus node, or the node count when nodes are missing.
 */
export type CarveResult =
  | { ok: true; bases: Uint32Array; prefixes: Uint8Array }
  | { ok: false; error: 'too-small' | 'malformed'; node: number };

/**
 * A route table as u32 triplets (address, prefix length, next hop id):
 * entry i is at [3i, 3i+1, 3i+2].
 */
export type RouteTriplets = Uint32Array;

export interface Route {
  /** Network address as an unsigned 32-bit number; host bits are ignored. */
  prefix: number;
  length: number;
  nextHop: number;
}

/** Rule operations: (kind, 1-based rule number, rule hash) triplets, applied in order. */
export const RULE_OP = { INSERT: 0, REPLACE: 1, DELETE: 2 } as const;
export type RuleOpKind = (typeof RULE_OP)[keyof typeof RULE_OP];

export interface RuleDiff {
  /**
   * (kind, position, hash) triplets. INSERT puts `hash` so that it becomes rule
   * `position` (iptables -I chain position); REPLACE rewrites rule `position`
   * (-R); DELETE removes rule `position` (-D; hash = the removed rule's).
   */
  ops: Uint32Array;
  /** False when the edit distance exceeded maxEdits and the positional fallback ran. */
  minimal: boolean;
}

/**
 * Levenshtein work bound for the ruleset diff: distances above it fall back to
 * a positional, non-minimal script. Giving up costs the kernel O(maxEdits²)
 * time and (maxEdits+1)² i32 of scratch: 1024 keeps that near 10 ms and 4 MiB
 * (measured in bench/kernels.bench.ts), while real chain updates change a few
 * rules, and pure appends/truncations are minimal at any bound.
 */
export const DEFAULT_MAX_EDITS = 1024;

/** What every kernel implementation offers (reference, wasm debug, wasm release). */
export interface Kernels {
  /** Carves `parent` per the child counts of a pre-order tree (node 0 = the parent). */
  carve(parent: Cidr4, childCounts: ArrayLike<number>, maxPrefix?: number): CarveResult;
  /** Lowest free (0) bit index ≥ from, or -1. */
  firstFree(bitmap: Uint32Array, nbits: number, from?: number): number;
  /** Up to `count` free bit indices ≥ from, ascending. */
  findFree(bitmap: Uint32Array, nbits: number, count: number, from?: number): Uint32Array;
  countFree(bitmap: Uint32Array, nbits: number): number;
  /** Sets bits [start, start+len) in place; returns how many were free before. */
  setRun(bitmap: Uint32Array, nbits: number, start: number, len: number): number;
  /** Clears bits [start, start+len) in place; returns how many were used before. */
  clearRun(bitmap: Uint32Array, nbits: number, start: number, len: number): number;
  /**
   * Minimal LPM table with identical forwarding, sorted by (address, length).
   * Entries with next hop DONT_CARE mark space whose forwarding is free:
   * the table then forwards every other routed address as the input does,
   * routes nothing the input leaves unrouted, and is minimal under that.
   */
  aggregate(routes: RouteTriplets): RouteTriplets;
  /** Fewest insert/replace/delete ops turning `actual` into `desired`. */
  diffRules(actual: Uint32Array, desired: Uint32Array, maxEdits?: number): RuleDiff;
}

function isU32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

export function checkCarveArgs(parent: Cidr4, childCounts: ArrayLike<number>, maxPrefix: number): void {
  if (!isU32(parent.base)) throw new RangeError(`Invalid parent base: ${parent.base}`);
  if (!Number.isInteger(parent.prefix) || parent.prefix < 0 || parent.prefix > 32) {
    throw new RangeError(`Invalid parent prefix length: ${parent.prefix}`);
  }
  if (!Number.isInteger(maxPrefix) || maxPrefix < parent.prefix || maxPrefix > 32) {
    throw new RangeError(`Invalid maximum prefix length: ${maxPrefix} (parent is /${parent.prefix})`);
  }
  if (childCounts.length < 1) throw new RangeError('Child counts: at least the root is required');
  for (let i = 0; i < childCounts.length; i++) {
    if (!isU32(childCounts[i]!)) throw new RangeError(`Child counts: node ${i} has count ${childCounts[i]}`);
  }
}

export function checkBitmapArgs(bitmap: Uint32Array, nbits: number): void {
  if (!Number.isInteger(nbits) || nbits < 0 || nbits > bitmap.length * 32 || nbits > 0x7fffffff) {
    throw new RangeError(`Invalid bit count ${nbits} for a bitmap of ${bitmap.length} words`);
  }
}

export function checkRun(nbits: number, start: number, len: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(len) || start < 0 || len < 0 || start + len > nbits) {
    throw new RangeError(`Run [${start}, ${start + len}) outside the bitmap [0, ${nbits})`);
  }
}

/** Integer `from`/`count` arguments; negative `from` means 0. */
export function checkIndex(name: string, v: number): void {
  if (!Number.isInteger(v)) throw new RangeError(`Invalid ${name}: ${v}`);
}

export function checkRoutes(routes: RouteTriplets): void {
  if (routes.length % 3 !== 0) throw new RangeError(`Route triplets: length ${routes.length} is not a multiple of 3`);
  if (routes.length / 3 > 1 << 24) throw new RangeError(`Route triplets: more than 2^24 routes`);
  for (let i = 0; i < routes.length; i += 3) {
    if (routes[i + 1]! > 32) throw new RangeError(`Route ${i / 3}: prefix length ${routes[i + 1]} > 32`);
  }
}

export function checkMaxEdits(maxEdits: number): void {
  if (!Number.isInteger(maxEdits) || maxEdits < 0 || maxEdits > 30000) {
    // The kernel's backtrace needs (maxEdits+1)² i32 in 4 GiB of wasm memory.
    throw new RangeError(`Invalid maxEdits: ${maxEdits}`);
  }
}

/** Packs route objects into triplets (host bits are kept; the kernels ignore them). */
export function packRoutes(routes: readonly Route[]): RouteTriplets {
  const out = new Uint32Array(routes.length * 3);
  routes.forEach((r, i) => {
    out[3 * i] = r.prefix;
    out[3 * i + 1] = r.length;
    out[3 * i + 2] = r.nextHop;
  });
  return out;
}

export function unpackRoutes(t: RouteTriplets): Route[] {
  const out: Route[] = [];
  for (let i = 0; i + 2 < t.length; i += 3) out.push({ prefix: t[i]!, length: t[i + 1]!, nextHop: t[i + 2]! });
  return out;
}
