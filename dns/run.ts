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
 * Cluster sources: `--snapshot` (static), else the Kubernetes watch
 * (kube_source.ts; in-cluster config unless --kubeconfig/--server). With
 * `--daemon` the daemon's Romana VIPs are merged over either
 * (vip_source.ts, vip_merge.ts). /readyz is 503 until the cluster state
 * exists (the watch's first full sync); the daemon never holds readiness
 * back — DNS without live VIPs beats no DNS. The DNS socket opens after the
 * first sync or 5 s, whichever comes first (as CoreDNS), so the "listening"
 * line below normally means "serving the synced cluster". kube-dns's
 * readiness path /readiness is served too.
 *
 * Concurrency rule: one event loop; the zone is rebuilt wholesale on every
 * ClusterSource change and swapped in atomically.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { RomanaError } from '../src/core/errors.js';
import { closeGracefully, createJsonServer, Router, STREAMED } from '../src/shared/http_server.js';
import { createLogger } from '../src/shared/log.js';
import { Counter, Gauge, createHttpMetrics, renderMetrics } from '../src/shared/metrics.js';
import { StaticClusterSource, type ClusterSource } from './cluster.js';
import { ConfigError, loadUpstreamConfig, parseDnsArgs, USAGE } from './config.js';
import { Forwarder, type UpstreamConfig } from './forward.js';
import { buildZone } from './records.js';
import { QueryHandler, capYoungGeneration, startDnsServer } from './server.js';
import type { KubeClusterSource } from './kube_source.js';
import { loadSnapshotFile } from './snapshot.js';
import { VipMergedSource } from './vip_merge.js';
import type { DaemonVipFeed } from './vip_source.js';

const CONFIG_RELOAD_MS = 10_000;
/** CoreDNS's kubernetes plugin waits 5 s for its first sync before serving anyway. */
const INITIAL_SYNC_WAIT_MS = 5000;

export async function runDns(argv: string[]): Promise<number> {
  // Before anything is loaded: a young generation that does not grow keeps
  // the snapshot/zone build from leaving ~30-45 MB of nursery resident for
  // good (the 150 MB target at 150k pods + 10k services; see dns/server.ts).
  capYoungGeneration();
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

  // Everything that can fail on bad input is read before any socket opens (exit 2, as for bad flags).
  let kc: KubeConfig | undefined;
  let token: string | undefined;
  try {
    // @kubernetes/client-node is loaded only to watch: its import alone costs
    // ~25 MB of heap and ~65 MB of RSS (every generated API model), which a
    // --snapshot server never needs.
    if (!cfg.snapshot) kc = (await import('../src/listener/kube.js')).loadKubeConfig({ kubeconfig: cfg.kubeconfig, server: cfg.server });
    if (cfg.tokenFile) token = readFileSync(cfg.tokenFile, 'utf8').split('\n')[0]!.trim();
  } catch (e) {
    process.stderr.write(`romana-dns: ${(e as Error).message}\n`);
    return 2;
  }

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

  // No prom-client default metrics: its GC observer allocates an object per
  // collection, which with the capped nursery are promoted and creep RSS up
  // between full GCs. The few process figures an operator wants are below.
  const metrics = createHttpMetrics('romana_dns_', { defaultMetrics: false });
  new Gauge({ name: 'romana_dns_process_resident_memory_bytes', help: 'Resident set size in bytes', registers: [metrics.registry], collect() { this.set(process.memoryUsage.rss()); } });
  new Gauge({ name: 'romana_dns_nodejs_heap_used_bytes', help: 'V8 heap in use in bytes', registers: [metrics.registry], collect() { this.set(process.memoryUsage().heapUsed); } });
  new Gauge({ name: 'romana_dns_process_cpu_seconds', help: 'User + system CPU time used so far, in seconds', registers: [metrics.registry], collect() { const u = process.cpuUsage(); this.set((u.user + u.system) / 1e6); } });
  const kubeLists = new Counter({ name: 'romana_dns_kube_lists_total', help: 'Full lists per resource (first sync, 410 Gone relists, restarts)', labelNames: ['resource'] as const, registers: [metrics.registry] });
  const kube: KubeClusterSource | undefined = kc ? new (await import('./kube_source.js')).KubeClusterSource({ kc, endpointsApi: cfg.endpointsApi, log: log.child({ component: 'kube' }), onList: (resource) => kubeLists.inc({ resource }) }) : undefined;
  const base: ClusterSource = cfg.snapshot ? new StaticClusterSource(loadSnapshotFile(cfg.snapshot)) : kube!;
  // The daemon client (undici) is loaded only with --daemon, like the Kubernetes client.
  const client = cfg.daemon ? new (await import('../src/shared/api_client.js')).RomanaClient({ baseUrl: cfg.daemon, ...(token ? { token } : {}), timeoutMs: 5000, connections: 2 }) : undefined;
  const vipFeed: DaemonVipFeed | undefined = client ? new (await import('./vip_source.js')).DaemonVipFeed({ client, log: log.child({ component: 'vips' }) }) : undefined;
  const source: ClusterSource = vipFeed ? new VipMergedSource(base, vipFeed) : base;

  // Until the first state exists the zone holds dns-version only (and the DNS socket opens
  // only after the first sync, or INITIAL_SYNC_WAIT_MS); /readyz keeps the pod out of the
  // kube-dns Service until then.
  handler.setZone(buildZone({ namespaces: [], services: [], endpoints: new Map(), podCount: 0 }, { domain: cfg.domain, ttl: cfg.ttl, endpointIPs: cfg.endpointIPs, serial: 1 }));
  const zoneBuilds = new Counter({ name: 'romana_dns_zone_builds_total', help: 'Zones built from a cluster state (the first sync, then each debounced change)', registers: [metrics.registry] });
  // A zone build blocks the event loop (seconds for a large cluster): the next one starts no
  // sooner than one build's duration after the last ended, so queries get at least half the time.
  let notBefore = 0;
  let pending: NodeJS.Timeout | undefined;
  const rebuild = (): void => {
    pending = undefined;
    const state = source.current();
    if (!state) return;
    const started = Date.now();
    handler.setZone(buildZone(state, { domain: cfg.domain, ttl: cfg.ttl, endpointIPs: cfg.endpointIPs, serial: Math.floor(Date.now() / 1000) }));
    zoneBuilds.inc();
    const ended = Date.now();
    notBefore = ended + (ended - started);
    log.info({ services: state.services.length, pods: state.podCount, vips: vipFeed?.current()?.size, responses: handler.tableSize, ms: ended - started }, 'zone built');
  };
  rebuild();
  source.onChange(() => {
    pending ??= setTimeout(rebuild, Math.max(0, notBefore - Date.now()));
  });
  kube?.start();
  vipFeed?.start();
  log.info({ source: cfg.snapshot ? 'snapshot' : 'kubernetes', kube: kc?.getCurrentCluster()?.server, daemon: cfg.daemon ?? null }, 'cluster source');

  // Like kube-dns and CoreDNS, wait a little for the first sync before answering: an early
  // NXDOMAIN for a name that exists is cached by clients for the negative TTL.
  if (!source.current()) {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, INITIAL_SYNC_WAIT_MS);
      const off = source.onChange(() => {
        clearTimeout(t);
        off();
        // Build now rather than on the scheduled timer, so the socket never opens on the empty zone.
        if (pending) {
          clearTimeout(pending);
          rebuild();
        }
        resolve();
      });
    });
    if (!source.current()) log.warn({ waitedMs: INITIAL_SYNC_WAIT_MS }, 'serving before the cluster state synced: cluster names answer NXDOMAIN until it does');
  }
  const dns = await startDnsServer(handler, { host: cfg.listen, port: cfg.port }, log);

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
  new Gauge({
    name: 'romana_dns_cache_synced', help: '1 once the resource cache of the Kubernetes watch has synced', labelNames: ['resource'] as const, registers: [metrics.registry],
    collect() {
      for (const [resource, ok] of Object.entries(kube?.syncStatus() ?? {})) this.set({ resource }, ok ? 1 : 0);
    },
  });
  if (vipFeed) {
    new Gauge({
      name: 'romana_dns_daemon_connected', help: '1 while the watch of the daemon\'s VIPs is open', registers: [metrics.registry],
      collect() { this.set(vipFeed.connected ? 1 : 0); },
    });
    new Gauge({
      name: 'romana_dns_daemon_vips', help: 'Romana VIPs known from the daemon (kept while it is unreachable)', registers: [metrics.registry],
      collect() { this.set(vipFeed.current()?.size ?? 0); },
    });
  }
  const router = new Router<null>();
  router.add('GET', '/healthz', null, async () => ({ body: { status: 'ok' } }));
  const readiness = async (): Promise<{ body: unknown }> => {
    const checks = { ...Object.fromEntries(Object.entries(kube?.syncStatus() ?? {}).map(([r, ok]) => [`cache_${r}`, { ok }])) };
    // Reported, never required: see the header.
    const daemon = vipFeed ? { daemon: { connected: vipFeed.connected, vips: vipFeed.current()?.size ?? null } } : {};
    if (!source.current()) throw new RomanaError('NOT_READY', 'Not ready: the cluster state is not synced yet', { details: { checks, ...daemon } });
    return { body: { status: 'ready', checks, ...daemon } };
  };
  router.add('GET', '/readyz', null, readiness);
  // kube-dns's readiness path, for its Deployment's probe when romana-dns replaces its image.
  router.add('GET', '/readiness', null, readiness);
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
  clearTimeout(pending);
  vipFeed?.stop();
  await kube?.stop();
  // Not awaited: closing waits for an in-flight snapshot, and the process exits right after.
  void client?.close().catch(() => undefined);
  await dns.close();
  forwarder.close();
  await closeGracefully(http, 1000);
  return 0;
}
