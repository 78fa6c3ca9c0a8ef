/**
 * Carved topology → text for people and for GET /topology.
 *
 * `topologyToOutput` writes the documented input shape with every group's
 * `cidr` filled in, padding parts as `{"padding": true, "cidr": ...}` entries
 * and predefined (plus, optionally, registered) hosts as `hosts`. Because the
 * same map gets different CIDRs in each network, the output has one topology
 * per network. The output loads back (comments aside) to the same carving:
 * `cidr` is ignored on input and padding entries stay reserved slots.
 *
 * `describeCarved` is a compact one-line-per-group listing for the CLI and
 * for debugging; golden files pin its format.
 *
 * Pure.
 */
import { formatCidr } from '../ip.js';
import type { CarvedGroup, CarvedNetwork, CarvedTopology, GroupInput, HostInput, NetworkInput, TopologyInput } from './types.js';

export interface OutputOptions {
  /** Hosts placed in a leaf at runtime, listed after the leaf's predefined hosts (duplicates by name dropped). */
  hostsForLeaf?: (network: CarvedNetwork, leaf: CarvedGroup) => readonly HostInput[];
}

/** A root the carver made to hold a map of several entries (a one-entry map's root is that entry itself). */
function isSyntheticRoot(g: CarvedGroup): boolean {
  // A single child would move up to "/" on reload (a one-entry map is the root), changing paths: keep such roots.
  return g.children.length >= 2 && !g.leaf && !g.padding && g.name === '' && g.routing === '' && Object.keys(g.assignment).length === 0 && g.predefinedHosts.length === 0;
}

export function topologyToOutput(carved: CarvedTopology, opts: OutputOptions = {}): TopologyInput {
  const networks: NetworkInput[] = carved.networks.map((n) => {
    const out: NetworkInput = { name: n.name, cidr: formatCidr(n.cidr), block_mask: n.blockMask };
    if (n.tenants !== null) out.tenants = [...n.tenants];
    return out;
  });
  const topologies = carved.networks.map((n) => {
    // A synthetic root (or an unnamed, unlabelled one-entry root: it carves the same) is written as its children.
    const map = isSyntheticRoot(n.root) ? n.root.children.map((c) => groupToOutput(n, c, opts)) : [groupToOutput(n, n.root, opts)];
    return { networks: [n.name], map };
  });
  return { networks, topologies };
}

function groupToOutput(net: CarvedNetwork, g: CarvedGroup, opts: OutputOptions): GroupInput {
  const out: GroupInput = {};
  if (g.name !== '') out.name = g.name;
  out.cidr = formatCidr(g.cidr);
  if (g.padding) {
    out.padding = true;
    return out;
  }
  if (Object.keys(g.assignment).length > 0) out.assignment = { ...g.assignment };
  if (g.routing !== '') out.routing = g.routing;
  if (!g.leaf) {
    out.groups = g.children.map((c) => groupToOutput(net, c, opts));
    return out;
  }
  const hosts: HostInput[] = g.predefinedHosts.map((h) => ({ name: h.name, ip: h.ip }));
  for (const h of opts.hostsForLeaf?.(net, g) ?? []) {
    if (!hosts.some((x) => x.name === h.name)) hosts.push({ name: h.name, ip: h.ip });
  }
  if (hosts.length > 0) out.hosts = hosts;
  else out.groups = [];
  return out;
}

/**
 * One line per network, then one per group:
 *   network "romana-network" 10.112.0.0/12 block /29 tenants * (topology 0)
 *     /0 "host-group-01" 10.112.0.0/15 {rack=r1} routing "x" hosts h1=192.168.0.1
 *     /6 "" 100.120.0.0/14 padding
 */
export function describeCarved(carved: CarvedTopology): string {
  const lines: string[] = [];
  for (const n of carved.networks) {
    const tenants = n.tenants === null ? '*' : n.tenants.join(',');
    lines.push(`network ${JSON.stringify(n.name)} ${formatCidr(n.cidr)} block /${n.blockMask} tenants ${tenants} (topology ${n.topologyIndex})`);
    describeGroup(n.root, 1, lines);
  }
  return lines.join('\n') + '\n';
}

function describeGroup(g: CarvedGroup, depth: number, lines: string[]): void {
  let line = `${'  '.repeat(depth)}${g.path} ${JSON.stringify(g.name)} ${formatCidr(g.cidr)}`;
  const labels = Object.entries(g.assignment);
  if (labels.length > 0) line += ` {${labels.map(([k, v]) => `${k}=${v}`).join(', ')}}`;
  if (g.routing !== '') line += ` routing ${JSON.stringify(g.routing)}`;
  if (g.padding) line += ' padding';
  if (g.predefinedHosts.length > 0) line += ` hosts ${g.predefinedHosts.map((h) => `${h.name}=${h.ip}`).join(' ')}`;
  lines.push(line);
  for (const c of g.children) describeGroup(c, depth + 1, lines);
}
