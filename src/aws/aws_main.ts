#!/usr/bin/env node
/** romana-aws: wires config, logging, EC2 and the Source/Dest-Check controller (logic in source_dest.ts). */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RomanaClient } from '../shared/api_client.js';
import { createLogger } from '../shared/log.js';
import { createHttpMetrics } from '../shared/metrics.js';
import { AWS_USAGE, parseAwsArgs } from './config.js';
import { regionFromImds } from './imds.js';
import { Ec2Api, createEc2Client, describeError } from './ec2.js';
import { followHosts } from './host_follow.js';
import { SourceDestController } from './source_dest.js';
import { startStatusServer } from './status_server.js';

async function main(): Promise<number> {
  const r = parseAwsArgs(process.argv.slice(2), process.env);
  if (r.kind === 'help') {
    process.stdout.write(AWS_USAGE);
    return 0;
  }
  if (r.kind === 'error') {
    process.stderr.write(`romana-aws: ${r.problems.join('; ')}\n`);
    return 2;
  }
  const c = r.config;
  const region = c.region ?? (await regionFromImds());
  if (region === null) {
    process.stderr.write('romana-aws: no region: give --region or set AWS_REGION (instance metadata did not answer)\n');
    return 2;
  }
  const log = createLogger('romana-aws', c.logLevel);
  const metrics = createHttpMetrics('romana_aws_');
  const token = c.tokenFile ? readFileSync(c.tokenFile, 'utf8').trim() : undefined;
  const client = new RomanaClient({ baseUrl: c.daemon, ...(token ? { token } : {}) });
  const ec2 = new Ec2Api(createEc2Client({ region, endpoint: c.endpoint ?? undefined }), {
    sleep: (ms) => sleep(ms).then(() => undefined),
    random: Math.random,
    onRetry: (action, e, attempt, d) => log.warn({ action, attempt, delayMs: d, err: describeError(e) }, `${action} failed (${describeError(e)}); retrying in ${d} ms`),
  });
  const ctl = new SourceDestController({
    ec2,
    listHosts: async () => (await client.listHosts()).hosts.map((h) => ({ name: h.name, ip: h.ip, tags: h.tags })),
    log,
    registry: metrics.registry,
  });
  const server = await startStatusServer({
    address: c.address,
    port: c.port,
    log,
    metrics,
    status: () => ({ runs: ctl.runs, last_error: ctl.lastError, nodes: ctl.states() }),
    synced: () => ctl.runs > 0 && ctl.lastError === null,
  });
  log.info({ port: server.port, region }, `romana-aws listening on ${c.address}:${server.port}`);
  ctl.start(c.resyncMs);
  // Nodes added between resyncs are handled at once: every host change triggers a (coalesced) run.
  const follower = followHosts(client, () => void ctl.trigger(), log, (ms) => sleep(ms).then(() => undefined));
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await follower.stop();
  await ctl.stop();
  await server.close();
  await client.close();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`romana-aws: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
