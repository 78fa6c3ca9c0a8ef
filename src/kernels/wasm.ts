/**
 * Loader and typed wrappers for the AssemblyScript kernels (assembly/).
 *
 * Goal: the only place that knows the wasm ABI. Callers get the `Kernels`
 * interface (types.ts) and never see pointers.
 *
 * Design: the module is compiled once per build (debug or release) from
 * build/kernels.<build>.wasm, found by walking up from this file to the
 * directory holding package.json (so the same code works from src/ under
 * vitest and from dist/). Each call lays its arena out afresh after the
 * module's static data: [info 64 B][inputs][outputs][kernel scratch → grows],
 * reserves it, copies inputs in, calls, and copies results out. A kernel may
 * grow memory, which detaches every view of the old buffer, so views are
 * re-derived from `memory.buffer` after each call (undici's client-h1 habit).
 *
 * Concurrency rule: an instance belongs to one thread; calls are synchronous
 * and never interleave, and no state survives a call (kernels are stateless,
 * the arena is rewritten from scratch by the next call). Worker threads get
 * their own instance (worker.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cidr4 } from '../core/ip.js';
import {
  checkBitmapArgs, checkCarveArgs, checkIndex, checkMaxEdits, checkRoutes, checkRun,
  DEFAULT_MAX_EDITS, KERNEL_STATUS, type CarveResult, type Kernels, type RouteTriplets, type RuleDiff,
} from './types.js';

export type WasmBuild = 'debug' | 'release';

/** The ABI this loader speaks; assembly/index.ts abiVersion() must match. */
const ABI_VERSION = 1;
const INFO_BYTES = 64;

/** Raw exports; pointers are i32 on the wire (read back with >>> 0). */
interface KernelExports {
  memory: WebAssembly.Memory;
  abiVersion(): number;
  arenaStart(): number;
  reserve(end: number): number;
  carve(base: number, prefix: number, maxPrefix: number, counts: number, n: number,
    outBase: number, outPrefix: number, scratch: number, info: number): number;
  bmFirstFree(ptr: number, nbits: number, from: number): number;
  bmFindFree(ptr: number, nbits: number, from: number, count: number, out: number): number;
  bmCountFree(ptr: number, nbits: number): number;
  bmSetRun(ptr: number, nbits: number, start: number, len: number): number;
  bmClearRun(ptr: number, nbits: number, start: number, len: number): number;
  aggregate(input: number, n: number, out: number, outCap: number, scratch: number, info: number): number;
  diffRules(actual: number, m: number, desired: number, n: number, out: number,
    scratch: number, maxEdits: number, info: number): number;
}

/** Directory holding package.json, searched upwards from this module. */
export function projectRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`No package.json above "${from}"`);
    dir = up;
  }
}

export function wasmPath(build: WasmBuild): string {
  return join(projectRoot(), 'build', `kernels.${build}.wasm`);
}

const compiled = new Map<WasmBuild, WebAssembly.Module>();

function compile(build: WasmBuild): WebAssembly.Module {
  let mod = compiled.get(build);
  if (!mod) {
    const file = wasmPath(build);
    if (!existsSync(file)) throw new Error(`Kernel build missing: "${file}" (run npm run build:wasm)`);
    mod = new WebAssembly.Module(readFileSync(file));
    compiled.set(build, mod);
  }
  return mod;
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

class KernelError extends Error {
  constructor(kernel: string, status: number) {
    const name = Object.entries(KERNEL_STATUS).find(([, v]) => v === status)?.[0] ?? String(status);
    super(`Kernel ${kernel} failed: ${name}`);
    this.name = 'KernelError';
  }
}

/** One wasm instance behind the `Kernels` interface. */
export class WasmKernels implements Kernels {
  private readonly x: KernelExports;
  private readonly start: number;
  private buffer: ArrayBuffer | null = null;
  private u32v = new Uint32Array(0);
  private u8v = new Uint8Array(0);

  constructor(readonly build: WasmBuild) {
    // No imports: the kernels neither allocate nor abort through the host.
    const inst = new WebAssembly.Instance(compile(build), {});
    this.x = inst.exports as unknown as KernelExports;
    if (this.x.abiVersion() !== ABI_VERSION) {
      throw new Error(`Kernel ABI ${this.x.abiVersion()} in "${wasmPath(build)}", expected ${ABI_VERSION}`);
    }
    this.start = align16(this.x.arenaStart() >>> 0);
  }

  /** Current views of linear memory; rebuilt whenever growth replaced the buffer. */
  private get u32(): Uint32Array {
    this.refresh();
    return this.u32v;
  }

  private get u8(): Uint8Array {
    this.refresh();
    return this.u8v;
  }

  private refresh(): void {
    const buf = this.x.memory.buffer;
    if (buf !== this.buffer) {
      this.buffer = buf;
      this.u32v = new Uint32Array(buf);
      this.u8v = new Uint8Array(buf);
    }
  }

  /**
   * Lays out byte sizes one after another (16-aligned) after the info block and
   * makes them addressable. Returns the offsets, then the scratch offset.
   */
  private layout(...sizes: number[]): number[] {
    const offsets: number[] = [];
    let at = this.start + INFO_BYTES;
    for (const s of sizes) {
      offsets.push(at);
      at = align16(at + s);
    }
    offsets.push(at);
    if (this.x.reserve(at) !== 1) throw new KernelError('reserve', KERNEL_STATUS.NO_MEMORY);
    return offsets;
  }

  private info(word: number): number {
    return this.u32[(this.start >>> 2) + word]!;
  }

  /** Byte size of the memory, for tests that check growth is survived. */
  memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  carve(parent: Cidr4, childCounts: ArrayLike<number>, maxPrefix = 32): CarveResult {
    checkCarveArgs(parent, childCounts, maxPrefix);
    const n = childCounts.length;
    const [counts, outBase, outPrefix, scratch] = this.layout(4 * n, 4 * n, n) as [number, number, number, number];
    this.u32.set(childCounts, counts >>> 2);
    const r = this.x.carve(parent.base, parent.prefix, maxPrefix, counts, n, outBase, outPrefix, scratch, this.start);
    if (r === KERNEL_STATUS.TOO_SMALL) return { ok: false, error: 'too-small', node: this.info(0) };
    if (r === KERNEL_STATUS.MALFORMED) return { ok: false, error: 'malformed', node: this.info(0) };
    if (r < 0) throw new KernelError('carve', r);
    return {
      ok: true,
      bases: this.u32.slice(outBase >>> 2, (outBase >>> 2) + n),
      prefixes: this.u8.slice(outPrefix, outPrefix + n),
    };
  }

  /** Copies a bitmap in; returns its offset. */
  private bitmapIn(bitmap: Uint32Array, extraBytes = 0): [number, number] {
    const [ptr, extra] = this.layout(bitmap.byteLength, extraBytes) as [number, number];
    this.u32.set(bitmap, ptr >>> 2);
    return [ptr, extra];
  }

  firstFree(bitmap: Uint32Array, nbits: number, from = 0): number {
    checkBitmapArgs(bitmap, nbits);
    checkIndex('from', from);
    if (from >= nbits) return -1;
    const [ptr] = this.bitmapIn(bitmap);
    return this.x.bmFirstFree(ptr, nbits, Math.max(0, from));
  }

  findFree(bitmap: Uint32Array, nbits: number, count: number, from = 0): Uint32Array {
    checkBitmapArgs(bitmap, nbits);
    checkIndex('from', from);
    checkIndex('count', count);
    const want = Math.max(0, Math.min(count, nbits));
    if (want === 0 || from >= nbits) return new Uint32Array(0);
    const [ptr, out] = this.bitmapIn(bitmap, 4 * want);
    const found = this.x.bmFindFree(ptr, nbits, Math.max(0, from), want, out);
    return this.u32.slice(out >>> 2, (out >>> 2) + found);
  }

  countFree(bitmap: Uint32Array, nbits: number): number {
    checkBitmapArgs(bitmap, nbits);
    const [ptr] = this.bitmapIn(bitmap);
    return this.x.bmCountFree(ptr, nbits);
  }

  private editRun(bitmap: Uint32Array, nbits: number, start: number, len: number, set: boolean): number {
    checkBitmapArgs(bitmap, nbits);
    checkRun(nbits, start, len);
    const [ptr] = this.bitmapIn(bitmap);
    const r = set ? this.x.bmSetRun(ptr, nbits, start, len) : this.x.bmClearRun(ptr, nbits, start, len);
    if (r < 0) throw new KernelError(set ? 'setRun' : 'clearRun', KERNEL_STATUS.INVALID_INPUT);
    // Only the touched words can differ: copy those back into the caller's bitmap.
    if (len > 0) {
      const w0 = start >>> 5;
      const w1 = ((start + len - 1) >>> 5) + 1;
      bitmap.set(this.u32.subarray((ptr >>> 2) + w0, (ptr >>> 2) + w1), w0);
    }
    return r;
  }

  setRun(bitmap: Uint32Array, nbits: number, start: number, len: number): number {
    return this.editRun(bitmap, nbits, start, len, true);
  }

  clearRun(bitmap: Uint32Array, nbits: number, start: number, len: number): number {
    return this.editRun(bitmap, nbits, start, len, false);
  }

  aggregate(routes: RouteTriplets): RouteTriplets {
    // The kernel validates every entry itself (one pass fewer over 100k
    // routes); on rejection checkRoutes produces the precise message.
    if (routes.length % 3 !== 0 || routes.length / 3 > 1 << 24) checkRoutes(routes);
    const n = routes.length / 3;
    const [input, out, scratch] = this.layout(routes.byteLength, routes.byteLength) as [number, number, number];
    this.u32.set(routes, input >>> 2);
    const r = this.x.aggregate(input, n, out, n, scratch, this.start);
    if (r === KERNEL_STATUS.INVALID_INPUT) checkRoutes(routes);
    if (r < 0) throw new KernelError('aggregate', r);
    return this.u32.slice(out >>> 2, (out >>> 2) + 3 * r);
  }

  diffRules(actual: Uint32Array, desired: Uint32Array, maxEdits = DEFAULT_MAX_EDITS): RuleDiff {
    checkMaxEdits(maxEdits);
    const m = actual.length;
    const n = desired.length;
    const cap = Math.max(m, n);
    const [a, d, out, scratch] = this.layout(4 * m, 4 * n, 12 * cap) as [number, number, number, number];
    const u32 = this.u32;
    u32.set(actual, a >>> 2);
    u32.set(desired, d >>> 2);
    const r = this.x.diffRules(a, m, d, n, out, scratch, maxEdits, this.start);
    if (r < 0) throw new KernelError('diffRules', r);
    return { ops: this.u32.slice(out >>> 2, (out >>> 2) + 3 * r), minimal: this.info(0) === 1 };
  }
}

const shared = new Map<WasmBuild, WasmKernels>();

/** This thread's instance of a build, created on first use. */
export function loadKernels(build: WasmBuild = 'release'): WasmKernels {
  let k = shared.get(build);
  if (!k) {
    k = new WasmKernels(build);
    shared.set(build, k);
  }
  return k;
}
