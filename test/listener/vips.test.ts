/**
 * romana-listener ↔ daemon VIPs and node provider IDs, end to end: the
 * built listener against the fake API server (list/watch, merge PATCH) and
 * a real daemon. Waits poll with deadlines.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanupDaemons, http, startDaemon } from '../helpers/daemon.js';
import { startFakeKube, type FakeKube } from '../helpers/fake_kube.js';
import { waitFor } from '../helpers/poll.js';
import type { RomanaClient } from '../../src/shared/api_client.js';
import { PROVIDER_ID_TAG, VIP_EXTERNAL_IP_ANNOTATION } from '../../src/listener/translate.js';
import { killListeners, node, spawnListener } from './helpers.js';

let fakes: FakeKube[] = [];

beforeAll(() => assertBuilt());
afterEach(async () => {
  await killListeners();
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
  await cleanupDaemons();
});

async function trio(seed: (kube: FakeKube, client: RomanaClient) => Promise<void> | void): Promise<{ kube: FakeKube; client: RomanaClient }> {
  const kube = await startFakeKube();
  fakes.push(kube);
  const daemon = await startDaemon();
  const client = daemon.client();
  await seed(kube, client);
  const listener = spawnListener(['--daemon', daemon.url(), '--server', kube.url, '--resync', '500ms']);
  const health = await listener.url();
  await waitFor('listener ready', async () => (await http(health, 'GET', '/readyz')).status === 200, { timeoutMs: 20_000 });
  return { kube, client };
}

function service(namespace: string, name: string, annotations: Record<string, string> = {}, externalIPs?: string[]): Record<string, unknown> {
  return { metadata: { name, namespace, annotations }, spec: { ports: [{ port: 80 }], ...(externalIPs ? { externalIPs } : {}) } };
}

/** An Endpoints object: ready addresses on `ready` nodes, not-ready ones on `notReady` nodes. */
function endpoints(namespace: string, name: string, ready: string[], notReady: string[] = []): Record<string, unknown> {
  const addr = (n: string, i: number) => ({ ip: `10.112.0.${i + 1}`, nodeName: n });
  return {
    metadata: { name, namespace },
    subsets: [{ addresses: ready.map(addr), notReadyAddresses: notReady.map((n, i) => addr(n, i + 100)), ports: [{ port: 80 }] }],
  };
}

const vipOrNull = (c: RomanaClient, ns: string, svc: string) => c.getVip(ns, svc).catch(() => null);
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

describe('romana-listener VIPs', () => {
  it('records an annotated service with candidates from ready endpoints, follows endpoint changes, deletes on annotation removal', async () => {
    const ann = { romanavip: '{"auto": false, "ip": "192.168.99.101"}' };
    const { kube, client } = await trio((k) => {
      k.upsert('services', service('shop', 'web', ann, ['198.51.100.7']));
      k.upsert('endpoints', endpoints('shop', 'web', ['node2', 'node1'], ['node3']));
      // Not annotated: never recorded.
      k.upsert('services', service('shop', 'plain'));
      k.upsert('endpoints', endpoints('shop', 'plain', ['node1']));
    });
    const v = await waitFor('VIP shop/web', () => vipOrNull(client, 'shop', 'web'));
    expect(v.vip).toBe('192.168.99.101');
    expect(v.candidates).toEqual(['node1', 'node2']);

    // The VIP shows in externalIPs, next to the one that was there.
    const patched = await waitFor('externalIPs patched', () => {
      const s = kube.get('services', 'web', 'shop');
      return s?.spec?.externalIPs?.includes('192.168.99.101') ? s : null;
    });
    expect(patched.spec.externalIPs).toEqual(['198.51.100.7', '192.168.99.101']);
    expect(patched.metadata.annotations[VIP_EXTERNAL_IP_ANNOTATION]).toBe('192.168.99.101');

    // Endpoints change: node1's pod not ready any more, node3's ready.
    kube.upsert('endpoints', endpoints('shop', 'web', ['node2', 'node3'], ['node1']));
    await waitFor('candidates follow endpoints', async () => sameList((await client.getVip('shop', 'web')).candidates, ['node2', 'node3']));
    // No endpoints left at all.
    kube.remove('endpoints', 'web', 'shop');
    await waitFor('no candidates', async () => (await client.getVip('shop', 'web')).candidates.length === 0);

    // Annotation removed: record deleted, only the listener's external IP taken back.
    const cur = kube.get('services', 'web', 'shop')!;
    kube.upsert('services', { ...cur, metadata: { ...cur.metadata, annotations: { [VIP_EXTERNAL_IP_ANNOTATION]: '192.168.99.101' } } });
    await waitFor('VIP record deleted', async () => (await vipOrNull(client, 'shop', 'web')) === null);
    await waitFor('externalIPs restored', () => sameList(kube.get('services', 'web', 'shop')?.spec?.externalIPs ?? [], ['198.51.100.7']));
    expect(kube.get('services', 'web', 'shop')!.metadata.annotations[VIP_EXTERNAL_IP_ANNOTATION]).toBeUndefined();
    expect(await vipOrNull(client, 'shop', 'plain')).toBeNull();
    expect(kube.get('services', 'plain', 'shop')!.spec.externalIPs).toBeUndefined();
  });

  it('deletes the record when the service is deleted; on start removes records whose service lost the annotation or is gone', async () => {
    const { kube, client } = await trio(async (k, c) => {
      k.upsert('services', service('shop', 'keep', { romanaip: '{"ip": "192.168.99.110"}' }));
      k.upsert('endpoints', endpoints('shop', 'keep', ['node1']));
      k.upsert('services', service('shop', 'unannotated'));
      // Stale records made before this listener started.
      await c.putVip('shop', 'unannotated', { ip: '192.168.99.111', candidates: ['node1'] });
      await c.putVip('shop', 'gone', { ip: '192.168.99.112', candidates: [] });
    });
    await waitFor('stale VIP (no annotation) removed', async () => (await vipOrNull(client, 'shop', 'unannotated')) === null);
    await waitFor('stale VIP (no service) removed', async () => (await vipOrNull(client, 'shop', 'gone')) === null);
    expect((await client.getVip('shop', 'keep')).candidates).toEqual(['node1']);

    kube.remove('services', 'keep', 'shop');
    await waitFor('VIP removed with its service', async () => (await vipOrNull(client, 'shop', 'keep')) === null);
  });

  it('puts the node providerID into the host tag romana.io/provider-id and follows its change', async () => {
    const withId = (id: string) => ({ ...node('node1', '192.168.99.11', { rack: 'r1' }), spec: { providerID: id } });
    const { kube, client } = await trio((k) => {
      k.upsert('nodes', withId('aws:///us-east-1a/i-0123456789abcdef0'));
    });
    const h = await waitFor('host node1', () => client.getHost('node1').catch(() => null));
    expect(h.tags[PROVIDER_ID_TAG]).toBe('aws:///us-east-1a/i-0123456789abcdef0');
    expect(h.tags.rack).toBe('r1');
    kube.upsert('nodes', withId('aws:///us-east-1b/i-0fedcba9876543210'));
    await waitFor('provider id tag updated', async () => (await client.getHost('node1')).tags[PROVIDER_ID_TAG] === 'aws:///us-east-1b/i-0fedcba9876543210');
  });
});
