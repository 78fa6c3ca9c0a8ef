/**
 * CIDR carving: the wasm builds against the reference on random trees and on
 * random (mostly malformed) count arrays, plus the carving rule checked
 * structurally, independent of any implementation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidr, formatCidr } from '../../src/core/ip.js';
import { referenceKernels } from '../../src/kernels/reference/index.js';
import type { CarveResult } from '../../src/kernels/types.js';
import { IMPLEMENTATIONS, WASM_BUILDS } from './helpers.js';

/** Random trees as pre-order child counts. */
const { tree } = fc.letrec<{ tree: number[] }>((tie) => ({
  tree: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'tree' },
    fc.constant([0]),
    fc.array(tie('tree'), { minLength: 1, maxLength: 9, depthIdentifier: 'tree' }).map((cs) => [cs.length, ...cs.flat()]),
  ),
}));

const parentArb = fc.record({ base: fc.integer({ min: 0, max: 0xffffffff }), prefix: fc.integer({ min: 0, max: 30 }) })
  .map(({ base, prefix }) => ({ base: prefix === 0 ? 0 : (base - (base % 2 ** (32 - prefix))) >>> 0, prefix }));

const cidrs = (r: CarveResult): string[] =>
  r.ok ? Array.from(r.bases, (b, i) => formatCidr({ base: b, prefix: r.prefixes[i]! })) : [];

/**
 * Checks the Romana rule on a successful result without re-implementing the
 * walk; returns the violations (one expect per property run keeps it fast).
 */
function ruleViolations(counts: number[], r: CarveResult & { ok: true }): string[] {
  // Recover each node's children from the pre-order counts with a stack.
  const stack: Array<{ left: number; kids: number[] }> = [];
  const kids = new Map<number, number[]>();
  counts.forEach((k, i) => {
    while (stack.length > 0 && stack[stack.length - 1]!.left === 0) stack.pop();
    if (stack.length > 0) { stack[stack.length - 1]!.left--; stack[stack.length - 1]!.kids.push(i); }
    const frame = { left: k, kids: [] as number[] };
    kids.set(i, frame.kids);
    if (k > 0) stack.push(frame);
  });
  const bad: string[] = [];
  for (const [p, cs] of kids) {
    if (cs.length === 0) continue;
    const pp = r.prefixes[p]!;
    const cp = r.prefixes[cs[0]!]!;
    const parts = 2 ** (cp - pp);
    if (cs.length === 1 && cp !== pp) bad.push(`node ${p}: single child not the whole CIDR`);
    // Enough equal parts, and no more than needed.
    if (cs.length > 1 && !(parts >= cs.length && parts / 2 < cs.length)) bad.push(`node ${p}: ${parts} parts`);
    cs.forEach((c, j) => {
      if (r.prefixes[c] !== cp) bad.push(`node ${c}: unequal part`);
      // List order, lowest first, inside the parent.
      if (r.bases[c] !== r.bases[p]! + j * 2 ** (32 - cp)) bad.push(`node ${c}: misplaced`);
    });
  }
  return bad;
}

describe('carve: fixed cases, every implementation', () => {
  for (const [name, k] of IMPLEMENTATIONS) {
    it(`${name}: three groups of a /12 get the first three /14s (the fourth is padding)`, () => {
      expect(cidrs(k.carve(cidr('10.112.0.0/12'), [3, 0, 0, 0]))).toEqual([
        '10.112.0.0/12', '10.112.0.0/14', '10.116.0.0/14', '10.120.0.0/14',
      ]);
    });

    it(`${name}: a single child gets the whole CIDR; nested groups split their own part`, () => {
      expect(cidrs(k.carve(cidr('10.0.0.0/16'), [1, 2, 0, 5, 0, 0, 0, 0, 0]))).toEqual([
        '10.0.0.0/16', '10.0.0.0/16', '10.0.0.0/17', '10.0.128.0/17',
        '10.0.128.0/20', '10.0.144.0/20', '10.0.160.0/20', '10.0.176.0/20', '10.0.192.0/20',
      ]);
    });

    it(`${name}: parts smaller than allowed are reported at the group that cannot split`, () => {
      expect(k.carve(cidr('10.0.0.0/30'), [5, 0, 0, 0, 0, 0])).toEqual({ ok: false, error: 'too-small', node: 0 });
      expect(k.carve(cidr('10.0.0.0/24'), [2, 0, 3, 0, 0, 0], 25)).toEqual({ ok: false, error: 'too-small', node: 2 });
      expect(k.carve(cidr('10.0.0.0/24'), [2, 0, 3, 0, 0, 0], 27).ok).toBe(true);
      expect(cidrs(k.carve(cidr('10.0.0.0/31'), [2, 0, 0]))).toEqual(['10.0.0.0/31', '10.0.0.0/32', '10.0.0.1/32']);
    });

    it(`${name}: counts that are not exactly one tree are malformed`, () => {
      expect(k.carve(cidr('10.0.0.0/8'), [2, 0])).toEqual({ ok: false, error: 'malformed', node: 2 });
      expect(k.carve(cidr('10.0.0.0/8'), [1, 0, 0])).toEqual({ ok: false, error: 'malformed', node: 2 });
    });

    it(`${name}: host bits of the parent are cleared; bad arguments throw`, () => {
      expect(cidrs(k.carve({ base: cidr('10.0.0.0/8').base + 5, prefix: 8 }, [0]))).toEqual(['10.0.0.0/8']);
      expect(() => k.carve(cidr('10.0.0.0/8'), [])).toThrow(RangeError);
      expect(() => k.carve(cidr('10.0.0.0/8'), [-1])).toThrow(RangeError);
      expect(() => k.carve(cidr('10.0.0.0/8'), [0], 7)).toThrow(RangeError);
      expect(() => k.carve({ base: 0, prefix: 33 }, [0])).toThrow(RangeError);
    });
  }
});

describe('carve: differential', () => {
  it('random trees: every build equals the reference, which follows the rule', () => {
    fc.assert(
      fc.property(parentArb, tree, fc.nat({ max: 32 }), (parent, counts, extra) => {
        const maxPrefix = Math.min(32, parent.prefix + extra);
        const ref = referenceKernels.carve(parent, counts, maxPrefix);
        for (const [, k] of WASM_BUILDS) expect(k.carve(parent, counts, maxPrefix)).toEqual(ref);
        if (ref.ok) expect(ruleViolations(counts, ref)).toEqual([]);
        else expect(ref.error).toBe('too-small'); // generated trees are well formed
      }),
      { numRuns: 2000 },
    );
  });

  it('random count arrays (mostly not trees): identical verdicts', () => {
    fc.assert(
      fc.property(parentArb, fc.array(fc.oneof(fc.nat({ max: 3 }), fc.nat({ max: 0xffffffff })), { minLength: 1, maxLength: 30 }),
        (parent, counts) => {
          const ref = referenceKernels.carve(parent, counts);
          for (const [, k] of WASM_BUILDS) expect(k.carve(parent, counts)).toEqual(ref);
        }),
      { numRuns: 2000 },
    );
  });

  it('a deep chain of single children does not exhaust the kernel (no recursion)', () => {
    const counts = new Array<number>(200_000).fill(1);
    counts[counts.length - 1] = 0;
    const [, release] = WASM_BUILDS[1]!;
    const r = release.carve(cidr('10.0.0.0/8'), counts);
    expect(r.ok && r.prefixes.every((p) => p === 8)).toBe(true);
  });
});
