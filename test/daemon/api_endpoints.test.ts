/**
 * The firewall's daemon resources against a real daemon process: endpoints
 * (merge semantics, validation, node filter), namespace labels on tenants
 * (PUT /tenants/{name}, POST kept), Kubernetes NetworkPolicies stored
 * verbatim, GET /snapshot, token roles for them, and the --socket unix
 * listener used by agents in network namespaces.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RomanaError } from '../../src/core/errors.js';
import { parseDaemonAddress, RomanaClient, type WatchEventJson } from '../../src/shared/api_client.js';
import { cleanupDaemons, http, spawnDaemon, startDaemon, tempDir, type DaemonProcess } from '../helpers/daemon.js';

const ADMIN = 'admin-token-0123456789';
const AGENT = 'agent-token-0123456789';
const READER = 'reader-token-0123456789';

let d: DaemonProcess;
let base: string;
let socket: string;
let admin: RomanaClient;
let agent: RomanaClient;

async function rejectsWith(p: Promise<unknown>, code: string): Promise<RomanaError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RomanaError);
    expect((e as RomanaError).code).toBe(code);
    return e as RomanaError;
  }
  throw new Error(`expected a ${code} error`);
}

const NETPOL = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'web-allow', labels: { app: 'web' } },
  spec: {
    podSelector: { matchLabels: { app: 'web' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ protocol: 'TCP', port: 'http' }] }],
  },
};

beforeAll(async () => {
  const dir = tempDir();
  const file = path.join(dir, 'tokens');
  writeFileSync(file, `${ADMIN} admin\n${AGENT} agent\n${READER} read-only\n`);
  socket = path.join(dir, 'daemon.sock');
  d = await startDaemon(['--token-file', file, '--socket', socket]);
  base = d.url();
  admin = d.client(ADMIN);
  agent = d.client(AGENT);
  await admin.addHost({ name: 'node-a', ip: '192.168.60.1' });
});

afterAll(cleanupDaemons);

describe('PUT/GET/DELETE /endpoints', () => {
  it('creates, merges field by field, clears with null, and writes nothing for an identical PUT', async () => {
    const c1 = await agent.putEndpoint('default', 'web-1', { ip: '10.112.0.5', node: 'node-a' });
    expect(c1.created).toBe(true);
    expect(c1.endpoint).toMatchObject({ namespace: 'default', pod: 'web-1', labels: {}, ip: '10.112.0.5', node: 'node-a', ports: [] });

    // The listener's half: labels and ports; ip and node stay.
    const c2 = await admin.putEndpoint('default', 'web-1', {
      labels: { app: 'web', 'romana.io/segment': 'front' },
      ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 53, protocol: 'UDP' }],
    });
    expect(c2.created).toBe(false);
    expect(c2.endpoint).toMatchObject({
      ip: '10.112.0.5',
      node: 'node-a',
      labels: { app: 'web', 'romana.io/segment': 'front' },
      ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { containerPort: 53, protocol: 'UDP' }],
    });
    expect(c2.endpoint.revision).toBeGreaterThan(c1.endpoint.revision);

    // Labels are replaced whole, so a removed label goes away.
    const c3 = await admin.putEndpoint('default', 'web-1', { labels: { app: 'web' } });
    expect(c3.endpoint.labels).toEqual({ app: 'web' });

    const same = await admin.putEndpoint('default', 'web-1', { labels: { app: 'web' } });
    expect(same.created).toBe(false);
    expect(same.endpoint.revision).toBe(c3.endpoint.revision);

    const cleared = await agent.putEndpoint('default', 'web-1', { ip: null });
    expect(cleared.endpoint.ip).toBeNull();
    expect(cleared.endpoint.node).toBe('node-a');
    await agent.putEndpoint('default', 'web-1', { ip: '10.112.0.5' });
    expect(await admin.getEndpoint('default', 'web-1')).toMatchObject({ ip: '10.112.0.5', labels: { app: 'web' } });
  });

  it('answers 201 for a new endpoint and 200 for an update over raw HTTP', async () => {
    const a = await http(base, 'PUT', '/endpoints/default/raw-1', { body: { node: 'node-a' }, token: AGENT });
    expect(a.status).toBe(201);
    const b = await http(base, 'PUT', '/endpoints/default/raw-1', { body: { node: 'node-b' }, token: AGENT });
    expect(b.status).toBe(200);
    expect(b.json.node).toBe('node-b');
  });

  it('filters the list by node and namespace', async () => {
    await agent.putEndpoint('other', 'db-1', { ip: '10.112.0.9', node: 'node-b' });
    const all = await admin.listEndpoints();
    expect(all.endpoints.map((e) => `${e.namespace}/${e.pod}`)).toEqual(['default/raw-1', 'default/web-1', 'other/db-1']);
    expect(all.revision).toBeGreaterThan(0);
    expect((await admin.listEndpoints({ node: 'node-a' })).endpoints.map((e) => e.pod)).toEqual(['web-1']);
    expect((await admin.listEndpoints({ node: 'node-b' })).endpoints.map((e) => e.pod)).toEqual(['raw-1', 'db-1']);
    expect((await admin.listEndpoints({ namespace: 'other' })).endpoints.map((e) => e.pod)).toEqual(['db-1']);
  });

  it('rejects malformed input, naming the field, and stores nothing', async () => {
    const cases: Array<[string, unknown, string]> = [
      ['/endpoints/default/bad-1', { ip: '10.0.0.300' }, 'ip'],
      ['/endpoints/default/bad-1', { ports: [{ containerPort: 0 }] }, 'ports[0].containerPort'],
      ['/endpoints/default/bad-1', { ports: [{ containerPort: 80, protocol: 'ICMP' }] }, 'ports[0].protocol'],
      ['/endpoints/default/bad-1', { ports: [{ name: 'a', containerPort: 80 }, { name: 'a', containerPort: 81 }] }, 'ports[1].name'],
      ['/endpoints/default/bad-1', { ports: [{ name: 'much-too-long-port-name', containerPort: 80 }] }, 'ports[0].name'],
      ['/endpoints/default/bad-1', { labels: { 'bad key!': 'x' } }, 'labels.bad key!'],
      ['/endpoints/default/bad-1', { nodes: 'typo' }, 'nodes'],
      ['/endpoints/Bad_NS/bad-1', { ip: '10.0.0.1' }, 'namespace'],
      ['/endpoints/default/Bad_Pod', { ip: '10.0.0.1' }, 'pod name'],
    ];
    for (const [p, body, field] of cases) {
      const r = await http(base, 'PUT', p, { body, token: ADMIN });
      expect(r.status, `${p} ${JSON.stringify(body)}`).toBe(400);
      expect(r.json).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field } });
    }
    await rejectsWith(admin.getEndpoint('default', 'bad-1'), 'NOT_FOUND');
  });

  it('deletes (200 with what was deleted), then 404', async () => {
    const gone = await agent.deleteEndpoint('default', 'raw-1');
    expect(gone).toMatchObject({ namespace: 'default', pod: 'raw-1', node: 'node-b' });
    await rejectsWith(agent.deleteEndpoint('default', 'raw-1'), 'NOT_FOUND');
    await rejectsWith(admin.getEndpoint('default', 'raw-1'), 'NOT_FOUND');
  });
});

describe('namespace labels on tenants', () => {
  it('PUT /tenants/{name} creates with labels (201), replaces them (200), and GET shows them', async () => {
    const a = await admin.putTenant('team-a', { 'kubernetes.io/metadata.name': 'team-a', env: 'prod' });
    expect(a.created).toBe(true);
    expect(a.tenant).toEqual({ name: 'team-a', segments: [], addresses: 0, labels: { 'kubernetes.io/metadata.name': 'team-a', env: 'prod' } });
    const b = await admin.putTenant('team-a', { 'kubernetes.io/metadata.name': 'team-a' });
    expect(b.created).toBe(false);
    expect((await admin.getTenant('team-a')).labels).toEqual({ 'kubernetes.io/metadata.name': 'team-a' });
    const list = await admin.listTenants();
    expect(list.tenants.find((t) => t.name === 'team-a')).toMatchObject({ labels: { 'kubernetes.io/metadata.name': 'team-a' } });
  });

  it('keeps POST /tenants working: no labels field for plain tenants, existing labels untouched', async () => {
    const p = await admin.createTenant('plain');
    expect(p).toEqual({ tenant: { name: 'plain', segments: [], addresses: 0 }, created: true });
    const again = await admin.createTenant('team-a');
    expect(again.created).toBe(false);
    expect(again.tenant.labels).toEqual({ 'kubernetes.io/metadata.name': 'team-a' });
  });

  it('rejects bad labels and a body name that contradicts the path', async () => {
    const bad = await http(base, 'PUT', '/tenants/team-b', { body: { labels: { env: 'x y' } }, token: ADMIN });
    expect(bad.status).toBe(400);
    expect(bad.json.details.field).toBe('labels.env');
    const mismatch = await http(base, 'PUT', '/tenants/team-b', { body: { name: 'team-c', labels: {} }, token: ADMIN });
    expect(mismatch.status).toBe(400);
    await rejectsWith(admin.getTenant('team-b'), 'NOT_FOUND');
  });
});

describe('Kubernetes NetworkPolicies', () => {
  it('stores the object verbatim (namespace filled in): 201, identical 200, changed 200', async () => {
    const a = await admin.putNetworkPolicy('default', 'web-allow', NETPOL);
    expect(a.created).toBe(true);
    expect(a.object).toEqual({ ...NETPOL, metadata: { ...NETPOL.metadata, namespace: 'default' } });
    expect((await admin.putNetworkPolicy('default', 'web-allow', NETPOL)).created).toBe(false);
    const changed = { ...NETPOL, spec: { ...NETPOL.spec, policyTypes: ['Ingress', 'Egress'] } };
    expect((await admin.putNetworkPolicy('default', 'web-allow', changed)).created).toBe(false);
    expect(await admin.getNetworkPolicy('default', 'web-allow')).toEqual({ ...changed, metadata: { ...NETPOL.metadata, namespace: 'default' } });
    await admin.putNetworkPolicy('other', 'deny-all', { ...NETPOL, metadata: { name: 'deny-all', namespace: 'other' }, spec: { podSelector: {} } });
    const list = await admin.listNetworkPolicies();
    expect(list.items.map((o) => `${(o.metadata as { namespace: string }).namespace}/${(o.metadata as { name: string }).name}`)).toEqual([
      'default/web-allow',
      'other/deny-all',
    ]);
    expect((await admin.listNetworkPolicies('other')).items).toHaveLength(1);
  });

  it('validates apiVersion, kind and metadata against the path', async () => {
    const cases: Array<[unknown, string]> = [
      [{ ...NETPOL, apiVersion: 'extensions/v1beta1' }, 'apiVersion'],
      [{ ...NETPOL, kind: 'Pod' }, 'kind'],
      [{ ...NETPOL, metadata: undefined }, 'metadata'],
      [{ ...NETPOL, metadata: { name: 'other-name' } }, 'metadata.name'],
      [{ ...NETPOL, metadata: { name: 'web-allow', namespace: 'kube-system' } }, 'metadata.namespace'],
      [{ ...NETPOL, spec: [] }, 'spec'],
    ];
    for (const [body, field] of cases) {
      const r = await http(base, 'PUT', '/k8s/networkpolicies/default/web-allow', { body, token: ADMIN });
      expect(r.status, field).toBe(400);
      expect(r.json).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field } });
    }
  });

  it('deletes (200 with the object), then 404', async () => {
    const gone = await admin.deleteNetworkPolicy('other', 'deny-all');
    expect((gone.metadata as { name: string }).name).toBe('deny-all');
    await rejectsWith(admin.deleteNetworkPolicy('other', 'deny-all'), 'NOT_FOUND');
    await rejectsWith(admin.getNetworkPolicy('other', 'deny-all'), 'NOT_FOUND');
  });
});

describe('roles', () => {
  it('lets the agent token write endpoints only; read-only reads', async () => {
    const reader = d.client(READER);
    expect((await reader.listEndpoints()).endpoints.length).toBeGreaterThan(0);
    await rejectsWith(reader.putEndpoint('default', 'x-1', { ip: '10.0.0.1' }), 'FORBIDDEN');
    await rejectsWith(agent.putTenant('team-z', {}), 'FORBIDDEN');
    await rejectsWith(agent.putNetworkPolicy('default', 'web-allow', NETPOL), 'FORBIDDEN');
    await rejectsWith(agent.deleteNetworkPolicy('default', 'web-allow'), 'FORBIDDEN');
    expect((await agent.listNetworkPolicies()).items.length).toBeGreaterThan(0);
    const none = await http(base, 'PUT', '/endpoints/default/x-1', { body: { ip: '10.0.0.1' } });
    expect(none.status).toBe(401);
  });
});

describe('GET /snapshot and /watch', () => {
  it('returns raw records of the requested prefixes and a revision to watch from', async () => {
    const snap = await admin.snapshot(['endpoints/', 'netpols/', 'tenants/']);
    const keys = snap.records.map((r) => r.key);
    expect(keys).toContain('endpoints/default/web-1');
    expect(keys).toContain('netpols/default/web-allow');
    expect(keys).toContain('tenants/team-a');
    expect(keys.some((k) => k.startsWith('hosts/'))).toBe(false);
    const ep = snap.records.find((r) => r.key === 'endpoints/default/web-1')!;
    expect(ep.value).toMatchObject({ schema: 1, namespace: 'default', pod: 'web-1', ip: '10.112.0.5' });
    expect(ep.mod_revision).toBeLessThanOrEqual(snap.revision);

    const stream = await admin.watch({ since: snap.revision });
    const got: WatchEventJson[] = [];
    const timer = setTimeout(() => stream.close(), 10_000);
    await agent.putEndpoint('default', 'web-2', { ip: '10.112.0.6', node: 'node-a' });
    for await (const e of stream) {
      got.push(e);
      if (e.key === 'endpoints/default/web-2') break;
    }
    clearTimeout(timer);
    stream.close();
    expect(got.at(-1)).toMatchObject({ type: 'put', key: 'endpoints/default/web-2', value: { ip: '10.112.0.6' } });

    const everything = await admin.snapshot();
    expect(everything.records.some((r) => r.key.startsWith('hosts/'))).toBe(true);
    const bad = await http(base, 'GET', '/snapshot?prefix=/abs', { token: ADMIN });
    expect(bad.status).toBe(400);
  });
});

describe('--socket', () => {
  it('serves the same API on a unix socket (unix:/path base URL or socketPath)', async () => {
    expect(existsSync(socket)).toBe(true);
    expect(parseDaemonAddress(`unix:${socket}`)).toEqual({ baseUrl: 'http://localhost', socketPath: socket });
    expect(parseDaemonAddress(`unix://${socket}`)).toEqual({ baseUrl: 'http://localhost', socketPath: socket });
    expect(() => parseDaemonAddress('unix:relative.sock')).toThrow(/absolute path/);
    const viaUrl = new RomanaClient({ baseUrl: `unix:${socket}`, token: AGENT });
    const viaOpt = new RomanaClient({ socketPath: socket, token: READER });
    try {
      expect((await viaUrl.listHosts()).hosts.map((h) => h.name)).toEqual(['node-a']);
      expect((await viaUrl.putEndpoint('default', 'sock-1', { node: 'node-a' })).created).toBe(true);
      expect((await viaOpt.getEndpoint('default', 'sock-1')).node).toBe('node-a');
      await rejectsWith(viaOpt.putEndpoint('default', 'sock-1', {}), 'FORBIDDEN');
      const hb = await viaUrl.heartbeat('node-a');
      expect(hb.host).toBe('node-a');
    } finally {
      await viaUrl.close();
      await viaOpt.close();
    }
  });

  it('removes the socket file on SIGTERM and replaces a stale one on start', async () => {
    const dir = tempDir();
    const sock = path.join(dir, 'd.sock');
    const first = await startDaemon(['--socket', sock]);
    expect(existsSync(sock)).toBe(true);
    // SIGKILL leaves the file behind, as a crash would.
    await first.kill();
    expect(existsSync(sock)).toBe(true);
    const second = await startDaemon(['--socket', sock, '--data-dir', tempDir()]);
    const c = new RomanaClient({ baseUrl: `unix:${sock}` });
    try {
      expect((await c.healthz()).status).toBe('ok');
    } finally {
      await c.close();
    }
    expect(await second.stop()).toBe(0);
    expect(existsSync(sock)).toBe(false);
  });

  it('refuses to replace a path that is not a socket', async () => {
    const file = path.join(tempDir(), 'not-a-socket');
    writeFileSync(file, 'x');
    const p = spawnDaemon(['--port', '0', '--data-dir', tempDir(), '--socket', file]);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/is not a socket: refusing to replace it/);
  });
});
