/**
 * Lookups over a ClusterView that the renderer (and the simulator) need:
 * namespace labels, pods by namespace with parsed addresses, selector
 * results, tenant/segment members, named ports.
 *
 * Design: built once per (view object, segment label) and memoized in a
 * WeakMap, because the renderer is called for every node of the same view;
 * selector results are memoized by the selector's canonical text. The view
 * is treated as immutable (its types are readonly): a caller that changes a
 * view must pass a new object. Pure (memoization is invisible).
 */
import { parseCidr4, parseIPv4, type Cidr4 } from '../ip.js';
import type { BlockInfo, ClusterView, L4Protocol, NamespaceScope, PodInfo } from './model.js';
import { selectorKey, selectorMatches, type LabelSelector } from './selector.js';

/** The label Kubernetes puts on every namespace (since 1.21), holding its name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface IndexedPod {
  readonly pod: PodInfo;
  /** Address as an unsigned 32-bit number. */
  readonly ip: number;
  /** Segment label value, "" when absent. */
  readonly segment: string;
}

export interface IndexedBlock {
  readonly block: BlockInfo;
  readonly cidr: Cidr4;
}

export class ViewIndex {
  /** namespace name → labels, with the implicit name label. */
  readonly nsLabels = new Map<string, Readonly<Record<string, string>>>();
  /** Pods with a valid IPv4 address, in view order. */
  readonly pods: IndexedPod[] = [];
  /** namespace → its pods. */
  readonly podsByNs = new Map<string, IndexedPod[]>();
  /** node → its pods. */
  readonly podsByNode = new Map<string, IndexedPod[]>();
  readonly blocks: IndexedBlock[] = [];
  /** Pods of the view left out (no IPv4 address): "<ns>/<name>". */
  readonly skippedPods: string[] = [];
  private readonly scopeCache = new Map<string, readonly IndexedPod[]>();
  private readonly namedCache = new Map<string, ReadonlyMap<number, readonly IndexedPod[]>>();
  private readonly nsSelCache = new Map<string, readonly string[]>();

  constructor(
    view: Pick<ClusterView, 'namespaces' | 'pods' | 'blocks'>,
    readonly segmentLabel: string,
  ) {
    for (const ns of view.namespaces) this.nsLabels.set(ns.name, { [NAMESPACE_NAME_LABEL]: ns.name, ...ns.labels });
    for (const pod of view.pods) {
      const ip = parseIPv4(pod.ip);
      if (ip === null) {
        this.skippedPods.push(`${pod.namespace}/${pod.name}`);
        continue;
      }
      // A namespace only pods mention still exists, with its implicit label.
      if (!this.nsLabels.has(pod.namespace)) this.nsLabels.set(pod.namespace, { [NAMESPACE_NAME_LABEL]: pod.namespace });
      const ip2: IndexedPod = { pod, ip, segment: pod.labels[segmentLabel] ?? '' };
      this.pods.push(ip2);
      push(this.podsByNs, pod.namespace, ip2);
      push(this.podsByNode, pod.node, ip2);
    }
    for (const block of view.blocks) {
      const r = parseCidr4(block.cidr);
      if (r.ok) this.blocks.push({ block, cidr: r.cidr });
    }
  }

  /** Namespaces whose labels match `sel`, sorted. */
  namespacesMatching(sel: LabelSelector): readonly string[] {
    const key = selectorKey(sel);
    let r = this.nsSelCache.get(key);
    if (!r) {
      r = [...this.nsLabels.entries()].filter(([, labels]) => selectorMatches(sel, labels)).map(([n]) => n).sort();
      this.nsSelCache.set(key, r);
    }
    return r;
  }

  /** Pods matching `sel` in the namespaces of `scope`, cluster-wide. */
  podsIn(scope: NamespaceScope, sel: LabelSelector): readonly IndexedPod[] {
    const key = `${scopeKey(scope)}\0${selectorKey(sel)}`;
    let r = this.scopeCache.get(key);
    if (!r) {
      const namespaces = scope.kind === 'name' ? [scope.name] : this.namespacesMatching(scope.selector);
      const out: IndexedPod[] = [];
      for (const ns of namespaces) for (const p of this.podsByNs.get(ns) ?? []) if (selectorMatches(sel, p.pod.labels)) out.push(p);
      r = out;
      this.scopeCache.set(key, r);
    }
    return r;
  }

  /** For a port name and protocol: number → the pods (cluster-wide, view order) whose port of that name has it. */
  namedPort(protocol: L4Protocol, name: string): ReadonlyMap<number, readonly IndexedPod[]> {
    const key = `${protocol}/${name}`;
    let r = this.namedCache.get(key);
    if (!r) {
      const m = new Map<number, IndexedPod[]>();
      for (const p of this.pods) {
        const n = namedPortOf(p.pod, protocol, name);
        if (n !== undefined) push(m, n, p);
      }
      r = m;
      this.namedCache.set(key, r);
    }
    return r;
  }

  /** Pods of tenant (= namespace) [and segment]. */
  tenantPods(tenant: string, segment: string | undefined): IndexedPod[] {
    return (this.podsByNs.get(tenant) ?? []).filter((p) => segment === undefined || p.segment === segment);
  }

  tenantBlocks(tenant: string, segment: string | undefined): IndexedBlock[] {
    return this.blocks.filter((b) => b.block.tenant === tenant && (segment === undefined || b.block.segment === segment));
  }
}

/** The number a pod's port named `name` has for `protocol`, if any. */
export function namedPortOf(pod: PodInfo, protocol: L4Protocol, name: string): number | undefined {
  for (const p of pod.ports) {
    if (p.name === name && (p.protocol ?? 'TCP').toLowerCase() === protocol) return p.containerPort;
  }
  return undefined;
}

export function scopeKey(scope: NamespaceScope): string {
  return scope.kind === 'name' ? `ns:${scope.name}` : `nssel:${selectorKey(scope.selector)}`;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

const cache = new WeakMap<object, Map<string, ViewIndex>>();

/** The (memoized) index of `view` for `segmentLabel`. */
export function indexView(view: Pick<ClusterView, 'namespaces' | 'pods' | 'blocks'>, segmentLabel: string): ViewIndex {
  let m = cache.get(view);
  if (!m) {
    m = new Map();
    cache.set(view, m);
  }
  let idx = m.get(segmentLabel);
  if (!idx) {
    idx = new ViewIndex(view, segmentLabel);
    m.set(segmentLabel, idx);
  }
  return idx;
}
