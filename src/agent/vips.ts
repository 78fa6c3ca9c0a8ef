/**
 * The VIP keeper: brings up exactly the Romana VIPs whose record names this
 * node as holder, and only while this agent is in contact with the daemon.
 *
 * Design:
 * - Follows `vips/` on its own (GET /snapshot then GET /watch with that
 *   prefix), separate from the firewall's follower, so a slow firewall
 *   apply never delays a failover.
 * - Desired = records with holder == this node, *if* in contact: the last
 *   successful heartbeat was sent less than `ttl − margin` ago and the
 *   watch has not been down for that long. The daemon's lease lives at
 *   least `ttl` past the send, and the daemon only moves a VIP away from a
 *   live lease when the record changes (which the watch delivers) — so an
 *   agent that cannot see the daemon drops its VIPs before anyone else may
 *   take them: never two holders at once.
 * - Removing is immediate (record moved, contact lost); the driver applies
 *   on every change and every `tickMs` (also repairing what someone else
 *   changed on the interface).
 *
 * Concurrency rule: one apply at a time; changes during an apply set a
 * flag and trigger one more pass.
 */
import type { RomanaClient, WatchStream } from '../shared/api_client.js';
import type { Logger } from '../shared/log.js';
import { decodeVipRecord, VIPS_PREFIX, type VipRecord } from '../shared/records.js';
import type { VipDriver } from './drivers/vips.js';

export interface VipKeeperOptions {
  client: RomanaClient;
  driver: VipDriver;
  node: string;
  ttlSeconds: number;
  /** When the last successful heartbeat was sent (ms), or null. */
  lastHeartbeatOk: () => number | null;
  log: Logger;
  /** Safety margin before the lease could lapse (default 400 ms). */
  marginMs?: number;
  tickMs?: number;
  /** Re-read and repair the interface this often even without changes (default 5 s). */
  repairMs?: number;
  now?: () => number;
}

export class VipKeeper {
  /** store key -> record */
  readonly records = new Map<string, VipRecord>();
  /** VIPs on the interface after the last apply. */
  held: string[] = [];
  private stopped = false;
  private loop: Promise<void> | null = null;
  private stream: WatchStream | null = null;
  private watchDownSince: number | null;
  private timer: NodeJS.Timeout | null = null;
  private applying: Promise<void> | null = null;
  private again = false;
  private lastError = '';
  /** The desired set of the last successful apply ("a,b") and when it ran. */
  private lastApplied: string | null = null;
  private lastApplyAt = 0;
  private readonly now: () => number;

  constructor(private readonly o: VipKeeperOptions) {
    this.now = o.now ?? Date.now;
    this.watchDownSince = this.now();
  }

  start(): void {
    this.loop ??= this.follow();
    this.timer = setInterval(() => this.kick(), this.o.tickMs ?? 100);
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.stream?.close();
    await this.loop;
    await this.applying;
    // Stopping ends the heartbeats, so the daemon will give these VIPs to another node: let go now.
    try {
      const r = await this.o.driver.apply(new Set());
      for (const v of r.removed) this.o.log.info({ vip: v }, `VIP ${v} taken down (agent stopping)`);
    } catch (e) {
      this.o.log.error({ err: e }, `cannot take the VIPs down while stopping: ${(e as Error).message}`);
    }
  }

  /** True while the daemon cannot yet have given this node's VIPs to another. */
  inContact(): boolean {
    const budget = this.o.ttlSeconds * 1000 - (this.o.marginMs ?? 400);
    const hb = this.o.lastHeartbeatOk();
    const now = this.now();
    if (hb === null || now - hb >= budget) return false;
    return this.watchDownSince === null || now - this.watchDownSince < budget;
  }

  desired(): Set<string> {
    const out = new Set<string>();
    if (!this.inContact()) return out;
    for (const r of this.records.values()) if (r.holder === this.o.node) out.add(r.vip);
    return out;
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.applying) {
      this.again = true;
      return;
    }
    this.applying = (async () => {
      do {
        this.again = false;
        const want = this.desired();
        const sig = [...want].sort().join(',');
        // The tick only re-checks contact; the kernel is read when something changed, or to repair.
        if (sig === this.lastApplied && this.now() - this.lastApplyAt < (this.o.repairMs ?? 5000)) continue;
        try {
          const r = await this.o.driver.apply(want);
          this.held = [...want].sort();
          for (const v of r.added) this.o.log.info({ vip: v }, `VIP ${v} brought up on this node`);
          for (const v of r.removed) this.o.log.info({ vip: v, inContact: this.inContact() }, `VIP ${v} taken down on this node`);
          this.lastError = '';
          this.lastApplied = sig;
          this.lastApplyAt = this.now();
        } catch (e) {
          const msg = (e as Error).message;
          if (msg !== this.lastError) this.o.log.error({ err: e }, `VIP apply failed: ${msg}`);
          this.lastError = msg;
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.applying = null;
    });
  }

  private put(key: string, value: unknown): void {
    try {
      this.records.set(key, decodeVipRecord(key, typeof value === 'string' ? value : JSON.stringify(value)));
    } catch (e) {
      this.records.delete(key);
      this.o.log.warn({ key, err: e }, `ignoring an unreadable VIP record: ${(e as Error).message}`);
    }
  }

  private async follow(): Promise<void> {
    let backoff = 100;
    while (!this.stopped) {
      try {
        const snap = await this.o.client.snapshot([VIPS_PREFIX]);
        this.records.clear();
        for (const r of snap.records) if (r.key.startsWith(VIPS_PREFIX)) this.put(r.key, r.value);
        const stream = await this.o.client.watch({ since: snap.revision, prefix: VIPS_PREFIX });
        this.stream = stream;
        this.watchDownSince = null;
        backoff = 100;
        this.kick();
        for await (const e of stream) {
          if (!e.key.startsWith(VIPS_PREFIX)) continue;
          if (e.type === 'delete') this.records.delete(e.key);
          else this.put(e.key, e.value);
          this.kick();
        }
      } catch (e) {
        if (!this.stopped) this.o.log.warn({ err: e }, `VIP watch failed: ${(e as Error).message}; re-listing`);
      }
      this.stream = null;
      this.watchDownSince ??= this.now();
      if (this.stopped) break;
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 2000);
    }
  }
}
