/**
 * Romana VIPs from the daemon merged into the cluster state, by Service
 * namespace/name, so a Service's A answer carries its VIP before (and
 * whether or not) romana-listener copies it into spec.externalIPs.
 *
 * Merge rule for a Service with daemon VIP `d` (maybe none) and listener
 * marker `l` (the external IP the listener added for its VIP, if any):
 * - `d` is appended to the external IPs when missing — at the end, where
 *   the listener's patch will put it, so the answer's order does not move
 *   when the patch arrives;
 * - `l` is dropped when it differs from `d`: it is a VIP the daemon has
 *   moved or withdrawn and the listener has yet to take back — but only
 *   while the daemon feed is live: from a stale map it could be a VIP the
 *   daemon gained while we could not see it, and Kubernetes data is never
 *   dropped on the word of an unreachable daemon;
 * - external IPs the user set are never touched.
 * Until the daemon has been read once, the state passes unchanged (the
 * Kubernetes data alone is served); afterwards the last known VIPs stay in
 * force while the daemon is unreachable.
 *
 * Concurrency rule: `mergeVips` is pure and returns the input when nothing
 * changes; `VipMergedSource` memoises one merge per (state, VIP change).
 */
import type { ClusterSource, ClusterState, ServiceInfo } from './cluster.js';

export function mergeVips(state: ClusterState, vips: ReadonlyMap<string, string> | undefined, live = true): ClusterState {
  if (vips === undefined) return state;
  let services: ServiceInfo[] | undefined;
  state.services.forEach((svc, i) => {
    if (svc.type === 'ExternalName') return;
    const d = vips.get(`${svc.namespace}/${svc.name}`);
    const l = live ? svc.listenerVip : undefined;
    if (d === undefined && l === undefined) return;
    const next = svc.externalIPs.filter((ip) => ip !== l || ip === d);
    if (d !== undefined && !next.includes(d)) next.push(d);
    if (next.length === svc.externalIPs.length && next.every((ip, j) => ip === svc.externalIPs[j])) return;
    services ??= state.services.slice();
    services[i] = { ...svc, externalIPs: next };
  });
  return services === undefined ? state : { ...state, services };
}

/** What the merge needs of the daemon feed (vip_source.ts). */
export interface VipView {
  current(): ReadonlyMap<string, string> | undefined;
  /** The map is up to date (the watch is open); onChange fires when this flips too. */
  readonly connected: boolean;
  onChange(cb: () => void): () => void;
}

/** A ClusterSource: `base` with the daemon's VIPs merged in; changes when either does. */
export class VipMergedSource implements ClusterSource {
  private cached: { base: ClusterState; vipEpoch: number; merged: ClusterState } | undefined;
  private vipEpoch = 0;
  private readonly subscribers = new Set<() => void>();

  constructor(
    private readonly base: ClusterSource,
    private readonly vips: VipView,
  ) {
    base.onChange(() => this.notify());
    vips.onChange(() => {
      this.vipEpoch++;
      // No state yet: nothing to re-serve; the base's first publication will merge these.
      if (this.base.current() !== undefined) this.notify();
    });
  }

  current(): ClusterState | undefined {
    const base = this.base.current();
    if (base === undefined) return undefined;
    const c = this.cached;
    if (c !== undefined && c.base === base && c.vipEpoch === this.vipEpoch) return c.merged;
    const merged = mergeVips(base, this.vips.current(), this.vips.connected);
    this.cached = { base, vipEpoch: this.vipEpoch, merged };
    return merged;
  }

  onChange(cb: () => void): () => void {
    this.subscribers.add(cb);
    return () => this.subscribers.delete(cb);
  }

  private notify(): void {
    for (const cb of [...this.subscribers]) cb();
  }
}
