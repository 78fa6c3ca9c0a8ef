/**
 * Policies as the CLI shows them: the documented `securitypolicies` JSON
 * shape and a one-line summary for tables.
 *
 * Design: `policyToDocumented` is the inverse of parsing for the documented
 * style: parsePolicyDocument(policyToDocumented(p)) yields p again (tested
 * as a property), so JSON printed by `romana policy list -f json` can be
 * edited and posted back. The id is always included so the round trip keeps
 * it. Pure.
 */
import { normalizePolicy } from './normalize.js';
import { policyEntries, type DocumentedPolicies, type DocumentedPolicy, type Endpoint, type RomanaPolicy, type Rule } from './types.js';

export function policyToDocumented(p: RomanaPolicy): DocumentedPolicy {
  const n = normalizePolicy(p);
  const entries = policyEntries(n);
  const head = {
    id: n.id,
    name: n.name,
    ...(n.description !== undefined ? { description: n.description } : {}),
    direction: n.direction,
    applied_to: n.applied_to,
  };
  const only = entries.length === 1 ? entries[0] : undefined;
  if (only) return { ...head, peers: only.peers, rules: only.rules };
  return n.direction === 'ingress' ? { ...head, ingress: entries } : { ...head, egress: entries };
}

export function policiesToDocument(ps: readonly RomanaPolicy[]): DocumentedPolicies {
  return { securitypolicies: ps.map(policyToDocumented) };
}

/** "admin/default", "admin", "10.0.0.0/8", "any", "host", "local". */
export function describeEndpoint(e: Endpoint): string {
  if (e.peer !== undefined) return e.peer;
  if (e.cidr !== undefined) return e.cidr;
  if (e.dest !== undefined) return e.dest;
  if (e.tenant !== undefined) return e.segment !== undefined ? `${e.tenant}/${e.segment}` : e.tenant;
  return '?';
}

/** "tcp 22,80,1000-2000", "icmp type 3 code 1", "udp", "any"; " (stateful)" when so marked. */
export function describeRule(r: Rule): string {
  const ports = [...(r.ports ?? []).map(String), ...(r.port_ranges ?? []).map(([lo, hi]) => `${lo}-${hi}`)];
  let text: string = r.protocol;
  if (ports.length > 0) text += ` ${ports.join(',')}`;
  if (r.icmp_type !== undefined) text += ` type ${r.icmp_type}`;
  if (r.icmp_code !== undefined) text += ` code ${r.icmp_code}`;
  if (r.is_stateful) text += ' (stateful)';
  return text;
}

/**
 * One line for CLI tables, e.g.
 * `ingress to admin/default from any: tcp 22,80,443; icmp`. Entries are
 * separated by " | "; lists inside a part by ", ".
 */
export function describePolicy(p: RomanaPolicy): string {
  const n = normalizePolicy(p);
  const targets = n.applied_to.map(describeEndpoint).join(', ');
  const parts = policyEntries(n).map((e) => {
    const peers = e.peers.map(describeEndpoint).join(', ');
    const rules = e.rules.map(describeRule).join('; ');
    return n.direction === 'ingress' ? `from ${peers}: ${rules}` : `to ${peers}: ${rules}`;
  });
  const where = n.direction === 'ingress' ? 'to' : 'from';
  return `${n.direction} ${where} ${targets} ${parts.join(' | ')}`;
}
