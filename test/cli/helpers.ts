/**
 * Running the real `romana` binary (dist/src/cli/main.js, built by
 * `npx tsc -p tsconfig.json` / `npm test`) as a child process, with its
 * own HOME so that no real ~/.romana.yaml leaks in. Daemons come from
 * test/helpers/daemon.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from '../helpers/daemon.js';

export const CLI_MAIN = path.join(REPO, 'dist/src/cli/main.js');

/** The sample ~/.romana.yaml exactly as the seed prints it. */
export const SEED_CONFIG = `#
# Default romana configuration file.
# please move it to ~/.romana.yaml
#
RootURL: "http://192.168.99.10"
RootPort: 9600
LogFile: "/var/tmp/romana.log"
Format: "table" # options are table/json
Platform: "openstack"
Verbose: false
`;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stderr split into lines, without the final empty one. */
  errLines: string[];
}

const homes: string[] = [];

/**
 * A directory to use as HOME (removed by cleanupHomes), holding an empty
 * .romana.yaml: the CLI then never falls back to a real
 * /etc/romana/cli.yaml on the test machine.
 */
export function emptyHome(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'romana-cli-home-'));
  homes.push(d);
  writeFileSync(path.join(d, '.romana.yaml'), '');
  return d;
}

export function cleanupHomes(): void {
  for (const d of homes.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function assertCliBuilt(): void {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run "npx tsc -p tsconfig.json" (npm test builds it)`);
}

/**
 * Runs `romana ...args`. `input` is piped to stdin (otherwise stdin is
 * /dev/null). The environment is the test's minus the CLI's own variables,
 * plus HOME (an empty directory unless given) and `env`.
 */
export function runRomana(args: readonly string[], opts: { input?: string; env?: Record<string, string>; home?: string } = {}): Promise<RunResult> {
  assertCliBuilt();
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.ROMANA_TOKEN;
  delete env.COLUMNS;
  env.HOME = opts.home ?? emptyHome();
  Object.assign(env, opts.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const errLines = stderr.split('\n');
      if (errLines.at(-1) === '') errLines.pop();
      resolve({ code, stdout, stderr, errLines });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}
