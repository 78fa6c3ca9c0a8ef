/**
 * romana-listener end to end: the built binary against the fake API server
 * (real list/watch over HTTP) and a real daemon. Each test starts its own
 * trio; waits poll with deadlines.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanupDaemons, http, startDaemon, type DaemonProcess } from '../helpers/daemon.js';
import { startFakeKube, type FakeKube } from '../helpers/fake_kube.js';
import { waitFor } from '../helpers/poll.js';
import type { RomanaClient } from '../../src/shared/api_client.js';
import { MANAGED_TAG, MANAGED_VALUE } from '../../src/listener/translate.js';
import { killListeners, node, pod, spawnListener, type ListenerProcess } from './helpers.js';

let fakes: FakeKube[] = [];

beforeAll(() => assertBuilt());
afterEach(async () => {
  await killListeners();
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
  await cleanupDaemons();
});

async function trio(extraArgs: string[] = [], seed?: (kube: FakeKube, client: RomanaClient) => Promise<void>): Promise<{ kube: FakeKube; daemon: DaemonProcess; client: RomanaClient; listener: ListenerProcess; health: string }> {
  const kube = await startFakeKube();
  fakes.push(kube);
  const daemon = await startDaemon();
  const client = daemon.client();
  if (seed) await seed(kube, client);
  const listener = spawnListener(['--daemon', daemon.url(), '--server', kube.url, '--resync', '500ms', ...extraArgs]);
  const health = await listener.url();
  await waitFor('listener ready', async () => (await http(health, 'GET', '/readyz')).status === 200, { timeoutMs: 20_000 });
  return { kube, daemon, client, listener, health };
}

const hostOrNull = (c: RomanaClient, name: string) => c.getHost(name).catch(() => null);

describe('romana-listener', () => {
  it('registers nodes by InternalIP with labels as tags, follows label changes, removes the host only after --node-grace', async () => {
    const { kube, client, listener } = await trio(['--node-grace', '1500ms'], async (k) => {
      k.upsert('nodes', node('node1', '192.168.99.11', { rack: 'r1' }));
    });
    const h = await waitFor('host node1', () => hostOrNull(client, 'node1'));
    expect(h.ip).toBe('192.168.99.11');
    expect(h.tags).toEqual({ rack: 'r1', [MANAGED_TAG]: MANAGED_VALUE });

    kube.upsert('nodes', node('node2', '192.168.99.12'));
    await waitFor('host node2', () => hostOrNull(client, 'node2'));

    kube.upsert('nodes', node('node1', '192.168.99.11', { rack: 'r1', zone: 'z9' }));
    await waitFor('node1 tags updated', async () => (await client.getHost('node1')).tags.zone === 'z9');

    const t0 = Date.now();
    kube.remove('nodes', 'node1');
    await listener.waitLog((l) => l.msg === 'node gone: host removal scheduled' && l.host === 'node1', 'removal scheduled');
    // Within the grace the host (and its blocks) stay.
    expect(await hostOrNull(client, 'node1')).not.toBeNull();
    await waitFor('node1 removed after grace', async () => (await hostOrNull(client, 'node1')) === null, { timeoutMs: 10_000 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    expect(await hostOrNull(client, 'node2')).not.toBeNull();
  });

  it('a node that returns within the grace keeps its host', async () => {
    const { kube, client, listener } = await trio(['--node-grace', '2s'], async (k) => {
      k.upsert('nodes', node('node1', '192.168.99.11'));
    });
    await waitFor('host node1', () => hostOrNull(client, 'node1'));
    kube.remove('nodes', 'node1');
    await listener.waitLog((l) => l.msg === 'node gone: host removal scheduled', 'removal scheduled');
    kube.upsert('nodes', node('node1', '192.168.99.11'));
    await listener.waitLog((l) => l.msg === 'node is back: host kept', 'node back');
    // Past the grace the host is still there (poll until the grace has surely passed).
    const back = Date.now();
    await waitFor('grace to pass', () => Date.now() - back > 2500, { timeoutMs: 5000 });
    expect(await hostOrNull(client, 'node1')).not.toBeNull();
  });

  it('mirrors namespace labels, pod labels and ports, and NetworkPolicy add / MODIFY / delete', async () => {
    const { kube, client } = await trio([], async (k) => {
      k.upsert('nodes', node('node1', '192.168.99.11'));
      k.upsert('namespaces', { metadata: { name: 'shop', labels: { team: 'a' } } });
    });
    await waitFor('tenant shop labels', async () => ((await client.getTenant('shop')) as any).labels?.team === 'a');
    kube.upsert('namespaces', { metadata: { name: 'shop', labels: { team: 'b' } } });
    await waitFor('tenant shop relabelled', async () => ((await client.getTenant('shop')) as any).labels?.team === 'b');

    kube.upsert('pods', pod('shop', 'web-1', { app: 'web' }, { ports: [8080] }));
    const ep = await waitFor('endpoint web-1', () => client.getEndpoint('shop', 'web-1').catch(() => null));
    expect(ep.labels).toEqual({ app: 'web' });
    expect(ep.ports).toEqual([{ name: 'p8080', containerPort: 8080, protocol: 'TCP' }]);
    kube.upsert('pods', pod('shop', 'web-1', { app: 'web', tier: 'front' }, { ports: [8080] }));
    await waitFor('endpoint relabelled', async () => (await client.getEndpoint('shop', 'web-1')).labels.tier === 'front');
    kube.remove('pods', 'web-1', 'shop');
    await waitFor('endpoint deleted', async () => (await client.getEndpoint('shop', 'web-1').catch(() => null)) === null);

    const np = (port: number) => ({
      metadata: { name: 'allow-web', namespace: 'shop' },
      spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'lb' } } }], ports: [{ protocol: 'TCP', port }] }] },
    });
    kube.upsert('networkpolicies', np(80));
    const stored = await waitFor('policy stored', () => client.getNetworkPolicy('shop', 'allow-web').catch(() => null));
    expect((stored as any).spec.ingress[0].from[0].podSelector.matchLabels).toEqual({ role: 'lb' });
    // The original ignored MODIFIED: here the change lands.
    kube.upsert('networkpolicies', np(443));
    await waitFor('policy modified', async () => ((await client.getNetworkPolicy('shop', 'allow-web')) as any).spec.ingress[0].ports[0].port === 443);
    kube.remove('networkpolicies', 'allow-web', 'shop');
    await waitFor('policy deleted', async () => (await client.getNetworkPolicy('shop', 'allow-web').catch(() => null)) === null);
  });

  it('reconciles both ways on start: adds what is missing, removes only stale objects it owns', async () => {
    const { client, health } = await trio(['--node-grace', '0s'], async (k, c) => {
      k.upsert('nodes', node('node1', '192.168.99.11'));
      k.upsert('namespaces', { metadata: { name: 'shop', labels: { team: 'a' } } });
      k.upsert('pods', pod('shop', 'web-1', { app: 'web' }));
      k.upsert('networkpolicies', { metadata: { name: 'keep', namespace: 'shop' }, spec: { podSelector: {} } });
      // Stale, owned by the listener: a marked host, a labelled tenant, an endpoint, a stored policy.
      await c.addHost({ name: 'gone-node', ip: '192.168.99.50', tags: { [MANAGED_TAG]: MANAGED_VALUE } });
      await c.putTenant('old-ns', { team: 'x' });
      await c.putEndpoint('old-ns', 'old-pod', { labels: { a: 'b' } });
      await c.putNetworkPolicy('old-ns', 'old-policy', { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'old-policy' }, spec: {} });
      // Not the listener's: a host added by an operator, a tenant made by the CLI.
      await c.addHost({ name: 'manual', ip: '192.168.99.60' });
      await c.createTenant('cli-tenant');
    });
    expect((await http(health, 'GET', '/readyz')).json.status).toBe('ready');
    await waitFor('node1 added', () => hostOrNull(client, 'node1'));
    await waitFor('endpoint added', () => client.getEndpoint('shop', 'web-1').catch(() => null));
    await waitFor('policy added', () => client.getNetworkPolicy('shop', 'keep').catch(() => null));
    await waitFor('stale host removed', async () => (await hostOrNull(client, 'gone-node')) === null);
    await waitFor('stale tenant removed', async () => (await client.getTenant('old-ns').catch(() => null)) === null);
    await waitFor('stale policy removed', async () => (await client.getNetworkPolicy('old-ns', 'old-policy').catch(() => null)) === null);
    await waitFor('stale endpoint removed', async () => (await client.getEndpoint('old-ns', 'old-pod').catch(() => null)) === null);
    expect(await hostOrNull(client, 'manual')).not.toBeNull();
    expect((await client.getTenant('cli-tenant')).name).toBe('cli-tenant');
  });

  it('relists after 410 Gone (and learns what it missed); bookmarks keep the resourceVersion fresh so no relist is needed', async () => {
    const { kube, client } = await trio([], async (k) => {
      k.upsert('nodes', node('node1', '192.168.99.11'));
      k.upsert('pods', pod('default', 'a'));
      k.upsert('pods', pod('default', 'b'));
    });
    await waitFor('endpoints a and b', async () => (await client.listEndpoints()).endpoints.length === 2);
    expect(kube.watchQueries.every((q) => q.get('allowWatchBookmarks') === 'true')).toBe(true);
    await waitFor('pod watch open', () => kube.openWatches('pods') === 1);

    // Bookmark, then expire history at that point: a re-watch from the bookmark's version is not "too old".
    kube.upsert('namespaces', { metadata: { name: 'other' } });
    kube.bookmark();
    const listsBefore = kube.lists('pods');
    const watchesBefore = kube.watches('pods');
    // The BOOKMARK line is written before the stream ends, so the informer reads it before it re-watches.
    kube.compact();
    kube.closeWatches();
    await waitFor('pods re-watched', () => kube.watches('pods') > watchesBefore && kube.openWatches('pods') === 1);
    expect(kube.lists('pods')).toBe(listsBefore);

    // Now a change the watch never reports, then expired history: only a relist can show it.
    kube.remove('pods', 'b', 'default', { silently: true });
    kube.upsert('pods', pod('default', 'a', { new: 'label' }), { silently: true });
    kube.compact();
    kube.closeWatches();
    await waitFor('relisted', () => kube.lists('pods') > listsBefore);
    await waitFor('missed delete applied', async () => (await client.getEndpoint('default', 'b').catch(() => null)) === null);
    await waitFor('missed update applied', async () => (await client.getEndpoint('default', 'a')).labels.new === 'label');
  });

  async function leakSetup(extra: string[]) {
    const t = await trio(['--leak-grace', '300ms', ...extra], async (k) => {
      k.upsert('nodes', node('node1', '192.168.99.11'));
      k.upsert('namespaces', { metadata: { name: 'default' } });
      k.upsert('pods', pod('default', 'live'));
    });
    await waitFor('host node1', () => hostOrNull(t.client, 'node1'));
    const liveIp = await t.client.allocate({ name: 'cni:default:live:c0ffee:eth0', host: 'node1', tenant: 'default' });
    const goneIp = await t.client.allocate({ name: 'cni:default:gone:dead00:eth0', host: 'node1', tenant: 'default' });
    // Not the CNI's naming: never touched.
    await t.client.allocate({ name: 'manual-address', host: 'node1', tenant: 'default' });
    return { ...t, liveIp, goneIp };
  }

  it('reports an address whose pod is gone, without releasing it unless asked', async () => {
    const { client, listener, health, goneIp } = await leakSetup([]);
    const line = await listener.waitLog((l) => l.msg === 'leaked address: its pod is gone', 'leak reported');
    expect(line.address).toBe('cni:default:gone:dead00:eth0');
    expect(line.ip).toBe(goneIp);
    await waitFor('leak gauge', async () => /romana_listener_leaked_addresses 1\b/.test((await http(health, 'GET', '/metrics')).text));
    const names = (await client.listAddresses()).addresses.map((a) => a.name).sort();
    expect(names).toEqual(['cni:default:gone:dead00:eth0', 'cni:default:live:c0ffee:eth0', 'manual-address']);
    expect(listener.logs.some((l) => l.msg === 'leaked address: its pod is gone' && l.address !== 'cni:default:gone:dead00:eth0')).toBe(false);
  });

  it('with --release-leaked releases the gone pod\'s address and never a live pod\'s', async () => {
    const { kube, client, listener, health } = await leakSetup(['--release-leaked']);
    await listener.waitLog((l) => l.msg === 'leaked address released', 'leak released');
    await waitFor('gone address released', async () => !(await client.listAddresses()).addresses.some((a) => a.name.includes(':gone:')));
    // Several more scans: the live pod's and the manual address stay.
    const reconciles = async () => Number(/romana_listener_reconciles_total\{result="ok"\} (\d+)/.exec((await http(health, 'GET', '/metrics')).text)?.[1] ?? 0);
    const r0 = await reconciles();
    await waitFor('three more resyncs (and many leak scans)', async () => (await reconciles()) >= r0 + 3, { timeoutMs: 10_000 });
    let names = (await client.listAddresses()).addresses.map((a) => a.name).sort();
    expect(names).toEqual(['cni:default:live:c0ffee:eth0', 'manual-address']);
    // Once the live pod finishes, its address becomes a leak like any other.
    kube.upsert('pods', pod('default', 'live', {}, { phase: 'Succeeded' }));
    await waitFor('finished pod address released', async () => !(await client.listAddresses()).addresses.some((a) => a.name.includes(':live:')));
    names = (await client.listAddresses()).addresses.map((a) => a.name);
    expect(names).toEqual(['manual-address']);
  });
});
