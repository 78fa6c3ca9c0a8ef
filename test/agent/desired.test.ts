/**
 * The agent's pure pieces: nat spec, route planning around the
 * aggregation kernel, the renderer's cluster view, the service-range
 * check, the iptables-save and ipset-save parsers, and the ClusterCache
 * fed by snapshots and watch events.
 */
import { describe, expect, it } from 'vitest';
import { normalizeMember, parseIpsetSave, tempName, TEMP_PREFIX } from '../../src/agent/drivers/ipset.js';
import { countRules, parseIptablesSave } from '../../src/agent/drivers/iptables_save.js';
import { ClusterCache } from '../../src/agent/view.js';
import { clusterViewOf, DONT_CARE_HOP, MASQ_CHAIN, natSpec, ownGroupCidrs, planRoutes, remoteHostAddresses, routesFromTable, serviceRangeOverlaps, THROW_HOP, type ReachInfo } from '../../src/core/agent/index.js';
import { cidr } from '../../src/core/ip.js';
import { carveTopology } from '../../src/core/topology/index.js';
import { DONT_CARE } from '../../src/kernels/types.js';
import { lookup } from '../kernels/helpers.js';
import { ruleHash } from '../../src/core/firewall/names.js';
import { aggregate } from '../../src/kernels/pool.js';

describe('natSpec', () => {
  it('masquerades pod traffic leaving the pod networks, with position-chained hashes', () => {
    const s = natSpec(['10.200.0.0/16', '10.112.0.0/12', '10.112.0.0/12'], true);
    expect(s.chains).toHaveLength(1);
    const c = s.chains[0]!;
    expect(c.name).toBe(MASQ_CHAIN);
    expect(c.rules.map((r) => r.spec)).toEqual(['-d 10.112.0.0/12 -j RETURN', '-d 10.200.0.0/16 -j RETURN', '-j MASQUERADE']);
    expect(c.rules[0]!.hash).toBe(ruleHash(MASQ_CHAIN, '', '-d 10.112.0.0/12 -j RETURN'));
    expect(c.rules[1]!.hash).toBe(ruleHash(MASQ_CHAIN, c.rules[0]!.hash, '-d 10.200.0.0/16 -j RETURN'));
    expect(s.jumps.map((j) => `${j.from} ${j.match} -j ${j.to}`)).toEqual(['POSTROUTING -s 10.112.0.0/12 -j ROMANA-MASQ', 'POSTROUTING -s 10.200.0.0/16 -j ROMANA-MASQ']);
    expect(new Set(s.jumps.map((j) => j.hash)).size).toBe(2);
    expect(natSpec(['10.0.0.0/8'], false)).toEqual({ chains: [], jumps: [] });
    expect(natSpec([], true)).toEqual({ chains: [], jumps: [] });
  });
});

describe('planRoutes and routesFromTable', () => {
  const hosts = new Map(
    [
      ['a', '10.0.0.1'],
      ['b', '10.0.0.2'],
      ['c', '192.168.1.3'],
      ['d', '10.0.0.4'],
    ].map(([n, ip]) => [n!, { name: n!, ip: ip! }]),
  );
  const reach = new Map<string, ReachInfo>([
    ['10.0.0.2', { gateway: null, local: false }],
    ['192.168.1.3', { gateway: '10.0.0.254', local: false }],
    ['10.0.0.4', { gateway: null, local: true }],
  ]);
  const b = (cidr: string, host: string) => ({ cidr, host, tenant: 't', segment: '' });
  const blocks = [b('10.1.0.0/29', 'b'), b('10.1.0.8/29', 'b'), b('10.1.0.16/29', 'a'), b('10.1.0.24/29', 'c'), b('10.1.0.32/29', 'd'), b('10.1.0.40/29', 'ghost')];

  it('sends remote blocks via their host, throws local blocks, and explains every skipped host', async () => {
    expect(remoteHostAddresses(blocks, hosts, 'a')).toEqual(['10.0.0.2', '10.0.0.4', '192.168.1.3']);
    const plan = planRoutes(blocks, hosts, 'a', reach, { multihop: false });
    expect(plan.hops).toEqual([null, '10.0.0.2']);
    expect(plan.skipped).toEqual([
      { host: 'c', reason: '192.168.1.3 is reached through gateway 10.0.0.254 (not on a shared link; use --multihop to route via the gateway)' },
      { host: 'd', reason: "its address 10.0.0.4 is this node's own" },
      { host: 'ghost', reason: 'host unknown or without an IPv4 address' },
    ]);
    const routes = routesFromTable(await aggregate(plan.triplets), plan.hops);
    expect(routes).toEqual([{ dst: '10.1.0.0/28', via: '10.0.0.2' }, { dst: '10.1.0.16/29' }]);
    const multi = planRoutes(blocks, hosts, 'a', reach, { multihop: true });
    expect(multi.hops).toEqual([null, '10.0.0.2', '10.0.0.254']);
    expect(routesFromTable(await aggregate(multi.triplets), multi.hops)).toContainEqual({ dst: '10.1.0.24/29', via: '10.0.0.254' });
  });
});

describe('planRoutes with don\'t-care groups', () => {
  const hosts = new Map(
    [
      ['a', '10.0.0.1'],
      ['b', '10.0.0.2'],
      ['c', '192.168.1.3'],
      ['e', '10.0.0.5'],
    ].map(([n, ip]) => [n!, { name: n!, ip: ip! }]),
  );
  const reach = new Map<string, ReachInfo>([
    ['10.0.0.2', { gateway: null, local: false }],
    ['192.168.1.3', { gateway: '10.0.0.254', local: false }],
    ['10.0.0.5', { gateway: null, local: false }],
  ]);
  const b = (c: string, host: string) => ({ cidr: c, host, tenant: 't', segment: '' });
  const group = cidr('10.1.0.0/24');
  // a (this node) and b share the group; c's block sits in it but c is behind a gateway; e is another group's.
  const blocks = [b('10.1.0.0/29', 'b'), b('10.1.0.8/29', 'a'), b('10.1.0.16/29', 'b'), b('10.1.0.24/29', 'c'), b('10.1.0.48/29', 'a'), b('10.2.0.0/29', 'e')];

  it('keeps reservations inside the group out (throw), ignores those elsewhere', async () => {
    const keepOut = [cidr('10.1.0.64/28'), cidr('10.3.0.0/24')];
    const plan = planRoutes(blocks, hosts, 'a', reach, { multihop: false, dontCare: [group], keepOut });
    expect(Array.from(plan.triplets.subarray(3, 6))).toEqual([cidr('10.1.0.64/28').base, 28, THROW_HOP]);
    expect(plan.triplets.length).toBe(3 * (1 + 1 + blocks.length)); // group, one reservation, every block (c's as throw)
    const table = await aggregate(plan.triplets);
    for (let o = 0; o < 16; o++) expect(lookup(table, cidr('10.1.0.64/28').base + o)).toBe(THROW_HOP);
    expect(planRoutes(blocks, hosts, 'a', reach, { multihop: false, keepOut }).triplets).toEqual(planRoutes(blocks, hosts, 'a', reach, { multihop: false }).triplets);
  });

  it('the hop id matches the kernel\'s DONT_CARE', () => {
    expect(DONT_CARE_HOP).toBe(DONT_CARE);
  });

  it('marks the group don\'t care first, throws local blocks and skipped hosts\' blocks inside it', () => {
    const plan = planRoutes(blocks, hosts, 'a', reach, { multihop: false, dontCare: [group] });
    expect(Array.from(plan.triplets.subarray(0, 3))).toEqual([group.base, 24, DONT_CARE_HOP]);
    expect(Array.from(plan.triplets.subarray(12, 15))).toEqual([cidr('10.1.0.24/29').base, 29, THROW_HOP]);
    expect(plan.skipped.map((s) => s.host)).toEqual(['c']);
  });

  it('needs fewer routes, and forwards every local, skipped and remote block as the exact plan does', async () => {
    const exact = planRoutes(blocks, hosts, 'a', reach, { multihop: false });
    const plan = planRoutes(blocks, hosts, 'a', reach, { multihop: false, dontCare: [group] });
    const exactTable = await aggregate(exact.triplets);
    const table = await aggregate(plan.triplets);
    expect(table.length).toBeLessThan(exactTable.length);
    expect(plan.hops).toEqual(exact.hops);
    const asRoute = (t: Uint32Array, a: number): string => {
      const hop = lookup(t, a);
      return hop === DONT_CARE ? 'main' : (plan.hops[hop] ?? 'main'); // throw and no route both fall through to main
    };
    for (const blk of blocks) {
      const c = cidr(blk.cidr);
      for (let o = 0; o < 8; o++) expect(asRoute(table, c.base + o)).toBe(asRoute(exactTable, c.base + o));
    }
    // Every local pod address falls through to main even under an aggregate.
    for (const local of ['10.1.0.8/29', '10.1.0.48/29']) for (let o = 0; o < 8; o++) expect(lookup(table, cidr(local).base + o)).toBe(THROW_HOP);
    // Nothing outside the group and the blocks is routed.
    expect(lookup(table, cidr('10.1.1.0/32').base)).toBe(DONT_CARE);
    expect(lookup(table, cidr('10.2.0.8/32').base)).toBe(DONT_CARE);
  });
});

describe('ownGroupCidrs', () => {
  const carved = carveTopology({
    networks: [{ name: 'pods', cidr: '10.112.0.0/16', block_mask: 29 }, { name: 'more', cidr: '10.120.0.0/16', block_mask: 29 }],
    topologies: [{ networks: ['pods', 'more'], map: [{ name: 'r0', groups: [] }, { name: 'r1', groups: [] }, { name: 'r2', groups: [] }] }],
  });

  it('finds the leaf of every network the host was placed in', () => {
    expect(ownGroupCidrs(carved, { pods: '/1', more: '/2' })).toEqual([cidr('10.112.64.0/18'), cidr('10.120.128.0/18')]);
  });

  it('leaves out unknown networks, unknown paths, padding and non-leaf groups', () => {
    expect(ownGroupCidrs(carved, { gone: '/0', pods: '/7', more: '/3' })).toEqual([]);
    expect(ownGroupCidrs(carved, { pods: '/' })).toEqual([]);
  });
});

describe('clusterViewOf', () => {
  it('maps records to the renderer view, sorted, with namespaces implied by pods and policies', () => {
    const v = clusterViewOf({
      tenants: [{ name: 'prod', labels: { env: 'prod' } }],
      endpoints: [
        { namespace: 'prod', pod: 'web-2', labels: { app: 'web' }, ip: '10.1.0.3', node: 'a', ports: [] },
        { namespace: 'dev', pod: 'x', labels: {}, ip: '10.1.0.4', node: 'b', ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }] },
        { namespace: 'prod', pod: 'web-1', labels: { app: 'web' }, ip: '10.1.0.2', node: 'a', ports: [] },
        { namespace: 'prod', pod: 'pending', labels: {}, ports: [] },
      ],
      netpols: [{ namespace: 'ops', name: 'deny', object: { kind: 'NetworkPolicy' } }],
      policies: [],
      blocks: [{ cidr: '10.1.0.0/29', host: 'a', tenant: 'prod', segment: '' }],
      hosts: [{ name: 'b', ip: '10.0.0.2' }, { name: 'a', ip: '10.0.0.1' }],
    });
    expect(v.namespaces).toEqual([{ name: 'dev', labels: {} }, { name: 'ops', labels: {} }, { name: 'prod', labels: { env: 'prod' } }]);
    expect(v.pods.map((p) => `${p.namespace}/${p.name}`)).toEqual(['dev/x', 'prod/web-1', 'prod/web-2']);
    expect(v.k8sPolicies).toEqual([{ kind: 'NetworkPolicy' }]);
    expect(v.hosts.map((h) => h.name)).toEqual(['a', 'b']);
  });
});

describe('serviceRangeOverlaps', () => {
  it('names the pod networks that overlap the service range', () => {
    expect(serviceRangeOverlaps(['10.112.0.0/12', '10.96.0.0/24', '192.168.0.0/16'], '10.96.0.0/12')).toEqual(['10.96.0.0/24']);
    expect(serviceRangeOverlaps(['10.0.0.0/8'], null)).toEqual([]);
  });
});

describe('iptables-save and ipset-save parsing', () => {
  it('finds chains, hashes and targets', () => {
    const t = parseIptablesSave(
      [
        '# Generated by iptables-save',
        '*filter',
        ':INPUT ACCEPT [0:0]',
        ':ROMANA-A - [0:0]',
        ':KUBE-X - [0:0]',
        '-A INPUT -i romana+ -m comment --comment "romana:0123abcd" -j ROMANA-A',
        '-A INPUT -m comment --comment "kube rule" -j KUBE-X',
        '-A ROMANA-A -s 10.0.0.1/32 -m comment --comment romana:ffff0000 -j ACCEPT',
        '-A KUBE-X -g ROMANA-A',
        'COMMIT',
        '*nat',
        ':POSTROUTING ACCEPT [0:0]',
        'COMMIT',
      ].join('\n'),
    );
    expect([...t.keys()]).toEqual(['filter', 'nat']);
    const f = t.get('filter')!;
    expect([...f.chains.keys()]).toEqual(['INPUT', 'ROMANA-A', 'KUBE-X']);
    expect(f.chains.get('INPUT')!.rules.map((r) => [r.hash, r.target])).toEqual([['0123abcd', 'ROMANA-A'], [null, 'KUBE-X']]);
    expect(f.chains.get('ROMANA-A')!.rules[0]!.hash).toBe('ffff0000');
    expect(f.chains.get('KUBE-X')!.rules[0]!.target).toBe('ROMANA-A');
    expect(countRules('*filter\n:INPUT ACCEPT [0:0]\n:ROMANA-A - [0:0]\n-A INPUT -j ROMANA-A\nCOMMIT\n')).toEqual({ rules: 1, userChains: ['ROMANA-A'] });
  });

  it('reads owned sets only, with members as the kernel prints them', () => {
    const s = parseIpsetSave(['create romana-a hash:net family inet', 'add romana-a 10.0.0.0/24', 'add romana-a 10.0.1.1', 'create other hash:ip family inet', 'add other 1.2.3.4'].join('\n'));
    expect([...s.keys()]).toEqual(['romana-a']);
    expect([...s.get('romana-a')!.members]).toEqual(['10.0.0.0/24', '10.0.1.1']);
    expect(normalizeMember('hash:net', '10.0.1.1/32')).toBe('10.0.1.1');
    expect(normalizeMember('hash:ip', '10.0.1.1')).toBe('10.0.1.1');
    expect(tempName('romana-s-0123456789abcdef')).toMatch(new RegExp(`^${TEMP_PREFIX}[0-9a-f]{20}$`));
    expect(tempName('romana-s-0123456789abcdef')).toHaveLength(31);
  });
});

describe('ClusterCache', () => {
  const topology = { schema: 1, input: { networks: [{ name: 'n', cidr: '10.112.0.0/12' }], topologies: [] } };
  const host = (name: string, ip: string) => ({ schema: 1, name, ip, labels: {}, groups: {} });
  const blockRec = { schema: 1, network: 'n', cidr: '10.112.0.0/29', group: 'g', host: 'a', tenant: '', segment: '', names: {} };

  it('loads a snapshot, applies events with the parts they affect, and ignores unreadable records', () => {
    const corrupt: string[] = [];
    const c = new ClusterCache((key) => corrupt.push(key));
    c.load(
      [
        { key: 'topology', value: topology },
        { key: 'hosts/a', value: host('a', '10.0.0.1') },
        { key: 'blocks/n/10.112.0.0/29', value: blockRec },
        { key: 'tenants/prod', value: { schema: 1, name: 'prod', labels: { env: 'prod' } } },
        { key: 'endpoints/prod/web', value: { schema: 1, namespace: 'prod', pod: 'web', labels: {}, ip: '10.112.0.1', node: 'a', ports: [] } },
        { key: 'hosts/bad', value: { schema: 1, name: 'other-name', ip: '1.1.1.1', labels: {}, groups: {} } },
      ],
      7,
    );
    expect(c.revision).toBe(7);
    expect(c.podNetworks()).toEqual(['10.112.0.0/12']);
    expect([...c.hosts.keys()]).toEqual(['a']);
    expect(corrupt).toEqual(['hosts/bad']);
    expect(c.tenants.get('prod')!.labels).toEqual({ env: 'prod' });

    expect(c.apply({ revision: 8, type: 'put', key: 'hosts/b', value: host('b', '10.0.0.2') })).toEqual(['routes', 'firewall']);
    expect(c.apply({ revision: 9, type: 'put', key: 'netpols/prod/x', value: { schema: 1, namespace: 'prod', name: 'x', object: {} } })).toEqual(['firewall']);
    expect(c.apply({ revision: 10, type: 'put', key: 'addresses/p', value: {} })).toEqual([]);
    expect(c.apply({ revision: 11, type: 'delete', key: 'endpoints/prod/web', value: null })).toEqual(['firewall']);
    expect(c.apply({ revision: 12, type: 'put', key: 'topology', value: topology })).toEqual(['nat', 'routes']);
    // Reservations only shape routes (kept out of don't-care space).
    const reservation = { schema: 1, network: 'n', cidr: '10.112.1.0/28' };
    expect(c.apply({ revision: 12, type: 'put', key: 'reservations/n/10.112.1.0/28', value: reservation })).toEqual(['routes']);
    expect([...c.reservations.values()]).toEqual([reservation]);
    expect(c.apply({ revision: 12, type: 'delete', key: 'reservations/n/10.112.1.0/28', value: null })).toEqual(['routes']);
    expect(c.reservations.size).toBe(0);
    expect(c.revision).toBe(12);
    expect(c.endpoints.size).toBe(0);
    expect(c.hosts.size).toBe(2);
    // A record that turns unreadable is dropped (its old value would mislead), and reported.
    c.apply({ revision: 13, type: 'put', key: 'hosts/b', value: { schema: 99 } });
    expect(c.hosts.has('b')).toBe(false);
    expect(c.corrupt.has('hosts/b')).toBe(true);
  });
});
