/**
 * The agent's liveness lease: POST /hosts/{node}/heartbeat every ttl/3, so
 * the daemon's `leases/agents/<node>` key lives while the agent does (VIP
 * failover and liveness views follow that key).
 *
 * Design: a failed beat is logged (once per distinct error, then at most
 * every minute) and counted; the next beat is still on schedule — two more
 * chances before the lease lapses. A host that is not registered yet (the
 * listener registers nodes) is reported as such.
 *
 * Concurrency rule: one beat in flight at a time; stop() waits for it.
 */
import { isRomanaError } from '../core/errors.js';
import type { RomanaClient } from '../shared/api_client.js';
import type { Logger } from '../shared/log.js';
import type { AgentMetrics } from './metrics.js';

export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private stopped = false;
  private lastError = '';
  private lastLogged = 0;
  /** Successful beats so far (tests). */
  beats = 0;
  /**
   * When the last successful beat was *sent* (ms, Date.now()), or null.
   * The daemon's lease runs at least `ttl` from its receipt, so it is alive
   * until at least this + ttl: the VIP keeper drops VIPs before then.
   */
  lastOkSentAt: number | null = null;

  constructor(
    private readonly client: RomanaClient,
    private readonly node: string,
    private readonly ttlSeconds: number,
    private readonly log: Logger,
    private readonly metrics?: AgentMetrics,
  ) {}

  start(): void {
    this.beat();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
  }

  private beat(): void {
    if (this.stopped) return;
    const sentAt = Date.now();
    this.inFlight = this.client
      .heartbeat(this.node, this.ttlSeconds)
      .then(
        (r) => {
          this.beats++;
          this.lastOkSentAt = sentAt;
          if (this.lastError !== '') this.log.info({ lease: r.lease }, 'heartbeat accepted again');
          this.lastError = '';
        },
        (e: unknown) => {
          this.metrics?.heartbeatFailures.inc();
          const msg = isRomanaError(e) && e.code === 'HOST_NOT_FOUND' ? `host ${JSON.stringify(this.node)} is not registered with the daemon yet` : (e as Error).message;
          if (msg !== this.lastError || Date.now() - this.lastLogged > 60_000) {
            this.log.warn({ err: e }, `heartbeat failed: ${msg}`);
            this.lastLogged = Date.now();
          }
          this.lastError = msg;
        },
      )
      .finally(() => {
        this.inFlight = null;
        if (!this.stopped) this.timer = setTimeout(() => this.beat(), (this.ttlSeconds * 1000) / 3);
      });
  }
}
