/**
 * Canonical form of a policy, and content equality built on it.
 *
 * Goal: "same content" must be decidable by comparing strings, so that the
 * daemon can answer a repeated POST with a no-op and a changed one with 409,
 * and so that anything hashing a stored policy (rule comments, chain names)
 * gets the same hash however the author ordered the lists.
 *
 * Design: build a fresh object with keys in one fixed order and every list
 * that has set semantics (applied_to, entries, peers, rules, ports, ranges)
 * sorted by its elements' canonical JSON and deduplicated; optional lists
 * that are empty, an empty description and `is_stateful: false` are
 * dropped, because each means the same as its absence. List order carries
 * no meaning here: every entry allows, none denies, so order cannot change
 * the outcome. The result is idempotent: normalize(normalize(p)) deep-equals
 * normalize(p). Pure.
 */
import type { Endpoint, PolicyEntry, RomanaPolicy, Rule } from './types.js';

export function normalizeEndpoint(e: Endpoint): Endpoint {
  const out: { -readonly [K in keyof Endpoint]: Endpoint[K] } = {};
  if (e.peer !== undefined) out.peer = e.peer;
  if (e.cidr !== undefined) out.cidr = e.cidr;
  if (e.dest !== undefined) out.dest = e.dest;
  if (e.tenant !== undefined) out.tenant = e.tenant;
  if (e.segment !== undefined) out.segment = e.segment;
  return out;
}

export function normalizeRule(r: Rule): Rule {
  const out: { -readonly [K in keyof Rule]: Rule[K] } = { protocol: r.protocol };
  if (r.ports !== undefined && r.ports.length > 0) out.ports = [...new Set(r.ports)].sort((a, b) => a - b);
  if (r.port_ranges !== undefined && r.port_ranges.length > 0) {
    const ranges = r.port_ranges.map(([lo, hi]) => [lo, hi] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    out.port_ranges = ranges.filter((x, i) => i === 0 || x[0] !== ranges[i - 1]![0] || x[1] !== ranges[i - 1]![1]);
  }
  if (r.icmp_type !== undefined) out.icmp_type = r.icmp_type;
  if (r.icmp_code !== undefined) out.icmp_code = r.icmp_code;
  if (r.is_stateful === true) out.is_stateful = true;
  return out;
}

export function normalizeEntry(e: PolicyEntry): PolicyEntry {
  return { peers: sortedUnique(e.peers.map(normalizeEndpoint)), rules: sortedUnique(e.rules.map(normalizeRule)) };
}

/** The canonical form of `p` (a new object; `p` is not modified). */
export function normalizePolicy(p: RomanaPolicy): RomanaPolicy {
  const head = {
    id: p.id,
    name: p.name,
    ...(p.description !== undefined && p.description !== '' ? { description: p.description } : {}),
  };
  const appliedTo = sortedUnique(p.applied_to.map(normalizeEndpoint));
  if (p.direction === 'ingress') {
    return { ...head, direction: 'ingress', applied_to: appliedTo, ingress: sortedUnique(p.ingress.map(normalizeEntry)) };
  }
  return { ...head, direction: 'egress', applied_to: appliedTo, egress: sortedUnique(p.egress.map(normalizeEntry)) };
}

/** JSON text of the canonical form: equal strings ⇔ same policy content. */
export function canonicalPolicyJson(p: RomanaPolicy): string {
  return JSON.stringify(normalizePolicy(p));
}

export interface PolicyEqualsOptions {
  /**
   * Compare content only, not ids: for an incoming policy whose id was just
   * generated (documented-format input names a policy, it does not id it).
   */
  readonly ignoreId?: boolean;
}

/** Same content (after normalization); ids compared unless `ignoreId`. */
export function policyEquals(a: RomanaPolicy, b: RomanaPolicy, opts: PolicyEqualsOptions = {}): boolean {
  if (opts.ignoreId) return canonicalPolicyJson({ ...a, id: '' }) === canonicalPolicyJson({ ...b, id: '' });
  return canonicalPolicyJson(a) === canonicalPolicyJson(b);
}

/** Elements already normalized → sorted by their JSON text, duplicates dropped. */
function sortedUnique<T>(items: readonly T[]): T[] {
  const keyed = items.map((item) => ({ key: JSON.stringify(item), item }));
  // Code-unit order, not localeCompare: the canonical form must not depend on the host's locale.
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.filter((x, i) => i === 0 || x.key !== keyed[i - 1]!.key).map((x) => x.item);
}
