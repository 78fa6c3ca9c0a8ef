/**
 * Reference CIDR carving (pure TypeScript; the oracle for assembly/carve.ts).
 *
 * Goal: state the Romana carving rule as plainly as possible: the N children
 * of a node split its CIDR into 2^ceil(log2 N) equal parts in list order
 * (child 0 lowest), parts beyond N are padding, one child gets the whole CIDR.
 * Design: recursive descent over the pre-order child counts; recursion depth
 * equals tree depth (a topology is a handful of levels; a pathological chain of
 * tens of thousands of single children would exhaust the JS stack, which is
 * acceptable for a test oracle). Errors are reported at the first offending
 * node in pre-order, exactly as the kernel does.
 * Concurrency rule: pure function.
 */
import { prefixMask, type Cidr4 } from '../../core/ip.js';
import { checkCarveArgs, type CarveResult } from '../types.js';

class CarveFailure {
  constructor(readonly error: 'too-small' | 'malformed', readonly node: number) {}
}

export function carveReference(parent: Cidr4, childCounts: ArrayLike<number>, maxPrefix = 32): CarveResult {
  checkCarveArgs(parent, childCounts, maxPrefix);
  const n = childCounts.length;
  const bases = new Uint32Array(n);
  const prefixes = new Uint8Array(n);
  let next = 0; // index of the next node to read in pre-order

  const visit = (base: number, prefix: number): void => {
    if (next >= n) throw new CarveFailure('malformed', n);
    const me = next++;
    bases[me] = base;
    prefixes[me] = prefix;
    const k = childCounts[me]!;
    if (k === 0) return;
    let bits = 0; // ceil(log2 k), by counting: no floating-point log to doubt
    while (2 ** bits < k) bits++;
    const childPrefix = prefix + bits;
    if (childPrefix > maxPrefix) throw new CarveFailure('too-small', me);
    const partSize = 2 ** (32 - childPrefix);
    for (let j = 0; j < k; j++) visit(base + j * partSize, childPrefix);
  };

  try {
    visit((parent.base & prefixMask(parent.prefix)) >>> 0, parent.prefix);
    if (next < n) return { ok: false, error: 'malformed', node: next };
  } catch (e) {
    if (e instanceof CarveFailure) return { ok: false, error: e.error, node: e.node };
    throw e;
  }
  return { ok: true, bases, prefixes };
}
