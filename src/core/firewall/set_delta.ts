/**
 * Cluster-wide ipsets kept up to date one member at a time, and the member
 * deltas collected over one change (FirewallCluster, cluster.ts).
 *
 * Design: a set's DesiredIpset is handed to every node that renders it, so
 * it is never mutated. The set keeps its sorted addresses and their texts
 * in arrays of its own, changed in place (a binary search and a memmove:
 * microseconds at 30,000 members), and makes the DesiredIpset, a copy, only
 * when a render asks for the set after a change: copying a large array
 * costs far more than the change (and lands in the old generation), while
 * nodes that only need the change get the delta. Earlier renders keep the
 * members they were given. hash:ip sets count pods per address, since two
 * pods may (briefly) share one. Pure.
 */
import { formatIPv4 } from '../ip.js';
import type { DesiredIpset } from './types.js';

/** A cluster-wide hash:ip set: address → pods holding it, and the members sorted numerically. */
export class CountedAddresses {
  private readonly counts = new Map<number, number>();
  /** Sorted distinct addresses. */
  private readonly keys: number[] = [];
  /** Their texts, parallel to `keys`. */
  private readonly texts: string[] = [];
  /** The members as last handed out; null after a change until asked for again. */
  private current: DesiredIpset | null = null;

  constructor(
    readonly name: string,
    ips: Iterable<number>,
  ) {
    for (const ip of ips) this.counts.set(ip, (this.counts.get(ip) ?? 0) + 1);
    const sorted = Uint32Array.from(this.counts.keys()).sort();
    for (let i = 0; i < sorted.length; i++) {
      this.keys.push(sorted[i]!);
      this.texts.push(formatIPv4(sorted[i]!));
    }
  }

  get set(): DesiredIpset {
    if (!this.current) this.current = { name: this.name, type: 'hash:ip', members: this.texts.slice() };
    return this.current;
  }

  /** Counts a pod at `ip`; the member text when the address is new to the set. */
  add(ip: number): string | null {
    const n = this.counts.get(ip) ?? 0;
    this.counts.set(ip, n + 1);
    if (n > 0) return null;
    const i = lowerBound(this.keys, ip);
    const text = formatIPv4(ip);
    this.keys.splice(i, 0, ip);
    this.texts.splice(i, 0, text);
    this.current = null;
    return text;
  }

  /** Uncounts a pod at `ip`; the member text when no pod holds the address any more. */
  remove(ip: number): string | null {
    const n = this.counts.get(ip) ?? 0;
    if (n === 0) return null;
    if (n > 1) {
      this.counts.set(ip, n - 1);
      return null;
    }
    this.counts.delete(ip);
    const i = lowerBound(this.keys, ip);
    this.keys.splice(i, 1);
    const [text] = this.texts.splice(i, 1);
    this.current = null;
    return text!;
  }
}

function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Members added to and removed from one cluster-wide set by a change. */
export interface IpsetDelta {
  readonly name: string;
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** Collects member changes per set; an add and a remove of one member within one change cancel out. */
export class DeltaCollector {
  private readonly bySet = new Map<string, { added: Set<string>; removed: Set<string> }>();

  private entry(name: string): { added: Set<string>; removed: Set<string> } {
    let e = this.bySet.get(name);
    if (!e) this.bySet.set(name, (e = { added: new Set(), removed: new Set() }));
    return e;
  }

  added(name: string, member: string): void {
    const e = this.entry(name);
    if (!e.removed.delete(member)) e.added.add(member);
  }

  removed(name: string, member: string): void {
    const e = this.entry(name);
    if (!e.added.delete(member)) e.removed.add(member);
  }

  /** Whole-set replacement (sets recomputed rather than maintained): the difference of two member lists. */
  replaced(name: string, before: readonly string[], after: readonly string[]): void {
    const old = new Set(before);
    const now = new Set(after);
    for (const m of after) if (!old.has(m)) this.added(name, m);
    for (const m of before) if (!now.has(m)) this.removed(name, m);
  }

  /** Non-empty deltas, by set name. */
  deltas(): IpsetDelta[] {
    const out: IpsetDelta[] = [];
    for (const [name, e] of [...this.bySet].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      if (e.added.size > 0 || e.removed.size > 0) out.push({ name, added: [...e.added], removed: [...e.removed] });
    }
    return out;
  }
}
