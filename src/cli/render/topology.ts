/**
 * `topology show`: networks → prefix groups → hosts, with CIDRs and
 * utilisation; and the text of a `topology update` diff.
 *
 * Design: the tree's structure comes from carving GET /topology's output
 * here, with the same code the daemon uses (src/core/topology): that output
 * is documented to carve back to the daemon's carving, so group paths ("/",
 * "/0", "/1/3") match the paths in GET /ipam/utilisation, GET /hosts and
 * GET /blocks, which supply the numbers. Hosts are dropped from the input
 * before carving: they do not influence carving, and a host listed in
 * several networks' maps would otherwise read as a duplicate.
 *
 * Pure: `buildTopologyTree` makes the JSON shape `topology show -f json`
 * prints, `topologyTreeText` draws it.
 */
import { formatCidr, prefixSize } from '../../core/ip.js';
import type { TopologyDiff } from '../../core/ipam/index.js';
import { carveTopology, type CarvedGroup, type GroupInput, type TopologyInput } from '../../core/topology/index.js';
import type { BlockJson, HostJson, TopologyUpdateJson, UtilisationJson } from '../../shared/api_types.js';
import { labelsText, percent, plural, q } from './common.js';
import { tenantsText } from './ipam.js';

export interface TreeHost {
  name: string;
  ip: string;
  /** Blocks and addresses this host holds in this network. */
  blocks: number;
  allocated: number;
}

export interface TreeGroup {
  /** Stable id inside the network ("/", "/0", "/1/3"). */
  path: string;
  /** "" when the topology gives none. */
  name: string;
  cidr: string;
  /** A reserved part created to round the group count to a power of two; never receives hosts. */
  padding: boolean;
  /** Labels a host must carry to be placed here. */
  assignment: Record<string, string>;
  /** Addresses in the CIDR. */
  size: number;
  /** Hosts placed in this group and the groups below. */
  host_count: number;
  blocks: number;
  allocated: number;
  /** Hosts of a leaf group (empty for the others). */
  hosts: TreeHost[];
  groups: TreeGroup[];
}

export interface TreeNetwork {
  name: string;
  cidr: string;
  block_mask: number;
  /** null: serves every tenant. */
  tenants: string[] | null;
  size: number;
  reserved: number;
  blocks: number;
  allocated: number;
  /** Top-level groups (the entries of the network's map). */
  groups: TreeGroup[];
}

export interface TopologyTree {
  networks: TreeNetwork[];
}

function withoutHosts(g: GroupInput): GroupInput {
  const out: GroupInput = { ...g };
  delete out.hosts;
  if (g.groups !== undefined) {
    // The original's variant writes hosts as `groups` entries with `ip`.
    out.groups = g.groups.filter((x) => !('ip' in x)).map((x) => withoutHosts(x as GroupInput));
  } else if (!g.padding) out.groups = [];
  return out;
}

export function buildTopologyTree(topology: TopologyInput, util: UtilisationJson, hosts: readonly HostJson[], blocks: readonly BlockJson[]): TopologyTree {
  const bare: TopologyInput = {
    networks: topology.networks,
    topologies: topology.topologies.map((t) => ({ ...t, map: t.map.map((g) => ('ip' in g ? g : withoutHosts(g))) })),
  };
  const carved = carveTopology(bare);
  const leafUse = new Map<string, { hosts: number; blocks: number; allocated: number }>();
  for (const g of util.groups) leafUse.set(`${g.network}\u0000${g.group}`, g);
  const hostsByLeaf = new Map<string, TreeHost[]>();
  const hostUse = new Map<string, { blocks: number; allocated: number }>();
  for (const b of blocks) {
    const k = `${b.network}\u0000${b.host}`;
    const u = hostUse.get(k) ?? { blocks: 0, allocated: 0 };
    u.blocks++;
    u.allocated += b.allocated_ip_count;
    hostUse.set(k, u);
  }
  for (const h of hosts) {
    for (const g of h.groups) {
      const k = `${g.network}\u0000${g.group}`;
      const u = hostUse.get(`${g.network}\u0000${h.name}`) ?? { blocks: 0, allocated: 0 };
      const list = hostsByLeaf.get(k) ?? [];
      list.push({ name: h.name, ip: h.ip, blocks: u.blocks, allocated: u.allocated });
      hostsByLeaf.set(k, list);
    }
  }

  const networks = carved.networks.map((n): TreeNetwork => {
    const build = (g: CarvedGroup): TreeGroup => {
      const children = g.children.map(build);
      const key = `${n.name}\u0000${g.path}`;
      const leafHosts = g.leaf && !g.padding ? (hostsByLeaf.get(key) ?? []) : [];
      const use = leafUse.get(key);
      const sum = (f: (c: TreeGroup) => number): number => children.reduce((s, c) => s + f(c), 0);
      return {
        path: g.path,
        name: g.name,
        cidr: formatCidr(g.cidr),
        padding: g.padding,
        assignment: { ...g.assignment },
        size: prefixSize(g.cidr.prefix),
        host_count: g.leaf ? (use?.hosts ?? leafHosts.length) : sum((c) => c.host_count),
        blocks: g.leaf ? (use?.blocks ?? 0) : sum((c) => c.blocks),
        allocated: g.leaf ? (use?.allocated ?? 0) : sum((c) => c.allocated),
        hosts: leafHosts,
        groups: children,
      };
    };
    const root = build(n.root);
    // A root without a name holding several entries is the carver's container for the map, not an operator's group.
    const top = root.name === '' && !n.root.leaf && Object.keys(root.assignment).length === 0 ? root.groups : [root];
    const nu = util.networks.find((x) => x.network === n.name);
    return {
      name: n.name,
      cidr: formatCidr(n.cidr),
      block_mask: n.blockMask,
      tenants: n.tenants === null ? null : [...n.tenants],
      size: nu?.size ?? prefixSize(n.cidr.prefix),
      reserved: nu?.reserved ?? 0,
      blocks: nu?.blocks ?? root.blocks,
      allocated: nu?.allocated ?? root.allocated,
      groups: top,
    };
  });
  return { networks };
}

/** "1 host, 2 blocks, 9/131072 used (<0.1%)". */
function groupStats(g: TreeGroup): string {
  if (g.padding) return 'padding (reserved, receives no hosts)';
  return `${plural(g.host_count, 'host')}, ${plural(g.blocks, 'block')}, ${g.allocated}/${g.size} used (${percent(g.allocated, g.size)})`;
}

export function topologyTreeText(tree: TopologyTree, width: number): string {
  if (tree.networks.length === 0) return 'No topology is installed.\n';
  const lines: string[] = [];
  /** Writes "head  stats", moving stats to a continuation line when the line would pass `width`. */
  const emit = (prefix: string, cont: string, head: string, stats: string): void => {
    const one = `${prefix}${head}  ${stats}`;
    if (one.length <= width || stats === '') lines.push(one.trimEnd());
    else {
      lines.push(`${prefix}${head}`);
      lines.push(`${cont}  ${stats}`);
    }
  };
  tree.networks.forEach((n, i) => {
    if (i > 0) lines.push('');
    emit(
      '',
      '',
      `network ${n.name}  ${n.cidr}`,
      `block /${n.block_mask}, tenants ${tenantsText(n.tenants)}, ${plural(n.blocks, 'block')}, ${n.allocated}/${n.size - n.reserved} used (${percent(n.allocated, n.size - n.reserved)})`,
    );
    const walk = (groups: readonly TreeGroup[], hosts: readonly TreeHost[], indent: string): void => {
      const items = [...groups.map((g) => ({ g })), ...hosts.map((h) => ({ h }))];
      items.forEach((it, k) => {
        const last = k === items.length - 1;
        const prefix = indent + (last ? '└── ' : '├── ');
        const next = indent + (last ? '    ' : '│   ');
        if ('g' in it) {
          const g = it.g;
          const label = g.name !== '' ? g.name : g.padding ? '(padding)' : `(group ${g.path})`;
          const labels = Object.keys(g.assignment).length > 0 ? ` {${labelsText(g.assignment)}}` : '';
          emit(prefix, next, `${label}  ${g.cidr}${labels}`, groupStats(g));
          walk(g.groups, g.hosts, next);
        } else {
          const h = it.h;
          emit(prefix, next, `${h.name}  ${h.ip}`, `${plural(h.blocks, 'block')}, ${h.allocated} used`);
        }
      });
    };
    walk(n.groups, [], '');
  });
  return lines.join('\n') + '\n';
}

/** One line per change, prefixed + (added), - (removed), ~ (changed), > (placed), ! (warning). */
export function topologyDiffLines(d: TopologyDiff): string[] {
  const lines: string[] = [];
  for (const n of d.networksAdded) lines.push(`+ network ${q(n)}`);
  for (const n of d.networksRemoved) lines.push(`- network ${q(n)}`);
  for (const c of d.networksChanged) lines.push(`~ network ${q(c.network)}: ${c.changes.join('; ')}`);
  for (const h of d.hostsCreated) {
    const where = Object.entries(h.groups).map(([net, g]) => `${net} ${g}`).join(', ');
    lines.push(`+ host ${q(h.host)} (${h.ip})${where ? ` in ${where}` : ''}`);
  }
  for (const h of d.hostsPlaced) lines.push(`> host ${q(h.host)} placed in ${h.network} group ${h.group} (${h.cidr})`);
  for (const h of d.hostsMoved) lines.push(`~ host ${q(h.host)} moves in ${h.network} from group ${h.from} to ${h.to} (${h.cidr})`);
  for (const h of d.hostsUnplaced) lines.push(`- host ${q(h.host)} leaves ${h.network} group ${h.group}: ${h.reason}`);
  for (const r of d.reservationsRemoved) lines.push(`- reservation ${r}`);
  for (const w of d.warnings) lines.push(`! ${w}`);
  return lines;
}

export function topologyUpdateText(r: TopologyUpdateJson): string {
  const lines = topologyDiffLines(r.diff);
  if (!r.changed) return 'No change: the topology given equals the installed one.\n';
  const head = r.dry_run
    ? 'Dry run: nothing was changed. The update would be accepted' + (lines.length > 0 ? ' with these effects:' : '; it affects no network, host or reservation.')
    : `Topology updated (revision ${r.revision})` + (lines.length > 0 ? ':' : '; no network, host or reservation was affected.');
  return [head, ...lines.map((l) => `  ${l}`)].join('\n') + '\n';
}
