/**
 * Which EC2 instance a Romana host is: from a Kubernetes provider ID
 * (`aws:///us-east-1a/i-0123…`, also `aws://us-east-1a/i-…`) or a bare
 * instance id carried in the host's tags. Hosts without either are looked
 * up by private IP by the caller.
 *
 * Pure.
 */

/** Tags (host labels) that may carry the provider ID or instance id, in the order they are tried. */
export const INSTANCE_TAGS = ['romana.io/provider-id', 'providerID', 'romana.io/instance-id', 'node.kubernetes.io/instance-id'] as const;

const INSTANCE_RE = /^i-[0-9a-f]{8,17}$/;

export function isInstanceId(s: string): boolean {
  return INSTANCE_RE.test(s);
}

/** `aws:///<zone>/<instance>` → its parts; null when it is not an AWS provider ID. */
export function parseProviderId(s: string): { zone: string | null; instanceId: string } | null {
  const m = /^aws:\/\/\/?(?:([a-z0-9-]+)\/)?(i-[0-9a-f]+)$/.exec(s.trim());
  if (!m || !isInstanceId(m[2]!)) return null;
  return { zone: m[1] ?? null, instanceId: m[2]! };
}

/** The instance id from a host's tags, or null. */
export function instanceIdFromTags(tags: Readonly<Record<string, string>>): string | null {
  for (const k of INSTANCE_TAGS) {
    const v = tags[k];
    if (v === undefined) continue;
    if (isInstanceId(v)) return v;
    const p = parseProviderId(v);
    if (p) return p.instanceId;
  }
  return null;
}
