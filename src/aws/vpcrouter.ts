/**
 * VpcRouter: keeps the cluster's VPC route tables pointing each prefix
 * group's CIDR at a healthy router of that group (reference §10.2).
 *
 * Design: one reconcile = read the spec (daemon or files), read EC2
 * (router instances by IP, the VPC's route tables), plan with the pure
 * planner (src/core/aws/route_plan.ts), then make the calls one by one —
 * or, with dry-run, log each call and make none. Reconciles are triggered
 * at start, every recheck interval (#37), and at once when the health
 * monitor reports a change; triggers arriving during a run coalesce into
 * one follow-up run. A failed call is logged and counted; the next run
 * retries it (the state is always re-read, so nothing is remembered wrong).
 *
 * Concurrency rule: at most one reconcile at a time (the `running` flag);
 * status() reads the last finished run.
 */
import type { RouteSpec } from '../core/aws/route_spec.js';
import { routerIps } from '../core/aws/route_spec.js';
import { planRoutes, type RouteAction } from '../core/aws/route_plan.js';
import type { Logger } from '../shared/log.js';
import { Counter, Gauge, type Registry } from '../shared/metrics.js';
import { describeError, type Ec2Api } from './ec2.js';

/** The default VPC limit of routes per route table. */
export const DEFAULT_ROUTE_LIMIT = 50;

export interface SpecSnapshot {
  readonly spec: RouteSpec;
  /** Network CIDRs of the topology: deletions happen only inside these. */
  readonly managed: readonly string[];
}

export interface HealthView {
  setTargets(ips: Iterable<string>): void;
  isHealthy(ip: string): boolean;
  snapshot(): Record<string, unknown>;
}

export interface VpcRouterOptions {
  readonly ec2: Ec2Api;
  readonly vpcId: string | null;
  readonly ignore: readonly string[];
  readonly dryRun: boolean;
  readonly loadSpec: () => Promise<SpecSnapshot>;
  readonly health: HealthView;
  readonly log: Logger;
  readonly registry?: Registry;
  readonly random?: () => number;
  readonly routeLimit?: number;
  readonly now?: () => Date;
}

export interface ActionRecord {
  readonly time: string;
  readonly op: RouteAction['op'];
  readonly table: string;
  readonly cidr: string;
  readonly ip?: string;
  readonly eniId?: string;
  readonly reason: string;
  readonly result: 'done' | 'dry-run' | 'failed';
  readonly error?: string;
}

export interface RunReport {
  readonly time: string;
  readonly reason: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly vpc: string | null;
  readonly clusterTables: string[];
  readonly skippedTables: string[];
  readonly routeCounts: Record<string, number>;
  readonly actions: ActionRecord[];
}

const MAX_ACTIONS_KEPT = 100;

export class VpcRouter {
  private running = false;
  private pending: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private choice = new Map<string, string>();
  private spec: RouteSpec = {};
  private vpc: string | null;
  private lastRun: RunReport | null = null;
  private idle: Promise<void> = Promise.resolve();
  private readonly recent: ActionRecord[] = [];
  private readonly m;
  runs = 0;

  constructor(private readonly o: VpcRouterOptions) {
    this.vpc = o.vpcId;
    const registers = o.registry ? [o.registry] : [];
    this.m = {
      runs: new Counter({ name: 'romana_vpcrouter_reconciles_total', help: 'Reconcile runs, by result', labelNames: ['result'] as const, registers }),
      actions: new Counter({ name: 'romana_vpcrouter_route_actions_total', help: 'Route calls, by operation and result (done, dry-run, failed)', labelNames: ['op', 'result'] as const, registers }),
      routes: new Gauge({ name: 'romana_vpcrouter_routes', help: 'Routes per cluster route table after the last reconcile', labelNames: ['table'] as const, registers }),
      specCidrs: new Gauge({ name: 'romana_vpcrouter_spec_cidrs', help: 'CIDRs in the route spec', registers }),
      noRouter: new Gauge({ name: 'romana_vpcrouter_cidrs_without_router', help: 'Spec CIDRs with no healthy router (left as they are)', registers }),
    };
  }

  private now(): string {
    return (this.o.now ?? (() => new Date()))().toISOString();
  }

  /** Asks for a reconcile; coalesces with one already running. Resolves when a run covering this request ends. */
  trigger(reason: string): Promise<void> {
    if (this.running) {
      this.pending = this.pending ? `${this.pending}; ${reason}` : reason;
      return this.idle;
    }
    this.running = true;
    this.idle = (async () => {
      let r: string | null = reason;
      while (r !== null) {
        this.pending = null;
        await this.reconcile(r);
        r = this.pending;
      }
      this.running = false;
    })();
    return this.idle;
  }

  /** Reconcile now and every `recheckMs`. */
  start(recheckMs: number): void {
    const tick = (): void => {
      void this.trigger('recheck').finally(() => {
        if (this.timer !== null) this.timer = setTimeout(tick, recheckMs);
      });
    };
    this.timer = setTimeout(tick, recheckMs);
    void this.trigger('start');
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.idle;
  }

  private async reconcile(reason: string): Promise<void> {
    const time = this.now();
    this.runs++;
    let report: RunReport;
    try {
      const { spec, managed } = await this.o.loadSpec();
      this.spec = spec;
      const ips = routerIps(spec);
      this.o.health.setTargets(ips);
      this.m.specCidrs.set(Object.keys(spec).length);
      const instances = await this.o.ec2.instancesByIp(ips, this.vpc ?? undefined);
      if (this.vpc === null) {
        const first = [...instances.values()].find((i) => i.vpcId);
        if (!first) throw new Error('Cannot determine the VPC: no router of the route spec is a running instance (give --vpc)');
        this.vpc = first.vpcId;
        this.o.log.info({ vpc: this.vpc }, `Using VPC ${this.vpc} (of router ${first.ip})`);
      }
      const tables = await this.o.ec2.routeTables(this.vpc);
      const plan = planRoutes({
        spec,
        tables,
        instances,
        isHealthy: (ip) => this.o.health.isHealthy(ip),
        ignore: this.o.ignore,
        managed,
        previous: this.choice,
        random: this.o.random ?? Math.random,
      });
      const actions: ActionRecord[] = [];
      for (const a of plan.actions) actions.push(await this.apply(a));
      this.choice = new Map([...plan.choice].filter((e): e is [string, string] => e[1] !== null));
      const without = [...plan.choice].filter(([, ip]) => ip === null).map(([c]) => c);
      this.m.noRouter.set(without.length);
      if (without.length > 0) this.o.log.warn({ cidrs: without }, `No healthy router for ${without.join(', ')}: routes left as they are`);
      const limit = this.o.routeLimit ?? DEFAULT_ROUTE_LIMIT;
      this.m.routes.reset();
      for (const [t, n] of Object.entries(plan.routeCounts)) {
        this.m.routes.set({ table: t }, n);
        if (n > limit) this.o.log.warn({ table: t, routes: n, limit }, `Route table ${t} holds ${n} routes, over the limit of ${limit}`);
      }
      if (plan.skippedTables.length > 0) this.o.log.debug({ tables: plan.skippedTables }, 'Route tables not associated with cluster subnets skipped');
      const failed = actions.filter((a) => a.result === 'failed').length;
      report = { time, reason, ok: failed === 0, ...(failed ? { error: `${failed} route calls failed` } : {}), vpc: this.vpc, clusterTables: plan.clusterTables, skippedTables: plan.skippedTables, routeCounts: plan.routeCounts, actions };
    } catch (e) {
      this.o.log.error({ err: describeError(e), reason }, `Reconcile failed: ${describeError(e)}`);
      report = { time, reason, ok: false, error: describeError(e), vpc: this.vpc, clusterTables: [], skippedTables: [], routeCounts: {}, actions: [] };
    }
    this.m.runs.inc({ result: report.ok ? 'ok' : 'error' });
    this.lastRun = report;
  }

  private async apply(a: RouteAction): Promise<ActionRecord> {
    const base = { time: this.now(), op: a.op, table: a.table, cidr: a.cidr, reason: a.reason, ...(a.op !== 'delete' ? { ip: a.ip, eniId: a.eniId } : {}) };
    const what = a.op === 'delete' ? `DeleteRoute ${a.table} ${a.cidr}` : `${a.op === 'create' ? 'CreateRoute' : 'ReplaceRoute'} ${a.table} ${a.cidr} -> ${a.ip} (${a.instanceId}, ${a.eniId})`;
    let rec: ActionRecord;
    if (this.o.dryRun) {
      this.o.log.info({ ...base, dryRun: true }, `Dry run: would ${what}: ${a.reason}`);
      rec = { ...base, result: 'dry-run' };
    } else {
      try {
        if (a.op === 'create') await this.o.ec2.createRoute(a.table, a.cidr, a.eniId);
        else if (a.op === 'replace') await this.o.ec2.replaceRoute(a.table, a.cidr, a.eniId);
        else await this.o.ec2.deleteRoute(a.table, a.cidr);
        this.o.log.info(base, `${what}: ${a.reason}`);
        rec = { ...base, result: 'done' };
      } catch (e) {
        this.o.log.error({ ...base, err: describeError(e) }, `${what} failed: ${describeError(e)}`);
        rec = { ...base, result: 'failed', error: describeError(e) };
      }
    }
    this.m.actions.inc({ op: a.op, result: rec.result });
    this.recent.push(rec);
    if (this.recent.length > MAX_ACTIONS_KEPT) this.recent.splice(0, this.recent.length - MAX_ACTIONS_KEPT);
    return rec;
  }

  /** What /status shows. */
  status(): Record<string, unknown> {
    return {
      vpc: this.vpc,
      dry_run: this.o.dryRun,
      ignore_routes: this.o.ignore,
      spec: this.spec,
      chosen: Object.fromEntries(this.choice),
      health: this.o.health.snapshot(),
      last_run: this.lastRun,
      last_actions: this.recent.slice(-20),
    };
  }

  /** Ready once a reconcile has succeeded. */
  synced(): boolean {
    return this.lastRun?.ok === true;
  }
}
