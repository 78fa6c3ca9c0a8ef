/**
 * The agent's HTTP server on 127.0.0.1:--health-port (and optionally a
 * unix socket, --health-socket):
 *
 *   GET  /healthz   200 while the process serves
 *   GET  /readyz    200 {status, revision} once the first full sync
 *                   succeeded; 503 NOT_READY before
 *   GET  /metrics   Prometheus text (src/agent/metrics.ts)
 *   POST /sync      waits until a full apply that includes everything the
 *                   daemon had when the request arrived has completed, and
 *                   answers {revision}. The CNI plugin calls it before ADD
 *                   returns, so a pod some policy selects is isolated
 *                   before it can send. `?timeout_ms=` bounds the wait
 *                   (default 30 s; 503 NOT_READY when it runs out).
 *
 * Loopback only: /sync makes the agent work and /metrics tells about the
 * node's policy; neither is for other hosts.
 *
 * Concurrency rule: handlers hold no state; /sync requests wait on the
 * follower and the syncer, which serve any number of them.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { RomanaError } from '../core/errors.js';
import { closeGracefully, createJsonServer, Router, STREAMED } from '../shared/http_server.js';
import type { Logger } from '../shared/log.js';
import { renderMetrics } from '../shared/metrics.js';
import type { AgentMetrics } from './metrics.js';

export interface HealthDeps {
  ready(): boolean;
  appliedRevision(): number;
  /** The daemon's current store revision. */
  daemonRevision(): Promise<number>;
  /** Resolves once the view holds every change up to `revision`. */
  catchUp(revision: number, deadline: number): Promise<void>;
  /** Resolves with the applied revision once a pass covering `revision` succeeded. */
  waitApplied(revision: number): Promise<number>;
}

export interface HealthServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

const DEFAULT_SYNC_TIMEOUT_MS = 30_000;

export async function startHealthServer(o: { host: string; port: number; socket: string | null; deps: HealthDeps; metrics: AgentMetrics; log: Logger }): Promise<HealthServer> {
  const r = new Router<null>();
  const { deps } = o;
  r.add('GET', '/healthz', null, async () => ({ body: { status: 'ok' } }));
  r.add('GET', '/readyz', null, async () => {
    if (!deps.ready()) throw new RomanaError('NOT_READY', 'Not ready: the first full sync has not completed');
    return { body: { status: 'ready', revision: deps.appliedRevision() } };
  });
  r.add('GET', '/metrics', null, async (ctx) => {
    const m = await renderMetrics(o.metrics.registry);
    ctx.res.writeHead(200, { 'content-type': m.contentType });
    ctx.res.end(m.body);
    return STREAMED;
  });
  r.add('POST', '/sync', null, async (ctx) => {
    const t = ctx.query.get('timeout_ms');
    const timeoutMs = t === null ? DEFAULT_SYNC_TIMEOUT_MS : Number(t);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > 600_000) {
      throw new RomanaError('INVALID_ARGUMENT', `Invalid timeout_ms ${JSON.stringify(t)}: must be an integer 0-600000`);
    }
    const deadline = Date.now() + timeoutMs;
    const revision = await deps.daemonRevision();
    await deps.catchUp(revision, deadline);
    let timer: NodeJS.Timeout | undefined;
    try {
      const applied = await Promise.race([
        deps.waitApplied(revision),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new RomanaError('NOT_READY', `No successful apply covering daemon revision ${revision} within ${timeoutMs} ms`)),
            Math.max(0, deadline - Date.now()),
          );
        }),
      ]);
      return { body: { revision: applied } };
    } finally {
      clearTimeout(timer);
    }
  });

  const make = (): Server => createJsonServer<null>({ router: r, log: o.log, metrics: o.metrics.http });
  const tcp = make();
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(o.port, o.host, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  let unix: Server | null = null;
  if (o.socket !== null) {
    try {
      if (lstatSync(o.socket, { throwIfNoEntry: false })?.isSocket()) unlinkSync(o.socket);
      unix = make();
      await new Promise<void>((resolve, reject) => {
        unix!.once('error', reject);
        unix!.listen(o.socket!, () => {
          unix!.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      await closeGracefully(tcp, 0);
      throw e;
    }
  }
  const port = (tcp.address() as AddressInfo).port;
  return {
    port,
    url: `http://${o.host}:${port}`,
    close: async () => {
      await Promise.all([tcp, unix].filter((s): s is Server => s !== null).map((s) => closeGracefully(s, 2000)));
    },
  };
}
