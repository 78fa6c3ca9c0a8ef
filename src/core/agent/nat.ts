/**
 * The nat table's desired state (reference §4.1 step 7, with the chain
 * kept at the top of POSTROUTING instead of appended): traffic from a pod
 * network to anywhere outside the pod networks leaves the node
 * masqueraded as the node; pod-to-pod traffic keeps its addresses (no
 * overlay, routed pod IPs).
 *
 *   POSTROUTING: -s <pod network> -j ROMANA-MASQ        (one per network)
 *   ROMANA-MASQ: -d <pod network> -j RETURN             (one per network)
 *                -j MASQUERADE
 *
 * With `--nat=false` the spec is empty and the driver removes the chain
 * and the jumps (after the first full sync). Pure.
 */
import { jumpHash, ruleHash } from '../firewall/names.js';
import { CHAIN_PREFIX, type DesiredChain, type DesiredRule } from '../firewall/types.js';
import type { TableSpec } from './types.js';

export const MASQ_CHAIN = `${CHAIN_PREFIX}MASQ`;

/** Hashes chained per rule as the renderer does (names.ts), so position is encoded. */
export function chainOf(name: string, specs: readonly string[]): DesiredChain {
  let prev = '';
  const rules: DesiredRule[] = specs.map((spec) => {
    prev = ruleHash(name, prev, spec);
    return { spec, hash: prev };
  });
  return { name, rules };
}

export function natSpec(podNetworks: readonly string[], enabled: boolean): TableSpec {
  if (!enabled || podNetworks.length === 0) return { chains: [], jumps: [] };
  const nets = [...new Set(podNetworks)].sort();
  const chain = chainOf(MASQ_CHAIN, [...nets.map((n) => `-d ${n} -j RETURN`), '-j MASQUERADE']);
  const jumps = nets.map((n) => {
    const match = `-s ${n}`;
    return { from: 'POSTROUTING', to: MASQ_CHAIN, match, hash: jumpHash('POSTROUTING', match, MASQ_CHAIN) };
  });
  return { chains: [chain], jumps };
}
