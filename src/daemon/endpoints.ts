/**
 * Endpoints (pods as the distributed firewall sees them), stored as
 * endpoints/<namespace>/<pod>: labels, IP, node and container ports.
 *
 * Goal: the renderer on every node needs each pod's labels (selectors),
 * address (ipset members), node (which host isolates it) and named ports.
 * Two writers fill a record in parts — the listener (labels, ports, from the
 * Kubernetes API) and the CNI plugin (ip, node, at ADD) — so PUT *merges*:
 * the fields present in the body replace the stored ones, absent fields are
 * kept, and `null` clears `ip` or `node`. `labels` and `ports` are replaced
 * whole (so a removed label really goes away).
 *
 * Concurrency rule: every write is a compare-and-swap on the record's
 * revision; a lost race re-reads and merges again (a few times).
 */
import { RomanaError } from '../core/errors.js';
import { parseIPv4 } from '../core/ip.js';
import type { EndpointJson } from '../shared/api_types.js';
import type { Store } from '../store/store.js';
import {
  decodeEndpointRecord,
  endpointKey,
  ENDPOINTS_PREFIX,
  type EndpointPort,
  type EndpointRecord,
} from '../shared/records.js';
import { checkLabels } from './tenants.js';

const ATTEMPTS = 5;
/** Kubernetes namespace names: DNS-1123 labels. */
const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Kubernetes object names: DNS-1123 subdomains. */
const OBJECT_NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
/** IANA_SVC_NAME: at most 15 lowercase letters, digits and "-", at least one letter, no "--", no leading/trailing "-". */
const PORT_NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export type { EndpointJson };

/** The wire form of an endpoint (GET/PUT/DELETE answers). */
export function endpointJson(r: EndpointRecord, revision: number): EndpointJson {
  return { namespace: r.namespace, pod: r.pod, labels: r.labels, ip: r.ip ?? null, node: r.node ?? null, ports: r.ports, revision };
}

function invalid(message: string, field: string, value: unknown): RomanaError {
  return new RomanaError('INVALID_ARGUMENT', message, { details: { field, value: value ?? null } });
}

export function checkNamespace(ns: string, field = 'namespace'): void {
  if (ns.length > 63 || !NAMESPACE_RE.test(ns)) {
    throw invalid(`Invalid ${field} ${JSON.stringify(ns)}: must be a Kubernetes namespace name (lowercase letters, digits and "-", at most 63)`, field, ns);
  }
}

export function checkObjectName(name: string, field: string): void {
  if (name.length > 253 || !OBJECT_NAME_RE.test(name)) {
    throw invalid(`Invalid ${field} ${JSON.stringify(name)}: must be a Kubernetes object name (lowercase letters, digits, "-" and ".", at most 253)`, field, name);
  }
}

function parsePorts(v: unknown): EndpointPort[] {
  if (!Array.isArray(v)) throw invalid('Invalid endpoint field "ports": expected a list of {name?, containerPort, protocol?}', 'ports', v);
  const seen = new Set<string>();
  return v.map((p, i) => {
    const field = `ports[${i}]`;
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw invalid(`Invalid endpoint ${field}: expected an object`, field, p);
    const o = p as Record<string, unknown>;
    const port = o.containerPort;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw invalid(`Invalid endpoint ${field}.containerPort ${JSON.stringify(port ?? null)}: must be an integer 1-65535`, `${field}.containerPort`, port);
    }
    const protocol = o.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') {
      throw invalid(`Invalid endpoint ${field}.protocol ${JSON.stringify(protocol)}: must be "TCP", "UDP" or "SCTP"`, `${field}.protocol`, protocol);
    }
    const out: EndpointPort = { containerPort: port, protocol };
    if (o.name !== undefined && o.name !== null && o.name !== '') {
      const name = o.name;
      if (typeof name !== 'string' || name.length > 15 || !PORT_NAME_RE.test(name) || !/[a-z]/.test(name) || name.includes('--')) {
        throw invalid(`Invalid endpoint ${field}.name ${JSON.stringify(name)}: must be an IANA service name (at most 15 lowercase letters, digits and "-")`, `${field}.name`, name);
      }
      if (seen.has(name)) throw invalid(`Invalid endpoint ${field}.name ${JSON.stringify(name)}: used by another port of this pod`, `${field}.name`, name);
      seen.add(name);
      out.name = name;
    }
    return out;
  });
}

/** The fields a PUT body sets (undefined = keep; null = clear, for ip and node). */
export interface EndpointPatch {
  labels?: Record<string, string>;
  ip?: string | null;
  node?: string | null;
  ports?: EndpointPort[];
}

export function parseEndpointPatch(body: unknown): EndpointPatch {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RomanaError('INVALID_ARGUMENT', 'Invalid endpoint: expected a JSON object {labels?, ip?, node?, ports?}');
  }
  const o = body as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !['labels', 'ip', 'node', 'ports'].includes(k));
  if (unknown.length > 0) {
    throw invalid(`Invalid endpoint: unknown field ${JSON.stringify(unknown[0])} (fields: labels, ip, node, ports)`, unknown[0]!, o[unknown[0]!]);
  }
  const patch: EndpointPatch = {};
  if (o.labels !== undefined) {
    checkLabels(o.labels);
    patch.labels = { ...o.labels };
  }
  if (o.ip !== undefined) {
    if (o.ip !== null && (typeof o.ip !== 'string' || parseIPv4(o.ip) === null)) {
      throw invalid(`Invalid endpoint field "ip" ${JSON.stringify(o.ip)}: must be an IPv4 address or null`, 'ip', o.ip);
    }
    patch.ip = o.ip as string | null;
  }
  if (o.node !== undefined) {
    if (o.node !== null && (typeof o.node !== 'string' || o.node === '' || /\s|\//.test(o.node))) {
      throw invalid(`Invalid endpoint field "node" ${JSON.stringify(o.node)}: must be a host name or null`, 'node', o.node);
    }
    patch.node = o.node as string | null;
  }
  if (o.ports !== undefined) patch.ports = parsePorts(o.ports);
  return patch;
}

function merge(base: EndpointRecord, patch: EndpointPatch): EndpointRecord {
  const out: EndpointRecord = { schema: 1, namespace: base.namespace, pod: base.pod, labels: patch.labels ?? base.labels, ports: patch.ports ?? base.ports };
  const ip = patch.ip === undefined ? base.ip : patch.ip;
  const node = patch.node === undefined ? base.node : patch.node;
  if (ip !== undefined && ip !== null) out.ip = ip;
  if (node !== undefined && node !== null) out.node = node;
  return out;
}

export class EndpointService {
  constructor(private readonly store: Store) {}

  /** Merges `body` into endpoints/<ns>/<pod>; `created` when the record did not exist. */
  async put(namespace: string, pod: string, body: unknown): Promise<{ endpoint: EndpointJson; created: boolean }> {
    checkNamespace(namespace);
    checkObjectName(pod, 'pod name');
    const patch = parseEndpointPatch(body);
    const key = endpointKey(namespace, pod);
    for (let i = 0; i < ATTEMPTS; i++) {
      const cur = await this.store.get(key);
      const base = cur ? decodeEndpointRecord(cur.key, cur.value) : { schema: 1 as const, namespace, pod, labels: {}, ports: [] };
      const next = merge(base, patch);
      const text = JSON.stringify(next);
      // An identical PUT (CNI retries, listener resyncs) writes nothing and wakes no watcher.
      if (cur && cur.value === text) return { endpoint: endpointJson(next, cur.modRevision), created: false };
      const r = await this.store.txn([{ key, modRevision: cur?.modRevision ?? 0 }], [{ op: 'put', key, value: text }]);
      if (r.succeeded) return { endpoint: endpointJson(next, r.revision), created: cur === null };
    }
    throw new RomanaError('CONFLICT', `Could not update endpoint ${JSON.stringify(`${namespace}/${pod}`)}: it changed concurrently ${ATTEMPTS} times; retry`);
  }

  async get(namespace: string, pod: string): Promise<EndpointJson> {
    checkNamespace(namespace);
    checkObjectName(pod, 'pod name');
    const kv = await this.store.get(endpointKey(namespace, pod));
    if (!kv) throw notFound(namespace, pod);
    return endpointJson(decodeEndpointRecord(kv.key, kv.value), kv.modRevision);
  }

  /** Deletes the record; answers what was deleted (404 when there was none). */
  async delete(namespace: string, pod: string): Promise<EndpointJson> {
    checkNamespace(namespace);
    checkObjectName(pod, 'pod name');
    const key = endpointKey(namespace, pod);
    for (let i = 0; i < ATTEMPTS; i++) {
      const kv = await this.store.get(key);
      if (!kv) throw notFound(namespace, pod);
      const rec = decodeEndpointRecord(kv.key, kv.value);
      const r = await this.store.txn([{ key, modRevision: kv.modRevision }], [{ op: 'delete', key }]);
      if (r.succeeded) return endpointJson(rec, r.revision);
    }
    throw new RomanaError('CONFLICT', `Could not delete endpoint ${JSON.stringify(`${namespace}/${pod}`)}: it changed concurrently ${ATTEMPTS} times; retry`);
  }

  async list(filter: { node?: string; namespace?: string } = {}): Promise<{ endpoints: EndpointJson[]; revision: number }> {
    if (filter.namespace !== undefined) checkNamespace(filter.namespace);
    const prefix = filter.namespace === undefined ? ENDPOINTS_PREFIX : `${ENDPOINTS_PREFIX}${filter.namespace}/`;
    const r = await this.store.range(prefix);
    const endpoints: EndpointJson[] = [];
    for (const kv of r.kvs) {
      const rec = decodeEndpointRecord(kv.key, kv.value);
      if (filter.node !== undefined && rec.node !== filter.node) continue;
      endpoints.push(endpointJson(rec, kv.modRevision));
    }
    return { endpoints, revision: r.revision };
  }
}

function notFound(namespace: string, pod: string): RomanaError {
  return new RomanaError('NOT_FOUND', `Endpoint ${JSON.stringify(`${namespace}/${pod}`)} does not exist`, {
    resourceType: 'endpoint',
    resourceId: `${namespace}/${pod}`,
  });
}
