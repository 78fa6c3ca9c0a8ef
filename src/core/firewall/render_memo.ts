/**
 * RenderMemo: what a caller rendering many nodes of one policy model
 * (FirewallCluster) keeps between renders, because it does not depend on
 * the node: chains by content (a rule hash costs a SHA-256 and most nodes
 * share most chains), the chain of each policy whose rules cannot depend on
 * the node, and the port matches of each rule without named ports.
 *
 * Keys are model objects, immutable by contract, held weakly; the chain
 * memo is bounded. renderNodeFirewall, the reference, uses none of this.
 */
import { chainOf } from './chains.js';
import type { AddressSet, ModelPolicy, PortMatch } from './model.js';
import type { DesiredChain } from './types.js';

/** Bound on memoized chains; past it the memo starts over (a long-lived model must not grow without end). */
const CHAIN_MEMO_LIMIT = 100_000;

export interface FixedPolicy {
  readonly chain: DesiredChain;
  /** The cluster-wide sets its rules refer to, by name, with the peer each stands for. */
  readonly sets: ReadonlyArray<readonly [string, AddressSet]>;
}

export class RenderMemo {
  /** policy → its node-independent chain, or null when its rules depend on the node. */
  readonly policies = new WeakMap<ModelPolicy, FixedPolicy | null>();
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
