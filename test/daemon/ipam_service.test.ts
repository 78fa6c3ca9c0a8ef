/**
 * IpamService over both store backends, in one process: the CAS commit loop,
 * idempotence, persistence across a restart of the service, replicas racing
 * on one store, in-process queuing instead of self-conflicts, cache reload
 * after a broken watch, large host removal under etcd's txn limit, and
 * STORE_CORRUPT for unreadable records. Multi-process behaviour (several
 * allocator processes, kill -9) is in ipam_multiprocess.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RomanaError } from '../../src/core/errors.js';
import { builtinTopology } from '../../src/core/topology/index.js';
import { IpamService } from '../../src/daemon/ipam_service.js';
import { openEmbeddedStore } from '../../src/store/embedded.js';
import { openEtcdStore } from '../../src/store/etcd.js';
import type { Store, Watch } from '../../src/store/store.js';
import { startEtcd, type EtcdInstance } from '../helpers/etcd.js';
import { checkIpamConsistency } from '../helpers/ipam_check.js';
import { waitFor } from '../helpers/poll.js';

interface Backend {
  open(prefix: string): Promise<Store>;
  teardown(): Promise<void>;
}

const backends: Record<string, () => Promise<Backend>> = {
  embedded: async () => {
    const dir = mkdtempSync('/dev/shm/romana-test-ipam-');
    return { open: async (prefix) => openEmbeddedStore({ dataDir: dir, prefix }), teardown: async () => rmSync(dir, { recursive: true, force: true }) };
  },
  etcd: async () => {
    const etcd: EtcdInstance = await startEtcd();
    return { open: (prefix) => openEtcdStore({ endpoints: [etcd.endpoint], prefix }), teardown: () => etcd.stop() };
  },
};

/** A Store whose watches the test can break, as a compaction or a lost stream would. */
function breakableWatches(inner: Store): Store & { breakWatches(err: Error): void } {
  const onErrors = new Set<(e: Error) => void>();
  return {
    kind: inner.kind,
    get: (k) => inner.get(k),
    range: (p) => inner.range(p),
    txn: (c, o) => inner.txn(c, o),
    grantLease: (t) => inner.grantLease(t),
    revision: () => inner.revision(),
    compact: (r) => inner.compact(r),
    close: () => inner.close(),
    watch: async (prefix, since, onEvent, onError) => {
      let dead = false;
      const fail = (e: Error) => {
        if (dead) return;
        dead = true;
        onErrors.delete(fail);
        onError?.(e);
      };
      onErrors.add(fail);
      const w: Watch = await inner.watch(prefix, since, (e) => !dead && onEvent(e), fail);
      return { close: async () => { dead = true; onErrors.delete(fail); await w.close(); } };
    },
    breakWatches: (err) => { for (const f of [...onErrors]) f(err); },
  };
}

for (const [name, make] of Object.entries(backends)) {
  describe(`IpamService on ${name}`, () => {
    let backend: Backend;
    const cleanups: Array<() => Promise<void>> = [];
    let n = 0;

    /** A store under a fresh prefix with the kubeadm topology and hosts h1..h4 registered. */
    const setup = async (hosts = 4) => {
      const prefix = `/ipam-${process.pid}-${n++}`;
      const store = await backend.open(prefix);
      cleanups.push(() => store.close());
      const ipam = await IpamService.open(store);
      cleanups.push(() => ipam.close());
      await ipam.setTopology(builtinTopology('kubeadm'));
      for (let i = 1; i <= hosts; i++) await ipam.addHost({ name: `h${i}`, ip: `192.168.0.${i}` });
      return { prefix, store, ipam };
    };
    const another = async (prefix: string) => {
      const store = await backend.open(prefix);
      cleanups.push(() => store.close());
      const ipam = await IpamService.open(store);
      cleanups.push(() => ipam.close());
      return { store, ipam };
    };

    beforeAll(async () => {
      backend = await make();
    });
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });
    afterAll(async () => {
      await backend?.teardown();
    });

    it('allocates, is idempotent by name, releases, and a restarted service sees the same state', async () => {
      const { prefix, store, ipam } = await setup();
      const a = await ipam.allocate({ name: 'pod-a', host: 'h1', tenant: 't', segment: 's' });
      const b = await ipam.allocate({ name: 'pod-b', host: 'h1', tenant: 't', segment: 's' });
      expect(a.ip).not.toBe(b.ip);
      expect(await ipam.allocate({ name: 'pod-a', host: 'h1', tenant: 't', segment: 's' })).toEqual(a);
      // What the store holds is what the cache says.
      const stored = await store.get('addresses/pod-a');
      expect(JSON.parse(stored!.value)).toMatchObject({ name: 'pod-a', ip: a.ip, host: 'h1' });
      expect((await ipam.release('pod-b')).ip).toBe(b.ip);
      expect(await store.get('addresses/pod-b')).toBeNull();
      // A second service on the same store (a restart, or a replica) loads the same records.
      const { ipam: again } = await another(prefix);
      expect(again.address('pod-a')).toMatchObject({ ip: a.ip });
      expect(again.address('pod-b')).toBeUndefined();
      expect(again.hosts().map((h) => h.name).sort()).toEqual(['h1', 'h2', 'h3', 'h4']);
      expect(await again.allocate({ name: 'pod-a', host: 'h1', tenant: 't', segment: 's' })).toEqual(a);
      const err = await again.allocate({ name: 'pod-a', host: 'h2', tenant: 't', segment: 's' }).catch((e: unknown) => e);
      expect((err as RomanaError).code).toBe('ALREADY_EXISTS');
    });

    it('follows the other replica through the watch', async () => {
      const { prefix, ipam } = await setup();
      const { ipam: other } = await another(prefix);
      const a = await other.allocate({ name: 'from-other', host: 'h2', tenant: 't', segment: 's' });
      await waitFor('the watch to bring the other replica\'s allocation', () => ipam.address('from-other'));
      expect(ipam.address('from-other')!.ip).toBe(a.ip);
    });

    it('two replicas racing on the same hosts never hand out one address twice', async () => {
      const { prefix, store, ipam } = await setup();
      const { ipam: other } = await another(prefix);
      const reqs = Array.from({ length: 120 }, (_, i) => ({ name: `race-${i}`, host: `h${(Math.floor(i / 2) % 2) + 1}`, tenant: 't', segment: 's' }));
      const results = await Promise.all(reqs.map((r, i) => (i % 2 ? ipam : other).allocate(r)));
      expect(new Set(results.map((r) => r.ip)).size).toBe(120);
      const snap = await checkIpamConsistency(store);
      expect(snap.problems).toEqual([]);
      expect(snap.addresses.size).toBe(120);
      for (const r of results) expect(snap.addresses.get(r.name)?.ip).toBe(r.ip);
      // The two replicas really did race (otherwise this test proves nothing about CAS).
      expect(ipam.stats.conflicts + other.stats.conflicts).toBeGreaterThan(0);
    });

    it('concurrent requests in one process queue on shared records instead of conflicting', async () => {
      const { store, ipam } = await setup();
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => ipam.allocate({ name: `q-${i}`, host: `h${(i % 4) + 1}`, tenant: 't', segment: 's' })),
      );
      expect(new Set(results.map((r) => r.ip)).size).toBe(40);
      expect(ipam.stats.conflicts).toBe(0);
      expect(ipam.stats.waits).toBeGreaterThan(0);
      expect((await checkIpamConsistency(store)).problems).toEqual([]);
    });

    it('reloads its cache after the watch breaks and keeps allocating correctly', async () => {
      const prefix = `/ipam-reload-${process.pid}-${n++}`;
      const raw = await backend.open(prefix);
      cleanups.push(() => raw.close());
      const store = breakableWatches(raw);
      const ipam = await IpamService.open(store);
      cleanups.push(() => ipam.close());
      await ipam.setTopology(builtinTopology('kubeadm'));
      await ipam.addHost({ name: 'h1', ip: '192.168.0.1' });
      await ipam.allocate({ name: 'before', host: 'h1', tenant: 't', segment: 's' });
      store.breakWatches(new RomanaError('CONFLICT', 'history compacted (test)'));
      // While the cache is blind, another replica allocates.
      const { ipam: other } = await another(prefix);
      const theirs = await other.allocate({ name: 'while-blind', host: 'h1', tenant: 't', segment: 's' });
      const mine = await ipam.allocate({ name: 'after', host: 'h1', tenant: 't', segment: 's' });
      expect(ipam.stats.reloads).toBe(1);
      expect(ipam.address('while-blind')?.ip).toBe(theirs.ip);
      expect(mine.ip).not.toBe(theirs.ip);
      expect((await checkIpamConsistency(raw)).problems).toEqual([]);
    });

    it('removes a host with more addresses than one etcd transaction carries', async () => {
      const { store, ipam } = await setup(1);
      for (let i = 0; i < 140; i++) await ipam.allocate({ name: `big-${i}`, host: 'h1', tenant: 't', segment: 's' });
      const released = await ipam.removeHost('h1');
      expect(released.map((a) => a.name).sort()).toEqual(Array.from({ length: 140 }, (_, i) => `big-${i}`).sort());
      expect((await store.range('addresses/')).kvs).toEqual([]);
      expect((await store.range('blocks/')).kvs).toEqual([]);
      expect(await store.get('hosts/h1')).toBeNull();
    });

    it('refuses to load a corrupted or foreign-schema record, naming it (STORE_CORRUPT)', async () => {
      const { prefix, store } = await setup(1);
      await store.txn([], [{ op: 'put', key: 'blocks/romana-network/10.112.0.0/29', value: '{"schema":1,"network":"romana-network","cidr":' }]);
      const e1 = await IpamService.open(await backend.open(prefix).then((s) => (cleanups.push(() => s.close()), s))).catch((e: unknown) => e);
      expect(e1).toBeInstanceOf(RomanaError);
      expect((e1 as RomanaError).code).toBe('STORE_CORRUPT');
      expect((e1 as RomanaError).message).toContain('"blocks/romana-network/10.112.0.0/29"');
      await store.txn([], [{ op: 'put', key: 'blocks/romana-network/10.112.0.0/29', value: JSON.stringify({ schema: 7, network: 'romana-network' }) }]);
      const e2 = await IpamService.open(store).catch((e: unknown) => e);
      expect((e2 as RomanaError).code).toBe('STORE_CORRUPT');
      expect((e2 as RomanaError).message).toMatch(/schema 7/);
    });

    it('a corrupted record arriving through the watch stops operations with STORE_CORRUPT', async () => {
      const { store, ipam } = await setup(1);
      await ipam.allocate({ name: 'ok', host: 'h1', tenant: 't', segment: 's' });
      await store.txn([], [{ op: 'put', key: 'hosts/h1', value: '{"schema":1,"name":"h1"}' }]);
      const err = await waitFor('the corrupt record to be noticed', async () => {
        const e = await ipam.allocate({ name: `next-${Date.now()}`, host: 'h1', tenant: 't', segment: 's' }).then(() => undefined, (x: unknown) => x);
        return e;
      });
      expect((err as RomanaError).code).toBe('STORE_CORRUPT');
      expect((err as RomanaError).message).toContain('"hosts/h1"');
      expect((err as RomanaError).message).toMatch(/"ip" must be/);
    });
  });
}
