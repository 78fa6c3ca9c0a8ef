import type { BenchSuite } from './types.js';

/** Placeholder until the store suite lands. */
export const run: BenchSuite = async () => [];
