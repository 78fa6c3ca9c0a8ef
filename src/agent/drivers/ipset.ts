/**
 * Owned ipsets (`romana-…`), driven Felix-style: the caller gives the sets
 * that should exist with their members; the driver writes the difference.
 *
 * Design:
 * - Read-back: `ipset save` parsed for owned sets only (type + members),
 *   cached like the iptables driver's (redone on the first apply, after a
 *   failure, and on `invalidate()`); successful writes update the cache.
 * - `applyUpdates()` (before iptables, so every set a rule will name
 *   exists): a missing set is created and filled; a set whose members
 *   differ is rebuilt into a temporary set and `ipset swap`ped into place,
 *   then the temporary is destroyed — the live set (and every rule that
 *   names it) never sees a half-filled state and is never unreferenced. A
 *   small change to a big set (fewer changed members than half the set) is
 *   written as in-place `add`/`del` instead: each is atomic, and rebuilding
 *   thousands of members for one pod would dominate a one-pod change.
 *   All of it is one `ipset -exist restore` call.
 * - `applyDeletes()` (after iptables no longer references them): owned
 *   sets no longer desired — including temporaries left by a crash — are
 *   destroyed, only when deletes are allowed (after the first full sync).
 *   A set still in use by someone else's rule is left, with a warning.
 * - Members are normalised as the kernel prints them (a /32 in a hash:net
 *   set prints as the bare address).
 *
 * Concurrency rule: one apply at a time; setDesired does no I/O.
 */
import { createHash } from 'node:crypto';
import { IPSET_PREFIX, type DesiredIpset } from '../../core/firewall/types.js';
import { DriverError, type Exec } from '../shims/exec.js';

/** Temporary sets for swaps: `romana-tmp-` + 20 hex = 31 characters, the kernel's limit. */
export const TEMP_PREFIX = `${IPSET_PREFIX}tmp-`;
const MIN_MAXELEM = 65536;

export interface IpsetApplyStats {
  wrote: boolean;
  readBack: boolean;
  setsCreated: number;
  setsSwapped: number;
  setsDestroyed: number;
  /** Members written (adds to new/temp sets, in-place adds and dels). */
  membersWritten: number;
  lines: number;
  bytes: number;
}

interface KnownSet {
  type: string;
  members: Set<string>;
}

/**
 * Initial hash buckets for a set of `n` members. The kernel's default (1024)
 * costs ~0.25 ms per created set here (2,000 sets: 530 ms against 125 ms at
 * 64); the kernel grows a set that fills up, so start small.
 */
export function hashSize(n: number): number {
  let h = 64;
  while (h * 8 < n && h < 65536) h *= 2;
  return h;
}

function emptyStats(): IpsetApplyStats {
  return { wrote: false, readBack: false, setsCreated: 0, setsSwapped: 0, setsDestroyed: 0, membersWritten: 0, lines: 0, bytes: 0 };
}

export function tempName(name: string): string {
  return `${TEMP_PREFIX}${createHash('sha256').update(name).digest('hex').slice(0, 20)}`;
}

/** A member as `ipset save` prints it. */
export function normalizeMember(type: string, m: string): string {
  return type === 'hash:net' && m.endsWith('/32') ? m.slice(0, -3) : m;
}

/** Owned sets of an `ipset save` document. */
export function parseIpsetSave(text: string): Map<string, KnownSet> {
  const sets = new Map<string, KnownSet>();
  for (const line of text.split('\n')) {
    if (line.startsWith('create ')) {
      const [, name, type] = line.split(' ');
      if (name?.startsWith(IPSET_PREFIX) && type) sets.set(name, { type, members: new Set() });
    } else if (line.startsWith('add ')) {
      const [, name, member] = line.split(' ');
      const s = name === undefined ? undefined : sets.get(name);
      if (s && member) s.members.add(member);
    }
  }
  return sets;
}

export class IpsetDriver {
  private desired = new Map<string, DesiredIpset>();
  private cache: Map<string, KnownSet> | null = null;

  constructor(private readonly exec: Exec) {}

  setDesired(sets: readonly DesiredIpset[]): void {
    const m = new Map<string, DesiredIpset>();
    for (const s of sets) {
      if (!s.name.startsWith(IPSET_PREFIX) || s.name.startsWith(TEMP_PREFIX)) throw new Error(`Ipset ${JSON.stringify(s.name)} is not an owned set name`);
      if (s.name.length > 31) throw new Error(`Ipset name ${JSON.stringify(s.name)} exceeds 31 characters`);
      m.set(s.name, s);
    }
    this.desired = m;
  }

  invalidate(): void {
    this.cache = null;
  }

  private async load(stats: IpsetApplyStats): Promise<Map<string, KnownSet>> {
    if (this.cache === null) {
      const r = await this.exec.run('ipset', ['save']);
      if (r.code !== 0) throw new DriverError('ipset', `"ipset save" failed: ${r.stderr.trim()}`, 'ipset save', r.stderr);
      this.cache = parseIpsetSave(r.stdout);
      stats.readBack = true;
    }
    return this.cache;
  }

  /** Creates missing sets and brings members up to date. */
  async applyUpdates(): Promise<IpsetApplyStats> {
    const stats = emptyStats();
    const cache = await this.load(stats);
    const lines: string[] = [];
    const commits: Array<() => void> = [];
    for (const set of this.desired.values()) {
      const want = set.members.map((m) => normalizeMember(set.type, m));
      const wantSet = new Set(want);
      const have = cache.get(set.name);
      const maxelem = Math.max(MIN_MAXELEM, 2 * wantSet.size);
      const header = (name: string): string => `create ${name} ${set.type} family inet hashsize ${hashSize(wantSet.size)} maxelem ${maxelem}`;
      if (!have) {
        lines.push(header(set.name));
        for (const m of wantSet) lines.push(`add ${set.name} ${m}`);
        stats.setsCreated++;
        stats.membersWritten += wantSet.size;
        commits.push(() => cache.set(set.name, { type: set.type, members: wantSet }));
        continue;
      }
      if (have.type !== set.type) {
        // swap needs compatible sets, and a referenced set cannot be destroyed: the renderer names sets by meaning, so this is a bug or a foreign set.
        throw new DriverError('ipset', `Ipset ${JSON.stringify(set.name)} exists as ${have.type} but should be ${set.type}: destroy it by hand`, 'ipset', '');
      }
      const adds = [...wantSet].filter((m) => !have.members.has(m));
      const dels = [...have.members].filter((m) => !wantSet.has(m));
      if (adds.length === 0 && dels.length === 0) continue;
      if (adds.length + dels.length < Math.max(have.members.size, wantSet.size) / 2) {
        for (const m of dels) lines.push(`del ${set.name} ${m}`);
        for (const m of adds) lines.push(`add ${set.name} ${m}`);
        stats.membersWritten += adds.length + dels.length;
      } else {
        const tmp = tempName(set.name);
        if (cache.has(tmp)) lines.push(`destroy ${tmp}`);
        lines.push(header(tmp));
        for (const m of wantSet) lines.push(`add ${tmp} ${m}`);
        lines.push(`swap ${tmp} ${set.name}`, `destroy ${tmp}`);
        stats.setsSwapped++;
        stats.membersWritten += wantSet.size;
        commits.push(() => cache.delete(tmp));
      }
      commits.push(() => cache.set(set.name, { type: set.type, members: wantSet }));
    }
    if (lines.length === 0) return stats;
    await this.restore(lines, stats);
    for (const c of commits) c();
    return stats;
  }

  /** Destroys owned sets that are not desired (call after iptables stopped referencing them). */
  async applyDeletes(opts: { allowDeletes: boolean }, warn?: (msg: string, set: string) => void): Promise<IpsetApplyStats> {
    const stats = emptyStats();
    if (!opts.allowDeletes) return stats;
    const cache = await this.load(stats);
    const stale = [...cache.keys()].filter((n) => !this.desired.has(n));
    if (stale.length === 0) return stats;
    try {
      await this.restore(stale.map((n) => `destroy ${n}`), stats);
      for (const n of stale) cache.delete(n);
      stats.setsDestroyed = stale.length;
      return stats;
    } catch {
      // One of them is in use (someone else's rule names it): find which, destroy the rest.
    }
    this.cache = null;
    for (const n of stale) {
      const r = await this.exec.run('ipset', ['destroy', n]);
      // "does not exist": the failed restore destroyed it before stopping at the set in use.
      if (r.code === 0 || /does not exist/i.test(r.stderr)) stats.setsDestroyed++;
      else if (/in use/i.test(r.stderr)) warn?.(`ipset ${n} is no longer desired but cannot be destroyed: ${r.stderr.trim()}`, n);
      else throw new DriverError('ipset', `"ipset destroy ${n}" failed: ${r.stderr.trim()}`, `ipset destroy ${n}`, r.stderr);
    }
    stats.wrote = true;
    return stats;
  }

  private async restore(lines: string[], stats: IpsetApplyStats): Promise<void> {
    const payload = `${lines.join('\n')}\n`;
    stats.lines += lines.length;
    stats.bytes += Buffer.byteLength(payload);
    let r;
    try {
      // -exist: an add of a member that is there, or a del of one that is not, is not an error (the cache may lag a foreign edit).
      r = await this.exec.run('ipset', ['-exist', 'restore'], { input: payload });
    } catch (e) {
      this.cache = null;
      throw new DriverError('ipset', `Cannot run "ipset restore": ${(e as Error).message}`, 'ipset restore', '');
    }
    if (r.code !== 0) {
      // ipset restore stops at the failing line with the earlier ones applied: re-read before the next attempt.
      this.cache = null;
      const m = /line (\d+)/i.exec(r.stderr);
      const at = m ? ` (payload line ${m[1]}: ${JSON.stringify(lines[Number(m[1]) - 1] ?? '')})` : '';
      throw new DriverError('ipset', `"ipset restore" failed: ${r.stderr.trim()}${at}`, 'ipset restore', r.stderr);
    }
    stats.wrote = true;
  }
}
