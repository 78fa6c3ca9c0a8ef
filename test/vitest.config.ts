import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Integration tests start real processes (etcd, child allocators): give them
// room, and run files in parallel only up to the 2 cores this machine has.
// The JSON report is what .ci/run counts for its closing "N passed, N failed".
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    reporters: ['default', ['json', { outputFile: 'dist/test-results.json' }]],
  },
});
