/**
 * The CLI's connection to the daemon: the shared typed client
 * (src/shared/api_client.ts) plus `-v` tracing of every HTTP exchange.
 *
 * Tracing listens on undici's diagnostics channels instead of wrapping the
 * client, so it sees exactly what goes on the wire (method, URL, body,
 * status, time) without the client knowing. Lines go to stderr, leaving
 * stdout parseable with -f json. The Authorization header is never printed.
 *
 * Concurrency rule: one CliClient per CLI run; close() unsubscribes and
 * ends the keep-alive connections so the process can exit.
 */
import diagnostics from 'node:diagnostics_channel';
import { RomanaClient } from '../shared/api_client.js';

/** The slice of undici's request object the channels hand us. */
interface TracedRequest {
  method: string;
  origin: string;
  path: string;
  body?: unknown;
}

const MAX_BODY_TRACE = 2000;

export interface CliClient {
  readonly api: RomanaClient;
  close(): Promise<void>;
}

export function openClient(opts: { daemonUrl: string; token: string | undefined; trace?: (line: string) => void; timeoutMs?: number }): CliClient {
  const api = new RomanaClient({
    baseUrl: opts.daemonUrl,
    ...(opts.token === undefined ? {} : { token: opts.token }),
    // A CLI call is a handful of sequential requests: one connection is plenty.
    connections: 4,
    ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
  });
  const trace = opts.trace;
  if (trace === undefined) return { api, close: () => api.close() };

  const started = new WeakMap<object, number>();
  const onCreate = (m: unknown): void => {
    const { request } = m as { request: TracedRequest };
    started.set(request, performance.now());
    trace(`> ${request.method} ${request.origin}${request.path}`);
    // undici keeps a string body as a Buffer.
    const body = request.body instanceof Uint8Array ? Buffer.from(request.body).toString('utf8') : typeof request.body === 'string' ? request.body : '';
    if (body !== '') trace(`> ${body.length > MAX_BODY_TRACE ? `${body.slice(0, MAX_BODY_TRACE)}… (${body.length} characters)` : body}`);
  };
  const elapsed = (request: object): string => {
    const t0 = started.get(request);
    return t0 === undefined ? '' : ` (${Math.round(performance.now() - t0)} ms)`;
  };
  const onHeaders = (m: unknown): void => {
    const { request, response } = m as { request: TracedRequest; response: { statusCode: number; statusText?: string } };
    trace(`< ${response.statusCode}${response.statusText ? ` ${response.statusText}` : ''} ${request.method} ${request.path}${elapsed(request)}`);
  };
  const onError = (m: unknown): void => {
    const { request, error } = m as { request: TracedRequest; error: Error & { code?: string } };
    trace(`< error ${request.method} ${request.path}: ${error.message || error.code || error.name}${elapsed(request)}`);
  };
  const channels: Array<[string, (m: unknown) => void]> = [
    ['undici:request:create', onCreate],
    ['undici:request:headers', onHeaders],
    ['undici:request:error', onError],
  ];
  for (const [name, fn] of channels) diagnostics.subscribe(name, fn);
  return {
    api,
    close: async () => {
      for (const [name, fn] of channels) diagnostics.unsubscribe(name, fn);
      await api.close();
    },
  };
}
