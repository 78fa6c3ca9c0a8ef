import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  builtinTopology,
  builtinTopologyNames,
  carveTopology,
  describeCarved,
  loadTopology,
  topologyToOutput,
  type CarvedTopology,
  type GroupInput,
} from '../../../src/core/topology/index.js';
import { seedBlocks, withoutComments } from './helpers.js';

const GOLDEN_DIR = fileURLToPath(new URL('./golden/', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../fixtures/topology/hosts_and_tenants.json', import.meta.url));

const seedExamples = seedBlocks().filter((b) => b.text.includes('"topologies"') && !withoutComments(b.text).includes('...'));
function seed(title: string): CarvedTopology {
  const b = seedExamples.find((e) => e.title === title);
  if (!b) throw new Error(`no seed example ${title}`);
  return loadTopology(b.text).carved;
}
const fixture = (): CarvedTopology => loadTopology(readFileSync(FIXTURE, 'utf8')).carved;

/** Carved networks without `topologyIndex`, which regrouping into one topology per network renumbers. */
function shapeOf(c: CarvedTopology): unknown {
  return c.networks.map(({ topologyIndex: _ignored, ...rest }) => rest);
}

describe('topologyToOutput', () => {
  it('writes the documented shape with every CIDR filled in (kubeadm, as the original GET /topology)', () => {
    const out = topologyToOutput(carveTopology(builtinTopology('kubeadm')));
    expect(out).toEqual({
      networks: [{ name: 'romana-network', cidr: '10.112.0.0/12', block_mask: 29 }],
      topologies: [
        {
          networks: ['romana-network'],
          map: Array.from({ length: 8 }, (_, i) => ({ name: `host-group-0${i + 1}`, cidr: `10.${112 + 2 * i}.0.0/15`, groups: [] })),
        },
      ],
    });
  });

  it('marks padding parts as reserved entries', () => {
    const map = topologyToOutput(carveTopology(builtinTopology('aws-us-east-1'))).topologies[0]!.map;
    expect(map.map((g) => [g.name, g.cidr, g.padding])).toEqual([
      ['failure-domain: us-east-1a', '100.96.0.0/14', undefined],
      ['failure-domain: us-east-1b', '100.100.0.0/14', undefined],
      ['failure-domain: us-east-1c', '100.104.0.0/14', undefined],
      ['failure-domain: us-east-1d', '100.108.0.0/14', undefined],
      ['failure-domain: us-east-1e', '100.112.0.0/14', undefined],
      ['failure-domain: us-east-1f', '100.116.0.0/14', undefined],
      [undefined, '100.120.0.0/14', true],
      [undefined, '100.124.0.0/14', true],
    ]);
    expect(map[6]).toEqual({ cidr: '100.120.0.0/14', padding: true });
  });

  it('writes one topology per network (the CIDRs differ), hosts as "hosts", tenants and routing', () => {
    const out = topologyToOutput(fixture());
    expect(out.networks).toEqual([
      { name: 'prod', cidr: '10.20.0.0/20', block_mask: 28, tenants: ['web', 'db'] },
      { name: 'lab', cidr: '192.168.64.0/22', block_mask: 29 },
    ]);
    expect(out.topologies.map((t) => t.networks)).toEqual([['prod'], ['lab']]);
    expect(out.topologies[0]!.map[0]).toEqual({
      name: 'spine-1',
      cidr: '10.20.0.0/22',
      routing: 'prefix-announce-bgp:peer1',
      groups: [
        { name: 'tor-1', cidr: '10.20.0.0/24', assignment: { rack: 'r1' }, hosts: [{ name: 'node-1', ip: '192.168.0.11' }, { name: 'node-2', ip: '192.168.0.12' }] },
        { name: 'tor-2', cidr: '10.20.1.0/24', assignment: { rack: 'r2' }, hosts: [{ name: 'node-3', ip: '192.168.0.13' }] },
        { name: 'tor-3', cidr: '10.20.2.0/24', assignment: { rack: 'r3' }, groups: [] },
        { cidr: '10.20.3.0/24', padding: true },
      ],
    });
    expect(out.topologies[1]!.map[1]).toEqual({ name: 'reserved', cidr: '192.168.65.0/24', padding: true });
  });

  it('adds hosts placed at runtime after the predefined ones, without duplicates', () => {
    const out = topologyToOutput(fixture(), {
      hostsForLeaf: (net, leaf) =>
        net.name === 'prod' && leaf.name === 'tor-1'
          ? [{ name: 'node-2', ip: '192.168.0.12' }, { name: 'node-9', ip: '192.168.0.19' }]
          : net.name === 'prod' && leaf.name === 'tor-3'
            ? [{ name: 'node-7', ip: '192.168.0.17' }]
            : [],
    });
    // Output groups are never host entries (hosts are written as "hosts").
    const groups = out.topologies[0]!.map[0]!.groups! as GroupInput[];
    expect(groups[0]!.hosts!.map((h) => h.name)).toEqual(['node-1', 'node-2', 'node-9']);
    expect(groups[2]).toEqual({ name: 'tor-3', cidr: '10.20.2.0/24', assignment: { rack: 'r3' }, hosts: [{ name: 'node-7', ip: '192.168.0.17' }] });
    expect((out.topologies[1]!.map[0]!.groups![0] as GroupInput).hosts!.map((h) => h.name)).toEqual(['node-1', 'node-2']);
  });

  it('loads back to the same carving: seed examples, built-ins, fixture, and a one-child root', () => {
    const cases: Array<[string, CarvedTopology]> = [
      ...seedExamples.map((b): [string, CarvedTopology] => [b.title, loadTopology(b.text).carved]),
      ...builtinTopologyNames().map((n): [string, CarvedTopology] => [n, carveTopology(builtinTopology(n))]),
      ['fixture', fixture()],
      [
        'one-child root',
        carveTopology({ networks: [{ name: 'n', cidr: '10.0.0.0/16' }], topologies: [{ networks: ['n'], map: [{ groups: [{ name: 'x' }] }] }] }),
      ],
      [
        'unnamed root with children',
        carveTopology({ networks: [{ name: 'n', cidr: '10.0.0.0/16' }], topologies: [{ networks: ['n'], map: [{ groups: [{}, {}, {}] }] }] }),
      ],
    ];
    expect(cases.length).toBe(7 + 15 + 3);
    for (const [name, carved] of cases) {
      const again = loadTopology(JSON.stringify(topologyToOutput(carved))).carved;
      expect(shapeOf(again), name).toEqual(shapeOf(carved));
    }
  });
});

describe('describeCarved (golden files; UPDATE_GOLDEN=1 rewrites them)', () => {
  const cases: Array<[string, () => CarvedTopology]> = [
    ['seed_multi_zone', () => seed('Deployment in a multi-zone, multi-rack data center')],
    ['seed_multiple_topologies', () => seed('Using multiple topologies')],
    ['seed_tenants', () => seed('Restricting tenants to networks')],
    ['builtin_kubeadm', () => carveTopology(builtinTopology('kubeadm'))],
    ['builtin_aws_us_east_1', () => carveTopology(builtinTopology('aws-us-east-1'))],
    ['builtin_aws_eu_west_1', () => carveTopology(builtinTopology('aws-eu-west-1'))],
    ['hosts_and_tenants', fixture],
  ];
  for (const [name, make] of cases) {
    it(name, () => {
      const text = describeCarved(make());
      const file = `${GOLDEN_DIR}${name}.txt`;
      if (process.env['UPDATE_GOLDEN'] === '1') {
        mkdirSync(GOLDEN_DIR, { recursive: true });
        writeFileSync(file, text);
      }
      expect(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1 and review the diff`).toBe(true);
      expect(text).toBe(readFileSync(file, 'utf8'));
    });
  }
});
