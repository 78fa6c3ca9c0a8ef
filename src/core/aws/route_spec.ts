/**
 * Route spec: which hosts may carry each prefix group's CIDR in the VPC
 * route tables (reference §10.2: `{"<cidr>": ["<router ip>", ...]}`).
 *
 * Design: a populated leaf prefix group becomes one entry whose routers are
 * all of its hosts, so the number of VPC routes is the number of populated
 * leaves (tens), not the number of nodes. Two sources give the same spec:
 * the daemon's hosts (their `groups` already say where each host is placed)
 * and a topology + hosts file (hosts placed here with the IPAM's own rule,
 * MemoryIpam, so the placement is the daemon's). Keys are sorted by
 * address, router lists de-duplicated and sorted by address.
 *
 * Pure; no I/O.
 */
import { RomanaError } from '../errors.js';
import { parseCidr4, parseIPv4, formatCidr } from '../ip.js';
import { MemoryIpam } from '../ipam/index.js';
import type { TopologyInput } from '../topology/types.js';

/** CIDR → router host IPs. */
export type RouteSpec = Readonly<Record<string, readonly string[]>>;

/** A host as the daemon lists it (GET /hosts, the fields used here). */
export interface PlacedHost {
  readonly name: string;
  readonly ip: string;
  readonly groups: ReadonlyArray<{ readonly cidr: string }>;
}

/** A host as POST /hosts takes it. */
export interface HostSpecInput {
  readonly name: string;
  readonly ip: string;
  readonly tags?: Readonly<Record<string, string>>;
}

const ipKey = (ip: string): number => parseIPv4(ip) ?? -1;

function cidrKey(c: string): [number, number] {
  const p = parseCidr4(c);
  return p.ok ? [p.cidr.base, p.cidr.prefix] : [-1, 0];
}

/** Sorted, de-duplicated spec from (cidr, ip) pairs. */
export function buildSpec(pairs: Iterable<readonly [string, string]>): RouteSpec {
  const m = new Map<string, Set<string>>();
  for (const [c, ip] of pairs) {
    let s = m.get(c);
    if (!s) m.set(c, (s = new Set()));
    s.add(ip);
  }
  const keys = [...m.keys()].sort((a, b) => {
    const [x, xp] = cidrKey(a);
    const [y, yp] = cidrKey(b);
    return x - y || xp - yp;
  });
  const out: Record<string, string[]> = {};
  for (const k of keys) out[k] = [...m.get(k)!].sort((a, b) => ipKey(a) - ipKey(b));
  return out;
}

/** Spec from the daemon's placed hosts: every group CIDR a host is placed in → its IP. */
export function specFromPlacedHosts(hosts: readonly PlacedHost[]): RouteSpec {
  const pairs: Array<[string, string]> = [];
  for (const h of hosts) for (const g of h.groups) pairs.push([g.cidr, h.ip]);
  return buildSpec(pairs);
}

/**
 * Spec from a topology and a hosts list, placing the hosts as the daemon
 * would (in list order). Throws the IPAM's error for a host no group
 * accepts (its message names the missing labels).
 */
export function specFromTopology(topology: TopologyInput, hosts: readonly HostSpecInput[]): RouteSpec {
  const ipam = MemoryIpam.withTopology(topology);
  for (const h of hosts) {
    if (ipam.state.hosts.has(h.name)) continue; // predefined in the topology
    ipam.addHost({ name: h.name, ip: h.ip, labels: { ...(h.tags ?? {}) } });
  }
  return specFromPlacedHosts(ipam.hosts());
}

/** Checks a spec's shape (CIDRs with mask, IPv4 routers); returns it normalised. */
export function validateSpec(spec: unknown): RouteSpec {
  const problems: string[] = [];
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new RomanaError('VALIDATION_FAILED', 'Invalid route spec: must be an object of CIDR to router IP list');
  }
  const pairs: Array<[string, string]> = [];
  for (const [c, ips] of Object.entries(spec)) {
    const p = parseCidr4(c);
    if (!p.ok || !c.includes('/')) {
      problems.push(`${JSON.stringify(c)} is not a CIDR`);
      continue;
    }
    const norm = formatCidr(p.cidr);
    if (!Array.isArray(ips)) {
      problems.push(`${c}: routers must be a list`);
      continue;
    }
    for (const ip of ips) {
      if (typeof ip !== 'string' || parseIPv4(ip) === null) problems.push(`${c}: ${JSON.stringify(ip)} is not an IPv4 address`);
      else pairs.push([norm, ip]);
    }
  }
  if (problems.length > 0) throw new RomanaError('VALIDATION_FAILED', `Invalid route spec: ${problems.join('; ')}`);
  return buildSpec(pairs);
}

/** Parses a hosts file: a JSON list of {name, ip, tags} (also {"hosts": [...]}, the GET /hosts shape). */
export function parseHostsList(value: unknown): HostSpecInput[] {
  const list = Array.isArray(value) ? value : (value as { hosts?: unknown } | null)?.hosts;
  if (!Array.isArray(list)) throw new RomanaError('VALIDATION_FAILED', 'Invalid hosts file: must be a JSON list of {name, ip, tags}');
  const problems: string[] = [];
  const out: HostSpecInput[] = [];
  list.forEach((h: unknown, i) => {
    const o = h as { name?: unknown; ip?: unknown; tags?: unknown; labels?: unknown } | null;
    if (!o || typeof o.name !== 'string' || o.name === '') problems.push(`[${i}].name: must be a non-empty string`);
    else if (typeof o.ip !== 'string' || parseIPv4(o.ip) === null) problems.push(`[${i}].ip: ${JSON.stringify(o.ip)} is not an IPv4 address`);
    else {
      const tags = (o.tags ?? o.labels ?? {}) as Record<string, unknown>;
      if (typeof tags !== 'object' || tags === null || Object.values(tags).some((v) => typeof v !== 'string')) {
        problems.push(`[${i}].tags: must be an object of strings`);
      } else out.push({ name: o.name, ip: o.ip, tags: tags as Record<string, string> });
    }
  });
  if (problems.length > 0) throw new RomanaError('VALIDATION_FAILED', `Invalid hosts file: ${problems.join('; ')}`);
  return out;
}

/** Every router IP of the spec, sorted. */
export function routerIps(spec: RouteSpec): string[] {
  return [...new Set(Object.values(spec).flat())].sort((a, b) => ipKey(a) - ipKey(b));
}
