/**
 * Routes this node needs (DESIGN §6, reference §4.3 and §12 item 9 fixed):
 * every other host's blocks via that host, aggregated into the fewest
 * prefixes with the same forwarding (the route-aggregation kernel), and
 * this host's own blocks as `throw` routes so that no aggregate captures a
 * local pod (lookups for them fall through to `main`, where the CNI
 * plugin's `/32 dev <veth>` routes are).
 *
 * Two steps around the (async) kernel:
 *   planRoutes       blocks + hosts + how each host is reached → triplets
 *                    (address, length, next-hop id) and the next-hop table
 *   routesFromTable  the kernel's minimal table → DesiredRoute[]
 * Hosts reached through a gateway (not on a shared link) are skipped unless
 * `multihop`, in which case their blocks go via that gateway. Hosts with no
 * known route, with our own IP, or unknown to the host list are skipped and
 * reported.
 *
 * Don't care (issue 9's bound "hosts in the group + groups"): the free space
 * of this node's own prefix groups (`dontCare`, see ownGroupCidrs) holds no
 * pod, so it may be routed anywhere; the plan marks those groups DONT_CARE
 * and lets the kernel use the freedom (a host's scattered blocks become one
 * or two prefixes). What must not change keeps an exact entry inside that
 * space: our own blocks stay `throw` — the kernel forwards every specified
 * address exactly, so each local pod still falls through to `main` however
 * wide an aggregate around it is — and a skipped host's block or an
 * address reservation (`keepOut`: addresses the operator keeps from the
 * IPAM, possibly in use by something else) inside it gets `throw` too, so
 * it still leaves this table as it did when it had no route here. A block allocated after the plan was computed may sit under
 * an aggregate until the next sync; the CNI ADD waits for that sync.
 * Pure.
 */
import { formatCidr, parseCidr4, parseIPv4, prefixMask, type Cidr4 } from '../ip.js';
import { findGroup } from '../topology/carve.js';
import type { CarvedTopology } from '../topology/types.js';
import type { BlockLike, DesiredRoute, HostLike } from './types.js';

/** The aggregation kernel's "don't care" next hop (src/kernels/types.ts DONT_CARE; core does not import kernels). */
export const DONT_CARE_HOP = 0xffffffff;

export interface ReachInfo {
  /** Gateway on the way to the host, or null when it is on a connected link. */
  readonly gateway: string | null;
  /** The address is this node's own. */
  readonly local: boolean;
}

export interface RoutePlan {
  /** (address, prefix length, next-hop id) triplets. */
  readonly triplets: Uint32Array;
  /** next-hop id → the gateway address, or null for "throw" (a local block). */
  readonly hops: ReadonlyArray<string | null>;
  /** Hosts whose blocks get no route, and why. */
  readonly skipped: ReadonlyArray<{ host: string; reason: string }>;
}

/** Next-hop id 0 is always "throw" (local blocks). */
export const THROW_HOP = 0;

const within = (c: Cidr4, g: Cidr4): boolean => c.prefix >= g.prefix && ((c.base ^ g.base) & prefixMask(g.prefix)) === 0;

export function planRoutes(
  blocks: Iterable<BlockLike>,
  hosts: ReadonlyMap<string, HostLike>,
  node: string,
  reach: ReadonlyMap<string, ReachInfo>,
  opts: { multihop: boolean; dontCare?: readonly Cidr4[]; keepOut?: readonly Cidr4[] },
): RoutePlan {
  const hops: Array<string | null> = [null];
  const hopIds = new Map<string, number>();
  const skipped = new Map<string, string>();
  const dontCare = opts.dontCare ?? [];
  // Don't-care prefixes first: a block equal to one of them comes later and wins.
  const out: number[] = dontCare.flatMap((g) => [g.base, g.prefix, DONT_CARE_HOP]);
  const keep = (c: Cidr4): void => {
    if (dontCare.some((g) => within(c, g))) out.push(c.base, c.prefix, THROW_HOP);
  };
  for (const c of opts.keepOut ?? []) keep(c);
  const skip = (c: Cidr4, host: string, reason: string): void => {
    skipped.set(host, reason);
    keep(c);
  };
  for (const b of blocks) {
    const c = parseCidr4(b.cidr);
    if (!c.ok) continue;
    let hop: number;
    if (b.host === node) {
      hop = THROW_HOP;
    } else {
      const h = hosts.get(b.host);
      if (!h || parseIPv4(h.ip) === null) {
        skip(c.cidr, b.host, 'host unknown or without an IPv4 address');
        continue;
      }
      const r = reach.get(h.ip);
      if (!r) {
        skip(c.cidr, b.host, `no route to its address ${h.ip}`);
        continue;
      }
      if (r.local) {
        skip(c.cidr, b.host, `its address ${h.ip} is this node's own`);
        continue;
      }
      let via = h.ip;
      if (r.gateway !== null) {
        if (!opts.multihop) {
          skip(c.cidr, b.host, `${h.ip} is reached through gateway ${r.gateway} (not on a shared link; use --multihop to route via the gateway)`);
          continue;
        }
        via = r.gateway;
      }
      let id = hopIds.get(via);
      if (id === undefined) {
        id = hops.length;
        hops.push(via);
        hopIds.set(via, id);
      }
      hop = id;
    }
    out.push(c.cidr.base, c.cidr.prefix, hop);
  }
  return { triplets: Uint32Array.from(out), hops, skipped: [...skipped].map(([host, reason]) => ({ host, reason })) };
}

/**
 * The CIDRs of the leaf groups a host was placed in (its record's `groups`:
 * network name → group path), from the carved topology: the space the agent
 * may hand planRoutes as don't care. Unknown networks or paths (a topology
 * change racing the host record) are left out, which only costs aggregation.
 */
export function ownGroupCidrs(carved: CarvedTopology, groups: Readonly<Record<string, string>>): Cidr4[] {
  const out: Cidr4[] = [];
  for (const [network, path] of Object.entries(groups)) {
    const net = carved.networks.find((n) => n.name === network);
    const g = net && findGroup(net, path);
    if (g && g.leaf && !g.padding) out.push(g.cidr);
  }
  return out;
}

export function routesFromTable(table: Uint32Array, hops: ReadonlyArray<string | null>): DesiredRoute[] {
  const routes: DesiredRoute[] = [];
  for (let i = 0; i + 2 < table.length; i += 3) {
    const dst = formatCidr({ base: table[i]!, prefix: table[i + 1]! });
    const via = hops[table[i + 2]!];
    routes.push(via === null || via === undefined ? { dst } : { dst, via });
  }
  return routes;
}

/** The distinct addresses of hosts other than `node` that own blocks (what to ask the kernel about). */
export function remoteHostAddresses(blocks: Iterable<BlockLike>, hosts: ReadonlyMap<string, HostLike>, node: string): string[] {
  const out = new Set<string>();
  for (const b of blocks) {
    if (b.host === node) continue;
    const h = hosts.get(b.host);
    if (h && parseIPv4(h.ip) !== null) out.add(h.ip);
  }
  return [...out].sort();
}

/**
 * Whether `table` (the kernel's (base, length, hop) triplets, as LPM) sends
 * every address of `base/prefix` to `hop`. This is the incremental step for
 * a new block: a table chosen with the block's space as don't care that
 * already forwards it correctly is still a minimal table with the block
 * specified (adding a constraint that the optimum already meets leaves it
 * optimal), so only the tables for which this is false need the kernel
 * again. O(entries) plus a sort of the entries inside the range.
 */
export function forwardsWhole(table: Uint32Array, base: number, prefix: number, hop: number): boolean {
  let coverLen = -1;
  let coverHop = -1;
  // Entries inside the range by (base, length): a later duplicate replaces an earlier one, as in LPM here.
  const inside = new Map<number, { len: number; hop: number }>();
  for (let i = 0; i + 2 < table.length; i += 3) {
    const len = table[i + 1]!;
    const eBase = (table[i]! & prefixMask(len)) >>> 0;
    if (len <= prefix) {
      // Covers the whole range when the range's base lies inside the entry (longest wins; later duplicates win, as in the kernel).
      if (len >= coverLen && ((eBase ^ base) & prefixMask(len)) >>> 0 === 0) {
        coverLen = len;
        coverHop = table[i + 2]!;
      }
    } else if (((eBase ^ base) & prefixMask(prefix)) >>> 0 === 0) {
      inside.set(eBase * 33 + len, { len, hop: table[i + 2]! });
    }
  }
  if (inside.size === 0) return coverLen >= 0 && coverHop === hop;
  // Cut the range at every inside entry's edges; each piece is wholly inside or outside each
  // entry, so its next hop is the longest entry holding its first address, else the cover's.
  const entries = [...inside].map(([key, e]) => {
    const lo = (key - e.len) / 33;
    return { lo, hi: lo + 2 ** (32 - e.len), len: e.len, hop: e.hop };
  });
  const start = base >>> 0;
  const end = start + 2 ** (32 - prefix);
  const cuts = [...new Set([start, end, ...entries.flatMap((e) => [e.lo, e.hi])])].sort((a, b) => a - b);
  for (let c = 0; c + 1 < cuts.length; c++) {
    const at = cuts[c]!;
    let best: { len: number; hop: number } | undefined;
    for (const e of entries) if (e.lo <= at && at < e.hi && (!best || e.len > best.len)) best = e;
    const got = best ? best.hop : coverLen >= 0 ? coverHop : -1;
    if (got !== hop) return false;
  }
  return true;
}
