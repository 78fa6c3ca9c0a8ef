/**
 * The firewall's desired state: what the pure renderer (src/core/firewall)
 * produces for one node and what the agent's drivers apply (DESIGN §5,
 * STYLE 1–2). Drivers compare by the hash comment on each rule; they never
 * touch chains or sets whose names lack the owned prefixes.
 */

/** Owned name prefixes: everything else on the node belongs to somebody else. */
export const CHAIN_PREFIX = 'ROMANA-';
export const IPSET_PREFIX = 'romana-';

/** One rule of an owned chain, in iptables-save syntax without the leading "-A <chain> ". */
export interface DesiredRule {
  /** Match and target, e.g. `-m set --match-set romana-t-abc src -p tcp -m tcp --dport 80 -j ACCEPT`. */
  readonly spec: string;
  /**
   * Hash of (chain name, position-chained previous hash, spec): rendered as
   * `-m comment --comment "romana:<hash>"` so a restarted agent can diff
   * by hash alone (STYLE 2).
   */
  readonly hash: string;
}

export interface DesiredChain {
  /** Always starts with CHAIN_PREFIX. */
  readonly name: string;
  readonly rules: readonly DesiredRule[];
}

/** A jump from a built-in filter chain into an owned chain, kept at position 1 of the built-in chain. */
export interface DesiredJump {
  readonly from: 'INPUT' | 'FORWARD' | 'OUTPUT';
  readonly to: string;
  /** Extra match, e.g. `-i romana+` / `-o romana+` (veth prefix), may be "". */
  readonly match: string;
  readonly hash: string;
}

export interface DesiredIpset {
  /** Always starts with IPSET_PREFIX; at most 31 characters (kernel limit). */
  readonly name: string;
  readonly type: 'hash:net' | 'hash:ip';
  /** Sorted, deduplicated CIDRs or addresses. */
  readonly members: readonly string[];
}

/** Filter-table state for one node. Chains are listed in the order they must be created. */
export interface DesiredFirewall {
  readonly chains: readonly DesiredChain[];
  readonly jumps: readonly DesiredJump[];
  readonly ipsets: readonly DesiredIpset[];
}
