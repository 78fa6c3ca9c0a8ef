/**
 * The daemon feed of romana-dns: Romana VIPs as the daemon holds them
 * (records `vips/<namespace>/<service>`), followed with GET /snapshot then
 * GET /watch on that prefix — the daemon's API is the bus (DESIGN §1).
 *
 * Why: the listener copies a Service's VIP into spec.externalIPs only after
 * the daemon recorded it, and the Kubernetes watch delivers that patch
 * later still; reading the daemon puts the VIP in the A answer as soon as
 * it exists (and takes a withdrawn one out as soon as it is gone).
 *
 * Design:
 * - Level-triggered: `current()` is the whole map `namespace/service` →
 *   address, `connected` says whether it is live; subscribers are told of
 *   either changing (debounced by `debounceMs`, so one transaction's events
 *   are one change) and re-read both.
 * - The daemon being down never loses data: the last map is kept until a
 *   new snapshot replaces it; until the first snapshot `current()` is
 *   undefined and the Kubernetes data is served alone.
 * - Any failure (daemon unreachable, stream ended, fell behind, compacted
 *   history, unreadable record) re-lists after a back-off doubling from
 *   `initialBackoffMs` to `maxBackoffMs`; a snapshot that succeeds resets
 *   it. VIPs are few, so re-listing is cheaper than tracking resume points.
 *
 * Concurrency rule: one follow loop; the map is mutated only on the event
 * loop between awaits, and read synchronously by subscribers.
 */
import type { RomanaClient, WatchStream } from '../src/shared/api_client.js';
import type { Logger } from '../src/shared/log.js';
import { decodeVipRecord, VIPS_PREFIX } from '../src/shared/records.js';

export interface VipFeedOptions {
  client: RomanaClient;
  log: Logger;
  /** Coalesce changes this long before telling subscribers (default 50 ms). */
  debounceMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export class DaemonVipFeed {
  /** `namespace/service` → VIP address; undefined until the first snapshot. */
  private vips: Map<string, string> | undefined;
  private readonly subscribers = new Set<() => void>();
  private stream: WatchStream | null = null;
  private loop: Promise<void> | null = null;
  private stopped = false;
  private notifyTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private failing = false;
  /** True while a watch stream is open. */
  connected = false;
  /** Snapshots taken (1 after the first sync; more after reconnects). */
  snapshots = 0;

  constructor(private readonly o: VipFeedOptions) {}

  start(): void {
    this.loop ??= this.follow();
  }

  /** Ends the watch and the loop; an in-flight snapshot is abandoned, not awaited. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.notifyTimer);
    this.stream?.close();
    this.wake?.();
  }

  /** The VIPs the daemon holds, or undefined before the first snapshot. */
  current(): ReadonlyMap<string, string> | undefined {
    return this.vips;
  }

  onChange(cb: () => void): () => void {
    this.subscribers.add(cb);
    return () => this.subscribers.delete(cb);
  }

  private changed(): void {
    if (this.notifyTimer !== undefined || this.stopped) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = undefined;
      for (const cb of [...this.subscribers]) cb();
    }, this.o.debounceMs ?? 50);
  }

  /** Applies one record (put) or its absence (delete); true when the map changed. */
  private apply(map: Map<string, string>, key: string, value: unknown): boolean {
    const id = key.slice(VIPS_PREFIX.length);
    if (value === null || value === undefined) return map.delete(id);
    try {
      const r = decodeVipRecord(key, typeof value === 'string' ? value : JSON.stringify(value));
      const id2 = `${r.namespace}/${r.service}`;
      if (map.get(id2) === r.vip) return false;
      map.set(id2, r.vip);
      return true;
    } catch (e) {
      this.o.log.warn({ key, err: (e as Error).message }, 'ignoring an unreadable VIP record');
      return map.delete(id);
    }
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wake = undefined;
  }

  private async follow(): Promise<void> {
    const initial = this.o.initialBackoffMs ?? 200;
    let backoff = initial;
    while (!this.stopped) {
      try {
        const snap = await this.o.client.snapshot([VIPS_PREFIX]);
        if (this.stopped) break;
        const fresh = new Map<string, string>();
        for (const r of snap.records) if (r.key.startsWith(VIPS_PREFIX)) this.apply(fresh, r.key, r.value);
        const same = this.vips !== undefined && fresh.size === this.vips.size && [...fresh].every(([k, v]) => this.vips!.get(k) === v);
        this.vips = fresh;
        this.snapshots++;
        if (!same) this.changed();
        const stream = await this.o.client.watch({ since: snap.revision, prefix: VIPS_PREFIX });
        this.stream = stream;
        this.connected = true;
        // Live again: the merge may now trust the map to withdraw VIPs (vip_merge.ts).
        this.changed();
        backoff = initial;
        if (this.failing) this.o.log.info({ vips: fresh.size }, 'following the daemon\'s VIPs again');
        else this.o.log.info({ vips: fresh.size }, 'following the daemon\'s VIPs');
        this.failing = false;
        for await (const e of stream) {
          if (!e.key.startsWith(VIPS_PREFIX)) continue;
          if (this.apply(fresh, e.key, e.type === 'delete' ? null : e.value)) this.changed();
        }
        if (!this.stopped) throw new Error('the daemon ended the watch');
      } catch (e) {
        if (this.stopped) break;
        // Log the first failure of a run at warn, repeats at debug: a daemon down for an hour is one line.
        const msg = (e as Error).message;
        if (!this.failing) this.o.log.warn({ err: msg, retryMs: backoff }, 'daemon VIP feed failed; keeping the last VIPs and retrying');
        else this.o.log.debug({ err: msg, retryMs: backoff }, 'daemon VIP feed still failing');
        this.failing = true;
      } finally {
        this.stream?.close();
        this.stream = null;
        if (this.connected) {
          this.connected = false;
          this.changed();
        }
      }
      if (this.stopped) break;
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, this.o.maxBackoffMs ?? 10_000);
    }
  }
}
