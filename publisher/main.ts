#!/usr/bin/env node
/** romana-publisher executable: all logic lives in run.ts (STYLE §5). */
import { runPublisher } from './run.js';

runPublisher(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`romana-publisher: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
