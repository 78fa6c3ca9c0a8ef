/**
 * Kubernetes objects (raw wire JSON, as list and watch deliver them:
 * Namespaces, Services, Endpoints, EndpointSlices) reduced on arrival to the
 * compact shapes of cluster.ts, and a ClusterState put together from them.
 *
 * Design (STYLE §10, memory target < 150 MB at 150k pods + 10k services):
 * the informer cache holds only `{metadata: {name, namespace,
 * resourceVersion}, dns}` per object — never the full object. Strings that
 * repeat across objects (namespaces, protocols, port names) are interned so
 * 150k endpoint addresses do not carry 150k copies of "default" and "tcp".
 * The shapes and defaults are the snapshot reader's (snapshot.ts), so
 * `--snapshot` and the watch serve the same answers for the same objects.
 *
 * Concurrency rule: pure; the intern table only ever grows by small
 * strings and is shared by design.
 */
import { VIP_EXTERNAL_IP_ANNOTATION } from '../src/listener/translate.js';
import { arr, obj, str, type Obj } from './json_values.js';
import type { ClusterState, EndpointAddress, EndpointSubset, ServiceInfo, ServicePort } from './cluster.js';

/** Where endpoint addresses come from: EndpointSlices (discovery.k8s.io/v1, what CoreDNS and kube-proxy read; not capped at 1000 addresses) or the core v1 Endpoints. */
export type EndpointsApi = 'endpointslices' | 'endpoints';
export const ENDPOINTS_APIS: readonly EndpointsApi[] = ['endpointslices', 'endpoints'];

/** What the informer caches per object: its keys and the DNS fields. */
export interface CompactObject<T> {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  dns: T;
}

const SERVICE_TYPES = new Set<ServiceInfo['type']>(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']);

/** Small repeated strings: one copy each. Bounded in practice by the number of namespaces and port names. */
const interned = new Map<string, string>();
const INTERN_LIMIT = 100_000;
function intern(s: string): string {
  const hit = interned.get(s);
  if (hit !== undefined) return hit;
  // A pathological cluster (100k distinct port names) stops interning rather than grow without bound.
  if (interned.size < INTERN_LIMIT) interned.set(s, s);
  return s;
}

function strings(v: unknown): string[] {
  return arr(v).map(str).filter((x): x is string => x !== undefined);
}

function meta(o: Obj): CompactObject<unknown>['metadata'] {
  const m = obj(o['metadata']);
  const namespace = str(m['namespace']);
  const resourceVersion = str(m['resourceVersion']);
  return { name: str(m['name']) ?? '', ...(namespace ? { namespace: intern(namespace) } : {}), ...(resourceVersion ? { resourceVersion } : {}) };
}

function ports(list: unknown): ServicePort[] {
  const out: ServicePort[] = [];
  for (const p of arr(list)) {
    const o = obj(p);
    const port = Number(o['port'] ?? 0);
    if (!Number.isInteger(port) || port <= 0 || port >= 65536) continue;
    out.push({ name: intern(str(o['name']) ?? ''), protocol: intern((str(o['protocol']) ?? 'TCP').toLowerCase()), port });
  }
  return out;
}

/**
 * A Service: type, cluster IPs (none when headless), external IPs, ports.
 * `listenerVip` is the external IP romana-listener added for the Service's
 * Romana VIP (its `romana.io/vip-external-ip` annotation), so the VIP merge
 * can tell it from external IPs the user set.
 */
export function compactService(raw: unknown): CompactObject<ServiceInfo> {
  const o = obj(raw);
  const m = meta(o);
  const spec = obj(o['spec']);
  const t = str(spec['type']) as ServiceInfo['type'] | undefined;
  const type = t !== undefined && SERVICE_TYPES.has(t) ? t : 'ClusterIP';
  const ips = strings(spec['clusterIPs']);
  if (ips.length === 0 && str(spec['clusterIP'])) ips.push(str(spec['clusterIP'])!);
  const externalName = str(spec['externalName']);
  const listenerVip = str(obj(obj(o['metadata'])['annotations'])[VIP_EXTERNAL_IP_ANNOTATION]);
  return {
    metadata: m,
    dns: {
      namespace: m.namespace ?? 'default',
      name: m.name,
      type,
      clusterIPs: type === 'ExternalName' ? [] : ips.filter((ip) => ip !== 'None'),
      externalIPs: strings(spec['externalIPs']),
      ...(externalName ? { externalName: externalName.replace(/\.$/, '') } : {}),
      ports: ports(spec['ports']),
      publishNotReadyAddresses: spec['publishNotReadyAddresses'] === true,
      ...(listenerVip ? { listenerVip } : {}),
    },
  };
}

function address(ready: boolean) {
  return (a: unknown): EndpointAddress | undefined => {
    const ao = obj(a);
    const ip = str(ao['ip']);
    if (!ip) return undefined;
    const hostname = str(ao['hostname']);
    return hostname ? { ip, ready, hostname } : { ip, ready };
  };
}

/** An Endpoints object: its subsets, ready and not-ready addresses with their ports. */
export function compactEndpoints(raw: unknown): CompactObject<EndpointSubset[]> {
  const o = obj(raw);
  const subsets: EndpointSubset[] = [];
  for (const s of arr(o['subsets'])) {
    const so = obj(s);
    const addresses = [...arr(so['addresses']).map(address(true)), ...arr(so['notReadyAddresses']).map(address(false))].filter((a): a is EndpointAddress => a !== undefined);
    subsets.push({ addresses, ports: ports(so['ports']) });
  }
  return { metadata: meta(o), dns: subsets };
}

/** What one EndpointSlice contributes: the Service it belongs to and its addresses with their ports. */
export interface SlicePart {
  service: string;
  subset: EndpointSubset;
}

/**
 * An EndpointSlice (discovery.k8s.io/v1): one subset of the Service named
 * by its `kubernetes.io/service-name` label; null for a slice of no
 * Service or of FQDN addresses (names, not IPs). A missing `ready`
 * condition means ready, as the API documents.
 */
export function compactEndpointSlice(raw: unknown): CompactObject<SlicePart | null> {
  const o = obj(raw);
  const m = meta(o);
  const service = str(obj(obj(o['metadata'])['labels'])['kubernetes.io/service-name']);
  if (!service || str(o['addressType']) === 'FQDN') return { metadata: m, dns: null };
  const addresses: EndpointAddress[] = [];
  for (const e of arr(o['endpoints'])) {
    const eo = obj(e);
    const ready = obj(eo['conditions'])['ready'] !== false;
    const hostname = str(eo['hostname']);
    for (const ip of strings(eo['addresses'])) addresses.push(hostname ? { ip, ready, hostname } : { ip, ready });
  }
  return { metadata: m, dns: { service, subset: { addresses, ports: ports(o['ports']) } } };
}

/** A Namespace: only its name matters (it makes `<ns>.svc` and `<ns>.pod` exist). */
export function compactNamespace(raw: unknown): CompactObject<null> {
  return { metadata: meta(obj(raw)), dns: null };
}

/**
 * The ClusterState of cached compact objects (a new, immutable value; the
 * compact parts are shared, never mutated). Endpoints come from Endpoints
 * objects or EndpointSlices, whichever the source follows; a Service with
 * several slices gets one subset per slice.
 */
export function clusterStateFrom(
  namespaces: Iterable<CompactObject<null>>,
  services: Iterable<CompactObject<ServiceInfo>>,
  endpoints: Iterable<CompactObject<EndpointSubset[]>>,
  slices: Iterable<CompactObject<SlicePart | null>> = [],
): ClusterState {
  const names = new Set<string>();
  for (const n of namespaces) names.add(n.metadata.name);
  const svcs: ServiceInfo[] = [];
  for (const s of services) {
    svcs.push(s.dns);
    names.add(s.dns.namespace);
  }
  const eps = new Map<string, EndpointSubset[]>();
  for (const e of endpoints) eps.set(`${e.metadata.namespace ?? 'default'}/${e.metadata.name}`, e.dns);
  // Fresh arrays: the cached Endpoints lists are shared with earlier states and never mutated.
  const bySlice = new Map<string, EndpointSubset[]>();
  for (const sl of slices) {
    if (sl.dns === null) continue;
    const key = `${sl.metadata.namespace ?? 'default'}/${sl.dns.service}`;
    const list = bySlice.get(key);
    if (list) list.push(sl.dns.subset);
    else bySlice.set(key, [sl.dns.subset]);
  }
  // Slices win over Endpoints for a Service that has both, as in snapshot.ts.
  for (const [key, list] of bySlice) eps.set(key, list);
  return { namespaces: [...names].sort(), services: svcs, endpoints: eps, podCount: 0 };
}
