/**
 * Store records outside the IPAM (DESIGN §2 key layout), shared by the
 * daemon that writes them and by anything that reads them back from the
 * /watch stream (agents, listener, CLI):
 *
 *   tenants/<name>             -> TenantRecord
 *   segments/<tenant>/<name>   -> SegmentRecord
 *   policies/<id>              -> PolicyRecord (the normalized policy plus `schema`)
 *   leases/agents/<host>       -> AgentLeaseRecord (attached to a store lease)
 *   endpoints/<ns>/<pod>       -> EndpointRecord (a pod as the firewall sees it: labels, IP, node, ports)
 *   netpols/<ns>/<name>        -> NetpolRecord (a Kubernetes NetworkPolicy, stored verbatim)
 *   vips/<ns>/<service>        -> VipRecord (a Romana VIP: address, candidates, holder, epoch)
 *   vipaddrs/<ip>              -> VipClaimRecord (which service owns a VIP address: one service per address)
 *
 * Values are JSON with a `schema` number; decoding checks it and the fields
 * a reader relies on, and reports anything else as STORE_CORRUPT naming the
 * key (store/codec.ts does the same for IPAM records).
 *
 * Pure.
 */
import type { RomanaPolicy } from '../core/policy/types.js';
import { corrupt, decodeJsonRecord } from '../store/codec.js';

export const TENANTS_PREFIX = 'tenants/';
export const SEGMENTS_PREFIX = 'segments/';
export const POLICIES_PREFIX = 'policies/';
export const AGENT_LEASES_PREFIX = 'leases/agents/';
export const ENDPOINTS_PREFIX = 'endpoints/';
export const NETPOLS_PREFIX = 'netpols/';
export const VIPS_PREFIX = 'vips/';
export const VIP_CLAIMS_PREFIX = 'vipaddrs/';

export const tenantKey = (name: string): string => `${TENANTS_PREFIX}${name}`;
/** segments/<tenant>/ — every segment of one tenant. */
export const tenantSegmentsPrefix = (tenant: string): string => `${SEGMENTS_PREFIX}${tenant}/`;
export const segmentKey = (tenant: string, name: string): string => `${SEGMENTS_PREFIX}${tenant}/${name}`;
export const policyKey = (id: string): string => `${POLICIES_PREFIX}${id}`;
export const agentLeaseKey = (host: string): string => `${AGENT_LEASES_PREFIX}${host}`;
export const endpointKey = (namespace: string, pod: string): string => `${ENDPOINTS_PREFIX}${namespace}/${pod}`;
/** endpoints/<ns>/ — every endpoint of one namespace. */
export const namespaceEndpointsPrefix = (namespace: string): string => `${ENDPOINTS_PREFIX}${namespace}/`;
export const vipKey = (namespace: string, service: string): string => `${VIPS_PREFIX}${namespace}/${service}`;
export const vipClaimKey = (ip: string): string => `${VIP_CLAIMS_PREFIX}${ip}`;
export const netpolKey = (namespace: string, name: string): string => `${NETPOLS_PREFIX}${namespace}/${name}`;

export interface TenantRecord {
  schema: 1;
  name: string;
  /** Namespace labels (PUT /tenants/{name}); absent for tenants created without any. */
  labels?: Record<string, string>;
}

export type EndpointProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface EndpointPort {
  /** IANA service name the pod gives the port (NetworkPolicy named ports resolve against it). */
  name?: string;
  containerPort: number;
  protocol: EndpointProtocol;
}

/**
 * One pod. Written in parts by different writers (the listener: labels and
 * ports; the CNI plugin: ip and node), so every field but the names may be
 * missing until its writer has been.
 */
export interface EndpointRecord {
  schema: 1;
  namespace: string;
  pod: string;
  labels: Record<string, string>;
  ip?: string;
  node?: string;
  ports: EndpointPort[];
}

export interface NetpolRecord {
  schema: 1;
  namespace: string;
  name: string;
  /** The networking.k8s.io/v1 NetworkPolicy as it was PUT (metadata.namespace filled in). */
  object: Record<string, unknown>;
}

export interface SegmentRecord {
  schema: 1;
  tenant: string;
  name: string;
}

export type PolicyRecord = { schema: 1 } & RomanaPolicy;

export interface AgentLeaseRecord {
  schema: 1;
  host: string;
  ttlSeconds: number;
  /** ISO time the lease was granted (keep-alives do not rewrite the record). */
  grantedAt: string;
}

function rest(key: string, prefix: string): string {
  return key.startsWith(prefix) ? key.slice(prefix.length) : '';
}

function requireString(key: string, rec: Record<string, unknown>, field: string, expect?: string): string {
  const v = rec[field];
  if (typeof v !== 'string' || v === '') throw corrupt(key, `"${field}" must be a non-empty string`);
  if (expect !== undefined && v !== expect) throw corrupt(key, `"${field}" is ${JSON.stringify(v)} but the key says ${JSON.stringify(expect)}`);
  return v;
}

function optionalStringMap(key: string, rec: Record<string, unknown>, field: string): Record<string, string> | undefined {
  const v = rec[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw corrupt(key, `"${field}" must be an object of strings`);
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'string') throw corrupt(key, `"${field}.${k}" must be a string`);
  return v as Record<string, string>;
}

export function decodeTenantRecord(key: string, value: string): TenantRecord {
  const rec = decodeJsonRecord(key, value);
  const name = requireString(key, rec, 'name', rest(key, TENANTS_PREFIX));
  const labels = optionalStringMap(key, rec, 'labels');
  return labels === undefined ? { schema: 1, name } : { schema: 1, name, labels };
}

/** Splits "<a>/<b>" after `prefix`; both parts non-empty, or null. */
function twoPart(key: string, prefix: string): [string, string] | null {
  const tail = rest(key, prefix);
  const slash = tail.indexOf('/');
  if (slash <= 0 || slash === tail.length - 1) return null;
  return [tail.slice(0, slash), tail.slice(slash + 1)];
}

export function decodeEndpointRecord(key: string, value: string): EndpointRecord {
  const rec = decodeJsonRecord(key, value);
  const parts = twoPart(key, ENDPOINTS_PREFIX);
  if (parts === null) throw corrupt(key, 'the key is not endpoints/<namespace>/<pod>');
  const namespace = requireString(key, rec, 'namespace', parts[0]);
  const pod = requireString(key, rec, 'pod', parts[1]);
  const labels = optionalStringMap(key, rec, 'labels') ?? {};
  const out: EndpointRecord = { schema: 1, namespace, pod, labels, ports: [] };
  for (const f of ['ip', 'node'] as const) {
    const v = rec[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw corrupt(key, `"${f}" must be a string`);
    out[f] = v;
  }
  const ports = rec.ports ?? [];
  if (!Array.isArray(ports)) throw corrupt(key, '"ports" must be a list');
  for (const [i, p] of ports.entries()) {
    const o = p as Record<string, unknown>;
    if (typeof o !== 'object' || o === null || !Number.isInteger(o.containerPort)) throw corrupt(key, `"ports[${i}].containerPort" must be an integer`);
    const protocol = o.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') throw corrupt(key, `"ports[${i}].protocol" must be TCP, UDP or SCTP`);
    const port: EndpointPort = { containerPort: o.containerPort as number, protocol };
    if (typeof o.name === 'string') port.name = o.name;
    out.ports.push(port);
  }
  return out;
}

export function decodeNetpolRecord(key: string, value: string): NetpolRecord {
  const rec = decodeJsonRecord(key, value);
  const parts = twoPart(key, NETPOLS_PREFIX);
  if (parts === null) throw corrupt(key, 'the key is not netpols/<namespace>/<name>');
  const namespace = requireString(key, rec, 'namespace', parts[0]);
  const name = requireString(key, rec, 'name', parts[1]);
  const object = rec.object;
  if (typeof object !== 'object' || object === null || Array.isArray(object)) throw corrupt(key, '"object" must be the NetworkPolicy object');
  return { schema: 1, namespace, name, object: object as Record<string, unknown> };
}

export function decodeSegmentRecord(key: string, value: string): SegmentRecord {
  const rec = decodeJsonRecord(key, value);
  const tail = rest(key, SEGMENTS_PREFIX);
  const slash = tail.indexOf('/');
  return {
    schema: 1,
    tenant: requireString(key, rec, 'tenant', tail.slice(0, slash)),
    name: requireString(key, rec, 'name', tail.slice(slash + 1)),
  };
}

/** The policy of a policies/<id> record (without `schema`). */
export function decodePolicyRecord(key: string, value: string): RomanaPolicy {
  const rec = decodeJsonRecord(key, value);
  requireString(key, rec, 'id', rest(key, POLICIES_PREFIX));
  requireString(key, rec, 'name');
  const dir = rec.direction;
  if (dir !== 'ingress' && dir !== 'egress') throw corrupt(key, `"direction" must be "ingress" or "egress", found ${JSON.stringify(dir)}`);
  if (!Array.isArray(rec.applied_to)) throw corrupt(key, '"applied_to" must be a list');
  if (!Array.isArray(rec[dir])) throw corrupt(key, `"${dir}" must be a list`);
  const { schema: _schema, ...policy } = rec;
  return policy as unknown as RomanaPolicy;
}

export function encodePolicyRecord(p: RomanaPolicy): string {
  return JSON.stringify({ schema: 1, ...p });
}

export function decodeAgentLeaseRecord(key: string, value: string): AgentLeaseRecord {
  const rec = decodeJsonRecord(key, value);
  const ttl = rec.ttlSeconds;
  if (typeof ttl !== 'number' || !(ttl > 0)) throw corrupt(key, '"ttlSeconds" must be a positive number');
  return { schema: 1, host: requireString(key, rec, 'host', rest(key, AGENT_LEASES_PREFIX)), ttlSeconds: ttl, grantedAt: requireString(key, rec, 'grantedAt') };
}

/**
 * A Romana VIP (Service annotation `romanaip`/`romanavip`). The daemon is
 * its only writer of `holder` and `epoch`: `epoch` increases on every
 * change of holder, so an agent can tell a newer decision from an older one.
 */
export interface VipRecord {
  schema: 1;
  namespace: string;
  service: string;
  vip: string;
  /** True when the address came from the daemon's --vip-pool. */
  auto: boolean;
  /** Nodes with a ready local endpoint of the service (reported by the listener), sorted. */
  candidates: string[];
  /** The node that must bring the VIP up, or null (no live candidate). */
  holder: string | null;
  epoch: number;
}

/** vipaddrs/<ip>: the service owning the address (claimed in the same txn as its VipRecord). */
export interface VipClaimRecord {
  schema: 1;
  ip: string;
  namespace: string;
  service: string;
}

export function decodeVipRecord(key: string, value: string): VipRecord {
  const rec = decodeJsonRecord(key, value);
  const parts = twoPart(key, VIPS_PREFIX);
  if (parts === null) throw corrupt(key, 'the key is not vips/<namespace>/<service>');
  const namespace = requireString(key, rec, 'namespace', parts[0]);
  const service = requireString(key, rec, 'service', parts[1]);
  const vip = requireString(key, rec, 'vip');
  if (typeof rec.auto !== 'boolean') throw corrupt(key, '"auto" must be a boolean');
  const cands = rec.candidates;
  if (!Array.isArray(cands) || cands.some((c) => typeof c !== 'string')) throw corrupt(key, '"candidates" must be a list of node names');
  const holder = rec.holder;
  if (holder !== null && (typeof holder !== 'string' || holder === '')) throw corrupt(key, '"holder" must be a node name or null');
  const epoch = rec.epoch;
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0) throw corrupt(key, '"epoch" must be a non-negative integer');
  return { schema: 1, namespace, service, vip, auto: rec.auto, candidates: cands as string[], holder: holder as string | null, epoch };
}

export function decodeVipClaimRecord(key: string, value: string): VipClaimRecord {
  const rec = decodeJsonRecord(key, value);
  return {
    schema: 1,
    ip: requireString(key, rec, 'ip', rest(key, VIP_CLAIMS_PREFIX)),
    namespace: requireString(key, rec, 'namespace'),
    service: requireString(key, rec, 'service'),
  };
}
