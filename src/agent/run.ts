/**
 * The romana-agent command: flags → config → health server (its port is in
 * the first log line) → iptables backend detection → drivers, view,
 * follower, apply loop, heartbeat → CNI install after the first full sync
 * → wait for SIGTERM/SIGINT or a fatal failure.
 *
 * Exit codes: 0 after SIGTERM/SIGINT or --help; 2 for a bad flag or an
 * unreadable --token-file; 1 when the agent cannot start (health port
 * taken, iptables backends mixed, …) or programming kept failing (fail
 * closed, with a dump in the log). Exiting never removes routes, rules or
 * sets: the node keeps the last state the agent applied.
 *
 * Concurrency rule: runs once per process.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { compilePolicies, renderNodeFirewall } from '../core/firewall/index.js';
import { closeKernelPool } from '../kernels/pool.js';
import { RomanaClient } from '../shared/api_client.js';
import { createLogger, type Logger } from '../shared/log.js';
import { installCni } from './cni_install.js';
import { AGENT_USAGE, parseAgentArgs, type AgentConfig } from './config.js';
import { IpsetDriver } from './drivers/ipset.js';
import { IptablesTable } from './drivers/iptables.js';
import { detectBackend } from './drivers/iptables_backend.js';
import { RoutesDriver } from './drivers/routes.js';
import { SysctlDriver } from './drivers/sysctl.js';
import { VipDriver } from './drivers/vips.js';
import { Follower } from './follower.js';
import { startHealthServer, type HealthServer } from './health.js';
import { Heartbeat } from './heartbeat.js';
import { createAgentMetrics } from './metrics.js';
import { localExec, type Exec } from './shims/exec.js';
import { Syncer, type FatalDump } from './syncer.js';
import { ClusterCache } from './view.js';
import { VipKeeper } from './vips.js';

export const EXECUTABLE = 'romana-agent';

export interface AgentIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export interface AgentDeps {
  exec?: Exec;
  env?: Readonly<Record<string, string | undefined>>;
  hostname?: string;
  /** Resolves to stop the agent (default: SIGTERM/SIGINT). */
  stopSignal?: Promise<string>;
}

const processIo: AgentIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

function signals(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(sig);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

/** The MTU of the interface holding `ip` (null when not found). */
async function interfaceMtu(exec: Exec, ip: string): Promise<number | null> {
  try {
    const r = await exec.run('ip', ['-j', '-4', 'addr', 'show']);
    const links = JSON.parse(r.stdout || '[]') as Array<{ mtu?: number; addr_info?: Array<{ local?: string }> }>;
    return links.find((l) => l.addr_info?.some((a) => a.local === ip))?.mtu ?? null;
  } catch {
    return null;
  }
}

export async function runAgent(argv: readonly string[], io: AgentIo = processIo, deps: AgentDeps = {}): Promise<number> {
  const parsed = parseAgentArgs(argv, deps.env ?? process.env, deps.hostname ?? os.hostname());
  if (parsed.kind === 'help') {
    io.stdout(AGENT_USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    io.stderr(`${EXECUTABLE}: ${parsed.problems.join('; ')}\n`);
    return 2;
  }
  const cfg = parsed.config;
  let token = cfg.token;
  if (cfg.tokenFile !== null) {
    try {
      token = (await readFile(cfg.tokenFile, 'utf8')).split(/\r?\n/)[0]!.trim();
    } catch (e) {
      io.stderr(`${EXECUTABLE}: invalid --token-file ${JSON.stringify(cfg.tokenFile)}: cannot read it: ${(e as Error).message}\n`);
      return 2;
    }
    if (token === '') {
      io.stderr(`${EXECUTABLE}: invalid --token-file ${JSON.stringify(cfg.tokenFile)}: the first line is empty\n`);
      return 2;
    }
  }
  const log = createLogger(EXECUTABLE, cfg.logLevel);
  return new Agent(cfg, token, log, deps).run();
}

class Agent {
  private readonly exec: Exec;
  private readonly metrics = createAgentMetrics();
  private readonly cache: ClusterCache;
  private readonly client: RomanaClient;
  private syncer: Syncer | null = null;
  private follower: Follower | null = null;
  private cniDone = false;
  private fatal: ((dump: FatalDump) => void) | null = null;

  constructor(
    private readonly cfg: AgentConfig,
    token: string | null,
    private readonly log: Logger,
    private readonly deps: AgentDeps,
  ) {
    this.exec = deps.exec ?? localExec();
    this.cache = new ClusterCache((key, err) => log.warn({ key, err }, `ignoring an unreadable record: ${err.message}`));
    this.client = new RomanaClient({ baseUrl: cfg.daemon, ...(token === null ? {} : { token }), connections: 4 });
  }

  async run(): Promise<number> {
    const { cfg, log } = this;
    let health: HealthServer;
    try {
      health = await startHealthServer({
        host: cfg.healthHost,
        port: cfg.healthPort,
        socket: cfg.healthSocket,
        metrics: this.metrics,
        log: log.child({ component: 'health' }),
        deps: {
          ready: () => this.syncer?.ready ?? false,
          appliedRevision: () => this.syncer?.appliedRevision ?? 0,
          daemonRevision: async () => (await this.client.snapshot(['topology'])).revision,
          catchUp: (rev, deadline) => this.follower!.catchUp(rev, deadline),
          waitApplied: (rev) => this.syncer!.waitApplied(rev),
        },
      });
    } catch (e) {
      log.fatal({ err: e }, `cannot serve health on ${cfg.healthHost}:${cfg.healthPort}: ${(e as Error).message}`);
      await this.client.close();
      return 1;
    }
    log.info(
      {
        node: cfg.nodeName,
        nodeIp: cfg.nodeIp,
        daemon: cfg.daemon,
        healthPort: health.port,
        health: health.url,
        policies: cfg.policies,
        nat: cfg.nat,
        routeTable: cfg.routeTable,
        routeProto: cfg.routeProto,
      },
      `${EXECUTABLE} starting for node ${JSON.stringify(cfg.nodeName)}; health on ${health.url}`,
    );

    let code = 1;
    const heartbeat = new Heartbeat(this.client, cfg.nodeName, cfg.heartbeatTtlSeconds, log.child({ component: 'heartbeat' }), this.metrics);
    let resync: NodeJS.Timeout | null = null;
    let vips: VipKeeper | null = null;
    try {
      const { backend, reason } = await detectBackend(this.exec, cfg.iptablesMode, log);
      log.info({ mode: backend.mode, reason }, `using iptables-${backend.mode} (${reason})`);
      const mtu = cfg.mtu ?? (cfg.nodeIp === null ? null : await interfaceMtu(this.exec, cfg.nodeIp)) ?? 1500;

      const fatal = new Promise<FatalDump>((resolve) => {
        this.fatal = resolve;
      });
      this.syncer = new Syncer({
        cache: this.cache,
        drivers: {
          sysctl: new SysctlDriver(this.exec),
          ipsets: new IpsetDriver(this.exec),
          filter: new IptablesTable('filter', backend, this.exec),
          nat: new IptablesTable('nat', backend, this.exec),
          routes: new RoutesDriver(this.exec, { table: cfg.routeTable, proto: cfg.routeProto, rulePriority: cfg.routeRulePriority }),
        },
        settings: { nodeName: cfg.nodeName, serviceClusterIpRange: cfg.serviceClusterIpRange, nat: cfg.nat, policies: cfg.policies, multihop: cfg.multihop },
        render: (view, node) => renderNodeFirewall(view, node),
        policyProblems: (view) => compilePolicies(view).problems,
        log: log.child({ component: 'sync' }),
        metrics: this.metrics,
        completeRevision: () => this.follower?.completeRevision ?? 0,
        viewComplete: () => this.follower?.synced ?? false,
        maxFailures: cfg.maxFailures,
        onFatal: (dump) => this.fatal?.(dump),
        onPass: () => {
          if (!this.cniDone) void this.installCni(health.url, mtu);
          this.checkNodeIp();
        },
      });
      this.follower = new Follower({
        client: this.client,
        cache: this.cache,
        log: log.child({ component: 'follow' }),
        metrics: this.metrics,
        onChange: (parts) => this.syncer!.markDirty(parts),
      });
      this.follower.start();
      heartbeat.start();
      if (cfg.vipInterface !== undefined || cfg.nodeIp !== null) {
        const vipLog = log.child({ component: 'vips' });
        const driver = new VipDriver(this.exec, {
          ...(cfg.vipInterface === undefined ? {} : { interface: cfg.vipInterface }),
          nodeIp: cfg.nodeIp,
          onAnnounceError: (err) => vipLog.warn({ err }, `cannot send gratuitous ARP (is arping installed?): ${err.message}`),
        });
        vips = new VipKeeper({ client: this.client, driver, node: cfg.nodeName, ttlSeconds: cfg.heartbeatTtlSeconds, lastHeartbeatOk: () => heartbeat.lastOkSentAt, log: vipLog });
        vips.start();
      }
      resync = setInterval(() => {
        this.syncer!.requestResync();
        if (!this.cniDone && this.syncer!.ready) void this.installCni(health.url, mtu);
      }, cfg.resyncIntervalSeconds * 1000);

      const outcome = await Promise.race([
        (this.deps.stopSignal ?? signals()).then((s) => ({ signal: s })),
        fatal.then((d) => ({ dump: d })),
      ]);
      if ('signal' in outcome) {
        log.info({ signal: outcome.signal }, 'stopping (routes, rules and sets stay as they are)');
        code = 0;
      } else {
        log.fatal({ dump: outcome.dump }, `programming the node failed ${outcome.dump.failures} times in a row; exiting (fail closed: the rules in place stay)`);
        code = 1;
      }
    } catch (e) {
      log.fatal({ err: e }, `cannot start: ${(e as Error).message}`);
      code = 1;
    } finally {
      if (resync) clearInterval(resync);
      await vips?.stop();
      await this.follower?.stop();
      await heartbeat.stop();
      await this.syncer?.stop();
      await health.close();
      await this.client.close();
      await closeKernelPool();
      log.info({ code }, 'stopped');
    }
    return code;
  }

  private installing = false;

  private async installCni(agentUrl: string, mtu: number): Promise<void> {
    const { cfg } = this;
    if (!cfg.installCni || this.cniDone) {
      this.cniDone = true;
      return;
    }
    if (this.installing) return;
    this.installing = true;
    try {
      const r = await installCni({
        source: cfg.cniSource,
        binDir: cfg.cniBinDir,
        confDir: cfg.cniConfDir,
        daemon: cfg.daemon,
        nodeName: cfg.nodeName,
        agentUrl,
        mtu,
        token: cfg.tokenFile === null ? cfg.token : null,
        tokenFile: cfg.tokenFile,
      });
      this.cniDone = true;
      this.log.info({ binary: r.binary, conflist: r.conflist }, `CNI plugin installed (${r.conflist.path})`);
    } catch (e) {
      this.log.error({ err: e }, `cannot install the CNI plugin: ${(e as Error).message}; retrying at the next resync`);
    } finally {
      this.installing = false;
    }
  }

  private nodeIpChecked = false;

  /** Warns once when the daemon's record of this host has another address than --node-ip (routes follow the record). */
  private checkNodeIp(): void {
    if (this.nodeIpChecked || this.cfg.nodeIp === null) return;
    const rec = this.cache.hosts.get(this.cfg.nodeName);
    if (!rec) return;
    this.nodeIpChecked = true;
    if (rec.ip !== this.cfg.nodeIp) {
      this.log.warn({ nodeIp: this.cfg.nodeIp, registered: rec.ip }, `host ${JSON.stringify(this.cfg.nodeName)} is registered with ${rec.ip}, not --node-ip ${this.cfg.nodeIp}: other hosts route this node's blocks via ${rec.ip}`);
    }
  }
}
