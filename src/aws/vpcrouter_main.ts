#!/usr/bin/env node
/**
 * romana-vpcrouter: wires config, logging, the spec source, EC2, the health
 * monitor, the router and the status server (logic in vpcrouter.ts and
 * src/core/aws/). `romana-vpcrouter spec` prints the route spec and exits.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RomanaClient } from '../shared/api_client.js';
import { createLogger } from '../shared/log.js';
import { createHttpMetrics } from '../shared/metrics.js';
import { parseVpcRouterArgs, VPCROUTER_USAGE, type VpcRouterConfig } from './config.js';
import { regionFromImds } from './imds.js';
import { Ec2Api, createEc2Client, describeError } from './ec2.js';
import { HealthMonitor, icmpProbe, tcpProbe } from './health.js';
import { renderSpecJson, renderSpecTable } from './spec_command.js';
import { specFromDaemon, specFromFiles } from './spec_source.js';
import { startStatusServer } from './status_server.js';
import { VpcRouter, type SpecSnapshot } from './vpcrouter.js';

function specLoader(c: VpcRouterConfig): { load: () => Promise<SpecSnapshot>; close: () => Promise<void> } {
  if (c.topologyFile !== null && c.hostsFile !== null) {
    const [t, h] = [c.topologyFile, c.hostsFile];
    return { load: () => specFromFiles(t, h), close: async () => undefined };
  }
  const token = c.tokenFile ? readFileSync(c.tokenFile, 'utf8').trim() : undefined;
  const client = new RomanaClient({ baseUrl: c.daemon!, ...(token ? { token } : {}) });
  return { load: () => specFromDaemon(client), close: () => client.close() };
}

async function main(): Promise<number> {
  const r = parseVpcRouterArgs(process.argv.slice(2), process.env);
  if (r.kind === 'help') {
    process.stdout.write(VPCROUTER_USAGE);
    return 0;
  }
  if (r.kind === 'error') {
    process.stderr.write(`romana-vpcrouter: ${r.problems.join('; ')}\n`);
    return 2;
  }
  const c = r.config;
  const source = specLoader(c);
  if (r.command === 'spec') {
    try {
      const { spec } = await source.load();
      process.stdout.write(c.format === 'json' ? renderSpecJson(spec) : renderSpecTable(spec, c.routeLimit));
      return 0;
    } catch (e) {
      process.stderr.write(`romana-vpcrouter spec: ${describeError(e)}\n`);
      return 1;
    } finally {
      await source.close();
    }
  }

  const region = c.region ?? (await regionFromImds());
  if (region === null) {
    process.stderr.write('romana-vpcrouter: no region: give --region or set AWS_REGION (instance metadata did not answer)\n');
    return 2;
  }
  const log = createLogger('romana-vpcrouter', c.logLevel);
  const metrics = createHttpMetrics('romana_vpcrouter_');
  const ec2 = new Ec2Api(createEc2Client({ region, endpoint: c.endpoint ?? undefined }), {
    sleep: (ms) => sleep(ms).then(() => undefined),
    random: Math.random,
    onRetry: (action, e, attempt, d) => log.warn({ action, attempt, delayMs: d, err: describeError(e) }, `${action} failed (${describeError(e)}); retrying in ${d} ms`),
  });
  let router: VpcRouter | null = null;
  const intervalMs = c.health === 'tcp' ? c.tcpIntervalMs : c.icmpIntervalMs;
  const timeoutMs = Math.round(intervalMs * 0.75);
  const health = new HealthMonitor({
    probe: c.health === 'tcp' ? tcpProbe(c.tcpPort, timeoutMs) : icmpProbe(timeoutMs),
    intervalMs,
    log: log.child({ component: 'health' }),
    onChange: (failed, recovered) => void router?.trigger(`health: ${[...failed.map((ip) => `${ip} failed`), ...recovered.map((ip) => `${ip} recovered`)].join(', ')}`),
  });
  router = new VpcRouter({
    ec2,
    vpcId: c.vpc,
    ignore: c.ignoreRoutes,
    dryRun: c.dryRun,
    loadSpec: source.load,
    health,
    log,
    registry: metrics.registry,
    routeLimit: c.routeLimit,
  });
  const server = await startStatusServer({ address: c.address, port: c.port, log, metrics, status: () => router!.status(), synced: () => router!.synced() });
  log.info({ port: server.port, region, vpc: c.vpc, dryRun: c.dryRun, health: c.health }, `romana-vpcrouter listening on ${c.address}:${server.port}${c.dryRun ? ' (dry run: no route changes)' : ''}`);
  // Know the targets before the first health round.
  router.start(c.recheckMs);
  health.start();
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info('Stopping');
  await health.stop();
  await router.stop();
  await server.close();
  await source.close();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`romana-vpcrouter: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
