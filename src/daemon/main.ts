#!/usr/bin/env node
/** romana-daemon executable: all logic lives in run.ts (STYLE §5). */
import { runDaemon } from './run.js';

runDaemon(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`romana-daemon: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
