/**
 * `romana --version`: the package version, when this build was made (the
 * compiled module's modification time) and the runtime.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest package.json above this module (dist/src/cli or src/cli). */
function findPackage(start: string): { name: string; version: string } | undefined {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (typeof pkg.version === 'string') return { name: pkg.name ?? 'romana', version: pkg.version };
    } catch {
      // not here: go up
    }
    dir = path.dirname(dir);
  }
  return undefined;
}

export function versionText(): string {
  const here = fileURLToPath(import.meta.url);
  const pkg = findPackage(path.dirname(here));
  let built = 'unknown';
  try {
    built = statSync(here).mtime.toISOString();
  } catch {
    // keep "unknown"
  }
  return [
    `romana version ${pkg?.version ?? 'unknown'} (${pkg?.name ?? 'romana'})`,
    `built ${built}`,
    `node ${process.version} ${process.platform}/${process.arch}`,
  ].join('\n') + '\n';
}
