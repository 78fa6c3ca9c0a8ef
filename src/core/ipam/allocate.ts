/**
 * Address allocation and release planners.
 *
 * Goal: decide, from the state alone, the records one allocation or release
 * creates, updates or deletes, each with the revision it was based on, so
 * the store can commit them with compare-and-swap (DESIGN §2, §3).
 *
 * Allocation order, per network the tenant may use (state.networksForTenant,
 * definition order) in which the host is placed:
 *   1. the lowest free address of the owner's (host, tenant, segment) blocks
 *      there, blocks taken in ascending address order;
 *   2. else a new block in the host's leaf group, placed buddy-style next
 *      to the host's other blocks there (findSlotFor) so that they
 *      aggregate; emptied blocks are deleted, so their slots come back;
 *   3. else the next network; none left -> POOL_EXHAUSTED.
 * Reserved addresses are never handed out; a slot whose every address is
 * reserved is skipped. The first address of a block is usable (pods are /32).
 *
 * Concurrency rule: pure in effect; a plan is valid only against the state
 * it was made from, which the `expect` revisions enforce at commit time. The
 * one write, state.lastPlanned, is a lookup shortcut for applying the plan
 * and never changes an answer.
 *
 * `peek()` of an owner's heap may drop stale entries (full or deleted
 * blocks): index housekeeping, invisible in any result.
 */
import { RomanaError } from '../errors.js';
import { formatCidr, formatIPv4, parseIPv4 } from '../ip.js';
import { addressKey, blockKey, hostKey, TOPOLOGY_KEY } from './keys.js';
import { AddressEntry, blockCidrText, blockRecordWith, IpamState, type BlockIndex, type LeafIndex, type NetIndex } from './state.js';
import type { AddressRecord, Allocation, AllocateRequest, BlockRecord, Change } from './types.js';

export interface AllocatePlan {
  allocation: Allocation;
  /** Empty when the name was already allocated to this host (idempotent retry). */
  changes: Change[];
}

export interface ReleasePlan {
  /** The address that is released. */
  released: AddressRecord;
  changes: Change[];
}

function invalid(field: string, value: unknown, why: string): RomanaError {
  return new RomanaError('INVALID_ARGUMENT', `Invalid ${field} ${JSON.stringify(value)}: ${why}`, { details: { field, value } });
}

function checkRequest(req: AllocateRequest): void {
  if (typeof req.name !== 'string' || req.name.length === 0) throw invalid('address name', req.name, 'must be a non-empty string');
  if (typeof req.host !== 'string' || req.host.length === 0) throw invalid('host', req.host, 'must be a non-empty string');
  if (typeof req.tenant !== 'string') throw invalid('tenant', req.tenant, 'must be a string');
  if (typeof req.segment !== 'string') throw invalid('segment', req.segment, 'must be a string');
}

export function allocationOf(a: AddressRecord): Allocation {
  return { name: a.name, ip: a.ip, network: a.network, block: a.block };
}

/** A new block to create: slot `slot` of `leaf` in `net`. */
export class NewBlock {
  constructor(
    readonly net: NetIndex,
    readonly leaf: LeafIndex,
    readonly slot: number,
  ) {}
}

/**
 * What an allocation of `req` does, decided from the state alone: the
 * address already held under that name (an idempotent retry), an existing
 * block of the owner to take the lowest free address of, or a new block.
 * Throws what planAllocate throws. planAllocate turns the choice into
 * changes; applyAllocation (MemoryIpam's in-place path) applies it directly.
 * Sharing this step is what keeps both paths' answers identical.
 */
export type AllocationChoice = AddressEntry | BlockIndex | NewBlock;

/** The choice for `req` (see AllocationChoice); changes nothing but the owners' heap housekeeping. */
export function chooseAllocation(state: IpamState, req: AllocateRequest): AllocationChoice {
  checkRequest(req);
  const existing = state.addressByName.get(req.name);
  if (existing) {
    const a = existing.value;
    if (a.host === req.host) return existing;
    throw new RomanaError(
      'ALREADY_EXISTS',
      `Address name "${req.name}" is already allocated: ${a.ip} on host "${a.host}", requested on host "${req.host}"`,
      { resourceType: 'address', resourceId: req.name, details: { ip: a.ip, host: a.host, requestedHost: req.host } },
    );
  }
  const host = state.hosts.get(req.host);
  if (!host) {
    throw new RomanaError('HOST_NOT_FOUND', `Host "${req.host}" is not registered: cannot allocate "${req.name}"`, {
      resourceType: 'host',
      resourceId: req.host,
    });
  }
  const tenant = state.tenantEntry(req.tenant);
  const nets = tenant.nets;
  if (nets.length === 0) {
    throw new RomanaError('NO_NETWORK_FOR_TENANT', `No network serves tenant "${req.tenant}": every network is restricted to other tenants`, {
      resourceType: 'tenant',
      resourceId: req.tenant,
    });
  }
  let placed = 0;
  // The owner's blocks by network order (HostOwners.byClass); none when the owner has no block on this host.
  const cls = tenant.classOf(req.segment);
  const owners = cls < 0 ? undefined : host.owners.byClass.get(cls);
  for (const net of nets) {
    const leaf = host.leafAt[net.order];
    if (!leaf) continue;
    placed++;
    // The owner's lowest block with a free address, else a new block in this network.
    const b = owners?.[net.order]?.peek();
    if (b) return b;
    const slot = findSlotFor(leaf, req.host);
    if (slot >= 0) return new NewBlock(net, leaf, slot);
  }
  if (placed === 0) {
    throw new RomanaError(
      'NO_NETWORK_FOR_TENANT',
      `No network serving tenant "${req.tenant}" has host "${req.host}": tenant networks ${nets.map((n) => `"${n.name}"`).join(', ')}, host networks ${
        [...host.placements.keys()].map((n) => `"${n}"`).join(', ') || 'none'
      }`,
      { resourceType: 'tenant', resourceId: req.tenant, details: { host: req.host, networks: nets.map((n) => n.name) } },
    );
  }
  const where = nets
    .filter((n) => host.placements.has(n.name))
    .map((n) => `"${n.name}" group ${formatCidr(host.placements.get(n.name)!.group.cidr)}`)
    .join(', ');
  throw new RomanaError(
    'POOL_EXHAUSTED',
    `No free address for host "${req.host}", tenant "${req.tenant}", segment "${req.segment}": full in ${where}`,
    { resourceType: 'host', resourceId: req.host, details: { tenant: req.tenant, segment: req.segment } },
  );
}

export function planAllocate(state: IpamState, req: AllocateRequest): AllocatePlan {
  const c = chooseAllocation(state, req);
  if (c instanceof AddressEntry) return { allocation: allocationOf(c.value), changes: [] };
  if (c instanceof NewBlock) return allocateNewBlock(state, req, c);
  return allocateInBlock(state, req, c);
}

/**
 * Applies a choice of chooseAllocation (not an idempotent retry) to `state`
 * at `revision`, without building changes: the result equals committing
 * planAllocate's changes at that revision (test/core/ipam/fast_path.test.ts
 * checks this). Only for a caller that is its own store (MemoryIpam) and
 * whose `revision` is above every revision the state holds, so no compare
 * can fail and no held record can be newer.
 *
 * Edits the block record in place when the state owns it (IpamState
 * addBlockName: a record a caller may hold is copied first) and leaves the
 * address record to be built when first read (AddressEntry.value): most of
 * an allocation's cost was garbage.
 */
export function applyAllocation(state: IpamState, req: AllocateRequest, c: BlockIndex | NewBlock, revision: number): Allocation {
  let b: BlockIndex;
  let off: number;
  if (c instanceof NewBlock) {
    const { net, leaf, slot } = c;
    const base = leaf.slotBase(slot);
    off = net.merged.length === 0 ? 0 : firstUnreserved(net, base);
    const cidr = blockCidrText(base, net.blockMask);
    const names: Record<string, string> = {};
    names[off] = req.name;
    const value: BlockRecord = { schema: 1, network: net.name, cidr, group: leaf.group.path, host: req.host, tenant: req.tenant, segment: req.segment, names };
    b = state.insertBlock(blockKey(net.name, cidr), value, revision, leaf, base);
  } else {
    b = c;
    off = b.bits.firstClear(0);
    state.addBlockName(b, off, req.name, revision);
  }
  const v = b.value;
  state.insertAddress(req.name, revision, b, off);
  return { name: req.name, ip: b.ipText(off), network: v.network, block: v.cidr };
}

function addressRecord(req: AllocateRequest, ip: number, network: string, block: string): AddressRecord {
  const ipText = formatIPv4(ip);
  return { schema: 1, name: req.name, ip: ipText, network, block, host: req.host, tenant: req.tenant, segment: req.segment };
}

/** The changes of an allocation in existing block `b` (records are immutable: plans never edit state). */
function allocateInBlock(state: IpamState, req: AllocateRequest, b: BlockIndex): AllocatePlan {
  const off = b.bits.firstClear(0);
  const prev = b.value;
  const names: Record<string, string> = { ...prev.names };
  names[off] = req.name;
  const value = blockRecordWith(prev, names);
  const addr = addressRecord(req, b.base + off, prev.network, prev.cidr);
  state.lastPlanned = b;
  return {
    allocation: { name: req.name, ip: addr.ip, network: prev.network, block: prev.cidr },
    changes: [
      { op: 'put', key: b.key, value, expect: b.revision },
      { op: 'put', key: addressKey(req.name), value: addr, expect: 0 },
    ],
  };
}

/**
 * Lowest free slot of `leaf` in [from, end) that is not entirely reserved,
 * or -1 (the whole leaf by default).
 */
export function findFreeSlot(leaf: LeafIndex, from = 0, end = leaf.slotCount): number {
  const net = leaf.net;
  const size = net.blockSize;
  for (;;) {
    const s = leaf.slots.firstClear(from);
    if (s < 0 || s >= end) return -1;
    if (net.merged.length === 0) return s;
    const base = leaf.base + s * size;
    const last = net.reservedEndAt(base);
    // Reservations are merged into coalesced intervals, so a slot is entirely
    // reserved exactly when the interval holding its first address reaches its last.
    if (last < base + size - 1) return s;
    from = Math.floor((last + 1 - leaf.base) / size);
  }
}

const NO_SLOTS: readonly number[] = [];

/**
 * The slot for a new block of `host` in `leaf` (buddy-style, so that a
 * host's blocks stay aggregatable into few prefixes):
 *   1. a free slot in the smallest aligned power-of-two region that holds
 *      one of the host's blocks in this leaf and no other host's block
 *      (lowest such region, lowest free slot in it);
 *   2. else the lowest slot of the largest entirely-free aligned region (a
 *      host's first block in an empty leaf is thus slot 0, and hosts spread
 *      apart so that each can grow next to its blocks);
 *   3. else the lowest free slot.
 * Entirely reserved slots are skipped at every step. Deterministic: depends
 * on the state only. Cost, for the host's b blocks in the leaf (kept
 * sorted by LeafIndex.slotsByHost): per level O(b), reading the buddy
 * tree only for regions not full of the host's own blocks; plus O(levels)
 * for step 2.
 */
export function findSlotFor(leaf: LeafIndex, host: string): number {
  if (leaf.slotCount === 0) return -1;
  // Sorted, so the host's blocks inside each region of a level are counted
  // in one pass over the list (hosts with dozens of blocks made this the hot spot).
  const mine = leaf.slotsByHost.get(host) ?? NO_SLOTS;
  // Levels ascending, each distinct region holding one of the host's blocks
  // once: the first level with a foreign-free region that has a free slot
  // wins (lowest slot). A region holding another host's block is skipped;
  // every larger region holds that block too, so when no region of a level
  // is foreign-free the search stops.
  for (let level = 1; level <= leaf.levels && mine.length > 0; level++) {
    const size = 2 ** level;
    let open = false;
    let best = -1;
    for (let i = 0; i < mine.length; ) {
      const start = mine[i]! - (mine[i]! % size);
      // Sorted, and regions ascend: the host's blocks in this region are mine[i..j).
      let j = i + 1;
      while (j < mine.length && mine[j]! < start + size) j++;
      const ours = j - i;
      i = j;
      // Full of the host's own blocks (the usual case low down, as its blocks
      // sit together): no free slot and no other host's block, known without
      // reading the buddy tree, whose entries are cache misses.
      if (ours >= size) {
        open = true;
        continue;
      }
      const used = leaf.usedIn(level, start);
      if (ours < used) continue; // another host's block is in this region
      open = true;
      if (used >= size) continue;
      const slot = findFreeSlot(leaf, start, Math.min(start + size, leaf.slotCount));
      if (slot >= 0 && (best < 0 || slot < best)) best = slot;
    }
    if (best >= 0) return best;
    if (!open) break;
  }
  const region = leaf.largestFreeRegion();
  if (region) {
    const [start, level] = region;
    const slot = findFreeSlot(leaf, start, Math.min(start + 2 ** level, leaf.slotCount));
    if (slot >= 0) return slot;
  }
  return findFreeSlot(leaf);
}

/** Lowest offset of a block at `base` that is not reserved in `net`. */
function firstUnreserved(net: NetIndex, base: number): number {
  let a = base;
  for (;;) {
    const end = net.reservedEndAt(a);
    if (end < 0) return a - base;
    a = end + 1;
  }
}

function allocateNewBlock(state: IpamState, req: AllocateRequest, c: NewBlock): AllocatePlan {
  const { net, leaf, slot } = c;
  const base = leaf.slotBase(slot);
  const off = net.merged.length === 0 ? 0 : firstUnreserved(net, base);
  const cidr = blockCidrText(base, net.blockMask);
  const names: Record<string, string> = {};
  names[off] = req.name;
  const value: BlockRecord = { schema: 1, network: net.name, cidr, group: leaf.group.path, host: req.host, tenant: req.tenant, segment: req.segment, names };
  const addr = addressRecord(req, base + off, net.name, cidr);
  const changes: Change[] = [{ op: 'check', key: hostKey(req.host), expect: state.hosts.get(req.host)!.revision }];
  // A new block also depends on the topology the slot was computed from.
  if (state.topologyRecord) changes.push({ op: 'check', key: TOPOLOGY_KEY, expect: state.topologyRecord.revision });
  changes.push({ op: 'put', key: blockKey(net.name, cidr), value, expect: 0 }, { op: 'put', key: addressKey(req.name), value: addr, expect: 0 });
  return { allocation: { name: req.name, ip: addr.ip, network: net.name, block: cidr }, changes };
}

/** Release by address name, or by IP when no address has that name. */
export function planRelease(state: IpamState, nameOrIp: string): ReleasePlan {
  if (typeof nameOrIp !== 'string' || nameOrIp.length === 0) throw invalid('address', nameOrIp, 'must be a name or an IP');
  let entry = state.address(nameOrIp);
  if (!entry) {
    const ip = parseIPv4(nameOrIp);
    if (ip !== null) entry = state.addressAt(ip);
  }
  if (!entry) {
    throw new RomanaError('ADDRESS_NOT_FOUND', `No address named or numbered "${nameOrIp}" is allocated`, {
      resourceType: 'address',
      resourceId: nameOrIp,
    });
  }
  const a = entry.value;
  const changes: Change[] = [{ op: 'delete', key: addressKey(a.name), expect: entry.revision }];
  const bk = blockKey(a.network, a.block);
  const b = state.blocks.get(bk);
  const off = b ? entry.ip - b.base : -1;
  if (b && b.value.names[off] === a.name) changes.push(blockWithout(b, off));
  return { released: a, changes };
}

/** The change that frees `off` in block `b`: an update, or a delete when the block becomes empty. */
export function blockWithout(b: BlockIndex, off: number): Change {
  const prev = b.value;
  // An emptied block is deleted: its slot returns to the group's free pool.
  if (b.count <= 1) return { op: 'delete', key: b.key, expect: b.revision };
  const names: Record<string, string> = { ...prev.names };
  delete names[off];
  const value = blockRecordWith(prev, names);
  return { op: 'put', key: b.key, value, expect: b.revision };
}
