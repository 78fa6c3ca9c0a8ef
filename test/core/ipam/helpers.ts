/**
 * Shared helpers for the IPAM tests: the original's fixtures, a canonical
 * snapshot of every derived index (for "incremental == rebuilt" checks), and
 * the invariants every reachable state must satisfy.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { isRomanaError, type ErrorCode } from '../../../src/core/errors.js';
import { cidrContains, formatIPv4, parseCidr4 } from '../../../src/core/ip.js';
import { IpamState, MemoryIpam } from '../../../src/core/ipam/index.js';
import { loadTopology, parseTopologyText } from '../../../src/core/topology/index.js';
import type { TopologyInput } from '../../../src/core/topology/types.js';

/** The original's IPAM test inputs (romana/core common/client/testdata), read from ../shared. */
export const FIXTURES = fileURLToPath(new URL('../../../../shared/romana-v2-testdata/common/client/testdata/', import.meta.url));

export function fixtureText(name: string): string {
  return readFileSync(`${FIXTURES}${name}.json`, 'utf8');
}

export function fixtureInput(name: string): TopologyInput {
  return parseTopologyText(fixtureText(name));
}

/** A MemoryIpam with the fixture as topology (validated, carved, predefined hosts registered). */
export function ipamFor(name: string): MemoryIpam {
  const t = loadTopology(fixtureText(name));
  return MemoryIpam.withTopology(t.input, t.carved);
}

export function ipamWith(input: TopologyInput): MemoryIpam {
  const t = loadTopology(JSON.stringify(input));
  return MemoryIpam.withTopology(t.input, t.carved);
}

/** Runs `f` and returns the RomanaError it throws (fails when it returns or throws something else). */
export function errorOf(f: () => unknown): { code: ErrorCode; message: string; details: Record<string, unknown> } {
  try {
    f();
  } catch (e) {
    if (isRomanaError(e)) return { code: e.code, message: e.message, details: e.details };
    throw e;
  }
  throw new Error('expected a RomanaError, nothing was thrown');
}

export function expectError(f: () => unknown, code: ErrorCode, ...fragments: string[]): void {
  const e = errorOf(f);
  expect(e.code).toBe(code);
  for (const s of fragments) expect(e.message).toContain(s);
}

/**
 * Every derived index of a state, in canonical form. Two states holding the
 * same records must give equal snapshots, however they got there.
 */
export function snapshot(s: IpamState): unknown {
  const records = [...s.records()].map((r) => [r.key, r.revision, JSON.stringify(r.value)]).sort();
  const nets = s.netList.map((n) => ({
    name: n.name,
    merged: [...n.merged],
    leaves: n.leafList.map((l) => ({
      path: l.group.path,
      hosts: [...l.hosts].sort(),
      usedSlots: l.slots.count,
      slots: [...l.blockAt.entries()].map(([slot, b]) => [slot, b.key, l.slots.has(slot)]).sort((a, b) => (a[0] as number) - (b[0] as number)),
    })),
    blocks: [...n.blocks].map((b) => b.key).sort(),
  }));
  const blocks = [...s.blocks.values()]
    .map((b) => ({
      key: b.key,
      leaf: b.leaf?.group.path ?? null,
      slot: b.slot,
      count: b.count,
      reserved: b.reserved,
      bits: b.size <= 256 ? Array.from({ length: b.size }, (_, i) => (b.bits.has(i) ? 1 : 0)).join('') : b.bits.count,
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
  const hosts = [...s.hosts.entries()]
    .map(([name, h]) => [name, h.ip, [...h.placements.entries()].map(([n, l]) => `${n}:${l.group.path}`).sort()])
    .sort();
  const addresses = [...s.addressByName.entries()].map(([k, a]) => [k, a.ip]).sort();
  const byHost = [...s.blocksByHost.entries()].map(([h, set]) => [h, [...set].map((b) => b.key).sort()]).sort();
  const strays = [...s.strayBlocks].map((b) => b.key).sort();
  const owners = [...s.ownerTrees.entries()]
    .flatMap(([host, byTenant]) =>
      [...byTenant.entries()].flatMap(([tenant, bySeg]) =>
        [...bySeg.entries()].flatMap(([seg, byNet]) =>
          byNet.flatMap((o, i) => (o ? [[host, tenant, seg, i, o.blockCount, o.peek()?.key ?? null]] : [])),
        ),
      ),
    )
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return { records, nets, blocks, hosts, addresses, byHost, strays, owners, revision: s.revision };
}

/** Invariants of a reachable state; returns the problems found (empty = fine). */
export function invariantProblems(s: IpamState): string[] {
  const problems: string[] = [];
  const seen = new Map<number, string>();
  for (const a of s.addressByName.values()) {
    const v = a.value;
    const other = seen.get(a.ip);
    if (other !== undefined) problems.push(`duplicate IP ${v.ip}: ${other} and ${v.name}`);
    seen.set(a.ip, v.name);
    const b = s.blocks.get(`blocks/${v.network}/${v.block}`);
    if (!b) {
      problems.push(`address ${v.name} names missing block ${v.block}`);
      continue;
    }
    if (a.ip < b.base || a.ip >= b.base + b.size) problems.push(`address ${v.ip} outside its block ${v.block}`);
    if (b.value.names[a.ip - b.base] !== v.name) problems.push(`block ${v.block} does not list ${v.name} at ${v.ip}`);
    if (b.value.host !== v.host || b.value.tenant !== v.tenant || b.value.segment !== v.segment) problems.push(`address ${v.name} owner differs from block`);
    if (s.reservations.size > 0) {
      for (const r of s.reservations.values()) {
        if (r.value.network === v.network && cidrContains(r.cidr, { base: a.ip, prefix: 32 })) problems.push(`address ${v.ip} is reserved by ${r.value.cidr}`);
      }
    }
  }
  for (const b of s.blocks.values()) {
    const v = b.value;
    const named = Object.keys(v.names).length;
    if (named === 0) problems.push(`empty block record ${b.key}`);
    if (b.count !== named) problems.push(`block ${b.key} counts ${b.count} addresses, its record names ${named}`);
    if (b.bits.count !== b.count + b.reserved) problems.push(`block ${b.key} bitmap has ${b.bits.count} bits for ${b.count} + ${b.reserved} reserved`);
    if (b.leaf === null) {
      problems.push(`stray block ${b.key}`);
      continue;
    }
    if (b.leaf.group.padding) problems.push(`block ${b.key} in padding group`);
    if (!cidrContains(b.leaf.group.cidr, { base: b.base, prefix: b.prefix })) problems.push(`block ${b.key} outside its leaf`);
    const h = s.hosts.get(v.host);
    if (!h) problems.push(`block ${b.key} of unknown host ${v.host}`);
    else if (h.placements.get(v.network) !== b.leaf) problems.push(`block ${b.key} not in its host's leaf`);
    for (const [off, name] of Object.entries(v.names)) {
      const a = s.address(name);
      if (!a || a.ip !== b.base + Number(off)) problems.push(`block ${b.key} lists ${name} at +${off} without its address record`);
    }
    const tenants = b.net!.net.tenants;
    if (tenants !== null && !tenants.includes(v.tenant)) problems.push(`block ${b.key} of tenant ${v.tenant} in a network restricted to others`);
  }
  for (const n of s.netList) {
    for (const l of n.leafList) {
      if (l.slots.count !== l.blockAt.size) problems.push(`leaf ${n.name}${l.group.path}: ${l.slots.count} used slots, ${l.blockAt.size} blocks`);
      // The per-host slot lists (block placement reads them) follow the blocks.
      const byHost = new Map<string, number[]>();
      for (const [slot, b] of l.blockAt) byHost.set(b.value.host, [...(byHost.get(b.value.host) ?? []), slot]);
      const want = [...byHost].map(([h, xs]) => `${h}:${xs.sort((a, b) => a - b).join(',')}`).sort();
      const have = [...l.slotsByHost].map(([h, xs]) => `${h}:${xs.join(',')}`).sort();
      if (JSON.stringify(want) !== JSON.stringify(have)) problems.push(`leaf ${n.name}${l.group.path}: host slots ${have.join(' ')}, blocks say ${want.join(' ')}`);
    }
  }
  // Allocation finds owners by class id (HostOwners.byClass): exactly the tree's arrays, under their pair's id.
  for (const [host, tree] of s.ownerTrees) {
    const want = new Map<number, unknown>();
    for (const [tenant, bySeg] of tree) {
      for (const [seg, byNet] of bySeg) {
        const cls = s.tenantEntry(tenant).classOf(seg);
        if (cls < 0 || want.has(cls)) problems.push(`owners of ${host}/${tenant}/${seg}: class id ${cls} missing or shared`);
        want.set(cls, byNet);
      }
    }
    if (want.size !== tree.byClass.size || [...want].some(([cls, byNet]) => tree.byClass.get(cls) !== byNet)) {
      problems.push(`owners of ${host}: byClass does not mirror the tree`);
    }
  }
  return problems;
}

export function ipOf(cidrText: string): number {
  const r = parseCidr4(cidrText.includes('/') ? cidrText : `${cidrText}/32`);
  if (!r.ok) throw new Error(cidrText);
  return r.cidr.base;
}

export { formatIPv4 };

/** Rebuilds a state from a MemoryIpam's records (what a restarted replica would load). */
export function rebuilt(m: MemoryIpam): IpamState {
  return IpamState.fromRecords(m.state.topology, m.records(), m.revision);
}
