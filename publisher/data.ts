/**
 * The template's data for one node (reference §6), computed from the IPAM
 * state the publisher follows. The struct itself is the dot:
 *
 *   .Networks      the prefixes to announce (list of IPNet, printing "a.b.c.d/n"):
 *                  --aggregate none (default, as the original): one per block the node owns;
 *                  blocks:  the node's blocks merged into the fewest prefixes covering
 *                           exactly the same addresses (the aggregate kernel, one next hop);
 *                  cluster: the node's share of the cluster-wide minimal table (the
 *                           aggregate kernel over every node's blocks, next hop = owner):
 *                           fewest prefixes in total, and a prefix may cover another
 *                           node's more specific block, so every node must announce to
 *                           the same routing domain;
 *                  group:   the node's leaf prefix group CIDR in each network it is placed in.
 *   .LocalAS       --local-as (string, default "65534")
 *   .NeighborIP    --neighbor-ip ("" when not given, as in the original)
 *   .NeighborAS    --neighbor-as ("" when not given)
 *   .Args          map: "HostGroups" (only when the node is placed in at least one network)
 *                  → map network name → HostGroup; plus every --arg key=value (strings)
 *   .NodeName, .NodeIP   Romana additions: the node's name and registered IP
 *
 * HostGroup (the node's leaf group): .Name .CIDR (IPNet) .Network .Path .Routing
 *   .Hosts (list of Host: .Name .IP .AgentPort .Tags) .Blocks (list of Block: .CIDR
 *   .Network .Host .Tenant .Segment .Allocated), hosts by name, blocks by address.
 * IPNet: prints as "a.b.c.d/n"; fields .IP ("a.b.c.d"), .Mask (hex, "ffffff00" as
 *   Go prints a net.IPMask), .PrefixLen (n); method .String.
 *
 * Concurrency rule: pure except for `aggregate`, which runs the WASM kernel
 * (inline for a node's share, on a worker for a big cluster-wide table).
 */
import { formatCidr, formatIPv4, prefixMask, type Cidr4 } from '../src/core/ip.js';
import type { IpamState, LeafIndex } from '../src/core/ipam/index.js';
import { GO_TYPE } from './template/index.js';

export const AGGREGATE_MODES = ['none', 'blocks', 'cluster', 'group'] as const;
export type AggregateMode = (typeof AGGREGATE_MODES)[number];

export const DEFAULT_LOCAL_AS = '65534';

export class IPNet {
  declare readonly [GO_TYPE]: string;

  constructor(readonly cidr: Cidr4) {}

  // Getters, not fields: a node may announce thousands of prefixes and
  // templates rarely read more than the printed form.
  get IP(): string {
    return formatIPv4(this.cidr.base);
  }

  get Mask(): string {
    return (prefixMask(this.cidr.prefix) >>> 0).toString(16).padStart(8, '0');
  }

  get PrefixLen(): number {
    return this.cidr.prefix;
  }

  String(): string {
    return formatCidr(this.cidr);
  }

  toJSON(): string {
    return this.String();
  }

  toString(): string {
    return this.String();
  }
}
// `cidr` is for TypeScript callers; templates see only the capitalised fields.
Object.defineProperty(IPNet.prototype, GO_TYPE, { value: '*net.IPNet' });

export class Host {
  declare readonly [GO_TYPE]: string;
  constructor(
    readonly Name: string,
    readonly IP: string,
    readonly AgentPort: number,
    readonly Tags: Map<string, string>,
  ) {}

  toJSON(): unknown {
    return { Name: this.Name, IP: this.IP, AgentPort: this.AgentPort, Tags: Object.fromEntries(this.Tags) };
  }
}
Object.defineProperty(Host.prototype, GO_TYPE, { value: '*publisher.Host' });

export class Block {
  declare readonly [GO_TYPE]: string;
  constructor(
    readonly CIDR: IPNet,
    readonly Network: string,
    readonly Host: string,
    readonly Tenant: string,
    readonly Segment: string,
    readonly Allocated: number,
  ) {}
}
Object.defineProperty(Block.prototype, GO_TYPE, { value: '*publisher.Block' });

export class HostGroup {
  declare readonly [GO_TYPE]: string;
  private hosts: Host[] | null = null;
  private blocks: Block[] | null = null;

  constructor(
    readonly Name: string,
    readonly CIDR: IPNet,
    readonly Network: string,
    readonly Path: string,
    readonly Routing: string,
    /** Built on first use: most templates read only CIDR and Name, and a group may hold thousands of blocks. */
    private readonly makeHosts: () => Host[],
    private readonly makeBlocks: () => Block[],
  ) {}

  get Hosts(): Host[] {
    return (this.hosts ??= this.makeHosts());
  }

  get Blocks(): Block[] {
    return (this.blocks ??= this.makeBlocks());
  }

  toJSON(): unknown {
    return { Name: this.Name, CIDR: this.CIDR, Network: this.Network, Path: this.Path, Routing: this.Routing, Hosts: this.Hosts, Blocks: this.Blocks };
  }
}
Object.defineProperty(HostGroup.prototype, GO_TYPE, { value: '*publisher.HostGroup' });

export class TemplateData {
  declare readonly [GO_TYPE]: string;
  constructor(
    readonly Networks: IPNet[],
    readonly LocalAS: string,
    readonly NeighborIP: string,
    readonly NeighborAS: string,
    readonly Args: Map<string, unknown>,
    readonly NodeName: string,
    readonly NodeIP: string,
  ) {}

  /** JSON in the shape `romana-publisher render --data` reads back. */
  toJSON(): unknown {
    return {
      Networks: this.Networks.map((n) => n.String()),
      LocalAS: this.LocalAS,
      NeighborIP: this.NeighborIP,
      NeighborAS: this.NeighborAS,
      Args: mapToJson(this.Args),
      NodeName: this.NodeName,
      NodeIP: this.NodeIP,
    };
  }
}
Object.defineProperty(TemplateData.prototype, GO_TYPE, { value: 'publisher.Data' });

function mapToJson(v: unknown): unknown {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), mapToJson(x)]));
  if (Array.isArray(v)) return v.map(mapToJson);
  return v;
}

/** A route table for the aggregate kernel: (address, length, next hop id) triplets → the same, minimal. */
export type Aggregator = (routes: Uint32Array) => Promise<Uint32Array>;

export interface DataOptions {
  node: string;
  localAs?: string;
  neighborIp?: string;
  neighborAs?: string;
  /** --arg key=value pairs, added to .Args. */
  args?: ReadonlyMap<string, string>;
  aggregate?: AggregateMode;
}

/** The node's blocks, in network definition order, then by address. */
export function nodeBlocks(state: IpamState, node: string): Cidr4[] {
  const blocks = [...(state.blocksByHost.get(node) ?? [])];
  const order = (n: string): number => state.networks.get(n)?.order ?? Number.MAX_SAFE_INTEGER;
  blocks.sort((a, b) => order(a.value.network) - order(b.value.network) || a.base - b.base);
  return blocks.map((b) => ({ base: b.base, prefix: b.prefix }));
}

function fromTriplets(t: Uint32Array, nextHop: number | null): Cidr4[] {
  const out: Cidr4[] = [];
  for (let i = 0; i < t.length; i += 3) if (nextHop === null || t[i + 2] === nextHop) out.push({ base: t[i]!, prefix: t[i + 1]! });
  return out;
}

/** The prefixes `.Networks` lists for `node` under `mode`. */
export async function announcedPrefixes(state: IpamState, node: string, mode: AggregateMode, aggregate: Aggregator): Promise<Cidr4[]> {
  switch (mode) {
    case 'none':
      return nodeBlocks(state, node);
    case 'blocks': {
      const own = nodeBlocks(state, node);
      if (own.length <= 1) return own;
      const t = new Uint32Array(own.length * 3);
      own.forEach((c, i) => t.set([c.base, c.prefix, 0], i * 3));
      return fromTriplets(await aggregate(t), null);
    }
    case 'cluster': {
      // Next hop ids: hosts in name order, so every node computes the same table.
      const hosts = [...state.blocksByHost.keys()].sort();
      const me = hosts.indexOf(node);
      if (me < 0) return [];
      const t = new Uint32Array(state.blocks.size * 3);
      let i = 0;
      for (const [h, set] of [...state.blocksByHost].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        const id = hosts.indexOf(h);
        for (const b of set) {
          t[i++] = b.base;
          t[i++] = b.prefix;
          t[i++] = id;
        }
      }
      return fromTriplets(await aggregate(t.subarray(0, i)), me);
    }
    case 'group': {
      const h = state.hosts.get(node);
      if (!h) return [];
      return placements(state, node).map(([, leaf]) => leaf.group.cidr);
    }
  }
}

/** The node's placements in network definition order. */
function placements(state: IpamState, node: string): Array<[string, LeafIndex]> {
  const h = state.hosts.get(node);
  if (!h) return [];
  const order = (n: string): number => state.networks.get(n)?.order ?? Number.MAX_SAFE_INTEGER;
  return [...h.placements.entries()].sort((a, b) => order(a[0]) - order(b[0]));
}

function hostGroup(state: IpamState, network: string, leaf: LeafIndex): HostGroup {
  const hosts = (): Host[] =>
    [...leaf.hosts].sort().map((name) => {
      const h = state.hosts.get(name);
      return new Host(name, h?.value.ip ?? '', h?.value.agentPort ?? 0, new Map(Object.entries(h?.value.labels ?? {})));
    });
  const blocks = (): Block[] =>
    [...leaf.blockAt.values()]
      .sort((a, b) => a.base - b.base)
      .map((b) => new Block(new IPNet({ base: b.base, prefix: b.prefix }), b.value.network, b.value.host, b.value.tenant, b.value.segment, b.count));
  const g = leaf.group;
  return new HostGroup(g.name, new IPNet(g.cidr), network, g.path, g.routing, hosts, blocks);
}

/** The dot for `opts.node`. */
export async function buildTemplateData(state: IpamState, opts: DataOptions, aggregate: Aggregator): Promise<TemplateData> {
  const prefixes = await announcedPrefixes(state, opts.node, opts.aggregate ?? 'none', aggregate);
  const args = new Map<string, unknown>();
  const placed = placements(state, opts.node);
  if (placed.length > 0) args.set('HostGroups', new Map(placed.map(([net, leaf]) => [net, hostGroup(state, net, leaf)])));
  for (const [k, v] of opts.args ?? []) args.set(k, v);
  return new TemplateData(
    prefixes.map((c) => new IPNet(c)),
    opts.localAs ?? DEFAULT_LOCAL_AS,
    opts.neighborIp ?? '',
    opts.neighborAs ?? '',
    args,
    opts.node,
    state.hosts.get(opts.node)?.value.ip ?? '',
  );
}

/** Converts parsed JSON to template values the way Go decodes JSON into interface{}: objects become maps. */
export function jsonToTemplateValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(jsonToTemplateValue);
  if (v !== null && typeof v === 'object') return new Map(Object.entries(v).map(([k, x]) => [k, jsonToTemplateValue(x)]));
  return v;
}
