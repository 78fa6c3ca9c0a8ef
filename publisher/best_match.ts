/**
 * Best-match configuration files (the seed's "Route Publisher Add-on"):
 * for `x.conf` on a node with IP 192.168.20.30 in 192.168.20.0/24, use
 *   x.conf.192.168.20.30   (node-specific), else
 *   x.conf.192.168.20.0    (subnet-specific: the network address of the
 *                           node's interface prefix), else
 *   x.conf.
 * Used for both files: the BIRD main configuration (`romana-publisher
 * select`) and the publisher template (every render).
 *
 * Concurrency rule: pure, except `resolveBestMatch` and `localSubnetOf`,
 * which read the file system and the interface list.
 */
import { access } from 'node:fs/promises';
import os from 'node:os';
import { formatIPv4, parseCidr4, parseIPv4, prefixMask, type Cidr4 } from '../src/core/ip.js';

/** Candidate paths, most specific first (duplicates dropped). */
export function bestMatchCandidates(base: string, nodeIp: string | null, subnet: Cidr4 | null): string[] {
  const out: string[] = [];
  if (nodeIp) out.push(`${base}.${nodeIp}`);
  if (subnet) out.push(`${base}.${formatIPv4(subnet.base)}`);
  out.push(base);
  return [...new Set(out)];
}

/** The first candidate that exists, and every candidate tried (for messages). */
export async function resolveBestMatch(base: string, nodeIp: string | null, subnet: Cidr4 | null): Promise<{ path: string | null; tried: string[] }> {
  const tried = bestMatchCandidates(base, nodeIp, subnet);
  for (const p of tried) {
    try {
      await access(p);
      return { path: p, tried };
    } catch {
      // next candidate
    }
  }
  return { path: null, tried };
}

/** The subnet of the local interface holding `ip` (e.g. 192.168.20.0/24), or null. */
export function localSubnetOf(ip: string): Cidr4 | null {
  const addr = parseIPv4(ip);
  if (addr === null) return null;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || a.address !== ip || !a.cidr) continue;
      const r = parseCidr4(a.cidr);
      if (!r.ok) continue;
      return { base: (addr & prefixMask(r.cidr.prefix)) >>> 0, prefix: r.cidr.prefix };
    }
  }
  return null;
}

/** "192.168.20.0/24" or "192.168.20.30/24" → the network, or null when malformed. */
export function parseSubnet(text: string): Cidr4 | null {
  const r = parseCidr4(text);
  if (!r.ok) return null;
  return { base: (r.cidr.base & prefixMask(r.cidr.prefix)) >>> 0, prefix: r.cidr.prefix };
}
