/**
 * The etcd v3 backend against a real etcd started by the test (data dir on
 * /dev/shm, free loopback ports): the shared conformance suite, plus
 * etcd-only behaviour (unreachable endpoints, watch across an etcd restart).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RomanaError } from '../../src/core/errors.js';
import { openEtcdStore } from '../../src/store/etcd.js';
import { openStore } from '../../src/store/open.js';
import type { Store, WatchEvent } from '../../src/store/store.js';
import { freePort, startEtcd, type EtcdInstance } from '../helpers/etcd.js';
import { waitFor } from '../helpers/poll.js';
import { describeStoreConformance } from './conformance.js';

describeStoreConformance('etcd', async () => {
  const etcd = await startEtcd();
  return {
    open: async (prefix) => openEtcdStore({ endpoints: [etcd.endpoint], prefix }),
    teardown: () => etcd.stop(),
  };
});

describe('etcd store: connectivity', () => {
  let etcd: EtcdInstance | undefined;
  const stores: Store[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await etcd?.stop();
    etcd = undefined;
  });

  it('an unreachable endpoint gives STORE_UNAVAILABLE naming it, quickly, not a hang', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    const t0 = Date.now();
    const err = await openStore({ etcdEndpoints: `${endpoint}, `, dialTimeoutMs: 1000, callTimeoutMs: 1000 }).then(
      () => new Error('opened'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RomanaError);
    expect((err as RomanaError).code).toBe('STORE_UNAVAILABLE');
    expect((err as RomanaError).message).toContain(endpoint);
    expect((err as RomanaError).details).toEqual({ endpoints: [endpoint] });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('calls on a store whose etcd went away fail with STORE_UNAVAILABLE within the call timeout', async () => {
    etcd = await startEtcd();
    const s = await openEtcdStore({ endpoints: [etcd.endpoint], prefix: '/gone', dialTimeoutMs: 1000, callTimeoutMs: 1000 });
    stores.push(s);
    await s.txn([], [{ op: 'put', key: 'a', value: '1' }]);
    await etcd.stop();
    const t0 = Date.now();
    const err = await s.get('a').then(() => new Error('answered'), (e: unknown) => e);
    expect((err as RomanaError).code).toBe('STORE_UNAVAILABLE');
    expect((err as RomanaError).message).toContain(etcd.endpoint);
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it('a watch survives an etcd restart and still delivers every change exactly once', async () => {
    etcd = await startEtcd();
    const s = await openEtcdStore({ endpoints: [etcd.endpoint], prefix: '/restart' });
    stores.push(s);
    const events: WatchEvent[] = [];
    const errors: Error[] = [];
    const w = await s.watch('', await s.revision(), (e) => events.push(e), (e) => errors.push(e));
    for (let i = 0; i < 5; i++) await s.txn([], [{ op: 'put', key: `k${i}`, value: String(i) }]);
    await waitFor('events before the restart', () => events.length === 5);
    await etcd.restart();
    // Written by a second client while the first one's watch stream is still reconnecting.
    const s2 = await openEtcdStore({ endpoints: [etcd.endpoint], prefix: '/restart' });
    stores.push(s2);
    for (let i = 5; i < 10; i++) await s2.txn([], [{ op: 'put', key: `k${i}`, value: String(i) }]);
    await waitFor('events after the restart', () => events.length >= 10, { timeoutMs: 15_000 });
    await s2.txn([], [{ op: 'put', key: 'end', value: '' }]);
    await waitFor('end marker', () => events.some((e) => e.key === 'end'), { timeoutMs: 15_000 });
    await w.close();
    expect(events.map((e) => e.key)).toEqual([...Array.from({ length: 10 }, (_, i) => `k${i}`), 'end']);
    expect(errors).toEqual([]);
  });
});
