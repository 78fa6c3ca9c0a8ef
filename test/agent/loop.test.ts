/**
 * The apply loop and the follower with recording fakes (no kernel, no
 * daemon): driver order, coalescing, no pass before the view is complete,
 * retries with every driver re-reading, fail-closed after the limit,
 * waitApplied for POST /sync; re-list on errors, resume on a clean end and
 * on WATCH_FELL_BEHIND, catch-up by re-listing.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Follower } from '../../src/agent/follower.js';
import { DriverError } from '../../src/agent/shims/exec.js';
import { Syncer, type AgentDrivers, type FatalDump } from '../../src/agent/syncer.js';
import { ClusterCache } from '../../src/agent/view.js';
import { RomanaError } from '../../src/core/errors.js';
import type { RomanaClient, SnapshotJson, WatchEventJson, WatchStream } from '../../src/shared/api_client.js';
import { silentLogger } from '../../src/shared/log.js';
import { waitFor } from '../helpers/poll.js';

const topology = { schema: 1, input: { networks: [{ name: 'n', cidr: '10.112.0.0/12' }], topologies: [] } };

function fakeDrivers(calls: string[], failing: { driver?: string } = {}) {
  const step = (name: string) => async () => {
    calls.push(name);
    if (failing.driver === name) throw new DriverError(name, `${name} broke`, name, 'stderr text');
    return { wrote: false, readBack: false, lines: 0, bytes: 0, rulesInserted: 0, rulesReplaced: 0, rulesDeleted: 0, jumpsWritten: 0, chainsCreated: 0, chainsDeleted: 0, ownedRules: 0, setsCreated: 0, setsSwapped: 0, setsDestroyed: 0, membersWritten: 0, added: 0, replaced: 0, deleted: 0, ruleAdded: false, routes: 0, checked: false, changed: [] };
  };
  const invalidations: string[] = [];
  const d = (name: string, extra: Record<string, unknown>) => ({ invalidate: () => invalidations.push(name), setDesired: () => undefined, ...extra });
  const drivers = {
    sysctl: d('sysctl', { apply: step('sysctl') }),
    ipsets: d('ipsets', { applyUpdates: step('ipset-updates'), applyDeletes: step('ipset-deletes') }),
    filter: d('filter', { apply: step('filter') }),
    nat: d('nat', { apply: step('nat') }),
    routes: d('routes', { apply: step('routes'), lookupNextHops: async () => new Map() }),
  } as unknown as AgentDrivers;
  return { drivers, invalidations };
}

function makeSyncer(o: { calls: string[]; failing?: { driver?: string }; complete?: () => boolean; maxFailures?: number; onFatal?: (d: FatalDump) => void }) {
  const cache = new ClusterCache();
  cache.load([{ key: 'topology', value: topology }], 5);
  const { drivers, invalidations } = fakeDrivers(o.calls, o.failing);
  let renders = 0;
  const s = new Syncer({
    cache,
    drivers,
    settings: { nodeName: 'a', serviceClusterIpRange: null, nat: true, policies: true, multihop: false },
    render: () => {
      renders++;
      return { chains: [], jumps: [], ipsets: [] };
    },
    log: silentLogger(),
    completeRevision: () => cache.revision,
    viewComplete: o.complete ?? (() => true),
    coalesceMs: 5,
    initialBackoffMs: 5,
    maxBackoffMs: 20,
    maxFailures: o.maxFailures ?? 10,
    onFatal: o.onFatal ?? (() => undefined),
  });
  return { s, cache, invalidations, renders: () => renders };
}

const syncers: Syncer[] = [];
afterEach(async () => {
  await Promise.all(syncers.splice(0).map((s) => s.stop()));
});

describe('Syncer', () => {
  it('applies in the documented order and coalesces a burst into one pass', async () => {
    const calls: string[] = [];
    const { s, renders } = makeSyncer({ calls });
    syncers.push(s);
    for (let i = 0; i < 20; i++) s.markDirty(['firewall', 'routes', 'nat']);
    await waitFor('readiness', () => s.ready);
    expect(calls).toEqual(['sysctl', 'ipset-updates', 'filter', 'nat', 'ipset-deletes', 'routes']);
    expect(renders()).toBe(1);
    expect(s.appliedRevision).toBe(5);
  });

  it('computes and applies nothing before the view is complete', async () => {
    const calls: string[] = [];
    let complete = false;
    const { s } = makeSyncer({ calls, complete: () => complete });
    syncers.push(s);
    s.markDirty(['firewall']);
    const applied = s.waitApplied(5);
    // The pass ran and returned at once; nothing was called.
    await waitFor('a pass', () => s.attempts >= 1);
    expect(calls).toEqual([]);
    expect(s.ready).toBe(false);
    complete = true;
    s.markDirty(['firewall']);
    expect(await applied).toBe(5);
    expect(s.ready).toBe(true);
  });

  it('retries a failed pass with every driver re-reading, then fails closed with a dump', async () => {
    const calls: string[] = [];
    let dump: FatalDump | undefined;
    const { s, invalidations } = makeSyncer({ calls, failing: { driver: 'filter' }, maxFailures: 3, onFatal: (d) => (dump = d) });
    syncers.push(s);
    s.markDirty(['firewall']);
    await waitFor('the fatal dump', () => dump);
    expect(calls.filter((c) => c === 'filter')).toHaveLength(3);
    // Routes come after the filter table: never reached while it fails.
    expect(calls).not.toContain('routes');
    expect(new Set(invalidations)).toEqual(new Set(['sysctl', 'ipsets', 'filter', 'nat', 'routes']));
    expect(dump).toMatchObject({ node: 'a', failures: 3, lastErrors: [{ driver: 'iptables-filter', message: 'filter broke', stderr: 'stderr text' }, expect.anything(), expect.anything()] });
    expect(s.ready).toBe(false);
  });

  it('logs policies the renderer skips once per distinct list of problems', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    const cache = new ClusterCache();
    cache.load([{ key: 'topology', value: topology }], 5);
    const problems = [{ path: '$.k8sPolicies[0].spec.podSelector', value: 3, message: 'must be an object' }];
    const s = new Syncer({
      cache,
      drivers: fakeDrivers([]).drivers,
      settings: { nodeName: 'a', serviceClusterIpRange: null, nat: true, policies: true, multihop: false },
      render: () => ({ chains: [], jumps: [], ipsets: [] }),
      policyProblems: () => problems,
      log,
      completeRevision: () => cache.revision,
      viewComplete: () => true,
      coalesceMs: 1,
      onFatal: () => undefined,
    });
    syncers.push(s);
    s.markDirty(['firewall']);
    await waitFor('readiness', () => s.ready);
    const passes = s.attempts;
    s.markDirty(['firewall']);
    await waitFor('a second pass', () => s.attempts > passes && s.ready);
    const warned = lines.map((l) => JSON.parse(l) as { msg: string; count: number });
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ count: 1, msg: '1 policy problem(s): the affected policies are skipped, e.g. $.k8sPolicies[0].spec.podSelector: must be an object' });
  });

  it('answers waitApplied at once when nothing is pending, and after the next pass otherwise', async () => {
    const calls: string[] = [];
    const { s, cache } = makeSyncer({ calls });
    syncers.push(s);
    s.markDirty(['firewall']);
    await waitFor('readiness', () => s.ready);
    const n = calls.length;
    expect(await s.waitApplied(5)).toBe(5);
    expect(calls.length).toBe(n);
    cache.apply({ revision: 9, type: 'put', key: 'tenants/t', value: { schema: 1, name: 't' } });
    s.markDirty(['firewall']);
    expect(await s.waitApplied(9)).toBe(9);
    expect(calls.length).toBeGreaterThan(n);
  });
});

/** A daemon stand-in: scripted snapshots and watch streams. */
class FakeDaemon {
  snapshots = 0;
  watches: number[] = [];
  revision = 10;
  streams: Array<(since: number) => AsyncGenerator<WatchEventJson>> = [];
  snapshotError: Error | null = null;

  client(): RomanaClient {
    return {
      snapshot: async (): Promise<SnapshotJson> => {
        this.snapshots++;
        if (this.snapshotError) throw this.snapshotError;
        return { revision: this.revision, records: [{ key: 'topology', value: topology, mod_revision: 2 }] };
      },
      watch: async (opts: { since?: number }): Promise<WatchStream> => {
        this.watches.push(opts.since ?? -1);
        const make = this.streams.shift() ?? (async function* () {
          await new Promise(() => undefined); // open forever
        });
        const ac = new AbortController();
        const gen = make(opts.since ?? 0);
        const it = (async function* () {
          const aborted = new Promise<IteratorResult<WatchEventJson>>((resolve) => ac.signal.addEventListener('abort', () => resolve({ value: undefined, done: true })));
          for (;;) {
            const r = await Promise.race([gen.next(), aborted]);
            if (r.done) return;
            yield r.value;
          }
        })();
        return { startRevision: opts.since ?? 0, lastRevision: opts.since ?? 0, close: () => ac.abort(), [Symbol.asyncIterator]: () => it };
      },
    } as unknown as RomanaClient;
  }
}

describe('Follower', () => {
  const followers: Follower[] = [];
  afterEach(async () => {
    await Promise.all(followers.splice(0).map((f) => f.stop()));
  });

  function follower(d: FakeDaemon, changes: string[][] = []) {
    const f = new Follower({ client: d.client(), cache: new ClusterCache(), log: silentLogger(), onChange: (p) => changes.push([...p]), initialBackoffMs: 5, maxBackoffMs: 20, catchUpMs: 30 });
    followers.push(f);
    f.start();
    return f;
  }

  it('lists, watches from the snapshot revision, and completes revisions only after their events', async () => {
    const d = new FakeDaemon();
    d.streams.push(async function* () {
      yield { revision: 11, type: 'put', key: 'tenants/a', value: { schema: 1, name: 'a' } };
      yield { revision: 11, type: 'put', key: 'tenants/b', value: { schema: 1, name: 'b' } };
      await new Promise(() => undefined);
    });
    const changes: string[][] = [];
    const f = follower(d, changes);
    await f.catchUp(11, Date.now() + 5000);
    expect(f.synced).toBe(true);
    expect(d.watches).toEqual([10]);
    expect(changes).toEqual([['routes', 'firewall', 'nat'], ['firewall'], ['firewall']]);
    expect(f.completeRevision).toBe(11);
  });

  it('resumes a cleanly ended stream and a lagging one by revision, and re-lists after errors', async () => {
    const d = new FakeDaemon();
    d.streams.push(async function* () {
      yield { revision: 12, type: 'put', key: 'tenants/a', value: { schema: 1, name: 'a' } };
    });
    d.streams.push(async function* () {
      yield { revision: 13, type: 'put', key: 'tenants/b', value: { schema: 1, name: 'b' } };
      throw new RomanaError('WATCH_FELL_BEHIND', 'behind', { details: { resume_since: 13 } });
    });
    d.streams.push(async function* () {
      throw new RomanaError('DAEMON_UNREACHABLE', 'gone');
    });
    const f = follower(d);
    await waitFor('four watches', () => d.watches.length >= 4);
    expect(d.watches.slice(0, 4)).toEqual([10, 12, 13, 10]);
    expect(d.snapshots).toBe(2);
    expect(f.completeRevision).toBeGreaterThanOrEqual(13);
  });

  it('backs off while the daemon is unreachable and catches up by re-listing when a revision never arrives', async () => {
    const d = new FakeDaemon();
    d.snapshotError = new RomanaError('DAEMON_UNREACHABLE', 'down');
    const f = follower(d);
    await waitFor('retries', () => d.snapshots >= 3);
    expect(f.synced).toBe(false);
    d.snapshotError = null;
    await waitFor('synced', () => f.synced);
    // Revision 20 has no event the agent sees (a foreign etcd write): catchUp re-lists.
    d.revision = 20;
    const before = d.snapshots;
    await f.catchUp(20, Date.now() + 5000);
    expect(d.snapshots).toBe(before + 1);
    expect(f.completeRevision).toBe(20);
    await expect(f.catchUp(99, Date.now() + 100)).rejects.toThrow(/has not reached daemon revision 99/);
  });
});
