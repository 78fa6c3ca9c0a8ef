/**
 * The data model and the aggregation modes, on scenario.ts and on random
 * clusters (fast-check): whatever the mode, longest-prefix match over what
 * every node announces must send each allocated block to its owner and
 * leave unowned addresses unrouted (cluster mode), or cover exactly the
 * node's own addresses (blocks mode).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { announcedPrefixes, buildTemplateData, HostGroup, IPNet } from '../../publisher/data.js';
import { poolAggregator } from '../../publisher/run.js';
import { formatCidr, prefixSize, type Cidr4 } from '../../src/core/ip.js';
import { MemoryIpam, type IpamState } from '../../src/core/ipam/index.js';
import { scenario } from './scenario.js';

const texts = (cs: Cidr4[]): string[] => cs.map(formatCidr);

describe('announced prefixes (scenario)', () => {
  const state = scenario().state;
  it('none: one per block, networks in definition order then by address', async () => {
    expect(texts(await announcedPrefixes(state, 'node-a', 'none', poolAggregator))).toEqual([
      '10.112.0.0/29', '10.112.0.8/29', '10.112.0.16/29', '10.112.0.24/29', '10.112.0.32/29', '10.200.0.0/28',
    ]);
  });
  it('blocks: adjacent blocks merged, nothing else covered', async () => {
    expect(texts(await announcedPrefixes(state, 'node-a', 'blocks', poolAggregator))).toEqual(['10.112.0.0/27', '10.112.0.32/29', '10.200.0.0/28']);
  });
  it('cluster: with blocks kept apart (buddy placement) it equals blocks mode', async () => {
    expect(texts(await announcedPrefixes(state, 'node-a', 'cluster', poolAggregator))).toEqual(['10.112.0.0/27', '10.112.0.32/29', '10.200.0.0/28']);
    expect(texts(await announcedPrefixes(state, 'node-b', 'cluster', poolAggregator))).toEqual(['10.112.64.0/28']);
  });
  it('cluster: a prefix may cover another node\'s more specific block', async () => {
    // A 4-slot leaf forces interleaving: node-a takes slots 0 and 1, node-b slot 2, node-a slot 3
    // (the IPAM keeps blocks apart while it can; here it cannot).
    const m = MemoryIpam.withTopology({ networks: [{ name: 'n', cidr: '10.9.0.0/27', block_mask: 29 }], topologies: [{ networks: ['n'], map: [{ name: 'g', groups: [] }] }] });
    m.addHost({ name: 'node-a', ip: '192.168.0.1' });
    m.addHost({ name: 'node-b', ip: '192.168.0.2' });
    let n = 0;
    const alloc = (host: string, count: number): void => {
      for (let i = 0; i < count; i++) m.allocate({ name: `p${++n}`, host, tenant: 't', segment: '' });
    };
    alloc('node-a', 8);
    alloc('node-b', 8);
    alloc('node-a', 16);
    expect(m.blocks().map((b) => `${b.cidr}:${b.host}`)).toEqual(['10.9.0.0/29:node-a', '10.9.0.8/29:node-a', '10.9.0.16/29:node-b', '10.9.0.24/29:node-a']);
    expect(texts(await announcedPrefixes(m.state, 'node-a', 'cluster', poolAggregator))).toEqual(['10.9.0.0/27']);
    expect(texts(await announcedPrefixes(m.state, 'node-b', 'cluster', poolAggregator))).toEqual(['10.9.0.16/29']);
    expect(texts(await announcedPrefixes(m.state, 'node-a', 'blocks', poolAggregator))).toEqual(['10.9.0.0/28', '10.9.0.24/29']);
  });
  it('group: the node\'s leaf group in each network', async () => {
    expect(texts(await announcedPrefixes(state, 'node-a', 'group', poolAggregator))).toEqual(['10.112.0.0/17', '10.200.0.0/21']);
    expect(texts(await announcedPrefixes(state, 'node-c', 'group', poolAggregator))).toEqual(['10.112.128.0/17', '10.200.8.0/21']);
  });
  it('an unknown node announces nothing and has no HostGroups', async () => {
    const d = await buildTemplateData(state, { node: 'ghost' }, poolAggregator);
    expect(d.Networks).toEqual([]);
    expect(d.Args.has('HostGroups')).toBe(false);
  });
  it('HostGroups: network → the node\'s leaf group with its hosts and blocks', async () => {
    const d = await buildTemplateData(state, { node: 'node-b', args: new Map([['x', 'y']]) }, poolAggregator);
    const hg = d.Args.get('HostGroups') as Map<string, HostGroup>;
    expect([...hg.keys()]).toEqual(['romana-network', 'second']);
    const g = hg.get('romana-network')!;
    expect([g.Name, g.CIDR.String(), g.Hosts.map((h) => h.Name)]).toEqual(['rack-1', '10.112.0.0/17', ['node-a', 'node-b']]);
    expect(g.Blocks.map((b) => `${b.CIDR}:${b.Host}`)).toEqual([
      '10.112.0.0/29:node-a', '10.112.0.8/29:node-a', '10.112.0.16/29:node-a', '10.112.0.24/29:node-a', '10.112.0.32/29:node-a', '10.112.64.0/29:node-b', '10.112.64.8/29:node-b',
    ]);
    expect(d.Args.get('x')).toBe('y');
    expect([d.LocalAS, d.NeighborIP, d.NeighborAS, d.NodeName, d.NodeIP]).toEqual(['65534', '', '', 'node-b', '192.168.20.31']);
  });
});

/** Longest-prefix match over (prefix, owner) pairs. */
function lookup(table: Array<{ c: Cidr4; owner: string }>, ip: number): string | null {
  let best: { c: Cidr4; owner: string } | null = null;
  for (const e of table) {
    if (ip >= e.c.base && ip < e.c.base + prefixSize(e.c.prefix) && (!best || e.c.prefix > best.c.prefix)) best = e;
  }
  return best?.owner ?? null;
}

function randomCluster(hosts: number, ops: Array<[number, boolean]>): IpamState {
  const m = MemoryIpam.withTopology({ networks: [{ name: 'n', cidr: '10.0.0.0/24', block_mask: 30 }], topologies: [{ networks: ['n'], map: [{ name: 'g', groups: [] }] }] });
  for (let h = 0; h < hosts; h++) m.addHost({ name: `h${h}`, ip: `192.168.0.${h + 1}` });
  const live: string[] = [];
  let n = 0;
  for (const [h, release] of ops) {
    if (release && live.length > 0) m.release(live.splice(h % live.length, 1)[0]!);
    else {
      try {
        live.push(m.allocate({ name: `p${++n}`, host: `h${h % hosts}`, tenant: 't', segment: '' }).ip);
      } catch {
        // pool exhausted: fine
      }
    }
  }
  return m.state;
}

describe('aggregation keeps forwarding (property)', () => {
  it('cluster mode: every address of every block reaches its owner, nothing else is routed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(fc.tuple(fc.nat(50), fc.boolean()), { maxLength: 120 }), async (hosts, ops) => {
        const state = randomCluster(hosts, ops);
        const table: Array<{ c: Cidr4; owner: string }> = [];
        for (let h = 0; h < hosts; h++) for (const c of await announcedPrefixes(state, `h${h}`, 'cluster', poolAggregator)) table.push({ c, owner: `h${h}` });
        for (let ip = 0x0a000000; ip < 0x0a000100; ip++) {
          let owner: string | null = null;
          for (const b of state.blocks.values()) if (ip >= b.base && ip < b.base + b.size) owner = b.value.host;
          expect(lookup(table, ip)).toBe(owner);
        }
        // Never more prefixes than blocks.
        expect(table.length).toBeLessThanOrEqual(state.blocks.size);
      }),
      { numRuns: 40 },
    );
  });

  it('blocks mode: a node\'s prefixes cover exactly its own blocks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(50), fc.boolean()), { maxLength: 120 }), async (ops) => {
        const state = randomCluster(2, ops);
        const mine = await announcedPrefixes(state, 'h0', 'blocks', poolAggregator);
        for (let ip = 0x0a000000; ip < 0x0a000100; ip++) {
          let own = false;
          for (const b of state.blocksByHost.get('h0') ?? []) if (ip >= b.base && ip < b.base + b.size) own = true;
          expect(mine.some((c) => ip >= c.base && ip < c.base + prefixSize(c.prefix))).toBe(own);
        }
        expect(mine.length).toBeLessThanOrEqual(state.blocksByHost.get('h0')?.size ?? 0);
      }),
      { numRuns: 40 },
    );
  });
});

describe('IPNet', () => {
  it('is what Go prints for a net.IPNet', () => {
    const n = new IPNet({ base: 0x0a700000, prefix: 12 });
    expect([n.String(), n.IP, n.Mask, n.PrefixLen, JSON.stringify(n)]).toEqual(['10.112.0.0/12', '10.112.0.0', 'fff00000', 12, '"10.112.0.0/12"']);
    expect(new IPNet({ base: 0, prefix: 0 }).Mask).toBe('00000000');
  });
});
