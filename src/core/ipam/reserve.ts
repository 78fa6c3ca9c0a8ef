/**
 * Address reservations ("blackout", reference §1.5): CIDRs inside a network
 * that allocation never hands out. Beyond the original, they are reachable
 * (daemon API) and stored one record per reservation.
 *
 * Rules: the CIDR must have no host bits and lie inside the network (found
 * from the CIDR when no network is named) without being the whole network
 * (remove the network instead); it may not cover allocated addresses
 * (RESERVATION_CONFLICT names them). Reserving a CIDR already covered by a
 * reservation changes nothing; a reservation that covers smaller ones
 * replaces them (as the original did). Unreserving needs the exact CIDR.
 *
 * Concurrency rule: pure planners. A reservation compares the revisions of
 * the existing blocks it overlaps, so it cannot commit over an allocation
 * made in them meanwhile; an allocation that creates a *new* block inside
 * the range concurrently is not detected (that would need a compare per
 * free slot) — reservations are an operator action, and the views show
 * every address, so such a race is visible.
 */
import { RomanaError } from '../errors.js';
import { cidrContains, cidrEquals, formatCidr, formatIPv4, parseCidr4, prefixSize, type Cidr4 } from '../ip.js';
import { reservationKey } from './keys.js';
import type { IpamState, NetIndex } from './state.js';
import type { Change, ReservationRecord } from './types.js';

export interface ReservePlan {
  reservation: ReservationRecord;
  /** Empty when an existing reservation already covers the CIDR. */
  changes: Change[];
}

function parse(cidr: string): Cidr4 {
  const r = typeof cidr === 'string' ? parseCidr4(cidr) : ({ ok: false, reason: 'not a string' } as const);
  if (!r.ok) throw new RomanaError('INVALID_CIDR', `Invalid reservation CIDR ${JSON.stringify(cidr)}: ${r.reason}`, { details: { cidr } });
  if (r.hostBitsSet) {
    throw new RomanaError('INVALID_CIDR', `Invalid reservation CIDR "${cidr}": host bits set (did you mean "${formatCidr(r.cidr)}"?)`, {
      details: { cidr },
    });
  }
  return r.cidr;
}

function networkFor(state: IpamState, network: string | undefined, c: Cidr4, text: string): NetIndex {
  if (network !== undefined) {
    const n = state.networks.get(network);
    if (!n) throw new RomanaError('NETWORK_NOT_FOUND', `Network "${network}" is not defined`, { resourceType: 'network', resourceId: network });
    if (!cidrContains(n.net.cidr, c)) {
      throw new RomanaError('INVALID_ARGUMENT', `Reservation "${text}" is outside network "${network}": ${formatCidr(n.net.cidr)}`, {
        details: { network, cidr: text },
      });
    }
    return n;
  }
  const n = state.netList.find((x) => cidrContains(x.net.cidr, c));
  if (!n) throw new RomanaError('NETWORK_NOT_FOUND', `No network contains reservation "${text}"`, { resourceType: 'network', resourceId: text });
  return n;
}

export function planReserve(state: IpamState, network: string | undefined, cidr: string): ReservePlan {
  const c = parse(cidr);
  const net = networkFor(state, network, c, cidr);
  const text = formatCidr(c);
  if (cidrEquals(c, net.net.cidr)) {
    throw new RomanaError('INVALID_ARGUMENT', `Reservation "${text}" covers all of network "${net.name}": remove the network instead`, {
      details: { network: net.name, cidr: text },
    });
  }
  const reservation: ReservationRecord = { schema: 1, network: net.name, cidr: text };
  for (const r of net.reservations.values()) if (cidrContains(r.cidr, c)) return { reservation, changes: [] };

  const first = c.base;
  const last = c.base + prefixSize(c.prefix) - 1;
  const conflicts: Array<{ name: string; ip: string }> = [];
  const changes: Change[] = [];
  for (const b of net.blocks) {
    if (b.base > last || b.base + b.size - 1 < first) continue;
    changes.push({ op: 'check', key: b.key, expect: b.revision });
    for (const off in b.value.names) {
      const ip = b.base + Number(off);
      if (ip >= first && ip <= last) conflicts.push({ name: b.value.names[off]!, ip: formatIPv4(ip) });
    }
  }
  if (conflicts.length > 0) {
    conflicts.sort((x, y) => (x.ip < y.ip ? -1 : 1));
    const shown = conflicts.slice(0, 5).map((x) => `${x.ip} ("${x.name}")`).join(', ');
    throw new RomanaError(
      'RESERVATION_CONFLICT',
      `Reservation "${text}" in network "${net.name}" overlaps allocated addresses: ${shown}${conflicts.length > 5 ? ` and ${conflicts.length - 5} more` : ''}`,
      { details: { network: net.name, cidr: text, addresses: conflicts } },
    );
  }
  for (const r of net.reservations.values()) {
    if (cidrContains(c, r.cidr)) changes.push({ op: 'delete', key: r.key, expect: r.revision });
  }
  changes.push({ op: 'put', key: reservationKey(net.name, text), value: reservation, expect: 0 });
  return { reservation, changes };
}

export function planUnreserve(state: IpamState, network: string | undefined, cidr: string): { changes: Change[] } {
  const c = parse(cidr);
  const net = networkFor(state, network, c, cidr);
  const key = reservationKey(net.name, formatCidr(c));
  const r = net.reservations.get(key);
  if (!r) {
    throw new RomanaError('NOT_FOUND', `No reservation "${formatCidr(c)}" in network "${net.name}"`, {
      resourceType: 'reservation',
      resourceId: formatCidr(c),
    });
  }
  return { changes: [{ op: 'delete', key, expect: r.revision }] };
}
