/**
 * romana-dns wiring: config → cluster source → zone → query handler →
 * UDP/TCP server, plus the forwarder and the health/metrics HTTP server.
 *
 * Ports follow the kube-dns Deployment so the seed's "replace the kube-dns
 * image" steps work: DNS on 53 (`dns` UDP, `dns-tcp` TCP), readiness on
 * 8081 (`/readyz`, kube-dns's readiness probe port); kube-dns exported
 * metrics on 10055 — here /metrics is on the same --health-port.
 *
 * On start, one JSON line goes to stdout:
 *   {"event":"listening","dns":PORT,"health":PORT,"names":N}
 * (tests start the server on port 0 and read the ports from it).
 *
 * Concurrency rule: one event loop; the zone is rebuilt wholesale on every
 * ClusterSource change and swapped in atomically.
 */
import type { Server } from 'node:http';
import { RomanaError } from '../src/core/errors.js';
import { closeGracefully, createJsonServer, Router, STREAMED } from '../src/shared/http_server.js';
import { createLogger } from '../src/shared/log.js';
import { Counter, Gauge, createHttpMetrics, renderMetrics } from '../src/shared/metrics.js';
import { StaticClusterSource, type ClusterSource } from './cluster.js';
import { ConfigError, loadUpstreamConfig, parseDnsArgs, USAGE } from './config.js';
import { Forwarder, type UpstreamConfig } from './forward.js';
import { buildZone } from './records.js';
import { QueryHandler, startDnsServer } from './server.js';
import { loadSnapshotFile } from './snapshot.js';

const CONFIG_RELOAD_MS = 10_000;

export async function runDns(argv: string[]): Promise<number> {
  let cfg;
  try {
    cfg = parseDnsArgs(argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`romana-dns: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (cfg === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const log = createLogger('romana-dns', cfg.logLevel);

  let upstreamConfig: UpstreamConfig = loadUpstreamConfig(cfg);
  const reload = cfg.configDir ? setInterval(() => {
    try {
      upstreamConfig = loadUpstreamConfig(cfg);
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'kube-dns ConfigMap unreadable; keeping the previous upstreams');
    }
  }, CONFIG_RELOAD_MS) : undefined;
  reload?.unref();
  const forwarder = new Forwarder({ config: () => upstreamConfig, log: log.child({ component: 'forward' }) });
  const handler = new QueryHandler(forwarder, log.child({ component: 'query' }));

  // The Kubernetes watch feed (listener informers, issue 6) will be another ClusterSource.
  const source: ClusterSource | undefined = cfg.snapshot ? new StaticClusterSource(loadSnapshotFile(cfg.snapshot)) : undefined;
  const rebuild = (): void => {
    const state = source?.current();
    if (!state) return;
    const started = Date.now();
    handler.setZone(buildZone(state, { domain: cfg.domain, ttl: cfg.ttl, endpointIPs: cfg.endpointIPs, serial: Math.floor(Date.now() / 1000) }));
    log.info({ services: state.services.length, pods: state.podCount, responses: handler.tableSize, ms: Date.now() - started }, 'zone built');
  };
  rebuild();
  source?.onChange(rebuild);
  if (!source) {
    log.warn('no cluster source (--snapshot) yet: serving dns-version only and forwarding');
    handler.setZone(buildZone({ namespaces: [], services: [], endpoints: new Map(), podCount: 0 }, { domain: cfg.domain, ttl: cfg.ttl, endpointIPs: cfg.endpointIPs, serial: 1 }));
  }

  const dns = await startDnsServer(handler, { host: cfg.listen, port: cfg.port }, log);

  const metrics = createHttpMetrics('romana_dns_');
  const queries = new Counter({
    name: 'romana_dns_queries_total', help: 'DNS queries by how they were answered', labelNames: ['path'] as const, registers: [metrics.registry],
    collect() {
      this.reset();
      const s = handler.stats;
      this.inc({ path: 'fast' }, s.fast);
      this.inc({ path: 'slow' }, s.slow);
      this.inc({ path: 'forwarded' }, s.forwarded);
    },
  });
  void queries;
  new Gauge({
    name: 'romana_dns_precomputed_responses', help: 'Wire-format responses held for the fast path', registers: [metrics.registry],
    collect() { this.set(handler.tableSize); },
  });
  new Gauge({
    name: 'romana_dns_forward_cache_entries', help: 'Upstream answers held in the forwarding cache', registers: [metrics.registry],
    collect() { this.set(forwarder.cacheSize); },
  });
  const router = new Router<null>();
  router.add('GET', '/healthz', null, async () => ({ body: { status: 'ok' } }));
  router.add('GET', '/readyz', null, async () => {
    if (source && !source.current()) throw new RomanaError('NOT_READY', 'Not ready: the cluster state is not synced yet');
    return { body: { status: 'ready' } };
  });
  router.add('GET', '/metrics', null, async (ctx) => {
    const m = await renderMetrics(metrics.registry);
    ctx.res.writeHead(200, { 'content-type': m.contentType });
    ctx.res.end(m.body);
    return STREAMED;
  });
  const http: Server = createJsonServer({ router, log, metrics });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(cfg.healthPort, cfg.listen, () => resolve());
  });
  const healthPort = (http.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ event: 'listening', dns: dns.port, health: healthPort, names: handler.tableSize })}\n`);
  log.info({ listen: cfg.listen, port: dns.port, health: healthPort, domain: cfg.domain }, 'serving');

  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  if (reload) clearInterval(reload);
  await dns.close();
  forwarder.close();
  await closeGracefully(http, 1000);
  return 0;
}
