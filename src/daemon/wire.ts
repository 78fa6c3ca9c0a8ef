/**
 * The daemon's wire format for IPAM objects: snake_case JSON as the original
 * served it (reference §2), extended with what the CLI and agents need.
 * The shapes are declared in src/shared/api_types.ts, which clients share.
 *
 * Pure mapping functions; the IPAM's own records stay internal.
 */
import type { AddressRecord, BlockView, HostRecord, HostView, Utilisation } from '../core/ipam/index.js';
import { DEFAULT_AGENT_PORT } from '../core/ipam/index.js';
import type { CarvedNetwork } from '../core/topology/index.js';
import { formatCidr } from '../core/ip.js';
import type { AddressJson, BlockJson, HostJson, NetworkJson, UtilisationJson } from '../shared/api_types.js';

export type { AddressJson, BlockJson, HostJson, NetworkJson, UtilisationJson };

export function hostJson(v: HostView): HostJson {
  return {
    name: v.name,
    ip: v.ip,
    agent_port: v.agentPort ?? DEFAULT_AGENT_PORT,
    tags: v.labels,
    groups: v.groups.map((g) => ({ network: g.network, group: g.group, group_name: g.groupName, cidr: g.cidr })),
    blocks: v.blocks,
    addresses: v.addresses,
  };
}

/** A host record that may not be in the views yet (just written). */
export function hostRecordJson(r: HostRecord): HostJson {
  return {
    name: r.name,
    ip: r.ip,
    agent_port: r.agentPort ?? DEFAULT_AGENT_PORT,
    tags: { ...r.labels },
    groups: Object.entries(r.groups).map(([network, group]) => ({ network, group, group_name: '', cidr: '' })),
    blocks: 0,
    addresses: 0,
  };
}

export function blockJson(b: BlockView): BlockJson {
  return {
    revision: b.revision,
    cidr: b.cidr,
    network: b.network,
    group: b.group,
    group_name: b.groupName,
    host: b.host,
    tenant: b.tenant,
    segment: b.segment,
    allocated_ip_count: b.used,
    reserved: b.reserved,
    size: b.size,
  };
}

export function addressJson(a: AddressRecord): AddressJson {
  return { name: a.name, ip: a.ip, network: a.network, block: a.block, host: a.host, tenant: a.tenant, segment: a.segment };
}

export function networkJson(n: CarvedNetwork, revision: number, blocks: number, allocated: number): NetworkJson {
  return {
    id: n.name,
    name: n.name,
    cidr: formatCidr(n.cidr),
    block_mask: n.blockMask,
    tenants: n.tenants === null ? null : [...n.tenants],
    revision,
    blocks,
    allocated,
  };
}

export function utilisationJson(u: Utilisation): UtilisationJson {
  return {
    networks: u.networks.map((n) => ({
      network: n.network,
      cidr: n.cidr,
      size: n.size,
      reserved: n.reserved,
      blocks: n.blocks,
      block_addresses: n.blockAddresses,
      allocated: n.allocated,
      utilisation: n.utilisation,
    })),
    groups: u.groups.map((g) => ({ ...g })),
    hosts: u.hosts.map((h) => ({ host: h.host, blocks: h.blocks, block_addresses: h.blockAddresses, allocated: h.allocated })),
  };
}
