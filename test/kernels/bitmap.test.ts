/**
 * Block bitmaps: random bitmaps and random operation sequences replayed on
 * every implementation; answers and resulting bitmaps must agree.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IMPLEMENTATIONS } from './helpers.js';

const word = fc.oneof(fc.constant(0), fc.constant(0xffffffff), fc.integer({ min: 0, max: 0xffffffff }));

type Op =
  | { op: 'firstFree'; from: number }
  | { op: 'findFree'; count: number; from: number }
  | { op: 'countFree' }
  | { op: 'setRun' | 'clearRun'; start: number; len: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('firstFree' as const), from: fc.integer({ min: -3, max: 300 }) }),
  fc.record({ op: fc.constant('findFree' as const), count: fc.integer({ min: -1, max: 300 }), from: fc.integer({ min: -3, max: 300 }) }),
  fc.record({ op: fc.constant('countFree' as const) }),
  fc.record({ op: fc.constantFrom('setRun' as const, 'clearRun' as const), start: fc.nat({ max: 300 }), len: fc.nat({ max: 300 }) }),
);

describe('bitmap: fixed cases, every implementation', () => {
  for (const [name, k] of IMPLEMENTATIONS) {
    it(`${name}: finds, counts and edits`, () => {
      const bm = Uint32Array.from([0xffffffff, 0x0000000f]);
      expect(k.firstFree(bm, 64)).toBe(36);
      expect(k.firstFree(bm, 36)).toBe(-1); // bits past nbits do not exist
      expect(Array.from(k.findFree(bm, 64, 3, 40))).toEqual([40, 41, 42]);
      expect(k.countFree(bm, 40)).toBe(4);
      expect(k.setRun(bm, 64, 30, 10)).toBe(4); // 30..35 were used already
      expect(Array.from(bm)).toEqual([0xffffffff, 0xff]);
      expect(k.clearRun(bm, 64, 0, 64)).toBe(40);
      expect(Array.from(bm)).toEqual([0, 0]);
    });

    it(`${name}: runs outside the bitmap throw and leave it untouched`, () => {
      const bm = new Uint32Array(2);
      expect(() => k.setRun(bm, 40, 30, 11)).toThrow(RangeError);
      expect(() => k.clearRun(bm, 40, -1, 2)).toThrow(RangeError);
      expect(() => k.countFree(bm, 65)).toThrow(RangeError);
      expect(Array.from(bm)).toEqual([0, 0]);
    });
  }
});

describe('bitmap: differential', () => {
  it('random bitmaps and operation sequences agree across implementations', () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 10 }), fc.nat(), fc.array(opArb, { maxLength: 12 }), (words, nb, ops) => {
        const nbits = nb % (words.length * 32 + 1);
        // Each implementation replays the sequence on its own copy; the
        // transcripts (answers, then the final bitmap) must be identical.
        const transcripts = IMPLEMENTATIONS.map(([, k]) => {
          const bm = Uint32Array.from(words);
          const answers = ops.map((o) => {
            try {
              switch (o.op) {
                case 'firstFree': return k.firstFree(bm, nbits, o.from);
                case 'findFree': return Array.from(k.findFree(bm, nbits, o.count, o.from));
                case 'countFree': return k.countFree(bm, nbits);
                case 'setRun': return k.setRun(bm, nbits, o.start, o.len);
                case 'clearRun': return k.clearRun(bm, nbits, o.start, o.len);
              }
            } catch (e) {
              return (e as Error).name; // out-of-range runs must fail alike
            }
          });
          return { answers, bitmap: Array.from(bm) };
        });
        expect(transcripts[1]).toEqual(transcripts[0]);
        expect(transcripts[2]).toEqual(transcripts[0]);
      }),
      { numRuns: 2000 },
    );
  });

  it('a 1M-bit group bitmap: 10k free slots found lowest first', () => {
    for (const [, k] of IMPLEMENTATIONS.slice(1)) {
      const bm = new Uint32Array(32_768).fill(0xffffffff);
      const nbits = bm.length * 32;
      for (let i = 5; i < nbits; i += 97) bm[i >>> 5]! &= ~(1 << (i & 31));
      const free = k.findFree(bm, nbits, 10_000);
      expect(free.length).toBe(10_000);
      expect(free[0]).toBe(5);
      expect(free[9_999]).toBe(5 + 9_999 * 97);
      expect(k.countFree(bm, nbits)).toBe(Math.ceil((nbits - 5) / 97));
    }
  });
});
