/**
 * Two daemons on one etcd serve at once: concurrent allocations through
 * HTTP against both never hand out an address twice and never lose one,
 * and each replica's cache follows the other's writes through the watch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RomanaClient } from '../../src/shared/api_client.js';
import { cleanupDaemons, http, startDaemon, type DaemonProcess } from '../helpers/daemon.js';
import { startEtcd, type EtcdInstance } from '../helpers/etcd.js';
import { waitFor } from '../helpers/poll.js';

let etcd: EtcdInstance;
let a: DaemonProcess;
let b: DaemonProcess;

beforeAll(async () => {
  etcd = await startEtcd();
  const store = ['--etcd-endpoints', etcd.endpoint, '--etcd-prefix', '/ha'];
  // Started together on an empty store: exactly one installs the initial topology.
  [a, b] = await Promise.all([startDaemon(store), startDaemon(store)]);
});

afterAll(async () => {
  await cleanupDaemons();
  await etcd?.stop();
});

/** Runs `jobs` with at most `width` in flight. */
async function pool<T>(jobs: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]!();
      }
    }),
  );
  return out;
}

describe('two daemons on one etcd', () => {
  it('install the initial topology once', () => {
    const installed = [a, b].filter((d) => d.logs.some((l) => /installed the initial topology/.test(l.msg)));
    expect(installed).toHaveLength(1);
  });

  it('allocate concurrently through both without duplicates or losses', async () => {
    const ca = a.client();
    const cb = b.client();
    // Hosts registered through different replicas; each must see the other's host before allocating.
    await ca.addHost({ name: 'ha-1', ip: '192.168.77.1' });
    await cb.addHost({ name: 'ha-2', ip: '192.168.77.2' });
    for (const c of [ca, cb]) await waitFor('both hosts on both replicas', async () => (await c.listHosts()).hosts.length === 2);

    const N = 240;
    const clients: RomanaClient[] = [ca, cb];
    // Same hosts and owners from both sides, so the replicas race for the same blocks.
    const jobs = Array.from({ length: N }, (_, i) => async () => {
      const req = { name: `pod-${i}`, host: i % 3 === 0 ? 'ha-2' : 'ha-1', tenant: i % 2 === 0 ? 't1' : 't2', segment: 'default' };
      const ip = await clients[i % 2]!.allocate(req);
      return { name: req.name, ip };
    });
    const got = await pool(jobs, 16);

    const ips = got.map((g) => g.ip);
    expect(new Set(ips).size).toBe(N);
    // Both replicas converge on exactly these N addresses.
    for (const c of clients) {
      const listed = await waitFor('the replica to see every allocation', async () => {
        const l = (await c.listAddresses()).addresses;
        return l.length === N ? l : undefined;
      });
      const byName = new Map(listed.map((x) => [x.name, x.ip]));
      for (const g of got) expect(byName.get(g.name)).toBe(g.ip);
    }
    // A retry through the other replica gets the same address.
    expect(await cb.allocate({ name: 'pod-0', host: 'ha-2', tenant: 't1', segment: 'default' })).toBe(got[0]!.ip);

    // Concurrent releases through both, then a fresh round: still no duplicates, nothing stale.
    await pool(
      got.filter((_, i) => i % 4 === 0).map((g, i) => () => clients[i % 2]!.release(g.name)),
      8,
    );
    const second = await pool(
      Array.from({ length: 60 }, (_, i) => () => clients[i % 2]!.allocate({ name: `pod-new-${i}`, host: 'ha-1', tenant: 't1', segment: 'default' })),
      16,
    );
    for (const c of clients) {
      const listed = await waitFor('the replica to converge after releases', async () => {
        const l = (await c.listAddresses()).addresses;
        return l.length === N - N / 4 + 60 ? l : undefined;
      });
      expect(new Set(listed.map((x) => x.ip)).size).toBe(listed.length);
      for (const ip of second) expect(listed.some((x) => x.ip === ip)).toBe(true);
    }
    const m = await ca.metrics();
    expect(m).toMatch(/romana_daemon_ipam_allocations_total\{result="ok"\} \d+/);
  });

  it('answer 503 when etcd is gone, and /readyz says why', async () => {
    const lone = await startEtcd();
    const d = await startDaemon(['--etcd-endpoints', lone.endpoint, '--etcd-prefix', '/gone']);
    const c = d.client();
    await c.addHost({ name: 'h', ip: '192.168.88.1' });
    await lone.stop();
    const t0 = Date.now();
    const r = await http(d.url(), 'POST', '/address', { body: { name: 'x', host: 'h', tenant: 't' } });
    expect(r.status).toBe(503);
    expect(r.json).toMatchObject({ status_code: 503, code: 'STORE_UNAVAILABLE' });
    expect(r.json.message).toContain(lone.endpoint);
    // Answered when the store call gave up, not left hanging.
    expect(Date.now() - t0).toBeLessThan(30_000);
    const ready = await http(d.url(), 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ code: 'NOT_READY', details: { checks: { store: { ok: false }, topology: { ok: true } } } });
    expect((await http(d.url(), 'GET', '/healthz')).status).toBe(200);
  });
});
