/**
 * The agent's desired state beyond the filter-table firewall (whose
 * contract is src/core/firewall/types.ts): tables of owned chains with
 * jumps from any built-in chain (the nat table's POSTROUTING included), and
 * routes. Produced by the pure functions of this directory, applied by the
 * drivers in src/agent/drivers.
 */
import type { DesiredChain } from '../firewall/types.js';

/** A jump from a built-in chain (INPUT, FORWARD, OUTPUT, POSTROUTING, …) into an owned chain, kept at its top. */
export interface TableJump {
  readonly from: string;
  readonly to: string;
  /** Extra match, may be "". */
  readonly match: string;
  readonly hash: string;
}

/** One iptables table's owned state. */
export interface TableSpec {
  readonly chains: readonly DesiredChain[];
  readonly jumps: readonly TableJump[];
}

/** A route in the agent's table: unicast via a next hop, or `throw` (continue with the next rule's table) when `via` is absent. */
export interface DesiredRoute {
  /** "a.b.c.d/p" */
  readonly dst: string;
  readonly via?: string;
}

/** The minimal record fields the desired-state functions read. */
export interface HostLike {
  readonly name: string;
  readonly ip: string;
}

export interface BlockLike {
  readonly cidr: string;
  readonly host: string;
  readonly tenant: string;
  readonly segment: string;
}
