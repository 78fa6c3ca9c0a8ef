/**
 * The route spec: exact output of `romana-vpcrouter spec` for a topology +
 * hosts file (-f json and the table), and the route count for every
 * built-in AWS topology with a 1,000-node cluster — far under the VPC's
 * default 50 routes per table.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { specFromPlacedHosts, specFromTopology, validateSpec } from '../../src/core/aws/route_spec.js';
import { builtinTopology, builtinTopologyNames } from '../../src/core/topology/index.js';
import { AWS_REGIONS } from '../../src/core/topology/builtin_data.js';
import { REPO } from '../helpers/daemon.js';

const MAIN = path.join(REPO, 'dist/src/aws/vpcrouter_main.js');
const dir = mkdtempSync(path.join(tmpdir(), 'romana-vpcspec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOPOLOGY = `{
  "networks": [{"name": "net", "cidr": "10.112.0.0/16", "block_mask": 28}],
  "topologies": [{"networks": ["net"], "map": [
    {"name": "rack-a", "assignment": {"rack": "a"}, "groups": [{"name": "a1", "groups": []}, {"name": "a2", "groups": []}]},
    {"name": "rack-b", "assignment": {"rack": "b"}, "groups": [{"name": "b1", "groups": []}, {"name": "b2", "groups": []}]}
  ]}]
}`;
const HOSTS = [
  { name: 'h1', ip: '192.168.1.11', tags: { rack: 'a' } },
  { name: 'h2', ip: '192.168.1.12', tags: { rack: 'a' } },
  { name: 'h3', ip: '192.168.1.13', tags: { rack: 'a' } },
  { name: 'h4', ip: '192.168.2.11', tags: { rack: 'b' } },
];

describe('romana-vpcrouter spec', () => {
  const topo = path.join(dir, 'topology.json');
  const hosts = path.join(dir, 'hosts.json');
  writeFileSync(topo, TOPOLOGY);
  writeFileSync(hosts, JSON.stringify(HOSTS));

  it('prints exactly {"routes": {...}} with -f json', () => {
    const out = execFileSync(process.execPath, [MAIN, 'spec', '--topology', topo, '--hosts', hosts, '-f', 'json'], { encoding: 'utf8' });
    expect(out).toBe(
      `{
  "routes": {
    "10.112.0.0/18": [
      "192.168.1.11",
      "192.168.1.13"
    ],
    "10.112.64.0/18": [
      "192.168.1.12"
    ],
    "10.112.128.0/18": [
      "192.168.2.11"
    ]
  }
}
`,
    );
  });

  it('prints a table with the routes per route table, without any AWS access', () => {
    const out = execFileSync(process.execPath, [MAIN, 'spec', '--topology', topo, '--hosts', hosts], {
      encoding: 'utf8',
      // An unreachable endpoint: the command must not need one.
      env: { ...process.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_REGION: '' },
    });
    expect(out).toBe(`CIDR             ROUTERS
10.112.0.0/18    192.168.1.11, 192.168.1.13
10.112.64.0/18   192.168.1.12
10.112.128.0/18  192.168.2.11

Routes per cluster route table: 3 (limit 50)
`);
  });

  it('names the problem for a host no group accepts and for a bad hosts file', () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ name: 'x', ip: '10.0.0.1', tags: { rack: 'z' } }]));
    const r = spawnSync(process.execPath, [MAIN, 'spec', '--topology', topo, '--hosts', bad], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/rack/);
    writeFileSync(bad, JSON.stringify([{ name: 'x', ip: 'nope' }]));
    const r2 = spawnSync(process.execPath, [MAIN, 'spec', '--topology', topo, '--hosts', bad], { encoding: 'utf8' });
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain('[0].ip: "nope" is not an IPv4 address');
    const r3 = spawnSync(process.execPath, [MAIN, 'spec', '--topology', topo], { encoding: 'utf8' });
    expect(r3.status).toBe(2);
    expect(r3.stderr).toContain('--topology and --hosts go together');
  });

  it('agrees with the spec from daemon-placed hosts and validates specs', () => {
    const fromFiles = specFromTopology(JSON.parse(TOPOLOGY), HOSTS);
    expect(specFromPlacedHosts([
      { name: 'h1', ip: '192.168.1.11', groups: [{ cidr: '10.112.0.0/18' }] },
      { name: 'h3', ip: '192.168.1.13', groups: [{ cidr: '10.112.0.0/18' }] },
      { name: 'h2', ip: '192.168.1.12', groups: [{ cidr: '10.112.64.0/18' }] },
      { name: 'h4', ip: '192.168.2.11', groups: [{ cidr: '10.112.128.0/18' }] },
    ])).toEqual(fromFiles);
    expect(validateSpec({ '10.1.0.0/16': ['10.0.0.2', '10.0.0.1', '10.0.0.2'] })).toEqual({ '10.1.0.0/16': ['10.0.0.1', '10.0.0.2'] });
    expect(() => validateSpec({ '10.1.0.0': ['x'] })).toThrow(/not a CIDR/);
  });
});

describe('route counts of the built-in AWS topologies (1,000 nodes)', () => {
  const names = builtinTopologyNames().filter((n) => n.startsWith('aws-'));
  it.each(names)('%s: one route per leaf group, under the 50-route limit', (name) => {
    const region = name.slice(4);
    const { zones, groupsPerZone } = AWS_REGIONS[region]!;
    const hosts = Array.from({ length: 1000 }, (_, i) => {
      const zone = `${region}${zones[i % zones.length]}`;
      return {
        name: `node-${i}`,
        ip: `10.${Math.floor(i / 250)}.${i % 250}.10`,
        tags: { 'failure-domain.beta.kubernetes.io/region': region, 'failure-domain.beta.kubernetes.io/zone': zone },
      };
    });
    const spec = specFromTopology(builtinTopology(name), hosts);
    const routes = Object.keys(spec).length;
    expect(routes).toBe(zones.length * groupsPerZone);
    expect(routes).toBeLessThan(50);
    expect(Object.values(spec).flat()).toHaveLength(1000);
    if (region === 'us-east-1') expect(routes).toBe(24);
    if (zones.length === 2) expect(routes).toBe(16);
    if (zones.length === 3) expect(routes).toBe(24);
  });
});
