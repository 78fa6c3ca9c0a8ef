/**
 * One iptables table (filter or nat) driven Felix-style (STYLE 1–2): the
 * caller says what the owned chains and the jumps from built-in chains
 * should be; `apply()` compares with what the kernel has and writes the
 * minimal delta in ONE `iptables-restore --noflush` call.
 *
 * Ownership: chains named `ROMANA-…` are ours; in built-in chains, rules
 * whose target is a `ROMANA-` chain are our jumps. Nothing else is read
 * for decisions or written, ever.
 *
 * Design:
 * - Read-back: `iptables-save -t <table>` parsed into, per chain, the
 *   sequence of rule hashes (the `romana:<hash>` comments). A rule without
 *   a hash gets a unique token, so in an owned chain it is replaced. The
 *   read-back is cached: it is redone on the first apply, after any failed
 *   write, and when `invalidate()` is called (the agent's periodic resync;
 *   a restarted agent starts with no cache and so reads). Between
 *   read-backs the cache is updated by replaying exactly the ops written.
 * - Owned chains: the desired hashes vs the actual ones go through the
 *   ruleset-diff kernel (src/kernels/pool.ts): insert/replace/delete by
 *   rule number. Missing chains are declared (`:NAME - [0:0]`; declaring an
 *   *existing* chain would flush it, so that is never done).
 * - Jumps: the desired jumps of a built-in chain must be its first rules,
 *   in order, once each. If they are not (missing, duplicated, or someone
 *   inserted above), owned jumps from the first mismatch on are deleted
 *   and the desired ones inserted at their positions — in the same atomic
 *   restore, so no packet sees the chain without them.
 * - Deletion (owned chains and jumps no longer desired) happens only when
 *   the caller says the desired state is complete (`allowDeletes`, i.e.
 *   after the first full sync) — a restarted agent never removes what it
 *   has not yet recomputed. A stale chain still referenced from someone
 *   else's chain is left in place (deleting it would fail the restore).
 *
 * Concurrency rule: one apply at a time per instance (the agent's loop is
 * the only caller); setDesired does no I/O.
 */
import { withComment } from '../../core/firewall/restore.js';
import type { TableJump, TableSpec } from '../../core/agent/types.js';
import { CHAIN_PREFIX, type DesiredChain } from '../../core/firewall/types.js';
import { diffRules } from '../../kernels/pool.js';
import { RULE_OP } from '../../kernels/types.js';
import type { IptablesBackend } from './iptables_backend.js';
import { parseIptablesSave, type SavedTable } from './iptables_save.js';
import { DriverError, type Exec } from '../shims/exec.js';

export type { TableJump, TableSpec };

export interface IptablesApplyStats {
  /** True when iptables-restore ran. */
  wrote: boolean;
  /** True when the kernel state was read back first. */
  readBack: boolean;
  /** Lines of the restore payload (ops, declarations, flushes, deletes). */
  lines: number;
  bytes: number;
  rulesInserted: number;
  rulesReplaced: number;
  rulesDeleted: number;
  jumpsWritten: number;
  chainsCreated: number;
  chainsDeleted: number;
  /** Owned rules (chain rules + jumps) the table holds after the apply. */
  ownedRules: number;
}

interface Entry {
  /** Rule hash, or a unique token for a rule without one. */
  token: string;
  /** In a built-in chain: the rule jumps into an owned chain. */
  ownedJump: boolean;
}

interface Cache {
  /** chain -> its rules, for owned chains and built-in chains. */
  chains: Map<string, Entry[]>;
  /** Owned chains referenced from other software's user chains (never deleted). */
  foreignRefs: Set<string>;
}

const isOwned = (chain: string): boolean => chain.startsWith(CHAIN_PREFIX);

function emptyStats(): IptablesApplyStats {
  return { wrote: false, readBack: false, lines: 0, bytes: 0, rulesInserted: 0, rulesReplaced: 0, rulesDeleted: 0, jumpsWritten: 0, chainsCreated: 0, chainsDeleted: 0, ownedRules: 0 };
}

export class IptablesTable {
  private desired: TableSpec = { chains: [], jumps: [] };
  private cache: Cache | null = null;
  private unknownSeq = 0;

  constructor(
    readonly table: 'filter' | 'nat' | 'mangle' | 'raw',
    private readonly backend: IptablesBackend,
    private readonly exec: Exec,
  ) {}

  setDesired(spec: TableSpec): void {
    for (const c of spec.chains) if (!isOwned(c.name)) throw new Error(`Chain ${JSON.stringify(c.name)} is not owned (no ${CHAIN_PREFIX} prefix)`);
    for (const j of spec.jumps) if (isOwned(j.from) || !isOwned(j.to)) throw new Error(`Jump ${j.from} -> ${j.to} must go from a built-in chain to an owned one`);
    this.desired = spec;
  }

  /** Forget the cached kernel state: the next apply reads it back. */
  invalidate(): void {
    this.cache = null;
  }

  async apply(opts: { allowDeletes: boolean }): Promise<IptablesApplyStats> {
    const stats = emptyStats();
    if (this.cache === null) {
      this.cache = await this.readBack();
      stats.readBack = true;
    }
    const cache = this.cache;
    const decls: string[] = [];
    const ops: string[] = [];
    const tail: string[] = [];
    /** Replays of the written ops on the cache, run only once the write succeeded. */
    const commits: Array<() => void> = [];

    // 1. Owned chains: create missing ones, diff existing ones.
    const desiredNames = new Set(this.desired.chains.map((c) => c.name));
    for (const chain of this.desired.chains) {
      const actual = cache.chains.get(chain.name);
      if (actual === undefined) {
        decls.push(`:${chain.name} - [0:0]`);
        stats.chainsCreated++;
        for (const r of chain.rules) ops.push(`-A ${chain.name} ${withComment(r.spec, r.hash)}`);
        stats.rulesInserted += chain.rules.length;
        commits.push(() => cache.chains.set(chain.name, chain.rules.map((r) => ({ token: r.hash, ownedJump: false }))));
        continue;
      }
      await this.diffChain(chain, actual, ops, stats, commits);
    }

    // 2. Jumps from built-in chains, kept at the top.
    const jumpsByChain = new Map<string, TableJump[]>();
    for (const j of this.desired.jumps) {
      let list = jumpsByChain.get(j.from);
      if (!list) jumpsByChain.set(j.from, (list = []));
      list.push(j);
    }
    for (const [name, entries] of cache.chains) {
      if (!isOwned(name) && !jumpsByChain.has(name) && entries.some((e) => e.ownedJump)) jumpsByChain.set(name, []);
    }
    for (const [from, jumps] of jumpsByChain) this.placeJumps(from, jumps, cache, ops, stats, commits, opts.allowDeletes);

    // 3. Owned chains no longer desired: flush all, then delete all (after the ops that drop references to them).
    if (opts.allowDeletes) {
      const stale = [...cache.chains.keys()].filter((n) => isOwned(n) && !desiredNames.has(n) && !cache.foreignRefs.has(n));
      for (const n of stale) tail.push(`-F ${n}`);
      for (const n of stale) tail.push(`-X ${n}`);
      stats.chainsDeleted = stale.length;
      if (stale.length > 0) commits.push(() => stale.forEach((n) => cache.chains.delete(n)));
    }

    stats.ownedRules = this.desired.chains.reduce((s, c) => s + c.rules.length, 0) + this.desired.jumps.length;
    const body = [...decls, ...ops, ...tail];
    if (body.length === 0) return stats;
    const payload = `*${this.table}\n${body.join('\n')}\nCOMMIT\n`;
    stats.lines = body.length;
    stats.bytes = Buffer.byteLength(payload);
    let r;
    try {
      r = await this.exec.run(this.backend.restore, ['--noflush', '-w', '5'], { input: payload });
    } catch (e) {
      this.cache = null;
      throw new DriverError('iptables', `Cannot run ${this.backend.restore}: ${(e as Error).message}`, this.backend.restore, '');
    }
    if (r.code !== 0) {
      // The kernel state is whatever it was (restore is atomic per table), but re-read to be sure.
      this.cache = null;
      throw new DriverError('iptables', `${this.backend.restore} --noflush (table ${this.table}) failed: ${describeRestoreError(r.stderr, body)}`, `${this.backend.restore} --noflush`, r.stderr);
    }
    for (const c of commits) c();
    stats.wrote = true;
    return stats;
  }

  private async readBack(): Promise<Cache> {
    const r = await this.exec.run(this.backend.save, ['-t', this.table]);
    if (r.code !== 0) throw new DriverError('iptables', `${this.backend.save} -t ${this.table} failed: ${r.stderr.trim()}`, `${this.backend.save} -t ${this.table}`, r.stderr);
    const t: SavedTable | undefined = parseIptablesSave(r.stdout).get(this.table);
    const cache: Cache = { chains: new Map(), foreignRefs: new Set() };
    if (!t) return cache;
    for (const c of t.chains.values()) {
      const owned = isOwned(c.name);
      const builtin = c.policy !== '-';
      if (owned || builtin) {
        cache.chains.set(
          c.name,
          c.rules.map((r) => ({ token: r.hash ?? `\0unhashed:${this.unknownSeq++}`, ownedJump: !owned && r.target !== null && isOwned(r.target) })),
        );
      } else {
        for (const r of c.rules) if (r.target !== null && isOwned(r.target)) cache.foreignRefs.add(r.target);
      }
    }
    return cache;
  }

  private async diffChain(chain: DesiredChain, actual: Entry[], ops: string[], stats: IptablesApplyStats, commits: Array<() => void>): Promise<void> {
    // Fast path: unchanged chains (the common case on every apply) cost one compare.
    if (actual.length === chain.rules.length && actual.every((e, i) => e.token === chain.rules[i]!.hash)) return;
    const ids = new Map<string, number>();
    const intern = (t: string): number => {
      let id = ids.get(t);
      if (id === undefined) ids.set(t, (id = ids.size));
      return id;
    };
    const desiredIds = Uint32Array.from(chain.rules, (r) => intern(r.hash));
    const actualIds = Uint32Array.from(actual, (e) => intern(e.token));
    const byId = new Map<number, number>();
    chain.rules.forEach((r, i) => byId.set(desiredIds[i]!, i));
    const diff = await diffRules(actualIds, desiredIds);
    for (let k = 0; k < diff.ops.length; k += 3) {
      const kind = diff.ops[k]!;
      const pos = diff.ops[k + 1]!;
      if (kind === RULE_OP.DELETE) {
        ops.push(`-D ${chain.name} ${pos}`);
        stats.rulesDeleted++;
        continue;
      }
      const rule = chain.rules[byId.get(diff.ops[k + 2]!)!]!;
      ops.push(`${kind === RULE_OP.INSERT ? '-I' : '-R'} ${chain.name} ${pos} ${withComment(rule.spec, rule.hash)}`);
      if (kind === RULE_OP.INSERT) stats.rulesInserted++;
      else stats.rulesReplaced++;
    }
    commits.push(() => {
      actual.length = 0;
      for (const r of chain.rules) actual.push({ token: r.hash, ownedJump: false });
    });
  }

  private placeJumps(
    from: string,
    jumps: readonly TableJump[],
    cache: Cache,
    ops: string[],
    stats: IptablesApplyStats,
    commits: Array<() => void>,
    allowDeletes: boolean,
  ): void {
    const entries = cache.chains.get(from) ?? [];
    const wanted = new Set(jumps.map((j) => j.hash));
    // Longest prefix already right.
    let p = 0;
    while (p < jumps.length && p < entries.length && entries[p]!.ownedJump && entries[p]!.token === jumps[p]!.hash) p++;
    // Below it: owned jumps that must go (desired ones out of place or duplicated; stale ones once deletes are allowed).
    const doomed: number[] = [];
    for (let i = p; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.ownedJump && (wanted.has(e.token) || allowDeletes)) doomed.push(i);
    }
    if (p === jumps.length && doomed.length === 0) return;
    // Delete bottom-up so earlier rule numbers stay valid, then insert the missing tail of the jump list.
    for (let k = doomed.length - 1; k >= 0; k--) ops.push(`-D ${from} ${doomed[k]! + 1}`);
    for (let i = p; i < jumps.length; i++) {
      const j = jumps[i]!;
      ops.push(`-I ${from} ${i + 1} ${withComment(`${j.match} -j ${j.to}`.trim(), j.hash)}`);
    }
    stats.jumpsWritten += doomed.length + (jumps.length - p);
    commits.push(() => {
      const kept = entries.filter((_, i) => !doomed.includes(i));
      const next = [...kept.slice(0, p), ...jumps.slice(p).map((j) => ({ token: j.hash, ownedJump: true })), ...kept.slice(p)];
      cache.chains.set(from, next);
    });
  }
}

/** iptables-restore names the failing line ("line 12 failed"): quote it. */
function describeRestoreError(stderr: string, body: readonly string[]): string {
  const text = stderr.trim();
  const m = /line:? (\d+) failed/i.exec(text) ?? /line (\d+)/i.exec(text);
  if (m) {
    const n = Number(m[1]);
    // Line 1 is "*table"; body line i is payload line i + 2.
    const line = body[n - 2];
    if (line !== undefined) return `${text} (payload line ${n}: ${JSON.stringify(line.length > 300 ? `${line.slice(0, 300)}…` : line)})`;
  }
  return text;
}
