/**
 * Agent heartbeats (POST /hosts/{name}/heartbeat): each registered host's
 * agent keeps a store key `leases/agents/<host>` alive; the key is attached
 * to a store lease, so it disappears by itself — and watchers see the
 * delete — when the agent stops calling (VIP failover and liveness views
 * follow that key).
 *
 * Design: the daemon that grants a lease remembers it and answers later
 * heartbeats with a keep-alive. Agents may reach any replica (a Service in
 * front of several daemons), so every heartbeat also checks that the key
 * is still attached to this replica's lease; when it is not (another
 * replica attached its own, or the key expired), this replica grants a
 * fresh lease and re-attaches the key. Cost: one get plus one keep-alive
 * per heartbeat on the common path.
 *
 * Concurrency rule: concurrent heartbeats for one host are serialised per
 * host (a promise chain), so they never grant two leases at once.
 */
import { RomanaError } from '../core/errors.js';
import type { Lease, Store } from '../store/store.js';
import { agentLeaseKey, type AgentLeaseRecord } from '../shared/records.js';

export const DEFAULT_HEARTBEAT_TTL_SECONDS = 15;
export const MIN_HEARTBEAT_TTL_SECONDS = 2;
export const MAX_HEARTBEAT_TTL_SECONDS = 300;

export interface HeartbeatResult {
  host: string;
  lease: string;
  ttl_seconds: number;
  /** True when this call granted a new lease (first heartbeat, expiry, or another replica's lease). */
  renewed: boolean;
}

export class HeartbeatService {
  /** host -> lease granted by this replica */
  private readonly leases = new Map<string, Lease>();
  /** host -> tail of the per-host queue */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: Store,
    private readonly hostExists: (name: string) => boolean,
  ) {}

  heartbeat(host: string, ttlSeconds: unknown = DEFAULT_HEARTBEAT_TTL_SECONDS): Promise<HeartbeatResult> {
    if (
      typeof ttlSeconds !== 'number' ||
      !Number.isInteger(ttlSeconds) ||
      ttlSeconds < MIN_HEARTBEAT_TTL_SECONDS ||
      ttlSeconds > MAX_HEARTBEAT_TTL_SECONDS
    ) {
      throw new RomanaError(
        'INVALID_ARGUMENT',
        `Invalid ttl_seconds ${JSON.stringify(ttlSeconds)}: must be an integer ${MIN_HEARTBEAT_TTL_SECONDS}-${MAX_HEARTBEAT_TTL_SECONDS}`,
        { details: { field: 'ttl_seconds', value: ttlSeconds ?? null } },
      );
    }
    if (!this.hostExists(host)) {
      throw new RomanaError('HOST_NOT_FOUND', `Host ${JSON.stringify(host)} is not registered: register it (POST /hosts) before sending heartbeats`, {
        resourceType: 'host',
        resourceId: host,
      });
    }
    const prev = this.queues.get(host) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.beat(host, ttlSeconds));
    this.queues.set(host, next);
    void next.finally(() => {
      if (this.queues.get(host) === next) this.queues.delete(host);
    }).catch(() => undefined);
    return next;
  }

  private async beat(host: string, ttl: number): Promise<HeartbeatResult> {
    const key = agentLeaseKey(host);
    const held = this.leases.get(host);
    if (held && held.ttlSeconds >= ttl && held.ttlSeconds - ttl < 1) {
      const kv = await this.store.get(key);
      if (kv && kv.lease === held.id) {
        try {
          await held.keepAlive();
          return { host, lease: held.id, ttl_seconds: held.ttlSeconds, renewed: false };
        } catch (e) {
          if (!(e instanceof RomanaError && e.code === 'NOT_FOUND')) throw e;
          // Expired between the get and the keep-alive: grant a new one below.
        }
      }
    }
    const lease = await this.store.grantLease(ttl);
    const rec: AgentLeaseRecord = { schema: 1, host, ttlSeconds: lease.ttlSeconds, grantedAt: new Date().toISOString() };
    await this.store.txn([], [{ op: 'put', key, value: JSON.stringify(rec), lease: lease.id }]);
    this.leases.set(host, lease);
    // The previous lease (if any) has no key left; let it lapse rather than spend a request revoking it.
    return { host, lease: lease.id, ttl_seconds: lease.ttlSeconds, renewed: true };
  }
}
