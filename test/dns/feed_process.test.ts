/**
 * romana-dns as a process (dist/dns/main.js; build first) fed by the fake
 * Kubernetes API server (list/watch, resourceVersion, 410) and a real
 * romana-daemon, asked over UDP on loopback: Service and Endpoints changes
 * show in the answers, a 410 mid-watch is recovered by a relist, a VIP set
 * in the daemon is in the A answer before any externalIPs patch, and the
 * answers stay when the daemon goes away (and follow it when it is back);
 * with --snapshot the daemon's VIPs are merged into the static cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointsApi } from '../../dns/kube_objects.js';
import { CLASS_IN, decode, emptyMessage, encode, RCODE, TYPE, type Message } from '../../dns/wire.js';
import { cleanupDaemons, http, startDaemon, tempDir, type DaemonProcess } from '../helpers/daemon.js';
import { startFakeKube, type FakeKube } from '../helpers/fake_kube.js';
import { waitFor } from '../helpers/poll.js';

const MAIN = fileURLToPath(new URL('../../dist/dns/main.js', import.meta.url));
const NGINX = 'nginx.default.svc.cluster.local';

interface DnsProcess {
  proc: ChildProcess;
  dns: number;
  health: number;
  stderr(): string;
  stop(): Promise<void>;
}

const running = new Set<DnsProcess>();

/** Starts romana-dns on free loopback ports; resolves once it printed its "listening" line. */
async function startDns(args: string[]): Promise<DnsProcess> {
  const proc = spawn(process.execPath, [MAIN, '--listen', '127.0.0.1', '--port', '0', '--health-port', '0', '--upstream', '127.0.0.1:9', '--log-level', 'debug', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-65536);
  });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
    });
    proc.once('exit', (c) => reject(new Error(`romana-dns exited with ${c}: ${err}`)));
  });
  const info = JSON.parse(line) as { dns: number; health: number };
  const p: DnsProcess = {
    proc, dns: info.dns, health: info.health, stderr: () => err,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
  running.add(p);
  return p;
}

async function query(port: number, name: string, type: number = TYPE.A): Promise<Message> {
  const s = dgram.createSocket('udp4');
  try {
    return await new Promise<Message>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer for ${name}`)), 2000);
      s.once('message', (b) => {
        clearTimeout(t);
        try {
          resolve(decode(b));
        } catch (e) {
          reject(e as Error);
        }
      });
      s.send(encode(emptyMessage({ id: 7, rd: true, questions: [{ name, type, class: CLASS_IN }] })), port, '127.0.0.1');
    });
  } finally {
    s.close();
  }
}

/** The A answer as "ip ip ip" in answer order, or the rcode name when not NOERROR. */
async function aAnswer(port: number, name: string): Promise<string> {
  const m = await query(port, name);
  if (m.rcode !== RCODE.NOERROR) return m.rcode === RCODE.NXDOMAIN ? 'NXDOMAIN' : `rcode ${m.rcode}`;
  return m.answers.map((r) => (r.data as { address?: string }).address).join(' ');
}

/** Polls until the A answer for `name` is `want` (answers change only after the debounce). */
async function expectA(port: number, name: string, want: string, timeoutMs = 15_000): Promise<void> {
  let last = '';
  await waitFor(`${name} A = "${want}"`, async () => {
    last = await aAnswer(port, name);
    return last === want;
  }, { timeoutMs, intervalMs: 50 }).catch((e: Error) => {
    throw new Error(`${e.message}; last answer "${last}"`);
  });
}

function service(name: string, clusterIP: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { metadata: { name, namespace: 'default', ...(extra.metadata as object) }, spec: { type: 'ClusterIP', clusterIP, ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...(extra.spec as object) } };
}

const PORTS = [{ name: 'http', port: 80, protocol: 'TCP' }];

/** Sets a Service's endpoint addresses through the API romana-dns follows (an Endpoints object, or one EndpointSlice). */
function setEndpoints(kube: FakeKube, api: EndpointsApi, name: string, ready: string[], notReady: string[] = []): void {
  if (api === 'endpoints') {
    kube.upsert('endpoints', {
      metadata: { name, namespace: 'default' },
      subsets: [{ addresses: ready.map((ip) => ({ ip, nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: 'default', name: `pod-${ip}` } })), notReadyAddresses: notReady.map((ip) => ({ ip })), ports: PORTS }],
    });
    return;
  }
  kube.upsert('endpointslices', {
    metadata: { name: `${name}-x7k2p`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: [
      ...ready.map((ip) => ({ addresses: [ip], conditions: { ready: true }, nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: 'default', name: `pod-${ip}` } })),
      ...notReady.map((ip) => ({ addresses: [ip], conditions: { ready: false } })),
    ],
    ports: PORTS,
  });
}

function removeEndpoints(kube: FakeKube, api: EndpointsApi, name: string): void {
  if (api === 'endpoints') kube.remove('endpoints', name, 'default');
  else kube.remove('endpointslices', `${name}-x7k2p`, 'default');
}

/** Zones the process has built so far (its /metrics). */
async function rebuilds(p: DnsProcess): Promise<number> {
  const m = /^romana_dns_zone_builds_total (\d+)$/m.exec((await http(`http://127.0.0.1:${p.health}`, 'GET', '/metrics')).text);
  if (!m) throw new Error('no romana_dns_zone_builds_total in /metrics');
  return Number(m[1]);
}

/** A loopback port nobody listens on (a daemon that is down). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

afterAll(async () => {
  await Promise.all([...running].map((p) => p.stop()));
  await cleanupDaemons();
});

describe.each(['endpointslices', 'endpoints'] as const)('romana-dns fed by the Kubernetes watch (%s) and the daemon', (api) => {
  let kube: FakeKube;
  let daemon: DaemonProcess;
  let dataDir: string;
  let dns: DnsProcess;

  beforeAll(async () => {
    kube = await startFakeKube();
    kube.upsert('namespaces', { metadata: { name: 'default' } });
    kube.upsert('namespaces', { metadata: { name: 'kube-system' } });
  });

  afterAll(async () => {
    await kube?.close();
  });

  it('becomes ready after the first sync and serves Service + Endpoints changes as they happen', async () => {
    dataDir = tempDir();
    daemon = await startDaemon(['--data-dir', dataDir]);
    kube.upsert('services', { metadata: { name: 'romana', namespace: 'kube-system' }, spec: { clusterIP: '10.96.0.99', ports: [{ name: 'daemon', port: 9600 }] } });
    dns = await startDns(['--server', kube.url, '--endpoints-api', api, '--daemon', daemon.url()]);
    // The socket opens once the first sync is in the zone: the very first answer is right, and ready.
    expect(await aAnswer(dns.dns, 'romana.kube-system.svc.cluster.local')).toBe('10.96.0.99');
    const ready = await http(`http://127.0.0.1:${dns.health}`, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json.checks).toEqual({ cache_namespaces: { ok: true }, cache_services: { ok: true }, [`cache_${api}`]: { ok: true } });
    expect((await http(`http://127.0.0.1:${dns.health}`, 'GET', '/readiness')).status).toBe(200);
    expect(await aAnswer(dns.dns, NGINX)).toBe('NXDOMAIN');

    kube.upsert('services', service('nginx', '10.99.181.64'));
    setEndpoints(kube, api, 'nginx', ['10.116.0.0']);
    await expectA(dns.dns, NGINX, '10.99.181.64 10.116.0.0');
    const srv = await query(dns.dns, `_http._tcp.${NGINX}`, TYPE.SRV);
    expect(srv.answers.map((r) => r.data)).toEqual([expect.objectContaining({ port: 80, target: NGINX })]);

    // Endpoints modified: a second ready address, and a not-ready one that stays out.
    setEndpoints(kube, api, 'nginx', ['10.116.0.0', '10.116.0.1'], ['10.116.0.2']);
    await expectA(dns.dns, NGINX, '10.99.181.64 10.116.0.0 10.116.0.1');
    // Service modified: a user's external IP.
    kube.upsert('services', service('nginx', '10.99.181.64', { spec: { externalIPs: ['203.0.113.5'] } }));
    await expectA(dns.dns, NGINX, '10.99.181.64 203.0.113.5 10.116.0.0 10.116.0.1');
  });

  it('shows a VIP the daemon holds before the listener writes it into externalIPs, and once after', async () => {
    const client = daemon.client();
    await client.putVip('default', 'nginx', { ip: '192.168.99.101' });
    await expectA(dns.dns, NGINX, '10.99.181.64 203.0.113.5 192.168.99.101 10.116.0.0 10.116.0.1');
    // What the listener then does: the VIP appended to externalIPs, marked by its annotation. No duplicate, same order.
    const before = await rebuilds(dns);
    kube.upsert('services', service('nginx', '10.99.181.64', { metadata: { annotations: { 'romana.io/vip-external-ip': '192.168.99.101' } }, spec: { externalIPs: ['203.0.113.5', '192.168.99.101'] } }));
    await waitFor('a zone with the patched Service', async () => (await rebuilds(dns)) > before);
    await expectA(dns.dns, NGINX, '10.99.181.64 203.0.113.5 192.168.99.101 10.116.0.0 10.116.0.1');
    const metrics = (await http(`http://127.0.0.1:${dns.health}`, 'GET', '/metrics')).text;
    expect(metrics).toMatch(/romana_dns_daemon_connected 1/);
    expect(metrics).toMatch(/romana_dns_daemon_vips 1/);
  });

  it('recovers from 410 Gone mid-watch by relisting (a change made without an event shows up)', async () => {
    const listsBefore = kube.lists('services');
    // Made while nobody hears about it: only a relist can find it.
    kube.upsert('services', service('web', '10.99.0.7'), { silently: true });
    kube.compact();
    kube.closeWatches();
    await expectA(dns.dns, 'web.default.svc.cluster.local', '10.99.0.7');
    expect(kube.lists('services')).toBeGreaterThan(listsBefore);
    // And the watch goes on after the relist.
    kube.remove('services', 'web', 'default');
    await expectA(dns.dns, 'web.default.svc.cluster.local', 'NXDOMAIN');
  });

  it('keeps Kubernetes data and the last VIPs while the daemon is down, and follows it again when it is back', async () => {
    const port = new URL(daemon.url()).port;
    await daemon.stop();
    await waitFor('the daemon feed to notice', async () => /romana_dns_daemon_connected 0/.test((await http(`http://127.0.0.1:${dns.health}`, 'GET', '/metrics')).text));
    expect(await aAnswer(dns.dns, NGINX)).toBe('10.99.181.64 203.0.113.5 192.168.99.101 10.116.0.0 10.116.0.1');
    // The watch still feeds changes.
    setEndpoints(kube, api, 'nginx', ['10.116.0.0']);
    await expectA(dns.dns, NGINX, '10.99.181.64 203.0.113.5 192.168.99.101 10.116.0.0');
    expect((await http(`http://127.0.0.1:${dns.health}`, 'GET', '/readyz')).status).toBe(200);

    // Back on the same address with the same data; the VIP moves to another address there.
    daemon = await startDaemon(['--data-dir', dataDir, '--port', port]);
    await daemon.client().putVip('default', 'nginx', { ip: '192.168.99.102' });
    // The listener's marker (.101) is stale now: the daemon's VIP replaces it.
    await expectA(dns.dns, NGINX, '10.99.181.64 203.0.113.5 192.168.99.102 10.116.0.0', 30_000);
    await daemon.client().deleteVip('default', 'nginx');
    await expectA(dns.dns, NGINX, '10.99.181.64 203.0.113.5 10.116.0.0');
  });

  it('answers NXDOMAIN once the Service is deleted', async () => {
    kube.remove('services', 'nginx', 'default');
    removeEndpoints(kube, api, 'nginx');
    await expectA(dns.dns, NGINX, 'NXDOMAIN');
    await dns.stop();
    expect(dns.proc.exitCode).toBe(0);
  });

  it('serves the Kubernetes data and is ready when the daemon was never reachable', async () => {
    kube.upsert('services', service('solo', '10.99.0.9'));
    const alone = await startDns(['--server', kube.url, '--endpoints-api', api, '--daemon', `http://127.0.0.1:${await closedPort()}`]);
    await waitFor('romana-dns ready', async () => (await http(`http://127.0.0.1:${alone.health}`, 'GET', '/readyz')).status === 200);
    const ready = await http(`http://127.0.0.1:${alone.health}`, 'GET', '/readyz');
    expect(ready.json.daemon).toEqual({ connected: false, vips: null });
    await expectA(alone.dns, 'solo.default.svc.cluster.local', '10.99.0.9');
    await alone.stop();
  });
});

describe('romana-dns with --snapshot and --daemon', () => {
  it('merges the daemon\'s VIPs into the static cluster', async () => {
    const daemon = await startDaemon([]);
    const dns = await startDns(['--snapshot', fileURLToPath(new URL('./fixtures/cluster.yaml', import.meta.url)), '--daemon', daemon.url()]);
    // The fixture's romana service has no VIP; the daemon gives it one.
    expect(await aAnswer(dns.dns, 'romana.kube-system.svc.cluster.local')).toBe('10.96.0.99 192.168.99.10');
    await daemon.client().putVip('kube-system', 'romana', { ip: '192.168.99.50' });
    await expectA(dns.dns, 'romana.kube-system.svc.cluster.local', '10.96.0.99 192.168.99.50 192.168.99.10');
    await dns.stop();
  });
});
