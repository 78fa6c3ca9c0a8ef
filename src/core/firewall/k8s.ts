/**
 * Kubernetes `networking.k8s.io/v1` NetworkPolicy → model policies, with
 * validation that names every problem by its JSON path (STYLE 6).
 *
 * Semantics followed (Kubernetes API reference, NetworkPolicySpec):
 * - `policyTypes` absent or empty: `Ingress`, plus `Egress` when `egress`
 *   has at least one rule (the API server's defaulting). A policy selects
 *   pods in its own namespace by `podSelector` (`{}` = all of them) and
 *   isolates them for each of its policy types.
 * - A rule without `from`/`to` (or with an empty list) allows every peer; a
 *   rule without `ports` allows every port and protocol; `ingress: []` (or
 *   none) with type Ingress allows nothing.
 * - A peer is `ipBlock` alone, or `podSelector` and/or `namespaceSelector`:
 *   both → pods matching podSelector in namespaces matching
 *   namespaceSelector (AND); only podSelector → in the policy's namespace;
 *   only namespaceSelector → every pod of those namespaces. Several peers
 *   are alternatives (OR).
 * - Ports: protocol TCP (default), UDP or SCTP; `port` a number, a name
 *   (resolved per destination pod) or absent (whole protocol); `endPort`
 *   makes a range and needs a numeric port.
 *
 * Invalid input fails closed: a policy whose target can be read but whose
 * rules cannot still isolates its pods (with nothing allowed) and reports
 * the problems, so a typo never opens a pod that a policy meant to protect.
 * A policy whose target cannot be read (no namespace, bad podSelector) is
 * skipped with its problems. Earlier apiVersions with the same schema
 * (`extensions/v1beta1`, `networking.k8s.io/v1beta1`, which the original's
 * fixtures use) are accepted. IPv4 only, like the rest of Romana. Pure.
 */
import type { Problem } from '../errors.js';
import { formatCidr, parseCidr4, cidrContains, type Cidr4 } from '../ip.js';
import { jsonPathKey } from '../topology/index.js';
import type { AddressSet, Direction, L4Protocol, ModelPolicy, ModelRule, PortMatch } from './model.js';
import { MATCH_ALL, parseSelector } from './selector.js';

export const K8S_API_VERSIONS: readonly string[] = ['networking.k8s.io/v1', 'networking.k8s.io/v1beta1', 'extensions/v1beta1'];
const K8S_PROTOCOLS: Readonly<Record<string, L4Protocol>> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };
/** IANA_SVC_NAME (Kubernetes validation): 1-15 of [a-z0-9-], a letter somewhere, no leading/trailing or double '-'. */
const SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string, problems: Problem[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) problems.push({ path: jsonPathKey(path, k), value: obj[k], message: `unknown field (expected ${allowed.join(', ')})` });
  }
}

/** `undefined`/`null` → []; a list → itself; anything else → a problem and null. */
function list(v: unknown, path: string, problems: Problem[]): unknown[] | null {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  problems.push({ path, value: v, message: 'must be a list' });
  return null;
}

export interface K8sCompileResult {
  /** 0, 1 or 2 policies (one per isolated direction). */
  readonly policies: ModelPolicy[];
  readonly problems: Problem[];
}

/** Compiles one NetworkPolicy object found at `path` (e.g. `$.k8sPolicies[3]`). */
export function compileK8sPolicy(raw: unknown, path: string): K8sCompileResult {
  const problems: Problem[] = [];
  if (!isObject(raw)) {
    problems.push({ path, value: raw, message: 'must be a NetworkPolicy object' });
    return { policies: [], problems };
  }
  if (raw.kind !== undefined && raw.kind !== 'NetworkPolicy') problems.push({ path: `${path}.kind`, value: raw.kind, message: 'must be "NetworkPolicy"' });
  if (raw.apiVersion !== undefined && !K8S_API_VERSIONS.includes(raw.apiVersion as string)) {
    problems.push({ path: `${path}.apiVersion`, value: raw.apiVersion, message: `must be one of ${K8S_API_VERSIONS.join(', ')}` });
  }
  if (problems.length > 0) return { policies: [], problems };

  const meta = raw.metadata;
  let name: string | null = null;
  let namespace: string | null = null;
  if (!isObject(meta)) problems.push({ path: `${path}.metadata`, value: meta ?? null, message: 'must be an object with name and namespace' });
  else {
    if (typeof meta.name !== 'string' || meta.name === '') problems.push({ path: `${path}.metadata.name`, value: meta.name ?? null, message: 'must be a non-empty string' });
    else name = meta.name;
    if (typeof meta.namespace !== 'string' || meta.namespace === '') {
      problems.push({ path: `${path}.metadata.namespace`, value: meta.namespace ?? null, message: 'must be a non-empty string' });
    } else namespace = meta.namespace;
  }
  const specPath = `${path}.spec`;
  const spec = raw.spec ?? {};
  if (!isObject(spec)) {
    problems.push({ path: specPath, value: spec, message: 'must be an object' });
    return { policies: [], problems };
  }
  checkKeys(spec, ['podSelector', 'policyTypes', 'ingress', 'egress'], specPath, problems);
  const targetSelector = parseSelector(spec.podSelector, `${specPath}.podSelector`, problems);
  if (name === null || namespace === null || targetSelector === null) return { policies: [], problems };

  // Which directions this policy isolates. Unreadable policyTypes isolate both (fail closed).
  let directions: Direction[];
  const ptPath = `${specPath}.policyTypes`;
  const pt = list(spec.policyTypes, ptPath, problems);
  if (pt === null) directions = ['ingress', 'egress'];
  else if (pt.length === 0) {
    const egress = Array.isArray(spec.egress) && spec.egress.length > 0;
    directions = egress ? ['ingress', 'egress'] : ['ingress'];
  } else {
    const set = new Set<Direction>();
    let bad = false;
    pt.forEach((t, i) => {
      if (t === 'Ingress') set.add('ingress');
      else if (t === 'Egress') set.add('egress');
      else {
        problems.push({ path: `${ptPath}[${i}]`, value: t, message: 'must be "Ingress" or "Egress"' });
        bad = true;
      }
    });
    directions = bad ? ['ingress', 'egress'] : (['ingress', 'egress'] as const).filter((d) => set.has(d));
  }

  const rulesOf: Record<Direction, ModelRule[]> = {
    ingress: parseRules(spec.ingress, `${specPath}.ingress`, 'from', namespace, problems),
    egress: parseRules(spec.egress, `${specPath}.egress`, 'to', namespace, problems),
  };
  const failed = problems.length > 0;
  const key = `k8s:${namespace}/${name}`;
  const policies = directions.map(
    (direction): ModelPolicy => ({
      key,
      source: 'kubernetes',
      direction,
      targets: [{ kind: 'pods', namespaces: { kind: 'name', name: namespace }, pods: targetSelector }],
      rules: failed ? [] : rulesOf[direction],
    }),
  );
  return { policies, problems };
}

function parseRules(raw: unknown, path: string, peersKey: 'from' | 'to', namespace: string, problems: Problem[]): ModelRule[] {
  const rules = list(raw, path, problems);
  if (rules === null) return [];
  const out: ModelRule[] = [];
  rules.forEach((r, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(r)) {
      problems.push({ path: p, value: r, message: `must be an object with ${peersKey} and ports` });
      return;
    }
    checkKeys(r, [peersKey, 'ports'], p, problems);
    const peersRaw = list(r[peersKey], `${p}.${peersKey}`, problems);
    const portsRaw = list(r.ports, `${p}.ports`, problems);
    if (peersRaw === null || portsRaw === null) return;
    const peers: AddressSet[] = peersRaw.length === 0 ? [{ kind: 'all' }] : [];
    peersRaw.forEach((peer, j) => {
      const s = parsePeer(peer, `${p}.${peersKey}[${j}]`, namespace, problems);
      if (s) peers.push(s);
    });
    const ports: PortMatch[] = portsRaw.length === 0 ? [{ kind: 'proto', protocol: 'any' }] : [];
    portsRaw.forEach((port, j) => {
      const m = parsePort(port, `${p}.ports[${j}]`, problems);
      if (m) ports.push(m);
    });
    out.push({ peers, ports });
  });
  return out;
}

function parsePeer(raw: unknown, path: string, namespace: string, problems: Problem[]): AddressSet | null {
  if (!isObject(raw)) {
    problems.push({ path, value: raw, message: 'must be an object with podSelector, namespaceSelector or ipBlock' });
    return null;
  }
  checkKeys(raw, ['podSelector', 'namespaceSelector', 'ipBlock'], path, problems);
  const has = (k: string): boolean => raw[k] !== undefined && raw[k] !== null;
  if (has('ipBlock')) {
    if (has('podSelector') || has('namespaceSelector')) {
      problems.push({ path, value: raw, message: 'ipBlock cannot be combined with podSelector or namespaceSelector' });
      return null;
    }
    return parseIpBlock(raw.ipBlock, `${path}.ipBlock`, problems);
  }
  if (!has('podSelector') && !has('namespaceSelector')) {
    problems.push({ path, value: raw, message: 'must specify podSelector, namespaceSelector or ipBlock' });
    return null;
  }
  const pods = has('podSelector') ? parseSelector(raw.podSelector, `${path}.podSelector`, problems) : MATCH_ALL;
  const ns = has('namespaceSelector') ? parseSelector(raw.namespaceSelector, `${path}.namespaceSelector`, problems) : null;
  if (pods === null || (has('namespaceSelector') && ns === null)) return null;
  return { kind: 'pods', namespaces: ns ? { kind: 'selector', selector: ns } : { kind: 'name', name: namespace }, pods };
}

function parseCidr(v: unknown, path: string, problems: Problem[]): Cidr4 | null {
  if (typeof v !== 'string') {
    problems.push({ path, value: v ?? null, message: 'must be a CIDR string' });
    return null;
  }
  if (v.includes(':')) {
    problems.push({ path, value: v, message: 'IPv6 is not supported (Romana is IPv4 only)' });
    return null;
  }
  const r = parseCidr4(v);
  if (!r.ok) {
    problems.push({ path, value: v, message: `invalid CIDR: ${r.reason}` });
    return null;
  }
  // The API server accepts host bits here (it parses with net.ParseCIDR); so do we, keeping the network.
  return r.cidr;
}

function parseIpBlock(raw: unknown, path: string, problems: Problem[]): AddressSet | null {
  if (!isObject(raw)) {
    problems.push({ path, value: raw, message: 'must be an object with cidr and except' });
    return null;
  }
  checkKeys(raw, ['cidr', 'except'], path, problems);
  const before = problems.length;
  const c = parseCidr(raw.cidr, `${path}.cidr`, problems);
  const exceptRaw = list(raw.except, `${path}.except`, problems) ?? [];
  const except: string[] = [];
  exceptRaw.forEach((e, i) => {
    const x = parseCidr(e, `${path}.except[${i}]`, problems);
    if (!x || !c) return;
    if (!cidrContains(c, x) || x.prefix <= c.prefix) {
      problems.push({ path: `${path}.except[${i}]`, value: e, message: `must be strictly inside the cidr ${JSON.stringify(formatCidr(c))}` });
      return;
    }
    except.push(formatCidr(x));
  });
  if (problems.length > before || !c) return null;
  return { kind: 'cidr', cidr: formatCidr(c), except: [...new Set(except)].sort() };
}

function parsePort(raw: unknown, path: string, problems: Problem[]): PortMatch | null {
  if (!isObject(raw)) {
    problems.push({ path, value: raw, message: 'must be an object with protocol, port and endPort' });
    return null;
  }
  checkKeys(raw, ['protocol', 'port', 'endPort'], path, problems);
  const before = problems.length;
  let protocol: L4Protocol = 'tcp';
  if (raw.protocol !== undefined && raw.protocol !== null) {
    const p = typeof raw.protocol === 'string' ? K8S_PROTOCOLS[raw.protocol] : undefined;
    if (!p) problems.push({ path: `${path}.protocol`, value: raw.protocol, message: 'must be "TCP", "UDP" or "SCTP"' });
    else protocol = p;
  }
  const port = raw.port;
  const endPort = raw.endPort;
  const hasEnd = endPort !== undefined && endPort !== null;
  if (port === undefined || port === null) {
    if (hasEnd) problems.push({ path: `${path}.endPort`, value: endPort, message: 'needs a numeric port' });
    return problems.length > before ? null : { kind: 'proto', protocol };
  }
  if (typeof port === 'string') {
    if (port.length > 15 || !SVC_NAME.test(port)) {
      problems.push({ path: `${path}.port`, value: port, message: 'must be a port number or a port name (1-15 lower-case letters, digits and single "-", with a letter)' });
    }
    if (hasEnd) problems.push({ path: `${path}.endPort`, value: endPort, message: 'cannot be used with a named port' });
    return problems.length > before ? null : { kind: 'named', protocol, name: port };
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    problems.push({ path: `${path}.port`, value: port, message: 'must be an integer 1-65535 or a port name' });
    return null;
  }
  let end = port;
  if (hasEnd) {
    if (typeof endPort !== 'number' || !Number.isInteger(endPort) || endPort < port || endPort > 65535) {
      problems.push({ path: `${path}.endPort`, value: endPort, message: `must be an integer from the port (${port}) to 65535` });
      return null;
    }
    end = endPort;
  }
  return problems.length > before ? null : { kind: 'port', protocol, port, endPort: end };
}
