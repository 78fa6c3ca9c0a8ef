/**
 * The cluster zone: every name the Kubernetes DNS-Based Service Discovery
 * specification (schema 1.1.0) defines for a ClusterState, plus Romana's
 * extension, behind the narrow `Lookup` interface the answer logic reads.
 *
 * Records (spec §2.3–2.5):
 * - `dns-version.<zone>` TXT "1.1.0".
 * - ClusterIP/NodePort/LoadBalancer service `<svc>.<ns>.svc.<zone>`: A/AAAA
 *   for its cluster IPs, SRV `_<port>._<proto>.<svc>.<ns>.svc.<zone>` for
 *   each named port (target the service), PTR for each cluster IP.
 *   Romana's extension (seed "Sample DNS Results", v2 behaviour §8): the same
 *   A/AAAA set also carries the service's externalIPs (the VIP) and, unless
 *   `endpointIPs` is off, the IPs of its ready endpoints. Order: cluster IPs
 *   first, then external IPs, then endpoint IPs, so that a client taking
 *   the first answer still gets the stable ClusterIP (v2 returned skydns's
 *   map order; §12 item 13). Endpoint IPs come from the current endpoints on
 *   every rebuild, so they do not go stale as they did in v2.
 * - Headless service: A/AAAA for each ready endpoint (not-ready ones too
 *   with publishNotReadyAddresses), `<host>.<svc>.<ns>.svc.<zone>` per
 *   endpoint (its hostname, else the dashed IP as CoreDNS does), SRV per
 *   endpoint × named port targeting that name, PTR per endpoint IP.
 * - ExternalName service: CNAME to the external name.
 * - Empty non-terminals (`svc.<zone>`, `<ns>.svc.<zone>`, `_tcp.<svc>…`)
 *   exist, so a query for them is NODATA and not NXDOMAIN.
 * Pod names (`a-b-c-d.<ns>.pod.<zone>`) are synthesised per query in
 * answers.ts, as kube-dns's default "pods insecure" mode does.
 *
 * Names are stored lowercase, without the trailing dot.
 *
 * Concurrency rule: a Zone is immutable after buildZone returns.
 */
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import type { ClusterState, ServiceInfo } from './cluster.js';

export const SCHEMA_VERSION = '1.1.0';

export interface Srv {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** The records at one name; absent fields mean "none". */
export interface NameData {
  a?: string[];
  aaaa?: string[];
  srv?: Srv[];
  cname?: string;
  ptr?: string[];
  txt?: string[];
}

export interface Soa {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/** What the answer logic may ask of the zone. */
export interface Lookup {
  /** Lowercase, no trailing dot, e.g. "cluster.local". */
  readonly domain: string;
  readonly ttl: number;
  readonly soa: Soa;
  /** Records at a lowercase name (forward or reverse). */
  get(name: string): NameData | undefined;
  /** The name exists in the cluster domain (records or an empty non-terminal). */
  exists(name: string): boolean;
  /** Every name with records, for precomputing responses. */
  entries(): IterableIterator<[string, NameData]>;
}

export interface ZoneOptions {
  domain: string;
  /** TTL of every record, and the negative-caching TTL in the SOA (kube-dns: 30 s). */
  ttl: number;
  /** Romana's extension: a ClusterIP service's A/AAAA answer also lists its ready endpoints' IPs. */
  endpointIPs: boolean;
  serial: number;
}

/** The reverse-lookup name of an IP: `d.c.b.a.in-addr.arpa` or the ip6.arpa nibbles. */
export function reverseName(ip: string): string | undefined {
  if (net.isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  if (!net.isIPv6(ip)) return undefined;
  const bytes = ipaddr.IPv6.parse(ip).toByteArray();
  const nibbles: string[] = [];
  for (let i = bytes.length - 1; i >= 0; i--) nibbles.push((bytes[i]! & 0xf).toString(16), (bytes[i]! >> 4).toString(16));
  return `${nibbles.join('.')}.ip6.arpa`;
}

/** CoreDNS's label for an endpoint without hostname: the IP with dashes. */
export function dashedIP(ip: string): string {
  return net.isIPv6(ip) ? ipaddr.IPv6.parse(ip).toString().replace(/:/g, '-') : ip.replace(/\./g, '-');
}

class ZoneBuilder implements Lookup {
  readonly domain: string;
  readonly ttl: number;
  readonly soa: Soa;
  private readonly names = new Map<string, NameData>();
  private readonly nonTerminals = new Set<string>();

  constructor(opts: ZoneOptions) {
    this.domain = opts.domain.toLowerCase().replace(/\.$/, '');
    this.ttl = opts.ttl;
    this.soa = {
      mname: `ns.dns.${this.domain}`, rname: `hostmaster.${this.domain}`, serial: opts.serial >>> 0,
      refresh: 7200, retry: 1800, expire: 86400, minimum: opts.ttl,
    };
    this.nonTerminals.add(this.domain);
  }

  get(name: string): NameData | undefined { return this.names.get(name); }
  exists(name: string): boolean { return this.names.has(name) || this.nonTerminals.has(name); }
  entries(): IterableIterator<[string, NameData]> { return this.names.entries(); }

  /** Marks `name` and its ancestors down to the domain as existing. */
  private touch(name: string): void {
    if (!name.endsWith(`.${this.domain}`)) return;
    for (let n = name; n.length > this.domain.length && !this.nonTerminals.has(n);) {
      this.nonTerminals.add(n);
      n = n.slice(n.indexOf('.') + 1);
    }
  }

  data(name: string): NameData {
    let d = this.names.get(name);
    if (!d) {
      d = {};
      this.names.set(name, d);
      this.touch(name);
    }
    return d;
  }

  address(name: string, ip: string): void {
    const d = this.data(name);
    const key = net.isIPv6(ip) ? 'aaaa' : net.isIPv4(ip) ? 'a' : undefined;
    if (!key) return;
    const list = (d[key] ??= []);
    if (!list.includes(ip)) list.push(ip);
  }

  ptr(ip: string, target: string): void {
    const rev = reverseName(ip);
    if (!rev) return;
    const d = this.data(rev);
    const list = (d.ptr ??= []);
    if (!list.includes(target)) list.push(target);
  }

  srv(name: string, srv: Srv): void {
    (this.data(name).srv ??= []).push(srv);
  }

  txt(name: string, s: string): void {
    (this.data(name).txt ??= []).push(s);
  }

  nonTerminal(name: string): void { this.touch(name); }

  /**
   * Copies every record list to an exact-size array. Lists grow by push,
   * and V8 grows a 16-slot array to 40 on the 17th element: a service with
   * a ClusterIP, a VIP and 15 endpoints kept 23 empty slots (~1.8 MB at
   * 10k services).
   */
  compact(): void {
    for (const d of this.names.values()) {
      if (d.a) d.a = d.a.slice();
      if (d.aaaa) d.aaaa = d.aaaa.slice();
      if (d.srv) d.srv = d.srv.slice();
      if (d.ptr) d.ptr = d.ptr.slice();
    }
  }
}

function activeAddresses(state: ClusterState, svc: ServiceInfo) {
  const subsets = state.endpoints.get(`${svc.namespace}/${svc.name}`) ?? [];
  return subsets.map((s) => ({ ports: s.ports, addresses: s.addresses.filter((a) => a.ready || svc.publishNotReadyAddresses) }));
}

export function buildZone(state: ClusterState, opts: ZoneOptions): Lookup {
  const z = new ZoneBuilder(opts);
  const d = z.domain;
  z.txt(`dns-version.${d}`, SCHEMA_VERSION);
  z.nonTerminal(`svc.${d}`);
  z.nonTerminal(`pod.${d}`);
  for (const ns of state.namespaces) {
    z.nonTerminal(`${ns.toLowerCase()}.svc.${d}`);
    z.nonTerminal(`${ns.toLowerCase()}.pod.${d}`);
  }
  for (const svc of state.services) {
    const fq = `${svc.name}.${svc.namespace}.svc.${d}`.toLowerCase();
    if (svc.type === 'ExternalName') {
      if (svc.externalName) z.data(fq).cname = svc.externalName.toLowerCase();
      continue;
    }
    const subsets = activeAddresses(state, svc);
    if (svc.clusterIPs.length === 0) {
      // Headless: one name per endpoint, SRV per endpoint × named port.
      z.data(fq);
      const srvNames = new Set<string>();
      for (const s of subsets) {
        for (const a of s.addresses) {
          const host = `${(a.hostname ?? dashedIP(a.ip)).toLowerCase()}.${fq}`;
          z.address(fq, a.ip);
          z.address(host, a.ip);
          z.ptr(a.ip, host);
          for (const p of s.ports) {
            if (!p.name) continue;
            const name = `_${p.name.toLowerCase()}._${p.protocol}.${fq}`;
            srvNames.add(name);
            z.srv(name, { priority: 0, weight: 0, port: p.port, target: host });
          }
        }
      }
      // Equal weights summing to about 100, as CoreDNS does.
      for (const name of srvNames) {
        const list = z.get(name)!.srv!;
        for (const s of list) s.weight = Math.max(1, Math.floor(100 / list.length));
      }
      continue;
    }
    for (const ip of svc.clusterIPs) {
      z.address(fq, ip);
      z.ptr(ip, fq);
    }
    for (const ip of svc.externalIPs) z.address(fq, ip);
    if (opts.endpointIPs) for (const s of subsets) for (const a of s.addresses) z.address(fq, a.ip);
    for (const p of svc.ports) {
      if (!p.name) continue;
      z.srv(`_${p.name.toLowerCase()}._${p.protocol}.${fq}`, { priority: 0, weight: 100, port: p.port, target: fq });
    }
  }
  z.compact();
  return z;
}
