#!/usr/bin/env node
/**
 * romana-cni entry point (/opt/cni/bin/romana): wires the process's
 * environment, stdin and stdout to runCni and exits with its status.
 * Everything else lives in plugin.ts (STYLE §8: main only dispatches).
 */
import { readFileSync } from 'node:fs';
import { runCni } from './plugin.js';

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    // No stdin at all (closed descriptor): the verb's config checks report it.
    return '';
  }
}

// No top-level await: the same source is bundled as CommonJS (dist/romana-cni.cjs).
void runCni({
  env: process.env,
  stdin: readStdin(),
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
}).then((code) => {
  process.exitCode = code;
});
