/**
 * romana-publisher's HTTP server (--health-host:--health-port):
 *
 *   GET /healthz   200 while the process serves
 *   GET /readyz    200 {status, revision, announced, template, last_success} once the
 *                  daemon's state is loaded and the last pass put it into BIRD;
 *                  503 NOT_READY otherwise, details.checks saying which part is not
 *                  (daemon, template, bird) and the error (with line and column for
 *                  template errors)
 *   GET /metrics   Prometheus text (metrics.ts)
 *
 * Concurrency rule: handlers only read the follower's and the publisher's status.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RomanaError } from '../src/core/errors.js';
import { closeGracefully, createJsonServer, Router, STREAMED } from '../src/shared/http_server.js';
import type { Logger } from '../src/shared/log.js';
import { renderMetrics } from '../src/shared/metrics.js';
import type { PublisherMetrics } from './metrics.js';
import type { PublisherStatus } from './publisher.js';

export interface HealthDeps {
  follower(): { synced: boolean; connected: boolean; revision: number; lastError: string | null };
  publisher(): PublisherStatus;
}

export interface HealthServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** The readiness verdict and its checks (also logged by tests). */
export function readiness(deps: HealthDeps): { ready: boolean; checks: { daemon: { ok: boolean } & Record<string, unknown>; template: { ok: boolean } & Record<string, unknown>; bird: { ok: boolean } & Record<string, unknown> } } {
  const f = deps.follower();
  const p = deps.publisher();
  const err = p.error;
  const checks = {
    daemon: { ok: f.synced, synced: f.synced, connected: f.connected, revision: f.revision, error: f.lastError },
    template: { ok: err?.step !== 'template' && (p.published || err === null), path: p.templatePath, error: err?.step === 'template' ? err : null },
    bird: { ok: p.published && (err === null || err.step === 'template'), reloads: p.reloads, error: err !== null && err.step !== 'template' ? err : null },
  };
  return { ready: f.synced && p.ok, checks };
}

export async function startHealthServer(o: { host: string; port: number; deps: HealthDeps; metrics: PublisherMetrics; log: Logger }): Promise<HealthServer> {
  const r = new Router<null>();
  r.add('GET', '/healthz', null, async () => ({ body: { status: 'ok' } }));
  r.add('GET', '/readyz', null, async () => {
    const { ready, checks } = readiness(o.deps);
    const p = o.deps.publisher();
    if (!ready) {
      const why = p.error ? `${p.error.step} failed: ${p.error.message}` : !checks.daemon.ok ? 'the daemon\'s state is not loaded yet' : 'nothing published yet';
      throw new RomanaError('NOT_READY', `Not ready: ${why}`, { details: { checks } });
    }
    return { body: { status: 'ready', revision: p.revision, announced: p.announced, template: p.templatePath, last_success: p.lastSuccessAt, checks } };
  });
  r.add('GET', '/metrics', null, async (ctx) => {
    const m = await renderMetrics(o.metrics.registry);
    ctx.res.writeHead(200, { 'content-type': m.contentType });
    ctx.res.end(m.body);
    return STREAMED;
  });
  const server: Server = createJsonServer<null>({ router: r, log: o.log, metrics: o.metrics.http });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return { port, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`, close: () => closeGracefully(server, 1000) };
}
