/**
 * romana-cni: one invocation of the plugin, as the CNI spec 1.1 defines it
 * — environment and stdin in, a result or an error object on stdout, exit
 * status 0 or 1.
 *
 * Design (STYLE §8, like the reference plugins' skel):
 * - `runCni(io, deps)` takes env, stdin and output sinks as arguments and
 *   every outside effect (processes, files, daemon, agent, clock) through
 *   `deps`, so tests run verbs in-process against fakes; main.ts only wires
 *   process.env/stdin/stdout to it.
 * - Dispatch: parse CNI_* (code 4) → VERSION answers at once → decode and
 *   version-check stdin (codes 6, 1) → validate the config (7, 2) → read
 *   the token file → run the verb. Every failure becomes one CNI error
 *   object in the requested version on stdout, and exit status 1.
 * - Logs go to stderr or `log_file`, never stdout.
 *
 * Concurrency rule: one invocation per call; nothing is shared between
 * calls but what `deps` shares.
 */
import { appendFileSync } from 'node:fs';
import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import { cmdAdd } from './add.js';
import { cmdCheck } from './check.js';
import { configVersion, decodeStdin, parseConfig, type CniConfig } from './config.js';
import type { VerbContext } from './context.js';
import { AgentClient, DaemonClient, type AgentApi, type DaemonApi } from './daemon_client.js';
import { cmdDel } from './del.js';
import { parseEnv } from './env.js';
import { CniError, CNI_CODE, errorJson, toCniError } from './errors.js';
import { spawnExec, type Exec } from './exec.js';
import { cmdGc, cmdStatus } from './gc.js';
import { createLog, type CniLog } from './log.js';
import { Net } from './net.js';
import { isSupportedVersion, LATEST_VERSION, requireVersionFor, SUPPORTED_VERSIONS } from './versions.js';

export interface CniIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: string;
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface CniDeps {
  exec: Exec;
  hostname(): string;
  readFile(path: string): Promise<string>;
  appendFile(path: string, text: string): void;
  isNetns(path: string): Promise<boolean>;
  daemon(cfg: CniConfig, token: string | null): DaemonApi;
  agent(cfg: CniConfig): AgentApi | null;
  now(): number;
}

// statfs(2) f_type of nsfs, the filesystem of /proc/PID/ns/net and of `ip netns` bind mounts.
const NSFS_MAGIC = 0x6e736673;

export function processDeps(): CniDeps {
  return {
    exec: spawnExec,
    hostname: () => os.hostname(),
    readFile: (p) => readFile(p, 'utf8'),
    appendFile: (p, t) => appendFileSync(p, t),
    isNetns: async (p) => {
      try {
        return (await statfs(p)).type === NSFS_MAGIC;
      } catch {
        return false;
      }
    },
    daemon: (cfg, token) => new DaemonClient(cfg.daemon, token, cfg.timeoutMs),
    agent: (cfg) => (cfg.agent === null ? null : new AgentClient(cfg.agent, cfg.timeoutMs)),
    now: () => Date.now(),
  };
}

/** The version an answer is written in: the requested one when we speak it. */
function answerVersion(stdin: string): string {
  try {
    const v = configVersion(decodeStdin(stdin));
    return v;
  } catch {
    try {
      const doc = JSON.parse(stdin) as { cniVersion?: unknown };
      if (isSupportedVersion(doc?.cniVersion)) return doc.cniVersion;
    } catch {
      // not JSON: answer in the newest version
    }
    return LATEST_VERSION;
  }
}

/** Runs one invocation; resolves with the process exit status. */
export async function runCni(io: CniIo, deps: CniDeps = processDeps()): Promise<number> {
  const started = deps.now();
  let log: CniLog = createLog('warn', io.stderr, {}, deps.now);
  let daemon: DaemonApi | null = null;
  let agent: AgentApi | null = null;
  let command = io.env.CNI_COMMAND ?? '';
  try {
    const env = parseEnv(io.env);
    command = env.command;
    if (env.command === 'VERSION') {
      io.stdout(JSON.stringify({ cniVersion: answerVersion(io.stdin), supportedVersions: [...SUPPORTED_VERSIONS] }) + '\n');
      return 0;
    }
    const cfg = parseConfig(decodeStdin(io.stdin), deps.hostname());
    const base = { command: env.command, containerId: env.containerId || undefined, pod: env.pod ? `${env.pod.namespace}/${env.pod.name}` : undefined };
    log = createLog(cfg.logLevel, cfg.logFile === null ? io.stderr : (line) => deps.appendFile(cfg.logFile!, line), base, deps.now);
    if (env.command === 'CHECK' || env.command === 'GC' || env.command === 'STATUS') requireVersionFor(env.command, cfg.cniVersion);

    let token = cfg.token;
    if (cfg.tokenFile !== null) {
      try {
        token = (await deps.readFile(cfg.tokenFile)).split('\n')[0]!.trim();
      } catch (e) {
        throw new CniError(CNI_CODE.INVALID_CONFIG, `Cannot read token_file "${cfg.tokenFile}": ${(e as Error).message}`);
      }
      if (token === '') throw new CniError(CNI_CODE.INVALID_CONFIG, `token_file "${cfg.tokenFile}" is empty`);
    }
    daemon = deps.daemon(cfg, token);
    agent = deps.agent(cfg);
    const ctx: VerbContext = { env, cfg, net: new Net(deps.exec), daemon, agent, log, isNetns: deps.isNetns };

    switch (env.command) {
      case 'ADD':
        io.stdout(JSON.stringify(await cmdAdd(ctx)) + '\n');
        break;
      case 'DEL':
        await cmdDel(ctx);
        break;
      case 'CHECK':
        await cmdCheck(ctx);
        break;
      case 'GC':
        await cmdGc(ctx);
        break;
      case 'STATUS':
        await cmdStatus(ctx);
        break;
    }
    log.debug(`${env.command} succeeded`, { ms: deps.now() - started });
    return 0;
  } catch (e) {
    const err = toCniError(e, `${command || 'CNI'} failed`);
    log.error(`${command || 'invocation'} failed`, { code: err.code, msg: err.message, details: err.details || undefined, ms: deps.now() - started });
    io.stdout(JSON.stringify(errorJson(err, answerVersion(io.stdin))) + '\n');
    return 1;
  } finally {
    daemon?.close();
    agent?.close();
  }
}
