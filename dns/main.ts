#!/usr/bin/env node
/** romana-dns executable: all logic lives in run.ts (STYLE §5). */
import { runDns } from './run.js';

runDns(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`romana-dns: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
