/**
 * Operational routes: /healthz (the process serves), /readyz (the store
 * answers and a topology is loaded), /metrics (Prometheus), /watch (the
 * NDJSON change stream), and / (the route list).
 *
 * Concurrency rule: handlers hold no state; /watch streams are tracked in
 * the services' registry so shutdown can end them.
 */
import { RomanaError } from '../core/errors.js';
import { STREAMED } from '../shared/http_server.js';
import { renderMetrics } from '../shared/metrics.js';
import type { DaemonRouter, DaemonServices } from './services.js';
import { parseWatchQuery, serveWatch } from './watch_stream.js';

const READY_STORE_TIMEOUT_MS = 2000;

async function storeCheck(svc: DaemonServices): Promise<{ ok: boolean; revision?: number; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const rev = await Promise.race([
      svc.store.revision(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READY_STORE_TIMEOUT_MS} ms`)), READY_STORE_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, revision: rev };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export function registerSystemRoutes(r: DaemonRouter, svc: DaemonServices): void {
  r.add('GET', '/healthz', 'open', async () => ({ body: { status: 'ok' } }));
  r.add('GET', '/readyz', 'open', async () => {
    const store = await storeCheck(svc);
    const topology = svc.ipam.topology() !== undefined;
    const checks = { store, topology: { ok: topology } };
    if (store.ok && topology) return { body: { status: 'ready', checks } };
    const why = [!store.ok ? `store unreachable (${store.error})` : null, !topology ? 'no topology loaded' : null].filter(Boolean).join('; ');
    throw new RomanaError('NOT_READY', `Not ready: ${why}`, { details: { checks } });
  });
  r.add('GET', '/metrics', 'read', async (ctx) => {
    const m = await renderMetrics(svc.metrics.registry);
    ctx.res.writeHead(200, { 'content-type': m.contentType });
    ctx.res.end(m.body);
    return STREAMED;
  });
  r.add('GET', '/watch', 'read', async (ctx) => {
    const params = parseWatchQuery(ctx.query);
    if (params.since !== undefined) {
      const now = await svc.store.revision();
      if (params.since > now) {
        throw new RomanaError('INVALID_ARGUMENT', `Invalid since ${params.since}: the store is at revision ${now}`, {
          details: { field: 'since', value: params.since, revision: now },
        });
      }
    }
    await serveWatch(ctx.res, params, {
      store: svc.store,
      bufferBytes: svc.config.watchBufferBytes,
      log: svc.log,
      registry: svc.watchStreams,
      onOpen: () => svc.metrics.watchStreams.inc(),
      onClose: () => svc.metrics.watchStreams.dec(),
    });
    return STREAMED;
  });
}

/** GET /: what this daemon serves (for people with curl). */
export function registerIndexRoute(r: DaemonRouter): void {
  r.add('GET', '/', 'read', async () => ({
    body: { service: 'romana-daemon', routes: r.list().map((x) => ({ method: x.method, path: x.pattern, access: x.meta })) },
  }));
}
