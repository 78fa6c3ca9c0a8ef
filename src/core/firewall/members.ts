/**
 * Ipset members as the renderer writes them: pods as /32 networks, and the
 * canonical member list of a set (sorted numerically, deduplicated, hash:net
 * entries inside another entry dropped, written as `ipset save` prints them)
 * so the agent can compare with what it reads back. Pure.
 */
import { cidrContains, formatCidr, formatIPv4, type Cidr4 } from '../ip.js';
import type { DesiredIpset } from './types.js';

export function host(ip: number): Cidr4 {
  return { base: ip, prefix: 32 };
}

/**
 * Members sorted by address then prefix, without duplicates and, in a
 * hash:net set, without entries inside another entry (a pod's /32 inside
 * its block): fewer members, same matches. A hash:net /32 is written as a
 * bare address.
 */
export function formatMembers(members: readonly Cidr4[], type: DesiredIpset['type']): string[] {
  // Sorted this way, a covering network comes before everything it covers.
  const sorted = [...members].sort((a, b) => a.base - b.base || a.prefix - b.prefix);
  const out: string[] = [];
  let cover: Cidr4 | undefined;
  for (const m of sorted) {
    if (cover && cidrContains(cover, m)) continue;
    cover = m;
    out.push(type === 'hash:ip' || m.prefix === 32 ? formatIPv4(m.base) : formatCidr(m));
  }
  return out;
}
