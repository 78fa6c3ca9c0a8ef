/**
 * Read-only views of the IPAM state for the API, the CLI and the simulator:
 * blocks, addresses, hosts, utilisation per network / group / host.
 *
 * Every list has a stable order (networks in definition order, then by
 * address; hosts by name) so that CLI tables and golden files are stable.
 *
 * Pure: reads the state's indexes, never changes them.
 */
import { formatCidr, prefixSize } from '../ip.js';
import type { BlockIndex, IpamState } from './state.js';
import type { AddressRecord } from './types.js';

export interface BlockView {
  network: string;
  cidr: string;
  /** Leaf group path, and its name ("" when unnamed). */
  group: string;
  groupName: string;
  host: string;
  tenant: string;
  segment: string;
  /** Allocated addresses. */
  used: number;
  /** Reserved, unallocated addresses. */
  reserved: number;
  size: number;
  revision: number;
}

export interface BlockFilter {
  network?: string;
  host?: string;
  tenant?: string;
  segment?: string;
}

export interface AddressFilter extends BlockFilter {}

function netOrder(state: IpamState, network: string): number {
  return state.networks.get(network)?.order ?? Number.MAX_SAFE_INTEGER;
}

function blockView(b: BlockIndex): BlockView {
  const v = b.value;
  return {
    network: v.network,
    cidr: v.cidr,
    group: v.group,
    groupName: b.leaf?.group.name ?? '',
    host: v.host,
    tenant: v.tenant,
    segment: v.segment,
    used: b.count,
    reserved: b.reserved,
    size: b.size,
    revision: b.revision,
  };
}

function matches(f: BlockFilter, v: { network: string; host: string; tenant: string; segment: string }): boolean {
  return (
    (f.network === undefined || f.network === v.network) &&
    (f.host === undefined || f.host === v.host) &&
    (f.tenant === undefined || f.tenant === v.tenant) &&
    (f.segment === undefined || f.segment === v.segment)
  );
}

export function listBlocks(state: IpamState, filter: BlockFilter = {}): BlockView[] {
  const src = filter.host !== undefined ? (state.blocksByHost.get(filter.host) ?? []) : state.blocks.values();
  const out: BlockIndex[] = [];
  for (const b of src) if (matches(filter, b.value)) out.push(b);
  out.sort((a, b) => netOrder(state, a.value.network) - netOrder(state, b.value.network) || a.base - b.base);
  return out.map(blockView);
}

export function listAddresses(state: IpamState, filter: AddressFilter = {}): AddressRecord[] {
  const out: Array<{ rec: AddressRecord; ip: number }> = [];
  for (const a of state.addressByName.values()) if (matches(filter, a.value)) out.push({ rec: a.value, ip: a.ip });
  out.sort((a, b) => netOrder(state, a.rec.network) - netOrder(state, b.rec.network) || a.ip - b.ip);
  return out.map((x) => x.rec);
}

export interface HostView {
  name: string;
  ip: string;
  labels: Record<string, string>;
  agentPort: number | undefined;
  /** Where the host is placed, in network order. */
  groups: Array<{ network: string; group: string; groupName: string; cidr: string }>;
  blocks: number;
  addresses: number;
}

export function listHosts(state: IpamState): HostView[] {
  const names = [...state.hosts.keys()].sort();
  return names.map((name) => {
    const h = state.hosts.get(name)!;
    const blocks = state.blocksByHost.get(name) ?? new Set<BlockIndex>();
    let addresses = 0;
    for (const b of blocks) addresses += b.count;
    const groups = [...h.placements.entries()]
      .sort((a, b) => netOrder(state, a[0]) - netOrder(state, b[0]))
      .map(([network, leaf]) => ({ network, group: leaf.group.path, groupName: leaf.group.name, cidr: formatCidr(leaf.group.cidr) }));
    return { name, ip: h.value.ip, labels: { ...h.value.labels }, agentPort: h.value.agentPort, groups, blocks: blocks.size, addresses };
  });
}

export interface NetworkUse {
  network: string;
  cidr: string;
  size: number;
  reserved: number;
  blocks: number;
  /** Addresses inside blocks (blocks × block size): what routes cover. */
  blockAddresses: number;
  allocated: number;
  /** allocated / (size - reserved) */
  utilisation: number;
}

export interface GroupUse {
  network: string;
  group: string;
  name: string;
  cidr: string;
  hosts: number;
  slots: number;
  blocks: number;
  size: number;
  allocated: number;
}

export interface HostUse {
  host: string;
  blocks: number;
  blockAddresses: number;
  allocated: number;
}

export interface Utilisation {
  networks: NetworkUse[];
  groups: GroupUse[];
  hosts: HostUse[];
}

export function utilisation(state: IpamState): Utilisation {
  const networks: NetworkUse[] = [];
  const groups: GroupUse[] = [];
  for (const n of state.netList) {
    const size = prefixSize(n.net.cidr.prefix);
    let reserved = 0;
    for (let i = 0; i < n.merged.length; i += 2) reserved += n.merged[i + 1]! - n.merged[i]! + 1;
    let allocated = 0;
    let blockAddresses = 0;
    const perLeaf = new Map<string, { blocks: number; allocated: number }>();
    for (const b of n.blocks) {
      allocated += b.count;
      blockAddresses += b.size;
      if (!b.leaf) continue;
      const u = perLeaf.get(b.leaf.group.path) ?? { blocks: 0, allocated: 0 };
      u.blocks++;
      u.allocated += b.count;
      perLeaf.set(b.leaf.group.path, u);
    }
    const usable = size - reserved;
    networks.push({
      network: n.name,
      cidr: formatCidr(n.net.cidr),
      size,
      reserved,
      blocks: n.blocks.size,
      blockAddresses,
      allocated,
      utilisation: usable > 0 ? allocated / usable : 0,
    });
    for (const leaf of n.leafList) {
      const u = perLeaf.get(leaf.group.path);
      groups.push({
        network: n.name,
        group: leaf.group.path,
        name: leaf.group.name,
        cidr: formatCidr(leaf.group.cidr),
        hosts: leaf.hosts.size,
        slots: leaf.slotCount,
        blocks: u?.blocks ?? 0,
        size: prefixSize(leaf.group.cidr.prefix),
        allocated: u?.allocated ?? 0,
      });
    }
  }
  const hosts: HostUse[] = [...state.hosts.keys()].sort().map((host) => {
    let blocks = 0;
    let blockAddresses = 0;
    let allocated = 0;
    for (const b of state.blocksByHost.get(host) ?? []) {
      blocks++;
      blockAddresses += b.size;
      allocated += b.count;
    }
    return { host, blocks, blockAddresses, allocated };
  });
  return { networks, groups, hosts };
}
