/**
 * `npm run bench [-- --quick] [-- --only NAME]`: runs every suite in SUITES,
 * prints markdown, and (full runs only) appends it to bench/results.md with
 * the date, machine, Node version and commit, so that every quoted figure has
 * a dated source. Suites run one after another: this machine has 2 cores and
 * parallel suites would measure each other.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commit, machine } from './machine.js';
import type { BenchSection, BenchSuite } from './types.js';

const SUITES: Record<string, () => Promise<{ run: BenchSuite }>> = {};

/** Registered by each suite's module path, so `--only` can pick one without loading the others. */
export function registerSuites(entries: Record<string, () => Promise<{ run: BenchSuite }>>): void {
  Object.assign(SUITES, entries);
}

function table(section: BenchSection): string {
  const rows = section.rows;
  if (rows.length === 0) return '(no rows)\n';
  const keys = Object.keys(rows[0]!);
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  const out = [line(keys), line(keys.map(() => '---')), ...rows.map((r) => line(keys.map((k) => r[k] ?? '')))];
  return out.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const onlyIdx = argv.indexOf('--only');
  const only = onlyIdx >= 0 ? argv[onlyIdx + 1] : undefined;
  const names = Object.keys(SUITES).filter((n) => !only || n === only);
  if (only && names.length === 0) {
    process.stderr.write(`bench: unknown suite "${only}"; known: ${Object.keys(SUITES).join(', ')}\n`);
    return 2;
  }
  const header = `## ${new Date().toISOString()} — ${quick ? 'quick (smoke, not for quoting)' : 'full'} run\n\n` +
    `Machine: ${machine()}. Node ${process.version}. Commit ${commit()}.\n\n`;
  let md = header;
  process.stdout.write(header);
  for (const name of names) {
    const mod = await SUITES[name]!();
    const sections = await mod.run({ quick });
    for (const s of sections) {
      const text = `### ${s.title}\n\n${table(s)}${(s.notes ?? []).map((n) => `\n- ${n}`).join('')}\n\n`;
      process.stdout.write(text);
      md += text;
    }
  }
  if (!quick) {
    const file = fileURLToPath(new URL('../../bench/results.md', import.meta.url));
    if (!existsSync(file)) writeFileSync(file, '# Benchmark results\n\nNewest run last. Produced by `npm run bench`.\n\n');
    appendFileSync(file, md);
    process.stdout.write(`appended to ${file}\n`);
  }
  return 0;
}

// Suites: each file is loaded only when it runs.
registerSuites({
  kernels: () => import('./kernels.bench.js'),
  pool: () => import('./pool.bench.js'),
  ipam: () => import('./ipam.bench.js'),
  store: () => import('./store.bench.js'),
  daemon: () => import('./daemon.bench.js'),
  publisher: () => import('./publisher.bench.js'),
  agent: () => import('./agent.bench.js'),
  cni: () => import('./cni.bench.js'),
  firewall: () => import('./firewall.bench.js'),
  dns: () => import('./dns.bench.js'),
  cluster: () => import('./cluster.bench.js'),
});

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then((c) => process.exit(c), (e) => { console.error(e); process.exit(1); });
}

