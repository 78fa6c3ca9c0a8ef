/**
 * The random IPAM operation model shared by the property tests
 * (property.test.ts: plans vs a rebuilt state; fast_path.test.ts: in-place
 * MemoryIpam vs plan + commit): host add/remove/relabel, allocation by
 * name/host/tenant/segment indexes, release of the pick-th live address,
 * reservations. Sizes and weights differ per test (how full the groups get).
 */
import fc from 'fast-check';

export const TENANTS = ['t0', 't1', 't2'];

export type Op =
  | { k: 'addHost'; host: number; rack: string | null }
  | { k: 'removeHost'; host: number }
  | { k: 'labels'; host: number; rack: string | null }
  | { k: 'allocate'; name: number; host: number; tenant: number; segment: number }
  /** Releases the pick-th live address (mod their number), or an unknown name when none is live. */
  | { k: 'release'; pick: number; byIp: boolean }
  | { k: 'reserve'; base: number; prefix: number }
  | { k: 'unreserve'; base: number; prefix: number };

export const rack = fc.constantFrom('a', 'b', null);

export interface OpShape {
  hosts: number;
  names: number;
  allocateWeight: number;
  releaseWeight: number;
  /** Reservations inside 10.0.0.0/24: last octet 0..maxBase, prefix minPrefix..32. */
  maxBase: number;
  minPrefix: number;
}

export function opArbitrary(s: OpShape): fc.Arbitrary<Op> {
  const host = fc.nat(s.hosts - 1);
  return fc.oneof(
    { weight: 1, arbitrary: fc.record({ k: fc.constant('addHost' as const), host, rack }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('removeHost' as const), host }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('labels' as const), host, rack }) },
    {
      weight: s.allocateWeight,
      arbitrary: fc.record({ k: fc.constant('allocate' as const), name: fc.nat(s.names - 1), host, tenant: fc.nat(TENANTS.length - 1), segment: fc.nat(1) }),
    },
    { weight: s.releaseWeight, arbitrary: fc.record({ k: fc.constant('release' as const), pick: fc.nat(), byIp: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('reserve' as const), base: fc.nat(s.maxBase), prefix: fc.integer({ min: s.minPrefix, max: 32 }) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('unreserve' as const), base: fc.nat(s.maxBase), prefix: fc.integer({ min: s.minPrefix, max: 32 }) }) },
  );
}

/** The reservation CIDR of an op: `base` rounded down to the prefix's alignment, in 10.0.0.0/24. */
export function cidrOf(base: number, prefix: number): string {
  const size = 2 ** (32 - prefix);
  return `10.0.0.${base - (base % size)}/${prefix}`;
}
