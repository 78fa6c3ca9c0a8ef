import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FreeBitmap } from '../../../src/core/ipam/bitmap.js';

/** The obvious model: a Set of taken indices and a linear search. */
function modelFirstClear(taken: Set<number>, capacity: number, from: number): number {
  for (let i = Math.max(0, from); i < capacity; i++) if (!taken.has(i)) return i;
  return -1;
}

describe('FreeBitmap', () => {
  it('finds the lowest clear index at or after a position', () => {
    const b = new FreeBitmap(100);
    expect(b.firstClear()).toBe(0);
    for (let i = 0; i < 40; i++) b.set(i);
    expect(b.firstClear()).toBe(40);
    b.clear(7);
    expect(b.firstClear()).toBe(7);
    expect(b.firstClear(8)).toBe(40);
    expect(b.count).toBe(39);
  });

  it('reports -1 when everything below capacity is taken, even inside a partly used word', () => {
    const b = new FreeBitmap(5);
    for (let i = 0; i < 5; i++) b.set(i);
    expect(b.firstClear()).toBe(-1);
    expect(() => b.set(5)).toThrow(RangeError);
  });

  it('skips full words through the summary levels of a large bitmap', () => {
    const n = 32 * 32 * 32 + 5; // three levels
    const b = new FreeBitmap(n);
    for (let i = 0; i < n - 1; i++) b.set(i);
    expect(b.firstClear()).toBe(n - 1);
    b.clear(12345);
    expect(b.firstClear()).toBe(12345);
    expect(b.firstClear(12346)).toBe(n - 1);
    b.set(12345);
    b.set(n - 1);
    expect(b.firstClear()).toBe(-1);
  });

  it('grows on demand: untouched ranges cost nothing and count as free', () => {
    const b = new FreeBitmap(2 ** 24);
    expect(b.firstClear(1_000_000)).toBe(1_000_000);
    b.set(5_000_000);
    expect(b.has(5_000_000)).toBe(true);
    expect(b.firstClear(5_000_000)).toBe(5_000_001);
    expect(b.firstClear()).toBe(0);
  });

  it('agrees with a Set model under random set/clear/search sequences', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('set' as const), i: fc.nat(3000) }),
      fc.record({ k: fc.constant('clear' as const), i: fc.nat(3000) }),
      fc.record({ k: fc.constant('find' as const), i: fc.nat(3100) }),
      fc.record({ k: fc.constant('fill' as const), i: fc.nat(3000), n: fc.nat(200) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.array(op, { maxLength: 200 }), (capacity, ops) => {
        const b = new FreeBitmap(capacity);
        const model = new Set<number>();
        for (const o of ops) {
          if (o.k === 'set' && o.i < capacity) {
            expect(b.set(o.i)).toBe(!model.has(o.i));
            model.add(o.i);
          } else if (o.k === 'clear') {
            expect(b.clear(o.i)).toBe(model.delete(o.i));
          } else if (o.k === 'fill') {
            for (let i = o.i; i < Math.min(capacity, o.i + o.n); i++) {
              b.set(i);
              model.add(i);
            }
          } else if (o.k === 'find') {
            expect(b.firstClear(o.i)).toBe(modelFirstClear(model, capacity, o.i));
          }
          expect(b.count).toBe(model.size);
        }
        expect(b.firstClear()).toBe(modelFirstClear(model, capacity, 0));
      }),
      { numRuns: 300 },
    );
  });

  it('one-word bitmaps (capacity up to 32, kept as a number) agree with the Set model too, across the 32/33 boundary', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('set' as const), i: fc.nat(40) }),
      fc.record({ k: fc.constant('clear' as const), i: fc.integer({ min: -2, max: 40 }) }),
      fc.record({ k: fc.constant('find' as const), i: fc.integer({ min: -2, max: 40 }) }),
      fc.record({ k: fc.constant('has' as const), i: fc.integer({ min: -2, max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 33 }), fc.array(op, { maxLength: 120 }), (capacity, ops) => {
        const b = new FreeBitmap(capacity);
        const model = new Set<number>();
        for (const o of ops) {
          if (o.k === 'set') {
            if (o.i >= capacity) {
              expect(() => b.set(o.i)).toThrow(RangeError);
              continue;
            }
            expect(b.set(o.i)).toBe(!model.has(o.i));
            model.add(o.i);
          } else if (o.k === 'clear') {
            expect(b.clear(o.i)).toBe(model.delete(o.i));
          } else if (o.k === 'has') {
            expect(b.has(o.i)).toBe(model.has(o.i));
          } else {
            expect(b.firstClear(o.i)).toBe(modelFirstClear(model, capacity, o.i));
          }
          expect(b.count).toBe(model.size);
        }
      }),
      { numRuns: 300 },
    );
  });
});
