/**
 * The AWS add-ons' HTTP endpoint: /healthz (liveness + whether the last
 * reconcile succeeded), /status (the controller's JSON view) and /metrics
 * (Prometheus), on the shared JSON server.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeGracefully, createJsonServer, Router, STREAMED } from '../shared/http_server.js';
import type { Logger } from '../shared/log.js';
import { renderMetrics, type HttpMetrics } from '../shared/metrics.js';

export interface StatusServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startStatusServer(o: {
  address: string;
  port: number;
  log: Logger;
  metrics: HttpMetrics;
  status: () => Record<string, unknown>;
  synced: () => boolean;
}): Promise<StatusServer> {
  const r = new Router<null>();
  r.add('GET', '/healthz', null, async () => ({ body: { ok: true, synced: o.synced() } }));
  r.add('GET', '/status', null, async () => ({ body: o.status() }));
  r.add('GET', '/metrics', null, async (ctx) => {
    const m = await renderMetrics(o.metrics.registry);
    ctx.res.writeHead(200, { 'content-type': m.contentType });
    ctx.res.end(m.body);
    return STREAMED;
  });
  const server: Server = createJsonServer<null>({ router: r, log: o.log, metrics: o.metrics });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { port: (server.address() as AddressInfo).port, close: () => closeGracefully(server, 1000) };
}
