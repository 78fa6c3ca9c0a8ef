/**
 * A small JSON-over-HTTP server on node:http: route table with `{param}`
 * path patterns, JSON bodies, errors from the one catalogue, request
 * metrics and logs. Used by romana-daemon (its whole API) and by the other
 * executables for /healthz, /readyz and /metrics.
 *
 * Design:
 * - Routes are matched on the path's segments; a path that exists for other
 *   methods answers 405 (with Allow), an unknown one 404 — both with the
 *   catalogue's JSON error body.
 * - Bodies are read only when a handler asks (`ctx.json()`), bounded by
 *   `maxBodyBytes` (413). Any JSON media type is accepted, parameters such as
 *   `charset` included (`application/json; charset=utf-8`,
 *   `application/vnd.romana.v1+json`); an absent Content-Type is taken as
 *   JSON, as is `application/x-www-form-urlencoded` because the original
 *   daemon accepted it and `curl -d` sends it. Anything else with a body is
 *   415. Malformed JSON is 400 naming the position.
 * - Handlers return `{status, body}` (JSON-encoded) or take over the
 *   response themselves (`STREAMED`, for /watch and /metrics). A handler's
 *   RomanaError becomes its status and JSON body; anything else is logged
 *   and answered 500 INTERNAL with the message.
 * - There is no response timeout: a request is answered when its work is
 *   done (the original answered 503 after 500 ms while the work went on).
 *
 * Concurrency rule: handlers run concurrently on one event loop; the server
 * itself keeps no per-request state beyond the context object.
 */
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isRomanaError, RomanaError } from '../core/errors.js';
import type { Logger } from './log.js';
import type { HttpMetrics } from './metrics.js';

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Returned by a handler that wrote the response itself. */
export const STREAMED = Symbol('streamed');

export interface Reply {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface RequestContext<M = unknown> {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Decoded `{param}` values of the matched pattern. */
  readonly params: Readonly<Record<string, string>>;
  readonly route: Route<M>;
  readonly log: Logger;
  /** The JSON body; `undefined` when the request has none. Throws 400/413/415 RomanaErrors. */
  json(): Promise<unknown>;
}

export type Handler<M = unknown> = (ctx: RequestContext<M>) => Promise<Reply | typeof STREAMED>;

export interface Route<M = unknown> {
  readonly method: string;
  /** e.g. "/hosts/{name}"; also the metrics label. */
  readonly pattern: string;
  readonly handler: Handler<M>;
  /** Free data for the `before` hook (e.g. the role a route needs). */
  readonly meta: M;
}

interface CompiledRoute<M> extends Route<M> {
  readonly segments: readonly string[];
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

export class Router<M = unknown> {
  private readonly routes: CompiledRoute<M>[] = [];

  add(method: string, pattern: string, meta: M, handler: Handler<M>): this {
    this.routes.push({ method: method.toUpperCase(), pattern, handler, meta, segments: splitPath(pattern) });
    return this;
  }

  list(): readonly Route<M>[] {
    return this.routes;
  }

  /** The route and its params; `allowed` lists the methods of the path when the method does not match. */
  match(method: string, path: string): { route: Route<M>; params: Record<string, string> } | { route: null; allowed: string[] } {
    const parts = splitPath(path);
    const allowed: string[] = [];
    for (const r of this.routes) {
      const params = matchSegments(r.segments, parts);
      if (!params) continue;
      if (r.method === method) return { route: r, params };
      allowed.push(r.method);
    }
    return { route: null, allowed: [...new Set(allowed)] };
  }
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const v = parts[i]!;
    if (p.startsWith('{') && p.endsWith('}')) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(v);
      } catch {
        return null;
      }
      params[p.slice(1, -1)] = decoded;
    } else if (p !== v) return null;
  }
  return params;
}

/** True for media types this server parses as JSON (see the module header). */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return true;
  const type = header.split(';')[0]!.trim().toLowerCase();
  if (type === '') return true;
  return type === 'application/json' || type === 'text/json' || type === 'application/x-www-form-urlencoded' || /^application\/[a-z0-9.+-]*\+json$/.test(type);
}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return Number(len) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): RomanaError {
  return new RomanaError('PAYLOAD_TOO_LARGE', `Request body exceeds the limit of ${limit} bytes`, { details: { limit } });
}

/** Parses JSON text; INVALID_JSON naming the parser's complaint (it includes the position). */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RomanaError('INVALID_JSON', `Request body is not valid JSON: ${(e as Error).message}`, {
      details: { body: text.length > 200 ? `${text.slice(0, 200)}…` : text },
    });
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body === undefined ? null : body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, err: RomanaError, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.status, err.toJSON(), headers);
}

export interface JsonServerOptions<M> {
  router: Router<M>;
  log: Logger;
  metrics?: HttpMetrics;
  maxBodyBytes?: number;
  /** Runs before the handler (authentication, readiness); throw a RomanaError to refuse. */
  before?: (ctx: RequestContext<M>) => void | Promise<void>;
}

/** Per server: open sockets and the requests in flight on each (for closeGracefully). */
interface ConnectionTracker {
  readonly sockets: Set<Socket>;
  /** socket -> requests whose response has not finished */
  readonly active: Map<Socket, number>;
}

const trackers = new WeakMap<Server, ConnectionTracker>();

/** An http.Server dispatching to `router`; call listen() yourself, and closeGracefully() to stop. */
export function createJsonServer<M>(opts: JsonServerOptions<M>): Server {
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const tracker: ConnectionTracker = { sockets: new Set(), active: new Map() };
  const server = http.createServer((req, res) => {
    const sock = req.socket;
    tracker.active.set(sock, (tracker.active.get(sock) ?? 0) + 1);
    res.once('close', () => {
      const n = (tracker.active.get(sock) ?? 1) - 1;
      if (n > 0) tracker.active.set(sock, n);
      else tracker.active.delete(sock);
    });
    void dispatch(opts, maxBody, req, res);
  });
  server.on('connection', (sock: Socket) => {
    tracker.sockets.add(sock);
    sock.once('close', () => {
      tracker.sockets.delete(sock);
      tracker.active.delete(sock);
    });
  });
  trackers.set(server, tracker);
  // Keep-alive connections from clients that pool (agents, the bench) outlive the default 5 s.
  server.keepAliveTimeout = 65_000;
  return server;
}

/**
 * Stops accepting connections, lets requests in flight finish, and closes
 * every connection as soon as it has no request in flight — including
 * connections a client opened but never used (Node's closeIdleConnections
 * counts those as busy). After `drainMs` whatever is left is cut.
 */
export async function closeGracefully(server: Server, drainMs: number): Promise<void> {
  const tracker = trackers.get(server);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const sweep = (): void => {
    if (!tracker) {
      server.closeIdleConnections();
      return;
    }
    for (const s of tracker.sockets) if (!tracker.active.has(s)) s.destroy();
  };
  sweep();
  const interval = setInterval(sweep, 25);
  const timer = setTimeout(() => server.closeAllConnections(), drainMs);
  try {
    await closed;
  } finally {
    clearInterval(interval);
    clearTimeout(timer);
  }
}

async function dispatch<M>(opts: JsonServerOptions<M>, maxBody: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = process.hrtime.bigint();
  const method = (req.method ?? 'GET').toUpperCase();
  let label = 'unmatched';
  res.once('close', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    opts.metrics?.observe(method, label, res.statusCode, seconds);
  });
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    sendError(res, new RomanaError('INVALID_ARGUMENT', `Malformed request target ${JSON.stringify(req.url)}`));
    return;
  }
  const m = opts.router.match(method, url.pathname);
  if (m.route === null) {
    drain(req);
    if (m.allowed.length > 0) {
      sendError(
        res,
        new RomanaError('METHOD_NOT_ALLOWED', `Method ${method} is not allowed on "${url.pathname}": allowed ${m.allowed.join(', ')}`, {
          resourceType: 'route',
          resourceId: url.pathname,
          details: { allowed: m.allowed },
        }),
        { allow: m.allowed.join(', ') },
      );
    } else {
      sendError(res, new RomanaError('NOT_FOUND', `No route "${method} ${url.pathname}"`, { resourceType: 'route', resourceId: url.pathname }));
    }
    return;
  }
  const route = m.route;
  label = route.pattern;
  const log = opts.log;
  let bodyRead: Promise<unknown> | undefined;
  const ctx: RequestContext<M> = {
    req,
    res,
    method,
    path: url.pathname,
    query: url.searchParams,
    params: m.params,
    route,
    log,
    json: () => {
      bodyRead ??= (async () => {
        if (!hasBody(req)) return undefined;
        const ct = req.headers['content-type'];
        if (!isJsonContentType(ct)) {
          throw new RomanaError('UNSUPPORTED_MEDIA_TYPE', `Content-Type ${JSON.stringify(ct)} is not JSON: send application/json`, {
            details: { contentType: ct ?? null },
          });
        }
        const buf = await readBody(req, maxBody);
        if (buf.length === 0) return undefined;
        return parseJsonBody(buf.toString('utf8'));
      })();
      return bodyRead;
    },
  };
  try {
    await opts.before?.(ctx);
    const out = await route.handler(ctx);
    if (bodyRead === undefined) drain(req);
    if (out === STREAMED) return;
    sendJson(res, out.status ?? 200, out.body, out.headers);
  } catch (e) {
    drain(req);
    if (isRomanaError(e)) {
      if (e.status >= 500) log.warn({ err: e, route: route.pattern, code: e.code }, e.message);
      // RFC 6750: a 401 names the scheme the client should use.
      sendError(res, e, e.code === 'UNAUTHORIZED' ? { 'www-authenticate': 'Bearer realm="romana"' } : {});
      return;
    }
    log.error({ err: e, route: route.pattern }, 'handler failed');
    sendError(res, new RomanaError('INTERNAL', `Internal error: ${(e as Error)?.message ?? String(e)}`));
  }
}

/** Discards an unread request body so that a keep-alive connection stays usable. */
function drain(req: IncomingMessage): void {
  if (!req.readableEnded) req.resume();
}
