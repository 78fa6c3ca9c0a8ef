/**
 * Follows the daemon (DESIGN §1): GET /snapshot of the prefixes the agent
 * reads, then GET /watch from the snapshot's revision, feeding the
 * ClusterCache and telling the apply loop which parts changed.
 *
 * Design:
 * - Level-triggered: a (re-)list replaces the whole cache and marks every
 *   part dirty; the drivers then write only what really differs, so a
 *   re-list after an error costs reads, not kernel writes.
 * - Resume: a stream the daemon ended cleanly (shutdown) or for lagging
 *   (WATCH_FELL_BEHIND, with `resume_since`) is re-opened from that
 *   revision; any other error (daemon unreachable, compacted history,
 *   revision unknown to a restored store) re-lists. Retries back off,
 *   doubling from `initialBackoffMs` to `maxBackoffMs`; a connected stream
 *   resets the delay.
 * - Complete revisions: the events of one store transaction share a
 *   revision and arrive together; `completeRevision` advances only once
 *   the events received so far have all been applied (a turn of the event
 *   loop with nothing more to read), so nobody sees half a transaction.
 * - catchUp(R): resolves once the cache holds everything up to revision R
 *   (used by POST /sync with R = the daemon's revision at request time).
 *   Revisions with no Romana key (an etcd shared with other programs)
 *   never arrive as events; if R is not reached within `catchUpMs` the
 *   follower re-lists, which reads at a revision >= R.
 *
 * Concurrency rule: one loop per instance; all mutation of the cache
 * happens on the event loop between awaits.
 */
import { isRomanaError, RomanaError } from '../core/errors.js';
import type { RomanaClient, WatchStream } from '../shared/api_client.js';
import type { Logger } from '../shared/log.js';
import type { AgentMetrics } from './metrics.js';
import { ALL_PARTS, VIEW_PREFIXES, type ClusterCache, type Part } from './view.js';

export interface FollowerOptions {
  client: RomanaClient;
  cache: ClusterCache;
  log: Logger;
  metrics?: AgentMetrics;
  /** Called with the parts a snapshot or an event changed (no I/O: marks dirty). */
  onChange: (parts: readonly Part[]) => void;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  catchUpMs?: number;
}

interface Waiter {
  revision: number;
  resolve: () => void;
}

export class Follower {
  /** Highest revision all of whose events are in the cache. */
  completeRevision = 0;
  /** True once a snapshot has been loaded (the view is complete). */
  synced = false;
  private stopped = false;
  private stream: WatchStream | null = null;
  private relistRequested = false;
  private loop: Promise<void> | null = null;
  private waiters: Waiter[] = [];
  private pendingComplete: NodeJS.Immediate | null = null;
  private sleepTimer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly catchUpMs: number;

  constructor(private readonly o: FollowerOptions) {
    this.initialBackoffMs = o.initialBackoffMs ?? 200;
    this.maxBackoffMs = o.maxBackoffMs ?? 10_000;
    this.catchUpMs = o.catchUpMs ?? 500;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stream?.close();
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.wake?.();
    if (this.pendingComplete) clearImmediate(this.pendingComplete);
    await this.loop;
  }

  /** Drops the stream and re-lists (after a resync timer, or when catching up failed). */
  relist(): void {
    this.relistRequested = true;
    this.stream?.close();
    this.wake?.();
  }

  /** Resolves once the cache holds every change up to `revision` (see the module header). */
  async catchUp(revision: number, deadline: number): Promise<void> {
    if (this.completeRevision >= revision) return;
    const reached = this.waitFor(revision);
    const first = await Promise.race([reached.then(() => true), delay(Math.min(this.catchUpMs, Math.max(0, deadline - Date.now()))).then(() => false)]);
    if (first) return;
    this.relist();
    const ok = await Promise.race([reached.then(() => true), delay(Math.max(0, deadline - Date.now())).then(() => false)]);
    if (!ok) throw new RomanaError('NOT_READY', `The agent's view has not reached daemon revision ${revision} (it is at ${this.completeRevision})`);
  }

  private waitFor(revision: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiters.push({ revision, resolve });
      this.flushWaiters();
    });
  }

  private flushWaiters(): void {
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.revision <= this.completeRevision) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  private markComplete(revision: number): void {
    if (revision > this.completeRevision) this.completeRevision = revision;
    this.flushWaiters();
  }

  private async run(): Promise<void> {
    const { client, cache, log } = this.o;
    let needList = true;
    let since = 0;
    let backoff = this.initialBackoffMs;
    while (!this.stopped) {
      try {
        if (needList || this.relistRequested) {
          this.relistRequested = false;
          const snap = await client.snapshot([...VIEW_PREFIXES]);
          if (this.stopped) return;
          cache.load(snap.records, snap.revision);
          since = snap.revision;
          needList = false;
          this.o.onChange(ALL_PARTS);
          if (!this.synced) log.info({ revision: snap.revision, records: snap.records.length }, 'loaded the daemon snapshot');
          this.synced = true;
          this.markComplete(snap.revision);
        }
        const stream = await client.watch({ since });
        this.stream = stream;
        if (this.relistRequested || this.stopped) {
          stream.close();
          continue;
        }
        backoff = this.initialBackoffMs;
        for await (const e of stream) {
          const parts = cache.apply(e);
          since = e.revision;
          if (parts.length > 0) this.o.onChange(parts);
          // Complete once this turn's events are all applied (see the module header).
          if (this.pendingComplete === null) {
            this.pendingComplete = setImmediate(() => {
              this.pendingComplete = null;
              this.markComplete(since);
            });
          }
        }
        this.stream = null;
        if (this.stopped) return;
        if (!this.relistRequested) {
          since = Math.max(since, stream.lastRevision);
          this.o.metrics?.watchRestarts.inc({ reason: 'stream-ended' });
          log.info({ since }, 'watch stream ended; resuming');
        } else {
          this.o.metrics?.watchRestarts.inc({ reason: 'relist' });
        }
      } catch (e) {
        this.stream = null;
        if (this.stopped) return;
        const err = e as Error;
        const resume = isRomanaError(e) && e.code === 'WATCH_FELL_BEHIND' ? e.details.resume_since : undefined;
        if (typeof resume === 'number') {
          since = resume;
          this.o.metrics?.watchRestarts.inc({ reason: 'fell-behind' });
          log.warn({ since }, 'watch fell behind; resuming');
          continue;
        }
        needList = true;
        this.o.metrics?.watchRestarts.inc({ reason: isRomanaError(e) ? e.code : 'error' });
        log.warn({ err, retryInMs: backoff, code: isRomanaError(e) ? e.code : undefined }, `following the daemon failed: ${err.message}; re-listing after ${backoff} ms`);
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, this.maxBackoffMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = () => {
        if (this.sleepTimer) clearTimeout(this.sleepTimer);
        this.sleepTimer = null;
        this.wake = null;
        resolve();
      };
      this.sleepTimer = setTimeout(() => this.wake?.(), ms);
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
