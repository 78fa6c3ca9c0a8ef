// Every topology example printed in the seed documentation must load exactly
// as printed (with its '#' comments and trailing commas) and carve to the
// CIDRs its comments and prose state. The examples are read from the seed
// file itself, so a drift between the docs and the code fails here.
import { describe, expect, it } from 'vitest';
import { formatCidr } from '../../../src/core/ip.js';
import { loadTopology, type CarvedGroup, type CarvedTopology, type TopologyInput } from '../../../src/core/topology/index.js';
import { CIDR_RE, commentsOf, groupsOf, leafCidrs, network, seedBlocks, withoutComments } from './helpers.js';

const blocks = seedBlocks();
// Full examples: a document with "topologies" and no "..." (the format reference block uses "..." placeholders).
const examples = blocks.filter((b) => b.text.includes('"topologies"') && !withoutComments(b.text).includes('...'));
// "Topology map" Example 1 and 2: a bare "map" between lines that are only "..."
// (the format reference blocks have "..." inside lists instead).
const fragments = blocks.filter((b) => b.text.includes('"map"') && /^\s*\.\.\.\s*$/m.test(b.text) && !b.text.includes('"topologies"'));

function example(title: string): { text: string; carved: CarvedTopology; input: TopologyInput } {
  const b = examples.find((e) => e.title === title);
  if (!b) throw new Error(`no seed example titled ${JSON.stringify(title)}; found ${examples.map((e) => e.title).join(' | ')}`);
  return { text: b.text, ...loadTopology(b.text) };
}

/**
 * The CIDRs of the groups written in the topology maps, in document order:
 * per map entry (depth first), its CIDR in each network of its topology.
 * A root made to hold a several-entry map is not written, so it is skipped.
 */
function writtenGroupCidrs(input: TopologyInput, carved: CarvedTopology): string[] {
  const out: string[] = [];
  input.topologies.forEach((t) => {
    const perNet = t.networks.map((n) => {
      const gs = groupsOf(network(carved, n)).filter((g) => !g.padding);
      return t.map.length > 1 ? gs.slice(1) : gs;
    });
    const count = perNet[0]?.length ?? 0;
    for (let i = 0; i < count; i++) for (const gs of perNet) out.push(formatCidr((gs[i] as CarvedGroup).cidr));
  });
  return out;
}

describe('seed documentation examples', () => {
  it('finds every printed topology example', () => {
    expect(examples.map((e) => e.title)).toEqual([
      'Single, flat network',
      'Single, flat network with host-specific prefixes',
      'Using multiple networks',
      'Using multiple topologies',
      'Restricting tenants to networks',
      'Deployment in a multi-rack data center',
      'Deployment in a multi-zone, multi-rack data center',
    ]);
    expect(fragments.map((f) => f.title)).toEqual(['Example 1: Flat network, single prefix group', 'Example 2: Data center with four racks']);
  });

  it('loads every example verbatim: comments and trailing commas included', () => {
    // Guard that the relaxations are really exercised by the printed text.
    expect(examples.filter((e) => commentsOf(e.text).length > 0).length).toBeGreaterThanOrEqual(5);
    expect(examples.filter((e) => /},\s*\n\s*]/.test(e.text)).length).toBeGreaterThanOrEqual(1);
    for (const e of examples) expect(() => loadTopology(e.text), e.title).not.toThrow();
  });

  it('carves every CIDR the comments state, in the order they are written', () => {
    let stating = 0;
    for (const e of examples) {
      const stated = commentsOf(e.text).flatMap((c) => c.match(CIDR_RE) ?? []);
      if (stated.length === 0) continue;
      stating++;
      const { input, carved } = loadTopology(e.text);
      expect(writtenGroupCidrs(input, carved), e.title).toEqual(stated);
    }
    expect(stating).toBe(3); // host-specific prefixes, multiple topologies, multi-zone
  });

  it('single flat network: one group gets the whole network', () => {
    const { carved } = example('Single, flat network');
    const net = network(carved, 'my-network');
    expect(formatCidr(net.root.cidr)).toBe('10.111.0.0/16');
    expect(net.root.leaf).toBe(true);
    expect(net.blockMask).toBe(29);
    expect(net.tenants).toBeNull();
  });

  it('host-specific prefixes: four groups of 10.111.0.0/16 are /18s', () => {
    const { carved } = example('Single, flat network with host-specific prefixes');
    expect(leafCidrs(network(carved, 'my-network'))).toEqual(['10.111.0.0/18', '10.111.64.0/18', '10.111.128.0/18', '10.111.192.0/18']);
  });

  it('multiple networks: the one map is carved for each network, with its own block size', () => {
    const { carved } = example('Using multiple networks');
    expect(carved.networks.map((n) => [n.name, formatCidr(n.root.cidr), n.blockMask, n.topologyIndex])).toEqual([
      ['net-1', '10.111.0.0/16', 29, 0],
      ['net-2', '192.168.3.0/24', 31, 0],
    ]);
  });

  it('multiple topologies: net-1/net-2 flat, net-3 in four /18s of 172.16.0.0/16', () => {
    const { carved } = example('Using multiple topologies');
    expect(leafCidrs(network(carved, 'net-1'))).toEqual(['10.111.0.0/16']);
    expect(leafCidrs(network(carved, 'net-2'))).toEqual(['10.222.0.0/16']);
    expect(leafCidrs(network(carved, 'net-3'))).toEqual(['172.16.0.0/18', '172.16.64.0/18', '172.16.128.0/18', '172.16.192.0/18']);
    expect(network(carved, 'net-3').topologyIndex).toBe(1);
    expect(network(carved, 'net-3').blockMask).toBe(30);
  });

  it('tenant-restricted networks keep their tenant lists', () => {
    const { carved } = example('Restricting tenants to networks');
    expect(network(carved, 'production').tenants).toEqual(['web', 'app', 'db']);
    expect(network(carved, 'test').tenants).toEqual(['qa', 'integration']);
    expect(network(carved, 'test').blockMask).toBe(32);
  });

  it('multi-rack: four racks with rack assignments, /18 each', () => {
    const { carved } = example('Deployment in a multi-rack data center');
    const net = network(carved, 'my-network');
    const leaves = groupsOf(net).filter((g) => g.leaf);
    expect(leaves.map((g) => [g.path, formatCidr(g.cidr), g.assignment])).toEqual([
      ['/0', '10.111.0.0/18', { rack: 'rack-1' }],
      ['/1', '10.111.64.0/18', { rack: 'rack-2' }],
      ['/2', '10.111.128.0/18', { rack: 'rack-3' }],
      ['/3', '10.111.192.0/18', { rack: 'rack-4' }],
    ]);
  });

  it('multi-zone: zone-A /17 with /19 racks, zone-B /17 with /18 racks', () => {
    const { carved } = example('Deployment in a multi-zone, multi-rack data center');
    const net = network(carved, 'my-network');
    expect(groupsOf(net).map((g) => [g.path, formatCidr(g.cidr), g.assignment['zone'] ?? g.assignment['rack'] ?? ''])).toEqual([
      ['/', '10.111.0.0/16', ''],
      ['/0', '10.111.0.0/17', 'zone-A'],
      ['/0/0', '10.111.0.0/19', 'rack-3'],
      ['/0/1', '10.111.32.0/19', 'rack-4'],
      ['/0/2', '10.111.64.0/19', 'rack-7'],
      ['/0/3', '10.111.96.0/19', 'rack-9'],
      ['/1', '10.111.128.0/17', 'zone-B'],
      ['/1/0', '10.111.128.0/18', 'rack-17'],
      ['/1/1', '10.111.192.0/18', 'rack-22'],
    ]);
  });

  describe('"Topology map" fragments, completed with the network the prose describes (10.1.0.0/16)', () => {
    // The fragments elide the rest of the document with "..." lines: the first
    // stands for the networks and the topology head, the last for its tail.
    function complete(text: string): string {
      const lines = text.split('\n');
      const dots = lines.flatMap((l, i) => (l.trim() === '...' ? [i] : []));
      expect(dots.length).toBe(2);
      lines[dots[0]!] = '"networks": [{"name": "racks", "cidr": "10.1.0.0/16"}], "topologies": [{"networks": ["racks"],';
      lines[dots[1]!] = '}]';
      return lines.join('\n');
    }

    it('example 1: the single prefix group is the entire CIDR', () => {
      const { carved } = loadTopology(complete(fragments[0]!.text));
      const root = network(carved, 'racks').root;
      expect([root.name, formatCidr(root.cidr), root.leaf]).toEqual(['all-hosts', '10.1.0.0/16', true]);
    });

    it('example 2: four racks are 10.1.0.0/18, 10.1.64.0/18, 10.1.128.0/18 and 10.1.192.0/18', () => {
      const { carved } = loadTopology(complete(fragments[1]!.text));
      const leaves = groupsOf(network(carved, 'racks')).filter((g) => g.leaf);
      expect(leaves.map((g) => [g.name, formatCidr(g.cidr), g.assignment['my-location-tag']])).toEqual([
        ['rack-1', '10.1.0.0/18', 'rack-1'],
        ['rack-2', '10.1.64.0/18', 'rack-2'],
        ['rack-3', '10.1.128.0/18', 'rack-3'],
        ['rack-4', '10.1.192.0/18', 'rack-4'],
      ]);
    });
  });
});
