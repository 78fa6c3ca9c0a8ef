import type { BenchSuite } from './types.js';

/** Placeholder until the ipam suite lands. */
export const run: BenchSuite = async () => [];
