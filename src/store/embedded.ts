/**
 * The embedded store (DESIGN §2): the default backend, one SQLite file
 * `<data-dir>/romana.db` through better-sqlite3.
 *
 * Goal: the Store contract (revisioned keys, compare-and-swap transactions,
 * watch from a revision, leases) with etcd's semantics, durable across kill -9,
 * and safe when SEVERAL PROCESSES open the same file (daemon replicas, the
 * CLI, tests' child allocators).
 *
 * Design:
 * - Tables: `kv` (key → value, create_rev, mod_rev, version, lease), `meta`
 *   (format, revision counter, compaction point), `changes` (the change log:
 *   one row per key written, `(rev, sub)` ordered, value NULL for a delete),
 *   `leases` (id → ttl, absolute expiry in ms since the epoch).
 * - Keys are stored as `${prefix}/${key}`; one file may hold several prefixes
 *   (they share the revision counter, like etcd).
 * - Every write runs in `BEGIN IMMEDIATE` (takes SQLite's single write lock at
 *   the start, so the revision read-increment-write cannot interleave with
 *   another process) with a busy timeout; journal_mode=WAL lets readers go on
 *   while a writer holds the lock; synchronous=FULL fsyncs the WAL at every
 *   commit, so an acknowledged write survives kill -9 and power loss.
 * - A transaction with at least one effective change gets exactly one new
 *   revision (all its changes share it, as in etcd); a failed compare or a
 *   no-op (delete of a missing key) does not bump the revision.
 * - Watches read the change log through a cursor, BATCH_REVS revisions at a
 *   time, and read the next batch only when the previous one was consumed:
 *   writers never wait for watchers and memory stays bounded. In-process
 *   writes wake watchers at once; writes by other processes are noticed by
 *   polling `PRAGMA data_version` (a counter in shared memory: no I/O, a few
 *   µs) every `pollIntervalMs` while there are watchers.
 * - Compaction keeps the change log bounded: every COMPACT_EVERY revisions
 *   the writer drops log rows older than the last `historyRevisions`
 *   revisions (default 10,000). A watcher whose cursor falls behind the
 *   compaction point gets the compacted-history error (CONFLICT) and must
 *   re-range — exactly what it must do with etcd's compaction.
 * - Leases: expiry is absolute wall-clock time in the file, so any process
 *   can expire another's (crashed) leases. Expired leases are swept — their
 *   keys deleted with change-log entries, so watchers see the deletes —
 *   before every write, before any read that would otherwise see them, and
 *   by a timer every SWEEP_INTERVAL_MS.
 *
 * Concurrency rule: better-sqlite3 is synchronous, so within one process each
 * call is atomic with respect to the event loop; across processes atomicity
 * comes from SQLite's write lock (BEGIN IMMEDIATE). A process blocks (up to
 * `busyTimeoutMs`) while another holds the write lock — commits are short.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
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

export const DB_FILE = 'romana.db';
/** On-disk layout version, stored in meta; bump with a migration. */
const FORMAT = 1;
/** Revisions read per watch batch. */
const BATCH_REVS = 512;
/** Compaction runs when the new revision is a multiple of this (amortised). */
const COMPACT_EVERY = 256;
const SWEEP_INTERVAL_MS = 250;
/**
 * Upper bound for "keys starting with P": P + U+10FFFF (a noncharacter) is
 * above every key P + c... whose next character c is below it. SQLite
 * compares TEXT by UTF-8 bytes, which is code point order.
 */
const MAX_CHAR = '\u{10FFFF}';

export interface EmbeddedStoreOptions {
  /** Directory holding romana.db (created when missing). */
  dataDir: string;
  /** Key prefix, default "/romana". */
  prefix?: string;
  /** Change-log revisions kept for watches (default 10,000). */
  historyRevisions?: number;
  /** How often watchers look for other processes' writes (default 25 ms). */
  pollIntervalMs?: number;
  /** How long a write waits for another process's write lock (default 10 s). */
  busyTimeoutMs?: number;
  /** Bound on queued undelivered events per watch (see WatchDelivery). */
  watchBufferLimit?: number;
}

interface KvRow {
  key: string;
  value: string;
  create_rev: number;
  mod_rev: number;
  version: number;
  lease: number | null;
}

interface ChangeRow {
  rev: number;
  key: string;
  value: string | null;
}

interface EmbeddedWatch {
  /** The caller's prefix (for messages) and the full one (for matching). */
  userPrefix: string;
  prefix: string;
  /** Last revision whose change-log rows have been read (delivered or queued). */
  cursor: number;
  delivery: WatchDelivery;
  /** A pump is queued (avoid stacking many per burst of writes). */
  pumpQueued: boolean;
}

/** Opens (creating when needed) the embedded store in `opts.dataDir`. */
export function openEmbeddedStore(opts: EmbeddedStoreOptions): EmbeddedStore {
  return new EmbeddedStore(opts);
}

export class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const;
  readonly file: string;
  readonly prefix: string;
  private readonly db: Database.Database;
  private readonly history: number;
  private readonly pollMs: number;
  private readonly bufferLimit: number;
  private readonly watches = new Set<EmbeddedWatch>();
  private pollTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private dataVersion = 0;
  private closed = false;

  // Prepared statements (compiled once; better-sqlite3 caches nothing for us).
  private readonly s: ReturnType<EmbeddedStore['prepare']>;

  constructor(opts: EmbeddedStoreOptions) {
    this.prefix = normalizePrefix(opts.prefix);
    this.history = Math.max(1, Math.floor(opts.historyRevisions ?? 10_000));
    this.pollMs = Math.max(1, opts.pollIntervalMs ?? 25);
    this.bufferLimit = opts.watchBufferLimit ?? DEFAULT_WATCH_BUFFER_LIMIT;
    this.file = path.resolve(opts.dataDir, DB_FILE);
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
    } catch (e) {
      throw new RomanaError('STORE_UNAVAILABLE', `Cannot create the data directory "${path.dirname(this.file)}": ${(e as Error).message}`, { cause: e });
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(this.file);
      // busy_timeout first: the pragmas below may need a lock another process holds.
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 10_000))}`);
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (String(mode).toLowerCase() !== 'wal') {
        throw new RomanaError('STORE_UNAVAILABLE', `The embedded store "${this.file}" cannot use WAL journaling (got "${String(mode)}")`);
      }
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = OFF');
      this.db = db;
      this.initSchema();
      this.s = this.prepare();
      this.dataVersion = Number(db.pragma('data_version', { simple: true }));
    } catch (e) {
      db?.close();
      throw this.mapError(e, 'open');
    }
    this.sweepTimer = setInterval(() => this.sweepTick(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  // ---------- Store ----------

  async get(key: string): Promise<KeyValue | null> {
    return this.guard('get', () => {
      checkKey(key);
      this.sweepIfExpired();
      const row = this.s.getKv.get(this.full(key)) as KvRow | undefined;
      return row ? this.toKv(row) : null;
    });
  }

  async range(prefix: string): Promise<RangeResult> {
    return this.guard('range', () => {
      this.sweepIfExpired();
      const start = this.full(prefix);
      // One read transaction: the rows and the revision come from the same snapshot.
      return this.db.transaction(() => {
        const rows = this.s.rangeKv.all(start, start + MAX_CHAR) as KvRow[];
        return { kvs: rows.map((r) => this.toKv(r)), revision: this.readRevision() };
      })();
    });
  }

  async txn(compares: Compare[], ops: TxnOp[]): Promise<TxnResult> {
    const result = this.guard('txn', () => {
      validateTxn(compares, ops);
      return this.db
        .transaction((): TxnResult => {
          this.sweepInTxn(Date.now());
          const current = this.readRevision();
          for (const c of compares) {
            const row = this.s.getModRev.get(this.full(c.key)) as { mod_rev: number } | undefined;
            if ((row?.mod_rev ?? 0) !== c.modRevision) return { succeeded: false, revision: current };
          }
          const rev = current + 1;
          let sub = 0;
          for (const op of ops) {
            const key = this.full(op.key);
            if (op.op === 'put') {
              const lease = op.lease === undefined ? null : this.leaseIdOrThrow(op.lease);
              const prev = this.s.getKv.get(key) as KvRow | undefined;
              if (prev) this.s.updateKv.run(op.value, rev, lease, key);
              else this.s.insertKv.run(key, op.value, rev, rev, lease);
              this.s.insertChange.run(rev, sub++, key, op.value);
            } else if (this.s.deleteKv.run(key).changes > 0) {
              this.s.insertChange.run(rev, sub++, key, null);
            }
          }
          if (sub === 0) return { succeeded: true, revision: current };
          this.commitRevision(rev);
          return { succeeded: true, revision: rev };
        })
        .immediate();
    });
    this.wakeWatchers();
    return result;
  }

  async watch(prefix: string, sinceRevision: number, onEvent: (e: WatchEvent) => void, onError?: (e: Error) => void): Promise<Watch> {
    return this.guard('watch', () => {
      if (!Number.isSafeInteger(sinceRevision) || sinceRevision < 0) {
        throw new RomanaError('INVALID_ARGUMENT', `Invalid watch revision ${String(sinceRevision)}: must be a non-negative integer`);
      }
      const full = this.full(prefix);
      const w: EmbeddedWatch = {
        userPrefix: prefix,
        prefix: full,
        cursor: sinceRevision,
        pumpQueued: false,
        // The cursor reads the next batch only once the previous one is consumed.
        delivery: new WatchDelivery(prefix, sinceRevision, onEvent, onError, this.bufferLimit, () => this.queuePump(w)),
      };
      this.watches.add(w);
      this.startPolling();
      this.queuePump(w);
      return {
        close: async () => {
          w.delivery.close();
          this.watches.delete(w);
          if (this.watches.size === 0) this.stopPolling();
        },
      };
    });
  }

  async grantLease(ttlSeconds: number): Promise<Lease> {
    return this.guard('grantLease', () => {
      checkTtl(ttlSeconds);
      const ttlMs = Math.round(ttlSeconds * 1000);
      const id = this.db
        .transaction(() => Number(this.s.insertLease.run(ttlMs, Date.now() + ttlMs).lastInsertRowid))
        .immediate();
      return this.makeLease(String(id), ttlSeconds, ttlMs);
    });
  }

  async revision(): Promise<number> {
    return this.guard('revision', () => this.readRevision());
  }

  async compact(revision: number): Promise<void> {
    this.guard('compact', () => {
      this.db
        .transaction(() => {
          const current = this.readRevision();
          if (!Number.isSafeInteger(revision) || revision < 0 || revision > current) {
            throw new RomanaError('INVALID_ARGUMENT', `Cannot compact at revision ${String(revision)}: the store is at revision ${current}`);
          }
          this.compactInTxn(revision);
        })
        .immediate();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watches) w.delivery.close();
    this.watches.clear();
    this.stopPolling();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.db.close();
  }

  // ---------- schema ----------

  private initSchema(): void {
    // IMMEDIATE: two processes creating a fresh file must not both insert meta rows.
    this.db
      .transaction(() => {
        this.db.exec(`
          CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
          CREATE TABLE IF NOT EXISTS kv (
            key TEXT PRIMARY KEY, value TEXT NOT NULL,
            create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL, version INTEGER NOT NULL,
            lease INTEGER) WITHOUT ROWID;
          CREATE INDEX IF NOT EXISTS kv_by_lease ON kv(lease) WHERE lease IS NOT NULL;
          CREATE TABLE IF NOT EXISTS changes (
            rev INTEGER NOT NULL, sub INTEGER NOT NULL, key TEXT NOT NULL, value TEXT,
            PRIMARY KEY (rev, sub)) WITHOUT ROWID;
          CREATE TABLE IF NOT EXISTS leases (
            id INTEGER PRIMARY KEY AUTOINCREMENT, ttl_ms INTEGER NOT NULL, expires_at INTEGER NOT NULL);
          CREATE INDEX IF NOT EXISTS leases_by_expiry ON leases(expires_at);
        `);
        // Revision 1 for an empty store, as etcd reports for a fresh cluster.
        const ins = this.db.prepare('INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)');
        ins.run('format', FORMAT);
        ins.run('revision', 1);
        ins.run('compacted', 0);
        const format = (this.db.prepare("SELECT value FROM meta WHERE name = 'format'").get() as { value: number }).value;
        if (format !== FORMAT) {
          throw new RomanaError('STORE_CORRUPT', `The embedded store "${this.file}" has format ${format}; this version reads format ${FORMAT}`);
        }
      })
      .immediate();
  }

  private prepare() {
    const db = this.db;
    return {
      getKv: db.prepare('SELECT key, value, create_rev, mod_rev, version, lease FROM kv WHERE key = ?'),
      getModRev: db.prepare('SELECT mod_rev FROM kv WHERE key = ?'),
      rangeKv: db.prepare('SELECT key, value, create_rev, mod_rev, version, lease FROM kv WHERE key >= ? AND key < ? ORDER BY key'),
      insertKv: db.prepare('INSERT INTO kv (key, value, create_rev, mod_rev, version, lease) VALUES (?, ?, ?, ?, 1, ?)'),
      updateKv: db.prepare('UPDATE kv SET value = ?, mod_rev = ?, version = version + 1, lease = ? WHERE key = ?'),
      deleteKv: db.prepare('DELETE FROM kv WHERE key = ?'),
      keysOfLease: db.prepare('SELECT key FROM kv WHERE lease = ? ORDER BY key').pluck(),
      insertChange: db.prepare('INSERT INTO changes (rev, sub, key, value) VALUES (?, ?, ?, ?)'),
      changesBetween: db.prepare('SELECT rev, key, value FROM changes WHERE rev > ? AND rev <= ? ORDER BY rev, sub'),
      deleteChangesBefore: db.prepare('DELETE FROM changes WHERE rev < ?'),
      getMeta: db.prepare('SELECT value FROM meta WHERE name = ?').pluck(),
      setMeta: db.prepare('UPDATE meta SET value = ? WHERE name = ?'),
      insertLease: db.prepare('INSERT INTO leases (ttl_ms, expires_at) VALUES (?, ?)'),
      getLease: db.prepare('SELECT id, ttl_ms, expires_at FROM leases WHERE id = ?'),
      touchLease: db.prepare('UPDATE leases SET expires_at = ? WHERE id = ? AND expires_at > ?'),
      deleteLease: db.prepare('DELETE FROM leases WHERE id = ?'),
      anyExpired: db.prepare('SELECT 1 FROM leases WHERE expires_at <= ? LIMIT 1').pluck(),
      expiredLeases: db.prepare('SELECT id FROM leases WHERE expires_at <= ? ORDER BY id').pluck(),
    };
  }

  // ---------- helpers (call inside a transaction where noted) ----------

  private full(key: string): string {
    return `${this.prefix}/${key}`;
  }

  private toKv(r: KvRow): KeyValue {
    const kv: KeyValue = {
      key: r.key.slice(this.prefix.length + 1),
      value: r.value,
      modRevision: r.mod_rev,
      createRevision: r.create_rev,
      version: r.version,
    };
    if (r.lease !== null) kv.lease = String(r.lease);
    return kv;
  }

  private readRevision(): number {
    return this.s.getMeta.get('revision') as number;
  }

  /** In a write txn: records `rev` as the store revision, compacting now and then. */
  private commitRevision(rev: number): void {
    this.s.setMeta.run(rev, 'revision');
    if (rev % COMPACT_EVERY === 0) this.compactInTxn(rev - this.history + 1);
  }

  /** In a write txn: drops change-log rows below `revision`. */
  private compactInTxn(revision: number): void {
    const compacted = this.s.getMeta.get('compacted') as number;
    if (revision <= compacted) return;
    this.s.deleteChangesBefore.run(revision);
    this.s.setMeta.run(revision, 'compacted');
  }

  /** In a write txn: the numeric id of a live lease, else NOT_FOUND (as etcd: "requested lease not found"). */
  private leaseIdOrThrow(id: string): number {
    const n = Number(id);
    const row = Number.isSafeInteger(n) ? this.s.getLease.get(n) : undefined;
    if (!row) throw leaseNotFound(id);
    return n;
  }

  /** In a write txn: deletes expired leases and their keys under one new revision. */
  private sweepInTxn(now: number): boolean {
    const expired = this.s.expiredLeases.all(now) as number[];
    if (expired.length === 0) return false;
    this.dropLeases(expired);
    return true;
  }

  /** In a write txn: deletes leases and their keys (with change-log rows) under one new revision. */
  private dropLeases(ids: number[]): void {
    const rev = this.readRevision() + 1;
    let sub = 0;
    for (const id of ids) {
      for (const key of this.s.keysOfLease.all(id) as string[]) {
        this.s.deleteKv.run(key);
        this.s.insertChange.run(rev, sub++, key, null);
      }
      this.s.deleteLease.run(id);
    }
    if (sub > 0) this.commitRevision(rev);
  }

  /** Before a read: when some lease has expired, sweep first so the read never sees its keys. */
  private sweepIfExpired(): void {
    const now = Date.now();
    if (this.s.anyExpired.get(now) === undefined) return;
    const swept = this.db.transaction(() => this.sweepInTxn(Date.now())).immediate();
    if (swept) this.wakeWatchers();
  }

  private sweepTick(): void {
    if (this.closed) return;
    try {
      this.sweepIfExpired();
    } catch {
      // A busy or failing store is reported by the next real call; the timer just tries again.
    }
  }

  private makeLease(id: string, ttlSeconds: number, ttlMs: number): Lease {
    return {
      id,
      ttlSeconds,
      keepAlive: async () => {
        this.guard('keepAlive', () => {
          const now = Date.now();
          // Only a lease that has not expired yet may be refreshed: an expired one is gone even if unswept.
          const changed = this.db.transaction(() => this.s.touchLease.run(now + ttlMs, Number(id), now).changes).immediate();
          if (changed === 0) {
            this.sweepIfExpired();
            throw leaseNotFound(id);
          }
        });
      },
      revoke: async () => {
        this.guard('revoke', () => {
          this.db.transaction(() => this.dropLeases([Number(id)])).immediate();
        });
        this.wakeWatchers();
      },
    };
  }

  // ---------- watches ----------

  private wakeWatchers(): void {
    for (const w of this.watches) this.queuePump(w);
  }

  private queuePump(w: EmbeddedWatch): void {
    if (w.pumpQueued || w.delivery.closed || this.closed) return;
    // Only read more once the consumer has taken what was read before.
    if (w.delivery.pending > 0) return;
    w.pumpQueued = true;
    setImmediate(() => {
      w.pumpQueued = false;
      this.pump(w);
    });
  }

  /** Reads the next batch of the change log for `w` and queues its events. */
  private pump(w: EmbeddedWatch): void {
    if (w.delivery.closed || this.closed || w.delivery.pending > 0) return;
    let events: WatchEvent[];
    let more: boolean;
    try {
      const r = this.db.transaction(() => {
        const revision = this.readRevision();
        const compacted = this.s.getMeta.get('compacted') as number;
        if (w.cursor + 1 < compacted) return { kind: 'compacted' as const, compacted };
        const upto = Math.min(revision, w.cursor + BATCH_REVS);
        const rows = upto > w.cursor ? (this.s.changesBetween.all(w.cursor, upto) as ChangeRow[]) : [];
        return { kind: 'rows' as const, rows, upto, revision };
      })();
      if (r.kind === 'compacted') {
        this.watches.delete(w);
        w.delivery.fail(compactedError(w.userPrefix, w.cursor, r.compacted));
        return;
      }
      events = [];
      for (const row of r.rows) {
        if (!row.key.startsWith(w.prefix)) continue;
        const key = row.key.slice(this.prefix.length + 1);
        events.push(row.value === null ? { type: 'delete', key, revision: row.rev } : { type: 'put', key, value: row.value, revision: row.rev });
      }
      // Never move the cursor backwards (a watch may start beyond the current revision).
      w.cursor = Math.max(w.cursor, r.upto);
      more = w.cursor < r.revision;
    } catch (e) {
      this.watches.delete(w);
      w.delivery.fail(this.mapError(e, 'watch'));
      return;
    }
    if (events.length > 0) w.delivery.push(events); // onDrained will pump again
    else if (more) this.queuePump(w);
  }

  private startPolling(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => this.pollOtherWriters(), this.pollMs);
    this.pollTimer.unref();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  /** Another connection committed when data_version changed: let the watchers read the log. */
  private pollOtherWriters(): void {
    if (this.closed) return;
    try {
      const v = Number(this.db.pragma('data_version', { simple: true }));
      if (v === this.dataVersion) return;
      this.dataVersion = v;
    } catch {
      return; // the next successful poll catches up: the cursor, not the poll, carries the position
    }
    this.wakeWatchers();
  }

  // ---------- errors ----------

  private guard<T>(what: string, fn: () => T): T {
    if (this.closed) throw closedError('embedded');
    try {
      return fn();
    } catch (e) {
      throw this.mapError(e, what);
    }
  }

  private mapError(e: unknown, what: string): RomanaError {
    if (e instanceof RomanaError) return e;
    const code = (e as { code?: unknown }).code;
    const msg = (e as Error).message ?? String(e);
    if (typeof code === 'string') {
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code.startsWith('SQLITE_BUSY_')) {
        return new RomanaError('STORE_UNAVAILABLE', `The embedded store "${this.file}" stayed locked by another process during ${what}: ${msg}`, { cause: e });
      }
      if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT_')) {
        return new RomanaError('STORE_CORRUPT', `The embedded store "${this.file}" is damaged: ${msg}`, { cause: e });
      }
      if (code.startsWith('SQLITE_')) {
        return new RomanaError('STORE_UNAVAILABLE', `The embedded store "${this.file}" failed during ${what}: ${msg}`, { cause: e });
      }
    }
    return new RomanaError('INTERNAL', `Embedded store ${what} failed: ${msg}`, { cause: e });
  }
}
