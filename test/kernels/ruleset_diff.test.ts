/**
 * Ruleset diffing: every script must turn actual into desired when applied
 * like iptables would, and have exactly the reference's optimal op count
 * (Levenshtein) whenever the kernel reports it minimal.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffRulesReference } from '../../src/kernels/reference/ruleset_diff.js';
import { RULE_OP } from '../../src/kernels/types.js';
import { applyOps, IMPLEMENTATIONS, rng, WASM_BUILDS } from './helpers.js';

const u32 = (xs: number[]): Uint32Array => Uint32Array.from(xs);

/** Hash sequences from a small alphabet, so that equal rules (and thus matches) are common. */
const chain = (maxLength: number) => fc.array(fc.nat({ max: 5 }), { maxLength }).map(u32);

/** A desired chain and an actual one derived from it by a few random edits. */
const edited = fc
  .record({
    desired: fc.array(fc.nat({ max: 1000 }), { maxLength: 200 }),
    edits: fc.array(fc.record({ kind: fc.nat({ max: 2 }), at: fc.nat(), hash: fc.nat({ max: 1000 }) }), { maxLength: 8 }),
  })
  .map(({ desired, edits }) => {
    const actual = [...desired];
    for (const e of edits) {
      const at = actual.length === 0 ? 0 : e.at % (actual.length + (e.kind === 0 ? 1 : 0));
      if (e.kind === 0) actual.splice(at, 0, e.hash);
      else if (actual.length > 0 && e.kind === 1) actual[at] = e.hash;
      else if (actual.length > 0) actual.splice(at, 1);
    }
    return { actual: u32(actual), desired: u32(desired), edits: edits.length };
  });

describe('diffRules: fixed cases, every implementation', () => {
  for (const [name, k] of IMPLEMENTATIONS) {
    it(`${name}: identical chains need nothing`, () => {
      expect(k.diffRules(u32([1, 2, 3]), u32([1, 2, 3]))).toEqual({ ops: new Uint32Array(0), minimal: true });
      expect(k.diffRules(u32([]), u32([]))).toEqual({ ops: new Uint32Array(0), minimal: true });
    });

    it(`${name}: appends are inserts at the end, truncation deletes at the cut`, () => {
      expect(Array.from(k.diffRules(u32([1, 2]), u32([1, 2, 3, 4])).ops)).toEqual([
        RULE_OP.INSERT, 3, 3, RULE_OP.INSERT, 4, 4,
      ]);
      expect(Array.from(k.diffRules(u32([1, 2, 3, 4]), u32([1, 2])).ops)).toEqual([
        RULE_OP.DELETE, 3, 3, RULE_OP.DELETE, 3, 4,
      ]);
    });

    it(`${name}: one changed rule is one replace at its rule number`, () => {
      expect(Array.from(k.diffRules(u32([5, 6, 7, 8]), u32([5, 6, 9, 8])).ops)).toEqual([RULE_OP.REPLACE, 3, 9]);
    });

    it(`${name}: an insert and a delete far apart`, () => {
      const actual = u32([1, 2, 3, 4, 5, 6, 7, 8]);
      const desired = u32([1, 9, 2, 3, 4, 5, 6, 8]);
      const { ops, minimal } = k.diffRules(actual, desired);
      expect(minimal).toBe(true);
      expect(ops.length / 3).toBe(2);
      expect(applyOps(actual, ops)).toEqual(Array.from(desired));
    });

    it(`${name}: rejects a bad maxEdits`, () => {
      expect(() => k.diffRules(u32([1]), u32([2]), -1)).toThrow(RangeError);
      expect(() => k.diffRules(u32([1]), u32([2]), 1.5)).toThrow(RangeError);
    });
  }
});

describe('diffRules: differential against the Levenshtein table', () => {
  const check = (actual: Uint32Array, desired: Uint32Array): void => {
    const ref = diffRulesReference(actual, desired);
    expect(applyOps(actual, ref.ops)).toEqual(Array.from(desired));
    const results = WASM_BUILDS.map(([, k]) => k.diffRules(actual, desired));
    expect(results[0]).toEqual(results[1]); // debug and release agree exactly
    const { ops, minimal } = results[0]!;
    expect(minimal).toBe(true);
    expect(ops.length).toBe(ref.ops.length);
    expect(applyOps(actual, ops)).toEqual(Array.from(desired));
  };

  it('random chains over a small alphabet', () => {
    fc.assert(fc.property(chain(40), chain(40), check), { numRuns: 2000 });
  });

  it('chains with a few random edits', () => {
    fc.assert(
      fc.property(edited, ({ actual, desired, edits }) => {
        check(actual, desired);
        expect(diffRulesReference(actual, desired).ops.length / 3).toBeLessThanOrEqual(edits);
      }),
      { numRuns: 800 },
    );
  });

  it('a small maxEdits may fall back to a correct, flagged script; a sufficient one stays minimal', () => {
    fc.assert(
      fc.property(chain(30), chain(30), fc.nat({ max: 6 }), (actual, desired, maxEdits) => {
        const optimum = diffRulesReference(actual, desired).ops.length / 3;
        for (const [, k] of WASM_BUILDS) {
          const { ops, minimal } = k.diffRules(actual, desired, maxEdits);
          expect(applyOps(actual, ops)).toEqual(Array.from(desired));
          // Within budget it must be minimal; pure inserts/deletes are minimal at any budget.
          if (optimum <= maxEdits) expect(minimal).toBe(true);
          if (minimal) expect(ops.length / 3).toBe(optimum);
          else expect(ops.length / 3).toBeLessThanOrEqual(Math.max(actual.length, desired.length));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('diffRules: production-sized chains (release build)', () => {
  const [, release] = WASM_BUILDS[1]!;
  const big = (n: number, seed: number): Uint32Array => {
    const r = rng(seed);
    return Uint32Array.from({ length: n }, () => r());
  };

  it('20k rules with three scattered edits: three ops, applied correctly', () => {
    const desired = big(20_000, 3);
    const actual = Array.from(desired);
    actual.splice(15_000, 1); // a rule to re-insert
    actual[9_000] = 42; // a changed rule
    actual.splice(100, 0, 7); // a stale rule to delete
    const { ops, minimal } = release.diffRules(u32(actual), desired);
    expect(minimal).toBe(true);
    expect(ops.length / 3).toBe(3);
    expect(applyOps(u32(actual), ops)).toEqual(Array.from(desired));
  });

  it('appending 5000 rules to 20k: 5000 inserts at the end', () => {
    const desired = big(25_000, 4);
    const actual = desired.slice(0, 20_000);
    const { ops } = release.diffRules(actual, desired);
    expect(ops.length / 3).toBe(5000);
    expect(ops[1]).toBe(20_001);
    expect(applyOps(actual, ops)).toEqual(Array.from(desired));
  });

  it('a complete rewrite of 10k rules beyond maxEdits: fallback, still correct', () => {
    const actual = big(10_000, 5);
    const desired = big(9_000, 6);
    const { ops, minimal } = release.diffRules(actual, desired, 64);
    expect(minimal).toBe(false);
    expect(ops.length / 3).toBe(10_000);
    expect(applyOps(actual, ops)).toEqual(Array.from(desired));
  });
});
