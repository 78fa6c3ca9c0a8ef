/**
 * Romana VIPs, the pure part (DESIGN §7): which node holds a VIP, and which
 * address an `auto` VIP takes from the configured pool.
 *
 * Design: the daemon is the single writer of VIP records; it calls these
 * functions with what it read from the store and writes the result with a
 * compare-and-swap, so the functions need no locking and no I/O.
 *
 * Pure.
 */
import { cidrContainsIp, cidrLast, formatIPv4, parseIPv4, type Cidr4 } from '../ip.js';

export interface HolderInput {
  /** The node holding the VIP now (null: none). */
  holder: string | null;
  /** Nodes with a ready local endpoint of the service. */
  candidates: readonly string[];
}

/**
 * The node that should hold a VIP: the current holder while it is still a
 * candidate with a live agent lease (no needless moves), else the live
 * candidate holding the fewest VIPs (ties by name, so replicas agree),
 * else null (no live candidate: nobody holds it).
 *
 * `load` (node -> VIPs it holds) counts this VIP for its current holder;
 * the caller keeps it updated as it assigns several VIPs in one pass.
 */
export function chooseHolder(vip: HolderInput, live: ReadonlySet<string>, load: ReadonlyMap<string, number> = new Map()): string | null {
  if (vip.holder !== null && live.has(vip.holder) && vip.candidates.includes(vip.holder)) return vip.holder;
  let best: string | null = null;
  let bestLoad = Infinity;
  for (const c of [...new Set(vip.candidates)].sort()) {
    if (!live.has(c)) continue;
    const l = load.get(c) ?? 0;
    if (l < bestLoad) {
      best = c;
      bestLoad = l;
    }
  }
  return best;
}

/**
 * The next free address of `pool` for an auto VIP, or null when every
 * address is taken. Skips the network and broadcast addresses of pools
 * larger than /31 (they are not usable host addresses on a LAN) and every
 * address in `used`. "Next" means the lowest free one, so the choice is
 * deterministic and a released address is reused first.
 */
export function allocateFromPool(pool: Cidr4, used: ReadonlySet<string>): string | null {
  const first = pool.prefix < 31 ? pool.base + 1 : pool.base;
  const last = pool.prefix < 31 ? cidrLast(pool) - 1 : cidrLast(pool);
  for (let n = first; n <= last; n++) {
    const ip = formatIPv4(n >>> 0);
    if (!used.has(ip)) return ip;
  }
  return null;
}

/** True when `ip` is a host address of `pool` that allocateFromPool could return. */
export function poolHasAddress(pool: Cidr4, ip: string): boolean {
  const n = parseIPv4(ip);
  if (n === null || !cidrContainsIp(pool, n)) return false;
  if (pool.prefix >= 31) return true;
  return n !== pool.base && n !== cidrLast(pool);
}
