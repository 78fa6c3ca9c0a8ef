/**
 * Routes for what the distributed firewall needs beyond the IPAM and
 * Romana policies: endpoints (pods with labels, IP, node, ports), namespace
 * labels (PUT /tenants/{name}), Kubernetes NetworkPolicies stored verbatim,
 * and a consistent snapshot of raw records (GET /snapshot) from which an
 * agent builds its view before following /watch.
 *
 * Access: endpoints are written by the CNI plugin with the agent token
 * ('endpoint'); namespace labels and NetworkPolicies by the listener or an
 * operator ('admin'); every read is 'read'.
 *
 * Concurrency rule: handlers hold no state; the services do the CAS work.
 */
import { RomanaError } from '../core/errors.js';
import type { DaemonRouter, DaemonServices } from './services.js';

/** Most prefixes one GET /snapshot may name. */
const MAX_SNAPSHOT_PREFIXES = 32;

function optionalQuery(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === '' ? undefined : v;
}

export function registerK8sRoutes(r: DaemonRouter, svc: DaemonServices): void {
  // ---- endpoints ----
  r.add('GET', '/endpoints', 'read', async (ctx) => {
    const filter: { node?: string; namespace?: string } = {};
    const node = optionalQuery(ctx.query, 'node');
    const namespace = optionalQuery(ctx.query, 'namespace');
    if (node !== undefined) filter.node = node;
    if (namespace !== undefined) filter.namespace = namespace;
    return { body: await svc.endpoints.list(filter) };
  });
  r.add('GET', '/endpoints/{namespace}/{pod}', 'read', async (ctx) => ({ body: await svc.endpoints.get(ctx.params.namespace!, ctx.params.pod!) }));
  r.add('PUT', '/endpoints/{namespace}/{pod}', 'endpoint', async (ctx) => {
    const out = await svc.endpoints.put(ctx.params.namespace!, ctx.params.pod!, await ctx.json());
    return { status: out.created ? 201 : 200, body: out.endpoint };
  });
  r.add('DELETE', '/endpoints/{namespace}/{pod}', 'endpoint', async (ctx) => ({
    body: await svc.endpoints.delete(ctx.params.namespace!, ctx.params.pod!),
  }));

  // ---- namespace labels ----
  r.add('PUT', '/tenants/{tenant}', 'admin', async (ctx) => {
    const body = await ctx.json();
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new RomanaError('INVALID_ARGUMENT', 'Invalid tenant: expected a JSON object {"labels": {...}}');
    }
    const o = body as Record<string, unknown>;
    if (o.name !== undefined && o.name !== ctx.params.tenant) {
      throw new RomanaError('INVALID_ARGUMENT', `Invalid tenant: "name" ${JSON.stringify(o.name)} differs from the path's ${JSON.stringify(ctx.params.tenant)}`);
    }
    const out = await svc.tenants.putTenant(ctx.params.tenant!, o.labels ?? {});
    return { status: out.created ? 201 : 200, body: out.tenant };
  });

  // ---- Kubernetes NetworkPolicies ----
  r.add('GET', '/k8s/networkpolicies', 'read', async (ctx) => ({ body: await svc.netpols.list(optionalQuery(ctx.query, 'namespace')) }));
  r.add('GET', '/k8s/networkpolicies/{namespace}/{name}', 'read', async (ctx) => ({
    body: await svc.netpols.get(ctx.params.namespace!, ctx.params.name!),
  }));
  r.add('PUT', '/k8s/networkpolicies/{namespace}/{name}', 'admin', async (ctx) => {
    const out = await svc.netpols.put(ctx.params.namespace!, ctx.params.name!, await ctx.json());
    return { status: out.created ? 201 : 200, body: out.object };
  });
  r.add('DELETE', '/k8s/networkpolicies/{namespace}/{name}', 'admin', async (ctx) => ({
    body: await svc.netpols.delete(ctx.params.namespace!, ctx.params.name!),
  }));

  // ---- raw snapshot for watchers ----
  r.add('GET', '/snapshot', 'read', async (ctx) => {
    const prefixes = ctx.query.getAll('prefix');
    if (prefixes.length > MAX_SNAPSHOT_PREFIXES) {
      throw new RomanaError('INVALID_ARGUMENT', `Too many prefixes: ${prefixes.length}; at most ${MAX_SNAPSHOT_PREFIXES}`);
    }
    for (const p of prefixes) {
      if (p.startsWith('/')) {
        throw new RomanaError('INVALID_ARGUMENT', `Invalid prefix ${JSON.stringify(p)}: keys are relative to the store prefix (e.g. "blocks/")`, {
          details: { field: 'prefix', value: p },
        });
      }
    }
    // Each prefix is one consistent range; answering the lowest of their
    // revisions makes `watch since=revision` replay whatever a later range
    // already saw, which a level-triggered reader absorbs (puts and deletes
    // replayed in order converge on the current value).
    const wanted = prefixes.length === 0 ? [''] : [...new Set(prefixes)];
    const ranges = await Promise.all(wanted.map((p) => svc.store.range(p)));
    const seen = new Set<string>();
    const records: Array<{ key: string; value: unknown; mod_revision: number }> = [];
    for (const rr of ranges) {
      for (const kv of rr.kvs) {
        if (seen.has(kv.key)) continue; // overlapping prefixes
        seen.add(kv.key);
        let value: unknown;
        try {
          value = JSON.parse(kv.value);
        } catch {
          value = kv.value;
        }
        records.push({ key: kv.key, value, mod_revision: kv.modRevision });
      }
    }
    return { body: { revision: Math.min(...ranges.map((x) => x.revision)), records } };
  });
}
