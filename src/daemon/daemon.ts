/**
 * Assembling and running one daemon: store → IPAM cache → initial topology
 * → services → HTTP server; and stopping it gracefully.
 *
 * Design: `startDaemon` takes a validated config and already-resolved
 * inputs (initial topology, token table), so it does no flag handling and
 * can be started in-process by tests and the bench. Every request is
 * authorised by the route's declared access (auth.ts) when a token table
 * is given.
 *
 * With `config.socket` the same routes are also served on a unix socket
 * (agents in network namespaces reach the daemon through the file system);
 * a stale socket file left by a crash is replaced.
 *
 * Shutdown (SIGTERM): stop accepting connections, end /watch streams (their
 * clients resume elsewhere by revision), let in-flight requests finish
 * (bounded by `drainMs`, then connections are cut), close the IPAM watch
 * and the store. An allocation in flight completes and is answered.
 *
 * Concurrency rule: one startDaemon per process in production; all services
 * share the one Store and IpamService.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { validateTopology } from '../core/topology/index.js';
import { closeGracefully, createJsonServer, Router } from '../shared/http_server.js';
import type { Logger } from '../shared/log.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { authorize, type Access, type TokenTable } from './auth.js';
import { ensureTopology } from './bootstrap.js';
import { isLoopbackHost, type DaemonConfig } from './config.js';
import { HeartbeatService } from './heartbeats.js';
import type { InitialTopology } from './initial_topology.js';
import { IpamService } from './ipam_service.js';
import { EndpointService } from './endpoints.js';
import { createDaemonMetrics, instrumentStore } from './metrics.js';
import { NetpolService } from './netpols.js';
import { PolicyService } from './policies.js';
import { registerAdminRoutes } from './routes_admin.js';
import { registerIpamRoutes } from './routes_ipam.js';
import { registerK8sRoutes } from './routes_k8s.js';
import { registerIndexRoute, registerSystemRoutes } from './routes_system.js';
import type { DaemonServices } from './services.js';
import { TenantService } from './tenants.js';
import { registerVipRoutes, VipService } from './vips.js';
import type { WatchStreamHandle } from './watch_stream.js';

export interface StartOptions {
  config: DaemonConfig;
  initial: InitialTopology;
  tokens: TokenTable | null;
  log: Logger;
  /** An already-open store (tests); by default one is opened from the config. */
  store?: Store;
  /** How long shutdown waits for in-flight requests (default 10 s). */
  drainMs?: number;
}

export interface RunningDaemon {
  readonly url: string;
  readonly port: number;
  readonly services: DaemonServices;
  readonly server: Server;
  /** The unix socket also served (config.socket), or null. */
  readonly socketPath: string | null;
  stop(): Promise<void>;
}

export async function startDaemon(opts: StartOptions): Promise<RunningDaemon> {
  const { config, log } = opts;
  const metrics = createDaemonMetrics();
  const raw =
    opts.store ??
    (await openStore({
      etcdEndpoints: [...config.etcdEndpoints],
      dataDir: config.dataDir,
      prefix: config.etcdPrefix,
    }));
  const store = instrumentStore(raw, metrics);
  let ipam: IpamService | undefined;
  try {
    ipam = await IpamService.open(store);
    const outcome = await ensureTopology(store, ipam, opts.initial, log);
    if (outcome === 'existing') {
      log.info({ revision: ipam.revision }, `using the topology held by the store; the initial topology (${opts.initial.source}) is not used`);
      const current = ipam.topology();
      if (current && config.serviceClusterIpRange !== null) {
        const problems = validateTopology(current.input, { serviceCidr: config.serviceClusterIpRange }).filter((p) => /service range/.test(p.message));
        for (const p of problems) log.warn({ path: p.path }, `stored topology: ${p.message}`);
      }
    }
  } catch (e) {
    await ipam?.close();
    await store.close();
    throw e;
  }
  metrics.setIpamSizes(() => {
    const u = ipam!.utilisation();
    return { hosts: u.hosts.length, blocks: u.networks.reduce((s, n) => s + n.blocks, 0), addresses: u.networks.reduce((s, n) => s + n.allocated, 0) };
  });

  const services: DaemonServices = {
    config,
    store,
    ipam,
    tenants: new TenantService(store, ipam),
    policies: new PolicyService(store),
    heartbeats: new HeartbeatService(store, (name) => ipam!.host(name) !== undefined),
    endpoints: new EndpointService(store),
    netpols: new NetpolService(store),
    vips: new VipService(store, config.vipPool ?? null, log.child({ component: 'vips' })),
    metrics,
    log,
    watchStreams: new Set<WatchStreamHandle>(),
  };
  const router = new Router<Access>();
  registerIpamRoutes(router, services);
  registerAdminRoutes(router, services);
  registerK8sRoutes(router, services);
  registerVipRoutes(router, services);
  registerSystemRoutes(router, services);
  registerIndexRoute(router);

  const tokens = opts.tokens;
  const makeServer = (): Server =>
    createJsonServer<Access>({
      router,
      log,
      metrics: metrics.http,
      before: tokens
        ? (ctx) => {
            authorize(tokens, ctx.req.headers.authorization, ctx.route.meta, `${ctx.method} ${ctx.route.pattern}`);
          }
        : undefined,
    });
  const server = makeServer();
  let unixServer: Server | null = null;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  })
    .then(async () => {
      if (config.socket === null) return;
      const sock = config.socket;
      unixServer = makeServer();
      removeStaleSocket(sock);
      await new Promise<void>((resolve, reject) => {
        unixServer!.once('error', reject);
        unixServer!.listen(sock, () => {
          unixServer!.off('error', reject);
          resolve();
        });
      });
    })
    .catch(async (e) => {
      if (server.listening) await closeGracefully(server, 0);
      await ipam!.close();
      await store.close();
      throw e;
    });
  // VIP holders follow agent leases (failover); started once the API serves.
  await services.vips.start();
  const addr = server.address() as AddressInfo;
  const hostForUrl = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${hostForUrl}:${addr.port}`;
  // The warning precedes the "listening" line, which supervisors and tests wait for.
  if (!tokens && !isLoopbackHost(config.host)) {
    log.warn({ host: config.host }, `serving on ${config.host} without --token-file: anyone who can reach this address can change the network`);
  }
  if (config.socket !== null) log.info({ socket: config.socket }, `also serving on unix:${config.socket}`);
  log.info({ url, host: config.host, port: addr.port, auth: tokens ? `${tokens.size} token(s)` : 'none' }, `listening on ${url}`);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info('shutting down');
      await services.vips.stop();
      for (const w of [...services.watchStreams]) w.end();
      await Promise.all([server, unixServer].filter((s): s is Server => s !== null).map((s) => closeGracefully(s, opts.drainMs ?? 10_000)));
      await ipam!.close();
      await store.close();
      log.info('stopped');
    })();
    return stopping;
  };
  return { url, port: addr.port, services, server, socketPath: config.socket, stop };
}

/** Removes a socket file left by a daemon that did not stop cleanly; anything else at that path is an error. */
function removeStaleSocket(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`--socket ${JSON.stringify(path)} exists and is not a socket: refusing to replace it`);
  unlinkSync(path);
}
