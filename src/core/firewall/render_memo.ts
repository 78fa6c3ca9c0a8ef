/**
 * RenderMemo: what a caller rendering many nodes of one policy model
 * (FirewallCluster) keeps between renders, because it does not depend on
 * the node: chains by content (a rule hash costs a SHA-256 and most nodes
 * share most chains), each policy's chain per variant (one when its rules
 * cannot depend on the node; per set of local named-port numbers for
 * ingress), and the port matches of each rule without named ports.
 *
 * Keys are model objects, immutable by contract, held weakly; the chain
 * memo is bounded. renderNodeFirewall, the reference, uses none of this.
 */
import { chainOf } from './chains.js';
import type { AddressSet, L4Protocol, ModelPolicy, PortMatch } from './model.js';
import type { DesiredChain } from './types.js';

/** Bound on memoized chains; past it the memo starts over (a long-lived model must not grow without end). */
const CHAIN_MEMO_LIMIT = 100_000;

export interface FixedPolicy {
  readonly chain: DesiredChain;
  /** The cluster-wide sets its rules refer to, by name, with the peer each stands for. */
  readonly sets: ReadonlyArray<readonly [string, AddressSet]>;
  /** The node-local named-port sets (`m`) it refers to: name, protocol, port name, number. */
  readonly localNamed: ReadonlyArray<readonly [string, L4Protocol, string, number]>;
}

export class RenderMemo {
  /** policy → variant (render.ts policyVariant: "" or named-port numbers) → its chain. */
  readonly policies = new WeakMap<ModelPolicy, Map<string, FixedPolicy>>();
  /** policy → its chain name; target → its node-local set name. */
  readonly names = new WeakMap<object, string>();
  /** a rule's port list → its matches (rules without named ports only). */
  readonly ports = new WeakMap<readonly PortMatch[], ReadonlyArray<{ proto: string; sets: string }>>();
  /** "<chain name>\n<spec>\n…" → chain. */
  private readonly chains = new Map<string, DesiredChain>();

  chain(name: string, specs: readonly string[]): DesiredChain {
    const key = `${name}\n${specs.join('\n')}`;
    let c = this.chains.get(key);
    if (!c) {
      if (this.chains.size >= CHAIN_MEMO_LIMIT) this.chains.clear();
      c = chainOf(name, specs);
      this.chains.set(key, c);
    }
    return c;
  }
}
