/**
 * Tenants and segments (the seed CLI's `tenant create|delete|list|show` and
 * `segment add|remove|list`), stored as tenants/<name> and
 * segments/<tenant>/<name>.
 *
 * Rules:
 * - Creating what exists is a no-op answered with the existing record
 *   (`created: false`); POST carries only the name, so nothing could differ.
 * - PUT /tenants/{name} {labels} creates the tenant or replaces its labels
 *   (a tenant is a Kubernetes namespace to the firewall, and
 *   namespaceSelector matches these labels).
 * - A segment belongs to an existing tenant (404 otherwise).
 * - Deleting a tenant deletes its segments in the same transaction; it is
 *   refused (409 RESOURCE_IN_USE) while the IPAM holds addresses of the
 *   tenant, and a segment likewise while it holds addresses of that segment.
 *   Allocation does not require a tenant record (Kubernetes pods arrive
 *   before or without one), so this check reads the IPAM cache: an address
 *   allocated concurrently with the delete can outlive its tenant record.
 *
 * Concurrency rule: every write is one compare-and-swap transaction on the
 * keys it read; on a lost race the operation re-reads and decides again (a
 * few times), so concurrent replicas never half-delete a tenant.
 */
import { RomanaError } from '../core/errors.js';
import type { AddressFilter, AddressRecord } from '../core/ipam/index.js';
import { TENANT_RE } from '../core/topology/index.js';
import { MAX_TXN_OPS, type Compare, type Store, type TxnOp } from '../store/store.js';
import {
  decodeSegmentRecord,
  decodeTenantRecord,
  segmentKey,
  SEGMENTS_PREFIX,
  tenantKey,
  tenantSegmentsPrefix,
  TENANTS_PREFIX,
  type SegmentRecord,
  type TenantRecord,
} from '../shared/records.js';

export const MAX_TENANT_NAME_LENGTH = 253;
export const MAX_SEGMENT_NAME_LENGTH = 63;
/** Segments are pod label values in Kubernetes, hence '.'. */
const SEGMENT_RE = /^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
const ATTEMPTS = 5;

export interface TenantView {
  name: string;
  segments: string[];
  /** Addresses the IPAM holds for this tenant. */
  addresses: number;
  /** Present only for tenants that were given labels (keeps the original's shape otherwise). */
  labels?: Record<string, string>;
}

/** Kubernetes label keys ([prefix/]name) and values; both bounded as Kubernetes bounds them. */
const LABEL_NAME_RE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const LABEL_PREFIX_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Checks a label map; INVALID_ARGUMENT naming the first bad key or value. */
export function checkLabels(labels: unknown, field = 'labels'): asserts labels is Record<string, string> {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    throw new RomanaError('INVALID_ARGUMENT', `Invalid ${field}: expected an object of string values`, { details: { field, value: labels ?? null } });
  }
  for (const [k, v] of Object.entries(labels)) {
    const slash = k.lastIndexOf('/');
    const prefix = slash >= 0 ? k.slice(0, slash) : null;
    const name = slash >= 0 ? k.slice(slash + 1) : k;
    if (name.length > 63 || !LABEL_NAME_RE.test(name) || (prefix !== null && (prefix.length > 253 || !LABEL_PREFIX_RE.test(prefix)))) {
      throw new RomanaError('INVALID_ARGUMENT', `Invalid ${field} key ${JSON.stringify(k)}: must be [prefix/]name as in Kubernetes labels`, {
        details: { field: `${field}.${k}`, value: k },
      });
    }
    if (typeof v !== 'string' || v.length > 63 || (v !== '' && !LABEL_NAME_RE.test(v))) {
      throw new RomanaError('INVALID_ARGUMENT', `Invalid ${field} value ${JSON.stringify(v)} for ${JSON.stringify(k)}: must be at most 63 letters, digits, "-", "_" or "."`, {
        details: { field: `${field}.${k}`, value: v ?? null },
      });
    }
  }
}

export interface SegmentView {
  tenant: string;
  name: string;
  addresses: number;
}

/** The part of the IPAM this module reads. */
export interface AddressSource {
  addresses(filter?: AddressFilter): AddressRecord[];
}

export function checkTenantName(name: unknown, field = 'tenant name'): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_TENANT_NAME_LENGTH || !TENANT_RE.test(name)) {
    throw new RomanaError('INVALID_ARGUMENT', `Invalid ${field} ${JSON.stringify(name)}: must be 1-${MAX_TENANT_NAME_LENGTH} letters, digits, "_" or "-"`, {
      details: { field, value: name ?? null },
    });
  }
}

export function checkSegmentName(name: unknown, field = 'segment name'): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_SEGMENT_NAME_LENGTH || !SEGMENT_RE.test(name)) {
    throw new RomanaError(
      'INVALID_ARGUMENT',
      `Invalid ${field} ${JSON.stringify(name)}: must be 1-${MAX_SEGMENT_NAME_LENGTH} letters, digits, "_", "." or "-", starting and ending with a letter or digit`,
      { details: { field, value: name ?? null } },
    );
  }
}

function tenantNotFound(name: string): RomanaError {
  return new RomanaError('NOT_FOUND', `Tenant ${JSON.stringify(name)} does not exist`, { resourceType: 'tenant', resourceId: name });
}

function segmentNotFound(tenant: string, name: string): RomanaError {
  return new RomanaError('NOT_FOUND', `Segment ${JSON.stringify(name)} of tenant ${JSON.stringify(tenant)} does not exist`, {
    resourceType: 'segment',
    resourceId: `${tenant}/${name}`,
  });
}

function raced(what: string): RomanaError {
  return new RomanaError('CONFLICT', `Could not ${what}: it changed concurrently ${ATTEMPTS} times; retry`);
}

export class TenantService {
  constructor(
    private readonly store: Store,
    private readonly ipam: AddressSource,
  ) {}

  async createTenant(name: unknown): Promise<{ tenant: TenantView; created: boolean }> {
    checkTenantName(name);
    const rec: TenantRecord = { schema: 1, name };
    const r = await this.store.txn([{ key: tenantKey(name), modRevision: 0 }], [{ op: 'put', key: tenantKey(name), value: JSON.stringify(rec) }]);
    return { tenant: await this.getTenant(name), created: r.succeeded };
  }

  /** Creates the tenant with `labels`, or replaces the labels of the existing one. */
  async putTenant(name: unknown, labels: unknown): Promise<{ tenant: TenantView; created: boolean }> {
    checkTenantName(name);
    checkLabels(labels);
    const key = tenantKey(name);
    const rec: TenantRecord = { schema: 1, name, labels: { ...labels } };
    for (let i = 0; i < ATTEMPTS; i++) {
      const cur = await this.store.get(key);
      if (cur) decodeTenantRecord(cur.key, cur.value);
      const r = await this.store.txn([{ key, modRevision: cur?.modRevision ?? 0 }], [{ op: 'put', key, value: JSON.stringify(rec) }]);
      if (r.succeeded) return { tenant: await this.getTenant(name), created: cur === null };
    }
    throw raced(`set the labels of tenant ${JSON.stringify(name)}`);
  }

  async listTenants(): Promise<{ tenants: TenantView[]; revision: number }> {
    const [ts, ss] = await Promise.all([this.store.range(TENANTS_PREFIX), this.store.range(SEGMENTS_PREFIX)]);
    const segs = new Map<string, string[]>();
    for (const kv of ss.kvs) {
      const s = decodeSegmentRecord(kv.key, kv.value);
      let list = segs.get(s.tenant);
      if (!list) segs.set(s.tenant, (list = []));
      list.push(s.name);
    }
    const counts = this.addressCounts();
    const tenants = ts.kvs.map((kv) => {
      const t = decodeTenantRecord(kv.key, kv.value);
      const view: TenantView = { name: t.name, segments: segs.get(t.name) ?? [], addresses: counts.get(t.name) ?? 0 };
      if (t.labels !== undefined) view.labels = t.labels;
      return view;
    });
    return { tenants, revision: Math.max(ts.revision, ss.revision) };
  }

  async getTenant(name: string): Promise<TenantView> {
    checkTenantName(name);
    const [t, ss] = await Promise.all([this.store.get(tenantKey(name)), this.store.range(tenantSegmentsPrefix(name))]);
    if (!t) throw tenantNotFound(name);
    const rec = decodeTenantRecord(t.key, t.value);
    const segments = ss.kvs.map((kv) => decodeSegmentRecord(kv.key, kv.value).name);
    const view: TenantView = { name, segments, addresses: this.ipam.addresses({ tenant: name }).length };
    if (rec.labels !== undefined) view.labels = rec.labels;
    return view;
  }

  /** Deletes the tenant and its segments; returns what was deleted. */
  async deleteTenant(name: string): Promise<TenantView> {
    checkTenantName(name);
    for (let i = 0; i < ATTEMPTS; i++) {
      const [t, ss] = await Promise.all([this.store.get(tenantKey(name)), this.store.range(tenantSegmentsPrefix(name))]);
      if (!t) throw tenantNotFound(name);
      this.refuseInUse({ tenant: name }, `tenant ${JSON.stringify(name)}`, 'tenant', name);
      if (ss.kvs.length + 1 > MAX_TXN_OPS) {
        // Too many segments for one transaction: remove a chunk of them, then decide again.
        const chunk = ss.kvs.slice(0, MAX_TXN_OPS);
        const r = await this.store.txn(
          chunk.map((kv) => ({ key: kv.key, modRevision: kv.modRevision })),
          chunk.map((kv) => ({ op: 'delete', key: kv.key })),
        );
        // Progress does not count as an attempt; a lost race does.
        if (r.succeeded) i--;
        continue;
      }
      const compares: Compare[] = [{ key: t.key, modRevision: t.modRevision }, ...ss.kvs.map((kv) => ({ key: kv.key, modRevision: kv.modRevision }))];
      const ops: TxnOp[] = compares.map((c) => ({ op: 'delete', key: c.key }));
      const r = await this.store.txn(compares, ops);
      // A segment added meanwhile fails no compare: catch it by re-reading the prefix after a success too.
      if (r.succeeded) {
        const left = await this.store.range(tenantSegmentsPrefix(name));
        if (left.kvs.length > 0) {
          await this.store.txn(
            left.kvs.map((kv) => ({ key: kv.key, modRevision: kv.modRevision })),
            left.kvs.map((kv) => ({ op: 'delete', key: kv.key })),
          );
        }
        return { name, segments: ss.kvs.map((kv) => decodeSegmentRecord(kv.key, kv.value).name), addresses: 0 };
      }
    }
    throw raced(`delete tenant ${JSON.stringify(name)}`);
  }

  async createSegment(tenant: string, name: unknown): Promise<{ segment: SegmentView; created: boolean }> {
    checkTenantName(tenant);
    checkSegmentName(name);
    for (let i = 0; i < ATTEMPTS; i++) {
      const t = await this.store.get(tenantKey(tenant));
      if (!t) throw tenantNotFound(tenant);
      const rec: SegmentRecord = { schema: 1, tenant, name };
      const key = segmentKey(tenant, name);
      // The tenant must still be there when the segment is written.
      const r = await this.store.txn(
        [{ key: t.key, modRevision: t.modRevision }, { key, modRevision: 0 }],
        [{ op: 'put', key, value: JSON.stringify(rec) }],
      );
      if (r.succeeded) return { segment: this.segmentView(tenant, name), created: true };
      const existing = await this.store.get(key);
      if (existing) return { segment: this.segmentView(tenant, name), created: false };
    }
    throw raced(`add segment ${JSON.stringify(name)} to tenant ${JSON.stringify(tenant)}`);
  }

  async listSegments(tenant: string): Promise<{ segments: SegmentView[]; revision: number }> {
    checkTenantName(tenant);
    const [t, ss] = await Promise.all([this.store.get(tenantKey(tenant)), this.store.range(tenantSegmentsPrefix(tenant))]);
    if (!t) throw tenantNotFound(tenant);
    const segments = ss.kvs.map((kv) => this.segmentView(tenant, decodeSegmentRecord(kv.key, kv.value).name));
    return { segments, revision: ss.revision };
  }

  async getSegment(tenant: string, name: string): Promise<SegmentView> {
    checkTenantName(tenant);
    checkSegmentName(name);
    const kv = await this.store.get(segmentKey(tenant, name));
    if (!kv) {
      if (!(await this.store.get(tenantKey(tenant)))) throw tenantNotFound(tenant);
      throw segmentNotFound(tenant, name);
    }
    decodeSegmentRecord(kv.key, kv.value);
    return this.segmentView(tenant, name);
  }

  async deleteSegment(tenant: string, name: string): Promise<SegmentView> {
    checkTenantName(tenant);
    checkSegmentName(name);
    for (let i = 0; i < ATTEMPTS; i++) {
      const kv = await this.store.get(segmentKey(tenant, name));
      if (!kv) {
        if (!(await this.store.get(tenantKey(tenant)))) throw tenantNotFound(tenant);
        throw segmentNotFound(tenant, name);
      }
      this.refuseInUse({ tenant, segment: name }, `segment ${JSON.stringify(name)} of tenant ${JSON.stringify(tenant)}`, 'segment', `${tenant}/${name}`);
      const r = await this.store.txn([{ key: kv.key, modRevision: kv.modRevision }], [{ op: 'delete', key: kv.key }]);
      if (r.succeeded) return { tenant, name, addresses: 0 };
    }
    throw raced(`remove segment ${JSON.stringify(name)} of tenant ${JSON.stringify(tenant)}`);
  }

  private segmentView(tenant: string, name: string): SegmentView {
    return { tenant, name, addresses: this.ipam.addresses({ tenant, segment: name }).length };
  }

  private addressCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const a of this.ipam.addresses()) out.set(a.tenant, (out.get(a.tenant) ?? 0) + 1);
    return out;
  }

  private refuseInUse(filter: AddressFilter, what: string, resourceType: string, resourceId: string): void {
    const used = this.ipam.addresses(filter);
    if (used.length === 0) return;
    const sample = used.slice(0, 5).map((a) => ({ name: a.name, ip: a.ip, host: a.host }));
    throw new RomanaError(
      'RESOURCE_IN_USE',
      `Cannot delete ${what}: ${used.length} address(es) are still allocated to it, e.g. ${JSON.stringify(sample[0]!.name)} (${sample[0]!.ip} on host ${JSON.stringify(sample[0]!.host)})`,
      { resourceType, resourceId, details: { addresses: used.length, sample } },
    );
  }
}
