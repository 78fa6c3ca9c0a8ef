import type { BenchSuite } from './types.js';

/** Placeholder until the kernels suite lands. */
export const run: BenchSuite = async () => [];
