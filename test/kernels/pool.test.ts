/**
 * The kernel pool: inline and worker paths compute the same results, 'auto'
 * dispatches by size, bad input fails before dispatch on either path, bitmap
 * edits reach the caller's array, and the pool closes (and reopens lazily).
 * Needs dist/ (npm test builds it first): workers run dist/src/kernels/worker.js.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cidr } from '../../src/core/ip.js';
import * as pool from '../../src/kernels/pool.js';
import { referenceKernels } from '../../src/kernels/reference/index.js';
import { syntheticRoutes } from '../../src/kernels/synthetic.js';

afterAll(() => pool.closeKernelPool());

const MODES = ['inline', 'worker'] as const;

describe('kernel pool', () => {
  it('every kernel gives the same answer inline and in a worker', async () => {
    const routes = syntheticRoutes({ routes: 3000, seed: 9 });
    const expected = referenceKernels.aggregate(routes);
    const actual = Uint32Array.from([1, 2, 3, 4, 5, 6]);
    const desired = Uint32Array.from([1, 9, 3, 5, 6, 7]);
    for (const mode of MODES) {
      expect(await pool.aggregate(routes, { mode })).toEqual(expected);
      expect(await pool.diffRules(actual, desired, undefined, { mode })).toEqual(referenceKernels.diffRules(actual, desired));
      expect(await pool.carve(cidr('10.0.0.0/16'), [3, 0, 0, 0], 32, { mode }))
        .toEqual(referenceKernels.carve(cidr('10.0.0.0/16'), [3, 0, 0, 0]));
      const bm = Uint32Array.from([0xfffffff0, 0]);
      expect(Array.from(await pool.findFree(bm, 64, 5, 0, { mode }))).toEqual([0, 1, 2, 3, 32]);
      expect(await pool.countFree(bm, 64, { mode })).toBe(36);
      expect(await pool.setRun(bm, 64, 0, 40, { mode })).toBe(12);
      expect(Array.from(bm)).toEqual([0xffffffff, 0xff]); // the caller's array was edited
      expect(await pool.clearRun(bm, 64, 4, 8, { mode })).toBe(8);
      expect(Array.from(bm)).toEqual([0xfffff00f, 0xff]);
    }
  });

  it("'auto' keeps small calls inline and sends large aggregations to a worker", async () => {
    const small = syntheticRoutes({ routes: 100, seed: 1 });
    const large = syntheticRoutes({ routes: pool.WORKER_THRESHOLDS.aggregate, seed: 2 });
    let before = pool.kernelPoolStats();
    await pool.aggregate(small);
    expect(pool.kernelPoolStats().inline).toBe(before.inline + 1);
    before = pool.kernelPoolStats();
    const out = await pool.aggregate(large);
    expect(pool.kernelPoolStats().worker).toBe(before.worker + 1);
    expect(out).toEqual(await pool.aggregate(large, { mode: 'inline' }));
  });

  it('a view into a larger buffer crosses to the worker as just its own bytes', async () => {
    const whole = new Uint32Array(3 * 10);
    whole.set([0x0a000000, 25, 1, 0x0a000080, 25, 1], 3 * 4);
    const view = whole.subarray(3 * 4, 3 * 6);
    expect(Array.from(await pool.aggregate(view, { mode: 'worker' }))).toEqual([0x0a000000, 24, 1]);
  });

  it('bad input is rejected with a RangeError on both paths', async () => {
    for (const mode of MODES) {
      await expect(pool.aggregate(Uint32Array.from([0, 40, 1]), { mode })).rejects.toThrow(RangeError);
      await expect(pool.countFree(new Uint32Array(1), 33, { mode })).rejects.toThrow(RangeError);
      await expect(pool.setRun(new Uint32Array(1), 32, 30, 5, { mode })).rejects.toThrow(RangeError);
      await expect(pool.diffRules(new Uint32Array(0), new Uint32Array(0), -2, { mode })).rejects.toThrow(RangeError);
    }
  });

  it('closes, and a later large call opens a new pool', async () => {
    await pool.aggregate(Uint32Array.from([0, 8, 1]), { mode: 'worker' });
    expect(pool.kernelPoolStats().poolOpen).toBe(true);
    await pool.closeKernelPool();
    expect(pool.kernelPoolStats().poolOpen).toBe(false);
    await pool.closeKernelPool(); // idempotent
    expect(Array.from(await pool.aggregate(Uint32Array.from([0, 8, 1]), { mode: 'worker' }))).toEqual([0, 8, 1]);
    expect(pool.kernelPoolStats().poolOpen).toBe(true);
  });
});
