/**
 * The renderer's input (src/core/firewall ClusterView) from the agent's
 * records: pods = endpoints that have an IP and a node, namespaces =
 * tenants with their labels plus every namespace an endpoint or a
 * NetworkPolicy lives in (a namespace Kubernetes has but whose labels the
 * listener has not written yet still matches by name), k8sPolicies = the
 * stored NetworkPolicy objects, romanaPolicies = the daemon's policies,
 * blocks and hosts from the IPAM records. Sorted, so the same records give
 * the same view whatever order they arrived in. Pure.
 */
import type { ClusterView, NamespaceInfo, PodInfo } from '../firewall/index.js';
import type { RomanaPolicy } from '../policy/types.js';
import type { BlockLike, HostLike } from './types.js';

/** The fields read from the records (src/shared/records.ts has the full shapes). */
export interface TenantLike {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface EndpointLike {
  readonly namespace: string;
  readonly pod: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ip?: string;
  readonly node?: string;
  readonly ports: PodInfo['ports'];
}

export interface NetpolLike {
  readonly namespace: string;
  readonly name: string;
  readonly object: unknown;
}

export interface ViewRecords {
  readonly tenants: Iterable<TenantLike>;
  readonly endpoints: Iterable<EndpointLike>;
  readonly netpols: Iterable<NetpolLike>;
  readonly policies: Iterable<RomanaPolicy>;
  readonly blocks: Iterable<BlockLike>;
  readonly hosts: Iterable<HostLike>;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function clusterViewOf(r: ViewRecords): ClusterView {
  const namespaces = new Map<string, NamespaceInfo>();
  for (const t of r.tenants) namespaces.set(t.name, { name: t.name, labels: t.labels ?? {} });
  const pods: PodInfo[] = [];
  for (const e of r.endpoints) {
    if (!namespaces.has(e.namespace)) namespaces.set(e.namespace, { name: e.namespace, labels: {} });
    if (e.ip === undefined || e.node === undefined) continue;
    pods.push({ namespace: e.namespace, name: e.pod, labels: e.labels, ip: e.ip, node: e.node, ports: e.ports });
  }
  const netpols = [...r.netpols].sort((a, b) => byString(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
  for (const n of netpols) if (!namespaces.has(n.namespace)) namespaces.set(n.namespace, { name: n.namespace, labels: {} });
  pods.sort((a, b) => byString(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
  return {
    namespaces: [...namespaces.values()].sort((a, b) => byString(a.name, b.name)),
    pods,
    k8sPolicies: netpols.map((n) => n.object),
    romanaPolicies: [...r.policies].sort((a, b) => byString(a.id, b.id)),
    blocks: [...r.blocks].map((b) => ({ cidr: b.cidr, host: b.host, tenant: b.tenant, segment: b.segment })).sort((a, b) => byString(a.cidr, b.cidr)),
    hosts: [...r.hosts].map((h) => ({ name: h.name, ip: h.ip })).sort((a, b) => byString(a.name, b.name)),
  };
}
