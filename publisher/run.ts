/**
 * romana-publisher's commands, wired from the parsed config to the modules:
 *
 *   run     Follower (daemon) → Publisher (debounced render) → BirdApplier
 *           (atomic write, BIRD check, reload), plus the health server.
 *           `startPublisher` is also what the daemon calls for --publisher.
 *   render  one render to stdout (data from flags, --data JSON, or a daemon),
 *           optionally checked with `bird -p`.
 *   select  best-match copy of a file (BIRD's bird.conf when its pod starts).
 *
 * Exit codes: 0 ok / graceful stop; 1 runtime failure; 2 bad flags.
 *
 * Concurrency rule: one command per process (startPublisher may run beside
 * a daemon in the same process).
 */
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseCidr4, type Cidr4 } from '../src/core/ip.js';
import { aggregate as kernelAggregate } from '../src/kernels/pool.js';
import { RomanaClient } from '../src/shared/api_client.js';
import { createLogger, type Logger } from '../src/shared/log.js';
import { atomicWrite, BirdApplier } from './apply.js';
import { localSubnetOf, resolveBestMatch } from './best_match.js';
import { birdParse } from './bird.js';
import { parsePublisherArgs, resolveModes, USAGE, type Env, type RenderConfig, type RunConfig, type SelectConfig } from './config.js';
import { buildTemplateData, DEFAULT_LOCAL_AS, IPNet, jsonToTemplateValue, TemplateData, type Aggregator } from './data.js';
import { Follower, FOLLOWED_PREFIXES, stateFromSnapshot } from './follow.js';
import { startHealthServer, type HealthServer } from './health.js';
import { createPublisherMetrics } from './metrics.js';
import { Publisher, type PublisherStatus } from './publisher.js';
import { Template, TemplateError } from './template/index.js';
import { processIo, type Io } from '../src/shared/io.js';

export const EXECUTABLE = 'romana-publisher';

export type { Io } from '../src/shared/io.js';

/** The aggregate kernel through the pool (inline for small tables, a worker for big ones). */
export const poolAggregator: Aggregator = (routes) => kernelAggregate(routes);

function readToken(file: string | null): string | undefined {
  if (file === null) return undefined;
  return readFileSync(file, 'utf8').split('\n')[0]!.trim();
}

/** True when `bin` names an executable (a path, or a name found on $PATH). */
export function findBinary(bin: string): boolean {
  const ok = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (bin.includes('/')) return ok(bin);
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((d) => d !== '' && ok(path.join(d, bin)));
}

export interface RunningPublisher {
  readonly publisher: Publisher;
  readonly follower: Follower;
  readonly health: HealthServer | null;
  status(): PublisherStatus;
  stop(): Promise<void>;
}

/** Starts following, rendering and reloading; resolves once the health server listens. */
export async function startPublisher(cfg: RunConfig, log: Logger, opts: { defaultMetrics?: boolean } = {}): Promise<RunningPublisher> {
  const client = new RomanaClient({ baseUrl: cfg.daemon, ...(cfg.tokenFile ? { token: readToken(cfg.tokenFile) } : {}) });
  const metrics = createPublisherMetrics(opts);
  const modes = resolveModes(cfg, findBinary(cfg.birdBin));
  if (modes.validate === 'none') log.warn('no BIRD check before reloads (give --bird-socket, or --bird-config with a bird binary): a configuration BIRD rejects is only noticed at reload');
  const applier = new BirdApplier({
    configPath: cfg.config,
    validate: modes.validate,
    reload: modes.reload,
    ...(cfg.birdSocket ? { birdSocket: cfg.birdSocket } : {}),
    pidFile: cfg.pidFile,
    birdBin: cfg.birdBin,
    ...(cfg.birdConfig ? { birdConfig: cfg.birdConfig } : {}),
  });
  let publisher: Publisher | null = null;
  const follower = new Follower({
    client,
    log: log.child({ component: 'follower' }),
    onChange: () => {
      metrics.revision.set(follower.revision);
      publisher?.markDirty();
    },
    onEvent: () => metrics.events.inc(),
  });
  // Subnet lookups are cached per node IP (the interface list does not change under us often).
  let subnetFor: { ip: string; subnet: Cidr4 | null } | null = null;
  const template = {
    read: async (): Promise<{ path: string; text: string }> => {
      const ip = cfg.nodeIp ?? follower.state?.hosts.get(cfg.node)?.value.ip ?? null;
      let subnet = cfg.nodeSubnet;
      if (subnet === null && ip !== null) {
        if (subnetFor?.ip !== ip) subnetFor = { ip, subnet: localSubnetOf(ip) };
        subnet = subnetFor.subnet;
      }
      const r = await resolveBestMatch(cfg.template, ip, subnet);
      if (r.path === null) throw new Error(`No template file: tried ${r.tried.join(', ')}`);
      return { path: r.path, text: await readFile(r.path, 'utf8') };
    },
  };
  await mkdir(path.dirname(cfg.config), { recursive: true });
  publisher = new Publisher(
    { node: cfg.node, localAs: cfg.localAs, neighborIp: cfg.neighborIp, neighborAs: cfg.neighborAs, args: cfg.args, aggregate: cfg.aggregate, debounceMs: cfg.debounceMs, maxDelayMs: cfg.maxDelayMs },
    { source: follower, template, target: applier, aggregate: poolAggregator, log, metrics },
  );
  const pub = publisher;
  let health: HealthServer | null = null;
  if (cfg.healthPort >= 0) {
    health = await startHealthServer({
      host: cfg.healthHost,
      port: cfg.healthPort,
      metrics,
      log: log.child({ component: 'health' }),
      deps: { follower: () => follower, publisher: () => pub.status },
    });
  }
  follower.start();
  const resync = cfg.resyncSeconds > 0 ? setInterval(() => pub.markDirty(), cfg.resyncSeconds * 1000) : null;
  resync?.unref();
  log.info(
    { node: cfg.node, daemon: cfg.daemon, template: cfg.template, config: cfg.config, reload: modes.reload, validate: modes.validate, aggregate: cfg.aggregate, health: health?.url ?? null },
    `${EXECUTABLE} started for node ${cfg.node}${health ? `; health on ${health.url}` : ''}`,
  );
  return {
    publisher: pub,
    follower,
    health,
    status: () => pub.status,
    stop: async () => {
      if (resync) clearInterval(resync);
      pub.stop();
      await follower.stop();
      await health?.close();
      await client.close();
    },
  };
}

async function runCommand(cfg: RunConfig, io: Io): Promise<number> {
  const log = createLogger(EXECUTABLE, cfg.logLevel);
  let running: RunningPublisher;
  try {
    running = await startPublisher(cfg, log);
  } catch (e) {
    log.fatal({ err: e }, `cannot start: ${(e as Error).message}`);
    io.stderr(`${EXECUTABLE}: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  const onHup = (): void => {
    log.info('SIGHUP: rendering again');
    running.publisher.markDirty();
  };
  process.on('SIGHUP', onHup);
  return new Promise<number>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      log.info({ signal: sig }, 'signal received; stopping');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.off('SIGHUP', onHup);
      running.stop().then(
        () => resolve(0),
        (e) => {
          log.error({ err: e }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** The dot for `render`: --data JSON, overridden by the flags given. */
export function renderData(cfg: RenderConfig, json: unknown): TemplateData {
  const obj = (json ?? {}) as Record<string, unknown>;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error('--data must hold a JSON object (the dot)');
  let networks: IPNet[] = [];
  if (cfg.networks !== null) networks = cfg.networks.map((c) => new IPNet(c));
  else if (obj.Networks !== undefined) {
    if (!Array.isArray(obj.Networks)) throw new Error('--data: "Networks" must be a list of CIDRs');
    networks = obj.Networks.map((t, i) => {
      const r = typeof t === 'string' ? parseCidr4(t) : null;
      if (!r || !r.ok) throw new Error(`--data: Networks[${i}] ${JSON.stringify(t)} is not a CIDR`);
      return new IPNet(r.cidr);
    });
  }
  // A flag left at its default yields to the JSON's field.
  const str = (given: string, field: string, def: string): string => (given !== def || obj[field] === undefined ? given : String(obj[field]));
  const args = obj.Args === undefined ? new Map<string, unknown>() : jsonToTemplateValue(obj.Args);
  if (!(args instanceof Map)) throw new Error('--data: "Args" must be an object');
  for (const [k, v] of cfg.args) args.set(k, v);
  return new TemplateData(
    networks,
    str(cfg.localAs, 'LocalAS', DEFAULT_LOCAL_AS),
    str(cfg.neighborIp, 'NeighborIP', ''),
    str(cfg.neighborAs, 'NeighborAS', ''),
    args,
    typeof obj.NodeName === 'string' ? obj.NodeName : (cfg.node ?? ''),
    typeof obj.NodeIP === 'string' ? obj.NodeIP : (cfg.nodeIp ?? ''),
  );
}

/**
 * A configuration that makes `bird -p` parse `rendered`: the operator's
 * bird.conf with its glob include (the publisher's hook, `include
 * "conf.d/*.conf";`) pointed at the file, or just an include of it.
 */
export function birdCheckWrapper(renderedPath: string, birdConf: string | null): string {
  const inc = `include "${renderedPath}";`;
  if (birdConf === null) return `${inc}\n`;
  let replaced = false;
  const text = birdConf.replace(/^([ \t]*)include[ \t]+"[^"\n]*\*[^"\n]*"[ \t]*;/gm, (_m, indent: string) => {
    replaced = true;
    return `${indent}${inc}`;
  });
  return replaced ? text : `${text}\n${inc}\n`;
}

async function renderCommand(cfg: RenderConfig, io: Io): Promise<number> {
  let text: string;
  try {
    text = await readFile(cfg.template, 'utf8');
  } catch (e) {
    io.stderr(`${EXECUTABLE}: cannot read --template ${JSON.stringify(cfg.template)}: ${(e as Error).message}\n`);
    return 1;
  }
  let data: TemplateData;
  try {
    if (cfg.daemon !== null) {
      const client = new RomanaClient({ baseUrl: cfg.daemon, ...(cfg.tokenFile ? { token: readToken(cfg.tokenFile) } : {}) });
      try {
        const snap = await client.snapshot([...FOLLOWED_PREFIXES]);
        const state = stateFromSnapshot(snap.records, snap.revision);
        if (!state.hosts.has(cfg.node!)) throw new Error(`node ${JSON.stringify(cfg.node)} is not registered with the daemon`);
        data = await buildTemplateData(state, { node: cfg.node!, localAs: cfg.localAs, neighborIp: cfg.neighborIp, neighborAs: cfg.neighborAs, args: cfg.args, aggregate: cfg.aggregate }, poolAggregator);
      } finally {
        await client.close();
      }
    } else {
      const json = cfg.data === null ? {} : (JSON.parse(await readFile(cfg.data, 'utf8')) as unknown);
      data = renderData(cfg, json);
    }
  } catch (e) {
    io.stderr(`${EXECUTABLE}: cannot build the template data: ${(e as Error).message}\n`);
    return 1;
  }
  if (cfg.showData) {
    io.stdout(`${JSON.stringify(data, null, 2)}\n`);
    return 0;
  }
  let out: string;
  try {
    out = Template.parse(path.basename(cfg.template), text).execute(data);
  } catch (e) {
    io.stderr(`${EXECUTABLE}: ${e instanceof TemplateError ? e.message : `render failed: ${(e as Error).message}`}\n`);
    return 1;
  }
  io.stdout(out);
  if (!cfg.birdCheck) return 0;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'romana-publisher-check-'));
  try {
    const rendered = path.join(dir, 'rendered.conf');
    writeFileSync(rendered, out);
    const main = path.join(dir, 'bird.conf');
    writeFileSync(main, birdCheckWrapper(rendered, cfg.birdConfig === null ? null : readFileSync(cfg.birdConfig, 'utf8')));
    const r = await birdParse(cfg.birdBin, main);
    const msg = r.message.split(rendered).join('<rendered>').split(main).join(cfg.birdConfig ?? '<wrapper>');
    if (!r.ok) {
      io.stderr(`${EXECUTABLE}: bird -p rejected the rendered configuration: ${msg}\n`);
      return 1;
    }
    io.stderr(`${EXECUTABLE}: bird -p (${cfg.birdBin}) accepts the rendered configuration\n`);
    return 0;
  } catch (e) {
    io.stderr(`${EXECUTABLE}: cannot run bird -p: ${(e as Error).message}\n`);
    return 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function selectCommand(cfg: SelectConfig, io: Io): Promise<number> {
  const subnet = cfg.nodeSubnet ?? (cfg.nodeIp ? localSubnetOf(cfg.nodeIp) : null);
  const r = await resolveBestMatch(cfg.name, cfg.nodeIp, subnet);
  if (r.path === null) {
    io.stderr(`${EXECUTABLE}: no file for ${JSON.stringify(cfg.name)}: tried ${r.tried.join(', ')}\n`);
    return 1;
  }
  await mkdir(path.dirname(cfg.out), { recursive: true });
  await atomicWrite(cfg.out, await readFile(r.path, 'utf8'));
  if (cfg.placeholder !== null && !existsSync(cfg.placeholder)) {
    await mkdir(path.dirname(cfg.placeholder), { recursive: true });
    await atomicWrite(cfg.placeholder, '# romana-publisher writes this file\n');
  }
  io.stdout(`${r.path}\n`);
  return 0;
}

export async function runPublisher(argv: readonly string[], io: Io = processIo, env: Env = process.env): Promise<number> {
  const parsed = parsePublisherArgs(argv, env);
  if (parsed.kind === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    io.stderr(`${EXECUTABLE}: ${parsed.problems.join('; ')}\n`);
    return 2;
  }
  const cfg = parsed.config;
  switch (cfg.command) {
    case 'run':
      return runCommand(cfg, io);
    case 'render':
      return renderCommand(cfg, io);
    case 'select':
      return selectCommand(cfg, io);
  }
}
