/**
 * The contract between bench suites and bench/run.ts: each suite file
 * (bench/<name>.bench.ts) exports `run(opts)` returning one or more sections;
 * run.ts prints them and appends them, with date, machine, Node version and
 * commit, to bench/results.md. Figures in the README come only from there.
 */
export interface BenchOptions {
  /** Smoke run for CI: small sizes, short times; numbers are not to be quoted. */
  quick: boolean;
}

export interface BenchSection {
  title: string;
  /** Table rows; every row has the same keys, in the order to print. */
  rows: Array<Record<string, string | number>>;
  /** Sentences under the table: what was compared, targets met or missed. */
  notes?: string[];
}

export type BenchSuite = (opts: BenchOptions) => Promise<BenchSection[]>;
