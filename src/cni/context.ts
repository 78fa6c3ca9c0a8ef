/**
 * What every verb works with: the parsed environment and configuration,
 * the network operations, the daemon and agent clients, the log. Built once
 * per invocation by plugin.ts.
 */
import type { CniConfig } from './config.js';
import type { AgentApi, DaemonApi } from './daemon_client.js';
import type { CniEnv } from './env.js';
import type { CniLog } from './log.js';
import type { Net } from './net.js';

export interface VerbContext {
  readonly env: CniEnv;
  readonly cfg: CniConfig;
  readonly net: Net;
  readonly daemon: DaemonApi;
  readonly agent: AgentApi | null;
  readonly log: CniLog;
  /** True when the path is a network namespace (nsfs). */
  readonly isNetns: (path: string) => Promise<boolean>;
}
