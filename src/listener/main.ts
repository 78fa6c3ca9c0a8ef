#!/usr/bin/env node
/** romana-listener executable: all logic lives in run.ts (STYLE §5). */
import { runListener } from './run.js';

runListener(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`romana-listener: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
