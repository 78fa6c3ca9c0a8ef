/**
 * The text of every table and view, pinned by golden files
 * (test/cli/golden/*.txt; UPDATE_GOLDEN=1 rewrites them). Inputs are the
 * daemon's JSON shapes (src/shared/api_types.ts), written out here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePolicyDocument } from '../../src/core/policy/index.js';
import { carveTopology, parseTopologyText, topologyToOutput, usableLeaves } from '../../src/core/topology/index.js';
import type { AddressJson, BlockJson, HostJson, NetworkJson, SegmentJson, TenantJson, UtilisationJson } from '../../src/shared/api_types.js';
import { hostAddText, hostListText, hostRemoveText, hostShowText } from '../../src/cli/render/hosts.js';
import { addressListText, blockListText, ipamShowText, networkListText } from '../../src/cli/render/ipam.js';
import { policyAddText, policyListText, policyRemoveText, policyShowText } from '../../src/cli/render/policies.js';
import { segmentListText, tenantCreateText, tenantDeleteText, tenantListText, tenantShowText } from '../../src/cli/render/tenants.js';
import { buildTopologyTree, topologyTreeText, topologyUpdateText } from '../../src/cli/render/topology.js';
import { formatCidr } from '../../src/core/ip.js';
import { expectGolden } from './golden.js';

const W = 80;

function lines80(text: string): void {
  for (const l of text.split('\n')) expect([...l].length, l).toBeLessThanOrEqual(W);
}

const HOSTS: HostJson[] = [
  {
    name: 'node1',
    ip: '192.168.99.10',
    agent_port: 9604,
    tags: { zone: 'a', rack: 'r1' },
    groups: [{ network: 'romana-network', group: '/0', group_name: 'host-group-01', cidr: '10.112.0.0/15' }],
    blocks: 2,
    addresses: 9,
  },
  {
    name: 'ip-192-168-99-11.eu-west-1.compute.internal',
    ip: '192.168.99.11',
    agent_port: 9604,
    tags: {},
    groups: [
      { network: 'romana-network', group: '/1', group_name: 'host-group-02', cidr: '10.114.0.0/15' },
      { network: 'lab', group: '/0', group_name: '', cidr: '192.168.64.0/26' },
    ],
    blocks: 0,
    addresses: 0,
  },
];

const BLOCKS: BlockJson[] = [
  { revision: 14, cidr: '10.112.0.0/29', network: 'romana-network', group: '/0', group_name: 'host-group-01', host: 'node1', tenant: 'kube-system', segment: '', allocated_ip_count: 8, reserved: 0, size: 8 },
  { revision: 15, cidr: '10.112.0.8/29', network: 'romana-network', group: '/0', group_name: 'host-group-01', host: 'node1', tenant: 'tenant-a', segment: 'backend', allocated_ip_count: 1, reserved: 0, size: 8 },
];

describe('host views', () => {
  it('host list', () => {
    const t = hostListText(HOSTS, W);
    lines80(t);
    expectGolden('host_list', t);
    expect(hostListText([], W)).toBe('Host List\nNo hosts are registered.\n');
  });

  it('host show', () => {
    const t = hostShowText([{ host: HOSTS[0]!, blocks: BLOCKS }, { host: HOSTS[1]!, blocks: [] }], W);
    lines80(t);
    expectGolden('host_show', t);
  });

  it('host add / remove messages', () => {
    expect(hostAddText({ host: HOSTS[0]!, created: true })).toBe('Host "node1" (192.168.99.10) added: host-group-01 10.112.0.0/15.\n');
    expect(hostAddText({ host: HOSTS[0]!, created: false })).toMatch(/already exists with the same attributes; nothing changed/);
    expect(hostRemoveText({ host: HOSTS[0]!, released: [] })).toBe('Host "node1" (192.168.99.10) removed; 0 addresses released.\n');
  });
});

const TENANTS: TenantJson[] = [
  { name: 'kube-system', segments: [], addresses: 8 },
  { name: 'tenant-a', segments: ['backend', 'frontend', 'monitoring', 'batch-processing'], addresses: 1 },
];
const SEGMENTS: SegmentJson[] = [
  { tenant: 'tenant-a', name: 'backend', addresses: 1 },
  { tenant: 'tenant-a', name: 'frontend', addresses: 0 },
];

describe('tenant and segment views', () => {
  it('tenant list, tenant show, segment list', () => {
    const list = tenantListText(TENANTS, W);
    const show = tenantShowText([{ tenant: TENANTS[1]!, segments: SEGMENTS }, { tenant: TENANTS[0]!, segments: [] }], W);
    const segs = segmentListText(SEGMENTS, W);
    for (const t of [list, show, segs]) lines80(t);
    expectGolden('tenant_list', list);
    expectGolden('tenant_show', show);
    expectGolden('segment_list', segs);
  });

  it('messages', () => {
    expect(tenantCreateText({ tenant: TENANTS[0]!, created: true })).toBe('Tenant "kube-system" created.\n');
    expect(tenantDeleteText(TENANTS[1]!)).toBe('Tenant "tenant-a" deleted with its 4 segments (backend, frontend, monitoring, batch-processing).\n');
  });
});

const SEED_POLICY = {
  securitypolicies: [
    {
      name: 'policy1',
      description: 'Opening SSH, HTTP and HTTPS ports as well as ICMP',
      direction: 'ingress',
      applied_to: [{ tenant: 'admin', segment: 'default' }],
      peers: [{ peer: 'any' }],
      rules: [{ protocol: 'tcp', ports: [22, 80, 443] }, { protocol: 'icmp' }],
    },
  ],
};

function policies() {
  const seed = parsePolicyDocument(SEED_POLICY, { newId: () => 'unused' }).policies.map((p) => ({ ...p, id: '8e66083f-20e3-4228-af69-96b7c8269bbb' }));
  const v2 = parsePolicyDocument({
    id: 'kube.tenant-a.pol1.a8e9618f-ab1d-11e7-a1ea-068bf013416e',
    direction: 'ingress',
    applied_to: [{ tenant_id: 'tenant-a', segment_id: 'backend' }],
    ingress: [
      { peers: [{ tenant_id: 'tenant-a', segment_id: 'frontend' }], rules: [{ protocol: 'tcp', ports: [80], port_ranges: [[8000, 8100]] }] },
      { peers: [{ cidr: '10.0.0.0/8' }], rules: [{ protocol: 'icmp', icmp_type: 3, icmp_code: 1 }] },
    ],
  }, { newId: () => 'unused' }).policies;
  return [...seed, ...v2];
}

describe('policy views', () => {
  it('policy list, policy show, policy add', () => {
    const ps = policies();
    const list = policyListText(ps, W);
    const show = policyShowText(ps, W);
    const add = policyAddText({ results: [{ outcome: 'created', policy: ps[0]! }, { outcome: 'unchanged', policy: ps[1]! }] }, W);
    for (const t of [list, show, add]) lines80(t);
    expectGolden('policy_list', list);
    expectGolden('policy_show', show);
    expectGolden('policy_add', add);
    // A UUID stays on one line: ids are what -i takes.
    expect(list).toContain('8e66083f-20e3-4228-af69-96b7c8269bbb');
    expect(policyRemoveText(ps[0]!)).toBe('Policy "policy1" (id 8e66083f-20e3-4228-af69-96b7c8269bbb) deleted.\n');
  });
});

describe('network, block, address and ipam views', () => {
  it('network list, block list, address list', () => {
    const nets: NetworkJson[] = [
      { id: 'romana-network', name: 'romana-network', cidr: '10.112.0.0/12', block_mask: 29, tenants: null, revision: 15, blocks: 2, allocated: 9 },
      { id: 'prod', name: 'prod', cidr: '10.20.0.0/20', block_mask: 28, tenants: ['web', 'db'], revision: 0, blocks: 0, allocated: 0 },
    ];
    const addrs: AddressJson[] = [
      { name: 'kube-system.coredns-5644d7b6d9-8xk2p.1a2b3c4d', ip: '10.112.0.0', network: 'romana-network', block: '10.112.0.0/29', host: 'node1', tenant: 'kube-system', segment: '' },
      { name: 'tenant-a.web-0.5e6f7a8b', ip: '10.112.0.8', network: 'romana-network', block: '10.112.0.8/29', host: 'node1', tenant: 'tenant-a', segment: 'backend' },
    ];
    const n = networkListText(nets, W);
    const b = blockListText(BLOCKS, W);
    const a = addressListText(addrs, W);
    for (const t of [n, b, a]) lines80(t);
    expectGolden('network_list', n);
    expectGolden('block_list', b);
    expectGolden('address_list', a);
  });

  it('ipam show', () => {
    const u: UtilisationJson = {
      networks: [{ network: 'romana-network', cidr: '10.112.0.0/12', size: 1048576, reserved: 16, blocks: 2, block_addresses: 16, allocated: 9, utilisation: 9 / 1048560 }],
      groups: [
        { network: 'romana-network', group: '/0', name: 'host-group-01', cidr: '10.112.0.0/15', hosts: 1, slots: 16384, blocks: 2, size: 131072, allocated: 9 },
        { network: 'romana-network', group: '/1', name: '', cidr: '10.114.0.0/15', hosts: 1, slots: 16384, blocks: 0, size: 131072, allocated: 0 },
      ],
      hosts: [
        { host: 'node1', blocks: 2, block_addresses: 16, allocated: 9 },
        { host: 'node2', blocks: 0, block_addresses: 0, allocated: 0 },
      ],
    };
    const t = ipamShowText(u, W);
    lines80(t);
    expectGolden('ipam_show', t);
  });
});

describe('topology views', () => {
  const fixture = parseTopologyText(readFileSync(new URL('../fixtures/topology/hosts_and_tenants.json', import.meta.url), 'utf8'));
  const carved = carveTopology(fixture);
  // What GET /topology answers: the input with CIDRs, padding slots and hosts filled in.
  const output = topologyToOutput(carved);
  const groups: UtilisationJson['groups'] = [];
  for (const n of carved.networks) {
    for (const leaf of usableLeaves(n)) {
      const tor1 = leaf.name === 'tor-1';
      groups.push({ network: n.name, group: leaf.path, name: leaf.name, cidr: formatCidr(leaf.cidr), hosts: tor1 ? 2 : leaf.name === 'tor-2' ? 1 : 0, slots: 4, blocks: tor1 ? 1 : 0, size: 256, allocated: tor1 ? 3 : 0 });
    }
  }
  const util: UtilisationJson = {
    networks: carved.networks.map((n) => ({ network: n.name, cidr: formatCidr(n.cidr), size: 2 ** (32 - n.cidr.prefix), reserved: 0, blocks: n.name === 'prod' ? 1 : 0, block_addresses: 16, allocated: n.name === 'prod' ? 3 : 0, utilisation: 0 })),
    groups,
    hosts: [],
  };
  const place = (name: string, ip: string, leaf: string): HostJson => ({
    name,
    ip,
    agent_port: 9604,
    tags: {},
    groups: carved.networks.map((n) => {
      const g = usableLeaves(n).find((l) => l.name === leaf)!;
      return { network: n.name, group: g.path, group_name: g.name, cidr: formatCidr(g.cidr) };
    }),
    blocks: 0,
    addresses: 0,
  });
  const hosts = [place('node-1', '192.168.0.11', 'tor-1'), place('node-2', '192.168.0.12', 'tor-1'), place('node-3', '192.168.0.13', 'tor-2')];
  const blocks: BlockJson[] = [
    { revision: 9, cidr: '10.20.0.0/28', network: 'prod', group: hosts[0]!.groups[0]!.group, group_name: 'tor-1', host: 'node-1', tenant: 'web', segment: '', allocated_ip_count: 3, reserved: 0, size: 16 },
  ];

  it('builds the tree with paths, padding, hosts and usage', () => {
    const tree = buildTopologyTree(output, util, hosts, blocks);
    const prod = tree.networks[0]!;
    expect(prod).toMatchObject({ name: 'prod', cidr: '10.20.0.0/20', tenants: ['web', 'db'], allocated: 3 });
    const spine1 = prod.groups[0]!;
    expect(spine1).toMatchObject({ name: 'spine-1', host_count: 3, blocks: 1, allocated: 3 });
    const tor1 = spine1.groups[0]!;
    expect(tor1.hosts).toEqual([
      { name: 'node-1', ip: '192.168.0.11', blocks: 1, allocated: 3 },
      { name: 'node-2', ip: '192.168.0.12', blocks: 0, allocated: 0 },
    ]);
    expect(prod.groups.map((g) => [g.name, g.padding])).toEqual([
      ['spine-1', false],
      ['reserved', true],
      ['spine-3', false],
      ['', true],
    ]);
    const t = topologyTreeText(tree, W);
    lines80(t);
    expectGolden('topology_show', t);
  });

  it('topology update: dry run, applied, unchanged', () => {
    const diff = {
      networksAdded: ['net2'],
      networksRemoved: ['old'],
      networksChanged: [{ network: 'prod', changes: ['tenants web,db -> web,db,cache'] }],
      hostsCreated: [{ host: 'node-9', ip: '192.168.0.19', groups: { prod: '/0/2' } }],
      hostsPlaced: [{ host: 'node-1', network: 'net2', group: '/0', cidr: '10.200.0.0/18' }],
      hostsMoved: [],
      hostsUnplaced: [{ host: 'node-3', network: 'old', group: '/1', reason: 'network removed' }],
      reservationsRemoved: ['reservations/old/10.9.0.0/24'],
      warnings: ['host "node-2" no longer matches the assignment of its group'],
    };
    const dry = topologyUpdateText({ dry_run: true, changed: true, diff, revision: 7 });
    expectGolden('topology_update_dry_run', dry);
    expect(topologyUpdateText({ dry_run: false, changed: true, diff, revision: 8 })).toMatch(/^Topology updated \(revision 8\):\n  \+ network "net2"\n/);
    expect(topologyUpdateText({ dry_run: false, changed: false, diff: { ...diff, networksAdded: [] }, revision: 8 })).toBe('No change: the topology given equals the installed one.\n');
  });
});
