/**
 * Policies in the store (policies/<id>): add, list, show and delete, by id
 * or by name everywhere (src/core/policy does the parsing, validation and
 * the "same or conflicting" decisions; this module does the I/O).
 *
 * Rules (reference §12 item 5 fixed):
 * - A POST is all-or-nothing: every problem of every policy in the document
 *   is listed (422) and nothing is stored; a policy whose id or name is taken
 *   by different content is 409 and nothing is stored; the same content
 *   posted again is a no-op (`unchanged`). Ids are generated
 *   (crypto.randomUUID) for policies written without one.
 * - Deleting by reference resolves it like GET does (id first, then name).
 *
 * Concurrency rule: writes are one compare-and-swap transaction on the keys
 * they create (must not exist) or delete (unchanged since read); a lost race
 * re-reads and decides again. Name uniqueness across *different* ids is
 * checked against the snapshot only: two replicas creating the same new
 * name under two ids in the same instant can both succeed (references by
 * that name then answer "ambiguous, use an id").
 */
import { randomUUID } from 'node:crypto';
import { RomanaError, validationError } from '../core/errors.js';
import { parsePolicyDocument, planPolicyAdds, resolvePolicyRef, type RomanaPolicy } from '../core/policy/index.js';
import { MAX_TXN_OPS, type KeyValue, type Store } from '../store/store.js';
import { decodePolicyRecord, encodePolicyRecord, policyKey, POLICIES_PREFIX } from '../shared/records.js';

const ATTEMPTS = 5;

export interface PolicyAddResult {
  outcome: 'created' | 'unchanged';
  policy: RomanaPolicy;
}

interface Stored {
  policy: RomanaPolicy;
  kv: KeyValue;
}

export class PolicyService {
  constructor(
    private readonly store: Store,
    private readonly newId: () => string = randomUUID,
  ) {}

  async add(body: unknown): Promise<PolicyAddResult[]> {
    if (body === undefined) throw new RomanaError('INVALID_ARGUMENT', 'POST /policies needs a body: a policy, a list of policies or {"securitypolicies": [...]}');
    const parsed = parsePolicyDocument(body, { newId: this.newId });
    if (parsed.problems.length > 0) throw validationError('policy', parsed.problems);
    // All-or-nothing needs one transaction, and a transaction holds at most MAX_TXN_OPS writes.
    if (parsed.policies.length > MAX_TXN_OPS) {
      throw new RomanaError('INVALID_ARGUMENT', `Too many policies in one request: ${parsed.policies.length}; at most ${MAX_TXN_OPS}`, {
        details: { count: parsed.policies.length, limit: MAX_TXN_OPS },
      });
    }
    for (let i = 0; i < ATTEMPTS; i++) {
      const stored = await this.snapshot();
      const plan = planPolicyAdds(
        stored.map((s) => s.policy),
        parsed,
      );
      const conflicts = plan.filter((o) => o.kind === 'conflict');
      if (conflicts.length > 0) {
        const first = conflicts[0]!;
        if (first.kind !== 'conflict') throw new Error('unreachable');
        throw new RomanaError('ALREADY_EXISTS', conflicts.length === 1 ? first.error.message : `${first.error.message} (and ${conflicts.length - 1} more conflict(s))`, {
          resourceType: 'policy',
          resourceId: first.existing.id,
          details: {
            conflicts: conflicts.map((c) => (c.kind === 'conflict' ? { id: c.policy.id, name: c.policy.name, existing: c.existing.id, message: c.error.message } : null)),
          },
        });
      }
      const creates = plan.filter((o) => o.kind === 'create').map((o) => o.policy);
      if (creates.length > 0) {
        const r = await this.store.txn(
          creates.map((p) => ({ key: policyKey(p.id), modRevision: 0 })),
          creates.map((p) => ({ op: 'put' as const, key: policyKey(p.id), value: encodePolicyRecord(p) })),
        );
        if (!r.succeeded) continue;
      }
      return plan.map((o) => (o.kind === 'create' ? { outcome: 'created', policy: o.policy } : { outcome: 'unchanged', policy: o.kind === 'unchanged' ? o.existing : o.policy }));
    }
    throw new RomanaError('CONFLICT', `Could not store the policies: the policy set changed concurrently ${ATTEMPTS} times; retry`);
  }

  async list(): Promise<RomanaPolicy[]> {
    return (await this.snapshot()).map((s) => s.policy);
  }

  async get(ref: string): Promise<RomanaPolicy> {
    return resolvePolicyRef(await this.list(), ref);
  }

  /** Deletes the policy `ref` names (id or name); returns it. */
  async delete(ref: string): Promise<RomanaPolicy> {
    for (let i = 0; i < ATTEMPTS; i++) {
      const stored = await this.snapshot();
      const p = resolvePolicyRef(
        stored.map((s) => s.policy),
        ref,
      );
      const kv = stored.find((s) => s.policy.id === p.id)!.kv;
      const r = await this.store.txn([{ key: kv.key, modRevision: kv.modRevision }], [{ op: 'delete', key: kv.key }]);
      if (r.succeeded) return p;
    }
    throw new RomanaError('CONFLICT', `Could not delete policy ${JSON.stringify(ref)}: it changed concurrently ${ATTEMPTS} times; retry`);
  }

  private async snapshot(): Promise<Stored[]> {
    const r = await this.store.range(POLICIES_PREFIX);
    return r.kvs.map((kv) => ({ policy: decodePolicyRecord(kv.key, kv.value), kv }));
  }
}
