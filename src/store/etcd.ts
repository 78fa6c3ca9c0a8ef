/**
 * The etcd v3 store (DESIGN §2), through the `etcd3` client's raw gRPC
 * services (KV, Watch, Lease), so that every Store call is exactly one etcd
 * request with etcd's own semantics: a txn's compares are `mod_revision ==`
 * (0 = must not exist), revisions are etcd's, leases are etcd's.
 *
 * Goal: several daemon replicas share one etcd cluster safely — every write
 * is a compare-and-swap, nothing is locked.
 *
 * Design:
 * - Keys are `${prefix}/${key}` (prefix default "/romana"), so deployments
 *   (or tests) with different prefixes never see each other.
 * - range() pages through large prefixes (PAGE keys a request, pinned to the
 *   first page's revision so the result is one consistent snapshot): a single
 *   response would otherwise hit gRPC's 4 MiB message limit.
 * - Every unary call has a deadline (`callTimeoutMs`) and the connection a
 *   dial timeout, so an unreachable etcd gives STORE_UNAVAILABLE naming the
 *   endpoints instead of a hang. openEtcdStore() probes once before returning.
 * - Each watch is its own gRPC watch stream created at `since + 1`. Events are
 *   queued to a WatchDelivery (bounded; a consumer that falls behind gets a
 *   CONFLICT error and re-ranges). A broken stream is re-created from the last
 *   received revision, with doubling back-off, so delivery stays exactly-once;
 *   after `watchReconnectMs` without success the watch fails with
 *   STORE_UNAVAILABLE. etcd cancelling the watch because the revision is
 *   compacted becomes the compacted-history error (CONFLICT).
 * - Leases are plain etcd leases with explicit keepAlive (no background
 *   refresh: the owner decides whether it is alive).
 *
 * Concurrency rule: the client is safe for concurrent use; all atomicity comes
 * from etcd's txn. A watch's callbacks run on the event loop, never inside a
 * writer's call.
 */
import { Etcd3, type IKeyValue, type IRequestOp, type IWatchResponse, type IDuplexStream, type IWatchRequest } from 'etcd3';
import { RomanaError } from '../core/errors.js';
import { checkKey, checkTtl, closedError, compactedError, leaseNotFound, validateTxn } from './common.js';
import {
  normalizePrefix,
  type Compare,
  type KeyValue,
  type Lease,
  type RangeResult,
  type Store,
  type TxnOp,
  type TxnResult,
  type Watch,
  type WatchEvent,
} from './store.js';
import { DEFAULT_WATCH_BUFFER_LIMIT, WatchDelivery } from './watch_delivery.js';

/** Keys per range request. */
const PAGE = 1000;

export interface EtcdStoreOptions {
  /** e.g. ["http://127.0.0.1:2379"]. */
  endpoints: string[];
  /** Key prefix, default "/romana". */
  prefix?: string;
  /** Connection establishment bound (default 3 s). */
  dialTimeoutMs?: number;
  /** Deadline of each request (default 5 s). */
  callTimeoutMs?: number;
  /** Bound on queued undelivered events per watch. */
  watchBufferLimit?: number;
  /** How long a broken watch keeps reconnecting before it fails (default 15 s). */
  watchReconnectMs?: number;
}

/** Connects and checks that etcd answers; STORE_UNAVAILABLE (naming the endpoints) otherwise. */
export async function openEtcdStore(opts: EtcdStoreOptions): Promise<EtcdStore> {
  const store = new EtcdStore(opts);
  try {
    await store.probe();
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}

export class EtcdStore implements Store {
  readonly kind = 'etcd' as const;
  readonly prefix: string;
  readonly endpoints: readonly string[];
  /** @internal used by EtcdWatch. */
  readonly client: Etcd3;
  private readonly callTimeoutMs: number;
  private readonly dialTimeoutMs: number;
  private readonly bufferLimit: number;
  private readonly reconnectMs: number;
  private readonly watches = new Set<EtcdWatch>();
  private closed = false;

  constructor(opts: EtcdStoreOptions) {
    if (opts.endpoints.length === 0) throw new RomanaError('INVALID_ARGUMENT', 'No etcd endpoints given');
    this.endpoints = [...opts.endpoints];
    this.prefix = normalizePrefix(opts.prefix);
    this.callTimeoutMs = opts.callTimeoutMs ?? 5000;
    this.dialTimeoutMs = opts.dialTimeoutMs ?? 3000;
    this.bufferLimit = opts.watchBufferLimit ?? DEFAULT_WATCH_BUFFER_LIMIT;
    this.reconnectMs = opts.watchReconnectMs ?? 15_000;
    const callTimeout = this.callTimeoutMs;
    this.client = new Etcd3({
      hosts: this.endpoints.slice(),
      dialTimeout: this.dialTimeoutMs,
      // Streams (watch, keepalive) live long: only unary calls get a deadline.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeout }),
    });
  }

  /** One cheap read: proves the endpoints answer (used by openEtcdStore). */
  async probe(): Promise<void> {
    await this.call('connect', () => this.client.kv.range({ key: this.fullBuf(''), limit: 1, keys_only: true }), this.dialTimeoutMs + this.callTimeoutMs);
  }

  // ---------- Store ----------

  async get(key: string): Promise<KeyValue | null> {
    checkKey(key);
    const res = await this.call('get', () => this.client.kv.range({ key: this.fullBuf(key) }));
    const kv = res.kvs[0];
    return kv ? this.toKv(kv) : null;
  }

  async range(prefix: string): Promise<RangeResult> {
    const start = this.fullBuf(prefix);
    const end = prefixEnd(start);
    const kvs: KeyValue[] = [];
    let from = start;
    let revision: string | undefined;
    for (;;) {
      const at = revision;
      const res = await this.call('range', () =>
        this.client.kv.range({ key: from, range_end: end, limit: PAGE, ...(at === undefined ? {} : { revision: at }) }),
      );
      revision ??= res.header.revision;
      for (const kv of res.kvs) kvs.push(this.toKv(kv));
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || !last) break;
      from = Buffer.concat([last.key, Buffer.from([0])]);
    }
    return { kvs, revision: Number(revision) };
  }

  async txn(compares: Compare[], ops: TxnOp[]): Promise<TxnResult> {
    validateTxn(compares, ops);
    const success: IRequestOp[] = ops.map((op) =>
      op.op === 'put'
        ? { request_put: { key: this.fullBuf(op.key), value: Buffer.from(op.value), lease: op.lease ?? 0 } }
        : { request_delete_range: { key: this.fullBuf(op.key) } },
    );
    const res = await this.call('txn', () =>
      this.client.kv.txn({
        compare: compares.map((c) => ({ key: this.fullBuf(c.key), target: 'Mod', result: 'Equal', mod_revision: c.modRevision })),
        success,
        failure: [],
      }),
    );
    return { succeeded: res.succeeded, revision: Number(res.header.revision) };
  }

  async watch(prefix: string, sinceRevision: number, onEvent: (e: WatchEvent) => void, onError?: (e: Error) => void): Promise<Watch> {
    if (this.closed) throw closedError('etcd');
    if (!Number.isSafeInteger(sinceRevision) || sinceRevision < 0) {
      throw new RomanaError('INVALID_ARGUMENT', `Invalid watch revision ${String(sinceRevision)}: must be a non-negative integer`);
    }
    const w = new EtcdWatch(this, prefix, sinceRevision, onEvent, onError, this.bufferLimit, this.reconnectMs, this.callTimeoutMs);
    this.watches.add(w);
    try {
      await w.start();
    } catch (e) {
      this.watches.delete(w);
      await w.close();
      throw this.mapError(e, 'watch');
    }
    return {
      close: async () => {
        this.watches.delete(w);
        await w.close();
      },
    };
  }

  async grantLease(ttlSeconds: number): Promise<Lease> {
    checkTtl(ttlSeconds);
    // etcd TTLs are whole seconds (and etcd raises tiny ones to its minimum).
    const res = await this.call('grantLease', () => this.client.leaseClient.leaseGrant({ TTL: Math.ceil(ttlSeconds), ID: 0 }));
    const id = String(res.ID);
    return {
      id,
      ttlSeconds: Number(res.TTL),
      keepAlive: () => this.keepAlive(id),
      revoke: async () => {
        try {
          await this.call('revoke', () => this.client.leaseClient.leaseRevoke({ ID: id }));
        } catch (e) {
          // Revoking what already expired is done, not an error.
          if (!(e instanceof RomanaError && e.code === 'NOT_FOUND')) throw e;
        }
      },
    };
  }

  async revision(): Promise<number> {
    const res = await this.call('revision', () => this.client.kv.range({ key: this.fullBuf(''), limit: 1, keys_only: true }));
    return Number(res.header.revision);
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.call('compact', () => this.client.kv.compact({ revision, physical: true }));
    } catch (e) {
      // Compacting at or below an earlier compaction is a no-op, as documented by the interface.
      if (e instanceof RomanaError && e.code === 'CONFLICT') return;
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.watches].map((w) => w.close()));
    this.watches.clear();
    this.client.close();
  }

  // ---------- helpers ----------

  /** @internal */
  fullBuf(key: string): Buffer {
    return Buffer.from(`${this.prefix}/${key}`);
  }

  /** @internal */
  toKv(kv: IKeyValue): KeyValue {
    const out: KeyValue = {
      key: kv.key.toString().slice(this.prefix.length + 1),
      value: kv.value.toString(),
      modRevision: Number(kv.mod_revision),
      createRevision: Number(kv.create_revision),
      version: Number(kv.version),
    };
    if (kv.lease && kv.lease !== '0') out.lease = String(kv.lease);
    return out;
  }

  private async keepAlive(id: string): Promise<void> {
    const res = await this.call(
      'keepAlive',
      async () => {
        const stream = await this.client.leaseClient.leaseKeepAlive();
        try {
          return await new Promise<{ TTL: string }>((resolve, reject) => {
            stream.on('data', resolve);
            stream.on('error', reject);
            stream.write({ ID: id });
          });
        } finally {
          stream.end();
        }
      },
      this.callTimeoutMs,
    );
    // etcd answers TTL 0 for a lease it no longer has.
    if (Number(res.TTL) <= 0) throw leaseNotFound(id);
  }

  /**
   * Runs one etcd request, mapping its failure to a RomanaError. `boundMs`
   * adds an overall time limit for calls that have no gRPC deadline (streams)
   * or that may be retried by the client's fault policy.
   */
  private async call<T>(what: string, fn: () => Promise<T>, boundMs?: number): Promise<T> {
    if (this.closed) throw closedError('etcd');
    let timer: NodeJS.Timeout | undefined;
    try {
      if (boundMs === undefined) return await fn();
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${boundMs} ms`)), boundMs);
      });
      return await Promise.race([fn(), limit]);
    } catch (e) {
      throw this.mapError(e, what);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** @internal */
  mapError(e: unknown, what: string): RomanaError {
    if (e instanceof RomanaError) return e;
    const msg = (e as Error)?.message ?? String(e);
    const name = (e as Error)?.constructor?.name ?? '';
    if (/requested lease not found|EtcdLeaseInvalid/.test(msg) || name === 'EtcdLeaseInvalidError') {
      return new RomanaError('NOT_FOUND', `etcd ${what} failed: lease not found (${msg})`, { cause: e });
    }
    if (/revision has been compacted/.test(msg)) {
      return new RomanaError('CONFLICT', `etcd ${what} failed: the requested revision has been compacted`, { cause: e });
    }
    if (/future revision/.test(msg)) {
      return new RomanaError('INVALID_ARGUMENT', `etcd ${what} failed: the requested revision is in the future`, { cause: e });
    }
    if (name === 'GRPCInvalidArgumentError' || /duplicate key/.test(msg)) {
      return new RomanaError('INVALID_ARGUMENT', `etcd ${what} rejected the request: ${msg}`, { cause: e });
    }
    if (/too large|ResourceExhausted|request is too large/i.test(msg)) {
      return new RomanaError('INVALID_ARGUMENT', `etcd ${what} rejected the request as too large: ${msg}`, { cause: e });
    }
    // Everything else (connect failures, deadlines, open circuit breakers, a closed client) means
    // "cannot talk to etcd right now": the caller may retry later.
    return new RomanaError('STORE_UNAVAILABLE', `Cannot reach etcd at ${this.endpoints.map((x) => `"${x}"`).join(', ')} (${what}): ${msg}`, {
      cause: e,
      details: { endpoints: [...this.endpoints] },
    });
  }
}

/** The smallest key greater than every key starting with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff: "to the end of the keyspace".
  return Buffer.from([0]);
}

/**
 * One watch: a gRPC watch stream plus delivery. Re-created from the last
 * received revision when the stream breaks (exactly-once across reconnects).
 */
class EtcdWatch {
  private stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined;
  private readonly delivery: WatchDelivery;
  /** Highest revision whose events were received (queued); a reconnect resumes after it. */
  private receivedRev: number;
  private done = false;
  private failingSince: number | undefined;
  private backoffMs = 100;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: EtcdStore,
    private readonly userPrefix: string,
    sinceRevision: number,
    onEvent: (e: WatchEvent) => void,
    onError: ((e: Error) => void) | undefined,
    bufferLimit: number,
    private readonly reconnectMs: number,
    private readonly createTimeoutMs: number,
  ) {
    this.receivedRev = sinceRevision;
    this.delivery = new WatchDelivery(userPrefix, sinceRevision, onEvent, (e) => {
      void this.close();
      onError?.(e);
    }, bufferLimit);
  }

  /** Resolves once etcd has created the watch. */
  async start(): Promise<void> {
    await this.connect();
  }

  async close(): Promise<void> {
    this.done = true;
    this.delivery.close();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.endStream();
  }

  private endStream(): void {
    const s = this.stream;
    this.stream = undefined;
    if (!s) return;
    // end() first: the client library only counts errors of still-writable streams against the host.
    s.end();
    (s as unknown as { cancel?: () => void }).cancel?.();
  }

  private connect(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => settle(new Error(`watch not created within ${this.createTimeoutMs} ms`)), this.createTimeoutMs);
      this.store.client.watchClient.watch().then(
        (stream) => {
          if (this.done) {
            stream.end();
            settle();
            return;
          }
          this.stream = stream;
          const start = this.store.fullBuf(this.userPrefix);
          stream.on('data', (res: IWatchResponse) => {
            if (stream !== this.stream) return;
            if (res.created && !res.canceled) {
              this.failingSince = undefined;
              this.backoffMs = 100;
              settle();
            }
            this.onResponse(res);
            settle(); // a created+canceled answer also ends the wait; the delivery carries the error
          });
          const broken = (err: Error) => {
            if (stream !== this.stream) return;
            this.stream = undefined;
            if (!settled) settle(err);
            else this.scheduleReconnect(err);
          };
          stream.on('error', broken);
          stream.on('end', () => broken(new Error('watch stream ended')));
          stream.write({ create_request: { key: start, range_end: prefixEnd(start), start_revision: this.receivedRev + 1 } });
        },
        (err: Error) => settle(err),
      );
    });
  }

  private onResponse(res: IWatchResponse): void {
    if (this.done) return;
    if (res.canceled) {
      const compactRev = Number(res.compact_revision ?? 0);
      this.endStream();
      if (compactRev > 0) this.delivery.fail(compactedError(this.userPrefix, this.receivedRev, compactRev));
      else this.delivery.fail(new RomanaError('STORE_UNAVAILABLE', `etcd cancelled the watch of "${this.userPrefix}": ${res.cancel_reason || 'no reason given'}`));
      return;
    }
    if (!res.events || res.events.length === 0) return;
    const events: WatchEvent[] = [];
    for (const ev of res.events) {
      const rev = Number(ev.kv.mod_revision);
      const key = ev.kv.key.toString().slice(this.store.prefix.length + 1);
      // A delete event's kv carries the deletion revision in mod_revision.
      if (ev.type === 'Delete') events.push({ type: 'delete', key, revision: rev });
      else events.push({ type: 'put', key, value: ev.kv.value.toString(), revision: rev });
      if (rev > this.receivedRev) this.receivedRev = rev;
    }
    this.delivery.push(events);
  }

  private scheduleReconnect(err: Error): void {
    if (this.done) return;
    const now = Date.now();
    this.failingSince ??= now;
    if (now - this.failingSince > this.reconnectMs) {
      this.delivery.fail(this.store.mapError(err, 'watch'));
      return;
    }
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 2000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.done) return;
      this.connect().catch((e: Error) => this.scheduleReconnect(e));
    }, delay);
  }
}
