/**
 * Store records outside the IPAM (DESIGN §2 key layout), shared by the
 * daemon that writes them and by anything that reads them back from the
 * /watch stream (agents, listener, CLI):
 *
 *   tenants/<name>             -> TenantRecord
 *   segments/<tenant>/<name>   -> SegmentRecord
 *   policies/<id>              -> PolicyRecord (the normalized policy plus `schema`)
 *   leases/agents/<host>       -> AgentLeaseRecord (attached to a store lease)
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

export const tenantKey = (name: string): string => `${TENANTS_PREFIX}${name}`;
/** segments/<tenant>/ — every segment of one tenant. */
export const tenantSegmentsPrefix = (tenant: string): string => `${SEGMENTS_PREFIX}${tenant}/`;
export const segmentKey = (tenant: string, name: string): string => `${SEGMENTS_PREFIX}${tenant}/${name}`;
export const policyKey = (id: string): string => `${POLICIES_PREFIX}${id}`;
export const agentLeaseKey = (host: string): string => `${AGENT_LEASES_PREFIX}${host}`;

export interface TenantRecord {
  schema: 1;
  name: string;
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

export function decodeTenantRecord(key: string, value: string): TenantRecord {
  const rec = decodeJsonRecord(key, value);
  return { schema: 1, name: requireString(key, rec, 'name', rest(key, TENANTS_PREFIX)) };
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
