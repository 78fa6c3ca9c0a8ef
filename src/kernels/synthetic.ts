/**
 * Deterministic synthetic route tables shaped like a Romana cluster, for the
 * kernel benchmarks, the pool crossover measurement and large tests.
 *
 * Goal: inputs that look like what the agent and publisher aggregate: /29
 * pod blocks of thousands of hosts inside topology prefix groups, with gaps
 * from released blocks, plus a sprinkle of unrelated prefixes.
 * Design: 10.0.0.0/8 is split into `groups` equal prefix groups; each group's
 * block slots are handed out in request order to its hosts, interleaved (hosts
 * ask for blocks over time), and ~5% are released again. A block's next hop
 * is its group's gateway (a few next hops), except in group 0, the "local"
 * group, where it is the owning host (many next hops). 3% of the routes are
 * random prefixes (/8–/32) anywhere, via a random gateway. `singleNextHop`
 * rewrites every next hop to 0 (for tools that ignore next hops).
 * Concurrency rule: pure function of its options (seeded xorshift).
 */

export interface SyntheticRouteOptions {
  routes: number;
  /** Prefix groups (a power of two ≤ 256 keeps them aligned; default 16). */
  groups?: number;
  /** Hosts over all groups (default: routes / 24, i.e. ~24 blocks a host). */
  hosts?: number;
  seed?: number;
  singleNextHop?: boolean;
}

function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

/** Routes as u32 triplets (address, length, next hop); see RouteTriplets. */
export function syntheticRoutes(opts: SyntheticRouteOptions): Uint32Array {
  const n = opts.routes;
  const groups = opts.groups ?? 16;
  const hosts = Math.max(groups, opts.hosts ?? Math.ceil(n / 24));
  const rand = xorshift(opts.seed ?? 1);
  const out = new Uint32Array(3 * n);
  const groupBits = Math.ceil(Math.log2(groups));
  const groupSize = 2 ** (24 - groupBits); // addresses of 10/8 per group
  const slotsPerGroup = groupSize / 8;
  const nextSlot = new Array<number>(groups).fill(0);
  const hostsPerGroup = Math.ceil(hosts / groups);
  const randomCount = Math.floor(n * 0.03);
  let i = 0;
  while (i < n - randomCount) {
    const g = rand() % groups;
    if (nextSlot[g]! >= slotsPerGroup) continue;
    const slot = nextSlot[g]!++;
    if (rand() % 100 < 5) continue; // released again: leaves a hole
    const host = rand() % hostsPerGroup;
    out[3 * i] = (0x0a000000 + g * groupSize + slot * 8) >>> 0;
    out[3 * i + 1] = 29;
    out[3 * i + 2] = g === 0 ? 1000 + host : g % 8; // local group: per host; remote: a few gateways
    i++;
  }
  for (; i < n; i++) {
    const len = 8 + (rand() % 25);
    out[3 * i] = rand();
    out[3 * i + 1] = len;
    out[3 * i + 2] = rand() % 8;
  }
  if (opts.singleNextHop) for (let j = 2; j < out.length; j += 3) out[j] = 0;
  return out;
}
