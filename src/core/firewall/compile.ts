/**
 * compilePolicies: every policy in a ClusterView, whatever its format, into
 * one PolicyModel (model.ts).
 *
 * Romana policies (documented and v2 formats, already parsed by
 * src/core/policy) map as follows:
 * - target `tenant` [+ `segment`] → the tenant's [segment's] endpoints
 *   (blocks, and pods of namespace = tenant with the segment label);
 *   `dest: host` → the node itself (pod → node traffic, ROMANA-INPUT).
 * - peer `any` → every address; `cidr` → that CIDR; `tenant`/`segment` →
 *   its blocks and pods; `local` → the blocks of the node being rendered.
 * - Each entry keeps its peers paired with its own rules (the original
 *   cross-multiplied entries, reference §4.4).
 * - Rules allow, in both directions. The original rendered egress rules as
 *   DROPs; here an egress policy is an allow-list like a Kubernetes one, so
 *   both formats mean the same thing and isolation works one way.
 * - A Romana policy isolates what it targets, exactly like a Kubernetes
 *   policy: endpoints no policy selects accept everything.
 *
 * Problems carry JSON paths into the view (`$.k8sPolicies[2].spec…`,
 * `$.romanaPolicies[0]…`). One bad policy never disables the others
 * (reference §12 item 10). Pure.
 */
import type { Problem } from '../errors.js';
import { policyEntries, type Endpoint, type RomanaPolicy, type Rule } from '../policy/index.js';
import { compileK8sPolicy, type K8sCompileResult } from './k8s.js';
import type { AddressSet, ClusterView, ModelPolicy, ModelRule, PolicyModel, PortMatch, TargetSet } from './model.js';

export const DEFAULT_SEGMENT_LABEL = 'romana.io/segment';

export interface CompileOptions {
  /** Pod label holding the Romana segment (default `romana.io/segment`). */
  readonly segmentLabel?: string;
}

export interface CompileResult {
  readonly model: PolicyModel;
  readonly problems: Problem[];
}

export function compilePolicies(view: Pick<ClusterView, 'k8sPolicies' | 'romanaPolicies'>, opts: CompileOptions = {}): CompileResult {
  const problems: Problem[] = [];
  const policies: ModelPolicy[] = [];
  view.k8sPolicies.forEach((raw, i) => {
    const r = compileK8sCached(raw);
    policies.push(...r.policies);
    for (const p of r.problems) problems.push({ ...p, path: `$.k8sPolicies[${i}]${p.path.slice(1)}` });
  });
  view.romanaPolicies.forEach((p, i) => {
    const r = compileRomanaPolicy(p, `$.romanaPolicies[${i}]`);
    if (r.policy) policies.push(r.policy);
    problems.push(...r.problems);
  });
  policies.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.direction < b.direction ? -1 : a.direction > b.direction ? 1 : 0));
  // Two inputs with the same identity (a list holding one policy twice): the first wins, the rest are reported.
  const unique: ModelPolicy[] = [];
  for (const p of policies) {
    const prev = unique[unique.length - 1];
    if (prev && prev.key === p.key && prev.direction === p.direction) {
      problems.push({ path: '$', value: p.key, message: `duplicate policy ${JSON.stringify(p.key)} (${p.direction}): only the first is used` });
      continue;
    }
    unique.push(p);
  }
  return { model: { policies: unique, segmentLabel: opts.segmentLabel ?? DEFAULT_SEGMENT_LABEL }, problems };
}

/*
 * Compiled Kubernetes policies by object identity. A watch cache replaces
 * an object when it changes and keeps it otherwise, so after a one-policy
 * change only that policy is compiled again. Objects are treated as
 * immutable (as everything in a ClusterView is); problems are stored with
 * paths relative to the object ("$.spec…") and re-rooted per view.
 */
const k8sCache = new WeakMap<object, K8sCompileResult>();

function compileK8sCached(raw: unknown): K8sCompileResult {
  if (typeof raw !== 'object' || raw === null) return compileK8sPolicy(raw, '$');
  let r = k8sCache.get(raw);
  if (!r) {
    r = compileK8sPolicy(raw, '$');
    k8sCache.set(raw, r);
  }
  return r;
}

export function compileRomanaPolicy(p: RomanaPolicy, path: string): { policy: ModelPolicy | null; problems: Problem[] } {
  const problems: Problem[] = [];
  const targets: TargetSet[] = [];
  p.applied_to.forEach((e, i) => {
    if (e.dest === 'host' && p.direction === 'ingress') targets.push({ kind: 'host' });
    else if (e.tenant !== undefined && e.peer === undefined && e.cidr === undefined && e.dest === undefined) {
      targets.push(e.segment !== undefined ? { kind: 'tenant', tenant: e.tenant, segment: e.segment } : { kind: 'tenant', tenant: e.tenant });
    } else problems.push({ path: `${path}.applied_to[${i}]`, value: e, message: `cannot be a target of an ${p.direction} policy` });
  });
  const entriesKey = p.direction;
  const rules: ModelRule[] = policyEntries(p).map((entry, i) => {
    const peers: AddressSet[] = [];
    entry.peers.forEach((e, j) => {
      const s = romanaPeer(e);
      if (s) peers.push(s);
      else problems.push({ path: `${path}.${entriesKey}[${i}].peers[${j}]`, value: e, message: 'cannot be a peer' });
    });
    return { peers, ports: entry.rules.flatMap(romanaPorts) };
  });
  // Romana validation refuses these before they are stored; a view built by hand may still hold one.
  if (problems.length > 0) return { policy: targets.length > 0 ? { key: `romana:${p.id}`, source: 'romana', direction: p.direction, targets, rules: [] } : null, problems };
  return { policy: { key: `romana:${p.id}`, source: 'romana', direction: p.direction, targets, rules }, problems };
}

function romanaPeer(e: Endpoint): AddressSet | null {
  if (e.peer === 'any') return { kind: 'all' };
  if (e.peer === 'local') return { kind: 'localBlocks' };
  if (e.peer !== undefined || e.dest !== undefined) return null;
  if (e.cidr !== undefined) return { kind: 'cidr', cidr: e.cidr, except: [] };
  if (e.tenant !== undefined) return e.segment !== undefined ? { kind: 'tenant', tenant: e.tenant, segment: e.segment } : { kind: 'tenant', tenant: e.tenant };
  return null;
}

function romanaPorts(r: Rule): PortMatch[] {
  switch (r.protocol) {
    case 'any':
      return [{ kind: 'proto', protocol: 'any' }];
    case 'icmp':
      if (r.icmp_type === undefined) return [{ kind: 'proto', protocol: 'icmp' }];
      return [r.icmp_code === undefined ? { kind: 'icmp', type: r.icmp_type } : { kind: 'icmp', type: r.icmp_type, code: r.icmp_code }];
    default: {
      const protocol = r.protocol;
      const out: PortMatch[] = [];
      for (const port of r.ports ?? []) out.push({ kind: 'port', protocol, port, endPort: port });
      for (const [lo, hi] of r.port_ranges ?? []) out.push({ kind: 'port', protocol, port: lo, endPort: hi });
      return out.length > 0 ? out : [{ kind: 'proto', protocol }];
    }
  }
}
