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
 * reported. Pure.
 */
import { formatCidr, parseCidr4, parseIPv4 } from '../ip.js';
import type { BlockLike, DesiredRoute, HostLike } from './types.js';

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

export function planRoutes(
  blocks: Iterable<BlockLike>,
  hosts: ReadonlyMap<string, HostLike>,
  node: string,
  reach: ReadonlyMap<string, ReachInfo>,
  opts: { multihop: boolean },
): RoutePlan {
  const hops: Array<string | null> = [null];
  const hopIds = new Map<string, number>();
  const skipped = new Map<string, string>();
  const out: number[] = [];
  for (const b of blocks) {
    const c = parseCidr4(b.cidr);
    if (!c.ok) continue;
    let hop: number;
    if (b.host === node) {
      hop = THROW_HOP;
    } else {
      const h = hosts.get(b.host);
      if (!h || parseIPv4(h.ip) === null) {
        skipped.set(b.host, 'host unknown or without an IPv4 address');
        continue;
      }
      const r = reach.get(h.ip);
      if (!r) {
        skipped.set(b.host, `no route to its address ${h.ip}`);
        continue;
      }
      if (r.local) {
        skipped.set(b.host, `its address ${h.ip} is this node's own`);
        continue;
      }
      let via = h.ip;
      if (r.gateway !== null) {
        if (!opts.multihop) {
          skipped.set(b.host, `${h.ip} is reached through gateway ${r.gateway} (not on a shared link; use --multihop to route via the gateway)`);
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
