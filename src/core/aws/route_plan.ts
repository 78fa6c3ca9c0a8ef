/**
 * VPC route-table planning for romana-vpcrouter (reference §10.2, with the
 * vpc-router issues #37, #40, #52/#53 folded in): from the route spec, the
 * VPC's current route tables and instances, and the health monitor's view,
 * decide the CreateRoute / ReplaceRoute / DeleteRoute calls that make every
 * cluster route table point each spec CIDR at one healthy router.
 *
 * Rules, in the order they are applied:
 * - Only "cluster" tables are touched: those associated with a subnet that
 *   holds a router instance, plus the VPC's main table when such a subnet
 *   has no explicit association (it then uses the main table). Any other
 *   table is skipped (#52/#53).
 * - Ignored CIDRs are never touched: a route is ignored when its CIDR lies
 *   inside an ignored CIDR, except that 0.0.0.0/0 matches only the default
 *   route itself (as the original's --ignore_routes).
 * - Routes not targeting an instance or ENI (local, gateways, NAT, peering)
 *   are never touched.
 * - One router per CIDR for every table: the previous choice if still
 *   eligible, else the target of an existing valid route, else a random
 *   eligible router. Eligible = in the spec, healthy, and owned by a known
 *   instance (so a route can name its ENI). No eligible router: routes are
 *   left as they are and nothing is created (a stale route beats none).
 * - A route is valid when its ENI (or, lacking one, its instance) is the
 *   current owner of the chosen IP; a route to a replaced instance that
 *   got the same IP fails this check and is replaced (#40).
 * - A route to an instance/ENI whose CIDR is not in the spec is deleted,
 *   but only inside the managed ranges (the topology's network CIDRs) when
 *   they are given: routes we do not own stay.
 *
 * Pure: the random source is injected; no I/O.
 */
import { cidrContains, formatCidr, parseCidr4, type Cidr4 } from '../ip.js';
import type { RouteSpec } from './route_spec.js';

export interface RouteView {
  readonly cidr: string;
  readonly instanceId?: string | undefined;
  readonly eniId?: string | undefined;
  /** Any non-instance target (gateway, NAT, peering …): never touched. */
  readonly otherTarget?: string | undefined;
  readonly state?: string | undefined;
}

export interface TableView {
  readonly id: string;
  readonly main: boolean;
  /** Subnets explicitly associated with this table. */
  readonly subnetIds: readonly string[];
  readonly routes: readonly RouteView[];
}

export interface InstanceView {
  readonly instanceId: string;
  /** The ENI that carries `ip`. */
  readonly eniId: string;
  readonly ip: string;
  readonly subnetId: string;
}

export interface PlanInput {
  readonly spec: RouteSpec;
  readonly tables: readonly TableView[];
  /** Private IP → the running instance that owns it now. */
  readonly instances: ReadonlyMap<string, InstanceView>;
  readonly isHealthy: (ip: string) => boolean;
  readonly ignore: readonly string[];
  /** Topology network CIDRs: deletions only inside these (undefined: anywhere, as the original). */
  readonly managed?: readonly string[] | undefined;
  /** CIDR → router chosen by the previous run (sticky). */
  readonly previous?: ReadonlyMap<string, string> | undefined;
  readonly random: () => number;
}

export type RouteAction =
  | { readonly op: 'create' | 'replace'; readonly table: string; readonly cidr: string; readonly ip: string; readonly instanceId: string; readonly eniId: string; readonly reason: string }
  | { readonly op: 'delete'; readonly table: string; readonly cidr: string; readonly reason: string };

export interface PlanResult {
  readonly actions: RouteAction[];
  /** CIDR → chosen router (null: no eligible router). */
  readonly choice: Map<string, string | null>;
  readonly clusterTables: string[];
  readonly skippedTables: string[];
  /** Table → routes it holds after the actions (every route, ours or not). */
  readonly routeCounts: Record<string, number>;
}

function parse(c: string): Cidr4 | null {
  const p = parseCidr4(c);
  return p.ok ? p.cidr : null;
}

/** Normalised CIDR text ("10.0.0.1/8" → "10.0.0.0/8"); the input when it does not parse. */
export function normCidr(c: string): string {
  const p = parse(c);
  return p ? formatCidr(p) : c;
}

/** Whether `cidr` is covered by the ignore list (0.0.0.0/0 matches only itself). */
export function isIgnored(cidr: string, ignore: readonly string[]): boolean {
  const c = parse(cidr);
  if (!c) return false;
  for (const i of ignore) {
    const ic = parse(i);
    if (!ic) continue;
    if (ic.prefix === 0 ? c.prefix === 0 : cidrContains(ic, c)) return true;
  }
  return false;
}

function inManaged(cidr: string, managed: readonly string[] | undefined): boolean {
  if (managed === undefined) return true;
  const c = parse(cidr);
  return c !== null && managed.some((m) => {
    const mc = parse(m);
    return mc !== null && cidrContains(mc, c);
  });
}

/** The IP a route validly points at now (ENI check, #40), or null. */
export function routeTargetIp(route: RouteView, instances: ReadonlyMap<string, InstanceView>): string | null {
  for (const inst of instances.values()) {
    if (route.eniId ? inst.eniId === route.eniId : route.instanceId !== undefined && inst.instanceId === route.instanceId) return inst.ip;
  }
  return null;
}

/** Tables to manage (#52/#53): associated with a router's subnet, or main when such a subnet has no explicit table. */
export function clusterTables(tables: readonly TableView[], routerSubnets: ReadonlySet<string>): { cluster: TableView[]; skipped: TableView[] } {
  const explicit = new Set(tables.flatMap((t) => t.subnetIds));
  const useMain = [...routerSubnets].some((s) => !explicit.has(s));
  const cluster: TableView[] = [];
  const skipped: TableView[] = [];
  for (const t of tables) {
    if (t.subnetIds.some((s) => routerSubnets.has(s)) || (t.main && useMain)) cluster.push(t);
    else skipped.push(t);
  }
  return { cluster, skipped };
}

export function planRoutes(input: PlanInput): PlanResult {
  const specCidrs = Object.keys(input.spec).filter((c) => !isIgnored(c, input.ignore));
  const routerSubnets = new Set<string>();
  for (const ip of new Set(Object.values(input.spec).flat())) {
    const inst = input.instances.get(ip);
    if (inst) routerSubnets.add(inst.subnetId);
  }
  const { cluster, skipped } = clusterTables([...input.tables].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), routerSubnets);

  // One choice per CIDR, shared by every table.
  const choice = new Map<string, string | null>();
  for (const c of specCidrs) {
    const eligible = input.spec[c]!.filter((ip) => input.instances.has(ip) && input.isHealthy(ip));
    const prev = input.previous?.get(c);
    let pick: string | null = null;
    if (prev !== undefined && eligible.includes(prev)) pick = prev;
    if (pick === null) {
      for (const t of cluster) {
        const r = t.routes.find((x) => normCidr(x.cidr) === c && (x.eniId || x.instanceId));
        const ip = r ? routeTargetIp(r, input.instances) : null;
        if (ip !== null && eligible.includes(ip)) {
          pick = ip;
          break;
        }
      }
    }
    if (pick === null && eligible.length > 0) pick = eligible[Math.min(eligible.length - 1, Math.floor(input.random() * eligible.length))]!;
    choice.set(c, pick);
  }

  const actions: RouteAction[] = [];
  const routeCounts: Record<string, number> = {};
  for (const t of cluster) {
    let count = t.routes.length;
    const present = new Set<string>();
    for (const r of t.routes) {
      const c = normCidr(r.cidr);
      if (isIgnored(c, input.ignore) || r.otherTarget || !(r.eniId || r.instanceId)) {
        present.add(c);
        continue;
      }
      present.add(c);
      if (!choice.has(c)) {
        if (inManaged(c, input.managed)) {
          actions.push({ op: 'delete', table: t.id, cidr: c, reason: 'not in the route spec' });
          count--;
        }
        continue;
      }
      const want = choice.get(c) ?? null;
      if (want === null) continue; // no eligible router: leave the route
      const now = routeTargetIp(r, input.instances);
      if (now === want) continue;
      const inst = input.instances.get(want)!;
      const reason =
        now === null
          ? `target ${r.eniId ?? r.instanceId} is not the current instance of any router (replaced or gone)`
          : !input.spec[c]!.includes(now)
            ? `target ${now} is not a router of this group`
            : !input.isHealthy(now)
              ? `target ${now} failed its health check`
              : `target ${now} differs from the group's chosen router`;
      actions.push({ op: 'replace', table: t.id, cidr: c, ip: want, instanceId: inst.instanceId, eniId: inst.eniId, reason });
    }
    for (const c of specCidrs) {
      if (present.has(c)) continue;
      const want = choice.get(c) ?? null;
      if (want === null) continue;
      const inst = input.instances.get(want)!;
      actions.push({ op: 'create', table: t.id, cidr: c, ip: want, instanceId: inst.instanceId, eniId: inst.eniId, reason: 'missing' });
      count++;
    }
    routeCounts[t.id] = count;
  }
  return { actions, choice, clusterTables: cluster.map((t) => t.id), skippedTables: skipped.map((t) => t.id), routeCounts };
}
