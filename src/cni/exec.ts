/**
 * Running programs (`ip`, `nsenter`): the one place the plugin spawns
 * processes, behind a function type so that tests inject a fake.
 *
 * Design: no shell (arguments are passed as a vector, so names never need
 * quoting); stdin for `ip -batch -`; the result carries the exit code and
 * both outputs, and a program that cannot be started resolves with code
 * 127 and the reason on stderr instead of throwing, so callers handle one
 * shape.
 */
import { spawn } from 'node:child_process';

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type Exec = (file: string, args: readonly string[], input?: string) => Promise<ExecResult>;

export const spawnExec: Exec = (file, args, input) =>
  new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let done = false;
    const finish = (r: ExecResult): void => {
      if (!done) {
        done = true;
        resolve(r);
      }
    };
    const child = spawn(file, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (e) => finish({ code: 127, stdout, stderr: `cannot run ${file}: ${e.message}` }));
    child.once('close', (code, signal) => finish({ code: code ?? 128, stdout, stderr: signal ? `${stderr}killed by ${signal}` : stderr }));
    // A program that exits before reading stdin closes the pipe: its exit code tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
