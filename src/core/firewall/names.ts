/**
 * Names and hashes of everything the renderer owns (STYLE 2: marks we can
 * trust after a restart).
 *
 * - Rule hash: 16 hex digits of SHA-256 over (chain name, previous rule's
 *   hash, spec), so equal text at another position or in another chain gets
 *   another hash and the agent can diff a chain by hashes alone (Felix's
 *   scheme). Rendered as `-m comment --comment "romana:<hash>"`.
 * - Jump hash: over (built-in chain, match, target); jumps are independent
 *   of each other's position.
 * - Chain names: `ROMANA-` + a fixed word for the base chains, and
 *   `ROMANA-P-<16 hex of the policy identity>-I|E|H` for policy chains:
 *   hashing the identity (not the content) keeps a chain's name when its
 *   policy is edited, so an edit rewrites rules instead of chains. 27
 *   characters, under iptables' 28.
 * - Ipset names: `romana-<role>-<16 hex of the set's meaning>` (25
 *   characters, under the kernel's 31), where the meaning is what the set
 *   stands for (a selector and its namespace scope, a tenant/segment, a
 *   CIDR's exceptions…), never its members: pods coming and going change a
 *   set's members, not its name, and so never rename a set or touch a rule
 *   that refers to it. A few singletons have fixed names.
 *
 * Hashes use SHA-256 from node:crypto: deterministic computation, no I/O,
 * so src/core stays pure. Collisions at 64 bits are not a practical concern
 * for a few thousand names per node.
 */
import * as crypto from 'node:crypto';
import { CHAIN_PREFIX, IPSET_PREFIX } from './types.js';

/*
 * crypto.hash (Node >= 20.12) is the one-shot form: ~0.7 µs for a rule
 * spec here against ~1.8 µs for createHash().update().digest(), which was
 * a third of a 1,000-pod render. Older Node 20 releases fall back.
 */
const sha256hex: (text: string) => string =
  typeof crypto.hash === 'function' ? (text) => crypto.hash('sha256', text, 'hex') : (text) => crypto.createHash('sha256').update(text).digest('hex');

export function hex16(text: string): string {
  return sha256hex(text).slice(0, 16);
}

/*
 * Names (of sets, policy chains, jumps) are hashed again for every node
 * that renders them: a few thousand distinct texts, looked up millions of
 * times when a whole cluster is rendered. Rule hashes are not memoized
 * (they chain per position; chains are memoized instead, cluster.ts). The
 * bound keeps a long-lived process from growing without end.
 */
const NAME_MEMO_LIMIT = 50_000;
const nameMemo = new Map<string, string>();

function memoHex16(text: string): string {
  let h = nameMemo.get(text);
  if (h === undefined) {
    if (nameMemo.size >= NAME_MEMO_LIMIT) nameMemo.clear();
    h = hex16(text);
    nameMemo.set(text, h);
  }
  return h;
}

export function ruleHash(chain: string, previous: string, spec: string): string {
  return hex16(`rule\0${chain}\0${previous}\0${spec}`);
}

export function jumpHash(from: string, match: string, to: string): string {
  return memoHex16(`jump\0${from}\0${match}\0${to}`);
}

/** Base chains: the four the built-in chains jump to, and the two shared stages. */
export const CHAIN = {
  /** INPUT -i <veth>: local pods → this node. */
  INPUT: `${CHAIN_PREFIX}INPUT`,
  /** OUTPUT -o <veth>: this node → local pods. */
  OUTPUT: `${CHAIN_PREFIX}OUTPUT`,
  /** FORWARD -o <veth>: anything → local pods (ingress). */
  FORWARD_IN: `${CHAIN_PREFIX}FORWARD-IN`,
  /** FORWARD -i <veth>: local pods → anything but this node (egress). */
  FORWARD_OUT: `${CHAIN_PREFIX}FORWARD-OUT`,
  /** Ingress decision for traffic to local pods (policy dispatch, isolation). */
  INGRESS: `${CHAIN_PREFIX}INGRESS`,
  /** Egress allowed: on to the ingress decision when the destination is local, else accept. */
  EGRESS_OK: `${CHAIN_PREFIX}EGRESS-OK`,
} as const;

export type PolicyChainKind = 'I' | 'E' | 'H';

/** `ROMANA-P-<hash of the policy key>-<I|E|H>` (ingress to pods, egress from pods, ingress to the host). */
export function policyChainName(policyKey: string, kind: PolicyChainKind): string {
  return `${CHAIN_PREFIX}P-${memoHex16(`policy\0${policyKey}`)}-${kind}`;
}

/**
 * Ipset roles (one letter in the name):
 * - `s` pods matching a selector in a namespace scope, cluster-wide (hash:ip)
 * - `l` the same restricted to this node's pods: policy targets (hash:ip)
 * - `b` a tenant [/segment]'s blocks and pods, cluster-wide (hash:net)
 * - `k` the same restricted to this node: Romana targets (hash:net)
 * - `x` the exceptions of an ipBlock (hash:net)
 * - `n` pods whose named port resolves to a number, cluster-wide (hash:ip)
 * - `m` the same restricted to this node (hash:ip)
 */
export type SetRole = 's' | 'l' | 'b' | 'k' | 'x' | 'n' | 'm';

export function setName(role: SetRole, meaning: string): string {
  return `${IPSET_PREFIX}${role}-${memoHex16(`set\0${role}\0${meaning}`)}`;
}

/** Singleton sets. */
export const SET = {
  /** This node's endpoints isolated for ingress (hash:net). */
  ISOLATED_INGRESS: `${IPSET_PREFIX}isolated-in`,
  /** This node's endpoints isolated for egress (hash:net). */
  ISOLATED_EGRESS: `${IPSET_PREFIX}isolated-out`,
  /** This node's blocks and pods: Romana `peer: local` (hash:net). */
  LOCAL: `${IPSET_PREFIX}local`,
} as const;

/** The kernel's limits (IPSET_MAXNAMELEN 32 and XT_EXTENSION_MAXNAMELEN 29, both with the NUL). */
export const MAX_IPSET_NAME = 31;
export const MAX_CHAIN_NAME = 28;
