/**
 * IPAM routes: hosts, networks, blocks, addresses, reservations, topology,
 * utilisation. Everything the original served (reference §2) with its
 * formats, plus hosts by name, address listing, dry-run topology changes
 * and heartbeats.
 *
 * Reads answer from this replica's IPAM cache (kept current by the store
 * watch); writes go through IpamService (one CAS transaction each).
 *
 * Concurrency rule: handlers hold no state between requests.
 */
import { isRomanaError, RomanaError, validationError } from '../core/errors.js';
import { DEFAULT_AGENT_PORT, RESERVATIONS_PREFIX, type AddHostRequest, type HostRecord, type ReservationRecord } from '../core/ipam/index.js';
import { carveTopology, topologyToOutput, validateTopology, type HostInput, type TopologyInput } from '../core/topology/index.js';
import type { RequestContext } from '../shared/http_server.js';
import type { Access } from './auth.js';
import { resultOf } from './metrics.js';
import type { DaemonRouter, DaemonServices } from './services.js';
import { addressJson, blockJson, hostJson, hostRecordJson, networkJson, utilisationJson, type HostJson } from './wire.js';

function asObject(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const got = body === undefined ? 'no body' : Array.isArray(body) ? 'a list' : body === null ? 'null' : `a ${typeof body}`;
    throw new RomanaError('INVALID_ARGUMENT', `Invalid ${what}: expected a JSON object, got ${got}`);
  }
  return body as Record<string, unknown>;
}

function optionalString(obj: Record<string, unknown>, field: string, what: string): string | undefined {
  const v = obj[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    throw new RomanaError('INVALID_ARGUMENT', `Invalid ${what} field "${field}" ${JSON.stringify(v)}: must be a string`, { details: { field, value: v } });
  }
  return v;
}

function queryFilter(q: URLSearchParams, fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    const v = q.get(f);
    if (v !== null && v !== '') out[f] = v;
  }
  return out;
}

function boolQuery(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === 'false' || v === '0') return false;
  if (v === '' || v === 'true' || v === '1') return true;
  throw new RomanaError('INVALID_ARGUMENT', `Invalid ${name} ${JSON.stringify(v)}: must be true or false`, { details: { field: name, value: v } });
}

function hostNotFound(name: string): RomanaError {
  return new RomanaError('HOST_NOT_FOUND', `Host ${JSON.stringify(name)} is not registered`, { resourceType: 'host', resourceId: name });
}

/** Body of POST /hosts: the original's {name, ip, agent_port, tags, k8s_info}; `labels` accepted for `tags`. */
export function parseHostBody(body: unknown): AddHostRequest {
  const o = asObject(body, 'host');
  const name = o.name;
  const ip = o.ip;
  if (name === undefined || name === '') throw new RomanaError('INVALID_ARGUMENT', 'Invalid host: "name" is required', { details: { field: 'name', value: name ?? null } });
  if (ip === undefined || ip === '') throw new RomanaError('INVALID_ARGUMENT', `Invalid host ${JSON.stringify(name)}: "ip" is required`, { details: { field: 'ip', value: ip ?? null } });
  const tags = o.tags ?? null;
  const labels = o.labels ?? null;
  if (tags !== null && labels !== null && JSON.stringify(tags) !== JSON.stringify(labels)) {
    throw new RomanaError('INVALID_ARGUMENT', `Invalid host ${JSON.stringify(name)}: "tags" and "labels" differ; give one of them`);
  }
  const agentPort = o.agent_port ?? o.agentPort;
  const req: AddHostRequest = { name: name as string, ip: ip as string, labels: (labels ?? tags ?? {}) as Record<string, string> };
  // The original sent agent_port 0 for "default".
  if (agentPort !== undefined && agentPort !== null && agentPort !== 0) req.agentPort = agentPort as number;
  return req;
}

function sameHost(existing: HostRecord, req: AddHostRequest): string[] {
  const diffs: string[] = [];
  if (existing.ip !== req.ip) diffs.push(`ip ${existing.ip} (requested ${JSON.stringify(req.ip)})`);
  const a = JSON.stringify(Object.entries(existing.labels).sort());
  const b = JSON.stringify(Object.entries(req.labels ?? {}).sort());
  if (a !== b) diffs.push(`tags ${JSON.stringify(existing.labels)} (requested ${JSON.stringify(req.labels ?? {})})`);
  const port = existing.agentPort ?? DEFAULT_AGENT_PORT;
  const want = req.agentPort ?? DEFAULT_AGENT_PORT;
  if (port !== want) diffs.push(`agent_port ${port} (requested ${JSON.stringify(want)})`);
  return diffs;
}

function hostView(svc: DaemonServices, name: string): HostJson | undefined {
  const v = svc.ipam.hosts().find((h) => h.name === name);
  return v ? hostJson(v) : undefined;
}

/** POST /hosts: 201 created, 200 when the identical host exists, 409 when the name or IP is taken otherwise. */
async function addHost(svc: DaemonServices, ctx: RequestContext<Access>): Promise<{ status: number; body: HostJson }> {
  const req = parseHostBody(await ctx.json());
  const identical = (): { status: number; body: HostJson } | undefined => {
    const existing = svc.ipam.host(req.name);
    if (!existing) return undefined;
    const diffs = sameHost(existing, req);
    if (diffs.length === 0) return { status: 200, body: hostView(svc, req.name) ?? hostRecordJson(existing) };
    throw new RomanaError('HOST_EXISTS', `Host ${JSON.stringify(req.name)} already exists with different attributes: ${diffs.join('; ')}`, {
      resourceType: 'host',
      resourceId: req.name,
      details: { differences: diffs },
    });
  };
  const same = identical();
  if (same) return same;
  try {
    const rec = await svc.ipam.addHost(req);
    return { status: 201, body: hostView(svc, rec.name) ?? hostRecordJson(rec) };
  } catch (e) {
    // Lost a race to an identical registration (another replica, a retry): answer like a repeat.
    if (isRomanaError(e) && e.code === 'HOST_EXISTS') {
      const again = identical();
      if (again) return again;
    }
    throw e;
  }
}

function hostsForLeafIndex(svc: DaemonServices): (network: string, path: string) => HostInput[] {
  const idx = new Map<string, HostInput[]>();
  for (const h of svc.ipam.hosts()) {
    for (const g of h.groups) {
      const k = `${g.network}\u0000${g.group}`;
      let list = idx.get(k);
      if (!list) idx.set(k, (list = []));
      list.push({ name: h.name, ip: h.ip });
    }
  }
  return (network, path) => idx.get(`${network}\u0000${path}`) ?? [];
}

export function registerIpamRoutes(r: DaemonRouter, svc: DaemonServices): void {
  // ---- hosts ----
  r.add('GET', '/hosts', 'read', async () => ({ body: { hosts: svc.ipam.hosts().map(hostJson), revision: svc.ipam.revision } }));
  r.add('POST', '/hosts', 'admin', (ctx) => addHost(svc, ctx));
  r.add('GET', '/hosts/{name}', 'read', async (ctx) => {
    const h = hostView(svc, ctx.params.name!);
    if (!h) throw hostNotFound(ctx.params.name!);
    return { body: h };
  });
  r.add('DELETE', '/hosts/{name}', 'admin', async (ctx) => {
    const name = ctx.params.name!;
    const before = hostView(svc, name);
    if (!before) throw hostNotFound(name);
    const released = await svc.ipam.removeHost(name);
    return { body: { host: before, released: released.map(addressJson) } };
  });
  r.add('PUT', '/hosts/{name}/tags', 'admin', async (ctx) => {
    const name = ctx.params.name!;
    const o = asObject(await ctx.json(), 'tags');
    // Accept {"tags": {...}}, {"labels": {...}} or the map itself.
    const labels = (o.tags ?? o.labels ?? o) as Record<string, string>;
    const rec = await svc.ipam.updateHostLabels(name, labels);
    return { body: hostView(svc, name) ?? hostRecordJson(rec) };
  });
  r.add('POST', '/hosts/{name}/heartbeat', 'heartbeat', async (ctx) => {
    const body = await ctx.json();
    const ttl = body === undefined ? undefined : asObject(body, 'heartbeat').ttl_seconds;
    return { body: await svc.heartbeats.heartbeat(ctx.params.name!, ttl ?? undefined) };
  });

  // ---- networks and blocks ----
  r.add('GET', '/networks', 'read', async () => {
    const blocks = svc.ipam.blocks();
    return {
      body: svc.ipam.carvedTopology().networks.map((n) => {
        const mine = blocks.filter((b) => b.network === n.name);
        return networkJson(
          n,
          mine.reduce((m, b) => Math.max(m, b.revision), 0),
          mine.length,
          mine.reduce((s, b) => s + b.used, 0),
        );
      }),
    };
  });
  r.add('GET', '/networks/{network}/blocks', 'read', async (ctx) => {
    const network = ctx.params.network!;
    if (!svc.ipam.carvedTopology().networks.some((n) => n.name === network)) {
      throw new RomanaError('NETWORK_NOT_FOUND', `Network ${JSON.stringify(network)} is not defined`, { resourceType: 'network', resourceId: network });
    }
    const blocks = svc.ipam.blocks({ network });
    return { body: { revision: blocks.reduce((m, b) => Math.max(m, b.revision), 0), blocks: blocks.map(blockJson) } };
  });
  r.add('GET', '/blocks', 'read', async (ctx) => {
    const filter = queryFilter(ctx.query, ['network', 'host', 'tenant', 'segment']);
    return { body: { revision: svc.ipam.revision, blocks: svc.ipam.blocks(filter).map(blockJson) } };
  });

  // ---- addresses ----
  r.add('POST', '/address', 'allocate', async (ctx) => {
    try {
      const o = asObject(await ctx.json(), 'address request');
      const a = await svc.ipam.allocate({
        name: o.name as string,
        host: o.host as string,
        tenant: optionalString(o, 'tenant', 'address request') ?? '',
        segment: optionalString(o, 'segment', 'address request') ?? '',
      });
      svc.metrics.allocation('ok');
      // The original's format: the address as a JSON string.
      return { body: a.ip };
    } catch (e) {
      svc.metrics.allocation(resultOf(e));
      throw e;
    }
  });
  r.add('DELETE', '/address', 'allocate', async (ctx) => {
    const ref = ctx.query.get('addressName');
    try {
      if (ref === null || ref === '') {
        throw new RomanaError('INVALID_ARGUMENT', 'Query parameter "addressName" (an address name or IP) is required', { details: { field: 'addressName' } });
      }
      const released = await svc.ipam.release(ref);
      svc.metrics.release('ok');
      return { body: addressJson(released) };
    } catch (e) {
      svc.metrics.release(resultOf(e));
      throw e;
    }
  });
  r.add('GET', '/addresses', 'read', async (ctx) => {
    const filter = queryFilter(ctx.query, ['network', 'host', 'tenant', 'segment']);
    return { body: { revision: svc.ipam.revision, addresses: svc.ipam.addresses(filter).map(addressJson) } };
  });
  r.add('GET', '/addresses/{name}', 'read', async (ctx) => {
    const name = ctx.params.name!;
    const a = svc.ipam.address(name);
    if (!a) throw new RomanaError('ADDRESS_NOT_FOUND', `No address named ${JSON.stringify(name)} is allocated`, { resourceType: 'address', resourceId: name });
    return { body: addressJson(a) };
  });

  // ---- reservations (blackout) ----
  r.add('GET', '/reservations', 'read', async () => {
    const list = svc.ipam
      .records()
      .filter((e) => e.key.startsWith(RESERVATIONS_PREFIX))
      .map((e) => {
        const v = e.value as ReservationRecord;
        return { network: v.network, cidr: v.cidr, revision: e.revision };
      });
    return { body: { revision: svc.ipam.revision, reservations: list } };
  });
  r.add('POST', '/reservations', 'admin', async (ctx) => {
    const o = asObject(await ctx.json(), 'reservation');
    const network = optionalString(o, 'network', 'reservation');
    const cidr = optionalString(o, 'cidr', 'reservation');
    if (cidr === undefined) throw new RomanaError('INVALID_ARGUMENT', 'Invalid reservation: "cidr" is required', { details: { field: 'cidr' } });
    const rec = await svc.ipam.reserve(network, cidr);
    return { status: 201, body: { network: rec.network, cidr: rec.cidr } };
  });
  r.add('DELETE', '/reservations', 'admin', async (ctx) => {
    const cidr = ctx.query.get('cidr');
    if (cidr === null || cidr === '') throw new RomanaError('INVALID_ARGUMENT', 'Query parameter "cidr" is required', { details: { field: 'cidr' } });
    const network = ctx.query.get('network') ?? undefined;
    await svc.ipam.unreserve(network === '' ? undefined : network, cidr);
    return { body: { network: network ?? null, cidr } };
  });

  // ---- topology ----
  r.add('GET', '/topology', 'read', async () => {
    if (!svc.ipam.topology()) throw new RomanaError('NOT_FOUND', 'No topology is installed yet', { resourceType: 'topology' });
    const hostsFor = hostsForLeafIndex(svc);
    return { body: topologyToOutput(svc.ipam.carvedTopology(), { hostsForLeaf: (n, leaf) => hostsFor(n.name, leaf.path) }) };
  });
  r.add('POST', '/topology', 'admin', async (ctx) => {
    const dryRun = boolQuery(ctx.query, 'dryRun');
    const body = await ctx.json();
    if (body === undefined) throw new RomanaError('INVALID_ARGUMENT', 'POST /topology needs a body: the topology JSON');
    const svcRange = svc.config.serviceClusterIpRange;
    const problems = validateTopology(body, svcRange === null ? {} : { serviceCidr: svcRange });
    if (problems.length > 0) throw validationError('topology', problems);
    const input = body as TopologyInput;
    const carved = carveTopology(input);
    const current = svc.ipam.topology();
    const changed = current === undefined || JSON.stringify(current.input) !== JSON.stringify(input);
    const diff = dryRun ? await svc.ipam.previewTopology(input, carved) : await svc.ipam.setTopology(input, carved);
    return { body: { dry_run: dryRun, changed, diff, revision: svc.ipam.revision } };
  });

  // ---- utilisation (CLI `ipam show`) ----
  r.add('GET', '/ipam/utilisation', 'read', async () => ({ body: utilisationJson(svc.ipam.utilisation()) }));
}
