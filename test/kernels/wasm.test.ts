/**
 * The loader: finds the builds from src/ and dist/ alike, survives memory
 * growth inside a kernel call (views re-derived), and keeps no state between
 * calls (an instance that served other calls answers like a fresh one).
 */
import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cidr } from '../../src/core/ip.js';
import { syntheticRoutes } from '../../src/kernels/synthetic.js';
import { projectRoot, WasmKernels, wasmPath, type WasmBuild } from '../../src/kernels/wasm.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('wasm loader', () => {
  it('finds the project root from src/ and from dist/', () => {
    expect(projectRoot()).toBe(ROOT);
    expect(projectRoot(join(ROOT, 'dist', 'src', 'kernels', 'wasm.js'))).toBe(ROOT);
    for (const b of ['debug', 'release'] as WasmBuild[]) expect(existsSync(wasmPath(b))).toBe(true);
  });

  it('a call that grows memory still returns its own results', () => {
    const input = syntheticRoutes({ routes: 150_000, seed: 3 });
    const grown = new WasmKernels('release');
    grown.aggregate(input); // grows during this call
    const settled = grown.aggregate(input); // no growth: memory is big enough now
    const fresh = new WasmKernels('release');
    const before = fresh.memoryBytes();
    const first = fresh.aggregate(input);
    expect(fresh.memoryBytes()).toBeGreaterThan(before);
    expect(first).toEqual(settled);
    expect(fresh.carve(cidr('10.0.0.0/8'), [2, 0, 0]).ok).toBe(true);
  });

  it('no state between calls: a used instance answers like a fresh one', () => {
    const used = new WasmKernels('debug');
    const call = fc.oneof(
      fc.array(fc.nat({ max: 4 }), { maxLength: 30 }).chain((a) =>
        fc.array(fc.nat({ max: 4 }), { maxLength: 30 }).map((d) => (k: WasmKernels) => k.diffRules(Uint32Array.from(a), Uint32Array.from(d)))),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.nat({ max: 32 }), fc.nat({ max: 3 })), { maxLength: 40 })
        .map((rs) => (k: WasmKernels) => k.aggregate(Uint32Array.from(rs.flat()))),
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 4 })
        .map((ws) => (k: WasmKernels) => k.findFree(Uint32Array.from(ws), ws.length * 32, 8)),
      fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 12 })
        .map((counts) => (k: WasmKernels) => k.carve(cidr('10.0.0.0/16'), counts)),
    );
    fc.assert(
      fc.property(fc.array(call, { minLength: 1, maxLength: 6 }), (calls) => {
        for (const c of calls) expect(c(used)).toEqual(c(new WasmKernels('debug')));
      }),
      { numRuns: 150 },
    );
  });
});
