/**
 * Where the repository (and its built dist/) is, whether this module runs
 * from src/lab (tsx, tests) or from dist/src/lab (the built CLI).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function repoRoot(): string {
  if (cached !== undefined) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'romana-ts') return (cached = dir);
      } catch {
        // not ours: keep looking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the romana repository above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export const dist = (...p: string[]): string => path.join(repoRoot(), 'dist', ...p);
