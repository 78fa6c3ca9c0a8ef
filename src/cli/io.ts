/**
 * What the CLI needs from its process, injectable so tests can run
 * `runCli` in-process: output streams, standard input, files, environment
 * and terminal width. main.ts wires the real process.
 */
import type { CliEnv } from './config.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Reads all of standard input. */
  readStdin(): Promise<string>;
  /** True when standard input is a terminal (nobody piped anything in). */
  stdinIsTty: boolean;
  /** Rejects with the fs error (code ENOENT etc.). */
  readFile(path: string): Promise<string>;
  /** Terminal width when stdout is a terminal; undefined otherwise. */
  columns: number | undefined;
  env: CliEnv & { COLUMNS?: string };
  /** /etc/romana/cli.yaml, or another path in tests. */
  systemConfigFile: string;
}

/** Table width: the terminal's, else $COLUMNS, else 80 (pipes and files). */
export function outputWidth(io: Pick<CliIo, 'columns' | 'env'>): number {
  if (io.columns !== undefined && io.columns >= 40) return io.columns;
  const env = Number(io.env.COLUMNS);
  if (Number.isInteger(env) && env >= 40) return env;
  return 80;
}
