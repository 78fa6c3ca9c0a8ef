/**
 * Carving: turns a validated topology into prefix groups with CIDRs
 * (reference §1.3, with the original's padding bug fixed).
 *
 * Rule: N siblings split their parent's CIDR into 2^ceil(log2 N) equal parts
 * in list order (index 0 = lowest addresses). Parts beyond N are padding:
 * created as leaves with `padding: true`, reserved, never eligible for hosts
 * (the original meant to mark them but set the flag on a loop copy, so hosts
 * leaked outside e.g. an AZ's range). A map with one entry makes that entry
 * the root with the whole network CIDR; with more entries the root is an
 * unnamed group holding them. A list of one sub-group hands the sub-group the
 * whole parent CIDR. Nested names are kept (the original dropped them).
 *
 * Paths are the child indices from the root, padding included, so they stay
 * stable for a given input: "/", "/0", "/1/3". When a topology lists several
 * networks, its map is carved separately for each of them.
 *
 * Carved objects are deeply frozen: the IPAM shares them between requests.
 */
import { validationError } from '../errors.js';
import { prefixSize, type Cidr4 } from '../ip.js';
import type { CarvedGroup, CarvedNetwork, CarvedTopology, TopologyInput } from './types.js';
import { carveBits, normalizeTopology, type NormalizedGroup, type NormalizedInput, type NormalizedNetwork } from './validate.js';

const NO_ASSIGNMENT: Readonly<Record<string, string>> = Object.freeze({});

/** Carves every network of `input`; throws VALIDATION_FAILED listing every problem when the input is invalid. */
export function carveTopology(input: TopologyInput): CarvedTopology {
  return carveNormalized(normalizeTopology(input));
}

/** Carves an already normalized input (lets `loadTopology` validate once, with its options). */
export function carveNormalized(norm: NormalizedInput): CarvedTopology {
  if (norm.problems.length > 0) throw validationError('topology', norm.problems);
  const networks: CarvedNetwork[] = [];
  // Definition order of `networks`, not of topologies: it is the tenant preference order.
  for (const net of norm.networks) {
    const topo = norm.topologies[net.topologyIndex];
    if (!topo) throw new Error(`unreachable: network ${net.name} has no topology after validation`);
    networks.push(carveNetwork(net, topo.map));
  }
  return Object.freeze({ networks: Object.freeze(networks) });
}

function carveNetwork(net: NormalizedNetwork, map: readonly NormalizedGroup[]): CarvedNetwork {
  let root: CarvedGroup;
  if (map.length === 1) {
    root = carveGroup(map[0]!, net.cidr, '/');
  } else {
    root = freezeGroup({
      path: '/',
      name: '',
      cidr: net.cidr,
      assignment: NO_ASSIGNMENT,
      children: carveChildren(map, net.cidr, '/'),
      padding: false,
      leaf: false,
      predefinedHosts: [],
      routing: '',
    });
  }
  return Object.freeze({
    name: net.name,
    cidr: Object.freeze({ ...net.cidr }),
    blockMask: net.blockMask,
    tenants: net.tenants === null ? null : Object.freeze([...net.tenants]),
    topologyIndex: net.topologyIndex,
    root,
  });
}

function childPath(parent: string, i: number): string {
  return parent === '/' ? `/${i}` : `${parent}/${i}`;
}

function carveChildren(list: readonly NormalizedGroup[], parent: Cidr4, parentPath: string): CarvedGroup[] {
  const prefix = parent.prefix + carveBits(list.length);
  const slots = 2 ** carveBits(list.length);
  const out: CarvedGroup[] = [];
  for (let i = 0; i < slots; i++) {
    const cidr: Cidr4 = { base: parent.base + i * prefixSize(prefix), prefix };
    const path = childPath(parentPath, i);
    const g = list[i];
    out.push(g ? carveGroup(g, cidr, path) : paddingGroup(cidr, path, ''));
  }
  return out;
}

function paddingGroup(cidr: Cidr4, path: string, name: string): CarvedGroup {
  return freezeGroup({ path, name, cidr, assignment: NO_ASSIGNMENT, children: [], padding: true, leaf: true, predefinedHosts: [], routing: '' });
}

function carveGroup(g: NormalizedGroup, cidr: Cidr4, path: string): CarvedGroup {
  if (g.padding) return paddingGroup(cidr, path, g.name);
  const leaf = g.children.length === 0;
  return freezeGroup({
    path,
    name: g.name,
    cidr,
    assignment: Object.keys(g.assignment).length === 0 ? NO_ASSIGNMENT : { ...g.assignment },
    children: leaf ? [] : carveChildren(g.children, cidr, path),
    padding: false,
    leaf,
    predefinedHosts: g.hosts.map((h) => Object.freeze({ name: h.name, ip: h.ip })),
    routing: g.routing,
  });
}

function freezeGroup(g: {
  path: string;
  name: string;
  cidr: Cidr4;
  assignment: Readonly<Record<string, string>>;
  children: CarvedGroup[];
  padding: boolean;
  leaf: boolean;
  predefinedHosts: CarvedGroup['predefinedHosts'][number][];
  routing: string;
}): CarvedGroup {
  Object.freeze(g.cidr);
  Object.freeze(g.assignment);
  Object.freeze(g.children);
  Object.freeze(g.predefinedHosts);
  return Object.freeze(g);
}

/** Every group of a carved network, depth first in path order (root first). */
export function* walkGroups(root: CarvedGroup): Generator<CarvedGroup> {
  yield root;
  for (const c of root.children) yield* walkGroups(c);
}

/** The leaves of a network that may receive hosts (padding excluded), in path order. */
export function usableLeaves(net: CarvedNetwork): CarvedGroup[] {
  const out: CarvedGroup[] = [];
  for (const g of walkGroups(net.root)) if (g.leaf && !g.padding) out.push(g);
  return out;
}

/** The group at `path` ("/", "/0", "/1/3") in `net`, or undefined. */
export function findGroup(net: CarvedNetwork, path: string): CarvedGroup | undefined {
  if (path === '/') return net.root;
  if (!path.startsWith('/')) return undefined;
  let g: CarvedGroup | undefined = net.root;
  for (const part of path.slice(1).split('/')) {
    if (!/^(0|[1-9]\d*)$/.test(part)) return undefined;
    g = g?.children[Number(part)];
    if (!g) return undefined;
  }
  return g;
}
