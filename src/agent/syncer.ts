/**
 * The agent's one apply loop (STYLE 1, 3, 4): event handlers mark parts of
 * the desired state dirty and return; this loop coalesces bursts, computes
 * the desired state (pure, src/core/agent and src/core/firewall), and has
 * the drivers write the minimal deltas.
 *
 * Apply order (each step needs the previous one done):
 *   1. sysctls        ip_forward=1 (and verified) before anything is routed
 *   2. ipsets         create/refresh every desired set, so that every rule
 *                     written next finds the sets it names
 *   3. filter table   owned chains, rules and the jumps at the top of
 *                     INPUT/FORWARD/OUTPUT (policy enforcement)
 *   4. nat table      ROMANA-MASQ and its POSTROUTING jumps
 *   5. ipsets         destroy owned sets no longer desired — only now are
 *                     they unreferenced by the rules written in step 3
 *   6. routes         `ip rule` to the owned table, then the table's delta
 *                     (last: a new block's route is only useful once the
 *                     firewall for its pods is in place)
 * Deletions of owned state no longer desired happen only once the view is
 * complete (the follower loaded a snapshot: "first full sync"); nothing is
 * ever deleted on exit.
 *
 * Failures: a failed pass keeps its parts dirty, makes every driver read
 * the kernel back on the next pass, and retries after a doubling delay. If
 * `maxFailures` passes in a row fail, `onFatal` gets a dump (what failed,
 * the desired sizes, the last errors) and the agent exits non-zero rather
 * than run with a firewall it cannot keep right (fail closed: the rules
 * already in the kernel stay as they are).
 *
 * Readiness: `ready` turns true after the first pass that applied a
 * complete view. `waitApplied(R)` resolves once a pass that started with
 * every change up to revision R in the view has succeeded (POST /sync).
 *
 * Concurrency rule: exactly one pass runs at a time; markDirty and
 * requestResync do no I/O and may be called from any callback.
 */
import { clusterViewOf, natSpec, ownGroupCidrs, planRoutes, remoteHostAddresses, routesFromTable, serviceRangeOverlaps, type ReachInfo, type TableSpec } from '../core/agent/index.js';
import type { Problem } from '../core/errors.js';
import { parseCidr4, type Cidr4 } from '../core/ip.js';
import type { ReservationRecord, TopologyRecord } from '../core/ipam/types.js';
import { carveTopology, type CarvedTopology } from '../core/topology/index.js';
import type { ClusterView, DesiredFirewall } from '../core/firewall/index.js';
import { aggregate } from '../kernels/pool.js';
import type { Logger } from '../shared/log.js';
import type { IptablesApplyStats, IptablesTable } from './drivers/iptables.js';
import type { IpsetApplyStats, IpsetDriver } from './drivers/ipset.js';
import type { RoutesApplyStats, RoutesDriver } from './drivers/routes.js';
import type { SysctlDriver } from './drivers/sysctl.js';
import { DriverError } from './shims/exec.js';
import type { AgentMetrics } from './metrics.js';
import { ALL_PARTS, type ClusterCache, type Part } from './view.js';

export interface AgentDrivers {
  readonly sysctl: SysctlDriver;
  readonly ipsets: IpsetDriver;
  readonly filter: IptablesTable;
  readonly nat: IptablesTable;
  readonly routes: RoutesDriver;
}

export interface SyncSettings {
  readonly nodeName: string;
  readonly serviceClusterIpRange: string | null;
  readonly nat: boolean;
  readonly policies: boolean;
  readonly multihop: boolean;
}

export type Renderer = (view: ClusterView, node: string) => DesiredFirewall;

export interface PassStats {
  revision: number;
  ms: number;
  computeMs: number;
  /** Wall time per step of the apply order (ms). */
  stepMs: Record<string, number>;
  ipsets: IpsetApplyStats;
  filter: IptablesApplyStats;
  nat: IptablesApplyStats;
  ipsetDeletes: IpsetApplyStats;
  routes: RoutesApplyStats;
}

export interface FatalDump {
  node: string;
  failures: number;
  lastErrors: Array<{ at: string; driver: string; message: string; command?: string; stderr?: string }>;
  revision: number;
  appliedRevision: number;
  desired: { chains: number; rules: number; ipsets: number; ipsetMembers: number; routes: number; natRules: number };
}

export interface SyncerOptions {
  cache: ClusterCache;
  drivers: AgentDrivers;
  settings: SyncSettings;
  render: Renderer;
  /** Problems of the view's policies (the renderer skips those policies); logged when they change. */
  policyProblems?: (view: ClusterView) => readonly Problem[];
  log: Logger;
  metrics?: AgentMetrics;
  /** The highest revision whose events are all in the cache (Follower.completeRevision). */
  completeRevision: () => number;
  /** True once the cache holds a complete view (Follower.synced). */
  viewComplete: () => boolean;
  /** Quiet time gathered before a pass (bursts of events become one pass; default 20 ms). */
  coalesceMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Passes failing in a row before onFatal (default 10). */
  maxFailures?: number;
  onFatal: (dump: FatalDump) => void;
  /** Called after every successful pass (tests, the bench). */
  onPass?: (s: PassStats) => void;
}

interface ApplyWaiter {
  revision: number;
  resolve: (applied: number) => void;
}

const EMPTY_FIREWALL: DesiredFirewall = { chains: [], jumps: [], ipsets: [] };
const EMPTY_TABLE: TableSpec = { chains: [], jumps: [] };

export class Syncer {
  ready = false;
  /** Revision (Follower.completeRevision) at the start of the last successful pass. */
  appliedRevision = 0;
  /** Passes started (including those that found the view incomplete and did nothing). */
  attempts = 0;
  private dirty = new Set<Part>();
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private failures = 0;
  private backoff: number;
  /** Delay before retrying a failed pass (the backoff when it failed). */
  private retryInMs = 0;
  private waiters: ApplyWaiter[] = [];
  private lastErrors: FatalDump['lastErrors'] = [];
  private lastProblems = '[]';
  /** Host address -> how it is reached; cleared on resync. */
  private reach = new Map<string, ReachInfo>();
  /** The cached topology record's carving (null: it did not carve), redone only when the record changes. */
  private carving: { record: TopologyRecord; carved: CarvedTopology | null } | null = null;
  private firewall: DesiredFirewall = EMPTY_FIREWALL;
  private natTable: TableSpec = EMPTY_TABLE;
  private routeCount = 0;
  private readonly coalesceMs: number;
  private readonly maxFailures: number;

  constructor(private readonly o: SyncerOptions) {
    this.coalesceMs = o.coalesceMs ?? 20;
    this.maxFailures = o.maxFailures ?? 10;
    this.backoff = o.initialBackoffMs ?? 200;
  }

  markDirty(parts: readonly Part[]): void {
    if (this.stopped) return;
    for (const p of parts) this.dirty.add(p);
    if (parts.length > 0) this.schedule(this.coalesceMs);
  }

  /** Periodic resync: forget cached kernel state so every driver reads back, and recompute everything. */
  requestResync(): void {
    for (const d of [this.o.drivers.sysctl, this.o.drivers.ipsets, this.o.drivers.filter, this.o.drivers.nat, this.o.drivers.routes]) d.invalidate();
    this.reach.clear();
    this.markDirty(ALL_PARTS);
  }

  /** Resolves with the applied revision once a pass covering `revision` succeeded. */
  waitApplied(revision: number): Promise<number> {
    if (this.ready && this.dirty.size === 0 && this.running === null && this.o.completeRevision() >= revision) {
      // Nothing pending: everything received so far is applied.
      return Promise.resolve(Math.max(this.appliedRevision, revision));
    }
    return new Promise((resolve) => {
      this.waiters.push({ revision, resolve });
      if (this.dirty.size === 0 && this.running === null) this.markDirty(['firewall']);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Sizes of the last desired state (health dumps, metrics). */
  desiredSizes(): FatalDump['desired'] {
    return {
      chains: this.firewall.chains.length,
      rules: this.firewall.chains.reduce((s, c) => s + c.rules.length, 0) + this.firewall.jumps.length,
      ipsets: this.firewall.ipsets.length,
      ipsetMembers: this.firewall.ipsets.reduce((s, x) => s + x.members.length, 0),
      routes: this.routeCount,
      natRules: this.natTable.chains.reduce((s, c) => s + c.rules.length, 0) + this.natTable.jumps.length,
    };
  }

  private schedule(ms: number): void {
    if (this.stopped || this.timer !== null || this.running !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.pass().finally(() => {
        this.running = null;
        // An incomplete view waits for the follower's snapshot, which marks everything dirty again.
        if (this.dirty.size > 0 && !this.stopped && this.o.viewComplete()) this.schedule(this.failures > 0 ? this.retryInMs : this.coalesceMs);
      });
    }, ms);
  }

  private async pass(): Promise<void> {
    this.attempts++;
    if (!this.o.viewComplete()) return; // nothing is computed from a partial view; the snapshot marks everything dirty
    const started = performance.now();
    const revision = this.o.completeRevision();
    const parts = this.dirty;
    this.dirty = new Set();
    let driver = 'compute';
    try {
      const { cache, settings, drivers } = this.o;
      // ---- compute (pure; routes also ask the kernel how hosts are reached) ----
      if (parts.has('nat') || parts.has('routes')) {
        const overlapping = serviceRangeOverlaps(cache.podNetworks(), settings.serviceClusterIpRange);
        if (overlapping.length > 0) {
          throw new DriverError('config', `Pod network(s) ${overlapping.join(', ')} overlap the service range ${settings.serviceClusterIpRange}: refusing to program this node`, 'check', '');
        }
      }
      if (parts.has('nat')) this.natTable = natSpec(cache.podNetworks(), settings.nat);
      if (parts.has('firewall')) {
        if (settings.policies) {
          const view = clusterViewOf({
            tenants: cache.tenants.values(),
            endpoints: cache.endpoints.values(),
            netpols: cache.netpols.values(),
            policies: cache.policies.values(),
            blocks: cache.blocks.values(),
            hosts: cache.hosts.values(),
          });
          this.firewall = this.o.render(view, settings.nodeName);
          this.reportPolicyProblems(view);
        } else {
          this.firewall = EMPTY_FIREWALL;
        }
      }
      if (parts.has('routes')) {
        driver = 'routes';
        const addrs = remoteHostAddresses(cache.blocks.values(), cache.hosts, settings.nodeName).filter((a) => !this.reach.has(a));
        if (addrs.length > 0) {
          const found = await drivers.routes.lookupNextHops(addrs);
          for (const [a, info] of found) this.reach.set(a, { gateway: info.gateway, local: info.local });
        }
        const dontCare = this.ownGroups();
        const keepOut = dontCare.length === 0 ? [] : reservedCidrs(cache.reservations.values());
        const plan = planRoutes(cache.blocks.values(), cache.hosts, settings.nodeName, this.reach, { multihop: settings.multihop, dontCare, keepOut });
        for (const s of plan.skipped) this.o.log.debug({ host: s.host }, `no route to the blocks of host ${JSON.stringify(s.host)}: ${s.reason}`);
        const table = await aggregate(plan.triplets);
        const routes = routesFromTable(table, plan.hops);
        drivers.routes.setDesired(routes);
        this.routeCount = routes.length;
      }
      const computeMs = performance.now() - started;
      const allowDeletes = this.o.viewComplete();

      // ---- apply, in the order of the module header ----
      const stepMs: Record<string, number> = {};
      const step = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
        driver = name;
        const t0 = performance.now();
        const r = await f();
        stepMs[name] = (stepMs[name] ?? 0) + performance.now() - t0;
        return r;
      };
      await step('sysctl', () => drivers.sysctl.apply());
      drivers.ipsets.setDesired(this.firewall.ipsets);
      const ipsets = await step('ipset', () => drivers.ipsets.applyUpdates());
      drivers.filter.setDesired({ chains: this.firewall.chains, jumps: this.firewall.jumps });
      const filter = await step('iptables-filter', () => drivers.filter.apply({ allowDeletes }));
      drivers.nat.setDesired(this.natTable);
      const nat = await step('iptables-nat', () => drivers.nat.apply({ allowDeletes }));
      const ipsetDeletes = await step('ipset', () => drivers.ipsets.applyDeletes({ allowDeletes }, (msg, set) => this.o.log.warn({ set }, msg)));
      const routes = await step('routes', () => drivers.routes.apply({ allowDeletes }));

      const ms = performance.now() - started;
      this.succeeded(revision, { revision, ms, computeMs, stepMs, ipsets, filter, nat, ipsetDeletes, routes });
    } catch (e) {
      for (const p of parts) this.dirty.add(p);
      this.failed(driver, e as Error, performance.now() - started);
    }
  }

  /**
   * This node's leaf groups (one per network), whose free space the route
   * plan may treat as don't care; none while the topology or our host record
   * is unknown or the topology does not carve (then routes are exact).
   */
  private ownGroups(): Cidr4[] {
    const { cache, settings } = this.o;
    const record = cache.topology;
    const me = cache.hosts.get(settings.nodeName);
    if (!record || !me) return [];
    if (this.carving?.record !== record) {
      let carved: CarvedTopology | null = null;
      try {
        carved = carveTopology(record.input);
      } catch (e) {
        this.o.log.warn({ err: (e as Error).message }, 'the topology does not carve here: routes are aggregated without don\'t-care space');
      }
      this.carving = { record, carved };
    }
    return this.carving.carved ? ownGroupCidrs(this.carving.carved, me.groups) : [];
  }

  /** Logs policies the renderer had to skip, when that list changes (one bad policy never stops the others). */
  private reportPolicyProblems(view: ClusterView): void {
    if (!this.o.policyProblems) return;
    const problems = this.o.policyProblems(view);
    const text = JSON.stringify(problems.map((p) => `${p.path}: ${p.message}`));
    if (text === this.lastProblems) return;
    this.lastProblems = text;
    if (problems.length > 0) {
      this.o.log.warn({ problems: problems.slice(0, 10), count: problems.length }, `${problems.length} policy problem(s): the affected policies are skipped, e.g. ${problems[0]!.path}: ${problems[0]!.message}`);
    }
  }

  private succeeded(revision: number, s: PassStats): void {
    const m = this.o.metrics;
    const first = !this.ready;
    this.ready = true;
    this.failures = 0;
    this.backoff = this.o.initialBackoffMs ?? 200;
    this.appliedRevision = Math.max(this.appliedRevision, revision);
    if (m) {
      m.syncDuration.observe({ result: 'ok' }, s.ms / 1000);
      m.ready.set(1);
      m.appliedRevision.set(this.appliedRevision);
      const sizes = this.desiredSizes();
      m.iptablesRules.set({ table: 'filter' }, sizes.rules);
      m.iptablesRules.set({ table: 'nat' }, sizes.natRules);
      m.ipsets.set(sizes.ipsets);
      m.ipsetMembers.set(sizes.ipsetMembers);
      m.routes.set(s.routes.routes);
      m.ruleWrites.inc(s.filter.rulesInserted + s.filter.rulesReplaced + s.filter.rulesDeleted + s.filter.jumpsWritten + s.nat.rulesInserted + s.nat.rulesReplaced + s.nat.rulesDeleted + s.nat.jumpsWritten);
      m.memberWrites.inc(s.ipsets.membersWritten);
      for (const [d, wrote] of [['iptables-filter', s.filter.wrote], ['iptables-nat', s.nat.wrote], ['ipset', s.ipsets.wrote || s.ipsetDeletes.wrote], ['routes', s.routes.wrote]] as const) {
        if (wrote) m.kernelWrites.inc({ driver: d });
      }
    }
    const wrote = s.filter.wrote || s.nat.wrote || s.ipsets.wrote || s.ipsetDeletes.wrote || s.routes.wrote;
    if (first || wrote) {
      this.o.log.info(
        {
          revision,
          ms: Math.round(s.ms * 10) / 10,
          computeMs: Math.round(s.computeMs * 10) / 10,
          filter: { lines: s.filter.lines, chainsCreated: s.filter.chainsCreated, chainsDeleted: s.filter.chainsDeleted },
          nat: { lines: s.nat.lines },
          ipsets: { created: s.ipsets.setsCreated, swapped: s.ipsets.setsSwapped, destroyed: s.ipsetDeletes.setsDestroyed, members: s.ipsets.membersWritten },
          routes: { added: s.routes.added, replaced: s.routes.replaced, deleted: s.routes.deleted },
        },
        first ? 'first full sync applied' : 'applied changes',
      );
    }
    const keep: ApplyWaiter[] = [];
    for (const w of this.waiters) {
      if (w.revision <= revision) w.resolve(revision);
      else keep.push(w);
    }
    this.waiters = keep;
    this.o.onPass?.(s);
  }

  private failed(driver: string, err: Error, ms: number): void {
    this.failures++;
    const de = err instanceof DriverError ? err : null;
    const d = de?.driver === 'config' ? 'config' : driver;
    this.lastErrors.push({ at: new Date().toISOString(), driver: d, message: err.message, ...(de ? { command: de.command, stderr: de.stderr.slice(0, 2000) } : {}) });
    if (this.lastErrors.length > 5) this.lastErrors.shift();
    this.o.metrics?.failures.inc({ driver: d });
    this.o.metrics?.syncDuration.observe({ result: 'error' }, ms / 1000);
    // Whatever failed, the next pass must not trust any cached kernel state.
    for (const x of [this.o.drivers.ipsets, this.o.drivers.filter, this.o.drivers.nat, this.o.drivers.routes, this.o.drivers.sysctl]) x.invalidate();
    this.reach.clear();
    this.o.log.error({ err, driver: d, failures: this.failures, retryInMs: this.backoff }, `apply failed (${d}): ${err.message}`);
    if (this.failures >= this.maxFailures) {
      this.stopped = true;
      this.o.onFatal({
        node: this.o.settings.nodeName,
        failures: this.failures,
        lastErrors: [...this.lastErrors],
        revision: this.o.completeRevision(),
        appliedRevision: this.appliedRevision,
        desired: this.desiredSizes(),
      });
      return;
    }
    this.retryInMs = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs ?? 10_000);
  }
}

/** The reservations' CIDRs (the daemon validated them; an unreadable one is skipped). */
function reservedCidrs(records: Iterable<ReservationRecord>): Cidr4[] {
  const out: Cidr4[] = [];
  for (const r of records) {
    const c = parseCidr4(r.cidr);
    if (c.ok) out.push(c.cidr);
  }
  return out;
}
