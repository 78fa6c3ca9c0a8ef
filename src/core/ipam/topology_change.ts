/**
 * Runtime topology changes that keep every existing allocation (the original
 * cleared the IPAM and re-allocated by host name, which failed for every
 * dynamically added host and left the daemon half-replaced; reference §1.8,
 * §12 item 7).
 *
 * Rules:
 * - Accepted: new networks, groups, predefined hosts; changed CIDRs, block
 *   masks, group structure and tenant lists as long as no block is affected.
 * - Refused with TOPOLOGY_CHANGE_ORPHANS, listing every affected block and
 *   its addresses, when a block would lose its home: its network removed,
 *   its size (block_mask) changed, its CIDR no longer inside the network or
 *   inside its leaf group (same path, non-padding leaf), its tenant no longer
 *   served by the network (strict tenant rule, state.networksForTenant), or
 *   its host written as predefined in another group of that network.
 * - Hosts never move while they hold blocks: an existing host keeps its
 *   group path in every network that still has that path as a usable leaf.
 *   A host whose group disappeared (and which, by the rule above, has no
 *   blocks there) is placed afresh, like a new host. Every host is placed
 *   into networks it was not in when it has an eligible leaf there.
 * - Predefined hosts of the new topology are created where written (labels
 *   empty); an existing host written as predefined must have the same IP.
 * - Reservations of removed networks, or no longer inside their network,
 *   are deleted.
 * Placement order is deterministic: kept and predefined placements first,
 * then the remaining hosts by name, each taking the emptiest eligible leaf.
 *
 * The returned diff says what would change; a dry run is "plan, show the
 * diff, do not commit". Applying the same topology again yields no changes.
 *
 * Concurrency rule: pure. The change compares the topology record and every
 * host record it rewrites; planners that create a block or place a host
 * compare the topology record, so anything planned against the old topology
 * fails once the change has committed. One window stays open across
 * replicas: a new block committed by another replica *between* this plan
 * and its commit is not compared (its key cannot be predicted), so it may
 * end up orphaned. Such a block is indexed as a stray (state.strayBlocks),
 * never allocated from, and visible in the views; the daemon should check
 * for strays after a topology commit. A replica that serialises its own
 * plans and commits has no such window against itself.
 */
import { RomanaError } from '../errors.js';
import { cidrContains, cidrEquals, formatCidr, formatIPv4, parseIPv4 } from '../ip.js';
import type { CarvedTopology, TopologyInput } from '../topology/types.js';
import { hostKey, TOPOLOGY_KEY } from './keys.js';
import { chooseLeaf, leafFits } from './placement.js';
import { NetIndex, rememberCarving, type BlockIndex, type IpamState, type LeafIndex } from './state.js';
import type { Change, HostRecord, TopologyRecord } from './types.js';

export interface OrphanedBlock {
  network: string;
  block: string;
  host: string;
  tenant: string;
  segment: string;
  reason: string;
  addresses: Array<{ name: string; ip: string }>;
}

export interface TopologyDiff {
  networksAdded: string[];
  networksRemoved: string[];
  /** Networks whose definition changed, with what changed. */
  networksChanged: Array<{ network: string; changes: string[] }>;
  /** Predefined hosts that will be created. */
  hostsCreated: Array<{ host: string; ip: string; groups: Record<string, string> }>;
  /** Existing hosts placed into a network they were not in. */
  hostsPlaced: Array<{ host: string; network: string; group: string; cidr: string }>;
  /** Hosts without blocks there whose group changed (group gone, or predefined elsewhere). */
  hostsMoved: Array<{ host: string; network: string; from: string; to: string; cidr: string }>;
  /** Placements dropped: network removed, or the group gone and no other eligible. */
  hostsUnplaced: Array<{ host: string; network: string; group: string; reason: string }>;
  /** Reservation keys deleted. */
  reservationsRemoved: string[];
  /** Things that are accepted but worth a look (e.g. a host kept in a group whose assignment it no longer fits). */
  warnings: string[];
}

export interface TopologyChangePlan {
  changes: Change[];
  diff: TopologyDiff;
}

function emptyDiff(): TopologyDiff {
  return {
    networksAdded: [],
    networksRemoved: [],
    networksChanged: [],
    hostsCreated: [],
    hostsPlaced: [],
    hostsMoved: [],
    hostsUnplaced: [],
    reservationsRemoved: [],
    warnings: [],
  };
}

/** Networks serving `tenant` under the strict rule, for a list of networks. */
function servesTenant(nets: readonly NetIndex[], net: NetIndex, tenant: string): boolean {
  const named = nets.filter((n) => n.net.tenants?.includes(tenant));
  return named.length > 0 ? named.includes(net) : net.net.tenants === null;
}

function sameStrings(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function leafShape(n: NetIndex): string {
  return n.leafList.map((l) => `${l.group.path}=${formatCidr(l.group.cidr)}`).join(' ');
}

export function planTopologyChange(state: IpamState, newInput: TopologyInput, carved: CarvedTopology): TopologyChangePlan {
  const diff = emptyDiff();
  const cur = state.topologyRecord;
  if (cur && JSON.stringify(cur.value.input) === JSON.stringify(newInput)) return { changes: [], diff };

  const newNets = carved.networks.map((n, i) => new NetIndex(n, i));
  const byName = new Map(newNets.map((n) => [n.name, n] as const));

  // ---- networks ----
  for (const n of newNets) {
    const old = state.networks.get(n.name);
    if (!old) {
      diff.networksAdded.push(n.name);
      continue;
    }
    const what: string[] = [];
    if (!cidrEquals(old.net.cidr, n.net.cidr)) what.push(`cidr ${formatCidr(old.net.cidr)} -> ${formatCidr(n.net.cidr)}`);
    if (old.blockMask !== n.blockMask) what.push(`block_mask ${old.blockMask} -> ${n.blockMask}`);
    if (!sameStrings(old.net.tenants, n.net.tenants)) what.push(`tenants ${JSON.stringify(old.net.tenants)} -> ${JSON.stringify(n.net.tenants)}`);
    if (old.order !== n.order) what.push(`position ${old.order} -> ${n.order}`);
    if (leafShape(old) !== leafShape(n)) what.push('groups');
    if (what.length > 0) diff.networksChanged.push({ network: n.name, changes: what });
  }
  for (const n of state.netList) if (!byName.has(n.name)) diff.networksRemoved.push(n.name);

  // ---- predefined hosts of the new topology: name -> {ip, network -> path} ----
  const predefined = new Map<string, { ip: string; groups: Map<string, string> }>();
  for (const n of newNets) {
    for (const leaf of n.leafList) {
      for (const ph of leaf.group.predefinedHosts) {
        let p = predefined.get(ph.name);
        if (!p) predefined.set(ph.name, (p = { ip: ph.ip, groups: new Map() }));
        p.groups.set(n.name, leaf.group.path);
      }
    }
  }
  for (const [name, p] of predefined) {
    const h = state.hosts.get(name);
    if (h && h.value.ip !== p.ip) {
      throw new RomanaError('HOST_EXISTS', `Predefined host "${name}" has IP ${p.ip} but host "${name}" exists with IP ${h.value.ip}`, {
        resourceType: 'host',
        resourceId: name,
      });
    }
    const ipNum = parseIPv4(p.ip);
    const other = ipNum === null ? undefined : state.hostsByIp.get(ipNum);
    if (other !== undefined && other !== name) {
      throw new RomanaError('HOST_EXISTS', `Predefined host "${name}" has IP ${p.ip}, which is registered to host "${other}"`, {
        resourceType: 'host',
        resourceId: name,
      });
    }
  }

  // ---- orphans ----
  const orphans: OrphanedBlock[] = [];
  for (const b of state.blocks.values()) {
    const reason = orphanReason(b, byName, newNets, predefined);
    if (reason) orphans.push(describeOrphan(b, reason));
  }
  if (orphans.length > 0) {
    orphans.sort((x, y) => (x.network === y.network ? ipOrder(x.block, y.block) : x.network < y.network ? -1 : 1));
    const addrCount = orphans.reduce((s, o) => s + o.addresses.length, 0);
    const shown = orphans
      .slice(0, 3)
      .map((o) => `block ${o.block} of network "${o.network}" on host "${o.host}" (${o.reason})`)
      .join('; ');
    throw new RomanaError(
      'TOPOLOGY_CHANGE_ORPHANS',
      `The topology change would orphan ${orphans.length} block(s) with ${addrCount} address(es): ${shown}${orphans.length > 3 ? `; and ${orphans.length - 3} more` : ''}`,
      { details: { orphans } },
    );
  }

  // ---- placements ----
  // Pass 1: kept and predefined placements, which fix leaf host counts.
  const hostNames = [...new Set([...state.hosts.keys(), ...predefined.keys()])].sort();
  const placement = new Map<string, Map<string, LeafIndex>>(); // host -> network -> leaf
  const pending: Array<{ host: string; net: NetIndex; from: string | undefined }> = [];
  for (const name of hostNames) {
    const h = state.hosts.get(name);
    const pre = predefined.get(name);
    const place = new Map<string, LeafIndex>();
    placement.set(name, place);
    const oldGroups = h?.value.groups ?? {};
    for (const n of newNets) {
      const prePath = pre?.groups.get(n.name);
      const oldPath = Object.hasOwn(oldGroups, n.name) ? oldGroups[n.name] : undefined;
      const kept = oldPath !== undefined ? n.leaves.get(oldPath) : undefined;
      let leaf: LeafIndex | undefined;
      if (prePath !== undefined) leaf = n.leaves.get(prePath);
      else if (kept) leaf = kept;
      if (leaf) {
        place.set(n.name, leaf);
        leaf.hosts.add(name);
        if (h && oldPath !== undefined && oldPath !== leaf.group.path) {
          diff.hostsMoved.push({ host: name, network: n.name, from: oldPath, to: leaf.group.path, cidr: formatCidr(leaf.group.cidr) });
        }
        if (h && kept === leaf && !leafFits(leaf, h.value.labels)) {
          diff.warnings.push(`Host "${name}" stays in group "${leaf.group.path}" of network "${n.name}" although its labels no longer fit the group's assignment`);
        }
      } else if (h) {
        pending.push({ host: name, net: n, from: oldPath });
      }
    }
    for (const [net, path] of Object.entries(oldGroups)) {
      if (!byName.has(net)) diff.hostsUnplaced.push({ host: name, network: net, group: path, reason: 'network removed' });
    }
  }
  // Pass 2: the rest, by host name, emptiest eligible leaf.
  for (const p of pending) {
    const h = state.hosts.get(p.host)!;
    const leaf = chooseLeaf(p.net, h.value.labels);
    if (leaf) {
      placement.get(p.host)!.set(p.net.name, leaf);
      leaf.hosts.add(p.host);
      if (p.from === undefined) {
        diff.hostsPlaced.push({ host: p.host, network: p.net.name, group: leaf.group.path, cidr: formatCidr(leaf.group.cidr) });
      } else {
        diff.hostsMoved.push({ host: p.host, network: p.net.name, from: p.from, to: leaf.group.path, cidr: formatCidr(leaf.group.cidr) });
      }
    } else if (p.from !== undefined) {
      diff.hostsUnplaced.push({ host: p.host, network: p.net.name, group: p.from, reason: 'group gone and no other group accepts the host' });
    }
  }

  // ---- changes ----
  const record: TopologyRecord = { schema: 1, input: newInput };
  rememberCarving(newInput, carved);
  const changes: Change[] = [{ op: 'put', key: TOPOLOGY_KEY, value: record, expect: cur?.revision ?? 0 }];
  for (const name of hostNames) {
    const groups: Record<string, string> = {};
    for (const [net, leaf] of placement.get(name)!) groups[net] = leaf.group.path;
    const h = state.hosts.get(name);
    if (!h) {
      const p = predefined.get(name)!;
      const host: HostRecord = { schema: 1, name, ip: p.ip, labels: {}, groups, agentPort: 9604 };
      diff.hostsCreated.push({ host: name, ip: p.ip, groups });
      changes.push({ op: 'put', key: hostKey(name), value: host, expect: 0 });
      continue;
    }
    if (JSON.stringify(groups) === JSON.stringify(h.value.groups)) continue;
    changes.push({ op: 'put', key: hostKey(name), value: { ...h.value, groups }, expect: h.revision });
    if (Object.keys(groups).length === 0) diff.warnings.push(`Host "${name}" is in no network after the change: it cannot receive addresses`);
  }
  for (const r of state.reservations.values()) {
    const n = byName.get(r.value.network);
    if (n && cidrContains(n.net.cidr, r.cidr) && !cidrEquals(n.net.cidr, r.cidr)) continue;
    diff.reservationsRemoved.push(r.key);
    changes.push({ op: 'delete', key: r.key, expect: r.revision });
  }
  return { changes, diff };
}

function orphanReason(
  b: BlockIndex,
  byName: ReadonlyMap<string, NetIndex>,
  newNets: readonly NetIndex[],
  predefined: ReadonlyMap<string, { ip: string; groups: Map<string, string> }>,
): string | null {
  const v = b.value;
  const n = byName.get(v.network);
  if (!n) return `network "${v.network}" removed`;
  if (n.blockMask !== b.prefix) return `block_mask ${b.prefix} -> ${n.blockMask}`;
  const cidr = { base: b.base, prefix: b.prefix };
  if (!cidrContains(n.net.cidr, cidr)) return `outside the network's new CIDR ${formatCidr(n.net.cidr)}`;
  const leaf = n.leaves.get(v.group);
  if (!leaf) return `group "${v.group}" is no longer a usable leaf`;
  if (!cidrContains(leaf.group.cidr, cidr)) return `outside group "${v.group}"'s new CIDR ${formatCidr(leaf.group.cidr)}`;
  if (!servesTenant(newNets, n, v.tenant)) return `network no longer serves tenant "${v.tenant}"`;
  const pre = predefined.get(v.host)?.groups.get(v.network);
  if (pre !== undefined && pre !== v.group) return `host "${v.host}" is predefined in group "${pre}"`;
  return null;
}

function describeOrphan(b: BlockIndex, reason: string): OrphanedBlock {
  const v = b.value;
  const addresses = Object.entries(v.names)
    .map(([off, name]) => ({ name, ip: formatIPv4(b.base + Number(off)), n: Number(off) }))
    .sort((x, y) => x.n - y.n)
    .map(({ name, ip }) => ({ name, ip }));
  return { network: v.network, block: v.cidr, host: v.host, tenant: v.tenant, segment: v.segment, reason, addresses };
}

function ipOrder(a: string, b: string): number {
  const x = parseIPv4(a.split('/')[0]!) ?? 0;
  const y = parseIPv4(b.split('/')[0]!) ?? 0;
  return x - y;
}
