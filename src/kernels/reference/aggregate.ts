/**
 * Reference route aggregation (pure TypeScript; the oracle for
 * assembly/aggregate.ts): textbook ORTC on an uncompressed binary trie.
 *
 * Goal: the minimal longest-prefix-match table with the same forwarding as
 * the input for every IPv4 address (Draves et al., "Constructing optimal IP
 * routing tables", 1999), under Romana's rules:
 * - host bits of input addresses are ignored; next hop 0xFFFFFFFF is
 *   DONT_CARE: the addresses whose longest match is such an entry may be
 *   routed anywhere or left unrouted;
 * - duplicate prefixes: the last entry wins;
 * - unrouted addresses stay unrouted and no entry is a blackhole, so a node
 *   whose subtree holds an unrouted address carries no entry (its set is
 *   "not fully routed", written null here) and ORTC runs on each maximal
 *   fully-routed subtree with "none" inherited;
 * - a don't-care leaf carries ORTC's universal set U (every next hop and
 *   "none"): U is the identity of A#B, an entry is never needed for it, and
 *   "none" may be handed down into it (a node whose set is U takes whatever
 *   is in force). With no DONT_CARE entry U never appears, so exact mode is
 *   the textbook algorithm unchanged;
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
import { checkRoutes, DONT_CARE, type RouteTriplets } from '../types.js';

/**
 * Internal next-hop values beyond the u32 ids: "nothing routes here" (no
 * input prefix covers the address). Input ids, DONT_CARE included, are
 * ≥ 0, so -1 is free; DONT_CARE keeps its input value.
 */
const NONE = -1;

/** ORTC's universal set (every next hop, "none" included): a don't-care subtree. */
const ALL = 'all' as const;
type OrtcSet = number[] | typeof ALL | null;

interface TrieNode {
  child: [TrieNode | null, TrieNode | null];
  /** Next hop of the input prefix ending here (DONT_CARE possible), or NONE. */
  nextHop: number;
  /** Next hop pushed down into this node: its own, else its ancestors' (pass 1). */
  down: number;
  /** ORTC set (sorted ids, or ALL); null when the subtree holds an unrouted address. */
  set: OrtcSet;
}

const newNode = (): TrieNode => ({ child: [null, null], nextHop: NONE, down: NONE, set: null });

/** The set of a leaf whose addresses forward to h. */
const leafSet = (h: number): OrtcSet => (h === NONE ? null : h === DONT_CARE ? ALL : [h]);

const inSet = (s: OrtcSet, h: number): boolean => s === ALL || (s !== null && s.includes(h));

/** ORTC's A#B: the intersection when not empty, else the union (both sorted; ALL is the identity). */
function merge(a: number[] | typeof ALL, b: number[] | typeof ALL): number[] | typeof ALL {
  if (a === ALL) return b;
  if (b === ALL) return a;
  const both = a.filter((x) => b.includes(x));
  if (both.length > 0) return both;
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

function bottomUp(node: TrieNode, inherited: number): void {
  const h = node.nextHop !== NONE ? node.nextHop : inherited;
  node.down = h;
  const [l, r] = node.child;
  if (!l && !r) {
    node.set = leafSet(h);
    return;
  }
  const added = leafSet(h); // the added leaf of a one-child node
  if (l) bottomUp(l, h);
  if (r) bottomUp(r, h);
  const ls = l ? l.set : added;
  const rs = r ? r.set : added;
  node.set = ls && rs ? merge(ls, rs) : null;
}

function topDown(node: TrieNode, addr: number, len: number, inherited: number, out: number[]): void {
  let g: number;
  if (node.set === null) g = NONE;
  else if (inSet(node.set, inherited)) g = inherited;
  else {
    g = (node.set as number[])[0]!; // not ALL: ALL holds everything
    out.push(addr, len, g);
  }
  if (!node.child[0] && !node.child[1]) return;
  for (const side of [0, 1] as const) {
    const childAddr = side === 0 ? addr : (addr + 2 ** (31 - len)) >>> 0;
    const c = node.child[side];
    if (c) topDown(c, childAddr, len + 1, g, out);
    else if (node.down !== NONE && node.down !== DONT_CARE && node.down !== g) {
      // The added leaf's set is {node.down}: emit unless that is already in force
      // (a don't-care leaf takes anything, "none" included).
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
  bottomUp(root, NONE);
  const out: number[] = [];
  topDown(root, 0, 0, NONE, out);
  return Uint32Array.from(out);
}
