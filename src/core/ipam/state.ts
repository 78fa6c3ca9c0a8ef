/**
 * IpamState: what one daemon replica knows of the IPAM records, plus the
 * indexes that make planning fast.
 *
 * Goal: planners (allocate.ts, hosts.ts, reserve.ts, topology_change.ts)
 * decide from this state which records to create, update or delete; the
 * persistent layer commits those changes with compare-and-swap and then
 * calls `applyChanges` (own commits) or `applyStoreEvent` (watch events of
 * other replicas). The state never changes on its own.
 *
 * Design. Every record is kept with the store revision it was read at; the
 * index entries themselves carry `value` and `revision` (they are the
 * StoredRecords), which keeps allocation-time garbage low.
 * Derived indexes (all rebuilt by `fromRecords`, maintained incrementally
 * by `applyChanges`; test/core/ipam checks that both agree):
 *   networks      network name -> NetIndex (its usable leaves, reservations
 *                 merged into sorted disjoint intervals, its blocks)
 *   leaf.slots    per (network, leaf group): FreeBitmap of used block slots
 *                 (slot i = the i-th block-sized part of the leaf CIDR),
 *                 plus a sparse buddy tree of used slots per aligned region
 *                 (LeafIndex.markSlot; block placement keeps hosts apart),
 *                 and per host the sorted slots of its blocks there
 *   ownerTrees    host -> tenant -> segment -> [network order] -> OwnerIndex:
 *                 a min-heap (by address) of the owner's blocks that may
 *                 have a free address, cleaned lazily, so allocation never
 *                 scans full blocks. Nested maps (no key strings built per
 *                 call); the host's entry holds its tree, so the planner
 *                 reaches it without another lookup by host name, and
 *                 reads it by the (tenant, segment) pair's integer id
 *                 (HostOwners.byClass, ids in TenantEntry)
 *   block.bits    per block: FreeBitmap of allocated-or-reserved offsets
 *   addressByName address name -> record and numeric IP (IP -> address
 *                 goes through leaf -> slot -> block, see addressAt); an
 *                 AddressIndex, read like a Map, whose in-place addresses
 *                 get their entry objects only when read
 *   hosts         host name -> record, numeric IP, placement per network
 * Allocation cost is O(log32 n) in the bitmaps plus the copy of one block
 * record's names (the record is what the store writes). MemoryIpam skips
 * the copy: it applies its allocations in place (insertBlock, addBlockName,
 * insertAddress), editing block records only this state refers to
 * (BlockIndex.ownsValue) and building address entries and records on
 * first read (AddressIndex).
 *
 * Updates of a block record are applied by diffing its `names` against the
 * held value (O(addresses in the block), the same order as the planner's
 * copy), so the indexes follow any sequence of records, whoever wrote them.
 *
 * Late and repeated writes: a put older than the held record, an echo of the
 * held write, or a put older than a remembered delete (tombstones) is
 * ignored, so a commit applied after the watch already delivered newer
 * events cannot roll anything back.
 *
 * Concurrency rule: an IpamState is owned by one event loop; plan and apply
 * are synchronous. Changes from one commit are applied together with that
 * commit's revision; a record is never replaced by an older revision.
 */
import { RomanaError } from '../errors.js';
import { cidrContains, cidrContainsIp, formatCidr, formatIPv4, prefixMask, prefixSize, type Cidr4 } from '../ip.js';
import { carveTopology } from '../topology/index.js';
import type { CarvedGroup, CarvedNetwork, CarvedTopology, TopologyInput } from '../topology/types.js';
import { FreeBitmap, MAX_BITMAP_CAPACITY } from './bitmap.js';
import { ADDRESSES_PREFIX, BLOCKS_PREFIX, HOSTS_PREFIX, RESERVATIONS_PREFIX, TOPOLOGY_KEY } from './keys.js';
import type {
  AddressRecord,
  BlockRecord,
  Change,
  HostRecord,
  IpamRecord,
  ReservationRecord,
  TopologyRecord,
} from './types.js';

export interface StoredRecord<T extends IpamRecord = IpamRecord> {
  readonly value: T;
  /** Store revision of the last write of this record. */
  readonly revision: number;
}

export interface RecordEntry {
  key: string;
  value: IpamRecord;
  revision: number;
}

// ---------- index entries ----------

/** Leaves with at most this many block slots keep their buddy index in a dense array. */
const DENSE_REGION_SLOTS = 2 ** 16;

export class LeafIndex {
  readonly net: NetIndex;
  readonly group: CarvedGroup;
  /** Groups from the root down to this leaf (all their assignments must fit a host). */
  readonly chain: readonly CarvedGroup[];
  readonly base: number;
  /** Number of block slots: 2^(blockMask - leaf prefix); 0 when the leaf is smaller than a block. */
  readonly slotCount: number;
  /** Used block slots. */
  readonly slots: FreeBitmap;
  /** Names of the hosts placed here. */
  readonly hosts = new Set<string>();
  /** slot -> block occupying it */
  readonly blockAt = new Map<number, BlockIndex>();
  /**
   * host name -> slots of its blocks here, ascending (never empty). Block
   * placement (allocate.ts findSlotFor) reads it per new block; building and
   * sorting it from the host's blocks each time was a tenth of allocation.
   */
  readonly slotsByHost = new Map<string, number[]>();
  /** Assignment pairs of `chain`, flattened once (placement checks them per host). */
  readonly required: ReadonlyArray<readonly [string, string]>;

  constructor(net: NetIndex, group: CarvedGroup, chain: readonly CarvedGroup[]) {
    this.net = net;
    this.group = group;
    this.chain = chain;
    this.base = group.cidr.base;
    const bits = net.blockMask - group.cidr.prefix;
    this.slotCount = bits < 0 ? 0 : Math.min(2 ** bits, MAX_BITMAP_CAPACITY);
    this.slots = new FreeBitmap(this.slotCount);
    this.levels = this.slotCount <= 1 ? 0 : Math.ceil(Math.log2(this.slotCount));
    this.required = chain.flatMap((g) => Object.entries(g.assignment));
    this.dense = this.slotCount > 0 && this.slotCount <= DENSE_REGION_SLOTS ? new Int32Array(2 ** (this.levels + 1)) : null;
  }

  private regionGet(key: number): number {
    return this.dense !== null ? this.dense[key]! : (this.regions.get(key) ?? 0);
  }

  private regionSet(key: number, value: number): void {
    if (this.dense !== null) this.dense[key] = value;
    else if (value === 0) this.regions.delete(key);
    else this.regions.set(key, value);
  }

  slotBase(slot: number): number {
    return this.base + slot * this.net.blockSize;
  }

  /**
   * Buddy index of the used slots, for block placement (allocate.ts): a
   * sparse binary tree over the slots, node `2^(levels-l) + (start >> l)`
   * standing for the aligned region of 2^l slots at `start`. Only regions
   * holding a used slot have an entry: the number of used slots in it times
   * 64, plus 1 + log2 of the largest entirely-unused aligned region inside
   * it (0: none). A region without an entry is entirely unused. Kept in step
   * with `slots` by markSlot/unmarkSlot (O(levels) each).
   */
  private readonly regions = new Map<number, number>();
  /**
   * The same tree as a dense array when it is small (leaves of up to 2^16
   * slots: 512 KiB at most), because Map lookups dominated block placement;
   * 0 = no entry (a stored entry is at least 64). Larger leaves use the Map.
   */
  private readonly dense: Int32Array | null;
  /** Height of the tree: ceil(log2(slotCount)). */
  readonly levels: number;

  private node(level: number, start: number): number {
    // Shifts are exact while the tree fits 31 bits (every dense tree does).
    if (this.levels <= 30) return (1 << (this.levels - level)) + (start >>> level);
    return 2 ** (this.levels - level) + Math.floor(start / 2 ** level);
  }

  /** Used slots in the aligned region of 2^level slots at `start`. */
  usedIn(level: number, start: number): number {
    return Math.floor(this.regionGet(this.node(level, start)) / 64);
  }

  /** log2 of the largest unused aligned region inside node (level, start), -1 when none. */
  private freeLog(level: number, start: number): number {
    const v = this.regionGet(this.node(level, start));
    return v === 0 ? level : (v % 64) - 1;
  }

  private update(slot: number, delta: number): void {
    if (this.dense !== null) {
      this.updateDense(this.dense, slot, delta);
      return;
    }
    for (let level = 0; level <= this.levels; level++) {
      const start = level === 0 ? slot : slot - (slot % 2 ** level);
      const key = this.node(level, start);
      const used = Math.floor(this.regionGet(key) / 64) + delta;
      if (used <= 0) {
        this.regionSet(key, 0);
        continue;
      }
      let free = -1;
      if (level > 0) {
        const half = 2 ** (level - 1);
        free = Math.max(this.freeLog(level - 1, start), this.freeLog(level - 1, start + half));
      }
      this.regionSet(key, used * 64 + free + 1);
    }
  }

  /**
   * update() on the dense array, in integer arithmetic: node keys there are
   * heap positions (the parent of k is k >> 1, its children 2k and 2k + 1),
   * and entries fit 31 bits (at most 2^16 slots × 64), so shifts replace
   * the divisions and powers of the generic walk (the hot part of block
   * placement).
   */
  private updateDense(d: Int32Array, slot: number, delta: number): void {
    let key = (1 << this.levels) + slot;
    let used = (d[key]! >> 6) + delta;
    // A single slot holds no unused region when used (free log -1, stored as 0).
    d[key] = used <= 0 ? 0 : used << 6;
    for (let level = 1; level <= this.levels; level++) {
      key >>= 1;
      used = (d[key]! >> 6) + delta;
      if (used <= 0) {
        d[key] = 0;
        continue;
      }
      const l = d[2 * key]!;
      const r = d[2 * key + 1]!;
      // A child without an entry is entirely unused: its free log is its own level.
      const fl = l === 0 ? level - 1 : (l & 63) - 1;
      const fr = r === 0 ? level - 1 : (r & 63) - 1;
      d[key] = (used << 6) + (fl > fr ? fl : fr) + 1;
    }
  }

  /** Records that `host` has a block at `slot`. */
  addHostSlot(host: string, slot: number): void {
    const xs = this.slotsByHost.get(host);
    if (!xs) {
      this.slotsByHost.set(host, [slot]);
      return;
    }
    let i = xs.length;
    while (i > 0 && xs[i - 1]! > slot) i--; // new blocks mostly land above the host's others
    xs.splice(i, 0, slot);
  }

  removeHostSlot(host: string, slot: number): void {
    const xs = this.slotsByHost.get(host);
    const i = xs ? xs.indexOf(slot) : -1;
    if (i < 0) return;
    if (xs!.length === 1) this.slotsByHost.delete(host);
    else xs!.splice(i, 1);
  }

  markSlot(slot: number): void {
    this.update(slot, 1);
  }

  unmarkSlot(slot: number): void {
    this.update(slot, -1);
  }

  /**
   * The lowest of the largest entirely-unused aligned regions, as
   * [first slot, log2 of its size], or null when every slot is used.
   * Ignores reservations (callers search the region with findFreeSlot).
   */
  largestFreeRegion(): [number, number] | null {
    let level = this.levels;
    let start = 0;
    const target = this.freeLog(level, 0);
    if (target < 0) return null;
    while (this.regionGet(this.node(level, start)) !== 0) {
      level--;
      if (this.freeLog(level, start) < target) start += 2 ** level;
    }
    return [start, level];
  }
}

export class ReservationEntry implements StoredRecord<ReservationRecord> {
  constructor(
    readonly key: string,
    public value: ReservationRecord,
    public revision: number,
    readonly cidr: Cidr4,
  ) {}
}

/**
 * tenant -> segment -> owners of one host, indexed by network order; plus
 * `byClass`, the same arrays keyed by the (tenant, segment) pair's integer
 * id (IpamState.tenantEntry, TenantEntry.classOf). Allocation reads
 * byClass: one lookup by a small integer in the host's map instead of two
 * by string, in maps that are cold when hosts take turns (the tenant's ids
 * live in one small map that every allocation of the tenant keeps warm).
 */
export class HostOwners extends Map<string, Map<string, Array<OwnerIndex | undefined>>> {
  /** owner class id -> owners by network order (the arrays of the tree) */
  readonly byClass = new Map<number, Array<OwnerIndex | undefined>>();
}

/**
 * What allocation needs of a tenant, looked up once per request: the
 * networks serving it (IpamState.networksForTenant) and the ids of its
 * (tenant, segment) owner classes. Ids are assigned when an owner of the
 * pair is first created and live as long as the state's indexes (load()
 * starts over), so a pair no host has never gets one.
 */
export class TenantEntry {
  /** segment -> owner class id; the empty segment (the usual one) is `emptyClass` instead */
  private readonly classes = new Map<string, number>();
  private emptyClass = -1;

  constructor(readonly nets: NetIndex[]) {}

  /** The class id of (this tenant, segment), -1 when it has none yet. */
  classOf(segment: string): number {
    return segment === '' ? this.emptyClass : (this.classes.get(segment) ?? -1);
  }

  /** The class id of (this tenant, segment), assigning `next` when it has none; returns the id. */
  classFor(segment: string, next: number): number {
    const have = this.classOf(segment);
    if (have >= 0) return have;
    if (segment === '') this.emptyClass = next;
    else this.classes.set(segment, next);
    return next;
  }
}

export class NetIndex {
  readonly net: CarvedNetwork;
  readonly name: string;
  /** Position in the topology's network list (tenant preference order). */
  readonly order: number;
  readonly blockMask: number;
  readonly blockSize: number;
  /** Usable (non-padding) leaves by group path. */
  readonly leaves = new Map<string, LeafIndex>();
  /** Usable leaves in depth-first order (placement tie-break order). */
  readonly leafList: LeafIndex[] = [];
  /** reservation key -> entry */
  readonly reservations = new Map<string, ReservationEntry>();
  /** Union of the reservations as sorted, disjoint, non-adjacent [start, end] pairs (inclusive), flattened. */
  merged: number[] = [];
  readonly blocks = new Set<BlockIndex>();

  constructor(net: CarvedNetwork, order: number) {
    this.net = net;
    this.name = net.name;
    this.order = order;
    this.blockMask = net.blockMask;
    this.blockSize = prefixSize(net.blockMask);
    const walk = (g: CarvedGroup, chain: CarvedGroup[]): void => {
      if (g.padding) return;
      const here = [...chain, g];
      if (g.leaf) {
        const leaf = new LeafIndex(this, g, here);
        this.leaves.set(g.path, leaf);
        this.leafList.push(leaf);
        return;
      }
      for (const c of g.children) walk(c, here);
    };
    walk(net.root, []);
  }

  /** End (inclusive) of the reserved interval containing `addr`, or -1. */
  reservedEndAt(addr: number): number {
    const m = this.merged;
    let lo = 0;
    let hi = m.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (m[2 * mid]! > addr) hi = mid - 1;
      else if (m[2 * mid + 1]! < addr) lo = mid + 1;
      else return m[2 * mid + 1]!;
    }
    return -1;
  }

  recomputeMerged(): void {
    const iv = [...this.reservations.values()]
      .map((r) => [r.cidr.base, r.cidr.base + prefixSize(r.cidr.prefix) - 1] as const)
      .sort((a, b) => a[0] - b[0]);
    const out: number[] = [];
    for (const [s, e] of iv) {
      const n = out.length;
      if (n > 0 && s <= out[n - 1]! + 1) out[n - 1] = Math.max(out[n - 1]!, e);
      else out.push(s, e);
    }
    this.merged = out;
  }
}

export class OwnerIndex {
  readonly host: string;
  readonly tenant: string;
  readonly segment: string;
  /** Network order (index into the host's owner arrays). */
  readonly netOrder: number;
  /** Min-heap by block base of blocks that had a free address when pushed; stale entries are dropped on peek. */
  private readonly heap: BlockIndex[] = [];
  /**
   * Always heap[0]. Allocation peeks once per address, at owners that are
   * cold when hosts take turns; a field saves reading the array and its
   * backing store (two cache misses) on the usual path.
   */
  private first: BlockIndex | undefined = undefined;
  /** Live blocks of this owner. */
  blockCount = 0;

  constructor(host: string, tenant: string, segment: string, netOrder: number) {
    this.host = host;
    this.tenant = tenant;
    this.segment = segment;
    this.netOrder = netOrder;
  }

  push(b: BlockIndex): void {
    if (b.inHeap) return;
    b.inHeap = true;
    const h = this.heap;
    let i = h.length;
    h.push(b);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.base <= b.base) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = b;
    this.first = h[0];
  }

  /** Lowest-address live block with a free address, or undefined. */
  peek(): BlockIndex | undefined {
    const first = this.first;
    if (first !== undefined && first.live && first.free > 0) return first;
    const h = this.heap;
    while (h.length > 0) {
      const top = h[0]!;
      if (top.live && top.free > 0) return top;
      top.inHeap = false;
      const last = h.pop()!;
      this.first = h[0];
      if (h.length === 0) break;
      // sift `last` down from the root
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && h[r]!.base < h[l]!.base ? r : l;
        if (h[c]!.base >= last.base) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
      this.first = h[0];
    }
    return undefined;
  }
}

export class BlockIndex implements StoredRecord<BlockRecord> {
  readonly key: string;
  value: BlockRecord;
  revision: number;
  readonly net: NetIndex | null;
  /** The leaf whose slot this block occupies; null for a stray block (see `stray`). */
  readonly leaf: LeafIndex | null;
  readonly base: number;
  readonly prefix: number;
  readonly size: number;
  readonly slot: number;
  /** Allocated or reserved offsets. */
  bits: FreeBitmap;
  /** Allocated addresses (names). */
  count = 0;
  /** Reserved, unallocated offsets. */
  reserved = 0;
  readonly owner: OwnerIndex;
  inHeap = false;
  live = true;
  /**
   * True while `value` is an object only this index refers to, built by the
   * in-place path (MemoryIpam): later allocations then edit its `names`
   * instead of copying the record each time. Any record that came from
   * outside (applyChanges, fromRecords) or was handed out (records(), get())
   * is unowned and copied before the first edit, so no caller ever sees a
   * record it holds change.
   */
  ownsValue = false;
  /** offset -> revision of its address, for addresses allocated in place (see AddressIndex); null until the first. */
  addrRevs: number[] | null = null;
  /** "a.b.c." of a block inside one /24, built on its first in-place allocation (see ipText). */
  private ipPrefix: string | null = null;

  constructor(
    key: string,
    value: BlockRecord,
    revision: number,
    net: NetIndex | null,
    leaf: LeafIndex | null,
    base: number,
    prefix: number,
    owner: OwnerIndex,
  ) {
    this.key = key;
    this.value = value;
    this.revision = revision;
    this.net = net;
    this.leaf = leaf;
    this.base = base;
    this.prefix = prefix;
    this.size = prefixSize(prefix);
    this.slot = leaf ? (base - leaf.base) / this.size : -1;
    this.bits = new FreeBitmap(Math.min(this.size, MAX_BITMAP_CAPACITY));
    this.owner = owner;
  }

  get free(): number {
    return this.size - this.count - this.reserved;
  }

  /**
   * The dotted-quad text of address `off` of this block. A block of at most
   * 256 addresses is aligned inside one /24, so its addresses share the text
   * of the first three octets: one concatenation per allocation instead of
   * formatting four octets (the in-place path returns this text every time).
   */
  ipText(off: number): string {
    if (this.size > 256) return formatIPv4(this.base + off);
    if (this.ipPrefix === null) {
      const b = this.base;
      this.ipPrefix = `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.`;
    }
    return this.ipPrefix + ((this.base & 255) + off);
  }

  /** True when the block occupies no slot: unknown network or group, wrong size, outside its group, or a duplicate. */
  get stray(): boolean {
    return this.leaf === null;
  }
}

export class HostEntry implements StoredRecord<HostRecord> {
  /** The same placements by network order (NetIndex.order): allocation reads them without a Map lookup per network. */
  readonly leafAt: Array<LeafIndex | undefined> = [];

  constructor(
    public value: HostRecord,
    public revision: number,
    readonly ip: number,
    /** network name -> leaf the host is placed in */
    readonly placements: Map<string, LeafIndex>,
    /** The host's owner tree (shared with state.ownerTrees; survives record updates). */
    readonly owners: HostOwners,
  ) {
    for (const leaf of placements.values()) this.leafAt[leaf.net.order] = leaf;
  }
}

export class AddressEntry implements StoredRecord<AddressRecord> {
  /**
   * The record. Addresses allocated in place (IpamState.insertAddress) start
   * without one and build it on first read from their block, which holds
   * every field but the name and IP: one small object per address instead
   * of entry + record + IP text is what keeps the young-generation copying
   * of a large allocation run low.
   */
  private record: AddressRecord | undefined;
  /** The block the record is derived from (in-place entries only). */
  private readonly block: BlockIndex | undefined;
  readonly name: string;
  revision: number;
  readonly ip: number;

  constructor(record: AddressRecord | undefined, revision: number, ip: number, name: string, block?: BlockIndex) {
    this.record = record;
    this.revision = revision;
    this.ip = ip;
    this.name = name;
    this.block = block;
  }

  get value(): AddressRecord {
    if (this.record === undefined) {
      // A block's network, CIDR and owner never change over its index's life
      // (a put that changes them replaces the index), so this is the record
      // the allocation would have written.
      const v = this.block!.value;
      this.record = { schema: 1, name: this.name, ip: formatIPv4(this.ip), network: v.network, block: v.cidr, host: v.host, tenant: v.tenant, segment: v.segment };
    }
    return this.record;
  }
}

/**
 * address name -> entry: a read-only Map for callers, plus the writes of
 * IpamState.
 *
 * Design: an address allocated in place (IpamState.insertAddress) is held
 * as its block until someone reads it; its entry is built then (offset from
 * the block's names, revision from BlockIndex.addrRevs) and replaces the
 * block in the map, so it is built once and keeps its identity. One object
 * fewer per address is what keeps the garbage collector's copying of a
 * large allocation run low: the entries were a sixth of allocation time.
 */
export class AddressIndex {
  /** name -> its entry, or the block of an address whose entry is not built yet */
  private readonly m = new Map<string, AddressEntry | BlockIndex>();

  get size(): number {
    return this.m.size;
  }

  has(name: string): boolean {
    return this.m.has(name);
  }

  get(name: string): AddressEntry | undefined {
    const v = this.m.get(name);
    return v === undefined || v instanceof AddressEntry ? v : this.build(name, v);
  }

  /** Whether `name` is held at all, without building its entry. */
  peek(name: string): boolean {
    return this.m.get(name) !== undefined;
  }

  set(name: string, e: AddressEntry): void {
    this.m.set(name, e);
  }

  /** Holds `name` as an address of block `b` (whose names and addrRevs describe it). */
  setInBlock(name: string, b: BlockIndex): void {
    this.m.set(name, b);
  }

  delete(name: string): boolean {
    return this.m.delete(name);
  }

  /** Builds the entry of every address of `b` still held as the block (before its names change). */
  settle(b: BlockIndex): void {
    const names = b.value.names;
    for (const k in names) {
      const name = names[k]!;
      if (this.m.get(name) === b) this.build(name, b);
    }
    b.addrRevs = null; // every entry holds its revision now
  }

  private build(name: string, b: BlockIndex): AddressEntry {
    const names = b.value.names;
    let off = -1;
    if (b.size <= 64) {
      for (let i = 0; i < b.size; i++) {
        if (names[i] === name) {
          off = i;
          break;
        }
      }
    } else {
      for (const k in names) {
        if (names[k] === name) {
          off = Number(k);
          break;
        }
      }
    }
    // settle() runs before a block's names drop an address held this way, so the name is there.
    if (off < 0) throw new Error(`IPAM index: address "${name}" is not in block ${b.key}`);
    const e = new AddressEntry(undefined, b.addrRevs![off]!, b.base + off, name, b);
    this.m.set(name, e);
    return e;
  }

  keys(): IterableIterator<string> {
    return this.m.keys();
  }

  *entries(): IterableIterator<[string, AddressEntry]> {
    for (const [name, v] of this.m) yield [name, v instanceof AddressEntry ? v : this.build(name, v)];
  }

  *values(): IterableIterator<AddressEntry> {
    for (const [name, v] of this.m) yield v instanceof AddressEntry ? v : this.build(name, v);
  }

  forEach(f: (entry: AddressEntry, name: string, index: AddressIndex) => void): void {
    for (const [name, e] of this.entries()) f(e, name, this);
  }

  [Symbol.iterator](): IterableIterator<[string, AddressEntry]> {
    return this.entries();
  }
}

/** Deleted keys remembered against late puts (see IpamState.tombstones). */
const MAX_TOMBSTONES = 1 << 16;

/** Blocks up to this size are diffed offset by offset. */
const SMALL_BLOCK = 64;

function corrupt(key: string, why: string): RomanaError {
  return new RomanaError('STORE_CORRUPT', `Stored record "${key}" is unreadable: ${why}`, { resourceType: 'record', resourceId: key });
}

/** Skip a write older than what is held, or an echo of the held write (same revision). */
function stale(held: StoredRecord | undefined, value: IpamRecord | null, revision: number): boolean {
  return held !== undefined && (held.revision > revision || (held.revision === revision && value !== null));
}

// ---------- the state ----------

export class IpamState {
  topology: CarvedTopology = { networks: [] };
  topologyRecord: StoredRecord<TopologyRecord> | undefined;
  /** network name -> index, in definition order */
  networks = new Map<string, NetIndex>();
  netList: NetIndex[] = [];
  /** host name -> entry */
  hosts = new Map<string, HostEntry>();
  /** numeric host IP -> host name */
  hostsByIp = new Map<number, string>();
  /** block key -> index */
  blocks = new Map<string, BlockIndex>();
  /** host name -> its blocks (every network) */
  blocksByHost = new Map<string, Set<BlockIndex>>();
  /** host name -> owners of its blocks (see the module header) */
  ownerTrees = new Map<string, HostOwners>();
  /**
   * address name -> entry. Keyed by the name, not the store key: the planner
   * looks up the request's name as is, and applying a put keys by the
   * record's own `name` (no key string sliced, hashed or retained).
   */
  addressByName = new AddressIndex();
  /** Blocks that occupy no slot (see BlockIndex.stray); IP lookups search them too. */
  strayBlocks = new Set<BlockIndex>();
  /** reservation key -> entry (including ones of unknown networks) */
  reservations = new Map<string, ReservationEntry>();
  /** Highest revision applied. */
  revision = 0;
  /**
   * key -> revision of its delete, oldest first, so that a late put older
   * than the delete (our own commit applied after the watch already brought
   * a newer delete) cannot resurrect the record. Bounded; see bury().
   */
  private tombstones = new Map<string, number>();
  /** A put of an absent key at or below this revision is stale (the load snapshot, or dropped tombstones). */
  private tombFloor = 0;
  /** Newest tombstone: a put above it needs no tombstone lookup (the common case: applying our own new commit). */
  private tombMax = 0;
  /** tenant -> its networks and owner class ids (see networksForTenant, HostOwners) */
  private tenantCache = new Map<string, TenantEntry>();
  /** Next owner class id (TenantEntry.classFor). */
  private nextOwnerClass = 0;
  /**
   * The block the last allocation plan wrote into: applying that plan finds
   * it without a lookup. Only a shortcut; putBlock checks it still stands.
   */
  lastPlanned: BlockIndex | undefined;

  /**
   * Builds the state and all indexes from a full read of the records.
   * `revision`: the store revision the read was made at (a range result's
   * revision); defaults to the newest record's. Writes at or below it that
   * arrive later are treated as already seen.
   */
  static fromRecords(topology: CarvedTopology, records: Iterable<RecordEntry>, revision = 0): IpamState {
    const s = new IpamState();
    s.load(topology, records);
    if (revision > s.revision) s.revision = s.tombFloor = revision;
    return s;
  }

  private load(topology: CarvedTopology, records: Iterable<RecordEntry>): void {
    this.topology = topology;
    this.topologyRecord = undefined;
    this.netList = topology.networks.map((n, i) => new NetIndex(n, i));
    this.networks = new Map(this.netList.map((n) => [n.name, n] as const));
    this.hosts = new Map();
    this.hostsByIp = new Map();
    this.blocks = new Map();
    this.blocksByHost = new Map();
    this.ownerTrees = new Map();
    this.addressByName = new AddressIndex();
    this.strayBlocks = new Set();
    this.reservations = new Map();
    this.tenantCache = new Map();
    this.nextOwnerClass = 0;
    this.lastPlanned = undefined;
    // Reservations before blocks (blocks mark reserved offsets when indexed).
    const blocks: RecordEntry[] = [];
    for (const r of records) {
      if (r.key.startsWith(BLOCKS_PREFIX)) blocks.push(r);
      else this.put(r.key, r.value, r.revision, true);
    }
    for (const n of this.netList) n.recomputeMerged();
    for (const r of blocks) this.put(r.key, r.value, r.revision, true);
    this.tombstones = new Map();
    this.tombFloor = this.tombMax = this.revision;
  }

  /** Whether a put of `key`, absent now, at `revision` is older than what the state has seen. */
  private buried(key: string, revision: number): boolean {
    if (revision <= this.tombFloor) return true;
    if (revision > this.tombMax) return false;
    const t = this.tombstones.get(key);
    return t !== undefined && t >= revision;
  }

  private bury(key: string, revision: number): void {
    this.tombstones.delete(key);
    this.tombstones.set(key, revision);
    if (revision > this.tombMax) this.tombMax = revision;
    if (this.tombstones.size <= MAX_TOMBSTONES) return;
    // Forget the oldest half; the floor keeps older puts of absent keys out.
    for (const [k, r] of this.tombstones) {
      if (this.tombstones.size <= MAX_TOMBSTONES / 2) break;
      this.tombstones.delete(k);
      if (r > this.tombFloor) this.tombFloor = r;
    }
  }

  /**
   * Common prelude of every put: false when the write must be ignored. A
   * tombstone outlives a later put of its key harmlessly: once the key is
   * held again, the held revision decides.
   */
  private admit(key: string, held: StoredRecord | undefined, value: IpamRecord | null, revision: number): boolean {
    if (held ? stale(held, value, revision) : value !== null && this.buried(key, revision)) return false;
    if (value === null) this.bury(key, revision);
    return true;
  }

  /** The record under `key` with the revision it was read at. */
  get(key: string): StoredRecord | undefined {
    if (key.startsWith(ADDRESSES_PREFIX)) return this.addressByName.get(key.slice(ADDRESSES_PREFIX.length));
    if (key.startsWith(BLOCKS_PREFIX)) {
      const memo = this.lastPlanned;
      const b = memo !== undefined && memo.live && memo.key === key ? memo : this.blocks.get(key);
      if (b) b.ownsValue = false; // the caller may keep the value
      return b;
    }
    if (key.startsWith(HOSTS_PREFIX)) return this.hosts.get(key.slice(HOSTS_PREFIX.length));
    if (key === TOPOLOGY_KEY) return this.topologyRecord;
    if (key.startsWith(RESERVATIONS_PREFIX)) return this.reservations.get(key);
    return undefined;
  }

  /** Every record, in a stable order (topology, hosts, reservations, blocks, addresses). */
  *records(): Generator<RecordEntry> {
    if (this.topologyRecord) yield { key: TOPOLOGY_KEY, value: this.topologyRecord.value, revision: this.topologyRecord.revision };
    for (const [name, h] of this.hosts) yield { key: HOSTS_PREFIX + name, value: h.value, revision: h.revision };
    for (const [key, r] of this.reservations) yield { key, value: r.value, revision: r.revision };
    for (const [key, b] of this.blocks) {
      b.ownsValue = false; // handed out: copied before the next in-place edit
      yield { key, value: b.value, revision: b.revision };
    }
    for (const [name, a] of this.addressByName) yield { key: ADDRESSES_PREFIX + name, value: a.value, revision: a.revision };
  }

  /**
   * Networks an allocation for `tenant` may use, in preference order.
   * Strict sandbox: a tenant named by any network's `tenants` uses exactly
   * those networks (never the unrestricted ones, so its pods always come
   * from its own CIDRs); a tenant named nowhere uses the unrestricted ones.
   */
  networksForTenant(tenant: string): NetIndex[] {
    return this.tenantEntry(tenant).nets;
  }

  /** The tenant's networks (networksForTenant) and owner class ids, in one lookup. */
  tenantEntry(tenant: string): TenantEntry {
    let t = this.tenantCache.get(tenant);
    if (!t) {
      const named = this.netList.filter((n) => n.net.tenants?.includes(tenant));
      t = new TenantEntry(named.length > 0 ? named : this.netList.filter((n) => n.net.tenants === null));
      this.tenantCache.set(tenant, t);
    }
    return t;
  }

  // ---------- record application ----------

  /**
   * Applies a put (value) or delete (null) of `key` at `revision`. Ignored when
   * the state already holds that key at a newer revision, or this very write
   * (idempotent replays). `loading`: part of fromRecords (no revision checks,
   * reservations merged once at the end). `fresh`: the revision is above
   * every revision applied before this commit, so nothing held can be newer
   * (lets address puts skip their lookup).
   */
  put(key: string, value: IpamRecord | null, revision: number, loading = false, fresh = false): void {
    if (revision > this.revision) this.revision = revision;
    if (key.startsWith(ADDRESSES_PREFIX)) {
      this.putAddress(key, value as AddressRecord | null, revision, loading, fresh);
    } else if (key.startsWith(BLOCKS_PREFIX)) {
      this.putBlock(key, value as BlockRecord | null, revision, loading);
    } else if (key.startsWith(HOSTS_PREFIX)) {
      this.putHost(key, key.slice(HOSTS_PREFIX.length), value as HostRecord | null, revision, loading);
    } else if (key.startsWith(RESERVATIONS_PREFIX)) {
      this.putReservation(key, value as ReservationRecord | null, revision, loading);
    } else if (key === TOPOLOGY_KEY) {
      if (!loading && !this.admit(key, this.topologyRecord, value, revision)) return;
      if (value === null) this.topologyRecord = undefined;
      else {
        checkSchema(key, value);
        this.topologyRecord = { value: value as TopologyRecord, revision };
      }
    }
    // Foreign keys under the prefix are not ours to interpret.
  }

  private putHost(key: string, name: string, value: HostRecord | null, revision: number, loading: boolean): void {
    const old = this.hosts.get(name);
    if (!loading && !this.admit(key, old, value, revision)) return;
    if (old) {
      for (const leaf of old.placements.values()) leaf.hosts.delete(name);
      if (this.hostsByIp.get(old.ip) === name) this.hostsByIp.delete(old.ip);
      this.hosts.delete(name);
    }
    if (value === null) {
      if (old && old.owners.size === 0) this.ownerTrees.delete(name);
      return;
    }
    checkSchema(key, value);
    const ip = parseIPv4Fast(value.ip);
    if (ip < 0) throw corrupt(key, `invalid IP "${value.ip}"`);
    const placements = new Map<string, LeafIndex>();
    for (const [net, path] of Object.entries(value.groups ?? {})) {
      // A placement into a group the topology no longer has is dropped from the
      // index; topology changes refuse to orphan blocks, so it holds none.
      const leaf = this.networks.get(net)?.leaves.get(path);
      if (leaf) {
        placements.set(net, leaf);
        leaf.hosts.add(name);
      }
    }
    this.hosts.set(name, new HostEntry(value, revision, ip, placements, this.hostOwners(name)));
    this.hostsByIp.set(ip, name);
  }

  private putBlock(key: string, value: BlockRecord | null, revision: number, loading: boolean): void {
    const memo = this.lastPlanned;
    // A live index is always the one mapped under its key, so the memo can stand in for the lookup.
    const old = memo !== undefined && memo.live && memo.key === key ? memo : this.blocks.get(key);
    if (!loading && !this.admit(key, old, value, revision)) return;
    // Addresses held as this block (in place) get their entries before its names change.
    if (old && old.addrRevs !== null) this.addressByName.settle(old);
    if (value && old && sameBlock(old.value, value)) {
      // Same block, same owner: only names changed (the common update).
      checkSchema(key, value);
      const prev = old.value.names;
      const next = value.names;
      let exact = true;
      let freed = false;
      if (old.size <= SMALL_BLOCK) {
        // Element reads by number: no key strings built (for-in over integer keys makes one per key).
        for (let off = 0; off < old.size; off++) {
          const was = prev[off] !== undefined;
          const is = next[off] !== undefined;
          if (is && !was) {
            if (old.bits.set(off)) old.count++;
            else exact = false;
          } else if (was && !is && old.bits.clear(off)) {
            old.count--;
            freed = true;
          }
        }
      } else {
        for (const k in next) {
          if (prev[k] !== undefined) continue;
          const off = Number(k);
          if (!Number.isInteger(off) || off < 0 || off >= old.size || !old.bits.set(off)) exact = false;
          else old.count++;
        }
        for (const k in prev) {
          if (next[k] !== undefined) continue;
          const off = Number(k);
          if (Number.isInteger(off) && off >= 0 && off < old.size && old.bits.clear(off)) {
            old.count--;
            freed = true;
          }
        }
      }
      old.value = value;
      old.ownsValue = false;
      old.revision = revision;
      // Rare: a name on a reserved offset (a race with a reservation) or a
      // freed offset that is reserved now: recompute from scratch.
      if (!exact || (freed && old.net !== null && old.net.merged.length > 0)) this.fillBlockBits(old);
      if (old.free > 0) old.owner.push(old);
      return;
    }
    if (old) this.dropBlock(old);
    if (value === null) return;
    checkSchema(key, value);
    const c = parseCidrFast(value.cidr);
    if (c === null) throw corrupt(key, `invalid block CIDR "${value.cidr}"`);
    const { base, prefix } = c;
    const net = this.networks.get(value.network) ?? null;
    let leaf = net?.leaves.get(value.group) ?? null;
    if (leaf && (prefix !== net!.blockMask || !cidrContains(leaf.group.cidr, c))) leaf = null;
    // Two records claiming one slot cannot come from our planners; the second is kept as a stray.
    if (leaf && leaf.slots.has((base - leaf.base) / prefixSize(prefix))) leaf = null;
    // Stray blocks get an unregistered owner: nothing allocates from them.
    const owner = leaf ? this.ownerFor(value.host, value.tenant, value.segment, net!.order) : new OwnerIndex(value.host, value.tenant, value.segment, -1);
    this.indexBlock(new BlockIndex(key, value, revision, net, leaf, base, prefix, owner));
  }

  /** Adds a new block index to every index (its slot, when it has a leaf, must be free). */
  private indexBlock(b: BlockIndex): BlockIndex {
    this.fillBlockBits(b);
    this.blocks.set(b.key, b);
    b.net?.blocks.add(b);
    const host = b.value.host;
    let hb = this.blocksByHost.get(host);
    if (!hb) this.blocksByHost.set(host, (hb = new Set()));
    hb.add(b);
    const leaf = b.leaf;
    if (leaf) {
      leaf.slots.set(b.slot);
      leaf.markSlot(b.slot);
      leaf.blockAt.set(b.slot, b);
      leaf.addHostSlot(host, b.slot);
    } else this.strayBlocks.add(b);
    b.owner.blockCount++;
    if (b.free > 0) b.owner.push(b);
    return b;
  }

  // ---------- in-place application (allocate.ts applyAllocation) ----------
  //
  // What applying a put at a revision above every held one does, for records
  // the caller built itself, minus what it cannot need: no key parsing, no
  // staleness or tombstone checks (nothing held is newer), no diff of the
  // block's names (the caller says which offset it took). Only MemoryIpam
  // uses these, through applyAllocation; a store-backed daemon applies its
  // commits with applyChanges.

  /** Indexes a new block record that the caller placed in a free slot of `leaf`, at base address `base`. */
  insertBlock(key: string, value: BlockRecord, revision: number, leaf: LeafIndex, base: number): BlockIndex {
    if (revision > this.revision) this.revision = revision;
    const net = leaf.net;
    const owner = this.ownerFor(value.host, value.tenant, value.segment, net.order);
    const b = new BlockIndex(key, value, revision, net, leaf, base, net.blockMask, owner);
    b.ownsValue = true; // built by the caller for this index alone
    return this.indexBlock(b);
  }

  /**
   * Names address `name` at the free offset `off` of block `b`, editing the
   * block record in place when the state owns it (see BlockIndex.ownsValue),
   * else on a copy that it then owns.
   */
  addBlockName(b: BlockIndex, off: number, name: string, revision: number): void {
    if (revision > this.revision) this.revision = revision;
    if (!b.ownsValue) {
      const prev = b.value;
      b.value = blockRecordWith(prev, { ...prev.names });
      b.ownsValue = true;
    }
    b.value.names[off] = name;
    b.revision = revision;
    if (b.bits.set(off)) b.count++;
    // Still in its owner's heap when it has room (peek chose it); a full block leaves the heap lazily.
    if (b.free > 0) b.owner.push(b);
  }

  /** Indexes the address `name` (not held) at offset `off` of block `b`; its entry and record are built when first read. */
  insertAddress(name: string, revision: number, b: BlockIndex, off: number): void {
    if (revision > this.revision) this.revision = revision;
    // Sized for the block (up to 64) at once: growing from empty allocated twice the backing store a /29 needs.
    (b.addrRevs ??= new Array<number>(Math.min(b.size, 64)))[off] = revision;
    this.addressByName.setInBlock(name, b);
  }

  private hostOwners(host: string): HostOwners {
    let t = this.ownerTrees.get(host);
    if (!t) this.ownerTrees.set(host, (t = new HostOwners()));
    return t;
  }

  private ownerFor(host: string, tenant: string, segment: string, netOrder: number): OwnerIndex {
    const tree = this.hostOwners(host);
    // Usually the owner exists (a new block for an owner with full ones): found by class id, as allocation does.
    const cls = this.tenantEntry(tenant).classOf(segment);
    const known = cls < 0 ? undefined : tree.byClass.get(cls)?.[netOrder];
    if (known) return known;
    let bySegment = tree.get(tenant);
    if (!bySegment) tree.set(tenant, (bySegment = new Map()));
    let byNet = bySegment.get(segment);
    if (!byNet) {
      bySegment.set(segment, (byNet = []));
      const cls = this.tenantEntry(tenant).classFor(segment, this.nextOwnerClass);
      if (cls === this.nextOwnerClass) this.nextOwnerClass++;
      tree.byClass.set(cls, byNet);
    }
    let o = byNet[netOrder];
    if (!o) byNet[netOrder] = o = new OwnerIndex(host, tenant, segment, netOrder);
    return o;
  }

  private dropOwner(o: OwnerIndex): void {
    const tree = this.ownerTrees.get(o.host);
    const bySegment = tree?.get(o.tenant);
    const byNet = bySegment?.get(o.segment);
    if (!tree || !bySegment || !byNet || byNet[o.netOrder] !== o) return;
    byNet[o.netOrder] = undefined;
    if (byNet.every((x) => x === undefined)) {
      bySegment.delete(o.segment);
      tree.byClass.delete(this.tenantEntry(o.tenant).classOf(o.segment));
    }
    if (bySegment.size === 0) tree.delete(o.tenant);
    if (tree.size === 0 && !this.hosts.has(o.host)) this.ownerTrees.delete(o.host);
  }

  /** (Re)computes a block's bitmap from its names and the network's reservations. */
  fillBlockBits(b: BlockIndex): void {
    // A bitmap with nothing set is already the empty start (a new block's): no second allocation.
    const bits = b.bits.count === 0 ? b.bits : new FreeBitmap(b.bits.capacity);
    let count = 0;
    const names = b.value.names;
    for (const k in names) {
      const off = Number(k);
      if (Number.isInteger(off) && off >= 0 && off < b.size && bits.set(off)) count++;
    }
    let reserved = 0;
    const m = b.net?.merged;
    if (m && m.length > 0) {
      const first = b.base;
      const last = b.base + b.size - 1;
      for (let i = 0; i < m.length; i += 2) {
        const s = Math.max(m[i]!, first);
        const e = Math.min(m[i + 1]!, last);
        for (let a = s; a <= e; a++) if (bits.set(a - first)) reserved++;
      }
    }
    b.bits = bits;
    b.count = count;
    b.reserved = reserved;
  }

  private dropBlock(b: BlockIndex): void {
    b.live = false;
    this.blocks.delete(b.key);
    b.net?.blocks.delete(b);
    const hb = this.blocksByHost.get(b.value.host);
    if (hb) {
      hb.delete(b);
      if (hb.size === 0) this.blocksByHost.delete(b.value.host);
    }
    if (b.leaf) {
      b.leaf.slots.clear(b.slot);
      b.leaf.unmarkSlot(b.slot);
      b.leaf.blockAt.delete(b.slot);
      b.leaf.removeHostSlot(b.value.host, b.slot);
    } else this.strayBlocks.delete(b);
    b.owner.blockCount--;
    if (b.owner.blockCount === 0 && b.leaf) this.dropOwner(b.owner);
  }

  /** The address named `name`. */
  address(name: string): AddressEntry | undefined {
    return this.addressByName.get(name);
  }

  private putAddress(key: string, value: AddressRecord | null, revision: number, loading: boolean, fresh: boolean): void {
    // The record's own name is the map key; the store key must agree (length
    // checked always; the full text while loading, where it costs nothing extra).
    const name = value === null ? key.slice(ADDRESSES_PREFIX.length) : value.name;
    if (value !== null) {
      checkSchema(key, value);
      if (typeof name !== 'string' || key.length !== ADDRESSES_PREFIX.length + name.length || (loading && key !== ADDRESSES_PREFIX + name)) {
        throw corrupt(key, `its name ${JSON.stringify(name)} does not match the key`);
      }
    }
    if (fresh) {
      // Nothing held can be newer: no lookup needed (a set replaces, a delete removes).
      if (value === null) {
        this.addressByName.delete(name);
        this.bury(key, revision);
        return;
      }
    } else {
      const old = this.addressByName.get(name);
      if (!loading && !this.admit(key, old, value, revision)) return;
      if (value === null) {
        if (old) this.addressByName.delete(name);
        return;
      }
    }
    const ip = parseIPv4Fast(value.ip);
    if (ip < 0) throw corrupt(key, `invalid IP "${value.ip}"`);
    this.addressByName.set(name, new AddressEntry(value, revision, ip, name));
  }

  /** The address entry holding `ip`, found through its block (leaf slot, else the strays). */
  addressAt(ip: number): AddressEntry | undefined {
    for (const n of this.netList) {
      if (!cidrContainsIp(n.net.cidr, ip)) continue;
      for (const leaf of n.leafList) {
        if (!cidrContainsIp(leaf.group.cidr, ip)) continue;
        const b = leaf.blockAt.get(Math.floor((ip - leaf.base) / n.blockSize));
        const name = b?.value.names[ip - b.base];
        const a = name === undefined ? undefined : this.address(name);
        if (a && a.ip === ip) return a;
      }
    }
    for (const b of this.strayBlocks) {
      if (ip < b.base || ip >= b.base + b.size) continue;
      const name = b.value.names[ip - b.base];
      const a = name === undefined ? undefined : this.address(name);
      if (a && a.ip === ip) return a;
    }
    return undefined;
  }

  private putReservation(key: string, value: ReservationRecord | null, revision: number, loading: boolean): void {
    const old = this.reservations.get(key);
    if (!loading && !this.admit(key, old, value, revision)) return;
    const touched: Array<NetIndex | undefined> = [];
    const changed: Cidr4[] = [];
    if (old) {
      this.reservations.delete(key);
      const n = this.networks.get(old.value.network);
      n?.reservations.delete(key);
      touched.push(n);
      changed.push(old.cidr);
    }
    if (value !== null) {
      checkSchema(key, value);
      const c = parseCidrFast(value.cidr);
      if (c === null) throw corrupt(key, `invalid reservation CIDR "${value.cidr}"`);
      const e = new ReservationEntry(key, value, revision, c);
      this.reservations.set(key, e);
      const n = this.networks.get(value.network);
      n?.reservations.set(key, e);
      touched.push(n);
      changed.push(c);
    }
    if (loading) return;
    for (const n of new Set(touched)) {
      if (!n) continue;
      n.recomputeMerged();
      for (const b of n.blocks) {
        if (!changed.some((c) => overlaps(c, b.base, b.size))) continue;
        this.fillBlockBits(b);
        if (b.free > 0) b.owner.push(b);
      }
    }
  }

  /** Rebuilds every index for `topology` from the records held. */
  rebuild(topology: CarvedTopology): void {
    const records = [...this.records()];
    const rev = this.revision;
    this.load(topology, records);
    this.revision = this.tombFloor = Math.max(rev, this.revision);
  }
}

/** A copy of block record `prev` with other address names. */
export function blockRecordWith(prev: BlockRecord, names: Record<string, string>): BlockRecord {
  return {
    schema: 1,
    network: prev.network,
    cidr: prev.cidr,
    group: prev.group,
    host: prev.host,
    tenant: prev.tenant,
    segment: prev.segment,
    names,
  };
}

function sameBlock(a: BlockRecord, b: BlockRecord): boolean {
  return a.cidr === b.cidr && a.network === b.network && a.group === b.group && a.host === b.host && a.tenant === b.tenant && a.segment === b.segment;
}

/**
 * Dotted-quad parser for records (hot path: one per address applied). Same
 * language as ip.ts parseIPv4 (four decimal octets 0..255, no leading zeros)
 * without the regex and substring garbage; -1 when malformed.
 */
export function parseIPv4Fast(text: string): number {
  let n = 0;
  let octet = -1;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      n = n * 256 + octet;
      octet = -1;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return -1; // leading zero
      if (++digits > 3) return -1;
      octet = (octet < 0 ? 0 : octet * 10) + (c - 48);
      if (octet > 255) return -1;
    } else return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return n * 256 + octet;
}

/** "a.b.c.d/p" with no host bits, or null. */
export function parseCidrFast(text: string): Cidr4 | null {
  const slash = typeof text === 'string' ? text.indexOf('/') : -1;
  if (slash < 0) return null;
  const base = parseIPv4Fast(text.slice(0, slash));
  const p = text.slice(slash + 1);
  if (base < 0 || !/^\d{1,2}$/.test(p)) return null;
  const prefix = Number(p);
  if (prefix > 32 || ((base & prefixMask(prefix)) >>> 0) !== base) return null;
  return { base, prefix };
}

function overlaps(c: Cidr4, base: number, size: number): boolean {
  const end = c.base + prefixSize(c.prefix) - 1;
  return c.base <= base + size - 1 && end >= base;
}

function checkSchema(key: string, value: IpamRecord): void {
  if (typeof value !== 'object' || value === null || value.schema !== 1) {
    throw corrupt(key, `unknown schema ${JSON.stringify((value as { schema?: unknown } | null)?.schema)}`);
  }
}

/**
 * Applies the changes of one successful commit, at its revision. A put of
 * the topology record re-carves it and rebuilds every index once, after the
 * other changes of the commit.
 */
export function applyChanges(state: IpamState, changes: readonly Change[], revision: number): void {
  let newTopology: TopologyRecord | undefined;
  const fresh = revision > state.revision;
  for (const c of changes) {
    if (c.op === 'check') continue;
    const value = c.op === 'put' ? c.value : null;
    if (c.key === TOPOLOGY_KEY && value !== null) {
      if (stale(state.topologyRecord, value, revision)) continue;
      newTopology = value as TopologyRecord;
    }
    state.put(c.key, value, revision, false, fresh);
  }
  if (newTopology) state.rebuild(carveFor(newTopology.input));
}

/** Carvings of recently planned topologies, so a commit does not carve twice (bounded: topologies change rarely). */
const CARVED = new Map<TopologyInput, CarvedTopology>();

/** Remembers the carving of `input` (planTopologyChange calls this with the caller's carving). */
export function rememberCarving(input: TopologyInput, carved: CarvedTopology): void {
  if (CARVED.size >= 8) CARVED.clear();
  CARVED.set(input, carved);
}

function carveFor(input: TopologyInput): CarvedTopology {
  return CARVED.get(input) ?? carveTopology(input);
}

/** A watch event from the store (another replica's commit, or our own echoed back). */
export function applyStoreEvent(state: IpamState, key: string, value: IpamRecord | null, revision: number): void {
  applyChanges(state, [value === null ? { op: 'delete', key } : { op: 'put', key, value }], revision);
}

/** Formats a block's CIDR from its numeric base. */
export function blockCidrText(base: number, prefix: number): string {
  return formatCidr({ base, prefix });
}
