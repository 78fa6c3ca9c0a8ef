/**
 * Kubernetes objects (raw wire JSON, as list and watch deliver them) reduced
 * on arrival to the compact shapes of cluster.ts, and a ClusterState put
 * together from them.
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
import type { ClusterState, EndpointAddress, EndpointSubset, ServiceInfo, ServicePort } from './cluster.js';

type Obj = Record<string, unknown>;

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

function obj(v: unknown): Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
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

/** A Namespace: only its name matters (it makes `<ns>.svc` and `<ns>.pod` exist). */
export function compactNamespace(raw: unknown): CompactObject<null> {
  return { metadata: meta(obj(raw)), dns: null };
}

/** The ClusterState of cached compact objects (a new, immutable value; the compact parts are shared, never mutated). */
export function clusterStateFrom(
  namespaces: Iterable<CompactObject<null>>,
  services: Iterable<CompactObject<ServiceInfo>>,
  endpoints: Iterable<CompactObject<EndpointSubset[]>>,
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
  return { namespaces: [...names].sort(), services: svcs, endpoints: eps, podCount: 0 };
}
