/**
 * Deterministic names, so that a retried or later verb for the same
 * attachment finds what an earlier one created without any local state:
 *
 * - host-side veth: "romana" + the first 9 hex digits of sha256(container
 *   id) — 15 characters, the kernel's limit; 36 bits of hash instead of the
 *   original's 8 raw id characters (reference §12 item 11). The agent's
 *   iptables jumps match the prefix (`-i romana+`).
 * - address name: "cni:<namespace>:<pod>:<container id>:<ifname>" for a
 *   Kubernetes pod, "cni:<container id>:<ifname>" otherwise. One address
 *   per CNI attachment (the spec's key is container id + ifname), readable
 *   in `romana address list`, and parseable back for GC. ":" cannot occur in
 *   any of the parts (Kubernetes names, container ids and interface names
 *   all exclude it), so the split is unambiguous.
 */
import { createHash } from 'node:crypto';
import type { PodRef } from './env.js';

export const VETH_PREFIX = 'romana';
export const ADDRESS_PREFIX = 'cni:';
/** The link-local gateway every pod routes through; the host-side veth holds it (machine-notes §3). */
export const GATEWAY = '169.254.1.1';

export function vethName(containerId: string): string {
  return VETH_PREFIX + createHash('sha256').update(containerId).digest('hex').slice(0, 9);
}

export function addressName(containerId: string, ifname: string, pod: PodRef | null): string {
  return pod === null
    ? `${ADDRESS_PREFIX}${containerId}:${ifname}`
    : `${ADDRESS_PREFIX}${pod.namespace}:${pod.name}:${containerId}:${ifname}`;
}

export interface ParsedAddressName {
  containerId: string;
  ifname: string;
  pod: PodRef | null;
}

/** The attachment an address name was made for; null for names romana-cni did not make. */
export function parseAddressName(name: string): ParsedAddressName | null {
  if (!name.startsWith(ADDRESS_PREFIX)) return null;
  const parts = name.slice(ADDRESS_PREFIX.length).split(':');
  if (parts.some((p) => p === '')) return null;
  if (parts.length === 2) return { containerId: parts[0]!, ifname: parts[1]!, pod: null };
  if (parts.length === 4) return { containerId: parts[2]!, ifname: parts[3]!, pod: { namespace: parts[0]!, name: parts[1]! } };
  return null;
}
