import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrContains, cidrLast, formatCidr, prefixSize } from '../../../src/core/ip.js';
import {
  carveBits,
  carveTopology,
  findGroup,
  usableLeaves,
  walkGroups,
  type CarvedGroup,
  type GroupInput,
  type TopologyInput,
} from '../../../src/core/topology/index.js';
import { cidrsByPath, network } from './helpers.js';

function topo(cidr: string, map: GroupInput[], blockMask = 32): TopologyInput {
  return { networks: [{ name: 'n', cidr, block_mask: blockMask }], topologies: [{ networks: ['n'], map }] };
}

const leaf = (name = ''): GroupInput => (name ? { name, groups: [] } : { groups: [] });

describe('carveTopology', () => {
  it('takes ceil(log2 N) bits for N siblings', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 8, 9].map(carveBits)).toEqual([0, 0, 1, 2, 2, 3, 3, 3, 4]);
  });

  it('splits in list order and pads to a power of two with reserved parts', () => {
    const net = network(carveTopology(topo('10.0.0.0/16', [leaf('a'), leaf('b'), leaf('c')])), 'n');
    expect(cidrsByPath(net)).toEqual({ '/': '10.0.0.0/16', '/0': '10.0.0.0/18', '/1': '10.0.64.0/18', '/2': '10.0.128.0/18', '/3': '10.0.192.0/18' });
    expect(net.root.children.map((g) => [g.name, g.padding, g.leaf])).toEqual([
      ['a', false, true],
      ['b', false, true],
      ['c', false, true],
      ['', true, true],
    ]);
    // The original leaked hosts into padding: padding is never a usable leaf.
    expect(usableLeaves(net).map((g) => g.name)).toEqual(['a', 'b', 'c']);
  });

  it('makes a one-entry map the root with the whole network, and keeps its fields', () => {
    const net = network(carveTopology(topo('10.0.0.0/8', [{ name: 'all', assignment: { k: 'v' }, routing: 'r', groups: [] }])), 'n');
    expect(net.root).toEqual({
      path: '/',
      name: 'all',
      cidr: { base: 0x0a000000, prefix: 8 },
      assignment: { k: 'v' },
      children: [],
      padding: false,
      leaf: true,
      predefinedHosts: [],
      routing: 'r',
    });
  });

  it('carves nested groups the same way, keeps nested names, and gives one child its parent\'s whole range', () => {
    // The original's TestPrefixGenForEmptyGroups, plus a one-child level.
    const net = network(
      carveTopology(topo('10.0.0.0/16', [leaf('group1'), { name: 'group2', groups: [leaf('group2a'), { name: 'group2b', groups: [leaf('only')] }] }])),
      'n',
    );
    expect([...walkGroups(net.root)].map((g) => `${g.path} ${g.name} ${formatCidr(g.cidr)}`)).toEqual([
      '/  10.0.0.0/16',
      '/0 group1 10.0.0.0/17',
      '/1 group2 10.0.128.0/17',
      '/1/0 group2a 10.0.128.0/18',
      '/1/1 group2b 10.0.192.0/18',
      '/1/1/0 only 10.0.192.0/18',
    ]);
    expect(findGroup(net, '/1/1/0')?.name).toBe('only');
    expect(findGroup(net, '/')).toBe(net.root);
    for (const bad of ['', '/9', '/1/x', '/01', '1', '/1/1/0/0']) expect(findGroup(net, bad), bad).toBeUndefined();
  });

  it('treats a missing "groups" like "groups": [] (a leaf)', () => {
    const net = network(carveTopology(topo('10.0.0.0/16', [{ name: 'a' }, { name: 'b', groups: [] }])), 'n');
    expect(net.root.children.map((g) => g.leaf)).toEqual([true, true]);
  });

  it('places predefined hosts in their leaf, from either variant', () => {
    const net = network(
      carveTopology(
        topo('10.0.0.0/8', [
          { name: 'orig', groups: [{ name: 'h1', ip: '192.168.0.1' }, { name: 'h2', ip: '192.168.0.2' }] },
          { name: 'doc', hosts: [{ name: 'h3', ip: '192.168.0.3' }] },
        ]),
      ),
      'n',
    );
    expect(net.root.children.map((g) => [g.name, g.leaf, g.predefinedHosts])).toEqual([
      ['orig', true, [{ name: 'h1', ip: '192.168.0.1' }, { name: 'h2', ip: '192.168.0.2' }]],
      ['doc', true, [{ name: 'h3', ip: '192.168.0.3' }]],
    ]);
  });

  it('keeps an explicit padding entry reserved wherever it is written', () => {
    const net = network(carveTopology(topo('10.0.0.0/16', [leaf('a'), { padding: true, name: 'later' }, leaf('c')])), 'n');
    expect(net.root.children.map((g) => [g.path, g.name, g.padding])).toEqual([
      ['/0', 'a', false],
      ['/1', 'later', true],
      ['/2', 'c', false],
      ['/3', '', true],
    ]);
  });

  it('carves a topology\'s map separately for each of its networks, in network definition order', () => {
    const carved = carveTopology({
      networks: [
        { name: 'z', cidr: '10.2.0.0/16', tenants: [] },
        { name: 'y', cidr: '192.168.0.0/24', block_mask: 28, tenants: ['t1'] },
        { name: 'x', cidr: '10.1.0.0/16' },
      ],
      topologies: [
        { networks: ['x'], map: [leaf()] },
        { networks: ['y', 'z'], map: [leaf('a'), leaf('b')] },
      ],
    });
    expect(carved.networks.map((n) => [n.name, n.topologyIndex, n.blockMask, n.tenants, Object.values(cidrsByPath(n))])).toEqual([
      ['z', 1, 29, null, ['10.2.0.0/16', '10.2.0.0/17', '10.2.128.0/17']],
      ['y', 1, 28, ['t1'], ['192.168.0.0/24', '192.168.0.0/25', '192.168.0.128/25']],
      ['x', 0, 29, null, ['10.1.0.0/16']],
    ]);
  });

  it('returns deeply frozen results', () => {
    const carved = carveTopology(topo('10.0.0.0/16', [{ name: 'a', assignment: { k: 'v' }, hosts: [{ name: 'h', ip: '1.1.1.1' }] }, leaf()]));
    const net = carved.networks[0]!;
    const a = net.root.children[0]!;
    for (const o of [carved, carved.networks, net, net.cidr, net.root, net.root.children, a, a.cidr, a.assignment, a.predefinedHosts, a.predefinedHosts[0]]) {
      expect(Object.isFrozen(o)).toBe(true);
    }
  });

  it('does not depend on the input object after carving', () => {
    const input = topo('10.0.0.0/16', [{ name: 'a', assignment: { k: 'v' } }, leaf()]);
    const carved = carveTopology(input);
    (input.topologies[0]!.map[0]!.assignment as Record<string, string>)['k'] = 'changed';
    expect(carved.networks[0]!.root.children[0]!.assignment).toEqual({ k: 'v' });
  });

  // Property: for any tree shape, every group's children tile it exactly, in order, and equal in size.
  // Depth is capped so that the deepest part (4 levels × 3 bits) still fits a /16 with /32 blocks.
  const shape: fc.Arbitrary<GroupInput[]> = fc.letrec<{ list: GroupInput[]; group: GroupInput }>((tie) => ({
    list: fc.array(tie('group'), { minLength: 1, maxLength: 5 }),
    group: fc.oneof(
      { maxDepth: 3, depthIdentifier: 'tree', withCrossShrink: true },
      fc.constant<GroupInput>({ groups: [] }),
      fc.record({ groups: tie('list') }),
    ),
  })).list;

  it('children tile their parent exactly, in order, with equal power-of-two parts (property)', () => {
    fc.assert(
      fc.property(shape, fc.integer({ min: 0, max: 8 }), (map, prefix) => {
        const base = prefix === 0 ? '0.0.0.0' : '10.0.0.0';
        const carved = carveTopology(topo(`${base}/${prefix === 0 ? 0 : 8 + prefix}`, map));
        const check = (g: CarvedGroup): void => {
          if (g.children.length === 0) return;
          expect(Math.log2(g.children.length) % 1).toBe(0);
          let next = g.cidr.base;
          for (const c of g.children) {
            expect(cidrContains(g.cidr, c.cidr)).toBe(true);
            expect(c.cidr.base).toBe(next);
            expect(c.cidr.prefix).toBe(g.cidr.prefix + Math.log2(g.children.length));
            next = c.cidr.base + prefixSize(c.cidr.prefix);
            check(c);
          }
          expect(next - 1).toBe(cidrLast(g.cidr));
        };
        const net = carved.networks[0]!;
        check(net.root);
        // Leaves written in the input are exactly the usable leaves.
        const written = (list: GroupInput[]): number => list.reduce((s, g) => s + (g.groups && g.groups.length > 0 ? written(g.groups as GroupInput[]) : 1), 0);
        expect(usableLeaves(net).length).toBe(written(map));
      }),
      { numRuns: 200 },
    );
  });
});
