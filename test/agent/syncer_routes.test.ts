/**
 * The apply loop's route plan with don't-care space: the node's own group
 * comes from the cached topology and host record (no extra daemon call),
 * the table it hands the routes driver is smaller than the exact one, keeps
 * every local block and reservation `throw`, and falls back to exact
 * routing while the topology or the host record is unknown.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Syncer, type AgentDrivers } from '../../src/agent/syncer.js';
import { ClusterCache } from '../../src/agent/view.js';
import type { DesiredRoute } from '../../src/core/agent/index.js';
import { silentLogger } from '../../src/shared/log.js';
import { waitFor } from '../helpers/poll.js';

// Two racks of 10.112.0.0/16: rack-0 = 10.112.0.0/17, rack-1 = 10.112.128.0/17.
const topology = {
  schema: 1,
  input: {
    networks: [{ name: 'pods', cidr: '10.112.0.0/16', block_mask: 29 }],
    topologies: [{ networks: ['pods'], map: [{ name: 'rack-0', groups: [] }, { name: 'rack-1', groups: [] }] }],
  },
};
const host = (name: string, ip: string, group: string) => ({ key: `hosts/${name}`, value: { schema: 1, name, ip, labels: {}, groups: { pods: group } } });
const block = (cidr: string, owner: string, group: string) => ({
  key: `blocks/pods/${cidr}`,
  value: { schema: 1, network: 'pods', cidr, group, host: owner, tenant: 't', segment: '', names: { 0: `${owner}-${cidr}` } },
});
// Interleaved blocks, as concurrent allocation lays them out: a, b, a, b, then b alone.
const RECORDS = [
  host('a', '10.0.0.1', '/0'),
  host('b', '10.0.0.2', '/0'),
  host('c', '10.0.0.3', '/1'),
  block('10.112.0.0/29', 'a', '/0'),
  block('10.112.0.8/29', 'b', '/0'),
  block('10.112.0.16/29', 'a', '/0'),
  block('10.112.0.24/29', 'b', '/0'),
  block('10.112.0.40/29', 'b', '/0'),
  block('10.112.128.0/29', 'c', '/1'),
];

const syncers: Syncer[] = [];
afterEach(async () => {
  await Promise.all(syncers.splice(0).map((s) => s.stop()));
});

async function desiredRoutes(records: ReadonlyArray<{ key: string; value: unknown }>): Promise<DesiredRoute[]> {
  const cache = new ClusterCache();
  cache.load(records, 7);
  let routes: DesiredRoute[] = [];
  const noop = async () => ({});
  const drivers = {
    sysctl: { invalidate: () => undefined, apply: noop },
    ipsets: { invalidate: () => undefined, setDesired: () => undefined, applyUpdates: noop, applyDeletes: noop },
    filter: { invalidate: () => undefined, setDesired: () => undefined, apply: noop },
    nat: { invalidate: () => undefined, setDesired: () => undefined, apply: noop },
    routes: {
      invalidate: () => undefined,
      setDesired: (r: DesiredRoute[]) => { routes = r; },
      apply: noop,
      // Every host is on the link.
      lookupNextHops: async (addrs: string[]) => new Map(addrs.map((a) => [a, { gateway: null, dev: 'eth0', local: false }])),
    },
  } as unknown as AgentDrivers;
  const s = new Syncer({
    cache,
    drivers,
    settings: { nodeName: 'a', serviceClusterIpRange: null, nat: false, policies: false, multihop: false },
    render: () => ({ chains: [], jumps: [], ipsets: [] }),
    log: silentLogger(),
    completeRevision: () => cache.revision,
    viewComplete: () => true,
    coalesceMs: 1,
    initialBackoffMs: 5,
    maxBackoffMs: 20,
    maxFailures: 3,
    onFatal: () => undefined,
  });
  syncers.push(s);
  s.markDirty(['routes']);
  await waitFor('a routes pass', () => s.ready);
  return routes;
}

describe('Syncer: routes with the own group as don\'t care', () => {
  it('aggregates the rack-mate over the free space, keeps local blocks throw and other racks exact', async () => {
    // The /17 via b covers a's own blocks; their throw routes are more specific, so a's pods still go to main.
    expect(await desiredRoutes([{ key: 'topology', value: topology }, ...RECORDS])).toEqual([
      { dst: '10.112.0.0/17', via: '10.0.0.2' },
      { dst: '10.112.0.0/29' },
      { dst: '10.112.0.16/29' },
      { dst: '10.112.128.0/29', via: '10.0.0.3' },
    ]);
  });

  it('keeps an address reservation inside the group out of the aggregate (throw)', async () => {
    const reservation = { key: 'reservations/pods/10.112.1.0/24', value: { schema: 1, network: 'pods', cidr: '10.112.1.0/24' } };
    // Now the group's free space is best thrown as a whole (it covers the reservation), b gets a /24.
    expect(await desiredRoutes([{ key: 'topology', value: topology }, ...RECORDS, reservation])).toEqual([
      { dst: '10.112.0.0/17' },
      { dst: '10.112.0.0/24', via: '10.0.0.2' },
      { dst: '10.112.0.0/29' },
      { dst: '10.112.0.16/29' },
      { dst: '10.112.128.0/29', via: '10.0.0.3' },
    ]);
  });

  it('routes exactly while our host record is unknown', async () => {
    const records = [{ key: 'topology', value: topology }, ...RECORDS.filter((r) => r.key !== 'hosts/a')];
    expect(await desiredRoutes(records)).toHaveLength(5);
  });

  it('routes exactly while the topology is unknown', async () => {
    // Exact ORTC: the free 10.112.0.32/29 stays unrouted, so b needs three entries.
    expect(await desiredRoutes(RECORDS)).toEqual([
      { dst: '10.112.0.0/27' },
      { dst: '10.112.0.8/29', via: '10.0.0.2' },
      { dst: '10.112.0.24/29', via: '10.0.0.2' },
      { dst: '10.112.0.40/29', via: '10.0.0.2' },
      { dst: '10.112.128.0/29', via: '10.0.0.3' },
    ]);
  });
});
