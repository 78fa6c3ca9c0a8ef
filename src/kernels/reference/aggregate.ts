/**
 * Reference route aggregation (pure TypeScript; the oracle for
 * assembly/aggregate.ts): textbook ORTC on an uncompressed binary trie.
 *
 * Goal: the minimal longest-prefix-match table with the same forwarding as
 * the input for every IPv4 address (Draves et al., "Constructing optimal IP
 * routing tables", 1999), under Romana's rules:
 * - host bits of input addresses are ignored; next hop 0xFFFFFFFF is reserved;
 * - duplicate prefixes: the last entry wins;
 * - unrouted addresses stay unrouted and no entry is a blackhole, so a node
 *   whose subtree holds an unrouted address carries no entry (its set is
 *   "not fully routed", written null here) and ORTC runs on each maximal
 *   fully-routed subtree with "none" inherited;
 * - ties in ORTC's choice go to the smallest next hop id;
 * - output sorted by (address, length).
 * Design: one object per trie bit, the three passes of the paper (push next
 * hops down to leaves, A#B bottom-up, choose top-down), recursion depth ≤ 33.
 * A missing child of a one-child node is the paper's added leaf; it is not
 * materialised, only its set {inherited next hop} is used. Slow and memory
 * hungry on purpose: clarity over speed, it only has to be right.
 * Concurrency rule: pure function.
 */
import { prefixMask } from '../../core/ip.js';
import { checkRoutes, NO_NEXT_HOP, type RouteTriplets } from '../types.js';

interface TrieNode {
  child: [TrieNode | null, TrieNode | null];
  /** Next hop of the input prefix ending here, or NO_NEXT_HOP. */
  nextHop: number;
  /** Next hop pushed down into this node: its own, else its ancestors' (pass 1). */
  down: number;
  /** ORTC set (sorted ids); null when the subtree holds an unrouted address. */
  set: number[] | null;
}

const newNode = (): TrieNode => ({ child: [null, null], nextHop: NO_NEXT_HOP, down: NO_NEXT_HOP, set: null });

/** ORTC's A#B: the intersection when not empty, else the union (both sorted). */
function merge(a: number[], b: number[]): number[] {
  const both = a.filter((x) => b.includes(x));
  if (both.length > 0) return both;
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

function bottomUp(node: TrieNode, inherited: number): void {
  const h = node.nextHop !== NO_NEXT_HOP ? node.nextHop : inherited;
  node.down = h;
  const [l, r] = node.child;
  if (!l && !r) {
    node.set = h === NO_NEXT_HOP ? null : [h];
    return;
  }
  const leafSet = h === NO_NEXT_HOP ? null : [h]; // the added leaf of a one-child node
  if (l) bottomUp(l, h);
  if (r) bottomUp(r, h);
  const ls = l ? l.set : leafSet;
  const rs = r ? r.set : leafSet;
  node.set = ls && rs ? merge(ls, rs) : null;
}

function topDown(node: TrieNode, addr: number, len: number, inherited: number, out: number[]): void {
  let g: number;
  if (node.set === null) g = NO_NEXT_HOP;
  else if (node.set.includes(inherited)) g = inherited;
  else {
    g = node.set[0]!;
    out.push(addr, len, g);
  }
  if (!node.child[0] && !node.child[1]) return;
  for (const side of [0, 1] as const) {
    const childAddr = side === 0 ? addr : (addr + 2 ** (31 - len)) >>> 0;
    const c = node.child[side];
    if (c) topDown(c, childAddr, len + 1, g, out);
    else if (node.down !== NO_NEXT_HOP && node.down !== g) {
      // The added leaf's set is {node.down}: emit unless that is already in force.
      out.push(childAddr, len + 1, node.down);
    }
  }
}

export function aggregateReference(routes: RouteTriplets): RouteTriplets {
  checkRoutes(routes);
  const root = newNode();
  for (let i = 0; i < routes.length; i += 3) {
    const len = routes[i + 1]!;
    const addr = (routes[i]! & prefixMask(len)) >>> 0;
    let node = root;
    for (let bit = 0; bit < len; bit++) {
      const side = (addr >>> (31 - bit)) & 1;
      node = node.child[side] ??= newNode();
    }
    node.nextHop = routes[i + 2]!; // later duplicates overwrite: last wins
  }
  bottomUp(root, NO_NEXT_HOP);
  const out: number[] = [];
  topDown(root, 0, 0, NO_NEXT_HOP, out);
  return Uint32Array.from(out);
}
