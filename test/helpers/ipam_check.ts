/**
 * Reads the IPAM records straight from a store (not through any cache) and
 * checks that blocks and addresses agree: every address sits in an existing
 * block of its host at the offset the block names it under, every name a
 * block lists has its address record, and no IP is handed out twice.
 */
import { cidr, cidrContainsIp, parseIPv4 } from '../../src/core/ip.js';
import type { AddressRecord, BlockRecord } from '../../src/core/ipam/types.js';
import { decodeIpamRecord } from '../../src/store/codec.js';
import type { Store } from '../../src/store/store.js';

export interface IpamSnapshot {
  addresses: Map<string, AddressRecord>;
  blocks: Map<string, BlockRecord>;
  problems: string[];
}

export async function checkIpamConsistency(store: Store): Promise<IpamSnapshot> {
  const problems: string[] = [];
  const addresses = new Map<string, AddressRecord>();
  const blocks = new Map<string, BlockRecord>();
  for (const kv of (await store.range('addresses/')).kvs) addresses.set(kv.key.slice('addresses/'.length), decodeIpamRecord(kv.key, kv.value) as AddressRecord);
  for (const kv of (await store.range('blocks/')).kvs) blocks.set(kv.key, decodeIpamRecord(kv.key, kv.value) as BlockRecord);

  const byIp = new Map<string, string>();
  for (const [name, a] of addresses) {
    const other = byIp.get(a.ip);
    if (other !== undefined) problems.push(`IP ${a.ip} is held by both "${other}" and "${name}"`);
    byIp.set(a.ip, name);
    const b = blocks.get(`blocks/${a.network}/${a.block}`);
    if (!b) {
      problems.push(`address "${name}" (${a.ip}) points at missing block ${a.network}/${a.block}`);
      continue;
    }
    const c = cidr(b.cidr);
    const ip = parseIPv4(a.ip);
    if (ip === null || !cidrContainsIp(c, ip)) {
      problems.push(`address "${name}" (${a.ip}) is outside its block ${b.cidr}`);
      continue;
    }
    if (b.names[String(ip - c.base)] !== name) problems.push(`block ${b.cidr} does not list "${name}" at ${a.ip}`);
    if (b.host !== a.host) problems.push(`address "${name}" is on host "${a.host}" but its block ${b.cidr} belongs to "${b.host}"`);
  }
  for (const [key, b] of blocks) {
    const c = cidr(b.cidr);
    const offsets = Object.keys(b.names);
    if (offsets.length === 0) problems.push(`block ${key} is empty (emptied blocks must be deleted)`);
    for (const off of offsets) {
      const name = b.names[off]!;
      const a = addresses.get(name);
      if (!a) problems.push(`block ${key} lists "${name}" at offset ${off} but no address record exists`);
      else if (parseIPv4(a.ip) !== c.base + Number(off)) problems.push(`block ${key} lists "${name}" at offset ${off} but the address is ${a.ip}`);
    }
  }
  return { addresses, blocks, problems };
}
