/**
 * The romana-daemon command: flags → config → files the flags name →
 * first log line → startDaemon → wait for SIGTERM/SIGINT.
 *
 * Exit codes: 0 after a graceful stop or --help; 2 for a bad flag, an
 * unreadable or invalid file named by a flag (one line on stderr naming the
 * flag and the value); 1 when the daemon cannot start (e.g. the store is
 * unreachable; logged as a fatal JSON line).
 *
 * Concurrency rule: runs once per process.
 */
import { readFile } from 'node:fs/promises';
import { parseEmbeddedPublisher } from '../../publisher/config.js';
import { startPublisher, type RunningPublisher } from '../../publisher/run.js';
import { createLogger } from '../shared/log.js';
import { parseTokenFile, TokenTable } from './auth.js';
import { parseDaemonArgs, USAGE, type DaemonConfig } from './config.js';
import { startDaemon, type RunningDaemon } from './daemon.js';
import { InitialTopologyError, resolveInitialTopology, type InitialTopology } from './initial_topology.js';
import { processIo, type Io } from '../shared/io.js';

export const EXECUTABLE = 'romana-daemon';

export type { Io } from '../shared/io.js';

async function loadTokens(cfg: DaemonConfig): Promise<TokenTable | null> {
  if (cfg.tokenFile === null) return null;
  let text: string;
  try {
    text = await readFile(cfg.tokenFile, 'utf8');
  } catch (e) {
    throw new InitialTopologyError('token-file', `invalid --token-file ${JSON.stringify(cfg.tokenFile)}: cannot read it: ${(e as Error).message}`);
  }
  const r = parseTokenFile(text);
  if (!r.ok) throw new InitialTopologyError('token-file', `invalid --token-file ${JSON.stringify(cfg.tokenFile)}: ${r.problems.join('; ')}`);
  return new TokenTable(r.entries);
}

/** Starts the daemon; resolves with an exit code once it has stopped (or failed to start). */
export async function runDaemon(argv: readonly string[], io: Io = processIo): Promise<number> {
  const parsed = parseDaemonArgs(argv);
  if (parsed.kind === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    io.stderr(`${EXECUTABLE}: ${parsed.problems.join('; ')}\n`);
    return 2;
  }
  const cfg = parsed.config;
  // --publisher: its flags are checked now (the daemon URL is known only once it listens).
  if (cfg.publisher !== null) {
    const p = parseEmbeddedPublisher(cfg.publisher, 'http://127.0.0.1:9600', process.env);
    if (!p.ok) {
      io.stderr(`${EXECUTABLE}: invalid --publisher ${JSON.stringify(cfg.publisher)}: ${p.problems.join('; ')}\n`);
      return 2;
    }
  }
  let tokens: TokenTable | null;
  let initial: InitialTopology;
  try {
    tokens = await loadTokens(cfg);
    initial = await resolveInitialTopology(cfg);
  } catch (e) {
    if (e instanceof InitialTopologyError) {
      io.stderr(`${EXECUTABLE}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }

  const log = createLogger(EXECUTABLE, cfg.logLevel);
  const store = cfg.etcdEndpoints.length > 0 ? `etcd at ${cfg.etcdEndpoints.join(',')} (prefix ${cfg.etcdPrefix})` : `embedded store in ${cfg.dataDir}`;
  log.info(
    {
      store: cfg.etcdEndpoints.length > 0 ? 'etcd' : 'embedded',
      dataDir: cfg.etcdEndpoints.length > 0 ? undefined : cfg.dataDir,
      etcdEndpoints: cfg.etcdEndpoints.length > 0 ? cfg.etcdEndpoints : undefined,
      prefix: cfg.etcdPrefix,
      initialTopology: initial.source,
      auth: cfg.tokenFile !== null,
    },
    `${EXECUTABLE} starting on the ${store} with the ${initial.source} topology (installed only if the store holds none)`,
  );

  let daemon: RunningDaemon;
  try {
    daemon = await startDaemon({ config: cfg, initial, tokens, log });
  } catch (e) {
    log.fatal({ err: e }, `cannot start: ${(e as Error).message}`);
    return 1;
  }
  let publisher: RunningPublisher | null = null;
  if (cfg.publisher !== null) {
    const p = parseEmbeddedPublisher(cfg.publisher, daemon.url, process.env);
    try {
      if (!p.ok) throw new Error(p.problems.join('; '));
      publisher = await startPublisher(p.config, log.child({ component: 'publisher' }), { defaultMetrics: false });
    } catch (e) {
      log.fatal({ err: e }, `cannot start the embedded publisher: ${(e as Error).message}`);
      await daemon.stop();
      return 1;
    }
  }
  return new Promise<number>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      log.info({ signal: sig }, 'signal received');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      (publisher?.stop() ?? Promise.resolve()).then(() => daemon.stop()).then(
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
