import { describe, expect, it } from 'vitest';
import {
  applyChanges,
  applyStoreEvent,
  IpamState,
  MemoryIpam,
  planAddHost,
  planAllocate,
  planRelease,
  planRemoveHost,
  planReserve,
  type Change,
} from '../../../src/core/ipam/index.js';
import type { TopologyInput } from '../../../src/core/topology/types.js';
import { errorOf, expectError, invariantProblems, ipamWith, rebuilt, snapshot } from './helpers.js';

const req = (name: string, host: string, tenant = 't', segment = '') => ({ name, host, tenant, segment });

/** 10.0.0.0/24, /29 blocks; racks a and b (/26 each) plus an unlabelled /26 and a padding /26. */
const racks: TopologyInput = {
  networks: [{ name: 'n', cidr: '10.0.0.0/24', block_mask: 29 }],
  topologies: [
    {
      networks: ['n'],
      map: [
        { name: 'a', assignment: { rack: 'a' }, groups: [] },
        { name: 'b', assignment: { rack: 'b' }, groups: [] },
        { name: 'any', groups: [] },
      ],
    },
  ],
};

describe('planners are pure', () => {
  it('planning changes nothing; the same plan twice is equal', () => {
    const m = ipamWith(racks);
    m.addHost({ name: 'h1', ip: '192.168.0.1', labels: { rack: 'a' } });
    m.allocate(req('p1', 'h1'));
    const before = snapshot(m.state);
    const p1 = planAllocate(m.state, req('p2', 'h1'));
    const p2 = planAllocate(m.state, req('p2', 'h1'));
    planRelease(m.state, 'p1');
    planRemoveHost(m.state, 'h1');
    planAddHost(m.state, { name: 'h2', ip: '192.168.0.2', labels: { rack: 'b' } });
    planReserve(m.state, 'n', '10.0.0.128/26');
    expect(p1).toEqual(p2);
    expect(snapshot(m.state)).toEqual(before);
  });

  it('a refused plan writes nothing (never half-applied)', () => {
    const m = ipamWith(racks);
    m.addHost({ name: 'h1', ip: '192.168.0.1', labels: { rack: 'a' } });
    for (let i = 0; i < 64; i++) m.allocate(req(`p${i}`, 'h1'));
    const before = snapshot(m.state);
    expectError(() => m.allocate(req('over', 'h1')), 'POOL_EXHAUSTED', 'host "h1"', 'tenant "t"', '"n" group 10.0.0.0/26');
    expect(snapshot(m.state)).toEqual(before);
  });
});

describe('compare-and-swap revisions on changes', () => {
  it('a new block compares the host and topology records and creates block and address from nothing', () => {
    const m = ipamWith(racks);
    m.addHost({ name: 'h1', ip: '192.168.0.1', labels: { rack: 'a' } });
    const hostRev = m.state.get('hosts/h1')!.revision;
    const topoRev = m.state.get('topology')!.revision;
    const p = planAllocate(m.state, req('p1', 'h1'));
    expect(p.changes.map((c) => [c.op, c.key, c.expect])).toEqual([
      ['check', 'hosts/h1', hostRev],
      ['check', 'topology', topoRev],
      ['put', 'blocks/n/10.0.0.0/29', 0],
      ['put', 'addresses/p1', 0],
    ]);
    expect(p.changes[2]).toMatchObject({ value: { schema: 1, network: 'n', cidr: '10.0.0.0/29', group: '/0', host: 'h1', tenant: 't', segment: '', names: { 0: 'p1' } } });
    expect(p.changes[3]).toMatchObject({ value: { schema: 1, name: 'p1', ip: '10.0.0.0', network: 'n', block: '10.0.0.0/29', host: 'h1' } });
  });

  it('an address in an existing block updates the block at its revision; release deletes at revisions', () => {
    const m = ipamWith(racks);
    m.addHost({ name: 'h1', ip: '192.168.0.1', labels: { rack: 'a' } });
    m.allocate(req('p1', 'h1'));
    const blockRev = m.state.get('blocks/n/10.0.0.0/29')!.revision;
    const p = planAllocate(m.state, req('p2', 'h1'));
    expect(p.changes.map((c) => [c.op, c.key, c.expect])).toEqual([
      ['put', 'blocks/n/10.0.0.0/29', blockRev],
      ['put', 'addresses/p2', 0],
    ]);
    m.commit(p.changes);
    const r1 = planRelease(m.state, 'p1');
    expect(r1.changes.map((c) => [c.op, c.key, c.expect])).toEqual([
      ['delete', 'addresses/p1', m.state.get('addresses/p1')!.revision],
      ['put', 'blocks/n/10.0.0.0/29', m.revision],
    ]);
    m.commit(r1.changes);
    // Releasing the last address deletes the block record.
    expect(planRelease(m.state, '10.0.0.1').changes.map((c) => [c.op, c.key])).toEqual([
      ['delete', 'addresses/p2'],
      ['delete', 'blocks/n/10.0.0.0/29'],
    ]);
  });

  it('two plans from one state: the second fails its compare once the first commits', () => {
    const m = ipamWith(racks);
    m.addHost({ name: 'h1', ip: '192.168.0.1', labels: { rack: 'a' } });
    const a = planAllocate(m.state, req('pa', 'h1'));
    const b = planAllocate(m.state, req('pb', 'h1'));
    // Both chose the same new block; a store would accept only one.
    expect(a.allocation.ip).toBe(b.allocation.ip);
    m.commit(a.changes);
    expectError(() => m.commit(b.changes), 'CONFLICT', 'blocks/n/10.0.0.0/29');
    // Re-planning on the updated state succeeds with the next address.
    expect(m.allocate(req('pb', 'h1')).ip).toBe('10.0.0.1');
  });

  it('removing a host compares every record it deletes, so a concurrent allocation cannot slip in', () => {
    const m = ipamWith(racks);
    m.addHost({ name: 'h1', ip: '192.168.0.1', labels: { rack: 'a' } });
    m.allocate(req('p1', 'h1'));
    const removal = planRemoveHost(m.state, 'h1');
    m.allocate(req('p2', 'h1')); // lands in the same block, changing its revision
    expectError(() => m.commit(removal.changes), 'CONFLICT', 'blocks/n/10.0.0.0/29');
    const newBlock = planAllocate(m.state, req('p3', 'h1', 'other'));
    m.removeHost('h1');
    // A new block planned before the removal compares the host record: refused.
    expectError(() => m.commit(newBlock.changes), 'CONFLICT', 'hosts/h1');
  });
});

describe('applying commits and watch events', () => {
  it('a replica following the change stream ends with the same indexes', () => {
    const m = ipamWith(racks);
    const replica = rebuilt(m);
    const follow = (changes: readonly Change[]) => {
      const rev = m.commit(changes);
      for (const c of changes) if (c.op !== 'check') applyStoreEvent(replica, c.key, c.op === 'put' ? c.value : null, rev);
    };
    follow(planAddHost(m.state, { name: 'h1', ip: '192.168.0.1', labels: { rack: 'a' } }).changes);
    follow(planAddHost(m.state, { name: 'h2', ip: '192.168.0.2' }).changes);
    for (let i = 0; i < 12; i++) follow(planAllocate(m.state, req(`p${i}`, i % 2 ? 'h1' : 'h2', i % 3 ? 't' : 'u')).changes);
    follow(planRelease(m.state, 'p4').changes);
    follow(planReserve(m.state, undefined, '10.0.0.20/30').changes);
    follow(planRemoveHost(m.state, 'h1').changes);
    expect(snapshot(replica)).toEqual(snapshot(m.state));
  });

  it('an echo of an applied commit, or an older write, is ignored', () => {
    const m = ipamWith(racks);
    m.addHost({ name: 'h1', ip: '192.168.0.1', labels: { rack: 'a' } });
    const p = planAllocate(m.state, req('p1', 'h1'));
    const rev = m.commit(p.changes);
    const after = snapshot(m.state);
    applyChanges(m.state, p.changes, rev); // echo from the watch
    expect(snapshot(m.state)).toEqual(after);
    m.release('p1');
    const released = snapshot(m.state);
    applyStoreEvent(m.state, 'addresses/p1', p.changes[3]!.op === 'put' ? p.changes[3]!.value : null, rev); // stale put
    expect(snapshot(m.state)).toEqual(released);
  });

  it('records of a foreign schema are refused as STORE_CORRUPT naming the key', () => {
    const m = ipamWith(racks);
    const bad = { schema: 2, name: 'x' } as never;
    expectError(() => IpamState.fromRecords(m.state.topology, [{ key: 'hosts/x', value: bad, revision: 3 }]), 'STORE_CORRUPT', '"hosts/x"', 'schema 2');
  });

  it('blocks that no longer fit the topology are kept as strays: listed, never allocated from', () => {
    const m = ipamWith(racks);
    m.addHost({ name: 'h1', ip: '192.168.0.1', labels: { rack: 'a' } });
    const stray = { key: 'blocks/gone/10.9.0.0/29', revision: 99, value: { schema: 1 as const, network: 'gone', cidr: '10.9.0.0/29', group: '/0', host: 'h1', tenant: 't', segment: '', names: { 1: 'old' } } };
    const s = IpamState.fromRecords(m.state.topology, [...m.records(), stray]);
    expect([...s.strayBlocks].map((b) => b.key)).toEqual(['blocks/gone/10.9.0.0/29']);
    expect(invariantProblems(s)).toContain('stray block blocks/gone/10.9.0.0/29');
    expect(planAllocate(s, req('p', 'h1')).allocation.ip).toBe('10.0.0.0');
  });
});

describe('host placement', () => {
  it('picks the eligible leaf with the fewest hosts, ties to the first; never padding', () => {
    const m = ipamWith(racks);
    const place = (name: string, ip: string, labels: Record<string, string> = {}) => m.addHost({ name, ip, labels }).groups['n'];
    expect(place('x1', '192.168.0.1')).toBe('/2'); // only the unlabelled group accepts it
    expect(place('x2', '192.168.0.2', { rack: 'a' })).toBe('/0');
    expect(place('x3', '192.168.0.3', { rack: 'a' })).toBe('/0');
    expect(m.hosts().every((h) => h.groups.every((g) => g.group !== '/3'))).toBe(true);
  });

  it('ancestors\' assignments apply; a missing label never matches an empty value', () => {
    const m = ipamWith({
      networks: [{ name: 'n', cidr: '10.0.0.0/16' }],
      topologies: [
        {
          networks: ['n'],
          map: [
            { name: 'zone1', assignment: { zone: '1' }, groups: [{ name: 'r1', groups: [] }, { name: 'r2', assignment: { master: '' }, groups: [] }] },
            { name: 'zone2', assignment: { zone: '2' }, groups: [] },
          ],
        },
      ],
    });
    expect(m.addHost({ name: 'a', ip: '10.1.0.1', labels: { zone: '1' } }).groups).toEqual({ n: '/0/0' });
    expect(m.addHost({ name: 'b', ip: '10.1.0.2', labels: { zone: '1', master: '' } }).groups).toEqual({ n: '/0/1' });
    expect(m.addHost({ name: 'c', ip: '10.1.0.3', labels: { zone: '1' } }).groups).toEqual({ n: '/0/0' });
    // r2 requires master="" and zone1 requires zone="1": a host with neither fits nowhere.
    const e = errorOf(() => m.addHost({ name: 'd', ip: '10.1.0.4', labels: { master: '' } }));
    expect(e.code).toBe('NO_SUITABLE_GROUP');
    // r1 and r2 both lack only zone="1": the tie goes to the first.
    expect(e.message).toBe('No prefix group accepts host "d" with labels master="": closest group "r1" (/0/0, 10.0.0.0/18) of network "n" requires zone="1"');
  });

  it('refuses duplicate names and IPs, and malformed ones', () => {
    const m = ipamWith(racks);
    m.addHost({ name: 'h1', ip: '192.168.0.1' });
    expectError(() => m.addHost({ name: 'h1', ip: '192.168.0.9' }), 'HOST_EXISTS', 'Host "h1" already exists', '192.168.0.1');
    expectError(() => m.addHost({ name: 'h2', ip: '192.168.0.1' }), 'HOST_EXISTS', 'IP 192.168.0.1', 'host "h1"');
    expectError(() => m.addHost({ name: 'bad/name', ip: '192.168.0.2' }), 'INVALID_ARGUMENT', 'host name "bad/name"');
    expectError(() => m.addHost({ name: 'h3', ip: '192.168.0.256' }), 'INVALID_ARGUMENT', 'host IP "192.168.0.256"');
    expectError(() => m.addHost({ name: 'h3', ip: '192.168.0.3', labels: { a: 1 as unknown as string } }), 'INVALID_ARGUMENT', 'label "a"');
  });

  it('relabelling keeps the group, refuses labels that no longer fit, and adds newly eligible networks', () => {
    const m = ipamWith({
      networks: [
        { name: 'n1', cidr: '10.0.0.0/16' },
        { name: 'gpu', cidr: '10.1.0.0/16' },
      ],
      topologies: [
        { networks: ['n1'], map: [{ groups: [] }] },
        { networks: ['gpu'], map: [{ assignment: { gpu: 'yes' }, groups: [] }] },
      ],
    });
    m.addHost({ name: 'h', ip: '10.9.0.1' });
    expect(m.hosts()[0]!.groups.map((g) => g.network)).toEqual(['n1']);
    expect(m.updateHostLabels('h', { gpu: 'yes' }).groups).toEqual({ n1: '/', gpu: '/' });
    expectError(() => m.updateHostLabels('h', {}), 'NO_SUITABLE_GROUP', 'New labels of host "h"', 'network "gpu"', 'gpu="yes"');
    expectError(() => m.updateHostLabels('nope', {}), 'HOST_NOT_FOUND', '"nope"');
    // Re-sending the same labels (the listener does on every sync) writes nothing.
    const rev = m.revision;
    m.updateHostLabels('h', { gpu: 'yes' });
    expect(m.revision).toBe(rev);
  });

  it('removing a host releases every block and address, so its names can be reused', () => {
    const m = ipamWith(racks);
    m.addHost({ name: 'h1', ip: '192.168.0.1', labels: { rack: 'a' } });
    m.addHost({ name: 'h2', ip: '192.168.0.2', labels: { rack: 'a' } }); // emptiest eligible: "any"
    for (let i = 0; i < 10; i++) m.allocate(req(`p${i}`, 'h1', i % 2 ? 't' : 'u'));
    m.allocate(req('keep', 'h2'));
    const released = m.removeHost('h1');
    expect(released.map((a) => a.name).sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9']);
    expect(m.blocks().map((b) => b.host)).toEqual(['h2']);
    expect(m.addresses().map((a) => a.name)).toEqual(['keep']);
    // No stale names (the original kept them): p0 can be allocated anew on h2.
    expect(m.allocate(req('p0', 'h2', 'u')).ip).toBe('10.0.0.136');
    expectError(() => m.removeHost('h1'), 'HOST_NOT_FOUND', '"h1"');
  });
});

describe('allocation', () => {
  it('fills the lowest free address of the owner\'s lowest block first, then the lowest free slot', () => {
    const m = ipamWith(racks);
    m.addHost({ name: 'h1', ip: '192.168.0.1', labels: { rack: 'a' } });
    m.addHost({ name: 'h2', ip: '192.168.0.2', labels: { rack: 'a' } }); // emptiest eligible: "any"
    const ips = (host: string, n: number, from: number) => Array.from({ length: n }, (_, i) => m.allocate(req(`${host}-${from + i}`, host)).ip);
    expect(ips('h1', 9, 0)).toEqual(['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7', '10.0.0.8']);
    expect(ips('h2', 1, 0)).toEqual(['10.0.0.128']);
    m.release('h1-3');
    m.release('h1-8'); // empties 10.0.0.8/29: its slot returns to the pool
    expect(ips('h1', 2, 9)).toEqual(['10.0.0.3', '10.0.0.8']);
    expect(ips('h1', 8, 11)).toEqual(['10.0.0.9', '10.0.0.10', '10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.14', '10.0.0.15', '10.0.0.16']);
    expect(ips('h2', 8, 1)).toEqual(['10.0.0.129', '10.0.0.130', '10.0.0.131', '10.0.0.132', '10.0.0.133', '10.0.0.134', '10.0.0.135', '10.0.0.136']);
    expect(invariantProblems(m.state)).toEqual([]);
  });

  it('a full group fails even when siblings have room: no borrowing across groups', () => {
    const m = ipamWith(racks);
    m.addHost({ name: 'h1', ip: '192.168.0.1', labels: { rack: 'b' } });
    for (let i = 0; i < 64; i++) expect(m.allocate(req(`p${i}`, 'h1')).ip.startsWith('10.0.0.')).toBe(true);
    expect(m.blocks().at(-1)!.cidr).toBe('10.0.0.120/29');
    expectError(() => m.allocate(req('p64', 'h1')), 'POOL_EXHAUSTED');
  });

  it('is idempotent by name on the same host and refuses the name on another host', () => {
    const m = ipamWith(racks);
    m.addHost({ name: 'h1', ip: '192.168.0.1', labels: { rack: 'a' } });
    m.addHost({ name: 'h2', ip: '192.168.0.2', labels: { rack: 'b' } });
    const a = m.allocate(req('pod', 'h1'));
    expect(planAllocate(m.state, req('pod', 'h1'))).toEqual({ allocation: a, changes: [] });
    expectError(() => m.allocate(req('pod', 'h2')), 'ALREADY_EXISTS', 'Address name "pod"', 'host "h1"', 'host "h2"');
  });

  it('validates the request fields', () => {
    const m = ipamWith(racks);
    expectError(() => m.allocate(req('', 'h1')), 'INVALID_ARGUMENT', 'address name ""');
    expectError(() => m.allocate({ name: 'x', host: 'h', tenant: 3 as unknown as string, segment: '' }), 'INVALID_ARGUMENT', 'tenant 3');
    expectError(() => m.release(''), 'INVALID_ARGUMENT');
  });
});

describe('tenants (strict sandbox)', () => {
  const tenants: TopologyInput = {
    networks: [
      { name: 'prod', cidr: '10.1.0.0/29', block_mask: 29, tenants: ['web'] },
      { name: 'spare', cidr: '10.2.0.0/24', block_mask: 29, tenants: ['web', 'db'] },
      { name: 'shared', cidr: '10.3.0.0/24', block_mask: 29 },
    ],
    topologies: [{ networks: ['prod', 'spare', 'shared'], map: [{ groups: [] }] }],
  };

  it('a named tenant uses its networks in order and never falls back to unrestricted ones', () => {
    const m = ipamWith(tenants);
    m.addHost({ name: 'h', ip: '192.168.0.1' });
    const web = Array.from({ length: 10 }, (_, i) => m.allocate(req(`w${i}`, 'h', 'web')).ip);
    expect(web.slice(0, 8)).toEqual(['10.1.0.0', '10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5', '10.1.0.6', '10.1.0.7']);
    expect(web.slice(8)).toEqual(['10.2.0.0', '10.2.0.1']); // next network serving "web", not "shared"
    expect(m.allocate(req('d', 'h', 'db')).ip).toBe('10.2.0.8');
    expect(m.allocate(req('o', 'h', 'other')).ip).toBe('10.3.0.0');
    // prod 8 + spare 256, less the block "db" holds: 256 addresses for "web" in all.
    for (let i = 10; i < 256; i++) m.allocate(req(`w${i}`, 'h', 'web'));
    expectError(() => m.allocate(req('wx', 'h', 'web')), 'POOL_EXHAUSTED', 'tenant "web"', '"prod" group 10.1.0.0/29', '"spare" group 10.2.0.0/24');
  });

  it('a tenant with no network, or a host outside its networks, is NO_NETWORK_FOR_TENANT', () => {
    const m = ipamWith({
      networks: [
        { name: 'a', cidr: '10.1.0.0/24', tenants: ['t1'] },
        { name: 'b', cidr: '10.2.0.0/24', tenants: ['t2'] },
      ],
      topologies: [
        { networks: ['a'], map: [{ assignment: { pool: 'a' }, groups: [] }] },
        { networks: ['b'], map: [{ groups: [] }] },
      ],
    });
    m.addHost({ name: 'h', ip: '192.168.0.1' });
    expectError(() => m.allocate(req('x', 'h', 'other')), 'NO_NETWORK_FOR_TENANT', 'tenant "other"');
    expectError(() => m.allocate(req('x', 'h', 't1')), 'NO_NETWORK_FOR_TENANT', 'tenant "t1"', 'host "h"', 'networks "a"', 'host networks "b"');
    expect(m.allocate(req('x', 'h', 't2')).ip).toBe('10.2.0.0');
  });
});

describe('reservations', () => {
  it('skips reserved addresses inside a block and whole reserved slots', () => {
    const m = ipamWith(racks);
    m.addHost({ name: 'h1', ip: '192.168.0.1', labels: { rack: 'a' } });
    m.reserve('n', '10.0.0.0/31'); // first two addresses of slot 0
    m.reserve(undefined, '10.0.0.8/29'); // all of slot 1
    const got = Array.from({ length: 8 }, (_, i) => m.allocate(req(`p${i}`, 'h1')).ip);
    expect(got).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7', '10.0.0.16', '10.0.0.17']);
    expect(m.blocks().map((b) => [b.cidr, b.used, b.reserved])).toEqual([
      ['10.0.0.0/29', 6, 2],
      ['10.0.0.16/29', 2, 0],
    ]);
    expect(m.utilisation().networks[0]).toMatchObject({ size: 256, reserved: 10, blocks: 2, allocated: 8 });
  });

  it('a reservation made after a block exists takes its free addresses; unreserving returns them', () => {
    const m = ipamWith(racks);
    m.addHost({ name: 'h1', ip: '192.168.0.1', labels: { rack: 'a' } });
    m.allocate(req('p0', 'h1'));
    m.reserve('n', '10.0.0.4/30');
    expect(m.reserve('n', '10.0.0.6/31').cidr).toBe('10.0.0.6/31'); // covered: no change
    expect(m.records().filter((r) => r.key.startsWith('reservations/')).length).toBe(1);
    const got = Array.from({ length: 4 }, (_, i) => m.allocate(req(`p${i + 1}`, 'h1')).ip);
    expect(got).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.8']);
    m.unreserve('n', '10.0.0.4/30');
    expect(m.allocate(req('p5', 'h1')).ip).toBe('10.0.0.4');
    expect(invariantProblems(m.state)).toEqual([]);
    expect(snapshot(rebuilt(m))).toEqual(snapshot(m.state));
  });

  it('validates the CIDR and its network', () => {
    const m = ipamWith(racks);
    expectError(() => m.reserve('n', '10.0.0.1/30'), 'INVALID_CIDR', 'host bits set', '"10.0.0.0/30"');
    expectError(() => m.reserve('n', 'nonsense'), 'INVALID_CIDR', '"nonsense"');
    expectError(() => m.reserve('n', '10.0.1.0/30'), 'INVALID_ARGUMENT', 'outside network "n"');
    expectError(() => m.reserve('x', '10.0.0.0/30'), 'NETWORK_NOT_FOUND', '"x"');
  });
});

describe('views', () => {
  it('lists blocks, addresses and hosts with filters and reports utilisation per network, group and host', () => {
    const m = ipamWith(racks);
    m.addHost({ name: 'h1', ip: '192.168.0.1', labels: { rack: 'a' } });
    m.addHost({ name: 'h2', ip: '192.168.0.2' });
    for (let i = 0; i < 10; i++) m.allocate(req(`a${i}`, 'h1'));
    m.allocate(req('b0', 'h2', 'u', 's'));
    expect(m.blocks({ host: 'h2' })).toEqual([
      { network: 'n', cidr: '10.0.0.128/29', group: '/2', groupName: 'any', host: 'h2', tenant: 'u', segment: 's', used: 1, reserved: 0, size: 8, revision: m.revision },
    ]);
    expect(m.addresses({ host: 'h1' }).map((a) => a.ip)).toEqual(Array.from({ length: 10 }, (_, i) => `10.0.0.${i}`));
    expect(m.addresses({ tenant: 'u' }).map((a) => a.name)).toEqual(['b0']);
    expect(m.hosts().map((h) => [h.name, h.blocks, h.addresses])).toEqual([
      ['h1', 2, 10],
      ['h2', 1, 1],
    ]);
    const u = m.utilisation();
    expect(u.networks).toEqual([{ network: 'n', cidr: '10.0.0.0/24', size: 256, reserved: 0, blocks: 3, blockAddresses: 24, allocated: 11, utilisation: 11 / 256 }]);
    expect(u.groups.map((g) => [g.name, g.cidr, g.hosts, g.slots, g.blocks, g.allocated])).toEqual([
      ['a', '10.0.0.0/26', 1, 8, 2, 10],
      ['b', '10.0.0.64/26', 0, 8, 0, 0],
      ['any', '10.0.0.128/26', 1, 8, 1, 1],
    ]);
    expect(u.hosts).toEqual([
      { host: 'h1', blocks: 2, blockAddresses: 16, allocated: 10 },
      { host: 'h2', blocks: 1, blockAddresses: 8, allocated: 1 },
    ]);
  });
});
