/**
 * The one conformance suite every Store backend must pass (store.ts).
 * `describeStoreConformance(name, setup)` registers the same cases for a
 * backend; embedded.test.ts and etcd.test.ts call it.
 *
 * Each case opens its own store under a fresh prefix on the shared backend,
 * so cases never see each other's keys; revisions are asserted relative to
 * the case's own start (the revision counter is shared by all prefixes).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RomanaError } from '../../src/core/errors.js';
import { decodeIpamRecord } from '../../src/store/codec.js';
import { MAX_TXN_OPS, type Store, type WatchEvent } from '../../src/store/store.js';
import { waitFor } from '../helpers/poll.js';

export interface ConformanceBackend {
  /** Opens a store on the shared backend with key prefix `prefix`. */
  open(prefix: string): Promise<Store>;
  teardown(): Promise<void>;
}

function expectCode(e: unknown, code: string): RomanaError {
  expect(e).toBeInstanceOf(RomanaError);
  expect((e as RomanaError).code).toBe(code);
  return e as RomanaError;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to reject');
}

/** Collects a watch's events and errors. */
function collector() {
  const events: WatchEvent[] = [];
  const errors: Error[] = [];
  return { events, errors, onEvent: (e: WatchEvent) => events.push(e), onError: (e: Error) => errors.push(e) };
}

export function describeStoreConformance(name: string, setup: () => Promise<ConformanceBackend>): void {
  describe(`Store conformance: ${name}`, () => {
    let backend: ConformanceBackend;
    const open: Store[] = [];
    let n = 0;
    const newPrefix = () => `/conf-${process.pid}-${Date.now()}-${n++}`;
    const fresh = async (prefix = newPrefix()): Promise<Store> => {
      const s = await backend.open(prefix);
      open.push(s);
      return s;
    };

    beforeAll(async () => {
      backend = await setup();
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });
    afterAll(async () => {
      await backend?.teardown();
    });

    it('get returns null for a missing key and the record with its revisions after writes', async () => {
      const s = await fresh();
      expect(await s.get('hosts/a')).toBeNull();
      const r1 = await s.txn([{ key: 'hosts/a', modRevision: 0 }], [{ op: 'put', key: 'hosts/a', value: '{"v":1}' }]);
      expect(r1.succeeded).toBe(true);
      expect(await s.get('hosts/a')).toEqual({ key: 'hosts/a', value: '{"v":1}', modRevision: r1.revision, createRevision: r1.revision, version: 1 });
      const r2 = await s.txn([{ key: 'hosts/a', modRevision: r1.revision }], [{ op: 'put', key: 'hosts/a', value: '{"v":2}' }]);
      expect(r2.succeeded).toBe(true);
      expect(await s.get('hosts/a')).toEqual({ key: 'hosts/a', value: '{"v":2}', modRevision: r2.revision, createRevision: r1.revision, version: 2 });
    });

    it('range returns the keys under a prefix, sorted, with the read revision', async () => {
      const s = await fresh();
      const keys = ['blocks/n/10.0.0.8/29', 'blocks/n/10.0.0.0/29', 'blocks/m/10.1.0.0/29', 'blocksX', 'hosts/z', 'addresses/p'];
      for (const k of keys) await s.txn([], [{ op: 'put', key: k, value: k }]);
      const rev = await s.revision();
      const r = await s.range('blocks/');
      expect(r.kvs.map((kv) => kv.key)).toEqual(['blocks/m/10.1.0.0/29', 'blocks/n/10.0.0.0/29', 'blocks/n/10.0.0.8/29']);
      expect(r.kvs.every((kv) => kv.value === kv.key)).toBe(true);
      expect(r.revision).toBe(rev);
      expect((await s.range('')).kvs.map((kv) => kv.key)).toEqual([...keys].sort());
      const empty = await s.range('nothing/');
      expect(empty).toEqual({ kvs: [], revision: rev });
    });

    it('range pages through more keys than one request carries', async () => {
      const s = await fresh();
      const ops = Array.from({ length: 2500 }, (_, i) => ({ op: 'put' as const, key: `addresses/a${String(i).padStart(5, '0')}`, value: 'x'.repeat(10) }));
      // Several txns: etcd caps the ops in one txn (128 by default).
      for (let i = 0; i < ops.length; i += 100) await s.txn([], ops.slice(i, i + 100));
      const r = await s.range('addresses/');
      expect(r.kvs).toHaveLength(2500);
      expect(r.kvs.map((kv) => kv.key)).toEqual(ops.map((o) => o.key));
    });

    it('txn applies all ops atomically when every compare holds, none otherwise', async () => {
      const s = await fresh();
      const a = await s.txn([], [{ op: 'put', key: 'a', value: '1' }, { op: 'put', key: 'b', value: '1' }]);
      const before = await s.revision();
      // One stale compare among good ones: nothing changes, revision stays.
      const failed = await s.txn(
        [{ key: 'a', modRevision: a.revision }, { key: 'b', modRevision: a.revision - 1 }, { key: 'c', modRevision: 0 }],
        [{ op: 'put', key: 'a', value: '2' }, { op: 'delete', key: 'b' }, { op: 'put', key: 'c', value: '2' }],
      );
      expect(failed).toEqual({ succeeded: false, revision: before });
      expect((await s.get('a'))?.value).toBe('1');
      expect((await s.get('b'))?.value).toBe('1');
      expect(await s.get('c')).toBeNull();
      // All compares good: create, update and delete in one revision.
      const ok = await s.txn(
        [{ key: 'a', modRevision: a.revision }, { key: 'b', modRevision: a.revision }, { key: 'c', modRevision: 0 }],
        [{ op: 'put', key: 'a', value: '2' }, { op: 'delete', key: 'b' }, { op: 'put', key: 'c', value: '2' }],
      );
      expect(ok).toEqual({ succeeded: true, revision: before + 1 });
      expect(await s.get('a')).toMatchObject({ value: '2', modRevision: before + 1, version: 2 });
      expect(await s.get('b')).toBeNull();
      expect(await s.get('c')).toMatchObject({ value: '2', modRevision: before + 1, createRevision: before + 1, version: 1 });
    });

    it('modRevision 0 means "must not exist": a second create fails, a re-create after delete succeeds', async () => {
      const s = await fresh();
      const c1 = await s.txn([{ key: 'k', modRevision: 0 }], [{ op: 'put', key: 'k', value: 'first' }]);
      const c2 = await s.txn([{ key: 'k', modRevision: 0 }], [{ op: 'put', key: 'k', value: 'second' }]);
      expect(c1.succeeded).toBe(true);
      expect(c2.succeeded).toBe(false);
      expect((await s.get('k'))?.value).toBe('first');
      expect((await s.txn([{ key: 'k', modRevision: c1.revision }], [{ op: 'delete', key: 'k' }])).succeeded).toBe(true);
      const c3 = await s.txn([{ key: 'k', modRevision: 0 }], [{ op: 'put', key: 'k', value: 'third' }]);
      expect(c3.succeeded).toBe(true);
      expect(await s.get('k')).toMatchObject({ value: 'third', createRevision: c3.revision, version: 1 });
    });

    it('the revision grows by exactly one per committed write, not for failed or no-op transactions', async () => {
      const s = await fresh();
      const r0 = await s.revision();
      const w1 = await s.txn([], [{ op: 'put', key: 'x', value: '1' }]);
      expect(w1.revision).toBe(r0 + 1);
      const w2 = await s.txn([], [{ op: 'put', key: 'x', value: '2' }, { op: 'put', key: 'y', value: '2' }]);
      expect(w2.revision).toBe(r0 + 2);
      expect((await s.txn([{ key: 'x', modRevision: 1 }], [{ op: 'put', key: 'x', value: '3' }])).revision).toBe(r0 + 2);
      // Deleting a key that does not exist changes nothing (as in etcd).
      expect(await s.txn([], [{ op: 'delete', key: 'never' }])).toEqual({ succeeded: true, revision: r0 + 2 });
      expect(await s.revision()).toBe(r0 + 2);
    });

    it('concurrent read-modify-write through compare-and-swap loses no update', async () => {
      // Two handles on one prefix: for etcd two clients, for SQLite two connections.
      const prefix = newPrefix();
      const s = await fresh(prefix);
      const s2 = await fresh(prefix);
      const increment = async (st: Store) => {
        for (;;) {
          const cur = await st.get('counter');
          const next = String(Number(cur?.value ?? '0') + 1);
          const r = await st.txn([{ key: 'counter', modRevision: cur?.modRevision ?? 0 }], [{ op: 'put', key: 'counter', value: next }]);
          if (r.succeeded) return;
        }
      };
      await Promise.all(Array.from({ length: 40 }, (_, i) => increment(i % 2 ? s : s2)));
      expect((await s.get('counter'))?.value).toBe('40');
      expect((await s.get('counter'))?.version).toBe(40);
    });

    it('rejects a transaction that writes one key twice, and empty keys', async () => {
      const s = await fresh();
      expectCode(await rejection(s.txn([], [{ op: 'put', key: 'd', value: '1' }, { op: 'delete', key: 'd' }])), 'INVALID_ARGUMENT');
      expectCode(await rejection(s.txn([], [{ op: 'put', key: '', value: '1' }])), 'INVALID_ARGUMENT');
      expect(await s.get('d')).toBeNull();
    });

    it(`accepts ${MAX_TXN_OPS} ops in one transaction and rejects more (etcd's --max-txn-ops)`, async () => {
      const s = await fresh();
      const ops = (n: number, p: string) => Array.from({ length: n }, (_, i) => ({ op: 'put' as const, key: `${p}/${i}`, value: '' }));
      const cmp = (n: number, p: string) => Array.from({ length: n }, (_, i) => ({ key: `${p}/${i}`, modRevision: 0 }));
      expect((await s.txn(cmp(MAX_TXN_OPS, 'max'), ops(MAX_TXN_OPS, 'max'))).succeeded).toBe(true);
      expectCode(await rejection(s.txn([], ops(MAX_TXN_OPS + 1, 'over'))), 'INVALID_ARGUMENT');
      expectCode(await rejection(s.txn(cmp(MAX_TXN_OPS + 1, 'over'), [])), 'INVALID_ARGUMENT');
      expect((await s.range('over/')).kvs).toEqual([]);
    });

    it('watch replays history after `since`, then live changes, in order, exactly once', async () => {
      const s = await fresh();
      await s.txn([], [{ op: 'put', key: 'w/before', value: 'old' }]);
      const since = await s.revision();
      const p1 = await s.txn([], [{ op: 'put', key: 'w/a', value: '1' }]);
      const p2 = await s.txn([], [{ op: 'put', key: 'w/b', value: '1' }, { op: 'put', key: 'other/x', value: 'no' }, { op: 'delete', key: 'w/before' }]);
      const c = collector();
      const w = await s.watch('w/', since, c.onEvent, c.onError);
      await waitFor('replayed events', () => c.events.length >= 3);
      const p3 = await s.txn([], [{ op: 'put', key: 'w/a', value: '2' }]);
      const p4 = await s.txn([], [{ op: 'delete', key: 'w/a' }]);
      await waitFor('live events', () => c.events.length >= 5);
      // Let anything duplicated or misplaced arrive before judging "exactly once".
      await s.txn([], [{ op: 'put', key: 'w/end', value: 'e' }]);
      await waitFor('end marker', () => c.events.some((e) => e.key === 'w/end'));
      await w.close();
      const byRev = (e: WatchEvent) => `${e.revision}:${e.type}:${e.key}:${e.value ?? ''}`;
      const p5 = c.events[c.events.length - 1]!.revision;
      const expected = [
        `${p1.revision}:put:w/a:1`,
        ...[`${p2.revision}:put:w/b:1`, `${p2.revision}:delete:w/before:`].sort(),
        `${p3.revision}:put:w/a:2`,
        `${p4.revision}:delete:w/a:`,
        `${p5}:put:w/end:e`,
      ];
      const got = c.events.map(byRev);
      // Within one revision the order of keys is not specified; across revisions it is.
      expect([got[0], ...got.slice(1, 3).sort(), ...got.slice(3)]).toEqual(expected);
      expect(c.events.map((e) => e.revision)).toEqual([...c.events.map((e) => e.revision)].sort((a, b) => a - b));
      expect(c.errors).toEqual([]);
    });

    it('range then watch from its revision sees exactly the later changes', async () => {
      const s = await fresh();
      for (let i = 0; i < 5; i++) await s.txn([], [{ op: 'put', key: `r/${i}`, value: String(i) }]);
      const snap = await s.range('r/');
      const c = collector();
      const w = await s.watch('r/', snap.revision, c.onEvent, c.onError);
      const later = await s.txn([], [{ op: 'put', key: 'r/9', value: '9' }]);
      await waitFor('the later change', () => c.events.length >= 1);
      await s.txn([], [{ op: 'put', key: 'r/end', value: '' }]);
      await waitFor('end marker', () => c.events.length >= 2);
      await w.close();
      expect(c.events.map((e) => [e.key, e.revision])).toEqual([['r/9', later.revision], ['r/end', later.revision + 1]]);
    });

    it('close() of a watch stops delivery', async () => {
      const s = await fresh();
      const c = collector();
      const w = await s.watch('', await s.revision(), c.onEvent, c.onError);
      await s.txn([], [{ op: 'put', key: 'a', value: '1' }]);
      await waitFor('first event', () => c.events.length === 1);
      await w.close();
      await s.txn([], [{ op: 'put', key: 'a', value: '2' }]);
      // A second, still-open watch proves the write was published before we judge the closed one.
      const c2 = collector();
      const w2 = await s.watch('', (await s.revision()) - 1, c2.onEvent, c2.onError);
      await waitFor('the control watch', () => c2.events.length === 1);
      await w2.close();
      expect(c.events).toHaveLength(1);
    });

    it('a slow consumer does not hold up writers and still gets every event in order', async () => {
      const s = await fresh();
      const c = collector();
      const w = await s.watch('slow/', await s.revision(), (e) => {
        const until = Date.now() + 20; // a consumer that needs 20 ms per event
        while (Date.now() < until) { /* busy */ }
        c.onEvent(e);
      }, c.onError);
      const writes = await Promise.all(Array.from({ length: 30 }, (_, i) => s.txn([], [{ op: 'put', key: `slow/${i}`, value: String(i) }])));
      // Every write was acknowledged while the consumer still had a backlog (30 × 20 ms of work).
      const consumedWhenWritesDone = c.events.length;
      expect(consumedWhenWritesDone).toBeLessThan(30);
      await waitFor('all events', () => c.events.length === 30, { timeoutMs: 20_000 });
      await w.close();
      expect(c.events.map((e) => e.revision)).toEqual(writes.map((r) => r.revision).sort((a, b) => a - b));
      expect(new Set(c.events.map((e) => e.key)).size).toBe(30);
      expect(c.errors).toEqual([]);
    });

    it('watching from compacted history reports a CONFLICT the caller can recover from', async () => {
      const s = await fresh();
      const start = await s.revision();
      for (let i = 0; i < 4; i++) await s.txn([], [{ op: 'put', key: `c/${i}`, value: String(i) }]);
      const compactAt = await s.revision();
      await s.compact(compactAt);
      await s.compact(compactAt - 1); // at or below an earlier compaction: a no-op
      const c = collector();
      const w = await s.watch('c/', start, c.onEvent, c.onError);
      const err = await waitFor('the compaction error', () => c.errors[0]);
      await w.close();
      const re = expectCode(err, 'CONFLICT');
      expect(re.message).toMatch(/compacted/);
      expect(c.events).toEqual([]);
      // Recovery: range (current state) and watch from its revision.
      const snap = await s.range('c/');
      expect(snap.kvs).toHaveLength(4);
      const c2 = collector();
      const w2 = await s.watch('c/', snap.revision, c2.onEvent, c2.onError);
      await s.txn([], [{ op: 'put', key: 'c/new', value: 'n' }]);
      await waitFor('event after recovery', () => c2.events.length === 1);
      await w2.close();
      expect(c2.errors).toEqual([]);
      // The compaction point itself is still watchable: its events were kept.
      const c3 = collector();
      const w3 = await s.watch('c/', compactAt - 1, c3.onEvent, c3.onError);
      await waitFor('events from the compaction point', () => c3.events.length === 2);
      await w3.close();
      expect(c3.events.map((e) => e.revision)).toEqual([compactAt, compactAt + 1]);
      expect(c3.errors).toEqual([]);
    });

    it('leases: attached keys vanish on revoke, with a delete event', async () => {
      const s = await fresh();
      const lease = await s.grantLease(30);
      expect(lease.id).toMatch(/^[0-9]+$/);
      await s.txn([], [{ op: 'put', key: 'leases/agents/h1', value: 'alive', lease: lease.id }, { op: 'put', key: 'plain', value: 'p' }]);
      expect(await s.get('leases/agents/h1')).toMatchObject({ value: 'alive', lease: lease.id });
      const c = collector();
      const w = await s.watch('leases/', await s.revision(), c.onEvent, c.onError);
      await lease.keepAlive();
      await lease.revoke();
      expect(await s.get('leases/agents/h1')).toBeNull();
      expect((await s.get('plain'))?.value).toBe('p');
      await waitFor('delete event', () => c.events.length === 1);
      await w.close();
      expect(c.events[0]).toMatchObject({ type: 'delete', key: 'leases/agents/h1' });
      expectCode(await rejection(lease.keepAlive()), 'NOT_FOUND');
      await lease.revoke(); // revoking twice is harmless
    });

    it('leases: attached keys vanish when the TTL runs out without keepAlive; keepAlive keeps them', async () => {
      const s = await fresh();
      const kept = await s.grantLease(2);
      const lapsed = await s.grantLease(1);
      await s.txn([], [
        { op: 'put', key: 'kept', value: 'k', lease: kept.id },
        { op: 'put', key: 'lapsed', value: 'l', lease: lapsed.id },
      ]);
      const c = collector();
      const w = await s.watch('', await s.revision(), c.onEvent, c.onError);
      const t0 = Date.now();
      // Refresh `kept` well within its TTL while waiting for `lapsed` to expire.
      await waitFor('the lapsed key to vanish', async () => {
        await kept.keepAlive();
        return (await s.get('lapsed')) === null;
      }, { timeoutMs: 15_000, intervalMs: 250 });
      // Keep going past kept's own TTL: it must still be there.
      while (Date.now() - t0 < kept.ttlSeconds * 1000 + 500) {
        await kept.keepAlive();
        await new Promise((r) => setTimeout(r, 250));
      }
      expect((await s.get('kept'))?.value).toBe('k');
      await waitFor('delete event for the lapsed key', () => c.events.find((e) => e.key === 'lapsed' && e.type === 'delete'));
      expectCode(await rejection(lapsed.keepAlive()), 'NOT_FOUND');
      await w.close();
      await kept.revoke();
    });

    it('a put attached to an unknown lease fails with NOT_FOUND and writes nothing', async () => {
      const s = await fresh();
      const lease = await s.grantLease(5);
      await lease.revoke();
      expectCode(await rejection(s.txn([], [{ op: 'put', key: 'a', value: '1' }, { op: 'put', key: 'b', value: '1', lease: lease.id }])), 'NOT_FOUND');
      expect(await s.get('a')).toBeNull();
    });

    it('two prefixes on one backend do not see each other', async () => {
      const base = `/iso-${process.pid}-${Date.now()}`;
      const a = await fresh(base);
      const b = await fresh(`${base}x`); // shares the leading characters on purpose
      const cb = collector();
      const wb = await b.watch('', await b.revision(), cb.onEvent, cb.onError);
      await a.txn([], [{ op: 'put', key: 'hosts/h', value: 'A' }]);
      await b.txn([], [{ op: 'put', key: 'hosts/h2', value: 'B' }]);
      expect(await b.get('hosts/h')).toBeNull();
      expect((await a.range('')).kvs.map((kv) => [kv.key, kv.value])).toEqual([['hosts/h', 'A']]);
      expect((await b.range('')).kvs.map((kv) => [kv.key, kv.value])).toEqual([['hosts/h2', 'B']]);
      // A compare on the other prefix's key sees it as absent.
      expect((await b.txn([{ key: 'hosts/h', modRevision: 0 }], [{ op: 'put', key: 'hosts/h', value: 'B' }])).succeeded).toBe(true);
      expect((await a.get('hosts/h'))?.value).toBe('A');
      await waitFor('b events', () => cb.events.length === 2);
      await wb.close();
      expect(cb.events.map((e) => e.value)).toEqual(['B', 'B']);
    });

    it('a corrupted or foreign-schema record decodes to STORE_CORRUPT naming the key', async () => {
      const s = await fresh();
      await s.txn([], [
        { op: 'put', key: 'hosts/bad-json', value: '{"schema":1,"name":' },
        { op: 'put', key: 'hosts/foreign', value: '{"schema":99,"name":"foreign"}' },
        { op: 'put', key: 'hosts/good', value: JSON.stringify({ schema: 1, name: 'good', ip: '192.168.0.1', labels: {}, groups: {} }) },
      ]);
      const { kvs } = await s.range('hosts/');
      const decoded = kvs.map((kv) => {
        try {
          return decodeIpamRecord(kv.key, kv.value);
        } catch (e) {
          return e;
        }
      });
      const badJson = expectCode(decoded[0], 'STORE_CORRUPT');
      expect(badJson.message).toContain('"hosts/bad-json"');
      expect(badJson.message).toMatch(/not valid JSON/);
      const foreign = expectCode(decoded[1], 'STORE_CORRUPT');
      expect(foreign.message).toContain('"hosts/foreign"');
      expect(foreign.message).toMatch(/schema 99/);
      expect(decoded[2]).toMatchObject({ name: 'good' });
    });

    it('close() ends watches and makes later calls fail with STORE_UNAVAILABLE', async () => {
      const s = await backend.open(`/close-${process.pid}-${Date.now()}`);
      const c = collector();
      await s.watch('', await s.revision(), c.onEvent, c.onError);
      await s.close();
      await s.close(); // idempotent
      expectCode(await rejection(s.get('a')), 'STORE_UNAVAILABLE');
      expectCode(await rejection(s.txn([], [{ op: 'put', key: 'a', value: '1' }])), 'STORE_UNAVAILABLE');
      expect(c.events).toEqual([]);
    });
  });
}
