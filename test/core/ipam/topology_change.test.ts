import { describe, expect, it } from 'vitest';
import { MemoryIpam, planAllocate, planTopologyChange } from '../../../src/core/ipam/index.js';
import { carveTopology } from '../../../src/core/topology/index.js';
import type { NetworkInput, TopologyInput } from '../../../src/core/topology/types.js';
import { errorOf, invariantProblems, ipamWith, rebuilt, snapshot } from './helpers.js';

const req = (name: string, host: string, tenant = 't', segment = '') => ({ name, host, tenant, segment });

function topo(networks: NetworkInput[], groups: number | TopologyInput['topologies'][number]['map']): TopologyInput {
  const map = typeof groups === 'number' ? Array.from({ length: groups }, (_, i) => ({ name: `g${i}`, groups: [] })) : groups;
  return { networks, topologies: [{ networks: networks.map((n) => n.name), map }] };
}

const NET = { name: 'n', cidr: '10.0.0.0/16', block_mask: 29 };

describe('planTopologyChange', () => {
  it('sets an initial topology: predefined hosts are created in their leaves', () => {
    const m = new MemoryIpam();
    const input = topo([NET], [{ name: 'r1', groups: [{ name: 'h1', ip: '192.168.0.1' }] }, { name: 'r2', groups: [] }]);
    const diff = m.setTopology(input);
    expect(diff.networksAdded).toEqual(['n']);
    expect(diff.hostsCreated).toEqual([{ host: 'h1', ip: '192.168.0.1', groups: { n: '/0' } }]);
    expect(m.hosts().map((h) => [h.name, h.groups[0]!.cidr])).toEqual([['h1', '10.0.0.0/17']]);
    expect(m.state.get('topology')!.value).toEqual({ schema: 1, input });
  });

  it('setting the same topology again changes nothing', () => {
    const input = topo([NET], 2);
    const m = ipamWith(input);
    const rev = m.revision;
    expect(planTopologyChange(m.state, input, carveTopology(input)).changes).toEqual([]);
    m.setTopology(input);
    expect(m.revision).toBe(rev);
  });

  it('a new network receives every existing host; allocations stay where they are', () => {
    const m = ipamWith(topo([NET], 2));
    m.addHost({ name: 'a', ip: '192.168.0.1' });
    m.addHost({ name: 'b', ip: '192.168.0.2' });
    const before = m.allocate(req('p', 'b'));
    const next = topo([NET, { name: 'm', cidr: '10.1.0.0/16', block_mask: 28 }], 2);
    const diff = m.setTopology(next);
    expect(diff.networksAdded).toEqual(['m']);
    expect(diff.hostsPlaced).toEqual([
      { host: 'a', network: 'm', group: '/0', cidr: '10.1.0.0/17' },
      { host: 'b', network: 'm', group: '/1', cidr: '10.1.128.0/17' },
    ]);
    expect(m.addresses()).toEqual([expect.objectContaining({ name: 'p', ip: before.ip, network: 'n' })]);
    expect(m.allocate(req('p', 'b'))).toEqual(before);
    expect(snapshot(rebuilt(m))).toEqual(snapshot(m.state));
  });

  it('growing a group list keeps existing leaves when their blocks still fit, and refuses when they do not', () => {
    const m = ipamWith(topo([NET], 2)); // g0 10.0.0.0/17, g1 10.0.128.0/17
    m.addHost({ name: 'a', ip: '192.168.0.1' });
    m.addHost({ name: 'b', ip: '192.168.0.2' });
    m.allocate(req('pa', 'a')); // 10.0.0.0/29 in g0
    m.allocate(req('pb', 'b')); // 10.0.128.0/29 in g1
    // Three groups: quarters. g0 keeps 10.0.0.0 (/18 still holds its block), g1 moves to 10.0.64.0/18.
    const e = errorOf(() => m.setTopology(topo([NET], 3)));
    expect(e.code).toBe('TOPOLOGY_CHANGE_ORPHANS');
    expect(e.details['orphans']).toEqual([
      {
        network: 'n',
        block: '10.0.128.0/29',
        host: 'b',
        tenant: 't',
        segment: '',
        reason: 'outside group "/1"\'s new CIDR 10.0.64.0/18',
        addresses: [{ name: 'pb', ip: '10.0.128.0' }],
      },
    ]);
    m.release('pb');
    const diff = m.setTopology(topo([NET], 3));
    expect(diff.networksChanged).toEqual([{ network: 'n', changes: ['groups'] }]);
    expect(m.hosts().map((h) => [h.name, h.groups[0]!.cidr])).toEqual([
      ['a', '10.0.0.0/18'],
      ['b', '10.0.64.0/18'],
    ]);
    // From three groups to four: the fourth takes the padding quarter, nothing else moves.
    m.allocate(req('pb', 'b'));
    const d4 = m.setTopology(topo([NET], 4));
    expect(d4.hostsMoved).toEqual([]);
    m.addHost({ name: 'c', ip: '192.168.0.3' });
    m.addHost({ name: 'd', ip: '192.168.0.4' });
    expect(m.hosts().map((h) => h.groups[0]!.cidr)).toEqual(['10.0.0.0/18', '10.0.64.0/18', '10.0.128.0/18', '10.0.192.0/18']);
    expect(invariantProblems(m.state)).toEqual([]);
  });

  it('refuses removing a network, changing its block size or CIDR, or its tenants, under blocks', () => {
    const m = ipamWith(topo([NET, { name: 'x', cidr: '10.1.0.0/16' }], 1));
    m.addHost({ name: 'a', ip: '192.168.0.1' });
    m.allocate(req('p', 'a'));
    const reasonOf = (input: TopologyInput) => (errorOf(() => m.setTopology(input)).details['orphans'] as Array<{ reason: string }>)[0]!.reason;
    expect(reasonOf(topo([{ name: 'x', cidr: '10.1.0.0/16' }], 1))).toBe('network "n" removed');
    expect(reasonOf(topo([{ ...NET, block_mask: 28 }, { name: 'x', cidr: '10.1.0.0/16' }], 1))).toBe('block_mask 29 -> 28');
    expect(reasonOf(topo([{ ...NET, cidr: '10.2.0.0/16' }, { name: 'x', cidr: '10.1.0.0/16' }], 1))).toBe("outside the network's new CIDR 10.2.0.0/16");
    expect(reasonOf(topo([{ ...NET, tenants: ['other'] }, { name: 'x', cidr: '10.1.0.0/16' }], 1))).toBe('network no longer serves tenant "t"');
    // Naming "t" on network x makes x the only network of "t" (strict tenants): also an orphan.
    expect(reasonOf(topo([NET, { name: 'x', cidr: '10.1.0.0/16', tenants: ['t'] }], 1))).toBe('network no longer serves tenant "t"');
    // Shrinking the CIDR while the block stays inside is fine.
    const ok = topo([{ ...NET, cidr: '10.0.0.0/17' }, { name: 'x', cidr: '10.1.0.0/16' }], 1);
    expect(m.setTopology(ok).networksChanged).toEqual([{ network: 'n', changes: ['cidr 10.0.0.0/16 -> 10.0.0.0/17', 'groups'] }]);
    expect(invariantProblems(m.state)).toEqual([]);
  });

  it('removing an empty network drops placements; hosts whose group disappeared are placed afresh', () => {
    const m = ipamWith(topo([NET, { name: 'x', cidr: '10.1.0.0/16' }], 2));
    m.addHost({ name: 'a', ip: '192.168.0.1' });
    m.addHost({ name: 'b', ip: '192.168.0.2' });
    const diff = m.setTopology(topo([NET], [{ name: 'only', groups: [] }]));
    expect(diff.networksRemoved).toEqual(['x']);
    expect(diff.hostsUnplaced).toEqual([
      { host: 'a', network: 'x', group: '/0', reason: 'network removed' },
      { host: 'b', network: 'x', group: '/1', reason: 'network removed' },
    ]);
    // b's group "/1" is gone: it moves (it had no blocks) to the only group "/".
    expect(diff.hostsMoved).toEqual([
      { host: 'a', network: 'n', from: '/0', to: '/', cidr: '10.0.0.0/16' },
      { host: 'b', network: 'n', from: '/1', to: '/', cidr: '10.0.0.0/16' },
    ]);
    expect(m.hosts().map((h) => h.groups.map((g) => `${g.network}${g.group}`))).toEqual([['n/'], ['n/']]);
  });

  it('keeps a host in its group even when its labels no longer fit the new assignment, with a warning', () => {
    const m = ipamWith(topo([NET], [{ name: 'r', assignment: { rack: '1' }, groups: [] }]));
    m.addHost({ name: 'a', ip: '192.168.0.1', labels: { rack: '1' } });
    m.allocate(req('p', 'a'));
    const diff = m.setTopology(topo([NET], [{ name: 'r', assignment: { rack: '2' }, groups: [] }]));
    expect(diff.warnings).toEqual(['Host "a" stays in group "/" of network "n" although its labels no longer fit the group\'s assignment']);
    expect(m.allocate(req('q', 'a')).ip).toBe('10.0.0.1');
  });

  it('predefined hosts: created where written; an existing host must keep its IP; one with blocks cannot move', () => {
    const m = ipamWith(topo([NET], 2));
    m.addHost({ name: 'a', ip: '192.168.0.1' }); // placed in /0
    m.allocate(req('p', 'a'));
    const withA = (ip: string) => topo([NET], [{ name: 'g0', groups: [] }, { name: 'g1', groups: [{ name: 'a', ip }] }]);
    expect(errorOf(() => m.setTopology(withA('192.168.0.9'))).code).toBe('HOST_EXISTS');
    const e = errorOf(() => m.setTopology(withA('192.168.0.1')));
    expect(e.code).toBe('TOPOLOGY_CHANGE_ORPHANS');
    expect(e.message).toContain('host "a" is predefined in group "/1"');
    const taken = topo([NET], [{ name: 'g0', groups: [] }, { name: 'g1', groups: [{ name: 'z', ip: '192.168.0.1' }] }]);
    expect(errorOf(() => m.setTopology(taken)).message).toContain('registered to host "a"');
    m.release('p');
    expect(m.setTopology(withA('192.168.0.1')).hostsMoved).toEqual([{ host: 'a', network: 'n', from: '/0', to: '/1', cidr: '10.0.128.0/17' }]);
  });

  it('deletes reservations of removed networks or outside the new CIDR', () => {
    const m = ipamWith(topo([NET, { name: 'x', cidr: '10.1.0.0/16' }], 1));
    m.reserve('n', '10.0.200.0/24');
    m.reserve('n', '10.0.0.0/24');
    m.reserve('x', '10.1.0.0/24');
    const diff = m.setTopology(topo([{ ...NET, cidr: '10.0.0.0/17' }], 1));
    expect(diff.reservationsRemoved.sort()).toEqual(['reservations/n/10.0.200.0/24', 'reservations/x/10.1.0.0/24']);
    expect(m.records().filter((r) => r.key.startsWith('reservations/')).map((r) => r.key)).toEqual(['reservations/n/10.0.0.0/24']);
  });

  it('a dry run (preview) reports the diff and changes nothing', () => {
    const m = ipamWith(topo([NET], 2));
    m.addHost({ name: 'a', ip: '192.168.0.1' });
    const before = snapshot(m.state);
    const diff = m.previewTopology(topo([NET, { name: 'm', cidr: '10.1.0.0/16' }], 2));
    expect(diff.hostsPlaced).toHaveLength(1);
    expect(snapshot(m.state)).toEqual(before);
  });

  it('an allocation planned against the old topology cannot commit a new block after the change', () => {
    const m = ipamWith(topo([NET], 2));
    m.addHost({ name: 'a', ip: '192.168.0.1' });
    const stale = planAllocate(m.state, req('p', 'a'));
    m.setTopology(topo([NET, { name: 'm', cidr: '10.1.0.0/16' }], 2));
    expect(errorOf(() => m.commit(stale.changes)).code).toBe('CONFLICT');
  });
});
