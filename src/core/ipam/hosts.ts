/**
 * Host planners: register, remove, relabel.
 *
 * Goal: a host is placed, when registered, into every network that has an
 * eligible leaf (placement.ts), and stays in that leaf for its lifetime
 * (its blocks are routed by the leaf's prefix). Removing a host releases all
 * its blocks and addresses in the same commit, so no stale address names
 * survive it (the original kept them).
 *
 * Relabelling is allowed only while the host still fits its leaf and that
 * leaf's ancestors in every network it is placed in (the original checked the
 * leaf only); networks where it had no eligible leaf before and has one now
 * receive it, exactly as registration would have.
 *
 * Concurrency rule: pure planners; `expect` revisions guard the records read.
 * Two replicas registering different names with one IP at once are not
 * detected at commit (there is no key per IP); balance between leaves is
 * best-effort under concurrent registrations.
 */
import { RomanaError } from '../errors.js';
import { formatCidr, parseIPv4 } from '../ip.js';
import { MAX_NAME_LENGTH, NAME_RE } from '../topology/validate.js';
import { addressKey, hostKey, TOPOLOGY_KEY } from './keys.js';
import { chooseLeaf, closestMiss, describeLabels, groupLabel, leafFits, missingLabels, type Labels } from './placement.js';
import type { IpamState, LeafIndex } from './state.js';
import type { AddressRecord, Change, HostRecord } from './types.js';

export const DEFAULT_AGENT_PORT = 9604;

export interface AddHostRequest {
  name: string;
  ip: string;
  labels?: Record<string, string>;
  agentPort?: number;
}

export interface HostPlan {
  host: HostRecord;
  changes: Change[];
}

export interface RemoveHostPlan {
  removed: HostRecord;
  /** Addresses released with the host. */
  released: AddressRecord[];
  changes: Change[];
}

function invalid(field: string, value: unknown, why: string): RomanaError {
  return new RomanaError('INVALID_ARGUMENT', `Invalid ${field} ${JSON.stringify(value)}: ${why}`, { details: { field, value } });
}

export function checkHostName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH || !NAME_RE.test(name)) {
    throw invalid('host name', name, `must be 1-${MAX_NAME_LENGTH} letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
}

export function checkLabels(labels: unknown): asserts labels is Record<string, string> {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) throw invalid('labels', labels, 'must be an object');
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string') throw invalid(`label "${k}"`, v, 'must be a string');
  }
}

function noGroupError(state: IpamState, name: string, labels: Labels): RomanaError {
  const miss = closestMiss(state, labels);
  const detail = miss
    ? `closest group ${groupLabel(miss.leaf.group)} of network "${miss.net.name}" requires ${miss.missing.join(', ')}`
    : 'the topology has no group that can receive hosts';
  return new RomanaError('NO_SUITABLE_GROUP', `No prefix group accepts host "${name}" with ${describeLabels(labels)}: ${detail}`, {
    resourceType: 'host',
    resourceId: name,
    details: miss ? { network: miss.net.name, group: miss.leaf.group.path, missing: miss.missing } : {},
  });
}

/** Placement of a new host: network -> leaf, for every network with an eligible leaf. */
export function placeHost(state: IpamState, labels: Labels): Map<string, LeafIndex> {
  const out = new Map<string, LeafIndex>();
  for (const net of state.netList) {
    const leaf = chooseLeaf(net, labels);
    if (leaf) out.set(net.name, leaf);
  }
  return out;
}

export function planAddHost(state: IpamState, req: AddHostRequest): HostPlan {
  checkHostName(req.name);
  const ip = typeof req.ip === 'string' ? parseIPv4(req.ip) : null;
  if (ip === null) throw invalid('host IP', req.ip, 'must be a dotted-quad IPv4 address');
  const labels = req.labels ?? {};
  checkLabels(labels);
  const agentPort = req.agentPort ?? DEFAULT_AGENT_PORT;
  if (!Number.isInteger(agentPort) || agentPort < 1 || agentPort > 65535) throw invalid('agent port', req.agentPort, 'must be 1-65535');
  const same = state.hosts.get(req.name);
  if (same) {
    throw new RomanaError('HOST_EXISTS', `Host "${req.name}" already exists: registered with IP ${same.value.ip}`, {
      resourceType: 'host',
      resourceId: req.name,
    });
  }
  const other = state.hostsByIp.get(ip);
  if (other !== undefined) {
    throw new RomanaError('HOST_EXISTS', `Host IP ${req.ip} already exists: registered to host "${other}"`, {
      resourceType: 'host',
      resourceId: req.name,
      details: { ip: req.ip, host: other },
    });
  }
  const placements = placeHost(state, labels);
  if (placements.size === 0) throw noGroupError(state, req.name, labels);
  const groups: Record<string, string> = {};
  for (const [net, leaf] of placements) groups[net] = leaf.group.path;
  const host: HostRecord = { schema: 1, name: req.name, ip: req.ip, labels: { ...labels }, groups, agentPort };
  return { host, changes: [...topologyCheck(state), { op: 'put', key: hostKey(req.name), value: host, expect: 0 }] };
}

/** Placement depends on the topology the planner saw: compare it at commit. */
function topologyCheck(state: IpamState): Change[] {
  return state.topologyRecord ? [{ op: 'check', key: TOPOLOGY_KEY, expect: state.topologyRecord.revision }] : [];
}

function hostNotFound(name: string): RomanaError {
  return new RomanaError('HOST_NOT_FOUND', `Host "${name}" is not registered`, { resourceType: 'host', resourceId: name });
}

export function planRemoveHost(state: IpamState, name: string): RemoveHostPlan {
  const h = state.hosts.get(name);
  if (!h) throw hostNotFound(name);
  const changes: Change[] = [];
  const released: AddressRecord[] = [];
  for (const b of state.blocksByHost.get(name) ?? []) {
    for (const off in b.value.names) {
      const a = state.address(b.value.names[off]!);
      if (a && a.ip === b.base + Number(off)) {
        released.push(a.value);
        changes.push({ op: 'delete', key: addressKey(a.value.name), expect: a.revision });
      }
    }
    changes.push({ op: 'delete', key: b.key, expect: b.revision });
  }
  changes.push({ op: 'delete', key: hostKey(name), expect: h.revision });
  return { removed: h.value, released, changes };
}

export function planUpdateHostLabels(state: IpamState, name: string, labels: Record<string, string>): HostPlan {
  const h = state.hosts.get(name);
  if (!h) throw hostNotFound(name);
  checkLabels(labels);
  for (const [net, leaf] of h.placements) {
    if (leafFits(leaf, labels)) continue;
    const missing = leaf.chain.flatMap((g) => missingLabels(labels, g.assignment));
    throw new RomanaError(
      'NO_SUITABLE_GROUP',
      `New labels of host "${name}" do not fit its group ${groupLabel(leaf.group)} of network "${net}": it requires ${missing.join(', ')}`,
      { resourceType: 'host', resourceId: name, details: { network: net, group: leaf.group.path, cidr: formatCidr(leaf.group.cidr), missing } },
    );
  }
  const groups: Record<string, string> = { ...h.value.groups };
  for (const net of state.netList) {
    if (h.placements.has(net.name)) continue;
    const leaf = chooseLeaf(net, labels);
    if (leaf) groups[net.name] = leaf.group.path;
  }
  // Unchanged labels and groups write nothing: the listener re-sends every node's labels on each sync.
  if (sameRecord(labels, h.value.labels) && sameRecord(groups, h.value.groups)) return { host: h.value, changes: [] };
  const host: HostRecord = { ...h.value, labels: { ...labels }, groups };
  return { host, changes: [...topologyCheck(state), { op: 'put', key: hostKey(name), value: host, expect: h.revision }] };
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && b[k] === a[k]);
}
