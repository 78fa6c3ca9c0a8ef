/**
 * Tenant, segment and policy routes (the seed CLI's `tenant`, `segment` and
 * `policy` commands). Policies are referred to by id or name everywhere;
 * DELETE /policies with a body {"id": ref} is kept for the original CLI.
 *
 * Concurrency rule: handlers hold no state; services do the CAS work.
 */
import { RomanaError } from '../core/errors.js';
import { policiesToDocument } from '../core/policy/index.js';
import type { DaemonRouter, DaemonServices } from './services.js';

function nameFromBody(body: unknown, what: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RomanaError('INVALID_ARGUMENT', `Invalid ${what}: expected a JSON object {"name": ...}`);
  }
  return (body as Record<string, unknown>).name;
}

export function registerAdminRoutes(r: DaemonRouter, svc: DaemonServices): void {
  // ---- tenants ----
  r.add('GET', '/tenants', 'read', async () => ({ body: await svc.tenants.listTenants() }));
  r.add('POST', '/tenants', 'admin', async (ctx) => {
    const out = await svc.tenants.createTenant(nameFromBody(await ctx.json(), 'tenant'));
    return { status: out.created ? 201 : 200, body: out.tenant };
  });
  r.add('GET', '/tenants/{tenant}', 'read', async (ctx) => ({ body: await svc.tenants.getTenant(ctx.params.tenant!) }));
  r.add('DELETE', '/tenants/{tenant}', 'admin', async (ctx) => ({ body: await svc.tenants.deleteTenant(ctx.params.tenant!) }));

  // ---- segments ----
  r.add('GET', '/tenants/{tenant}/segments', 'read', async (ctx) => ({ body: await svc.tenants.listSegments(ctx.params.tenant!) }));
  r.add('POST', '/tenants/{tenant}/segments', 'admin', async (ctx) => {
    const out = await svc.tenants.createSegment(ctx.params.tenant!, nameFromBody(await ctx.json(), 'segment'));
    return { status: out.created ? 201 : 200, body: out.segment };
  });
  r.add('GET', '/tenants/{tenant}/segments/{segment}', 'read', async (ctx) => ({
    body: await svc.tenants.getSegment(ctx.params.tenant!, ctx.params.segment!),
  }));
  r.add('DELETE', '/tenants/{tenant}/segments/{segment}', 'admin', async (ctx) => ({
    body: await svc.tenants.deleteSegment(ctx.params.tenant!, ctx.params.segment!),
  }));

  // ---- policies ----
  r.add('GET', '/policies', 'read', async (ctx) => {
    const list = await svc.policies.list();
    const format = ctx.query.get('format');
    if (format === 'documented') return { body: policiesToDocument(list) };
    if (format !== null && format !== 'canonical') {
      throw new RomanaError('INVALID_ARGUMENT', `Invalid format ${JSON.stringify(format)}: must be "canonical" or "documented"`, {
        details: { field: 'format', value: format },
      });
    }
    // The original's format: a JSON list of policies.
    return { body: list };
  });
  r.add('POST', '/policies', 'admin', async (ctx) => {
    const results = await svc.policies.add(await ctx.json());
    return { status: results.some((x) => x.outcome === 'created') ? 201 : 200, body: { results } };
  });
  r.add('GET', '/policies/{policy}', 'read', async (ctx) => ({ body: await svc.policies.get(ctx.params.policy!) }));
  r.add('DELETE', '/policies/{policy}', 'admin', async (ctx) => ({ body: await svc.policies.delete(ctx.params.policy!) }));
  r.add('DELETE', '/policies', 'admin', async (ctx) => {
    const body = await ctx.json();
    if (body === undefined) {
      throw new RomanaError('INVALID_ARGUMENT', 'Request must either be to /policies/{policy} or have a body {"id": "<policy id or name>"}');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new RomanaError('INVALID_ARGUMENT', 'Invalid body: expected a JSON object {"id": "<policy id or name>"}');
    }
    const o = body as Record<string, unknown>;
    const ref = o.id ?? o.name;
    if (typeof ref !== 'string' || ref === '') {
      throw new RomanaError('VALIDATION_FAILED', `Policy id not found in input: "id" must be a non-empty string, got ${JSON.stringify(ref ?? null)}`, {
        details: { problems: [{ path: '$.id', value: ref ?? null, message: 'Required: the id or name of the policy to delete' }] },
      });
    }
    return { body: await svc.policies.delete(ref) };
  });
}
