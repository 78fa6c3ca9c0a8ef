/**
 * MemoryIpam's in-place allocation (allocate.ts applyAllocation) against
 * the store path it stands in for (planAllocate + commit).
 *
 * The in-place path shares the decision (chooseAllocation) with the planner
 * but applies it itself: it edits owned block records in place, builds
 * address records lazily and skips the compares. So the property checked
 * here is the whole contract: for random operation sequences (allocation,
 * idempotent re-allocation, a name taken on another host, release by name
 * and by IP, host removal and relabelling, reservations), both IPAMs give
 * the same outcome at every step and hold the same records at the same
 * revisions with the same indexes; and records handed out earlier never
 * change afterwards.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRomanaError } from '../../../src/core/errors.js';
import { applyChanges, applyStoreEvent, MemoryIpam, planAllocate, type AllocateRequest, type RecordEntry } from '../../../src/core/ipam/index.js';
import { loadTopology } from '../../../src/core/topology/index.js';
import type { TopologyInput } from '../../../src/core/topology/types.js';
import { invariantProblems, ipOf, rebuilt, snapshot } from './helpers.js';
import { cidrOf, opArbitrary, rack, TENANTS, type Op } from './ops.js';

/** Small groups of /30 blocks (so blocks fill and empty), two racks plus a catch-all, and a tenant-restricted network. */
const TOPOLOGY: TopologyInput = {
  networks: [
    { name: 'main', cidr: '10.0.0.0/26', block_mask: 30 },
    { name: 'restricted', cidr: '10.1.0.0/28', block_mask: 30, tenants: ['t2'] },
  ],
  topologies: [
    {
      networks: ['main'],
      map: [
        { name: 'a', assignment: { rack: 'a' }, groups: [] },
        { name: 'b', assignment: { rack: 'b' }, groups: [] },
        { name: 'any', groups: [] },
      ],
    },
    { networks: ['restricted'], map: [{ groups: [] }] },
  ],
};

const HOSTS = ['h0', 'h1', 'h2', 'h3'];
/** Few names, so that re-allocations (idempotent or on another host) are frequent. */
const NAMES = Array.from({ length: 24 }, (_, i) => `p${i}`);

const opArb = opArbitrary({ hosts: HOSTS.length, names: NAMES.length, allocateWeight: 12, releaseWeight: 5, maxBase: 63, minPrefix: 29 });

function fresh(): MemoryIpam {
  const t = loadTopology(JSON.stringify(TOPOLOGY));
  return MemoryIpam.withTopology(t.input, t.carved);
}

/** How an IPAM allocates: in place (MemoryIpam.allocate) or as the daemon does (plan, then commit the changes). */
type Allocator = (m: MemoryIpam, req: AllocateRequest) => string;
const inPlace: Allocator = (m, req) => m.allocate(req).ip;
const planned: Allocator = (m, req) => {
  const p = planAllocate(m.state, req);
  m.commit(p.changes);
  return p.allocation.ip;
};

/** Runs one operation; its outcome as text. Everything but allocation goes through the same MemoryIpam methods. */
function step(m: MemoryIpam, op: Op, allocate: Allocator): string {
  try {
    switch (op.k) {
      case 'addHost':
        return `host ${JSON.stringify(m.addHost({ name: HOSTS[op.host]!, ip: `192.168.0.${op.host + 1}`, labels: op.rack ? { rack: op.rack } : {} }).groups)}`;
      case 'removeHost':
        return `removed ${m.removeHost(HOSTS[op.host]!).map((a) => `${a.name}=${a.ip}`).join(',')}`;
      case 'labels':
        return `labels ${JSON.stringify(m.updateHostLabels(HOSTS[op.host]!, op.rack ? { rack: op.rack } : {}).groups)}`;
      case 'allocate':
        return `ip ${allocate(m, { name: NAMES[op.name]!, host: HOSTS[op.host]!, tenant: TENANTS[op.tenant]!, segment: op.segment ? 's' : '' })}`;
      case 'release': {
        // Picked by name order from the index's keys (so the other addresses' entries and records stay unbuilt).
        const live = [...m.state.addressByName.keys()].sort();
        const name = live.length > 0 ? live[op.pick % live.length]! : undefined;
        const ip = name === undefined ? 0 : m.state.address(name)!.ip;
        const target = name === undefined ? 'nobody' : op.byIp ? `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}` : name;
        const a = m.release(target);
        return `released ${a.name}=${a.ip}`;
      }
      case 'reserve':
        return `reserved ${m.reserve('main', cidrOf(op.base, op.prefix)).cidr}`;
      case 'unreserve':
        m.unreserve('main', cidrOf(op.base, op.prefix));
        return 'unreserved';
    }
  } catch (e) {
    if (isRomanaError(e)) return `error ${e.code}`;
    throw e;
  }
}

const text = (rs: RecordEntry[]): string[] => rs.map((r) => `${r.key}@${r.revision} ${JSON.stringify(r.value)}`).sort();

const scenarioArb = fc.tuple(
  fc.array(rack, { minLength: HOSTS.length, maxLength: HOSTS.length }),
  // Per op: whether to compare everything after it. Comparing reads every record,
  // which makes the in-place path copy before its next edit, so not every step looks.
  fc.array(fc.tuple(opArb, fc.boolean()), { minLength: 20, maxLength: 160 }),
);

describe('MemoryIpam in-place allocation', () => {
  it('gives the same outcomes, records, revisions and indexes as plan + commit, and never changes records handed out', () => {
    fc.assert(
      fc.property(scenarioArb, ([racks, ops]) => {
        const fast = fresh();
        const slow = fresh();
        const all: Array<[Op, boolean]> = [...racks.map((r, host): [Op, boolean] => [{ k: 'addHost', host, rack: r }, false]), ...ops];
        let held: { records: RecordEntry[]; text: string[] } | undefined;
        for (const [op, look] of all) {
          expect(step(fast, op, inPlace)).toBe(step(slow, op, planned));
          expect(fast.revision).toBe(slow.revision);
          if (!look) continue;
          // Records handed out before keep their values, whatever was allocated since.
          if (held) expect(text(held.records)).toEqual(held.text);
          const records = fast.records();
          held = { records, text: text(records) };
          expect(held.text).toEqual(text(slow.records()));
          expect(snapshot(fast.state)).toEqual(snapshot(slow.state));
          expect(invariantProblems(fast.state)).toEqual([]);
        }
        expect(text(fast.records())).toEqual(text(slow.records()));
        expect(snapshot(fast.state)).toEqual(snapshot(slow.state));
        // A replica loading the in-place IPAM's records ends with the same indexes.
        expect(snapshot(rebuilt(fast))).toEqual(snapshot(fast.state));
        expect(invariantProblems(fast.state)).toEqual([]);
      }),
      { numRuns: 80 },
    );
  });

  it('a state loaded from its records stays consistent while the IPAM keeps allocating into the same blocks', () => {
    const m = fresh();
    m.addHost({ name: 'h0', ip: '192.168.0.1', labels: { rack: 'a' } });
    m.allocate({ name: 'p0', host: 'h0', tenant: 't0', segment: '' });
    const replica = rebuilt(m); // shares m's record objects
    const before = snapshot(replica);
    for (let i = 1; i < 6; i++) m.allocate({ name: `p${i}`, host: 'h0', tenant: 't0', segment: '' });
    expect(snapshot(replica)).toEqual(before);
    expect(invariantProblems(replica)).toEqual([]);
    expect(m.addresses().map((a) => a.ip)).toEqual(['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5']);
  });

  it('address records built on first read are the ones the planner writes', () => {
    const fast = fresh();
    const slow = fresh();
    for (const m of [fast, slow]) m.addHost({ name: 'h1', ip: '192.168.0.2', labels: { rack: 'b' } });
    fast.allocate({ name: 'x', host: 'h1', tenant: 't2', segment: 's' });
    planned(slow, { name: 'x', host: 'h1', tenant: 't2', segment: 's' });
    expect(fast.state.address('x')!.value).toEqual(slow.state.address('x')!.value);
    expect(fast.state.address('x')!.value).toEqual({ schema: 1, name: 'x', ip: '10.1.0.0', network: 'restricted', block: '10.1.0.0/30', host: 'h1', tenant: 't2', segment: 's' });
  });

  it('gives the planner\'s IP text in blocks of 256 addresses (one /24 prefix) and larger ones (formatted in full)', () => {
    // Blocks up to 256 addresses build their IP text from a cached "a.b.c." prefix; larger ones cross octets.
    const input: TopologyInput = {
      networks: [
        { name: 'c24', cidr: '10.3.0.0/23', block_mask: 24 },
        { name: 'c23', cidr: '10.4.0.0/22', block_mask: 23 },
      ],
      topologies: [{ networks: ['c24', 'c23'], map: [{ groups: [] }] }],
    };
    const ips = (allocate: Allocator): string[] => {
      const t = loadTopology(JSON.stringify(input));
      const m = MemoryIpam.withTopology(t.input, t.carved);
      m.addHost({ name: 'h0', ip: '192.168.0.1' });
      m.reserve('c24', '10.3.0.0/31'); // the first block starts at offset 2
      return Array.from({ length: 1300 }, (_, i) => allocate(m, { name: `p${i}`, host: 'h0', tenant: 't', segment: '' }));
    };
    const fast = ips(inPlace);
    expect(fast).toEqual(ips(planned));
    expect(fast.slice(253, 256)).toEqual(['10.3.0.255', '10.3.1.0', '10.3.1.1']);
    expect(fast.slice(510, 512)).toEqual(['10.4.0.0', '10.4.0.1']);
    expect(fast.slice(765, 767)).toEqual(['10.4.0.255', '10.4.1.0']);
  });

  it('falls back to plan + commit when changes were applied to its state directly at newer revisions', () => {
    const run = (allocate: Allocator): unknown => {
      const m = fresh();
      m.addHost({ name: 'h0', ip: '192.168.0.1', labels: { rack: 'a' } });
      // Another writer's commit at revision 10, applied to the state behind the IPAM's back.
      applyChanges(m.state, planAllocate(m.state, { name: 'q', host: 'h0', tenant: 't0', segment: '' }).changes, 10);
      expect(m.revision).toBeLessThan(m.state.revision);
      const out = [1, 2].map((name) => step(m, { k: 'allocate', name, host: 0, tenant: 0, segment: 0 }, allocate));
      return { out, revision: m.revision, records: text(m.records()), state: snapshot(m.state) };
    };
    // Whatever committing below the state's revision does, the in-place path does not do it differently.
    expect(run(inPlace)).toEqual(run(planned));
  });

  it('an address held as its block keeps its IP and revision when a watch event changes the block before the address', () => {
    const m = fresh();
    m.addHost({ name: 'h0', ip: '192.168.0.1', labels: { rack: 'a' } });
    m.allocate({ name: 'p0', host: 'h0', tenant: 't0', segment: '' });
    m.allocate({ name: 'p1', host: 'h0', tenant: 't0', segment: '' });
    const rev = m.revision;
    // Another replica released p1: its commit arrives as two events, the block first.
    const b = m.state.blocks.get('blocks/main/10.0.0.0/30')!;
    applyStoreEvent(m.state, b.key, { ...b.value, names: { 0: 'p0' } }, rev + 1);
    expect(m.state.address('p1')).toMatchObject({ ip: ipOf('10.0.0.1'), revision: rev });
    expect(m.state.address('p1')!.value).toMatchObject({ ip: '10.0.0.1', block: '10.0.0.0/30', host: 'h0' });
    applyStoreEvent(m.state, 'addresses/p1', null, rev + 1);
    expect(m.state.address('p1')).toBeUndefined();
    expect(m.state.address('p0')).toMatchObject({ ip: ipOf('10.0.0.0'), revision: rev - 1 });
    expect(invariantProblems(m.state)).toEqual([]);
  });
});
