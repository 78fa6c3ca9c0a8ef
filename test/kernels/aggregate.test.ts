/**
 * Route aggregation: the wasm builds against the reference (identical
 * tables), both against an independent exhaustive optimum on small address
 * universes, and forwarding equivalence on full 32-bit random tables; all of
 * it again with don't-care entries (next hop DONT_CARE) in the input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidr } from '../../src/core/ip.js';
import { referenceKernels } from '../../src/kernels/reference/index.js';
import { syntheticRoutes } from '../../src/kernels/synthetic.js';
import { DONT_CARE, NO_NEXT_HOP, packRoutes, unpackRoutes } from '../../src/kernels/types.js';
import { loadKernels } from '../../src/kernels/wasm.js';
import { boundaryAddresses, IMPLEMENTATIONS, lookup, lpmIndex, rng, WASM_BUILDS } from './helpers.js';

const NONE = NO_NEXT_HOP;
/** What the input asks of an address whose longest match is a don't-care entry (never a real id). */
const ANY = -1;
const t = (...entries: Array<[string, number]>): Uint32Array =>
  packRoutes(entries.map(([c, nextHop]) => ({ prefix: cidr(c).base, length: cidr(c).prefix, nextHop })));

/**
 * What the input wants for `addr`: its longest match's next hop, NONE when
 * nothing covers it, ANY when the longest match is a don't-care entry
 * (`lookup` alone cannot tell those two apart: both read 0xFFFFFFFF).
 */
function wanted(input: Uint32Array, addr: number): number {
  const hop = lookup(input, addr);
  if (hop !== NONE) return hop;
  for (let i = 0; i < input.length; i += 3) {
    const size = 2 ** (32 - input[i + 1]!);
    const base = input[i]! - (input[i]! % size);
    if (addr >= base && addr < base + size) return ANY;
  }
  return NONE;
}

/** The aggregated table honours `want` at addr: same next hop, still unrouted, or anything for ANY. */
function honours(table: Uint32Array, addr: number, want: number): boolean {
  return want === ANY || lookup(table, addr) === want;
}

/**
 * Minimal entry count by exhaustive dynamic programming over every prefix of
 * the universe [base, base + 2^(32-baseLen)): at each node either no entry or
 * an entry with any candidate next hop, given the next hop in force above.
 * Shares nothing with ORTC. `target[o]` is the wanted next hop of base + o
 * (ANY: whatever is in force, none included, costs nothing).
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
      best = want === ANY || inh === want ? 0 : want !== NONE ? 1 : Infinity;
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
      expect(() => k.aggregate(Uint32Array.from([0, 8]))).toThrow(RangeError);
    });

    it(`${name}: don't care: only don't-care space needs no entry at all`, () => {
      expect(k.aggregate(t(['10.0.0.0/8', DONT_CARE], ['0.0.0.0/0', DONT_CARE]))).toEqual(new Uint32Array(0));
    });

    it(`${name}: don't care: blocks scattered in a free group need fewer entries`, () => {
      // Two /29s per host: exactly they need 2 + 2 entries; with the rest of the /24 free, 3.
      const blocks: Array<[string, number]> = [['10.0.0.0/29', 1], ['10.0.0.16/29', 1], ['10.0.0.8/29', 2], ['10.0.0.40/29', 2]];
      expect(k.aggregate(t(...blocks)).length / 3).toBe(4);
      expect(unpackRoutes(k.aggregate(t(['10.0.0.0/24', DONT_CARE], ...blocks)))).toEqual([
        { prefix: cidr('10.0.0.0/24').base, length: 24, nextHop: 1 },
        { prefix: cidr('10.0.0.8/29').base, length: 29, nextHop: 2 },
        { prefix: cidr('10.0.0.32/27').base, length: 27, nextHop: 2 }, // free space around .40/29
      ]);
    });

    it(`${name}: don't care never routes space the input leaves unrouted`, () => {
      // The free /25 may be covered, the unrouted 10.0.1.0/24 next door may not.
      const out = k.aggregate(t(['10.0.0.0/25', DONT_CARE], ['10.0.0.128/25', 3], ['10.0.0.0/26', 3]));
      expect(unpackRoutes(out)).toEqual([{ prefix: cidr('10.0.0.0/24').base, length: 24, nextHop: 3 }]);
      expect(lookup(out, cidr('10.0.1.0/24').base)).toBe(NONE);
    });

    it(`${name}: don't care inside a route: a more specific don't-care hole may follow the covering route`, () => {
      // 10.0.0.0/24 via 1 with a don't-care /25 inside holding a /26 via 2: two entries
      // either way; ORTC puts the second as high as it may (over the free space).
      const out = k.aggregate(t(['10.0.0.0/24', 1], ['10.0.0.128/25', DONT_CARE], ['10.0.0.192/26', 2]));
      expect(unpackRoutes(out)).toEqual([
        { prefix: cidr('10.0.0.0/24').base, length: 24, nextHop: 1 },
        { prefix: cidr('10.0.0.128/25').base, length: 25, nextHop: 2 },
      ]);
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

describe('aggregate with don\'t care: optimal against exhaustive search on small universes', () => {
  const HOPS = [0, 1, 2, 3];
  const universe = fc.record({
    baseLen: fc.integer({ min: 26, max: 28 }),
    base: fc.oneof(fc.constant(0), fc.constant(0xffffffff), fc.integer({ min: 0, max: 0xffffffff })),
    entries: fc.array(
      fc.record({ off: fc.nat(), depth: fc.nat({ max: 6 }), nh: fc.constantFrom(...HOPS, DONT_CARE, DONT_CARE) }),
      { maxLength: 16 },
    ),
    // Most groups are don't care as a whole around their blocks (the agent's case).
    groupDc: fc.boolean(),
  });

  it('every build returns the reference table: minimal, honours every routed and unrouted address', () => {
    fc.assert(
      fc.property(universe, ({ baseLen, base: b, entries, groupDc }) => {
        const size = 2 ** (32 - baseLen);
        const base = b - (b % size);
        const input = new Uint32Array((entries.length + (groupDc ? 1 : 0)) * 3);
        entries.forEach((e, i) => {
          input[3 * i] = base + (e.off % size);
          input[3 * i + 1] = baseLen + (e.depth % (33 - baseLen));
          input[3 * i + 2] = e.nh;
        });
        if (groupDc) input.set([base, baseLen, DONT_CARE], 3 * entries.length); // last: wins a tie with a same-prefix entry
        const ref = referenceKernels.aggregate(input);
        for (const [, k] of WASM_BUILDS) expect(k.aggregate(input)).toEqual(ref);
        expectSortedRealEntries(ref);
        const target: number[] = [];
        for (let o = 0; o < size; o++) target.push(wanted(input, base + o));
        expect(ref.length / 3).toBe(optimum(baseLen, target, HOPS));
        for (let o = 0; o < size; o++) expect(honours(ref, base + o, target[o]!)).toBe(true);
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

  it('with don\'t-care entries: identical tables across builds, specified forwarding kept, never larger than exact', () => {
    fc.assert(
      fc.property(table(3, 60), fc.nat(), fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 8 }), (input, pick, extra) => {
        // Turn about a third of the entries into don't care.
        for (let i = 0; i < input.length; i += 3) if ((pick >>> (i / 3) % 30) % 3 === 0) input[i + 2] = DONT_CARE;
        const ref = referenceKernels.aggregate(input);
        for (const [, k] of WASM_BUILDS) expect(k.aggregate(input)).toEqual(ref);
        expectSortedRealEntries(ref);
        for (const a of [...boundaryAddresses(input, ref), ...extra]) expect(honours(ref, a, wanted(input, a))).toBe(true);
        // Dropping the don't-care entries gives a valid answer, so the optimum is never larger.
        const exact = new Uint32Array(input.filter((_, j) => input[j - (j % 3) + 2] !== DONT_CARE));
        expect(ref.length).toBeLessThanOrEqual(referenceKernels.aggregate(exact).length);
      }),
      { numRuns: 500 },
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
