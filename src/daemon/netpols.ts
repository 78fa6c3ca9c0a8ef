/**
 * Kubernetes NetworkPolicies stored verbatim as netpols/<namespace>/<name>,
 * for the agents' policy renderer (which compiles them with full
 * networking.k8s.io/v1 semantics; the daemon only checks the envelope).
 *
 * Rules: PUT validates apiVersion "networking.k8s.io/v1", kind
 * "NetworkPolicy", metadata.name equal to the path's name, and
 * metadata.namespace equal to the path's namespace (filled in when absent),
 * and `spec` an object when present; the object is then stored as given.
 * The same object PUT again writes nothing (200); a changed one replaces
 * the stored one (200); a new one is 201.
 *
 * Concurrency rule: compare-and-swap on the record's revision, re-read on a
 * lost race (a few times).
 */
import { RomanaError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import { decodeNetpolRecord, netpolKey, NETPOLS_PREFIX, type NetpolRecord } from '../shared/records.js';
import { checkNamespace, checkObjectName } from './endpoints.js';

const ATTEMPTS = 5;
export const NETPOL_API_VERSION = 'networking.k8s.io/v1';

function invalid(message: string, field: string, value: unknown): RomanaError {
  return new RomanaError('INVALID_ARGUMENT', message, { details: { field, value: value ?? null } });
}

/** Checks the envelope of a NetworkPolicy PUT to /k8s/networkpolicies/{ns}/{name}; returns the object to store. */
export function checkNetworkPolicy(namespace: string, name: string, body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RomanaError('INVALID_ARGUMENT', 'Invalid NetworkPolicy: expected a JSON object (apiVersion, kind, metadata, spec)');
  }
  const o = body as Record<string, unknown>;
  if (o.apiVersion !== NETPOL_API_VERSION) {
    throw invalid(`Invalid NetworkPolicy apiVersion ${JSON.stringify(o.apiVersion ?? null)}: must be ${JSON.stringify(NETPOL_API_VERSION)}`, 'apiVersion', o.apiVersion);
  }
  if (o.kind !== 'NetworkPolicy') throw invalid(`Invalid NetworkPolicy kind ${JSON.stringify(o.kind ?? null)}: must be "NetworkPolicy"`, 'kind', o.kind);
  const md = o.metadata;
  if (typeof md !== 'object' || md === null || Array.isArray(md)) throw invalid('Invalid NetworkPolicy: "metadata" must be an object', 'metadata', md);
  const meta = md as Record<string, unknown>;
  if (meta.name !== name) {
    throw invalid(`Invalid NetworkPolicy metadata.name ${JSON.stringify(meta.name ?? null)}: must equal the name in the path, ${JSON.stringify(name)}`, 'metadata.name', meta.name);
  }
  if (meta.namespace !== undefined && meta.namespace !== namespace) {
    throw invalid(
      `Invalid NetworkPolicy metadata.namespace ${JSON.stringify(meta.namespace)}: must equal the namespace in the path, ${JSON.stringify(namespace)}`,
      'metadata.namespace',
      meta.namespace,
    );
  }
  if (o.spec !== undefined && (typeof o.spec !== 'object' || o.spec === null || Array.isArray(o.spec))) {
    throw invalid('Invalid NetworkPolicy: "spec" must be an object', 'spec', o.spec);
  }
  return { ...o, metadata: { ...meta, namespace } };
}

export class NetpolService {
  constructor(private readonly store: Store) {}

  async put(namespace: string, name: string, body: unknown): Promise<{ object: Record<string, unknown>; created: boolean }> {
    checkNamespace(namespace);
    checkObjectName(name, 'NetworkPolicy name');
    const object = checkNetworkPolicy(namespace, name, body);
    const key = netpolKey(namespace, name);
    const rec: NetpolRecord = { schema: 1, namespace, name, object };
    const text = JSON.stringify(rec);
    for (let i = 0; i < ATTEMPTS; i++) {
      const cur = await this.store.get(key);
      if (cur && cur.value === text) return { object, created: false };
      const r = await this.store.txn([{ key, modRevision: cur?.modRevision ?? 0 }], [{ op: 'put', key, value: text }]);
      if (r.succeeded) return { object, created: cur === null };
    }
    throw new RomanaError('CONFLICT', `Could not store NetworkPolicy ${JSON.stringify(`${namespace}/${name}`)}: it changed concurrently ${ATTEMPTS} times; retry`);
  }

  async get(namespace: string, name: string): Promise<Record<string, unknown>> {
    checkNamespace(namespace);
    checkObjectName(name, 'NetworkPolicy name');
    const kv = await this.store.get(netpolKey(namespace, name));
    if (!kv) throw notFound(namespace, name);
    return decodeNetpolRecord(kv.key, kv.value).object;
  }

  async delete(namespace: string, name: string): Promise<Record<string, unknown>> {
    checkNamespace(namespace);
    checkObjectName(name, 'NetworkPolicy name');
    const key = netpolKey(namespace, name);
    for (let i = 0; i < ATTEMPTS; i++) {
      const kv = await this.store.get(key);
      if (!kv) throw notFound(namespace, name);
      const rec = decodeNetpolRecord(kv.key, kv.value);
      const r = await this.store.txn([{ key, modRevision: kv.modRevision }], [{ op: 'delete', key }]);
      if (r.succeeded) return rec.object;
    }
    throw new RomanaError('CONFLICT', `Could not delete NetworkPolicy ${JSON.stringify(`${namespace}/${name}`)}: it changed concurrently ${ATTEMPTS} times; retry`);
  }

  async list(namespace?: string): Promise<{ items: Record<string, unknown>[]; revision: number }> {
    if (namespace !== undefined) checkNamespace(namespace);
    const r = await this.store.range(namespace === undefined ? NETPOLS_PREFIX : `${NETPOLS_PREFIX}${namespace}/`);
    return { items: r.kvs.map((kv) => decodeNetpolRecord(kv.key, kv.value).object), revision: r.revision };
  }
}

function notFound(namespace: string, name: string): RomanaError {
  return new RomanaError('NOT_FOUND', `NetworkPolicy ${JSON.stringify(`${namespace}/${name}`)} does not exist`, {
    resourceType: 'networkpolicy',
    resourceId: `${namespace}/${name}`,
  });
}
