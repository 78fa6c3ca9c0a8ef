/**
 * The lab's addressing plan, pure: which namespace, address, AS number and
 * prefix group every host, ToR, the spine and the DNS server get.
 *
 *   pods       10.112.0.0/16, /29 blocks, one prefix group per rack
 *              (`rack-K`, hosts labelled rack=rK); the daemon carves the
 *              groups (2 racks: 10.112.0.0/17 and 10.112.128.0/17)
 *   rack K     L2 segment = bridge `rackK` in `<prefix>-fabric`, subnet
 *              10.200.K.0/24; host hN at 10.200.K.N, its ToR at
 *              10.200.K.254 (every host's default route)
 *   spine      L2 segment = bridge `spine` in `<prefix>-fabric`, subnet
 *              10.200.0.0/24; spine router 10.200.0.1, ToR K 10.200.0.(10+K),
 *              romana-dns 10.200.0.53
 *   BGP        host N AS 65100+N → ToR K AS 65000+K (eBGP: the host's
 *              blocks); ToR K → spine AS 65000 (eBGP: only the rack's
 *              prefix-group aggregate and rack subnet go up); the spine
 *              hands every ToR the other racks' aggregates, next hop self
 *
 * So a host holds routes to its rack-mates' blocks (the agent: same link)
 * and one default route; a ToR holds its hosts' blocks and one aggregate
 * per other rack; the spine one aggregate per rack. Traffic between racks
 * goes host → ToR → spine → ToR → host.
 */
import path from 'node:path';
import type { LabHostState, LabState, LabTorState } from './state.js';

export const NETWORK_CIDR = '10.112.0.0/16';
export const BLOCK_MASK = 29;
export const SPINE_SUBNET = '10.200.0.0/24';
export const SPINE_IP = '10.200.0.1';
export const SPINE_AS = 65000;
export const DNS_IP = '10.200.0.53';
export const DNS_PORT = 53;
export const DNS_DOMAIN = 'cluster.local';
export const MAX_HOSTS = 50;

export const rackName = (k: number): string => `r${k}`;
export const groupName = (k: number): string => `rack-${k}`;
export const rackSubnet = (k: number): string => `10.200.${k}.0/24`;
export const torRackIp = (k: number): string => `10.200.${k}.254`;
export const torSpineIp = (k: number): string => `10.200.0.${10 + k}`;
export const torAs = (k: number): number => SPINE_AS + k;
export const hostIp = (i: number, k: number): string => `10.200.${k}.${i}`;
export const hostAs = (i: number): number => 65100 + i;

/** Hosts split into racks in order: h1..hk in r1, and so on. */
export function rackOf(i: number, hosts: number, racks: number): number {
  return Math.floor(((i - 1) * racks) / hosts) + 1;
}

/** The topology the daemon starts with: one network, one leaf group per rack, assigned by the host label `rack`. */
export function labTopology(racks: number): unknown {
  return {
    networks: [{ name: 'romana-network', cidr: NETWORK_CIDR, block_mask: BLOCK_MASK }],
    topologies: [
      {
        networks: ['romana-network'],
        map: Array.from({ length: racks }, (_, r) => ({ name: groupName(r + 1), assignment: { rack: rackName(r + 1) }, groups: [] })),
      },
    ],
  };
}

export function ip4(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** `outer` (a.b.c.d/len, or an address) contains `inner`. */
export function covers(outer: string, inner: string): boolean {
  const [oa, ol] = outer.split('/');
  const [ia, il] = inner.split('/');
  const olen = Number(ol ?? 32);
  const ilen = Number(il ?? 32);
  if (ilen < olen) return false;
  const size = 2 ** (32 - olen);
  return Math.floor(ip4(oa!) / size) === Math.floor(ip4(ia!) / size);
}

/** Sorts prefixes by address, then length. */
export function byPrefix(a: string, b: string): number {
  return ip4(a.split('/')[0]!) - ip4(b.split('/')[0]!) || Number(a.split('/')[1] ?? 32) - Number(b.split('/')[1] ?? 32);
}

export interface PlanOptions {
  hosts: number;
  racks: number;
  prefix: string;
  stateDir: string;
}

/** Everything `lab up` will make, named and addressed, before anything is made (pods come later, from the CNI). */
export function planLab(o: PlanOptions): LabState {
  const birdDir = path.join(o.stateDir, 'bird');
  const ns = (name: string): string => `${o.prefix}-${name}`;
  const tors: LabTorState[] = Array.from({ length: o.racks }, (_, r) => {
    const k = r + 1;
    const name = `tor${k}`;
    return { name, ns: ns(name), rack: rackName(k), ip: torRackIp(k), subnet: rackSubnet(k), spineIp: torSpineIp(k), as: torAs(k), ctl: path.join(birdDir, `${name}.ctl`), groupCidr: '' };
  });
  const hosts: LabHostState[] = Array.from({ length: o.hosts }, (_, n) => {
    const i = n + 1;
    const k = rackOf(i, o.hosts, o.racks);
    const name = `h${i}`;
    const dir = path.join(o.stateDir, 'hosts', name);
    return {
      name,
      ns: ns(name),
      ip: hostIp(i, k),
      rack: rackName(k),
      subnet: rackSubnet(k),
      gateway: torRackIp(k),
      as: hostAs(i),
      healthSocket: path.join(dir, 'agent.sock'),
      confDir: path.join(dir, 'net.d'),
      binDir: path.join(dir, 'bin'),
    };
  });
  return {
    prefix: o.prefix,
    stateDir: o.stateDir,
    socket: path.join(o.stateDir, 'daemon.sock'),
    url: '',
    racks: tors.map((t) => t.rack),
    hosts,
    pods: [],
    fabric: ns('fabric'),
    tors,
    spine: { name: 'spine', ns: ns('spine'), ip: SPINE_IP, subnet: SPINE_SUBNET, as: SPINE_AS, ctl: path.join(birdDir, 'spine.ctl') },
    dns: { ns: ns('dns'), ip: DNS_IP, port: DNS_PORT, domain: DNS_DOMAIN, snapshot: path.join(o.stateDir, 'dns', 'cluster.yaml') },
    notes: [],
  };
}

/** Which lab machine owns an address (a next hop): "h1", "tor2", "spine", "dns". */
export function ownerOf(st: LabState, addr: string): string | null {
  for (const h of st.hosts) if (h.ip === addr) return h.name;
  for (const t of st.tors) if (t.ip === addr || t.spineIp === addr) return t.name;
  if (st.spine.ip === addr) return st.spine.name;
  if (st.dns.ip === addr) return 'dns';
  return null;
}
