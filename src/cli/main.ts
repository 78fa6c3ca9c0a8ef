#!/usr/bin/env node
/** The `romana` executable: wires the process into runCli (all logic in run.ts, STYLE §5). */
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { SYSTEM_CONFIG_FILE } from './config.js';
import { runCli } from './run.js';

// `romana host list | head -1`: a closed pipe is not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

runCli(process.argv.slice(2), {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  readStdin: () => text(process.stdin),
  stdinIsTty: process.stdin.isTTY === true,
  readFile: (p) => readFile(p, 'utf8'),
  columns: process.stdout.isTTY ? process.stdout.columns : undefined,
  env: process.env,
  systemConfigFile: SYSTEM_CONFIG_FILE,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`romana: internal error: ${(e as Error)?.stack ?? String(e)} (INTERNAL)\n`);
    process.exitCode = 1;
  },
);
