/**
 * The daemon's REST API against a real daemon process, on both stores:
 * every route, status codes, error bodies, content types, dry-run topology,
 * watch resume, and state surviving a restart.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RomanaError } from '../../src/core/errors.js';
import type { RomanaClient, WatchEventJson } from '../../src/shared/api_client.js';
import { openStore, type OpenStoreOptions } from '../../src/store/open.js';
import { cleanupDaemons, http, startDaemon, tempDir, type DaemonProcess } from '../helpers/daemon.js';
import { startEtcd, type EtcdInstance } from '../helpers/etcd.js';
import { waitFor } from '../helpers/poll.js';

/** Expects the typed client call to fail with `code`. */
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

function expectErrorBody(json: any, status: number, code: string): void {
  expect(json).toMatchObject({ status_code: status, code });
  expect(Object.keys(json).sort()).toEqual(['code', 'details', 'message', 'resource_id', 'resource_type', 'status_code']);
  expect(typeof json.message).toBe('string');
}

/** Reads a /watch stream until `n` events arrived (or fails after the deadline). */
async function collect(client: RomanaClient, since: number, n: number, prefix?: string): Promise<WatchEventJson[]> {
  const stream = await client.watch({ since, ...(prefix === undefined ? {} : { prefix }) });
  const out: WatchEventJson[] = [];
  const deadline = setTimeout(() => stream.close(), 10_000);
  try {
    for await (const e of stream) {
      out.push(e);
      if (out.length >= n) break;
    }
  } finally {
    clearTimeout(deadline);
    stream.close();
  }
  return out;
}

const POLICY_DOC = {
  securitypolicies: [
    {
      name: 'web-in',
      description: 'web from frontend',
      direction: 'ingress',
      applied_to: [{ tenant: 'acme', segment: 'web' }],
      peers: [{ tenant: 'acme', segment: 'frontend' }],
      rules: [{ protocol: 'tcp', ports: [80, 443] }],
    },
  ],
};

const V2_POLICY = {
  id: 'kube.acme.allow-dns.1234',
  direction: 'ingress',
  applied_to: [{ tenant_id: 'acme' }],
  ingress: [{ peers: [{ peer: 'any' }], rules: [{ protocol: 'udp', ports: [53] }] }],
};

interface Backend {
  name: 'embedded' | 'etcd';
  /** Store flags for a daemon (same store across calls). */
  args(): string[];
  /** The same store, opened from the test process. */
  store(): OpenStoreOptions;
}

let etcd: EtcdInstance | undefined;
const dataDir = tempDir();
const backends: Backend[] = [
  { name: 'embedded', args: () => ['--data-dir', dataDir], store: () => ({ dataDir }) },
  {
    name: 'etcd',
    args: () => ['--etcd-endpoints', etcd!.endpoint, '--etcd-prefix', '/api-routes'],
    store: () => ({ etcdEndpoints: [etcd!.endpoint], prefix: '/api-routes' }),
  },
];

beforeAll(async () => {
  etcd = await startEtcd();
});

afterAll(async () => {
  await cleanupDaemons();
  await etcd?.stop();
});

describe.each(backends)('daemon API on the $name store', (backend) => {
  let d: DaemonProcess;
  let c: RomanaClient;
  let base: string;

  beforeAll(async () => {
    d = await startDaemon(backend.args());
    c = d.client();
    base = d.url();
  });

  it('says in its first log line which store and topology it starts with', () => {
    const first = d.logs[0]!;
    expect(first.msg).toContain(backend.name === 'etcd' ? 'etcd at' : 'embedded store');
    expect(first.msg).toContain('built-in "kubeadm"');
  });

  it('serves health, readiness, metrics and its route list', async () => {
    expect(await c.healthz()).toEqual({ status: 'ok' });
    const ready = await c.readyz();
    expect(ready.status).toBe('ready');
    expect(ready.checks.store!.ok).toBe(true);
    const index = await http(base, 'GET', '/');
    expect(index.status).toBe(200);
    expect(index.json.routes).toContainEqual({ method: 'GET', path: '/policies/{policy}', access: 'read' });
    await c.listHosts();
    const m = await c.metrics();
    expect(m).toMatch(/romana_daemon_http_requests_total\{method="GET",route="\/hosts",status="200"\} \d+/);
    expect(m).toContain('romana_daemon_http_request_duration_seconds_bucket');
    expect(m).toContain('romana_daemon_store_txn_conflicts_total');
  });

  it('lists networks in the original format and refuses unknown networks with 404', async () => {
    const nets = await c.listNetworks();
    expect(nets).toEqual([
      expect.objectContaining({ id: 'romana-network', name: 'romana-network', cidr: '10.112.0.0/12', block_mask: 29, tenants: null, revision: expect.any(Number) }),
    ]);
    const r = await http(base, 'GET', '/networks/nope/blocks');
    expect(r.status).toBe(404);
    expectErrorBody(r.json, 404, 'NETWORK_NOT_FOUND');
    expect(r.json.resource_id).toBe('nope');
  });

  it('registers hosts idempotently: 201 new, 200 identical, 409 different, 400 malformed', async () => {
    const h = { name: 'node-a', ip: '192.168.10.1', tags: { rack: 'r1' } };
    const first = await http(base, 'POST', '/hosts', { body: h });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ name: 'node-a', ip: '192.168.10.1', agent_port: 9604, tags: { rack: 'r1' } });
    expect(first.json.groups[0]).toMatchObject({ network: 'romana-network', cidr: '10.112.0.0/15' });
    const again = await http(base, 'POST', '/hosts', { body: { ...h, agent_port: 0 } });
    expect(again.status).toBe(200);
    const other = await http(base, 'POST', '/hosts', { body: { ...h, ip: '192.168.10.99' } });
    expect(other.status).toBe(409);
    expectErrorBody(other.json, 409, 'HOST_EXISTS');
    expect(other.json.message).toContain('192.168.10.99');
    const ipTaken = await http(base, 'POST', '/hosts', { body: { name: 'node-z', ip: '192.168.10.1' } });
    expect(ipTaken.status).toBe(409);
    const noIp = await http(base, 'POST', '/hosts', { body: { name: 'node-y' } });
    expect(noIp.status).toBe(400);
    expectErrorBody(noIp.json, 400, 'INVALID_ARGUMENT');
    expect(noIp.json.message).toContain('"ip"');
    const badIp = await http(base, 'POST', '/hosts', { body: { name: 'node-y', ip: '300.1.1.1' } });
    expect(badIp.status).toBe(400);
    expect(badIp.json.message).toContain('"300.1.1.1"');
    const badJson = await http(base, 'POST', '/hosts', { body: '{"name": "x",' });
    expect(badJson.status).toBe(400);
    expectErrorBody(badJson.json, 400, 'INVALID_JSON');

    expect((await c.getHost('node-a')).ip).toBe('192.168.10.1');
    await rejectsWith(c.getHost('ghost'), 'HOST_NOT_FOUND');
    const list = await c.listHosts();
    expect(list.hosts.map((x) => x.name)).toContain('node-a');
    expect(list.revision).toBeGreaterThan(0);
    const retagged = await c.setHostTags('node-a', { rack: 'r1', extra: 'yes' });
    expect(retagged.tags).toEqual({ rack: 'r1', extra: 'yes' });
  });

  it('allocates addresses as the original did ("<ip>"), idempotently by name, and releases by name or IP', async () => {
    await c.addHost({ name: 'node-b', ip: '192.168.10.2' });
    const r = await http(base, 'POST', '/address', { body: { name: 'pod-1', host: 'node-b', tenant: 'acme', segment: 'web' } });
    expect(r.status).toBe(200);
    expect(typeof r.json).toBe('string');
    expect(r.text.trim()).toBe(JSON.stringify(r.json));
    const ip1 = r.json as string;
    expect(ip1).toMatch(/^10\.11[2-9]\./);
    // A CNI retry gets the same address.
    expect(await c.allocate({ name: 'pod-1', host: 'node-b', tenant: 'acme', segment: 'web' })).toBe(ip1);
    const ip2 = await c.allocate({ name: 'pod-2', host: 'node-b', tenant: 'acme', segment: 'web' });
    const ip3 = await c.allocate({ name: 'pod-3', host: 'node-b', tenant: 'other' });
    expect(new Set([ip1, ip2, ip3]).size).toBe(3);

    const elsewhere = await http(base, 'POST', '/address', { body: { name: 'pod-1', host: 'node-a', tenant: 'acme', segment: 'web' } });
    expect(elsewhere.status).toBe(409);
    expectErrorBody(elsewhere.json, 409, 'ALREADY_EXISTS');
    const unknownHost = await http(base, 'POST', '/address', { body: { name: 'pod-x', host: 'ghost' } });
    expect(unknownHost.status).toBe(404);
    expectErrorBody(unknownHost.json, 404, 'HOST_NOT_FOUND');
    const noName = await http(base, 'POST', '/address', { body: { host: 'node-b' } });
    expect(noName.status).toBe(400);

    const byHost = await c.listAddresses({ host: 'node-b' });
    expect(byHost.addresses.map((a) => a.name).sort()).toEqual(['pod-1', 'pod-2', 'pod-3']);
    const byTenant = await c.listAddresses({ tenant: 'acme' });
    expect(byTenant.addresses.map((a) => a.name).sort()).toEqual(['pod-1', 'pod-2']);
    expect((await c.getAddress('pod-2')).ip).toBe(ip2);

    const blocks = await c.listBlocks({ host: 'node-b' });
    expect(blocks.blocks.length).toBe(2); // one per (host, tenant, segment)
    expect(blocks.blocks.reduce((s, b) => s + b.allocated_ip_count, 0)).toBe(3);
    const netBlocks = await c.networkBlocks('romana-network');
    expect(netBlocks.blocks.length).toBeGreaterThanOrEqual(2);

    expect((await c.release('pod-2')).ip).toBe(ip2);
    expect((await c.release(ip3)).name).toBe('pod-3');
    const gone = await http(base, 'DELETE', '/address?addressName=pod-2');
    expect(gone.status).toBe(404);
    expectErrorBody(gone.json, 404, 'ADDRESS_NOT_FOUND');
    const missing = await http(base, 'DELETE', '/address');
    expect(missing.status).toBe(400);
    expect(missing.json.message).toContain('addressName');
  });

  it('accepts any JSON content type, charset included, and refuses others with 415', async () => {
    const body = JSON.stringify({ name: 'ct-tenant' });
    for (const ct of ['application/json; charset=utf-8', 'application/vnd.romana.v1+json', 'APPLICATION/JSON', null]) {
      const r = await http(base, 'POST', '/tenants', { body, contentType: ct });
      expect([200, 201], `content type ${ct}`).toContain(r.status);
    }
    const bad = await http(base, 'POST', '/tenants', { body, contentType: 'text/plain' });
    expect(bad.status).toBe(415);
    expectErrorBody(bad.json, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(bad.json.message).toContain('text/plain');
  });

  it('answers unknown routes 404 and wrong methods 405 with the catalogue body', async () => {
    const nf = await http(base, 'GET', '/no/such/route');
    expect(nf.status).toBe(404);
    expectErrorBody(nf.json, 404, 'NOT_FOUND');
    const na = await http(base, 'PATCH', '/hosts');
    expect(na.status).toBe(405);
    expect(na.headers.allow).toContain('POST');
    expectErrorBody(na.json, 405, 'METHOD_NOT_ALLOWED');
  });

  it('manages tenants and segments, refusing to delete ones with addresses (409)', async () => {
    expect((await c.createTenant('acme')).created).toBe(true);
    expect((await c.createTenant('acme')).created).toBe(false);
    expect((await c.addSegment('acme', 'web')).created).toBe(true);
    expect((await c.addSegment('acme', 'db')).created).toBe(true);
    await rejectsWith(c.addSegment('nobody', 'web'), 'NOT_FOUND');
    const bad = await http(base, 'POST', '/tenants', { body: { name: 'no spaces' } });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain('"no spaces"');

    const t = await c.getTenant('acme');
    expect(t.segments.sort()).toEqual(['db', 'web']);
    expect(t.addresses).toBe(1); // pod-1
    expect((await c.listTenants()).tenants.map((x) => x.name)).toContain('acme');
    expect((await c.listSegments('acme')).segments.map((s) => s.name).sort()).toEqual(['db', 'web']);
    expect((await c.getSegment('acme', 'web')).addresses).toBe(1);

    const inUse = await http(base, 'DELETE', '/tenants/acme');
    expect(inUse.status).toBe(409);
    expectErrorBody(inUse.json, 409, 'RESOURCE_IN_USE');
    expect(inUse.json.message).toContain('pod-1');
    await rejectsWith(c.removeSegment('acme', 'web'), 'RESOURCE_IN_USE');
    expect((await c.removeSegment('acme', 'db')).name).toBe('db');
    await rejectsWith(c.removeSegment('acme', 'db'), 'NOT_FOUND');

    await c.release('pod-1');
    const deleted = await c.deleteTenant('acme');
    expect(deleted.segments).toEqual(['web']);
    await rejectsWith(c.getTenant('acme'), 'NOT_FOUND');
    expect((await c.listSegments('ct-tenant')).segments).toEqual([]);
  });

  it('stores policies in both formats, by id or name, with every problem listed and no upsert', async () => {
    const created = await http(base, 'POST', '/policies', { body: POLICY_DOC });
    expect(created.status).toBe(201);
    const p = created.json.results[0];
    expect(p.outcome).toBe('created');
    expect(p.policy.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(p.policy.name).toBe('web-in');
    // The same document again is a no-op with the same id.
    const again = await http(base, 'POST', '/policies', { body: POLICY_DOC });
    expect(again.status).toBe(200);
    expect(again.json.results[0]).toMatchObject({ outcome: 'unchanged', policy: { id: p.policy.id } });
    // Different content under the same name: 409, nothing replaced.
    const changed = structuredClone(POLICY_DOC);
    changed.securitypolicies[0]!.rules[0]!.ports = [8080];
    const conflict = await http(base, 'POST', '/policies', { body: changed });
    expect(conflict.status).toBe(409);
    expectErrorBody(conflict.json, 409, 'ALREADY_EXISTS');
    expect((await c.getPolicy('web-in')).ingress[0]!.rules[0]!.ports).toEqual([80, 443]);

    const v2 = await http(base, 'POST', '/policies', { body: [V2_POLICY] });
    expect(v2.status).toBe(201);
    expect(v2.json.results[0].policy).toMatchObject({ id: V2_POLICY.id, name: V2_POLICY.id, applied_to: [{ tenant: 'acme' }] });

    const invalid = await http(base, 'POST', '/policies', {
      body: { id: 'bad', direction: 'sideways', applied_to: [{ tenant_id: 'acme' }], ingress: [{ peers: [{ peer: 'any' }], rules: [{ protocol: 'tcp', ports: [0, 70000] }] }] },
    });
    expect(invalid.status).toBe(422);
    expectErrorBody(invalid.json, 422, 'VALIDATION_FAILED');
    const paths = invalid.json.details.problems.map((x: { path: string }) => x.path);
    expect(paths).toEqual(expect.arrayContaining(['$.direction', '$.ingress[0].rules[0].ports[0]', '$.ingress[0].rules[0].ports[1]']));

    const all = await c.listPolicies();
    expect(all.map((x) => x.name).sort()).toEqual(['kube.acme.allow-dns.1234', 'web-in']);
    expect((await c.listPoliciesDocumented()).securitypolicies).toHaveLength(2);
    expect((await c.getPolicy(p.policy.id)).name).toBe('web-in');
    const byName = await http(base, 'GET', '/policies/web-in');
    expect(byName.status).toBe(200);
    expect(byName.json.id).toBe(p.policy.id);
    const unknown = await http(base, 'GET', '/policies/nope');
    expect(unknown.status).toBe(404);
    expectErrorBody(unknown.json, 404, 'NOT_FOUND');

    // DELETE by body (the original CLI) and by path.
    const noBody = await http(base, 'DELETE', '/policies');
    expect(noBody.status).toBe(400);
    const noId = await http(base, 'DELETE', '/policies', { body: { foo: 1 } });
    expect(noId.status).toBe(422);
    const delBody = await http(base, 'DELETE', '/policies', { body: { id: V2_POLICY.id } });
    expect(delBody.status).toBe(200);
    expect(delBody.json.id).toBe(V2_POLICY.id);
    expect((await c.removePolicy('web-in')).id).toBe(p.policy.id);
    const again404 = await http(base, 'DELETE', `/policies/${p.policy.id}`);
    expect(again404.status).toBe(404);
    expect(await c.listPolicies()).toEqual([]);
  });

  it('shows a topology change with dryRun=true without making it, then makes it', async () => {
    const current = await c.getTopology();
    expect(current.networks[0]).toMatchObject({ name: 'romana-network', cidr: '10.112.0.0/12' });
    const withNet = {
      networks: [
        { name: 'romana-network', cidr: '10.112.0.0/12' },
        { name: 'extra', cidr: '10.200.0.0/16', block_mask: 28, tenants: ['special'] },
      ],
      topologies: [
        { networks: ['romana-network'], map: Array.from({ length: 8 }, (_, i) => ({ name: `host-group-0${i + 1}`, groups: [] })) },
        { networks: ['extra'], map: [{ name: 'rack-1', groups: [] }, { name: 'rack-2', groups: [] }] },
      ],
    };
    const dry = await c.updateTopology(withNet, { dryRun: true });
    expect(dry).toMatchObject({ dry_run: true, changed: true });
    expect(dry.diff.networksAdded).toEqual(['extra']);
    expect(dry.diff.hostsPlaced.map((h) => h.host).sort()).toEqual(['node-a', 'node-b']);
    expect((await c.listNetworks()).map((n) => n.name)).toEqual(['romana-network']);

    const real = await c.updateTopology(withNet);
    expect(real).toMatchObject({ dry_run: false, changed: true });
    expect((await c.listNetworks()).map((n) => n.name)).toEqual(['romana-network', 'extra']);
    expect((await c.updateTopology(withNet)).changed).toBe(false);
    // The tenant restricted to "extra" now gets its addresses there.
    expect(await c.allocate({ name: 'special-1', host: 'node-b', tenant: 'special' })).toMatch(/^10\.200\./);

    const invalid = await http(base, 'POST', '/topology?dryRun=true', {
      body: { networks: [{ name: 'n', cidr: '10.0.0.1/16' }, { name: 'n', cidr: '10.0.0.0/8' }], topologies: [] },
    });
    expect(invalid.status).toBe(422);
    expect(invalid.json.details.problems.length).toBeGreaterThanOrEqual(3);
    // Removing the network that holds special-1 would orphan it.
    const orphan = await http(base, 'POST', '/topology', { body: current });
    expect(orphan.status).toBe(409);
    expectErrorBody(orphan.json, 409, 'TOPOLOGY_CHANGE_ORPHANS');
    expect(orphan.json.message).toContain('extra');
    const badFlag = await http(base, 'POST', '/topology?dryRun=maybe', { body: withNet });
    expect(badFlag.status).toBe(400);
  });

  it('reports utilisation and manages reservations', async () => {
    const u = await c.utilisation();
    expect(u.networks.map((n) => n.network)).toEqual(['romana-network', 'extra']);
    expect(u.hosts.find((h) => h.host === 'node-b')!.allocated).toBeGreaterThanOrEqual(1);
    const res = await c.reserve('10.200.255.0/24', 'extra');
    expect(res).toEqual({ network: 'extra', cidr: '10.200.255.0/24' });
    expect((await c.listReservations()).reservations).toContainEqual(expect.objectContaining({ cidr: '10.200.255.0/24' }));
    await c.unreserve('10.200.255.0/24', 'extra');
    expect((await c.listReservations()).reservations).toEqual([]);
  });

  it('refreshes agent heartbeat leases for registered hosts only', async () => {
    const rev = (await c.listHosts()).revision;
    const hb = await c.heartbeat('node-a', 5);
    expect(hb).toMatchObject({ host: 'node-a', ttl_seconds: 5, renewed: true });
    const hb2 = await c.heartbeat('node-a', 5);
    expect(hb2).toMatchObject({ lease: hb.lease, renewed: false });
    await rejectsWith(c.heartbeat('ghost'), 'HOST_NOT_FOUND');
    await rejectsWith(c.heartbeat('node-a', 100000), 'INVALID_ARGUMENT');
    const events = await collect(c, rev, 1, 'leases/agents/');
    expect(events[0]).toMatchObject({ type: 'put', key: 'leases/agents/node-a', value: { host: 'node-a', ttlSeconds: 5 } });
  });

  it('streams exactly the changes after `since` as NDJSON, resumable', async () => {
    const raw = await http(base, 'GET', '/watch?since=abc');
    expect(raw.status).toBe(400);
    const ahead = await http(base, 'GET', '/watch?since=999999999');
    expect(ahead.status).toBe(400);

    const start = (await c.listTenants()).revision;
    const t0 = (await c.createTenant('w1')).tenant;
    await c.createTenant('w2');
    await c.deleteTenant('w1');
    const events = await collect(c, start, 3, 'tenants/');
    expect(events.map((e) => [e.type, e.key])).toEqual([
      ['put', 'tenants/w1'],
      ['put', 'tenants/w2'],
      ['delete', 'tenants/w1'],
    ]);
    expect(events[0]!.value).toEqual({ schema: 1, name: t0.name });
    expect(events[2]!.value).toBeNull();
    expect(events[0]!.revision).toBeGreaterThan(start);
    // Resume from the middle: only what came after.
    const rest = await collect(c, events[1]!.revision, 1, 'tenants/');
    expect(rest.map((e) => [e.type, e.key])).toEqual([['delete', 'tenants/w1']]);
    // A live stream sees new changes.
    const live = await c.watch({ prefix: 'tenants/' });
    const seen = (async () => {
      for await (const e of live) return e;
      return undefined;
    })();
    await c.createTenant('w3');
    expect(await seen).toMatchObject({ type: 'put', key: 'tenants/w3' });
    expect(live.startRevision).toBeGreaterThanOrEqual(events[2]!.revision);
  });

  it('ends a watch from compacted history with HISTORY_COMPACTED', async () => {
    const store = await openStore(backend.store());
    try {
      await c.createTenant('before-compaction');
      const now = await store.revision();
      await store.compact(now);
      const stream = await c.watch({ since: 1 });
      const err = await (async () => {
        try {
          for await (const e of stream) void e;
        } catch (e) {
          return e as RomanaError;
        }
        return undefined;
      })();
      expect(err?.code).toBe('HISTORY_COMPACTED');
      expect(err?.message).toContain('compacted');
      // From the current revision a watch works again.
      const fresh = await c.watch({ since: now, prefix: 'tenants/' });
      const next = (async () => {
        for await (const e of fresh) return e;
        return undefined;
      })();
      await c.createTenant('after-compaction');
      expect(await next).toMatchObject({ key: 'tenants/after-compaction' });
    } finally {
      await store.close();
    }
  });

  it('keeps its state across a restart and ignores the initial topology then', async () => {
    const before = {
      hosts: (await c.listHosts()).hosts.map((h) => h.name).sort(),
      addresses: (await c.listAddresses()).addresses,
      networks: (await c.listNetworks()).map((n) => n.name),
      tenants: (await c.listTenants()).tenants.map((t) => t.name).sort(),
    };
    expect(await d.stop()).toBe(0);
    const other = path.join(tempDir(), 'other.json');
    writeFileSync(other, JSON.stringify({ networks: [{ name: 'other', cidr: '10.50.0.0/16' }], topologies: [{ networks: ['other'], map: [{ groups: [] }] }] }));
    d = await startDaemon([...backend.args(), '--initial-network', other]);
    c = d.client();
    base = d.url();
    expect(d.logs.some((l) => /using the topology held by the store/.test(l.msg))).toBe(true);
    expect((await c.listHosts()).hosts.map((h) => h.name).sort()).toEqual(before.hosts);
    expect((await c.listAddresses()).addresses).toEqual(before.addresses);
    expect((await c.listNetworks()).map((n) => n.name)).toEqual(before.networks);
    expect((await c.listTenants()).tenants.map((t) => t.name).sort()).toEqual(before.tenants);
    // Allocation continues without handing out a held address.
    const ip = await c.allocate({ name: 'after-restart', host: 'node-b', tenant: 'special' });
    expect(before.addresses.map((a) => a.ip)).not.toContain(ip);
    await waitFor('readiness after restart', async () => (await c.readyz()).status === 'ready');
  });
});
