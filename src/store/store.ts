/**
 * The storage interface (DESIGN §2). Small on purpose: get, range by prefix,
 * multi-key compare-and-swap transactions, watch from a revision, leases.
 * Two backends implement it (embedded SQLite, etcd v3) and pass one shared
 * conformance suite (test/store/conformance.ts).
 *
 * Keys are relative to the backend's prefix (default "/romana"); values are
 * strings (JSON text). Revisions are a single global, strictly increasing
 * counter per store: every committed write gets a new one.
 *
 * Concurrency rule: a Store may be used concurrently by many callers in one
 * process and by several processes at once; atomicity comes only from txn().
 */

export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the last write to this key. */
  modRevision: number;
  /** Revision at which the key was created. */
  createRevision: number;
  /** Number of writes since creation (1 after create). */
  version: number;
  /** Lease id the key is attached to, when any. */
  lease?: string;
}

/** Compare on a key's modRevision; 0 means "the key must not exist". */
export interface Compare {
  key: string;
  modRevision: number;
}

export type TxnOp =
  | { op: 'put'; key: string; value: string; lease?: string }
  | { op: 'delete'; key: string };

export interface TxnResult {
  succeeded: boolean;
  /** Store revision after the transaction (unchanged when it failed). */
  revision: number;
}

export interface RangeResult {
  kvs: KeyValue[];
  /** Store revision at which the range was read (use it as `since` for a watch). */
  revision: number;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  key: string;
  /** Present for put. */
  value?: string;
  /** Revision of this change. */
  revision: number;
}

export interface Watch {
  /** Stops delivery; resolves when no more events will be delivered. */
  close(): Promise<void>;
}

export interface Lease {
  id: string;
  ttlSeconds: number;
  /** Refreshes the TTL; rejects with NOT_FOUND when the lease has expired. */
  keepAlive(): Promise<void>;
  /** Deletes the lease and every key attached to it. */
  revoke(): Promise<void>;
}

export interface Store {
  readonly kind: 'embedded' | 'etcd';
  get(key: string): Promise<KeyValue | null>;
  /** Keys starting with `prefix`, sorted by key. */
  range(prefix: string): Promise<RangeResult>;
  /** All compares must hold for the ops to apply, atomically. */
  txn(compares: Compare[], ops: TxnOp[]): Promise<TxnResult>;
  /**
   * Delivers, in revision order, every change under `prefix` with revision
   * > `sinceRevision`, then live changes. `onError` gets e.g. a compacted
   * history (code CONFLICT): the caller then re-ranges and re-watches.
   * The changes of one txn share its revision. Events are delivered
   * asynchronously, never inside a writer's call; a consumer that falls far
   * behind gets onError (CONFLICT) rather than unbounded buffering. After
   * onError the watch is over (no more events).
   */
  watch(prefix: string, sinceRevision: number, onEvent: (e: WatchEvent) => void, onError?: (e: Error) => void): Promise<Watch>;
  /** etcd rounds the TTL up to whole seconds and to its minimum (2 s by default); see Lease.ttlSeconds. */
  grantLease(ttlSeconds: number): Promise<Lease>;
  /** Current store revision. */
  revision(): Promise<number>;
  /**
   * Discards change history before `revision` (watches from an older
   * `sinceRevision` then get the compacted-history error). Keys' current
   * values are kept. Compacting at or below an earlier compaction is a no-op.
   */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Most compares, and most ops, one txn may carry: etcd's default
 * `--max-txn-ops`. Both backends enforce it (INVALID_ARGUMENT) so that code
 * tested on the embedded store does not fail only in production on etcd.
 */
export const MAX_TXN_OPS = 128;

/** Where keys live when no prefix is configured (DESIGN §2). */
export const DEFAULT_STORE_PREFIX = '/romana';

/**
 * Normalises a configured prefix: leading "/", no trailing "/". Keys are
 * stored as `${prefix}/${key}`, so "/romana" and "/romana2" never overlap.
 */
export function normalizePrefix(prefix: string | undefined): string {
  let p = (prefix ?? DEFAULT_STORE_PREFIX).trim();
  while (p.endsWith('/')) p = p.slice(0, -1);
  // "" (or "/") means keys directly under the root: "/<key>".
  if (p !== '' && !p.startsWith('/')) p = `/${p}`;
  return p;
}
