/**
 * RomanaClient: a typed client for every romana-daemon route, used by the
 * CLI, and by agents, the CNI plugin and the listener.
 *
 * Design:
 * - undici with one keep-alive Agent per client (a CNI invocation makes a
 *   couple of calls; an agent makes many: both reuse connections).
 * - Every unary call has a deadline (`timeoutMs`, default 10 s). A request
 *   the daemon cannot be reached for, or that times out, fails with
 *   DAEMON_UNREACHABLE; an error answer becomes a RomanaError carrying the
 *   server's code, message, details and resource (so callers switch on
 *   `e.code` whichever side raised it).
 * - /watch is exposed as an async iterator of events; the stream's final
 *   error line (fell behind, compacted history) is thrown as a RomanaError
 *   whose `details.resume_since` says where to resume.
 * - Path parameters are percent-encoded; bodies are JSON.
 * - The daemon is reached over TCP (`http://host:port`) or over a unix
 *   socket (`unix:/path/to/socket` as the base URL, or `socketPath`), which
 *   is how agents and the CNI plugin inside network namespaces reach it.
 *
 * Concurrency rule: a client may be used concurrently; close() ends its
 * connections (in-flight calls fail).
 */
import { Agent, request, type Dispatcher } from 'undici';
import { ERROR_CATALOGUE, RomanaError, type ErrorCode } from '../core/errors.js';
import type { RomanaPolicy } from '../core/policy/types.js';
import type { TopologyInput } from '../core/topology/types.js';
import type {
  AddressesJson,
  AddressJson,
  AllocateRequest,
  BlocksJson,
  EndpointJson,
  EndpointRequest,
  EndpointsJson,
  HeartbeatJson,
  HostJson,
  HostRequest,
  HostsJson,
  NetworkJson,
  NetworkPoliciesJson,
  PolicyAddJson,
  ReadyJson,
  ReservationJson,
  SegmentJson,
  SegmentsJson,
  SnapshotJson,
  TenantJson,
  TenantsJson,
  TopologyUpdateJson,
  UtilisationJson,
  VipJson,
  VipRequest,
  VipsJson,
  WatchEventJson,
} from './api_types.js';

export type * from './api_types.js';

export const DEFAULT_DAEMON_URL = 'http://127.0.0.1:9600';

export interface ApiClientOptions {
  /** e.g. "http://127.0.0.1:9600" (a path prefix is kept), or "unix:/run/romana/daemon.sock". */
  baseUrl?: string;
  /** Connect through this unix socket (the URL's host is then only the Host header). */
  socketPath?: string;
  /** Bearer token (daemon --token-file). */
  token?: string;
  /** Deadline per unary request (default 10 s). */
  timeoutMs?: number;
  /** Max parallel connections to the daemon (default 16). */
  connections?: number;
}

export interface Filter {
  network?: string;
  host?: string;
  tenant?: string;
  segment?: string;
}

export interface WatchOptions {
  /** Exclusive: events with revision > since. Default: from the current revision. */
  since?: number;
  /** Key prefix relative to the store prefix, e.g. "blocks/". */
  prefix?: string;
  signal?: AbortSignal;
}

export interface WatchStream extends AsyncIterable<WatchEventJson> {
  /** The revision the stream started after (the `since` used). */
  readonly startRevision: number;
  /** Revision of the last event yielded (startRevision before any). */
  readonly lastRevision: number;
  close(): void;
}

interface CallOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** Repeated query parameters (?prefix=a&prefix=b). */
  multi?: Record<string, readonly string[]>;
  body?: unknown;
  /** Status codes that are success (default any 2xx). */
  raw?: boolean;
}

const enc = encodeURIComponent;

/**
 * Splits a daemon address into the HTTP base URL and, for `unix:` addresses
 * (`unix:/path`, `unix:///path`), the socket path.
 */
export function parseDaemonAddress(address: string): { baseUrl: string; socketPath?: string } {
  if (address.startsWith('unix:')) {
    let p = address.slice('unix:'.length);
    if (p.startsWith('//')) p = p.slice(2);
    if (!p.startsWith('/')) throw new RomanaError('INVALID_ARGUMENT', `Invalid daemon address ${JSON.stringify(address)}: a unix socket needs an absolute path (unix:/path)`);
    return { baseUrl: 'http://localhost', socketPath: p };
  }
  return { baseUrl: address };
}

export class RomanaClient {
  readonly baseUrl: string;
  /** Set when the daemon is reached over a unix socket. */
  readonly socketPath: string | undefined;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly agent: Dispatcher;

  constructor(opts: ApiClientOptions = {}) {
    const addr = parseDaemonAddress(opts.baseUrl ?? DEFAULT_DAEMON_URL);
    this.baseUrl = addr.baseUrl.replace(/\/+$/, '');
    this.socketPath = opts.socketPath ?? addr.socketPath;
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.agent = new Agent({
      connections: opts.connections ?? 16,
      keepAliveTimeout: 30_000,
      ...(this.socketPath === undefined ? {} : { connect: { socketPath: this.socketPath } }),
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  // ---------- hosts ----------

  listHosts(): Promise<HostsJson> {
    return this.call('GET', '/hosts');
  }

  getHost(name: string): Promise<HostJson> {
    return this.call('GET', `/hosts/${enc(name)}`);
  }

  /** Registers a host; `created` is false when the identical host already existed. */
  async addHost(host: HostRequest): Promise<{ host: HostJson; created: boolean }> {
    const r = await this.callWithStatus<HostJson>('POST', '/hosts', { body: host });
    return { host: r.body, created: r.status === 201 };
  }

  removeHost(name: string): Promise<{ host: HostJson; released: AddressJson[] }> {
    return this.call('DELETE', `/hosts/${enc(name)}`);
  }

  setHostTags(name: string, tags: Record<string, string>): Promise<HostJson> {
    return this.call('PUT', `/hosts/${enc(name)}/tags`, { body: { tags } });
  }

  heartbeat(host: string, ttlSeconds?: number): Promise<HeartbeatJson> {
    return this.call('POST', `/hosts/${enc(host)}/heartbeat`, ttlSeconds === undefined ? {} : { body: { ttl_seconds: ttlSeconds } });
  }

  // ---------- networks, blocks, addresses ----------

  listNetworks(): Promise<NetworkJson[]> {
    return this.call('GET', '/networks');
  }

  networkBlocks(network: string): Promise<BlocksJson> {
    return this.call('GET', `/networks/${enc(network)}/blocks`);
  }

  listBlocks(filter: Filter = {}): Promise<BlocksJson> {
    return this.call('GET', '/blocks', { query: { ...filter } });
  }

  /** Allocates (or returns the existing) address for `name`; resolves with the IP. */
  allocate(req: AllocateRequest): Promise<string> {
    return this.call('POST', '/address', { body: req });
  }

  /** Releases by address name or IP; resolves with what was released. */
  release(nameOrIp: string): Promise<AddressJson> {
    return this.call('DELETE', '/address', { query: { addressName: nameOrIp } });
  }

  listAddresses(filter: Filter = {}): Promise<AddressesJson> {
    return this.call('GET', '/addresses', { query: { ...filter } });
  }

  getAddress(name: string): Promise<AddressJson> {
    return this.call('GET', `/addresses/${enc(name)}`);
  }

  listReservations(): Promise<{ revision: number; reservations: ReservationJson[] }> {
    return this.call('GET', '/reservations');
  }

  reserve(cidr: string, network?: string): Promise<ReservationJson> {
    return this.call('POST', '/reservations', { body: network === undefined ? { cidr } : { cidr, network } });
  }

  unreserve(cidr: string, network?: string): Promise<unknown> {
    return this.call('DELETE', '/reservations', { query: { cidr, network } });
  }

  utilisation(): Promise<UtilisationJson> {
    return this.call('GET', '/ipam/utilisation');
  }

  // ---------- topology ----------

  getTopology(): Promise<TopologyInput> {
    return this.call('GET', '/topology');
  }

  updateTopology(topology: unknown, opts: { dryRun?: boolean } = {}): Promise<TopologyUpdateJson> {
    return this.call('POST', '/topology', { body: topology, query: opts.dryRun ? { dryRun: true } : {} });
  }

  // ---------- tenants and segments ----------

  listTenants(): Promise<TenantsJson> {
    return this.call('GET', '/tenants');
  }

  getTenant(name: string): Promise<TenantJson> {
    return this.call('GET', `/tenants/${enc(name)}`);
  }

  async createTenant(name: string): Promise<{ tenant: TenantJson; created: boolean }> {
    const r = await this.callWithStatus<TenantJson>('POST', '/tenants', { body: { name } });
    return { tenant: r.body, created: r.status === 201 };
  }

  deleteTenant(name: string): Promise<TenantJson> {
    return this.call('DELETE', `/tenants/${enc(name)}`);
  }

  listSegments(tenant: string): Promise<SegmentsJson> {
    return this.call('GET', `/tenants/${enc(tenant)}/segments`);
  }

  getSegment(tenant: string, name: string): Promise<SegmentJson> {
    return this.call('GET', `/tenants/${enc(tenant)}/segments/${enc(name)}`);
  }

  async addSegment(tenant: string, name: string): Promise<{ segment: SegmentJson; created: boolean }> {
    const r = await this.callWithStatus<SegmentJson>('POST', `/tenants/${enc(tenant)}/segments`, { body: { name } });
    return { segment: r.body, created: r.status === 201 };
  }

  removeSegment(tenant: string, name: string): Promise<SegmentJson> {
    return this.call('DELETE', `/tenants/${enc(tenant)}/segments/${enc(name)}`);
  }

  /** Creates the tenant with these namespace labels, or replaces its labels. */
  async putTenant(name: string, labels: Record<string, string>): Promise<{ tenant: TenantJson; created: boolean }> {
    const r = await this.callWithStatus<TenantJson>('PUT', `/tenants/${enc(name)}`, { body: { labels } });
    return { tenant: r.body, created: r.status === 201 };
  }

  // ---------- endpoints (pods) ----------

  listEndpoints(filter: { node?: string; namespace?: string } = {}): Promise<EndpointsJson> {
    return this.call('GET', '/endpoints', { query: { ...filter } });
  }

  getEndpoint(namespace: string, pod: string): Promise<EndpointJson> {
    return this.call('GET', `/endpoints/${enc(namespace)}/${enc(pod)}`);
  }

  /** Merges the given fields into the endpoint (creating it); `created` when it did not exist. */
  async putEndpoint(namespace: string, pod: string, body: EndpointRequest): Promise<{ endpoint: EndpointJson; created: boolean }> {
    const r = await this.callWithStatus<EndpointJson>('PUT', `/endpoints/${enc(namespace)}/${enc(pod)}`, { body });
    return { endpoint: r.body, created: r.status === 201 };
  }

  deleteEndpoint(namespace: string, pod: string): Promise<EndpointJson> {
    return this.call('DELETE', `/endpoints/${enc(namespace)}/${enc(pod)}`);
  }

  // ---------- Romana VIPs ----------

  listVips(): Promise<VipsJson> {
    return this.call('GET', '/vips');
  }

  getVip(namespace: string, service: string): Promise<VipJson> {
    return this.call('GET', `/vips/${enc(namespace)}/${enc(service)}`);
  }

  /** Creates or updates the VIP of a service; `created` when it did not exist. */
  async putVip(namespace: string, service: string, body: VipRequest): Promise<{ vip: VipJson; created: boolean }> {
    const r = await this.callWithStatus<VipJson>('PUT', `/vips/${enc(namespace)}/${enc(service)}`, { body });
    return { vip: r.body, created: r.status === 201 };
  }

  deleteVip(namespace: string, service: string): Promise<VipJson> {
    return this.call('DELETE', `/vips/${enc(namespace)}/${enc(service)}`);
  }

  // ---------- Kubernetes NetworkPolicies ----------

  listNetworkPolicies(namespace?: string): Promise<NetworkPoliciesJson> {
    return this.call('GET', '/k8s/networkpolicies', { query: { namespace } });
  }

  getNetworkPolicy(namespace: string, name: string): Promise<Record<string, unknown>> {
    return this.call('GET', `/k8s/networkpolicies/${enc(namespace)}/${enc(name)}`);
  }

  /** Stores the NetworkPolicy object verbatim; `created` when it did not exist. */
  async putNetworkPolicy(namespace: string, name: string, object: unknown): Promise<{ object: Record<string, unknown>; created: boolean }> {
    const r = await this.callWithStatus<Record<string, unknown>>('PUT', `/k8s/networkpolicies/${enc(namespace)}/${enc(name)}`, { body: object });
    return { object: r.body, created: r.status === 201 };
  }

  deleteNetworkPolicy(namespace: string, name: string): Promise<Record<string, unknown>> {
    return this.call('DELETE', `/k8s/networkpolicies/${enc(namespace)}/${enc(name)}`);
  }

  // ---------- snapshot ----------

  /** Raw records under `prefixes` (all when empty) and a revision to watch from. */
  snapshot(prefixes: readonly string[] = []): Promise<SnapshotJson> {
    return this.call('GET', '/snapshot', { query: {}, multi: { prefix: prefixes } });
  }

  // ---------- policies ----------

  listPolicies(): Promise<RomanaPolicy[]> {
    return this.call('GET', '/policies');
  }

  /** The documented `{securitypolicies: [...]}` form. */
  listPoliciesDocumented(): Promise<{ securitypolicies: unknown[] }> {
    return this.call('GET', '/policies', { query: { format: 'documented' } });
  }

  /** A policy by id or name. */
  getPolicy(ref: string): Promise<RomanaPolicy> {
    return this.call('GET', `/policies/${enc(ref)}`);
  }

  /** Any accepted document: one policy, a list, or {securitypolicies: [...]}. */
  addPolicies(document: unknown): Promise<PolicyAddJson> {
    return this.call('POST', '/policies', { body: document });
  }

  /** Deletes by id or name; resolves with the deleted policy. */
  removePolicy(ref: string): Promise<RomanaPolicy> {
    return this.call('DELETE', `/policies/${enc(ref)}`);
  }

  // ---------- operations ----------

  healthz(): Promise<{ status: string }> {
    return this.call('GET', '/healthz');
  }

  /** Resolves when ready; rejects with NOT_READY (details.checks) otherwise. */
  readyz(): Promise<ReadyJson> {
    return this.call('GET', '/readyz');
  }

  async metrics(): Promise<string> {
    const { body } = await this.send('GET', '/metrics', {}, AbortSignal.timeout(this.timeoutMs));
    return body.text();
  }

  /**
   * Opens GET /watch. Iterate the result for events; the iteration throws the
   * stream's error line as a RomanaError (WATCH_FELL_BEHIND,
   * HISTORY_COMPACTED, …) and ends when the daemon ends the stream (e.g. on
   * shutdown: resume from `lastRevision`).
   */
  async watch(opts: WatchOptions = {}): Promise<WatchStream> {
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const { body, headers } = await this.send('GET', '/watch', { query: { since: opts.since, prefix: opts.prefix } }, ac.signal, { bodyTimeout: 0 });
    const startRevision = Number(headers['x-romana-revision'] ?? opts.since ?? 0);
    let lastRevision = startRevision;
    const close = (): void => {
      opts.signal?.removeEventListener('abort', onAbort);
      ac.abort();
    };
    async function* events(): AsyncGenerator<WatchEventJson> {
      let partial = '';
      try {
        for await (const chunk of body) {
          const parts = (partial + (chunk as Buffer).toString('utf8')).split('\n');
          partial = parts.pop()!;
          for (const text of parts) {
            if (text === '') continue;
            const obj = JSON.parse(text) as WatchEventJson | { type: 'error'; revision: number; error: Record<string, unknown> };
            if (obj.type === 'error') throw errorFromBody(500, (obj as { error: Record<string, unknown> }).error);
            lastRevision = obj.revision;
            yield obj as WatchEventJson;
          }
        }
      } catch (e) {
        if (ac.signal.aborted) return;
        if (e instanceof RomanaError) throw e;
        throw unreachable('GET /watch', e);
      } finally {
        close();
      }
    }
    const it = events();
    return {
      startRevision,
      get lastRevision() {
        return lastRevision;
      },
      close,
      [Symbol.asyncIterator]: () => it,
    };
  }

  // ---------- plumbing ----------

  private async call<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
    return (await this.callWithStatus<T>(method, path, opts)).body;
  }

  private async callWithStatus<T>(method: string, path: string, opts: CallOptions = {}): Promise<{ status: number; body: T }> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    const { status, body } = await this.send(method, path, opts, signal);
    let text: string;
    try {
      text = await body.text();
    } catch (e) {
      throw unreachable(`${method} ${path}`, e, this.timeoutMs);
    }
    return { status, body: (text === '' ? null : JSON.parse(text)) as T };
  }

  /** Sends; resolves for 2xx, throws the server's error (or DAEMON_UNREACHABLE) otherwise. */
  private async send(
    method: string,
    path: string,
    opts: CallOptions,
    signal: AbortSignal,
    extra: { bodyTimeout?: number } = {},
  ): Promise<{ status: number; body: Dispatcher.ResponseData['body']; headers: Dispatcher.ResponseData['headers'] }> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    for (const [k, vs] of Object.entries(opts.multi ?? {})) for (const v of vs) url.searchParams.append(k, v);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, { method: method as Dispatcher.HttpMethod, headers, body: payload, dispatcher: this.agent, signal, ...extra });
    } catch (e) {
      throw unreachable(`${method} ${path}`, e, this.timeoutMs);
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode, body: res.body, headers: res.headers };
    let parsed: unknown;
    try {
      parsed = await res.body.json();
    } catch {
      parsed = undefined;
    }
    throw errorFromBody(res.statusCode, parsed, `${method} ${path}`);
  }
}

function unreachable(what: string, e: unknown, timeoutMs?: number): RomanaError {
  const err = e as Error & { code?: string };
  const timedOut = err?.name === 'TimeoutError' || err?.name === 'AbortError' || err?.code === 'UND_ERR_HEADERS_TIMEOUT';
  const why = timedOut && timeoutMs !== undefined ? `no answer within ${timeoutMs} ms` : (err?.message ?? String(e));
  return new RomanaError('DAEMON_UNREACHABLE', `Cannot reach the romana daemon (${what}): ${why}`, { cause: e });
}

/** A RomanaError from an error body {status_code, code, message, details, resource_type, resource_id}. */
export function errorFromBody(status: number, body: unknown, what = ''): RomanaError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const code = typeof b.code === 'string' && Object.hasOwn(ERROR_CATALOGUE, b.code) ? (b.code as ErrorCode) : null;
  const message = typeof b.message === 'string' ? b.message : `${what ? `${what}: ` : ''}HTTP ${status}`;
  const details = typeof b.details === 'object' && b.details !== null ? (b.details as Record<string, unknown>) : {};
  const opts = {
    details: code === null ? { ...details, http_status: status, server_code: b.code ?? null } : details,
    ...(typeof b.resource_type === 'string' ? { resourceType: b.resource_type } : {}),
    ...(typeof b.resource_id === 'string' ? { resourceId: b.resource_id } : {}),
  };
  return new RomanaError(code ?? 'INTERNAL', message, opts);
}
