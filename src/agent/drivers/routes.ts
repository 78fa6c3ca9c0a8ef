/**
 * Routes in the agent's own routing table, marked with its own protocol
 * number (STYLE 2): other hosts' blocks via those hosts, and `throw` routes
 * for this host's own blocks (so that a remote aggregate never captures a
 * local pod: the lookup falls through to `main`, where the CNI plugin's
 * per-pod `/32 dev <veth>` routes live).
 *
 * Design:
 * - Read-back: `ip -N -4 -j route show table T` (numeric, so the protocol
 *   reads as a number whatever /etc/iproute2/rt_protos says); only routes
 *   whose protocol is ours are considered, so routes someone else put in
 *   the table are never changed or removed. Cached between applies like the
 *   other drivers' read-backs (re-read on failure and on `invalidate()`).
 * - Write: only the delta, in ONE `ip -force -batch -` call: `route replace`
 *   for new or changed routes, `route del` for ours that are no longer
 *   desired (only when deletes are allowed, i.e. after the first full
 *   sync). Replacing in place never leaves a window without a route (the
 *   original flushed the table and rebuilt it).
 * - `ip rule`: one rule `pref P lookup T`, added when no rule looks up T
 *   (idempotent; a rule the operator placed elsewhere is respected). P must
 *   be below main's 32766: remote blocks must win over main's default route.
 * - Next hops: `lookupNextHops` asks the kernel how each remote host is
 *   reached (`ip -j -batch -` of `route get`): directly on a link
 *   (L2-adjacent: the block is routed via the host itself) or through a
 *   gateway (then the block is routed via that gateway only with
 *   --multihop; otherwise skipped, as the original did, for the ToR/BGP
 *   publisher to carry).
 *
 * Concurrency rule: one apply at a time; setDesired does no I/O.
 */
import type { DesiredRoute } from '../../core/agent/types.js';
import { DriverError, type Exec } from '../shims/exec.js';

export type { DesiredRoute };

export interface RoutesDriverOptions {
  /** Routing table id (default 10). */
  table: number;
  /** Route protocol number marking our routes (default 88). */
  proto: number;
  /** Priority of the `ip rule` that sends lookups to the table (default 32765). */
  rulePriority: number;
}

export interface RoutesApplyStats {
  wrote: boolean;
  readBack: boolean;
  added: number;
  replaced: number;
  deleted: number;
  ruleAdded: boolean;
  /** Owned routes in the table after the apply. */
  routes: number;
}

export interface NextHopInfo {
  /** Gateway used to reach the host, or null when it is on a directly connected link. */
  gateway: string | null;
  dev: string | null;
  /** True when the address is one of this host's own. */
  local: boolean;
}

interface RouteJson {
  type?: string;
  dst?: string;
  gateway?: string;
  dev?: string;
  protocol?: string | number;
}

const key = (r: DesiredRoute): string => (r.via === undefined ? `throw` : `via ${r.via}`);

export class RoutesDriver {
  private desired = new Map<string, DesiredRoute>();
  private cache: Map<string, DesiredRoute> | null = null;
  private ruleChecked = false;

  constructor(
    private readonly exec: Exec,
    private readonly opts: RoutesDriverOptions,
  ) {}

  setDesired(routes: readonly DesiredRoute[]): void {
    const m = new Map<string, DesiredRoute>();
    for (const r of routes) m.set(r.dst, r);
    this.desired = m;
  }

  invalidate(): void {
    this.cache = null;
    this.ruleChecked = false;
  }

  async apply(o: { allowDeletes: boolean }): Promise<RoutesApplyStats> {
    const stats: RoutesApplyStats = { wrote: false, readBack: false, added: 0, replaced: 0, deleted: 0, ruleAdded: false, routes: 0 };
    const { table, proto } = this.opts;
    const lines: string[] = [];
    if (!this.ruleChecked) {
      if (!(await this.hasRule())) {
        lines.push(`rule add pref ${this.opts.rulePriority} lookup ${table}`);
        stats.ruleAdded = true;
      }
    }
    if (this.cache === null) {
      this.cache = await this.readBack();
      stats.readBack = true;
    }
    const cache = this.cache;
    for (const r of this.desired.values()) {
      const have = cache.get(r.dst);
      if (have && key(have) === key(r)) continue;
      lines.push(r.via === undefined ? `route replace throw ${r.dst} table ${table} proto ${proto}` : `route replace ${r.dst} via ${r.via} table ${table} proto ${proto}`);
      if (have) stats.replaced++;
      else stats.added++;
    }
    const stale = o.allowDeletes ? [...cache.values()].filter((r) => !this.desired.has(r.dst)) : [];
    for (const r of stale) {
      lines.push(r.via === undefined ? `route del throw ${r.dst} table ${table} proto ${proto}` : `route del ${r.dst} table ${table} proto ${proto}`);
      stats.deleted++;
    }
    stats.routes = o.allowDeletes ? this.desired.size : new Set([...cache.keys(), ...this.desired.keys()]).size;
    if (lines.length === 0) {
      this.ruleChecked = true;
      return stats;
    }
    let r;
    try {
      r = await this.exec.run('ip', ['-force', '-batch', '-'], { input: `${lines.join('\n')}\n` });
    } catch (e) {
      this.invalidate();
      throw new DriverError('routes', `Cannot run "ip -batch": ${(e as Error).message}`, 'ip -force -batch -', '');
    }
    if (r.code !== 0) {
      // -force ran every line; some failed. Re-read before trying again.
      this.invalidate();
      throw new DriverError('routes', `"ip -batch" failed: ${r.stderr.trim()}`, 'ip -force -batch -', r.stderr);
    }
    this.ruleChecked = true;
    for (const d of this.desired.values()) cache.set(d.dst, d);
    for (const s of stale) cache.delete(s.dst);
    stats.wrote = true;
    return stats;
  }

  /** How each address is reached from here (one `ip -batch` of `route get`s). */
  async lookupNextHops(addresses: readonly string[]): Promise<Map<string, NextHopInfo>> {
    const out = new Map<string, NextHopInfo>();
    if (addresses.length === 0) return out;
    const r = await this.exec.run('ip', ['-j', '-force', '-batch', '-'], { input: `${addresses.map((a) => `route get ${a}`).join('\n')}\n` });
    // One JSON array per line, in order; an unreachable address prints an error instead (stderr) and no line.
    for (const line of r.stdout.split('\n')) {
      if (!line.startsWith('[')) continue;
      let arr: Array<RouteJson & { type?: string }>;
      try {
        arr = JSON.parse(line) as Array<RouteJson & { type?: string }>;
      } catch {
        continue;
      }
      const e = arr[0];
      if (!e?.dst) continue;
      out.set(e.dst, { gateway: e.gateway ?? null, dev: e.dev ?? null, local: e.type === 'local' });
    }
    return out;
  }

  private async hasRule(): Promise<boolean> {
    const r = await this.exec.run('ip', ['-N', '-4', '-j', 'rule', 'show']);
    if (r.code !== 0) throw new DriverError('routes', `"ip rule show" failed: ${r.stderr.trim()}`, 'ip -4 rule show', r.stderr);
    const rules = JSON.parse(r.stdout || '[]') as Array<{ table?: string | number }>;
    return rules.some((x) => String(x.table) === String(this.opts.table));
  }

  private async readBack(): Promise<Map<string, DesiredRoute>> {
    const r = await this.exec.run('ip', ['-N', '-4', '-j', 'route', 'show', 'table', String(this.opts.table)]);
    const m = new Map<string, DesiredRoute>();
    // An empty table that was never created reads as an error on some kernels: treat it as empty.
    if (r.code !== 0) {
      if (/does not exist|No such|FIB table/i.test(r.stderr) || r.stdout.trim() === '') return m;
      throw new DriverError('routes', `"ip route show table ${this.opts.table}" failed: ${r.stderr.trim()}`, 'ip route show', r.stderr);
    }
    const routes = JSON.parse(r.stdout || '[]') as RouteJson[];
    for (const x of routes) {
      if (String(x.protocol) !== String(this.opts.proto) || !x.dst) continue;
      const dst = x.dst.includes('/') ? x.dst : `${x.dst}/32`;
      // -N prints the route type as a number too: RTN_THROW is 9.
      if (x.type === 'throw' || x.type === '9') m.set(dst, { dst });
      else if (x.gateway) m.set(dst, { dst, via: x.gateway });
      else m.set(dst, { dst, via: '' }); // ours but of a shape we never write: replace it
    }
    return m;
  }
}
