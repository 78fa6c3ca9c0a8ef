/**
 * Shared test helpers for the kernel suites: the implementations under test
 * and independent oracles (LPM lookup, op application) that share no code
 * with the kernels or the references.
 */
import { referenceKernels } from '../../src/kernels/reference/index.js';
import { NO_NEXT_HOP, RULE_OP, type Kernels } from '../../src/kernels/types.js';
import { loadKernels } from '../../src/kernels/wasm.js';

/** Every implementation, by name; the reference comes first and is the oracle. */
export const IMPLEMENTATIONS: Array<[string, Kernels]> = [
  ['reference', referenceKernels],
  ['wasm debug', loadKernels('debug')],
  ['wasm release', loadKernels('release')],
];

export const WASM_BUILDS: Array<[string, Kernels]> = IMPLEMENTATIONS.slice(1);

/** Longest-prefix match by scanning every entry (later duplicates win, as in the kernels). */
export function lookup(table: Uint32Array, addr: number): number {
  let bestLen = -1;
  let hop = NO_NEXT_HOP;
  for (let i = 0; i < table.length; i += 3) {
    const len = table[i + 1]!;
    const size = 2 ** (32 - len);
    const base = table[i]! - (table[i]! % size); // host bits ignored
    if (addr >= base && addr < base + size && len >= bestLen) {
      bestLen = len;
      hop = table[i + 2]!;
    }
  }
  return hop;
}

/** Faster LPM for large tables: one map per prefix length, probed longest first (later duplicates win). */
export function lpmIndex(table: Uint32Array): (addr: number) => number {
  const byLen = Array.from({ length: 33 }, () => new Map<number, number>());
  for (let i = 0; i < table.length; i += 3) {
    const size = 2 ** (32 - table[i + 1]!);
    byLen[table[i + 1]!]!.set(table[i]! - (table[i]! % size), table[i + 2]!);
  }
  return (addr) => {
    for (let len = 32; len >= 0; len--) {
      const size = 2 ** (32 - len);
      const hop = byLen[len]!.get(addr - (addr % size));
      if (hop !== undefined) return hop;
    }
    return NO_NEXT_HOP;
  };
}

/** First and last address of every entry and their outer neighbours: where forwarding can change. */
export function boundaryAddresses(...tables: Uint32Array[]): number[] {
  const out = new Set<number>([0, 0xffffffff]);
  for (const t of tables) {
    for (let i = 0; i < t.length; i += 3) {
      const size = 2 ** (32 - t[i + 1]!);
      const base = t[i]! - (t[i]! % size);
      for (const a of [base - 1, base, base + size - 1, base + size]) if (a >= 0 && a <= 0xffffffff) out.add(a);
    }
  }
  return [...out];
}

/** Applies (kind, position, hash) ops like iptables would, rule numbers 1-based. */
export function applyOps(actual: Uint32Array, ops: Uint32Array): number[] {
  const chain = [...actual];
  for (let i = 0; i < ops.length; i += 3) {
    const [kind, pos, hash] = [ops[i]!, ops[i + 1]!, ops[i + 2]!];
    if (kind === RULE_OP.INSERT) {
      if (pos < 1 || pos > chain.length + 1) throw new Error(`insert at ${pos} in a chain of ${chain.length}`);
      chain.splice(pos - 1, 0, hash);
    } else if (kind === RULE_OP.REPLACE) {
      if (pos < 1 || pos > chain.length) throw new Error(`replace at ${pos} in a chain of ${chain.length}`);
      chain[pos - 1] = hash;
    } else if (kind === RULE_OP.DELETE) {
      if (pos < 1 || pos > chain.length) throw new Error(`delete at ${pos} in a chain of ${chain.length}`);
      if (chain[pos - 1] !== hash) throw new Error(`delete at ${pos} names ${hash}, chain has ${chain[pos - 1]}`);
      chain.splice(pos - 1, 1);
    } else throw new Error(`unknown op kind ${kind}`);
  }
  return chain;
}

/** Deterministic xorshift32 for large fixed inputs (fast-check drives the random cases). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}
