/**
 * The Kubernetes feed of romana-dns: a ClusterSource kept by list+watch of
 * Namespaces, Services and EndpointSlices (or the core Endpoints, with
 * `endpointsApi: 'endpoints'`), on the same informer code as
 * romana-listener (src/listener/kube.ts: bookmarks, server-side timeouts,
 * relist on 410 Gone with deletes diffed in, restart with back-off).
 *
 * Design:
 * - Objects are reduced on arrival (kube_objects.ts) by the informer's
 *   `transform` hook and lists come in pages, so neither the cache nor a
 *   list holds full objects. Pods are not followed: pod names are
 *   synthesised from the query (records.ts, kube-dns "pods insecure").
 * - Nothing is published before every cache has synced (STYLE §3): until
 *   then `current()` is undefined and /readyz says not ready.
 * - Events only mark the state dirty; one rebuild runs `debounceMs` after
 *   the last event, and at most `maxDelayMs` after the first, so an event
 *   storm is one rebuild and a steady drizzle still shows within a second.
 *   A rebuild makes a new ClusterState from the caches (sharing their
 *   immutable compact parts) and replaces the old one wholesale.
 *
 * Concurrency rule: one event loop; informer callbacks only mark dirty.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { makeResourceInformer, type ResourceInformer } from '../src/listener/kube.js';
import type { Logger } from '../src/shared/log.js';
import type { ClusterSource, ClusterState, EndpointSubset, ServiceInfo } from './cluster.js';
import { clusterStateFrom, compactEndpoints, compactEndpointSlice, compactNamespace, compactService, type CompactObject, type EndpointsApi, type SlicePart } from './kube_objects.js';

export type DnsResource = 'namespaces' | 'services' | 'endpoints' | 'endpointslices';

/** What romana-dns follows, where, and how each object is reduced. */
export function dnsResources(api: EndpointsApi): Array<{ resource: DnsResource; path: string; transform: (o: unknown) => unknown }> {
  return [
    { resource: 'namespaces', path: '/api/v1/namespaces', transform: compactNamespace },
    { resource: 'services', path: '/api/v1/services', transform: compactService },
    api === 'endpoints'
      ? { resource: 'endpoints', path: '/api/v1/endpoints', transform: compactEndpoints }
      : { resource: 'endpointslices', path: '/apis/discovery.k8s.io/v1/endpointslices', transform: compactEndpointSlice },
  ];
}

export interface KubeSourceOptions {
  kc: KubeConfig;
  log: Logger;
  /** Default endpointslices. */
  endpointsApi?: EndpointsApi;
  /** Quiet time after the last event before a rebuild (default 150 ms). */
  debounceMs?: number;
  /** Longest a change waits while events keep coming (default 1 s). */
  maxDelayMs?: number;
  /** Items per list page (default 500, client-go's). */
  pageSize?: number;
  /** A full list was made (first sync, 410 Gone, restart): for metrics. */
  onList?: (resource: DnsResource) => void;
}

export class KubeClusterSource implements ClusterSource {
  /** resource → its informer. */
  private readonly informers = new Map<DnsResource, ResourceInformer>();
  private readonly subscribers = new Set<() => void>();
  private state: ClusterState | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the oldest unpublished change arrived (ms), or undefined when clean. */
  private dirtySince: number | undefined;
  private stopped = false;
  /** States published so far (tests and metrics). */
  rebuilds = 0;

  constructor(private readonly o: KubeSourceOptions) {
    for (const r of dnsResources(o.endpointsApi ?? 'endpointslices')) {
      const transform = r.transform as (o: unknown) => KubernetesObject;
      this.informers.set(
        r.resource,
        makeResourceInformer(
          o.kc,
          r.resource,
          r.path,
          { upsert: () => this.markDirty(), remove: () => this.markDirty() },
          o.log,
          { transform, pageSize: o.pageSize ?? 500, onSynced: () => this.onSynced(), onList: () => o.onList?.(r.resource) },
        ),
      );
    }
  }

  start(): void {
    for (const i of this.informers.values()) i.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }

  current(): ClusterState | undefined {
    return this.state;
  }

  onChange(cb: () => void): () => void {
    this.subscribers.add(cb);
    return () => this.subscribers.delete(cb);
  }

  /** Every cache has its first list. */
  get synced(): boolean {
    return [...this.informers.values()].every((i) => i.synced);
  }

  /** resource → synced, for /readyz and metrics. */
  syncStatus(): Partial<Record<DnsResource, boolean>> {
    const out: Partial<Record<DnsResource, boolean>> = {};
    for (const [r, i] of this.informers) out[r] = i.synced;
    return out;
  }

  /** resource → full lists made so far. */
  listCounts(): Partial<Record<DnsResource, number>> {
    const out: Partial<Record<DnsResource, number>> = {};
    for (const [r, i] of this.informers) out[r] = i.lists;
    return out;
  }

  private onSynced(): void {
    // The first complete picture is published at once; later ones are debounced.
    if (this.state === undefined && this.synced) this.rebuild();
  }

  private markDirty(): void {
    // Before the first sync the initial lists are still arriving: onSynced publishes them together.
    if (this.stopped || this.state === undefined) return;
    const now = Date.now();
    this.dirtySince ??= now;
    clearTimeout(this.timer);
    const delay = Math.max(0, Math.min(this.o.debounceMs ?? 150, this.dirtySince + (this.o.maxDelayMs ?? 1000) - now));
    this.timer = setTimeout(() => this.rebuild(), delay);
  }

  private rebuild(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.dirtySince = undefined;
    const list = <T>(r: DnsResource): CompactObject<T>[] => (this.informers.get(r)?.list() ?? []) as unknown as CompactObject<T>[];
    this.state = clusterStateFrom(list<null>('namespaces'), list<ServiceInfo>('services'), list<EndpointSubset[]>('endpoints'), list<SlicePart | null>('endpointslices'));
    this.rebuilds++;
    for (const cb of [...this.subscribers]) cb();
  }
}
