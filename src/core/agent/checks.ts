/**
 * Checks on the cluster the agent refuses to program (reference §4.1 step
 * 5): a pod network that overlaps the Kubernetes service range would route
 * service addresses to pods. Pure.
 */
import { cidrOverlaps, parseCidr4 } from '../ip.js';

/** The pod networks overlapping `serviceRange`. */
export function serviceRangeOverlaps(podNetworks: readonly string[], serviceRange: string | null): string[] {
  if (serviceRange === null) return [];
  const svc = parseCidr4(serviceRange);
  if (!svc.ok) return [];
  return podNetworks.filter((n) => {
    const c = parseCidr4(n);
    return c.ok && cidrOverlaps(c.cidr, svc.cidr);
  });
}
