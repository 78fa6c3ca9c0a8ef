/**
 * romana-listener wiring: config → logger, daemon client, Kubernetes
 * informers, controller, health server; SIGTERM/SIGINT stop it cleanly.
 *
 * Design: main.ts only calls runListener(argv) (STYLE §5). Exit codes: 0
 * after a signal, 2 for bad flags or an unreadable token file / kubeconfig,
 * 1 for anything unexpected.
 *
 * Health (--health-port): /healthz 200 while serving; /readyz 200 once every
 * cache has synced and the first reconcile is done (503 with the checks
 * otherwise); /metrics Prometheus text.
 *
 * Concurrency rule: one event loop; the controller serialises daemon writes.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { RomanaClient } from '../shared/api_client.js';
import { createLogger } from '../shared/log.js';
import { collectDefaultMetrics } from 'prom-client';
import { Counter, Gauge, Registry, renderMetrics } from '../shared/metrics.js';
import { parseListenerArgs, USAGE, type ListenerConfig } from './config.js';
import { ListenerController, type Caches } from './controller.js';
import { loadKubeConfig, makeResourceInformer, patchService, RESOURCES, type ResourceInformer, type ResourceName } from './kube.js';

export async function runListener(argv: readonly string[]): Promise<number> {
  const parsed = parseListenerArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`romana-listener: ${parsed.problems.join('; ')}\n`);
    return 2;
  }
  const cfg: ListenerConfig = parsed.config;
  const log = createLogger('romana-listener', cfg.logLevel);

  let token = cfg.token;
  if (cfg.tokenFile !== null) {
    try {
      token = readFileSync(cfg.tokenFile, 'utf8').split('\n')[0]!.trim();
    } catch (e) {
      process.stderr.write(`romana-listener: cannot read --token-file ${JSON.stringify(cfg.tokenFile)}: ${(e as Error).message}\n`);
      return 2;
    }
  }
  let kc;
  try {
    kc = loadKubeConfig(cfg);
  } catch (e) {
    process.stderr.write(`romana-listener: cannot load the Kubernetes config: ${(e as Error).message}\n`);
    return 2;
  }

  const client = new RomanaClient({ baseUrl: cfg.daemon, ...(token ? { token } : {}) });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'romana_listener_' });
  const lists = new Counter({ name: 'romana_listener_kube_lists_total', help: 'Full lists per resource (first sync, 410 Gone relists, restarts)', labelNames: ['resource'], registers: [registry] });
  const syncedGauge = new Gauge({ name: 'romana_listener_cache_synced', help: '1 once the resource cache has synced', labelNames: ['resource'], registers: [registry] });

  const informers = new Map<ResourceName, ResourceInformer>();
  const caches: Caches = {
    synced: () => [...informers.values()].every((i) => i.synced),
    get: (r, name, ns) => informers.get(r)?.get(name, ns),
    list: (r) => informers.get(r)?.list() ?? [],
  };
  const controller = new ListenerController({
    client,
    caches,
    log: log.child({ component: 'controller' }),
    registry,
    resyncMs: cfg.resyncMs,
    nodeGraceMs: cfg.nodeGraceMs,
    leakGraceMs: cfg.leakGraceMs,
    releaseLeaked: cfg.releaseLeaked,
    segmentLabel: cfg.segmentLabel,
    kube: { patchService: (ns, name, patch) => patchService(kc, ns, name, patch) },
  });
  for (const { resource, path } of RESOURCES) {
    informers.set(
      resource,
      makeResourceInformer(
        kc,
        resource,
        path,
        { upsert: (o) => controller.onEvent(resource, 'upsert', o), remove: (o) => controller.onEvent(resource, 'remove', o) },
        log.child({ component: 'informer' }),
        { onList: (r) => lists.inc({ resource: r }) },
      ),
    );
  }

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown, type = 'application/json'): void => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { code: 'METHOD_NOT_ALLOWED', message: 'Only GET is served here' });
    if (path === '/healthz') return send(200, { status: 'ok' });
    if (path === '/readyz') {
      const checks: Record<string, { ok: boolean }> = {};
      for (const [r, i] of informers) checks[`cache_${r}`] = { ok: i.synced };
      checks.first_reconcile = { ok: controller.ready };
      const ok = Object.values(checks).every((c) => c.ok);
      return send(ok ? 200 : 503, ok ? { status: 'ready', checks } : { code: 'NOT_READY', message: 'Not ready: caches syncing or first reconcile pending', details: { checks } });
    }
    if (path === '/metrics') {
      for (const [r, i] of informers) syncedGauge.set({ resource: r }, i.synced ? 1 : 0);
      void renderMetrics(registry).then(
        (m) => send(200, m.body, m.contentType),
        (e: unknown) => send(500, { code: 'INTERNAL', message: String(e) }),
      );
      return;
    }
    send(404, { code: 'NOT_FOUND', message: `No route ${path}` });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(cfg.healthPort, cfg.healthHost, () => resolve());
    });
  } catch (e) {
    process.stderr.write(`romana-listener: cannot listen on ${cfg.healthHost}:${cfg.healthPort}: ${(e as Error).message}\n`);
    await client.close();
    return 2;
  }
  const port = (server.address() as AddressInfo).port;
  log.info(
    { url: `http://${cfg.healthHost}:${port}`, daemon: cfg.daemon, kube: kc.getCurrentCluster()?.server, resyncMs: cfg.resyncMs, nodeGraceMs: cfg.nodeGraceMs, leakGraceMs: cfg.leakGraceMs, releaseLeaked: cfg.releaseLeaked },
    `listening on http://${cfg.healthHost}:${port}`,
  );

  for (const i of informers.values()) i.start();
  controller.start();

  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info({ signal }, 'stopping');
  controller.stop();
  await Promise.all([...informers.values()].map((i) => i.stop()));
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await client.close();
  return 0;
}
