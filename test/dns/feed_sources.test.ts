/**
 * The feeds of romana-dns in-process: Kubernetes objects reduced to the
 * compact DNS shapes (and serving the same zone as --snapshot), the VIP
 * merge rule, the merged source's change notifications, the Kubernetes
 * source's sync gate and debounce against the fake API server, paged lists,
 * and the new flags.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { ClusterSource, ClusterState, ServiceInfo } from '../../dns/cluster.js';
import { parseDnsArgs } from '../../dns/config.js';
import { clusterStateFrom, compactEndpoints, compactEndpointSlice, compactNamespace, compactService, type CompactObject, type SlicePart } from '../../dns/kube_objects.js';
import { KubeClusterSource } from '../../dns/kube_source.js';
import { buildZone } from '../../dns/records.js';
import { parseSnapshot } from '../../dns/snapshot.js';
import { mergeVips, VipMergedSource } from '../../dns/vip_merge.js';
import { listPaged, loadKubeConfig } from '../../src/listener/kube.js';
import { createLogger } from '../../src/shared/log.js';
import { startFakeKube, type FakeKube } from '../helpers/fake_kube.js';
import { waitFor } from '../helpers/poll.js';

const fixture = readFileSync(new URL('./fixtures/cluster.yaml', import.meta.url), 'utf8');
const log = createLogger('test', 'silent');

/** The fixture's objects, flattened out of its List and documents. */
function fixtureObjects(): Array<Record<string, any>> {
  const out: Array<Record<string, any>> = [];
  const add = (o: Record<string, any>): void => {
    if (o.kind === 'List') for (const i of o.items) add(i);
    else out.push(o);
  };
  for (const doc of YAML.parseAllDocuments(fixture)) add(doc.toJS() as Record<string, any>);
  return out;
}

function zoneText(state: ClusterState): string {
  const z = buildZone(state, { domain: 'cluster.local', ttl: 30, endpointIPs: true, serial: 1 });
  return JSON.stringify([...z.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

function svc(name: string, extra: Partial<ServiceInfo> = {}): ServiceInfo {
  return { namespace: 'default', name, type: 'ClusterIP', clusterIPs: ['10.99.0.1'], externalIPs: [], ports: [], publishNotReadyAddresses: false, ...extra };
}

function stateOf(...services: ServiceInfo[]): ClusterState {
  return { namespaces: ['default'], services, endpoints: new Map(), podCount: 0 };
}

describe('Kubernetes objects reduced to DNS shapes', () => {
  it('serve the same zone as the --snapshot reader for the same objects', () => {
    const objs = fixtureObjects();
    const of = (kind: string) => objs.filter((o) => o.kind === kind);
    const state = clusterStateFrom(
      of('Namespace').map(compactNamespace),
      of('Service').map(compactService),
      of('Endpoints').map(compactEndpoints),
      of('EndpointSlice').map(compactEndpointSlice),
    );
    expect(zoneText(state)).toBe(zoneText(parseSnapshot(fixture)));
  });

  it('keep only the fields that answer queries (no targetRef, nodeName, labels, annotations, status)', () => {
    const ep = compactEndpoints({
      kind: 'Endpoints',
      metadata: { name: 'web', namespace: 'shop', resourceVersion: '42', uid: 'u1', labels: { app: 'web' }, annotations: { a: 'b' }, managedFields: [{ manager: 'x' }] },
      subsets: [{ addresses: [{ ip: '10.1.0.1', hostname: 'web-0', nodeName: 'n1', targetRef: { kind: 'Pod', name: 'web-0', namespace: 'shop', uid: 'p1' } }], notReadyAddresses: [{ ip: '10.1.0.2', nodeName: 'n2' }], ports: [{ name: 'http', port: 80, protocol: 'TCP', appProtocol: 'http' }] }],
    });
    expect(ep).toEqual({
      metadata: { name: 'web', namespace: 'shop', resourceVersion: '42' },
      dns: [{ addresses: [{ ip: '10.1.0.1', ready: true, hostname: 'web-0' }, { ip: '10.1.0.2', ready: false }], ports: [{ name: 'http', protocol: 'tcp', port: 80 }] }],
    });
    const s = compactService({
      metadata: { name: 'web', namespace: 'shop', resourceVersion: '43', annotations: { 'romana.io/vip-external-ip': '192.168.9.9', 'kubectl.kubernetes.io/last-applied-configuration': '{...}' } },
      spec: { type: 'LoadBalancer', clusterIP: '10.96.1.1', clusterIPs: ['10.96.1.1'], externalIPs: ['192.168.9.9'], selector: { app: 'web' }, ports: [{ port: 443, targetPort: 8443, nodePort: 30443 }] },
      status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    });
    expect(s).toEqual({
      metadata: { name: 'web', namespace: 'shop', resourceVersion: '43' },
      dns: { namespace: 'shop', name: 'web', type: 'LoadBalancer', clusterIPs: ['10.96.1.1'], externalIPs: ['192.168.9.9'], ports: [{ name: '', protocol: 'tcp', port: 443 }], publishNotReadyAddresses: false, listenerVip: '192.168.9.9' },
    });
    // Repeated strings are one copy (interned), not one per object.
    const other = compactEndpoints({ metadata: { name: 'api', namespace: 'shop' }, subsets: [{ addresses: [{ ip: '10.1.0.3' }], ports: [{ name: 'http', port: 80 }] }] });
    expect(Object.is(other.metadata.namespace, ep.metadata.namespace)).toBe(true);
  });

  it('EndpointSlices: one subset per slice of a Service; FQDN slices and slices of no Service are skipped', () => {
    const slice = (name: string, service: string | undefined, ips: string[], addressType = 'IPv4'): CompactObject<SlicePart | null> =>
      compactEndpointSlice({ metadata: { name, namespace: 'default', ...(service ? { labels: { 'kubernetes.io/service-name': service } } : {}) }, addressType, endpoints: ips.map((ip) => ({ addresses: [ip] })), ports: [{ name: 'http', port: 80 }] });
    const state = clusterStateFrom([], [], [], [slice('web-a', 'web', ['10.1.0.1']), slice('web-b', 'web', ['10.1.0.2']), slice('ext', 'ext', ['db.example.org'], 'FQDN'), slice('orphan', undefined, ['10.1.0.9'])]);
    expect([...state.endpoints.keys()]).toEqual(['default/web']);
    expect(state.endpoints.get('default/web')!.map((s) => s.addresses.map((a) => `${a.ip} ${a.ready}`))).toEqual([['10.1.0.1 true'], ['10.1.0.2 true']]);
  });
});

describe('Romana VIPs from the daemon merged into services', () => {
  it('appends the daemon\'s VIP, replaces or drops the listener\'s stale one, never touches the user\'s external IPs', () => {
    const base = stateOf(
      svc('new', { externalIPs: ['203.0.113.5'] }),
      svc('moved', { externalIPs: ['203.0.113.5', '192.168.1.1'], listenerVip: '192.168.1.1' }),
      svc('gone', { externalIPs: ['192.168.1.2', '203.0.113.6'], listenerVip: '192.168.1.2' }),
      svc('steady', { externalIPs: ['192.168.1.3'], listenerVip: '192.168.1.3' }),
      svc('alias', { type: 'ExternalName', clusterIPs: [], externalName: 'x.example.org' }),
      svc('plain'),
    );
    const vips = new Map([['default/new', '192.168.1.10'], ['default/moved', '192.168.1.11'], ['default/steady', '192.168.1.3'], ['default/alias', '192.168.1.12'], ['default/nosuch', '192.168.1.13']]);
    const merged = mergeVips(base, vips);
    expect(Object.fromEntries(merged.services.map((s) => [s.name, s.externalIPs]))).toEqual({
      new: ['203.0.113.5', '192.168.1.10'],
      moved: ['203.0.113.5', '192.168.1.11'],
      gone: ['203.0.113.6'],
      steady: ['192.168.1.3'],
      alias: [],
      plain: [],
    });
    // Unchanged services are the same objects; the input is not mutated.
    expect(merged.services[3]).toBe(base.services[3]);
    expect(base.services[0]!.externalIPs).toEqual(['203.0.113.5']);
  });

  it('from a stale map (daemon unreachable) adds VIPs but drops nothing Kubernetes says', () => {
    const base = stateOf(svc('moved', { externalIPs: ['192.168.1.1'], listenerVip: '192.168.1.1' }), svc('gone', { externalIPs: ['192.168.1.2'], listenerVip: '192.168.1.2' }));
    const merged = mergeVips(base, new Map([['default/moved', '192.168.1.11']]), false);
    expect(merged.services.map((s) => s.externalIPs)).toEqual([['192.168.1.1', '192.168.1.11'], ['192.168.1.2']]);
  });

  it('passes the state through unchanged before the daemon was read, or when nothing differs', () => {
    const base = stateOf(svc('a', { externalIPs: ['192.168.1.3'], listenerVip: '192.168.1.3' }));
    expect(mergeVips(base, undefined)).toBe(base);
    expect(mergeVips(base, new Map([['default/a', '192.168.1.3']]))).toBe(base);
  });

  it('the merged source changes when either feed does, merges once per change, and is empty until the base has a state', () => {
    let state: ClusterState | undefined;
    let vips: Map<string, string> | undefined;
    const baseCbs: Array<() => void> = [];
    const vipCbs: Array<() => void> = [];
    const base: ClusterSource = { current: () => state, onChange: (cb) => (baseCbs.push(cb), () => undefined) };
    const src = new VipMergedSource(base, { current: () => vips, connected: true, onChange: (cb) => (vipCbs.push(cb), () => undefined) });
    let changes = 0;
    src.onChange(() => changes++);
    vips = new Map([['default/a', '192.168.1.1']]);
    vipCbs.forEach((cb) => cb());
    expect([src.current(), changes]).toEqual([undefined, 0]);
    state = stateOf(svc('a'));
    baseCbs.forEach((cb) => cb());
    expect(changes).toBe(1);
    const first = src.current()!;
    expect(first.services[0]!.externalIPs).toEqual(['192.168.1.1']);
    expect(src.current()).toBe(first);
    vips = new Map([['default/a', '192.168.1.2']]);
    vipCbs.forEach((cb) => cb());
    expect(changes).toBe(2);
    expect(src.current()!.services[0]!.externalIPs).toEqual(['192.168.1.2']);
  });
});

describe('KubeClusterSource against the fake API server', () => {
  let kube: FakeKube | undefined;
  let source: KubeClusterSource | undefined;
  afterEach(async () => {
    await source?.stop();
    await kube?.close();
    source = kube = undefined;
  });

  function slice(i: number, ips: string[]): Record<string, unknown> {
    return { metadata: { name: `web-${i}`, namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })), ports: [{ name: 'http', port: 80 }] };
  }

  it('publishes nothing before every cache synced, then one state; an event storm is one rebuild', async () => {
    kube = await startFakeKube();
    kube.upsert('namespaces', { metadata: { name: 'default' } });
    kube.upsert('services', { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] } });
    source = new KubeClusterSource({ kc: loadKubeConfig({ kubeconfig: null, server: kube.url }), log, debounceMs: 400, maxDelayMs: 5000 });
    let changes = 0;
    source.onChange(() => changes++);
    expect(source.current()).toBeUndefined();
    source.start();
    const first = await waitFor('the first state', () => source!.current());
    expect(source.synced).toBe(true);
    expect([changes, source.rebuilds]).toEqual([1, 1]);
    expect(first.services.map((s) => `${s.name} ${s.clusterIPs}`)).toEqual(['web 10.96.0.20']);

    // 300 slice events in one burst.
    for (let i = 0; i < 300; i++) kube.upsert('endpointslices', slice(i, [`10.1.${i >> 8}.${i & 255}`]));
    const next = await waitFor('the storm applied', () => (source!.current()!.endpoints.get('default/web')?.length === 300 ? source!.current() : undefined));
    expect(source.rebuilds).toBe(2);
    expect(changes).toBe(2);
    // The published states are distinct values: the first one was not changed under its readers.
    expect(first.endpoints.size).toBe(0);
    expect(next).not.toBe(first);
  });

  it('a 410 relist removes what was deleted while the watch was away', async () => {
    kube = await startFakeKube();
    kube.upsert('namespaces', { metadata: { name: 'default' } });
    kube.upsert('services', { metadata: { name: 'a', namespace: 'default' }, spec: { clusterIP: '10.96.0.21' } });
    kube.upsert('services', { metadata: { name: 'b', namespace: 'default' }, spec: { clusterIP: '10.96.0.22' } });
    source = new KubeClusterSource({ kc: loadKubeConfig({ kubeconfig: null, server: kube.url }), log, debounceMs: 20 });
    source.start();
    await waitFor('the first state', () => source!.current());
    kube.remove('services', 'b', 'default', { silently: true });
    kube.compact();
    kube.closeWatches();
    await waitFor('b gone after the relist', () => source!.current()!.services.every((s) => s.name !== 'b'));
    expect(source.listCounts().services).toBe(2);
    expect(source.current()!.services.map((s) => s.name)).toEqual(['a']);
  });
});

describe('paged lists', () => {
  it('follows continue tokens, transforms each page, and keeps the first page\'s resourceVersion', async () => {
    const seen: string[] = [];
    const pages: Record<string, { items: unknown[]; metadata: Record<string, string> }> = {
      '': { items: [{ metadata: { name: 'a' }, big: 'x'.repeat(100) }, { metadata: { name: 'b' } }], metadata: { resourceVersion: '10', continue: 'p2' } },
      p2: { items: [{ metadata: { name: 'c' } }], metadata: { resourceVersion: '10', continue: 'p3' } },
      p3: { items: [{ metadata: { name: 'd' } }], metadata: { resourceVersion: '10' } },
    };
    const server = http.createServer((req, res) => {
      seen.push(req.url!);
      const u = new URL(req.url!, 'http://x');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'ServiceList', ...pages[u.searchParams.get('continue') ?? '']! }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const kc = new KubeConfig();
      kc.loadFromClusterAndUser({ name: 't', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }, { name: 't' });
      const out = await listPaged(kc, '/api/v1/services', 2, (o: KubernetesObject) => ({ metadata: { name: o.metadata!.name! } }));
      expect(out.items).toEqual([{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }, { metadata: { name: 'c' } }, { metadata: { name: 'd' } }]);
      expect(out.metadata?.resourceVersion).toBe('10');
      expect(seen).toEqual(['/api/v1/services?limit=2', '/api/v1/services?limit=2&continue=p2', '/api/v1/services?limit=2&continue=p3']);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('romana-dns feed flags', () => {
  it('defaults to the in-cluster watch of EndpointSlices and no daemon', () => {
    expect(parseDnsArgs([])).toMatchObject({ kubeconfig: null, server: null, endpointsApi: 'endpointslices' });
    expect(parseDnsArgs([])).not.toHaveProperty('daemon');
    expect(parseDnsArgs(['--kubeconfig', '/k', '--endpoints-api', 'endpoints', '--daemon', 'unix:/run/romana.sock', '--token-file', '/t'])).toMatchObject({
      kubeconfig: '/k', endpointsApi: 'endpoints', daemon: 'unix:/run/romana.sock', tokenFile: '/t',
    });
  });

  it('accepts kube-dns\'s flag names, so its Deployment args work unchanged', () => {
    expect(parseDnsArgs(['--domain=cluster.local.', '--dns-port=10053', '--config-dir=/kube-dns-config', '--v=2'])).toMatchObject({
      domain: 'cluster.local', port: 10053, configDir: '/kube-dns-config', logLevel: 'info',
    });
    expect(parseDnsArgs(['--dns-bind-address', '127.0.0.1', '--kube-master-url', 'http://127.0.0.1:8080', '--healthz-port', '9081', '--v', '4'])).toMatchObject({
      listen: '127.0.0.1', server: 'http://127.0.0.1:8080', healthPort: 9081, logLevel: 'debug',
    });
    expect(parseDnsArgs(['--kubecfg-file', '/k', '--v=9', '--log-level', 'warn'])).toMatchObject({ kubeconfig: '/k', logLevel: 'warn' });
    expect(() => parseDnsArgs(['--v', 'loud'])).toThrow(/Invalid --v/);
  });

  it('rejects contradictions and malformed values, naming the flag', () => {
    expect(() => parseDnsArgs(['--server', 'http://a:1', '--kubeconfig', '/k'])).toThrow(/--server and --kubeconfig/);
    expect(() => parseDnsArgs(['--snapshot', '/s', '--server', 'http://a:1'])).toThrow(/--snapshot excludes/);
    expect(() => parseDnsArgs(['--server', 'a:1'])).toThrow(/Invalid --server/);
    expect(() => parseDnsArgs(['--daemon', '10.0.0.1:9600'])).toThrow(/Invalid --daemon/);
    expect(() => parseDnsArgs(['--token-file', '/t'])).toThrow(/--token-file needs --daemon/);
    expect(() => parseDnsArgs(['--endpoints-api', 'slices'])).toThrow(/Invalid --endpoints-api/);
  });
});
