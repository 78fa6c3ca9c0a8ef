import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forwardsWhole } from '../../src/core/agent/routes.js';
import { lookup } from '../kernels/helpers.js';

// Tables inside 10.0.0.0/24 so that every address of a range can be checked by brute force.
const BASE = 0x0a000000;
const entry = fc.tuple(fc.integer({ min: 24, max: 32 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 }))
  .map(([len, off, hop]) => [(BASE + off) & ((0xffffffff << (32 - len)) >>> 0), len, hop] as const);

function brute(table: Uint32Array, base: number, prefix: number, hop: number): boolean {
  for (let a = base; a < base + 2 ** (32 - prefix); a++) if (lookup(table, a) !== hop) return false;
  return true;
}

describe('forwardsWhole', () => {
  it('says whether every address of the range goes to the hop (brute-force LPM oracle)', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 12 }), fc.integer({ min: 24, max: 32 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 }), (es, prefix, off, hop) => {
        const table = Uint32Array.from(es.flat().map((x) => x >>> 0));
        const base = ((BASE + off) & ((0xffffffff << (32 - prefix)) >>> 0)) >>> 0;
        expect(forwardsWhole(table, base, prefix, hop)).toBe(brute(table, base, prefix, hop));
      }),
      { numRuns: 20000 },
    );
  });

  it('accepts a range tiled by more specific entries and rejects a hole', () => {
    const t = Uint32Array.from([BASE, 30, 1, BASE + 4, 30, 1]);
    expect(forwardsWhole(t, BASE, 29, 1)).toBe(true);
    expect(forwardsWhole(t.slice(0, 3), BASE, 29, 1)).toBe(false);
    expect(forwardsWhole(Uint32Array.from([BASE, 24, 1, BASE + 4, 32, 2]), BASE, 29, 1)).toBe(false);
    expect(forwardsWhole(new Uint32Array(0), BASE, 29, 1)).toBe(false);
    // A later duplicate wins; a wrong inside entry shadowed by right ones still forwards right.
    expect(forwardsWhole(Uint32Array.from([BASE + 64, 27, 0, BASE, 24, 1, BASE + 64, 27, 1]), BASE, 24, 1)).toBe(true);
    expect(forwardsWhole(Uint32Array.from([BASE, 24, 1, BASE, 25, 2, BASE, 26, 1, BASE + 64, 26, 1]), BASE, 24, 1)).toBe(true);
  });
});
