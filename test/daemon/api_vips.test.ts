/**
 * PUT/GET/DELETE /vips/{ns}/{svc} and GET /vips against a real daemon
 * process (embedded store, --vip-pool): validation, address claims (one
 * service per address), auto allocation, holder choice among candidates
 * with a live agent lease, and failover when that lease lapses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupDaemons, http, startDaemon, type DaemonProcess } from '../helpers/daemon.js';
import { waitFor } from '../../src/lab/poll.js';

let d: DaemonProcess;
beforeAll(async () => {
  d = await startDaemon(['--vip-pool', '192.168.99.100/30']);
  for (const [name, ip] of [['n1', '10.0.0.1'], ['n2', '10.0.0.2']]) {
    const r = await http(d.url(), 'POST', '/hosts', { body: { name, ip } });
    expect(r.status, r.text).toBe(201);
  }
}, 30_000);
afterAll(() => cleanupDaemons());

describe('/vips', () => {
  it('validates the body', async () => {
    expect((await http(d.url(), 'PUT', '/vips/default/a', { body: {} })).status).toBe(400);
    expect((await http(d.url(), 'PUT', '/vips/default/a', { body: { ip: '300.1.1.1' } })).status).toBe(400);
    expect((await http(d.url(), 'PUT', '/vips/default/a', { body: { ip: '1.2.3.4', candidates: 'n1' } })).status).toBe(400);
    expect((await http(d.url(), 'GET', '/vips/default/a')).status).toBe(404);
  });

  it('has no holder without a live candidate; a heartbeat makes one hold it, and its lapse moves it', async () => {
    const put = await http(d.url(), 'PUT', '/vips/default/web', { body: { ip: '192.168.99.50', candidates: ['n1', 'n2'] } });
    expect(put.status, put.text).toBe(201);
    expect(put.json).toMatchObject({ vip: '192.168.99.50', auto: false, holder: null, candidates: ['n1', 'n2'] });
    const hb1 = await http(d.url(), 'POST', '/hosts/n1/heartbeat', { body: { ttl_seconds: 2 } });
    expect(hb1.status).toBe(200);
    await waitFor('n1 to hold the VIP', async () => (await http(d.url(), 'GET', '/vips/default/web')).json.holder === 'n1', { timeoutMs: 3000, intervalMs: 50 });
    const held = (await http(d.url(), 'GET', '/vips/default/web')).json;
    // n2 keeps beating; n1 stops: within its TTL plus the reconcile interval the VIP is n2's, with a higher epoch.
    const beat = setInterval(() => void http(d.url(), 'POST', '/hosts/n2/heartbeat', { body: { ttl_seconds: 2 } }), 500);
    try {
      await http(d.url(), 'POST', '/hosts/n2/heartbeat', { body: { ttl_seconds: 2 } });
      const t0 = Date.now();
      await waitFor('the VIP to move to n2', async () => (await http(d.url(), 'GET', '/vips/default/web')).json.holder === 'n2', { timeoutMs: 5000, intervalMs: 50 });
      expect(Date.now() - t0).toBeLessThan(3000);
      const moved = (await http(d.url(), 'GET', '/vips/default/web')).json;
      expect(moved.epoch).toBeGreaterThan(held.epoch);
    } finally {
      clearInterval(beat);
    }
  });

  it('gives one address to one service only', async () => {
    const r = await http(d.url(), 'PUT', '/vips/other/web', { body: { ip: '192.168.99.50' } });
    expect(r.status).toBe(409);
    expect(r.json.code).toBe('ALREADY_EXISTS');
  });

  it('allocates auto VIPs from --vip-pool, keeps them across PUTs, never twice, and frees them on DELETE', async () => {
    const a = await http(d.url(), 'PUT', '/vips/default/auto-a', { body: { auto: true } });
    expect(a.status, a.text).toBe(201);
    expect(a.json.vip).toBe('192.168.99.101');
    const again = await http(d.url(), 'PUT', '/vips/default/auto-a', { body: { auto: true, candidates: ['n1'] } });
    expect(again.json.vip).toBe('192.168.99.101');
    const b = await http(d.url(), 'PUT', '/vips/default/auto-b', { body: { auto: true } });
    expect(b.json.vip).toBe('192.168.99.102');
    const c = await http(d.url(), 'PUT', '/vips/default/auto-c', { body: { auto: true } });
    expect(c.status).toBe(507);
    const del = await http(d.url(), 'DELETE', '/vips/default/auto-a');
    expect(del.status).toBe(200);
    const c2 = await http(d.url(), 'PUT', '/vips/default/auto-c', { body: { auto: true } });
    expect(c2.json.vip).toBe('192.168.99.101');
    const list = await http(d.url(), 'GET', '/vips');
    expect(list.json.vips.map((v: { service: string }) => v.service).sort()).toEqual(['auto-b', 'auto-c', 'web']);
  });
});
