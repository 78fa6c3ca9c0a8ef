import type { BenchSuite } from './types.js';

/** Placeholder until the pool suite lands. */
export const run: BenchSuite = async () => [];
