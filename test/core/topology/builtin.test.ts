import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatCidr } from '../../../src/core/ip.js';
import { builtinTopology, builtinTopologyNames, carveTopology, usableLeaves, validateTopology } from '../../../src/core/topology/index.js';
import { BUILTIN_FIXTURES_URL } from './helpers.js';

const fixtureDir = fileURLToPath(BUILTIN_FIXTURES_URL);

function carvedNet(name: string) {
  return carveTopology(builtinTopology(name)).networks[0]!;
}

function range(first: number, count: number, step: number, fmt: (i: number) => string): string[] {
  return Array.from({ length: count }, (_, i) => fmt(first + i * step));
}

describe('built-in topologies', () => {
  it('has kubeadm and every AWS region of the original', () => {
    expect(builtinTopologyNames()).toEqual([
      'aws-ap-northeast-1', 'aws-ap-northeast-2', 'aws-ap-south-1', 'aws-ap-southeast-1', 'aws-ap-southeast-2',
      'aws-ca-central-1', 'aws-eu-central-1', 'aws-eu-west-1', 'aws-eu-west-2', 'aws-sa-east-1',
      'aws-us-east-1', 'aws-us-east-2', 'aws-us-west-1', 'aws-us-west-2', 'kubeadm',
    ]);
    for (const n of builtinTopologyNames()) expect(validateTopology(builtinTopology(n)), n).toEqual([]);
  });

  describe.skipIf(!existsSync(fixtureDir))('equal the original files', () => {
    it('field for field, one per fixture', () => {
      const files = readdirSync(fixtureDir).filter((f) => f.endsWith('.json')).sort();
      expect(files).toHaveLength(15);
      const names = files.map((f) => (f === 'kubeadm-network.json' ? 'kubeadm' : f.replace(/\.json$/, '')));
      expect(names.sort()).toEqual(builtinTopologyNames());
      for (const f of files) {
        const name = f === 'kubeadm-network.json' ? 'kubeadm' : f.replace(/\.json$/, '');
        expect(builtinTopology(name), f).toStrictEqual(JSON.parse(readFileSync(`${fixtureDir}/${f}`, 'utf8')));
      }
    });
  });

  it('returns a fresh copy each time', () => {
    const a = builtinTopology('kubeadm');
    a.networks[0]!.cidr = '10.0.0.0/8';
    expect(builtinTopology('kubeadm').networks[0]!.cidr).toBe('10.112.0.0/12');
  });

  it('rejects unknown names with NOT_FOUND naming them', () => {
    for (const bad of ['aws-mars-1', 'aws-', 'aws-toString', 'kops', '']) {
      expect(() => builtinTopology(bad), bad).toThrow(expect.objectContaining({ code: 'NOT_FOUND', message: expect.stringContaining(JSON.stringify(bad)) }));
    }
  });

  it('kubeadm: 10.112.0.0/12 in eight /15 leaves', () => {
    const net = carvedNet('kubeadm');
    expect([net.name, formatCidr(net.cidr), net.blockMask]).toEqual(['romana-network', '10.112.0.0/12', 29]);
    expect(usableLeaves(net).map((g) => `${g.name} ${formatCidr(g.cidr)}`)).toEqual(range(1, 8, 1, (i) => `host-group-0${i} 10.${110 + 2 * i}.0.0/15`));
  });

  it('2-AZ regions: two /12 zones of eight /15 leaves', () => {
    for (const [region, zones] of [['ap-northeast-1', 'ac'], ['ap-northeast-2', 'ac'], ['ap-south-1', 'ab'], ['ap-southeast-1', 'ab'], ['ca-central-1', 'ab'], ['eu-west-2', 'ab'], ['us-west-1', 'bc']] as const) {
      const net = carvedNet(`aws-${region}`);
      expect(net.root.children.map((g) => `${g.name} ${formatCidr(g.cidr)} ${g.padding}`), region).toEqual([
        `failure-domain: ${region}${zones[0]} 100.96.0.0/12 false`,
        `failure-domain: ${region}${zones[1]} 100.112.0.0/12 false`,
      ]);
      expect(usableLeaves(net).map((g) => formatCidr(g.cidr)), region).toEqual(range(96, 16, 2, (o) => `100.${o}.0.0/15`));
      expect(usableLeaves(net)[9]!.assignment, region).toEqual({
        'failure-domain.beta.kubernetes.io/region': region,
        'failure-domain.beta.kubernetes.io/zone': `${region}${zones[1]}`,
      });
    }
  });

  it('3-AZ regions: padded to four /13 zones, the fourth reserved; /16 leaves', () => {
    for (const region of ['ap-southeast-2', 'eu-central-1', 'eu-west-1', 'sa-east-1', 'us-east-2', 'us-west-2']) {
      const net = carvedNet(`aws-${region}`);
      expect(net.root.children.map((g) => `${g.path} ${formatCidr(g.cidr)} ${g.padding}`), region).toEqual([
        '/0 100.96.0.0/13 false',
        '/1 100.104.0.0/13 false',
        '/2 100.112.0.0/13 false',
        '/3 100.120.0.0/13 true',
      ]);
      expect(net.root.children[3]!.leaf).toBe(true);
      expect(usableLeaves(net).map((g) => formatCidr(g.cidr)), region).toEqual(range(96, 24, 1, (o) => `100.${o}.0.0/16`));
    }
  });

  it('us-east-1: six AZs padded to eight /14s, two reserved; four /16 leaves each', () => {
    const net = carvedNet('aws-us-east-1');
    expect(net.root.children.map((g) => `${g.name || '-'} ${formatCidr(g.cidr)} ${g.padding}`)).toEqual([
      'failure-domain: us-east-1a 100.96.0.0/14 false',
      'failure-domain: us-east-1b 100.100.0.0/14 false',
      'failure-domain: us-east-1c 100.104.0.0/14 false',
      'failure-domain: us-east-1d 100.108.0.0/14 false',
      'failure-domain: us-east-1e 100.112.0.0/14 false',
      'failure-domain: us-east-1f 100.116.0.0/14 false',
      '- 100.120.0.0/14 true',
      '- 100.124.0.0/14 true',
    ]);
    const leaves = usableLeaves(net);
    expect(leaves.map((g) => formatCidr(g.cidr))).toEqual(range(96, 24, 1, (o) => `100.${o}.0.0/16`));
    expect(leaves.every((g) => g.assignment['failure-domain.beta.kubernetes.io/zone'] === g.name.slice(0, 10))).toBe(true);
  });
});
