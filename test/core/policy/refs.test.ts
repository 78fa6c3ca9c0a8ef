// Policy references (id or name) and the plan for POST /policies: same
// content is a no-op, different content under a used id or name is a 409.
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, RomanaError } from '../../../src/core/errors.js';
import { parsePolicyDocument, planPolicyAdds, resolvePolicyRef, type RomanaPolicy } from '../../../src/core/policy/index.js';
import { basePolicy, counterIds } from './helpers.js';

function stored(id: string, name: string, port = 80): RomanaPolicy {
  return {
    id,
    name,
    direction: 'ingress',
    applied_to: [{ tenant: 't1' }],
    ingress: [{ peers: [{ peer: 'any' }], rules: [{ protocol: 'tcp', ports: [port] }] }],
  };
}

function thrown(f: () => unknown): RomanaError {
  try {
    f();
  } catch (e) {
    if (e instanceof RomanaError) return e;
    throw e;
  }
  throw new Error('expected a RomanaError');
}

describe('resolvePolicyRef', () => {
  const policies = [stored('id-1', 'web'), stored('id-2', 'db'), stored('id-3', 'db'), stored('web-id', 'id-1')];

  it('finds by id first, then by name', () => {
    expect(resolvePolicyRef(policies, 'id-2').id).toBe('id-2');
    expect(resolvePolicyRef(policies, 'web').id).toBe('id-1');
    // "id-1" is the id of one policy and the name of another: the id wins, ids being unique.
    expect(resolvePolicyRef(policies, 'id-1').id).toBe('id-1');
  });

  it('reports an unknown reference as NOT_FOUND', () => {
    const e = thrown(() => resolvePolicyRef(policies, 'nope'));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toBe('No policy has the id or name "nope"');
    expect([e.resourceType, e.resourceId]).toEqual(['policy', 'nope']);
  });

  it('refuses a name that several policies carry, listing their ids', () => {
    const e = thrown(() => resolvePolicyRef(policies, 'db'));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('Policy name "db" is ambiguous: it matches ids "id-2", "id-3"; use an id');
    expect(e.details).toEqual({ ids: ['id-2', 'id-3'] });
  });
});

describe('planPolicyAdds', () => {
  const existing = [stored('id-1', 'web'), stored('kube.ns.p.uid', 'kube.ns.p.uid')];

  function plan(body: unknown) {
    const parsed = parsePolicyDocument(body, { newId: counterIds().newId });
    expect(parsed.problems).toEqual([]);
    return planPolicyAdds(existing, parsed);
  }

  it('creates what uses no stored id or name', () => {
    const [o] = plan({ ...basePolicy(), name: 'new' });
    expect(o).toMatchObject({ kind: 'create', policy: { id: 'gen-1', name: 'new' } });
  });

  it('is a no-op for the same documented policy posted again (its id is generated anew)', () => {
    const [o] = plan({ ...basePolicy(), name: 'web' });
    expect(o?.kind).toBe('unchanged');
    expect(o?.kind === 'unchanged' && o.existing.id).toBe('id-1');
  });

  it('is a no-op for the same v2 policy posted again by id', () => {
    const again = { id: 'kube.ns.p.uid', direction: 'ingress', applied_to: [{ tenant_id: 't1' }], ingress: [{ peers: [{ peer: 'any' }], rules: [{ protocol: 'TCP', ports: [80, 80] }] }] };
    expect(plan(again)[0]?.kind).toBe('unchanged');
  });

  it('conflicts (409) on different content under a stored name, naming the stored policy', () => {
    const [o] = plan({ ...basePolicy(), name: 'web', rules: [{ protocol: 'tcp', ports: [443] }] });
    expect(o?.kind).toBe('conflict');
    if (o?.kind !== 'conflict') return;
    expect(o.existing.id).toBe('id-1');
    expect(o.error.code).toBe('ALREADY_EXISTS');
    expect(ERROR_CATALOGUE[o.error.code].status).toBe(409);
    expect(o.error.message).toBe('A policy named "web" already exists (id "id-1") with different content');
    expect([o.error.resourceType, o.error.resourceId]).toEqual(['policy', 'id-1']);
  });

  it('conflicts on different content under a stored id (never the original upsert)', () => {
    const [o] = plan({ id: 'kube.ns.p.uid', direction: 'ingress', applied_to: [{ tenant_id: 't1' }], peers: [{ peer: 'any' }], rules: [{ protocol: 'udp' }] });
    expect(o?.kind === 'conflict' && o.error.message).toBe('Policy "kube.ns.p.uid" already exists with different content');
  });

  it('conflicts when the same id comes with another name', () => {
    const [o] = plan({ ...basePolicy(), id: 'id-1', name: 'web2' });
    expect(o?.kind === 'conflict' && o.error.message).toBe('Policy "id-1" already exists with the name "web", not "web2"');
  });

  it('conflicts when a new policy would take another policy\'s id as its name, or its name as its id', () => {
    const [byName] = plan({ ...basePolicy(), name: 'id-1' });
    expect(byName?.kind === 'conflict' && byName.error.message).toBe('"id-1" is already the id or name of policy "id-1" (name "web")');
    const [byId] = plan({ ...basePolicy(), id: 'web', name: 'other' });
    expect(byId?.kind === 'conflict' && byId.error.message).toBe('"web" is already the id or name of policy "id-1" (name "web")');
    // Same content as "web" does not help: the id "web" would shadow the name "web" for references.
    const [sameContent] = plan({ ...basePolicy(), id: 'web', name: 'web' });
    expect(sameContent?.kind).toBe('conflict');
  });

  it('plans each policy of a document on its own', () => {
    const kinds = plan([{ ...basePolicy(), name: 'web' }, { ...basePolicy(), name: 'fresh' }, { ...basePolicy(), name: undefined, id: 'kube.ns.p.uid', rules: [{ protocol: 'any' }] }]).map((o) => o.kind);
    expect(kinds).toEqual(['unchanged', 'create', 'conflict']);
  });
});
