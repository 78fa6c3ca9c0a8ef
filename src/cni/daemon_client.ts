/**
 * The few daemon and agent calls the CNI plugin makes, over node:http —
 * to a TCP address or to the daemon's unix socket (`--socket`).
 *
 * Why not src/shared/api_client.ts: it is built on undici, whose import
 * alone costs more than the rest of an ADD's start-up, and it speaks TCP
 * only. This client is small, speaks both, and maps error answers onto the
 * same catalogue codes (a daemon error body's `code`), so the plugin
 * converts them to CNI codes in one place (errors.ts).
 *
 * The endpoint routes (`/endpoints/{ns}/{pod}`) are newer than the rest of
 * the API: a daemon without them answers 404 with resource_type "route",
 * which these methods report as UNSUPPORTED so the plugin carries on
 * without endpoint records (segment "default", no registration).
 *
 * Concurrency rule: one client per invocation; close() ends its sockets so
 * the process can exit at once.
 */
import http from 'node:http';
import { ERROR_CATALOGUE, RomanaError, type ErrorCode } from '../core/errors.js';
import type { Endpoint } from './config.js';

export const UNSUPPORTED = Symbol('unsupported route');
export type Unsupported = typeof UNSUPPORTED;

/** GET /addresses/{name} and DELETE /address answers (the daemon's AddressJson). */
export interface AddressInfo {
  name: string;
  ip: string;
  host: string;
  tenant?: string;
  segment?: string;
}

/** A pod's record at the daemon (GET /endpoints/{ns}/{pod}): the listener writes labels and ports, this plugin ip and node. */
export interface EndpointInfo {
  labels?: Record<string, string>;
  ip?: string | null;
  node?: string | null;
  ports?: unknown[];
}

/** PUT /endpoints/{ns}/{pod} merges: fields present replace, absent ones are kept, null clears. */
export interface EndpointPatch {
  ip?: string | null;
  node?: string | null;
}

export interface DaemonApi {
  allocate(req: { name: string; host: string; tenant: string; segment: string }): Promise<string>;
  /** null when no address has that name. */
  getAddress(name: string): Promise<AddressInfo | null>;
  /** null when it was not allocated (already released). */
  release(name: string): Promise<AddressInfo | null>;
  listAddresses(host: string): Promise<AddressInfo[]>;
  getEndpoint(namespace: string, pod: string): Promise<EndpointInfo | null | Unsupported>;
  putEndpoint(namespace: string, pod: string, patch: EndpointPatch): Promise<void | Unsupported>;
  /** Resolves also when there was no record. */
  deleteEndpoint(namespace: string, pod: string): Promise<void | Unsupported>;
  /** Throws unless the daemon answers /readyz with 200. */
  ready(): Promise<void>;
  close(): void;
}

export interface AgentApi {
  /** POST /sync: resolves once the agent has applied a full sync. */
  sync(): Promise<void>;
  ready(): Promise<void>;
  close(): void;
}

interface Answer {
  status: number;
  body: unknown;
}

const enc = encodeURIComponent;

/** Minimal JSON-over-HTTP with a per-request deadline. */
export class JsonHttp {
  private readonly agent: http.Agent;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly token: string | null,
    private readonly timeoutMs: number,
    private readonly what: string,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  }

  request(method: string, path: string, body?: unknown): Promise<Answer> {
    const url = new URL(this.endpoint.baseUrl + path);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token !== null) headers.authorization = `Bearer ${this.token}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const where = this.endpoint.kind === 'unix' ? `unix:${this.endpoint.socketPath}` : this.endpoint.baseUrl;
    return new Promise<Answer>((resolve, reject) => {
      const req = http.request(
        {
          method,
          path: url.pathname + url.search,
          headers,
          agent: this.agent,
          ...(this.endpoint.kind === 'unix' ? { socketPath: this.endpoint.socketPath } : { host: url.hostname, port: url.port || 80 }),
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => {
            let parsed: unknown = undefined;
            try {
              parsed = text === '' ? undefined : JSON.parse(text);
            } catch {
              parsed = text;
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', (e) => reject(unreachable(this.what, `${method} ${path}`, where, e.message)));
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (e) => reject(unreachable(this.what, `${method} ${path}`, where, e.message)));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function unreachable(what: string, call: string, where: string, why: string): RomanaError {
  return new RomanaError('DAEMON_UNREACHABLE', `Cannot reach the ${what} at ${where} (${call}): ${why}`);
}

/** A RomanaError from an error answer, keeping the server's catalogue code. */
function answerError(a: Answer, call: string): RomanaError {
  const b = (typeof a.body === 'object' && a.body !== null ? a.body : {}) as Record<string, unknown>;
  const known = typeof b.code === 'string' && Object.hasOwn(ERROR_CATALOGUE, b.code);
  const code = (known ? b.code : 'INTERNAL') as ErrorCode;
  const message = typeof b.message === 'string' ? b.message : `${call}: HTTP ${a.status}${typeof a.body === 'string' ? ` ${a.body.slice(0, 200)}` : ''}`;
  return new RomanaError(code, message, { details: known ? ((b.details as Record<string, unknown>) ?? {}) : { http_status: a.status } });
}

/** True when the daemon says the route itself does not exist (an older daemon). */
function isMissingRoute(a: Answer): boolean {
  const b = (typeof a.body === 'object' && a.body !== null ? a.body : {}) as Record<string, unknown>;
  return (a.status === 404 && b.resource_type === 'route') || a.status === 405;
}

function isCode(a: Answer, ...codes: string[]): boolean {
  const b = (typeof a.body === 'object' && a.body !== null ? a.body : {}) as Record<string, unknown>;
  return codes.includes(b.code as string);
}

export class DaemonClient implements DaemonApi {
  private readonly http: JsonHttp;

  constructor(endpoint: Endpoint, token: string | null, timeoutMs: number) {
    this.http = new JsonHttp(endpoint, token, timeoutMs, 'romana daemon');
  }

  private async ok(method: string, path: string, body?: unknown): Promise<unknown> {
    const a = await this.http.request(method, path, body);
    if (a.status >= 200 && a.status < 300) return a.body;
    throw answerError(a, `${method} ${path}`);
  }

  async allocate(req: { name: string; host: string; tenant: string; segment: string }): Promise<string> {
    const ip = await this.ok('POST', '/address', req);
    if (typeof ip !== 'string') throw new RomanaError('INTERNAL', `POST /address answered ${JSON.stringify(ip)}: expected an address string`);
    return ip;
  }

  async getAddress(name: string): Promise<AddressInfo | null> {
    const path = `/addresses/${enc(name)}`;
    const a = await this.http.request('GET', path);
    if (a.status === 404 && isCode(a, 'ADDRESS_NOT_FOUND', 'NOT_FOUND') && !isMissingRoute(a)) return null;
    if (a.status >= 200 && a.status < 300) return a.body as AddressInfo;
    throw answerError(a, `GET ${path}`);
  }

  async release(name: string): Promise<AddressInfo | null> {
    const path = `/address?addressName=${enc(name)}`;
    const a = await this.http.request('DELETE', path);
    if (a.status === 404 && isCode(a, 'ADDRESS_NOT_FOUND')) return null;
    if (a.status >= 200 && a.status < 300) return a.body as AddressInfo;
    throw answerError(a, `DELETE ${path}`);
  }

  async listAddresses(host: string): Promise<AddressInfo[]> {
    const body = (await this.ok('GET', `/addresses?host=${enc(host)}`)) as { addresses?: AddressInfo[] };
    return body.addresses ?? [];
  }

  async getEndpoint(namespace: string, pod: string): Promise<EndpointInfo | null | Unsupported> {
    const path = `/endpoints/${enc(namespace)}/${enc(pod)}`;
    const a = await this.http.request('GET', path);
    if (isMissingRoute(a)) return UNSUPPORTED;
    if (a.status === 404) return null;
    if (a.status >= 200 && a.status < 300) return a.body as EndpointInfo;
    throw answerError(a, `GET ${path}`);
  }

  async putEndpoint(namespace: string, pod: string, patch: EndpointPatch): Promise<void | Unsupported> {
    const path = `/endpoints/${enc(namespace)}/${enc(pod)}`;
    const a = await this.http.request('PUT', path, patch);
    if (isMissingRoute(a)) return UNSUPPORTED;
    if (a.status >= 200 && a.status < 300) return;
    throw answerError(a, `PUT ${path}`);
  }

  async deleteEndpoint(namespace: string, pod: string): Promise<void | Unsupported> {
    const path = `/endpoints/${enc(namespace)}/${enc(pod)}`;
    const a = await this.http.request('DELETE', path);
    if (isMissingRoute(a)) return UNSUPPORTED;
    if (a.status === 404 || (a.status >= 200 && a.status < 300)) return;
    throw answerError(a, `DELETE ${path}`);
  }

  async ready(): Promise<void> {
    await this.ok('GET', '/readyz');
  }

  close(): void {
    this.http.close();
  }
}

export class AgentClient implements AgentApi {
  private readonly http: JsonHttp;

  constructor(
    baseUrl: string,
    private readonly timeoutMs: number,
  ) {
    this.http = new JsonHttp({ kind: 'http', baseUrl }, null, timeoutMs, 'romana agent');
  }

  private async ok(method: string, path: string): Promise<void> {
    const a = await this.http.request(method, path);
    if (a.status >= 200 && a.status < 300) return;
    throw answerError(a, `${method} ${path}`);
  }

  sync(): Promise<void> {
    // The agent gives up a little before this client does, so the answer says why (503 NOT_READY) instead of a bare timeout.
    return this.ok('POST', `/sync?timeout_ms=${Math.max(100, this.timeoutMs - 250)}`);
  }

  ready(): Promise<void> {
    return this.ok('GET', '/readyz');
  }

  close(): void {
    this.http.close();
  }
}
