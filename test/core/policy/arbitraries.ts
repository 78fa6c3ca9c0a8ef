// fast-check generators of *valid* Romana policies, deliberately not in
// canonical form (unsorted lists, duplicate ports and peers, is_stateful:
// false, empty optional lists) so that properties exercise normalization.
import fc from 'fast-check';
import { formatCidr, prefixMask } from '../../../src/core/ip.js';
import {
  icmpCodesFor,
  RENDERABLE,
  type Direction,
  type Endpoint,
  type PeerKind,
  type PolicyEntry,
  type RomanaPolicy,
  type Rule,
  type TargetKind,
} from '../../../src/core/policy/index.js';

const label = fc.stringMatching(/^[a-zA-Z0-9_.-]{1,10}$/);
export const policyName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/);

const cidr = fc
  .record({ ip: fc.integer({ min: 0, max: 0xffffffff }), prefix: fc.integer({ min: 0, max: 32 }) })
  .map(({ ip, prefix }) => formatCidr({ base: (ip & prefixMask(prefix)) >>> 0, prefix }));

function peerOf(kind: PeerKind): fc.Arbitrary<Endpoint> {
  switch (kind) {
    case 'any':
    case 'local':
    case 'host':
      return fc.constant({ peer: kind });
    case 'cidr':
      return cidr.map((c) => ({ cidr: c }));
    case 'tenant':
      return label.map((t) => ({ tenant: t }));
    case 'tenantSegment':
      return fc.tuple(label, label).map(([t, s]) => ({ tenant: t, segment: s }));
  }
}

function targetOf(kind: TargetKind): fc.Arbitrary<Endpoint> {
  return kind === 'host' ? fc.constant({ dest: 'host' }) : peerOf(kind);
}

const port = fc.integer({ min: 1, max: 65535 });
const portRange = fc.tuple(port, port).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as [number, number]);
const stateful = fc.constantFrom<(boolean | undefined)[]>(undefined, false, true);

const portRule: fc.Arbitrary<Rule> = fc
  .record({
    protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const),
    ports: fc.option(fc.array(port, { maxLength: 5 }), { nil: undefined }),
    port_ranges: fc.option(fc.array(portRange, { maxLength: 3 }), { nil: undefined }),
    is_stateful: stateful,
  })
  .map((r) => dropUndefined(r));

const icmpRule: fc.Arbitrary<Rule> = fc.oneof(
  fc.constant<Rule>({ protocol: 'icmp' }),
  fc.integer({ min: 0, max: 255 }).map((t): Rule => ({ protocol: 'icmp', icmp_type: t })),
  fc
    .integer({ min: 0, max: 255 })
    .chain((t) => fc.constantFrom(...icmpCodesFor(t)).map((c): Rule => ({ protocol: 'icmp', icmp_type: t, icmp_code: c }))),
);

export const rule: fc.Arbitrary<Rule> = fc.oneof(portRule, icmpRule, fc.constant<Rule>({ protocol: 'any' }));

/** Target kinds with the peer kinds every one of them accepts (so any pairing renders). */
function targetsAndPeers(direction: Direction): fc.Arbitrary<{ targets: TargetKind[]; peers: PeerKind[] }> {
  const table = RENDERABLE[direction];
  const kinds = Object.keys(table) as TargetKind[];
  return fc.subarray(kinds, { minLength: 1 }).map((targets) => ({
    targets,
    peers: (table[targets[0]!] ?? []).filter((p) => targets.every((t) => (table[t] ?? []).includes(p))),
  }));
}

function listOf<K extends string>(kinds: readonly K[], of: (k: K) => fc.Arbitrary<Endpoint>, max: number): fc.Arbitrary<Endpoint[]> {
  return fc.array(fc.constantFrom(...kinds).chain(of), { minLength: 1, maxLength: max });
}

export const policy: fc.Arbitrary<RomanaPolicy> = fc.constantFrom<Direction[]>('ingress', 'egress').chain((direction) =>
  targetsAndPeers(direction).chain(({ targets, peers }) =>
    fc
      .record({
        id: policyName,
        name: policyName,
        description: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
        applied_to: listOf(targets, targetOf, 3),
        entries: fc.array(fc.record({ peers: listOf(peers, peerOf, 3), rules: fc.array(rule, { minLength: 1, maxLength: 4 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
      })
      .map(({ entries, ...rest }): RomanaPolicy => {
        const head = dropUndefined(rest);
        const list: PolicyEntry[] = entries;
        return direction === 'ingress' ? { ...head, direction, ingress: list } : { ...head, direction, egress: list };
      }),
  ),
);

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
