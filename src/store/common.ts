/**
 * Checks and errors shared by the store backends, so that both reject the
 * same inputs with the same codes and messages (the conformance suite relies
 * on it). Pure functions; no I/O.
 */
import { RomanaError } from '../core/errors.js';
import { MAX_TXN_OPS, type Compare, type TxnOp } from './store.js';

/** Rejects what etcd rejects: empty keys, a key written twice in one txn, bad revisions. */
export function validateTxn(compares: readonly Compare[], ops: readonly TxnOp[]): void {
  if (compares.length > MAX_TXN_OPS || ops.length > MAX_TXN_OPS) {
    throw new RomanaError(
      'INVALID_ARGUMENT',
      `Invalid transaction: ${compares.length} compares and ${ops.length} ops; at most ${MAX_TXN_OPS} of each fit in one transaction`,
    );
  }
  for (const c of compares) {
    checkKey(c.key);
    if (!Number.isSafeInteger(c.modRevision) || c.modRevision < 0) {
      throw new RomanaError('INVALID_ARGUMENT', `Invalid compare on "${c.key}": modRevision ${String(c.modRevision)} is not a non-negative integer`);
    }
  }
  const seen = new Set<string>();
  for (const op of ops) {
    checkKey(op.key);
    if (seen.has(op.key)) {
      throw new RomanaError('INVALID_ARGUMENT', `Invalid transaction: key "${op.key}" is written more than once`);
    }
    seen.add(op.key);
    if (op.op === 'put' && typeof op.value !== 'string') {
      throw new RomanaError('INVALID_ARGUMENT', `Invalid put of "${op.key}": value must be a string`);
    }
  }
}

export function checkKey(key: string): void {
  if (typeof key !== 'string' || key === '') {
    throw new RomanaError('INVALID_ARGUMENT', 'Invalid key: keys must be non-empty strings');
  }
}

export function checkTtl(ttlSeconds: number): void {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new RomanaError('INVALID_ARGUMENT', `Invalid lease TTL ${String(ttlSeconds)}: must be a positive number of seconds`);
  }
}

export function closedError(kind: string): RomanaError {
  return new RomanaError('STORE_UNAVAILABLE', `The ${kind} store is closed`);
}

export function leaseNotFound(id: string): RomanaError {
  return new RomanaError('NOT_FOUND', `Lease "${id}" not found: it expired or was revoked`, { resourceType: 'lease', resourceId: id });
}

/** The error a watch reports when the history it needs is gone (both backends). */
export function compactedError(prefix: string, sinceRevision: number, compactedRevision: number): RomanaError {
  return new RomanaError(
    'CONFLICT',
    `Watch of "${prefix}" cannot resume after revision ${sinceRevision}: history before revision ${compactedRevision} is compacted; re-read with range() and watch again from its revision`,
    { details: { prefix, sinceRevision, compactedRevision } },
  );
}
