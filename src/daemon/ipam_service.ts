/**
 * IpamService: the daemon's persistent IPAM authority (DESIGN §2, §3).
 *
 * Goal: the pure planners of src/core/ipam, made durable and safe for
 * several daemon replicas or processes sharing one store — per-record
 * compare-and-swap, never a whole-state document, never a global lock
 * (reference §12 items 1–2).
 *
 * Design:
 * - Cache: an IpamState loaded from one range() snapshot of the IPAM keys
 *   (topology, hosts/, blocks/, addresses/, reservations/), then kept
 *   current by a watch from the snapshot's revision (other replicas'
 *   commits, and echoes of our own, which the state skips as stale).
 * - Operation: plan with the pure planner against the cache → one store txn
 *   whose compares are every Change's `expect` (modRevision; 0 = must not
 *   exist; `check` changes are compare-only) → on success apply the very same
 *   Change objects to the cache at the txn's revision (the planners' hints
 *   ride on them). On conflict: re-read the plan's keys with get() into the
 *   cache, and plan again — immediately the first time, then after a random
 *   "full jitter" pause (0..min(CAP, BASE·2^n) ms) so that replicas racing
 *   for the same block spread out; at most `maxAttempts` attempts, then
 *   CONFLICT.
 * - In-process concurrency: planning is synchronous, so it is serialised by
 *   the event loop itself (that is the "mutex"); commits of one process may
 *   overlap when they touch different records. Every key a commit writes or
 *   checks is registered as in flight; a new plan that would write a key in
 *   flight, or check a key being written, waits for that commit and plans
 *   again on the updated cache. So one process never races itself into
 *   conflicts (16 allocations for one host queue on their block, allocations
 *   for different hosts proceed in parallel), while across processes the
 *   compares do the work.
 * - Failure of the watch (compacted history, fell behind, store down) marks
 *   the cache stale; the next operation reloads it (range + new watch). A
 *   record that fails to decode (codec.ts) makes loading — and so every
 *   operation — fail with STORE_CORRUPT naming the key: the IPAM never plans
 *   around records it cannot read, since it could then hand out their
 *   addresses twice.
 * - etcd limits a txn to 128 operations (--max-txn-ops); removeHost of a host
 *   with more addresses than fit first releases its addresses one by one
 *   (each release its own CAS txn), then removes the host.
 *
 * Concurrency rule: one IpamService per process and store prefix; all
 * methods may be called concurrently. The cache is only mutated
 * synchronously (apply after commit, watch events, reload swap).
 */
import { RomanaError } from '../core/errors.js';
import {
  addressKey,
  applyChanges,
  applyStoreEvent,
  hostKey,
  IpamState,
  listAddresses,
  listBlocks,
  listHosts,
  planAddHost,
  planAllocate,
  planRelease,
  planRemoveHost,
  planReserve,
  planTopologyChange,
  planUnreserve,
  planUpdateHostLabels,
  TOPOLOGY_KEY,
  utilisation,
  type AddHostRequest,
  type AddressFilter,
  type AddressRecord,
  type Allocation,
  type AllocateRequest,
  type BlockFilter,
  type BlockView,
  type Change,
  type HostRecord,
  type HostView,
  type IpamRecord,
  type RecordEntry,
  type ReservationRecord,
  type TopologyDiff,
  type TopologyRecord,
  type Utilisation,
} from '../core/ipam/index.js';
import { carveTopology } from '../core/topology/index.js';
import type { CarvedTopology, TopologyInput } from '../core/topology/types.js';
import { decodeIpamRecord, encodeRecord, ipamKindOf } from '../store/codec.js';
import { MAX_TXN_OPS, type Compare, type Store, type TxnOp, type Watch, type WatchEvent } from '../store/store.js';

/** Jitter ceiling grows BASE·2^n ms up to CAP ms (n = conflicts so far). */
const BACKOFF_BASE_MS = 1;
const BACKOFF_CAP_MS = 50;
export const DEFAULT_MAX_ATTEMPTS = 50;

export interface IpamServiceOptions {
  /** Attempts per operation before giving up with CONFLICT (default 50). */
  maxAttempts?: number;
  /** Random source in [0, 1) for the jitter (tests may fix it). */
  random?: () => number;
}

/** What a plan returns: the changes to commit and the caller's result. */
interface Planned<T> {
  changes: Change[];
  result: T;
}

export interface IpamStats {
  /** Operations committed (plans with changes). */
  commits: number;
  /** Transactions that failed their compares and were re-planned. */
  conflicts: number;
  /** Plans that waited for an overlapping commit of this process. */
  waits: number;
  /** Full reloads of the cache after the first. */
  reloads: number;
}

export class IpamService {
  private state: IpamState = IpamState.fromRecords({ networks: [] }, []);
  private watch: Watch | undefined;
  /** Why the cache can no longer be trusted (watch failure, undecodable event); reload before use. */
  private broken: Error | undefined;
  private reloading: Promise<void> | undefined;
  /** Generation of the cache: watch callbacks of an older generation are ignored. */
  private generation = 0;
  private closed = false;
  /** key -> settles when the in-flight commit writing it is done */
  private readonly writing = new Map<string, Promise<void>>();
  /** key -> in-flight commits that only compare it */
  private readonly checking = new Map<string, Set<Promise<void>>>();
  private readonly maxAttempts: number;
  private readonly random: () => number;
  readonly stats: IpamStats = { commits: 0, conflicts: 0, waits: 0, reloads: 0 };

  private constructor(readonly store: Store, opts: IpamServiceOptions) {
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    this.random = opts.random ?? Math.random;
  }

  /** Loads the cache from `store` and starts following it. STORE_CORRUPT when a record is unreadable. */
  static async open(store: Store, opts: IpamServiceOptions = {}): Promise<IpamService> {
    const s = new IpamService(store, opts);
    await s.load();
    return s;
  }

  // ---------- operations (each one CAS transaction, retried on conflict) ----------

  allocate(req: AllocateRequest): Promise<Allocation> {
    return this.run(`allocate "${req.name}"`, (st) => {
      const p = planAllocate(st, req);
      return { changes: p.changes, result: p.allocation };
    });
  }

  release(nameOrIp: string): Promise<AddressRecord> {
    return this.run(`release "${nameOrIp}"`, (st) => {
      const p = planRelease(st, nameOrIp);
      return { changes: p.changes, result: p.released };
    });
  }

  addHost(req: AddHostRequest): Promise<HostRecord> {
    return this.run(`add host "${req.name}"`, (st) => {
      const p = planAddHost(st, req);
      return { changes: p.changes, result: p.host };
    });
  }

  updateHostLabels(name: string, labels: Record<string, string>): Promise<HostRecord> {
    return this.run(`update labels of host "${name}"`, (st) => {
      const p = planUpdateHostLabels(st, name, labels);
      return { changes: p.changes, result: p.host };
    });
  }

  /** Removes the host, releasing its addresses and blocks; returns the released addresses. */
  async removeHost(name: string): Promise<AddressRecord[]> {
    const releasedFirst: AddressRecord[] = [];
    for (;;) {
      const out = await this.run<{ done: boolean; released: AddressRecord[] }>(`remove host "${name}"`, (st) => {
        const p = planRemoveHost(st, name);
        if (p.changes.length <= MAX_TXN_OPS) return { changes: p.changes, result: { done: true, released: p.released } };
        // Too big for one etcd txn: release addresses first (below), then try again.
        return { changes: [], result: { done: false, released: p.released } };
      });
      if (out.done) return [...releasedFirst, ...out.released];
      for (const a of out.released) {
        try {
          releasedFirst.push(await this.release(a.name));
        } catch (e) {
          // Released meanwhile by someone else: fine, the host is going anyway.
          if (!(e instanceof RomanaError && e.code === 'ADDRESS_NOT_FOUND')) throw e;
        }
      }
    }
  }

  reserve(network: string | undefined, cidr: string): Promise<ReservationRecord> {
    return this.run(`reserve "${cidr}"`, (st) => {
      const p = planReserve(st, network, cidr);
      return { changes: p.changes, result: p.reservation };
    });
  }

  unreserve(network: string | undefined, cidr: string): Promise<void> {
    return this.run(`unreserve "${cidr}"`, (st) => ({ changes: planUnreserve(st, network, cidr).changes, result: undefined }));
  }

  /** Replaces the topology keeping existing allocations (see planTopologyChange). */
  setTopology(input: TopologyInput, carved: CarvedTopology = carveTopology(input)): Promise<TopologyDiff> {
    return this.run('set topology', (st) => {
      const p = planTopologyChange(st, input, carved);
      return { changes: p.changes, result: p.diff };
    });
  }

  /** Dry run of setTopology against the cache. */
  async previewTopology(input: TopologyInput, carved: CarvedTopology = carveTopology(input)): Promise<TopologyDiff> {
    await this.ensureFresh();
    return planTopologyChange(this.state, input, carved).diff;
  }

  // ---------- views (from the cache: this replica's view, current up to the watch) ----------

  topology(): TopologyRecord | undefined {
    return this.state.topologyRecord?.value;
  }

  carvedTopology(): CarvedTopology {
    return this.state.topology;
  }

  blocks(filter?: BlockFilter): BlockView[] {
    return listBlocks(this.state, filter);
  }

  addresses(filter?: AddressFilter): AddressRecord[] {
    return listAddresses(this.state, filter);
  }

  hosts(): HostView[] {
    return listHosts(this.state);
  }

  host(name: string): HostRecord | undefined {
    return this.state.get(hostKey(name))?.value as HostRecord | undefined;
  }

  address(name: string): AddressRecord | undefined {
    return this.state.get(addressKey(name))?.value as AddressRecord | undefined;
  }

  utilisation(): Utilisation {
    return utilisation(this.state);
  }

  /** Highest store revision the cache reflects. */
  get revision(): number {
    return this.state.revision;
  }

  /** Every IPAM record of the cache with its revision. */
  records(): RecordEntry[] {
    return [...this.state.records()];
  }

  /** Re-reads everything from the store now (e.g. before answering a consistency check). */
  async resync(): Promise<void> {
    this.broken ??= new Error('resync requested');
    await this.ensureFresh();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.generation++;
    const w = this.watch;
    this.watch = undefined;
    await w?.close();
  }

  // ---------- the commit loop ----------

  private async run<T>(what: string, plan: (st: IpamState) => Planned<T>): Promise<T> {
    let conflicts = 0;
    for (;;) {
      await this.ensureFresh();
      const p = plan(this.state);
      if (p.changes.length === 0) return p.result;
      const written: string[] = [];
      const checked: string[] = [];
      for (const c of p.changes) (c.op === 'check' ? checked : written).push(c.key);
      const blockers = this.overlapping(written, checked);
      if (blockers.length > 0) {
        // Our own commit on these records is on its way: plan again once it has been applied.
        this.stats.waits++;
        await Promise.all(blockers);
        continue;
      }
      const compares: Compare[] = [];
      const ops: TxnOp[] = [];
      for (const c of p.changes) {
        if (c.expect !== undefined) compares.push({ key: c.key, modRevision: c.expect });
        if (c.op === 'put') ops.push({ op: 'put', key: c.key, value: encodeRecord(c.value) });
        else if (c.op === 'delete') ops.push({ op: 'delete', key: c.key });
      }
      const done = this.register(written, checked);
      let committed: { succeeded: boolean; revision: number };
      try {
        committed = await this.store.txn(compares, ops);
        if (committed.succeeded) {
          // Same Change objects as planned: applyChanges uses the planners' hints.
          applyChanges(this.state, p.changes, committed.revision);
          this.stats.commits++;
          return p.result;
        }
        this.stats.conflicts++;
        conflicts++;
        await this.refresh(p.changes.map((c) => c.key), committed.revision);
      } finally {
        done();
      }
      if (conflicts >= this.maxAttempts) {
        throw new RomanaError('CONFLICT', `Could not ${what}: the records kept changing concurrently (${conflicts} attempts); retry`, {
          details: { attempts: conflicts, keys: p.changes.map((c) => c.key) },
        });
      }
      if (conflicts > 1) {
        const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (conflicts - 1));
        await new Promise((r) => setTimeout(r, this.random() * ceiling));
      }
    }
  }

  /** In-flight commits a plan writing `written` and comparing `checked` must wait for. */
  private overlapping(written: string[], checked: string[]): Promise<void>[] {
    const out = new Set<Promise<void>>();
    for (const k of written) {
      const w = this.writing.get(k);
      if (w) out.add(w);
      for (const c of this.checking.get(k) ?? []) out.add(c);
    }
    for (const k of checked) {
      const w = this.writing.get(k);
      if (w) out.add(w);
    }
    return [...out];
  }

  /** Marks keys in flight; the returned function (called after apply or failure) clears them. */
  private register(written: string[], checked: string[]): () => void {
    let settle!: () => void;
    const p = new Promise<void>((r) => (settle = r));
    for (const k of written) this.writing.set(k, p);
    for (const k of checked) {
      let set = this.checking.get(k);
      if (!set) this.checking.set(k, (set = new Set()));
      set.add(p);
    }
    return () => {
      for (const k of written) if (this.writing.get(k) === p) this.writing.delete(k);
      for (const k of checked) {
        const set = this.checking.get(k);
        set?.delete(p);
        if (set && set.size === 0) this.checking.delete(k);
      }
      settle();
    };
  }

  /**
   * After a failed compare: reads the plan's keys into the cache so the next
   * plan starts from the store's values. An absent key is applied as a delete
   * at a revision no older than what the cache holds (its deletion happened
   * after what we held, or we would not have failed on it).
   */
  private async refresh(keys: string[], failedAt: number): Promise<void> {
    const gen = this.generation;
    const found = await Promise.all([...new Set(keys)].map(async (k) => [k, await this.store.get(k)] as const));
    if (gen !== this.generation) return; // the cache was replaced meanwhile: it is fresher than these reads
    for (const [key, kv] of found) {
      const held = this.state.get(key)?.revision ?? 0;
      this.applyOrBreak(() => [key, kv ? decodeIpamRecord(key, kv.value) : null, kv ? kv.modRevision : Math.max(failedAt, held)]);
    }
  }

  // ---------- cache: load, follow, reload ----------

  private async ensureFresh(): Promise<void> {
    if (this.closed) throw new RomanaError('STORE_UNAVAILABLE', 'The IPAM service is closed');
    if (!this.broken) return;
    this.reloading ??= this.load().finally(() => (this.reloading = undefined));
    await this.reloading;
  }

  /** One range() snapshot of the IPAM keys → fresh IpamState → watch from the snapshot's revision. */
  private async load(): Promise<void> {
    const first = this.generation === 0;
    const gen = ++this.generation;
    const old = this.watch;
    this.watch = undefined;
    await old?.close();
    // One range over the whole prefix: a single snapshot (the IPAM kinds are
    // several sibling prefixes); keys of other record families are skipped.
    const snap = await this.store.range('');
    const records: RecordEntry[] = [];
    let topology: TopologyRecord | undefined;
    for (const kv of snap.kvs) {
      if (ipamKindOf(kv.key) === null) continue;
      const value = decodeIpamRecord(kv.key, kv.value); // STORE_CORRUPT names the key
      if (kv.key === TOPOLOGY_KEY) topology = value as TopologyRecord;
      records.push({ key: kv.key, value, revision: kv.modRevision });
    }
    const carved = topology ? carveTopology(topology.input) : { networks: [] };
    const state = IpamState.fromRecords(carved, records);
    state.revision = Math.max(state.revision, snap.revision);
    const watch = await this.store.watch(
      '',
      snap.revision,
      (e) => this.onEvent(gen, e),
      (err) => {
        if (gen === this.generation) this.broken = err;
      },
    );
    if (gen !== this.generation || this.closed) {
      await watch.close();
      return;
    }
    this.state = state;
    this.watch = watch;
    this.broken = undefined;
    if (!first) this.stats.reloads++;
  }

  private onEvent(gen: number, e: WatchEvent): void {
    if (gen !== this.generation || this.broken) return;
    if (ipamKindOf(e.key) === null) return;
    try {
      const value = e.type === 'put' ? decodeIpamRecord(e.key, e.value ?? '') : null;
      applyStoreEvent(this.state, e.key, value, e.revision);
    } catch (err) {
      this.broken = err instanceof Error ? err : new Error(String(err));
    }
  }

  /** Decodes and applies one record; a failure (STORE_CORRUPT) also marks the cache untrustworthy. */
  private applyOrBreak(read: () => [string, IpamRecord | null, number]): void {
    try {
      const [key, value, revision] = read();
      applyStoreEvent(this.state, key, value, revision);
    } catch (err) {
      this.broken = err instanceof Error ? err : new Error(String(err));
      throw err;
    }
  }
}
