#!/usr/bin/env node
/** romana-agent executable: all logic lives in run.ts (STYLE §5). */
import { runAgent } from './run.js';

runAgent(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`romana-agent: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
