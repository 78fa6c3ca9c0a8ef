/**
 * Property tests: random sequences of host and address operations on small
 * topologies (so that groups fill up, blocks empty and slots get reused).
 *
 * Checked after every operation:
 * - the invariants of helpers.invariantProblems (no duplicate IP, every
 *   address inside its block, every block inside its host's leaf, never in
 *   padding, never over a reservation, tenants respected);
 * - Felix-style: applying the plan's changes to a state rebuilt from the
 *   records gives the same indexes as the incremental state;
 * - replaying the changes (a watch echo) changes nothing.
 * And for the whole sequence: replaying the same operations on a fresh IPAM
 * gives the same results and the same records.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRomanaError } from '../../../src/core/errors.js';
import {
  applyChanges,
  IpamState,
  MemoryIpam,
  planAddHost,
  planAllocate,
  planRelease,
  planRemoveHost,
  planReserve,
  planUnreserve,
  planUpdateHostLabels,
  type Change,
} from '../../../src/core/ipam/index.js';
import { loadTopology } from '../../../src/core/topology/index.js';
import type { TopologyInput } from '../../../src/core/topology/types.js';
import { invariantProblems, snapshot } from './helpers.js';
import { cidrOf, opArbitrary, rack, TENANTS, type Op } from './ops.js';

/** Two networks: racks a/b/any (+ padding) with /30 blocks (so blocks fill), and a small tenant-restricted network. */
const TOPOLOGY: TopologyInput = {
  networks: [
    { name: 'main', cidr: '10.0.0.0/25', block_mask: 30 },
    { name: 'restricted', cidr: '10.1.0.0/27', block_mask: 30, tenants: ['t2'] },
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
    { networks: ['restricted'], map: [{ groups: [] }, { groups: [] }] },
  ],
};

const HOSTS = ['h0', 'h1', 'h2', 'h3', 'h4'];
const NAMES = Array.from({ length: 48 }, (_, i) => `p${i}`);

const opArb = opArbitrary({ hosts: HOSTS.length, names: NAMES.length, allocateWeight: 10, releaseWeight: 6, maxBase: 127, minPrefix: 28 });

/** Plans one operation; its outcome as text (for replay comparison) and the changes to commit. */
function plan(m: MemoryIpam, op: Op): { outcome: string; changes: Change[] } {
  const s = m.state;
  try {
    switch (op.k) {
      case 'addHost': {
        const p = planAddHost(s, { name: HOSTS[op.host]!, ip: `192.168.0.${op.host + 1}`, labels: op.rack ? { rack: op.rack } : {} });
        return { outcome: `host ${JSON.stringify(p.host.groups)}`, changes: p.changes };
      }
      case 'removeHost': {
        const p = planRemoveHost(s, HOSTS[op.host]!);
        return { outcome: `removed ${p.released.map((a) => a.ip).join(',')}`, changes: p.changes };
      }
      case 'labels': {
        const p = planUpdateHostLabels(s, HOSTS[op.host]!, op.rack ? { rack: op.rack } : {});
        return { outcome: `labels ${JSON.stringify(p.host.groups)}`, changes: p.changes };
      }
      case 'allocate': {
        const p = planAllocate(s, { name: NAMES[op.name]!, host: HOSTS[op.host]!, tenant: TENANTS[op.tenant]!, segment: op.segment ? 's' : '' });
        return { outcome: `ip ${p.allocation.ip}`, changes: p.changes };
      }
      case 'release': {
        const live = [...s.addressByName.values()].map((e) => e.value).sort((x, y) => (x.name < y.name ? -1 : 1));
        const a = live.length > 0 ? live[op.pick % live.length]! : undefined;
        const p = planRelease(s, a ? (op.byIp ? a.ip : a.name) : 'nobody');
        return { outcome: `released ${p.released.ip}`, changes: p.changes };
      }
      case 'reserve': {
        const p = planReserve(s, 'main', cidrOf(op.base, op.prefix));
        return { outcome: `reserved ${p.reservation.cidr}`, changes: p.changes };
      }
      case 'unreserve':
        return { outcome: 'unreserved', changes: planUnreserve(s, 'main', cidrOf(op.base, op.prefix)).changes };
    }
  } catch (e) {
    if (isRomanaError(e)) return { outcome: `error ${e.code}`, changes: [] };
    throw e;
  }
}

function fresh(): MemoryIpam {
  const t = loadTopology(JSON.stringify(TOPOLOGY));
  return MemoryIpam.withTopology(t.input, t.carved);
}

/** Every sequence starts by registering the hosts (so most allocations have somewhere to go). */
const scenarioArb = fc.tuple(fc.array(rack, { minLength: HOSTS.length, maxLength: HOSTS.length }), fc.array(opArb, { minLength: 20, maxLength: 150 }));

function withHosts(racks: Array<string | null>, ops: Op[]): Op[] {
  return [...racks.map((r, host): Op => ({ k: 'addHost', host, rack: r })), ...ops];
}

/** Runs the ops, checking every step; returns the outcomes and the final records. */
function run(ops: Op[], checkEachStep: boolean): { outcomes: string[]; records: unknown } {
  const m = fresh();
  const outcomes: string[] = [];
  for (const op of ops) {
    const { outcome, changes } = plan(m, op);
    outcomes.push(outcome);
    if (checkEachStep) {
      const rebuiltBefore = IpamState.fromRecords(m.state.topology, m.records(), m.revision);
      const rev = m.commit(changes);
      applyChanges(rebuiltBefore, changes, rev);
      expect(snapshot(rebuiltBefore)).toEqual(snapshot(m.state));
      expect(snapshot(IpamState.fromRecords(m.state.topology, m.records(), rev))).toEqual(snapshot(m.state));
      const after = snapshot(m.state);
      applyChanges(m.state, changes, rev); // watch echo
      expect(snapshot(m.state)).toEqual(after);
      expect(invariantProblems(m.state)).toEqual([]);
    } else {
      m.commit(changes);
    }
  }
  return { outcomes, records: m.records() };
}

describe('IPAM properties', () => {
  it('random operation sequences keep every invariant, and incremental state equals rebuilt state', () => {
    fc.assert(
      fc.property(scenarioArb, ([racks, ops]) => {
        run(withHosts(racks, ops), true);
      }),
      { numRuns: 50 },
    );
  });

  it('replaying the same operations gives the same results and records', () => {
    fc.assert(
      fc.property(scenarioArb, ([racks, ops]) => {
        const all = withHosts(racks, ops);
        expect(run(all, false)).toEqual(run(all, false));
      }),
      { numRuns: 60 },
    );
  });

  it('a long churn of one owner reuses released addresses and slots and never leaks', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 200, maxLength: 400 }), (steps) => {
        const m = fresh();
        m.addHost({ name: 'h', ip: '192.168.0.1', labels: { rack: 'a' } }); // group a: 10.0.0.0/27, eight /30 blocks
        const live = new Set<string>();
        let n = 0;
        for (const alloc of steps) {
          if (alloc && live.size < 32) {
            const name = `c${n++}`;
            m.allocate({ name, host: 'h', tenant: 't0', segment: '' });
            live.add(name);
          } else if (live.size > 0) {
            const name = [...live][n % live.size]!;
            m.release(name);
            live.delete(name);
          }
          // Every live address is one of the group's 32; blocks only exist while used.
          expect(m.addresses().length).toBe(live.size);
          expect(m.blocks().reduce((sum, b) => sum + b.used, 0)).toBe(live.size);
          expect(m.blocks().every((b) => b.used > 0)).toBe(true);
        }
        expect(invariantProblems(m.state)).toEqual([]);
        // With at most 32 live addresses the group never runs out.
        expect(m.addresses().every((a) => a.ip.startsWith('10.0.0.') && Number(a.ip.split('.')[3]) < 32)).toBe(true);
      }),
      { numRuns: 20 },
    );
  });
});
