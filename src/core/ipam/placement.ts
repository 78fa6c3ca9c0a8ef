/**
 * Host placement: which leaf prefix group of a network a host goes to.
 *
 * Rule (DESIGN §3, reference §1.4 with the padding bug fixed): a leaf is
 * eligible when it is not padding and the assignment labels of the leaf and
 * of every ancestor are all carried by the host with the same value (a
 * missing label never matches, not even an empty value: the original
 * compared a missing key as ""). Among eligible leaves the one with the
 * fewest hosts wins, ties to the first in depth-first order; counts are
 * compared across the whole tree, not level by level.
 *
 * Pure functions over the state's indexes.
 */
import { formatCidr } from '../ip.js';
import type { CarvedGroup } from '../topology/types.js';
import type { IpamState, LeafIndex, NetIndex } from './state.js';

export type Labels = Readonly<Record<string, string>>;

/** Labels of `assignment` the host lacks or has with another value, as `key="value"` texts. */
export function missingLabels(labels: Labels, assignment: Labels): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(assignment)) {
    if (!Object.hasOwn(labels, k) || labels[k] !== v) out.push(`${k}=${JSON.stringify(v)}`);
  }
  return out;
}

export function leafFits(leaf: LeafIndex, labels: Labels): boolean {
  for (const [k, v] of leaf.required) if (!Object.hasOwn(labels, k) || labels[k] !== v) return false;
  return true;
}

/** The leaf a new host goes to in `net`, or null when none is eligible. */
export function chooseLeaf(net: NetIndex, labels: Labels): LeafIndex | null {
  let best: LeafIndex | null = null;
  for (const leaf of net.leafList) {
    if (leaf.slotCount === 0 || !leafFits(leaf, labels)) continue;
    if (!best || leaf.hosts.size < best.hosts.size) best = leaf;
  }
  return best;
}

export function groupLabel(g: CarvedGroup): string {
  return g.name ? `"${g.name}" (${g.path}, ${formatCidr(g.cidr)})` : `"${g.path}" (${formatCidr(g.cidr)})`;
}

/**
 * Explains why no leaf accepts `labels`: the usable leaf needing the fewest
 * extra labels, and those labels. Null when the topology has no usable leaf.
 */
export function closestMiss(state: IpamState, labels: Labels): { net: NetIndex; leaf: LeafIndex; missing: string[] } | null {
  let best: { net: NetIndex; leaf: LeafIndex; missing: string[] } | null = null;
  for (const net of state.netList) {
    for (const leaf of net.leafList) {
      const missing = leaf.chain.flatMap((g) => missingLabels(labels, g.assignment));
      if (!best || missing.length < best.missing.length) best = { net, leaf, missing };
    }
  }
  return best;
}

/** Sentence fragment describing a host's labels for error messages. */
export function describeLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return parts.length === 0 ? 'no labels' : `labels ${parts.join(', ')}`;
}
