/**
 * Issue 9: `npm run bench -- --quick` is a smoke run that CI executes. This
 * runs it against the built tree (npm test builds first) and checks that every
 * suite produced its tables — a suite that throws, or prints nothing, fails
 * here rather than on the next full run — and that a quick run leaves
 * bench/results.md alone (only full runs are quoted).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run bench -- --quick', () => {
  it('runs every suite and prints its sections without touching bench/results.md', () => {
    const results = path.join(ROOT, 'bench/results.md');
    const before = readFileSync(results, 'utf8');
    const r = spawnSync(process.execPath, ['dist/bench/run.js', '--quick'], { cwd: ROOT, encoding: 'utf8', timeout: 280_000, env: { ...process.env, CI: 'true' } });
    expect(r.error).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const titles = r.stdout.split('\n').filter((l) => l.startsWith('### ')).join('\n');
    for (const want of [
      'Route aggregation', 'CIDR carving', 'Block bitmaps', 'Ruleset diffing', 'Pool crossover',
      'IPAM allocation throughput', 'Store: allocation vs raw compare-and-swap', 'Daemon: allocations through the HTTP API',
      'Publisher render', 'Agent: programming a node', 'romana-cni ADD and DEL', 'Every node from one FirewallCluster',
      'romana-dns vs dnsmasq', 'Cluster simulator: time per phase', 'Cluster simulator: routes',
    ]) expect(titles).toContain(want);
    // No suite reported an empty table.
    expect(r.stdout).not.toContain('(no rows)');
    expect(readFileSync(results, 'utf8')).toBe(before);
  }, 300_000);
});
