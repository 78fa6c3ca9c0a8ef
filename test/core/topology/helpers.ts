// Shared by the topology tests: reading the seed documentation's examples
// and listing carved CIDRs in a form that is easy to compare.
import { readFileSync } from 'node:fs';
import { formatCidr } from '../../../src/core/ip.js';
import type { CarvedGroup, CarvedNetwork, CarvedTopology } from '../../../src/core/topology/index.js';

export const SEED_URL = new URL('../../../../shared/seed/000_cd8e673e563d9dde.txt', import.meta.url);
export const BUILTIN_FIXTURES_URL = new URL('../../../../shared/romana-v2-testdata/builtin-topologies/', import.meta.url);

export interface SeedBlock {
  /** 1-based line of the opening "{" in the seed. */
  line: number;
  /** The nearest heading-like line above the block (short, no final period). */
  title: string;
  text: string;
}

/** Every top-level JSON-ish block of the seed: from a line "{" to the next line "}" (both at column 0). */
export function seedBlocks(): SeedBlock[] {
  const lines = readFileSync(SEED_URL, 'utf8').split('\n');
  const out: SeedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '{') continue;
    const end = lines.indexOf('}', i + 1);
    if (end < 0) break;
    let title = '';
    for (let j = i - 1; j >= 0; j--) {
      const l = lines[j]!.trim();
      if (l !== '' && l.length < 70 && !/[.:}]$/.test(l)) {
        title = l;
        break;
      }
    }
    out.push({ line: i + 1, title, text: lines.slice(i, end + 1).join('\n') });
    i = end;
  }
  return out;
}

/** Where the `#` comment of a line starts (outside strings), or -1. */
function commentStart(line: string): number {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '#') return i;
  }
  return -1;
}

/** The `#` comment of each line (outside strings), in order; lines without one are skipped. */
export function commentsOf(text: string): string[] {
  return text.split('\n').flatMap((line) => {
    const at = commentStart(line);
    return at < 0 ? [] : [line.slice(at + 1)];
  });
}

/** The text with every `#` comment removed (to look at the JSON itself). */
export function withoutComments(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const at = commentStart(line);
      return at < 0 ? line : line.slice(0, at);
    })
    .join('\n');
}

export const CIDR_RE = /\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\/\d{1,2}\b/g;

/** All groups of a network, root first, depth first (the order they are written in the map). */
export function groupsOf(net: CarvedNetwork): CarvedGroup[] {
  const out: CarvedGroup[] = [];
  const walk = (g: CarvedGroup): void => {
    out.push(g);
    g.children.forEach(walk);
  };
  walk(net.root);
  return out;
}

/** path → CIDR text for every group of a network (padding included). */
export function cidrsByPath(net: CarvedNetwork): Record<string, string> {
  return Object.fromEntries(groupsOf(net).map((g) => [g.path, formatCidr(g.cidr)]));
}

/** CIDRs of the usable leaves (padding excluded), in path order. */
export function leafCidrs(net: CarvedNetwork): string[] {
  return groupsOf(net)
    .filter((g) => g.leaf && !g.padding)
    .map((g) => formatCidr(g.cidr));
}

export function network(carved: CarvedTopology, name: string): CarvedNetwork {
  const n = carved.networks.find((x) => x.name === name);
  if (!n) throw new Error(`no network ${name}`);
  return n;
}
