/**
 * Route aggregation: the wasm builds against the reference (identical
 * tables), both against an independent exhaustive optimum on small address
 * universes, and forwarding equivalence on full 32-bit random tables.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidr } from '../../src/core/ip.js';
import { referenceKernels } from '../../src/kernels/reference/index.js';
import { syntheticRoutes } from '../../src/kernels/synthetic.js';
import { NO_NEXT_HOP, packRoutes, unpackRoutes } from '../../src/kernels/types.js';
import { loadKernels } from '../../src/kernels/wasm.js';
import { boundaryAddresses, IMPLEMENTATIONS, lookup, lpmIndex, rng, WASM_BUILDS } from './helpers.js';

const NONE = NO_NEXT_HOP;
const t = (...entries: Array<[string, number]>): Uint32Array =>
  packRoutes(entries.map(([c, nextHop]) => ({ prefix: cidr(c).base, length: cidr(c).prefix, nextHop })));

/**
 * Minimal entry count by exhaustive dynamic programming over every prefix of
 * the universe [base, base + 2^(32-baseLen)): at each node either no entry or
 * an entry with any candidate next hop, given the next hop in force above.
 * Shares nothing with ORTC. `target[o]` is the wanted next hop of base + o.
 */
function optimum(baseLen: number, target: number[], hops: number[]): number {
  const memo = new Map<string, number>();
  const f = (off: number, len: number, inh: number): number => {
    const key = `${off}/${len}/${inh}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let best: number;
    if (len === 32) {
      const want = target[off]!;
      best = inh === want ? 0 : want !== NONE ? 1 : Infinity;
    } else {
      const half = 2 ** (31 - len);
      best = f(off, len + 1, inh) + f(off + half, len + 1, inh);
      for (const x of hops) best = Math.min(best, 1 + f(off, len + 1, x) + f(off + half, len + 1, x));
    }
    memo.set(key, best);
    return best;
  };
  return f(0, baseLen, NONE);
}

function expectSortedRealEntries(out: Uint32Array): void {
  for (let i = 0; i < out.length; i += 3) {
    expect(out[i + 2]).not.toBe(NONE);
    expect(out[i]! % 2 ** (32 - out[i + 1]!)).toBe(0); // no host bits
    if (i > 0) {
      const before = out[i - 3]! < out[i]! || (out[i - 3] === out[i] && out[i - 2]! < out[i + 1]!);
      expect(before).toBe(true);
    }
  }
}

describe('aggregate: fixed cases, every implementation', () => {
  for (const [name, k] of IMPLEMENTATIONS) {
    it(`${name}: merges siblings with one next hop`, () => {
      expect(unpackRoutes(k.aggregate(t(['10.0.0.0/25', 1], ['10.0.0.128/25', 1])))).toEqual([
        { prefix: cidr('10.0.0.0/24').base, length: 24, nextHop: 1 },
      ]);
    });

    it(`${name}: keeps a more specific with another next hop, drops redundant ones`, () => {
      const out = k.aggregate(t(['10.0.0.0/24', 1], ['10.0.0.0/25', 2], ['10.0.0.128/26', 1]));
      expect(unpackRoutes(out)).toEqual([
        { prefix: cidr('10.0.0.0/24').base, length: 24, nextHop: 1 },
        { prefix: cidr('10.0.0.0/25').base, length: 25, nextHop: 2 },
      ]);
    });

    it(`${name}: does not cover unrouted addresses (no blackholes, no widening)`, () => {
      const input = t(['10.0.0.0/25', 1], ['10.0.0.128/26', 1]);
      expect(k.aggregate(input)).toEqual(input);
    });

    it(`${name}: beats sibling merging where ORTC reassigns the covering next hop`, () => {
      // Three quarters via 2, one via 1, under a /24 via 1: best is /24 via 2 plus the odd quarter.
      const out = k.aggregate(t(['10.0.0.0/24', 1], ['10.0.0.0/26', 2], ['10.0.0.64/26', 2], ['10.0.0.128/26', 2]));
      expect(unpackRoutes(out)).toEqual([
        { prefix: cidr('10.0.0.0/24').base, length: 24, nextHop: 2 },
        { prefix: cidr('10.0.0.192/26').base, length: 26, nextHop: 1 },
      ]);
    });

    it(`${name}: a default route absorbs more specifics with its next hop`, () => {
      const out = k.aggregate(t(['0.0.0.0/0', 3], ['10.0.0.0/8', 3], ['192.168.1.1/32', 3], ['172.16.0.0/12', 4]));
      expect(unpackRoutes(out)).toEqual([
        { prefix: 0, length: 0, nextHop: 3 },
        { prefix: cidr('172.16.0.0/12').base, length: 12, nextHop: 4 },
      ]);
    });

    it(`${name}: empty table, /32s at both ends of the space, host bits ignored`, () => {
      expect(k.aggregate(new Uint32Array(0))).toEqual(new Uint32Array(0));
      const out = k.aggregate(Uint32Array.from([0, 32, 7, 0xffffffff, 32, 7, 0x0a0000ff, 24, 5]));
      expect(Array.from(out)).toEqual([0, 32, 7, 0x0a000000, 24, 5, 0xffffffff, 32, 7]);
    });

    it(`${name}: duplicate prefixes: the last entry wins`, () => {
      const out = k.aggregate(t(['10.0.0.0/24', 1], ['10.1.0.0/24', 4], ['10.0.0.0/24', 2]));
      expect(Array.from(out)).toEqual([0x0a000000, 24, 2, 0x0a010000, 24, 4]);
    });

    it(`${name}: rejects invalid input with a RangeError`, () => {
      expect(() => k.aggregate(Uint32Array.from([0, 33, 1]))).toThrow(RangeError);
      expect(() => k.aggregate(Uint32Array.from([0, 8, NONE]))).toThrow(RangeError);
      expect(() => k.aggregate(Uint32Array.from([0, 8]))).toThrow(RangeError);
    });
  }
});

describe('aggregate: optimal against exhaustive search on small universes', () => {
  const HOPS = [0, 1, 2, 3];
  const universe = fc.record({
    baseLen: fc.integer({ min: 26, max: 28 }),
    base: fc.oneof(fc.constant(0), fc.constant(0xffffffff), fc.integer({ min: 0, max: 0xffffffff })),
    entries: fc.array(
      fc.record({ off: fc.nat(), depth: fc.nat({ max: 6 }), nh: fc.constantFrom(...HOPS) }),
      { maxLength: 16 },
    ),
  });

  it('every build returns the reference table, which has the minimal size and the same forwarding', () => {
    fc.assert(
      fc.property(universe, ({ baseLen, base: b, entries }) => {
        const size = 2 ** (32 - baseLen);
        const base = b - (b % size);
        const input = new Uint32Array(entries.length * 3);
        entries.forEach((e, i) => {
          input[3 * i] = base + (e.off % size); // host bits left in on purpose
          input[3 * i + 1] = baseLen + (e.depth % (33 - baseLen));
          input[3 * i + 2] = e.nh;
        });
        const ref = referenceKernels.aggregate(input);
        for (const [, k] of WASM_BUILDS) expect(k.aggregate(input)).toEqual(ref);
        expectSortedRealEntries(ref);
        const target: number[] = [];
        for (let o = 0; o < size; o++) target.push(lookup(input, base + o));
        expect(ref.length / 3).toBe(optimum(baseLen, target, HOPS));
        for (let o = 0; o < size; o++) expect(lookup(ref, base + o)).toBe(target[o]);
        for (const outside of [base - 1, base + size]) {
          if (outside >= 0 && outside <= 0xffffffff) expect(lookup(ref, outside)).toBe(NONE);
        }
      }),
      { numRuns: 1500 },
    );
  });
});

describe('aggregate: full 32-bit tables', () => {
  /** Prefixes clustered under a few random /12s so that they overlap, plus some anywhere. */
  const table = (maxHop: number, maxLength: number) =>
    fc.record({
      clusters: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 3, maxLength: 3 }),
      entries: fc.array(
        fc.record({
          where: fc.nat({ max: 3 }),
          off: fc.nat(),
          len: fc.oneof(fc.integer({ min: 0, max: 32 }), fc.integer({ min: 12, max: 32 }), fc.integer({ min: 22, max: 32 })),
          nh: fc.nat({ max: maxHop }),
        }),
        { maxLength },
      ),
    }).map(({ clusters, entries }) => {
      const out = new Uint32Array(entries.length * 3);
      entries.forEach((e, i) => {
        const c = clusters[e.where];
        out[3 * i] = c === undefined ? e.off >>> 0 : ((c & 0xfff00000) + (e.off % 2 ** 20)) >>> 0;
        out[3 * i + 1] = e.len;
        out[3 * i + 2] = e.nh;
      });
      return out;
    });

  const check = (input: Uint32Array, extra: number[]): void => {
    const ref = referenceKernels.aggregate(input);
    for (const [, k] of WASM_BUILDS) expect(k.aggregate(input)).toEqual(ref);
    expectSortedRealEntries(ref);
    expect(ref.length).toBeLessThanOrEqual(input.length);
    for (const a of [...boundaryAddresses(input, ref), ...extra]) expect(lookup(ref, a)).toBe(lookup(input, a));
    // An optimal table cannot be shrunk further.
    expect(referenceKernels.aggregate(ref).length).toBe(ref.length);
  };

  it('few next hops: identical tables across builds and identical forwarding', () => {
    fc.assert(
      fc.property(table(3, 60), fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 8 }), check),
      { numRuns: 800 },
    );
  });

  it('many next hops (large ORTC sets): identical tables and forwarding', () => {
    fc.assert(
      fc.property(table(200, 120), fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 8 }), check),
      { numRuns: 300 },
    );
  });

  it('a 20k-route cluster table: release equals the reference and forwards the same', () => {
    const input = syntheticRoutes({ routes: 20_000, seed: 7 });
    const ref = referenceKernels.aggregate(input);
    const out = loadKernels('release').aggregate(input);
    expect(out).toEqual(ref);
    expect(out.length).toBeLessThan(input.length);
    const r = rng(11);
    const before = lpmIndex(input);
    const after = lpmIndex(out);
    for (const a of [...boundaryAddresses(input, out), ...Array.from({ length: 20_000 }, () => r())]) {
      expect(after(a)).toBe(before(a));
    }
  });
});
