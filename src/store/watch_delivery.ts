/**
 * Delivery of watch events to one consumer, shared by both store backends.
 *
 * Goal: a consumer's `onEvent` never runs inside a writer's call path, sees
 * every event exactly once and in revision order, and a consumer that cannot
 * keep up costs bounded memory instead of blocking writers.
 *
 * Design: events are queued and handed to `onEvent` from `setImmediate`, at
 * most BATCH per turn and for at most SLICE_MS, so timers and I/O (other
 * writers' replies) run between batches even when the consumer is slow. When the queue grows past `limit` the watch fails with CONFLICT
 * ("fell behind"): the caller re-reads with range() and watches again from the
 * range's revision, which is the same recovery as for compacted history. A
 * backend that can re-read history itself (embedded) instead pulls the next
 * batch only when `onDrained` fires, so its queue never approaches the limit.
 *
 * Concurrency rule: single-threaded (one event loop); after `fail()` or
 * `close()` nothing more is delivered, and `onError` is called at most once.
 */
import { RomanaError } from '../core/errors.js';
import type { WatchEvent } from './store.js';

/** Most events handed to the consumer per event-loop turn... */
const BATCH = 256;
/** ...and most time spent in one turn, so a slow consumer yields to I/O (writers' replies) often. */
const SLICE_MS = 4;

/** Default bound on queued, undelivered events per watch. */
export const DEFAULT_WATCH_BUFFER_LIMIT = 100_000;

export class WatchDelivery {
  private queue: WatchEvent[] = [];
  /** Index of the next event of `queue` to deliver (avoids O(n) shift()). */
  private head = 0;
  private scheduled = false;
  private done = false;
  /** Highest revision handed to onEvent; used by backends to resume after reconnects. */
  deliveredRevision: number;

  constructor(
    private readonly prefix: string,
    sinceRevision: number,
    private readonly onEvent: (e: WatchEvent) => void,
    private readonly onError: ((e: Error) => void) | undefined,
    private readonly limit: number = DEFAULT_WATCH_BUFFER_LIMIT,
    /** Called (from the delivery turn) when the queue has been emptied. */
    private readonly onDrained?: () => void,
  ) {
    this.deliveredRevision = sinceRevision;
  }

  get closed(): boolean {
    return this.done;
  }

  /** Number of queued, not yet delivered events. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  push(events: readonly WatchEvent[]): void {
    if (this.done || events.length === 0) return;
    for (const e of events) this.queue.push(e);
    if (this.pending > this.limit) {
      this.fail(
        new RomanaError(
          'CONFLICT',
          `Watch of "${this.prefix}" fell behind: ${this.pending} undelivered events exceed the buffer of ${this.limit}; re-read with range() and watch again`,
          { details: { prefix: this.prefix, deliveredRevision: this.deliveredRevision, limit: this.limit } },
        ),
      );
      return;
    }
    this.schedule();
  }

  /** Ends the watch with an error delivered asynchronously (once). */
  fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.queue = [];
    this.head = 0;
    const cb = this.onError;
    if (cb) setImmediate(() => cb(err));
  }

  close(): void {
    this.done = true;
    this.queue = [];
    this.head = 0;
  }

  /** Asks for an onDrained call even when nothing is queued (used to start pulling). */
  kick(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.done) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    let n = 0;
    const until = performance.now() + SLICE_MS;
    while (!this.done && this.head < this.queue.length && n < BATCH && (n === 0 || performance.now() < until)) {
      const e = this.queue[this.head]!;
      this.head++;
      n++;
      try {
        this.onEvent(e);
      } catch (err) {
        // A throwing consumer has lost an event; it must resync like any other failed watch.
        this.fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.deliveredRevision = e.revision;
    }
    if (this.done) return;
    if (this.head < this.queue.length) {
      this.schedule();
      return;
    }
    this.queue = [];
    this.head = 0;
    this.onDrained?.();
  }
}
