/**
 * Pure Kubernetes → Romana translation for romana-listener: what the daemon
 * should hold for each Node, Namespace, Pod, NetworkPolicy and annotated
 * Service, and how the IPAM's CNI address names map back to pods.
 *
 * Design: functions of raw Kubernetes JSON (as the API server sends it —
 * the listener never uses the generated typed models, whose field names
 * differ from the wire's, e.g. `_from`) to the daemon's request bodies. No
 * I/O, no clocks: the controller (controller.ts) owns time and retries.
 * Fixes over the original (reference §3.2, §1.4, §12):
 * - a node's address is its InternalIP (IPv4), not `addresses[0]`;
 * - NetworkPolicies are passed on whole (the agents compile full v1
 *   semantics), so selectors are never widened, and MODIFIED events apply;
 * - hosts the listener registers carry the MANAGED_TAG mark, and only marked
 *   hosts are ever removed (the original removed predefined hosts too).
 *
 * Concurrency rule: none needed — no shared state.
 */
import { INSTANCE_TAGS } from '../core/aws/instance_id.js';
import type { EndpointRequest, HostRequest } from '../shared/api_types.js';

/** Tag on every host the listener registered: only these are its to remove. */
export const MANAGED_TAG = 'romana.io/managed-by';
export const MANAGED_VALUE = 'romana-listener';
/** The documented annotation (seed) and the one the original's code read. */
export const VIP_ANNOTATIONS = ['romanaip', 'romanavip'] as const;
export const DEFAULT_SEGMENT_LABEL = 'romana.io/segment';
/** Host tag carrying the node's spec.providerID (romana-aws finds the EC2 instance by it: the first of its INSTANCE_TAGS). */
export const PROVIDER_ID_TAG = INSTANCE_TAGS[0];

// ---------- raw Kubernetes JSON (only the fields read here) ----------

export interface KubeMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: KubeMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: unknown): s is string {
  return typeof s === 'string' && IPV4_RE.test(s);
}

/** "ns/name" for namespaced objects, "name" for cluster-scoped ones. */
export function objectKey(o: KubeObject): string {
  const md = o.metadata ?? {};
  return md.namespace ? `${md.namespace}/${md.name ?? ''}` : (md.name ?? '');
}

// ---------- nodes → hosts ----------

export type HostPlan = { ok: true; host: Required<Pick<HostRequest, 'name' | 'ip' | 'tags'>> } | { ok: false; reason: string };

/**
 * The host a Node should be: InternalIP (first IPv4 one) preferred, then
 * ExternalIP, then any IPv4 address; tags = node labels + the managed mark
 * + PROVIDER_ID_TAG = spec.providerID when the node has one.
 */
export function nodeToHost(node: KubeObject): HostPlan {
  const name = node.metadata?.name;
  if (!name) return { ok: false, reason: 'node has no name' };
  const addrs = (node.status?.addresses ?? []) as Array<{ type?: string; address?: string }>;
  const pick = (type: string | null): string | undefined => addrs.find((a) => (type === null || a.type === type) && isIPv4(a.address))?.address;
  const ip = pick('InternalIP') ?? pick('ExternalIP') ?? pick(null);
  if (ip === undefined) return { ok: false, reason: `node ${JSON.stringify(name)} has no IPv4 address in status.addresses` };
  const providerId = node.spec?.providerID;
  const tags: Record<string, string> = { ...(node.metadata?.labels ?? {}), [MANAGED_TAG]: MANAGED_VALUE };
  if (typeof providerId === 'string' && providerId !== '') tags[PROVIDER_ID_TAG] = providerId;
  return { ok: true, host: { name, ip, tags } };
}

/** True for hosts the listener registered (and so may remove). */
export function isManagedHost(tags: Record<string, string> | undefined): boolean {
  return tags?.[MANAGED_TAG] === MANAGED_VALUE;
}

// ---------- namespaces → tenants ----------

/** PUT /tenants/{name} {labels}; null for a namespace being deleted (its tenant goes when it is gone). */
export function namespaceToTenant(ns: KubeObject): { name: string; labels: Record<string, string> } | null {
  const name = ns.metadata?.name;
  if (!name) return null;
  return { name, labels: { ...(ns.metadata?.labels ?? {}) } };
}

// ---------- pods → endpoints ----------

export interface EndpointPlan {
  namespace: string;
  pod: string;
  body: Required<Pick<EndpointRequest, 'labels' | 'ports'>>;
  /** Value of the segment label, if any (the tenant's segment is ensured). */
  segment: string | null;
}

const TERMINAL_PHASES = new Set(['Succeeded', 'Failed']);

/** A pod whose network is gone (or never Romana's): hostNetwork pods and finished ones. */
export function podHasRomanaNetwork(pod: KubeObject): boolean {
  if (pod.spec?.hostNetwork === true) return false;
  const phase = pod.status?.phase;
  return !(typeof phase === 'string' && TERMINAL_PHASES.has(phase));
}

/**
 * The endpoint fields the listener owns for a pod (labels and container
 * ports; the CNI plugin owns ip and node), or null when the pod should have
 * no endpoint (hostNetwork, finished).
 */
export function podToEndpoint(pod: KubeObject, segmentLabel = DEFAULT_SEGMENT_LABEL): EndpointPlan | null {
  const md = pod.metadata ?? {};
  if (!md.name || !md.namespace || !podHasRomanaNetwork(pod)) return null;
  const ports: EndpointPlan['body']['ports'] = [];
  const containers = (pod.spec?.containers ?? []) as Array<{ ports?: Array<{ name?: string; containerPort?: number; protocol?: string }> }>;
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (typeof p.containerPort !== 'number') continue;
      const protocol = (p.protocol ?? 'TCP') as 'TCP' | 'UDP' | 'SCTP';
      ports.push({ ...(p.name ? { name: p.name } : {}), containerPort: p.containerPort, protocol });
    }
  }
  const labels = { ...(md.labels ?? {}) };
  const seg = labels[segmentLabel];
  return { namespace: md.namespace, pod: md.name, body: { labels, ports }, segment: seg ? seg : null };
}

// ---------- NetworkPolicies ----------

/**
 * The object PUT to /k8s/networkpolicies/{ns}/{name}: the policy whole
 * (spec untouched: selectors keep their meaning), metadata reduced to what
 * identifies it, so a resync of an unchanged policy is an identical PUT
 * (the daemon then writes nothing) even though resourceVersion moved.
 */
export function policyForDaemon(np: KubeObject): { namespace: string; name: string; object: Record<string, unknown> } | null {
  const md = np.metadata ?? {};
  if (!md.name || !md.namespace) return null;
  const metadata: Record<string, unknown> = { name: md.name, namespace: md.namespace };
  if (md.uid) metadata.uid = md.uid;
  if (md.labels && Object.keys(md.labels).length > 0) metadata.labels = { ...md.labels };
  return {
    namespace: md.namespace,
    name: md.name,
    object: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata, spec: np.spec ?? {} },
  };
}

// ---------- Services with the VIP annotation ----------

export type VipPlan =
  | { ok: true; annotation: string; ip: string; auto: false }
  | { ok: true; annotation: string; ip: null; auto: true }
  | { ok: false; annotation: string; reason: string };

/**
 * The VIP a Service asks for (`romanaip` documented, `romanavip` the
 * original's; value `{"auto": false, "ip": "…"}` or `{"auto": true}`),
 * null without either annotation. `auto: true` leaves the address to the
 * daemon's --vip-pool (the original refused it); an explicit IPv4 `ip` is
 * required otherwise.
 */
export function serviceVip(svc: KubeObject): VipPlan | null {
  const ann = svc.metadata?.annotations ?? {};
  const key = VIP_ANNOTATIONS.find((k) => ann[k] !== undefined);
  if (key === undefined) return null;
  let v: unknown;
  try {
    v = JSON.parse(ann[key]!);
  } catch {
    return { ok: false, annotation: key, reason: `annotation ${key} is not JSON: ${JSON.stringify(ann[key])}` };
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as { auto?: unknown; ip?: unknown };
  if (o.auto !== undefined && typeof o.auto !== 'boolean') return { ok: false, annotation: key, reason: `annotation ${key}: "auto" must be a boolean` };
  if (o.auto === true) return { ok: true, annotation: key, ip: null, auto: true };
  if (!isIPv4(o.ip)) return { ok: false, annotation: key, reason: `annotation ${key}: "ip" ${JSON.stringify(o.ip ?? null)} is not an IPv4 address` };
  return { ok: true, annotation: key, ip: o.ip, auto: false };
}

/**
 * The VIP candidates of a Service: the node names of the READY addresses
 * of its Endpoints object (`subsets[].addresses[].nodeName`; the
 * `notReadyAddresses` are not candidates), deduplicated and sorted. No
 * Endpoints object → no candidates.
 */
export function readyEndpointNodes(endpoints: KubeObject | undefined): string[] {
  const subsets = ((endpoints as { subsets?: unknown } | undefined)?.subsets ?? []) as Array<{ addresses?: Array<{ nodeName?: unknown }> }>;
  const nodes = new Set<string>();
  for (const s of Array.isArray(subsets) ? subsets : []) {
    for (const a of s.addresses ?? []) if (typeof a.nodeName === 'string' && a.nodeName !== '') nodes.add(a.nodeName);
  }
  return [...nodes].sort();
}

/** Annotation the listener puts on a Service: the externalIP it added (its VIP), so it removes only that one. */
export const VIP_EXTERNAL_IP_ANNOTATION = 'romana.io/vip-external-ip';

/**
 * The JSON merge patch that makes a Service's `spec.externalIPs` show its
 * VIP (`vip`), or no longer show it (`vip` null), keeping every other
 * external IP; null when nothing is to change. The address the listener
 * added is remembered in VIP_EXTERNAL_IP_ANNOTATION, and the patch carries
 * the cached resourceVersion (the server refuses it if the Service moved
 * on, so an external IP added meanwhile is never lost).
 */
export function externalIpsPatch(svc: KubeObject, vip: string | null): Record<string, unknown> | null {
  const prev = svc.metadata?.annotations?.[VIP_EXTERNAL_IP_ANNOTATION];
  const raw = svc.spec?.externalIPs;
  const cur = Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string') : [];
  const want = cur.filter((x) => x !== prev || x === vip);
  if (vip !== null && !want.includes(vip)) want.push(vip);
  if (sameList(want, cur) && (prev ?? null) === vip) return null;
  return {
    metadata: { resourceVersion: svc.metadata?.resourceVersion, annotations: { [VIP_EXTERNAL_IP_ANNOTATION]: vip } },
    spec: { externalIPs: want.length > 0 ? want : null },
  };
}

/** Same string lists, in order. */
export function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// ---------- IPAM address names made by the CNI plugin ----------

export interface CniAddressName {
  namespace: string;
  pod: string;
  containerId: string;
  ifname: string;
}

/** `cni:<ns>:<pod>:<containerid>:<ifname>` → its parts; null for any other name (not the CNI's: never touched). */
export function parseCniAddressName(name: string): CniAddressName | null {
  const parts = name.split(':');
  if (parts.length !== 5 || parts[0] !== 'cni') return null;
  const [, namespace, pod, containerId, ifname] = parts as [string, string, string, string, string];
  if (!namespace || !pod || !containerId || !ifname) return null;
  return { namespace, pod, containerId, ifname };
}

// ---------- comparisons ----------

/** Same label maps (order-insensitive). */
export function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ea = Object.entries(a ?? {});
  if (ea.length !== Object.keys(b ?? {}).length) return false;
  return ea.every(([k, v]) => (b ?? {})[k] === v);
}

/**
 * Leak bookkeeping for one scan, pure: given the CNI addresses, which pods
 * are alive, when each address was first seen orphaned and the grace, the
 * addresses now past grace and the updated "orphaned since" map
 * (address name → ms). An address whose pod is alive is never a leak.
 */
export function scanLeaks(
  addresses: ReadonlyArray<{ name: string; ip: string }>,
  podAlive: (namespace: string, pod: string) => boolean,
  orphanedSince: ReadonlyMap<string, number>,
  now: number,
  graceMs: number,
): { leaked: Array<{ name: string; ip: string; since: number }>; orphanedSince: Map<string, number> } {
  const next = new Map<string, number>();
  const leaked: Array<{ name: string; ip: string; since: number }> = [];
  for (const a of addresses) {
    const parsed = parseCniAddressName(a.name);
    if (parsed === null || podAlive(parsed.namespace, parsed.pod)) continue;
    const since = orphanedSince.get(a.name) ?? now;
    next.set(a.name, since);
    if (now - since >= graceMs) leaked.push({ name: a.name, ip: a.ip, since });
  }
  return { leaked, orphanedSince: next };
}
