/**
 * The pure half of `romana policy simulate`: Kubernetes objects (as
 * `kubectl get ns,pods,netpol -A -o yaml` prints them) → a ClusterView;
 * probes; and the reachability matrix, judged by evaluating packets against
 * the *rendered* rules and ipsets of every node (evaluate.ts), never the
 * policy model — the point is to check what the renderer produces.
 *
 * Paths a probe takes: from pod A (veth `romana<hash of A>`) to pod B.
 * - A and B on one node: FORWARD -i vethA -o vethB on that node (egress and
 *   ingress are both decided there).
 * - Different nodes: FORWARD -i vethA -o eth0 on A's node (egress), then
 *   FORWARD -i eth0 -o vethB on B's node (ingress); both must accept.
 * - A to itself: always reachable. Traffic a pod sends to its own address
 *   stays in its network namespace and never reaches a node chain, which is
 *   also why Kubernetes policies cannot restrict it.
 * A named-port probe (`tcp/http`) uses the number B's container port of
 * that name has for the protocol; when B has no such port the probe fails
 * (there is nothing to connect to).
 *
 * Pods without an IPv4 address, on the host network, without a node, or
 * finished (Succeeded/Failed) are left out of the view and the matrix:
 * they have no Romana veth. Blocks: one /32 per pod (tenant = namespace,
 * segment = the segment label), which is what Romana tenant/segment sets
 * resolve to. Pure.
 */
import type { Problem } from '../errors.js';
import { parseIPv4 } from '../ip.js';
import type { RomanaPolicy } from '../policy/index.js';
import { compilePolicies, DEFAULT_SEGMENT_LABEL } from './compile.js';
import { evaluatePacket, type PacketProtocol } from './evaluate.js';
import type { BlockInfo, ClusterView, HostInfo, L4Protocol, NamespaceInfo, PodInfo, PodPort } from './model.js';
import { hex16 } from './names.js';
import { renderModel } from './render.js';
import type { DesiredFirewall } from './types.js';
import { namedPortOf } from './view_index.js';

export interface Probe {
  readonly protocol: PacketProtocol;
  /** A number, a port name (resolved per destination pod), or absent for ICMP (an echo request). */
  readonly port?: number | string;
}

/** The probe when none is given. */
export const DEFAULT_PROBE: Probe = { protocol: 'tcp', port: 80 };

/** `tcp/80`, `udp/53`, `sctp/9`, `tcp/http` (named), `icmp`. */
export function parseProbe(text: string): Probe | { error: string } {
  const m = /^(tcp|udp|sctp)\/(.+)$/i.exec(text.trim());
  if (/^icmp$/i.test(text.trim())) return { protocol: 'icmp' };
  if (!m) return { error: `invalid probe ${JSON.stringify(text)}: expected tcp/PORT, udp/PORT, sctp/PORT (PORT a number or a port name) or icmp` };
  const protocol = m[1]!.toLowerCase() as L4Protocol;
  const port = m[2]!;
  if (/^\d+$/.test(port)) {
    const n = Number(port);
    if (n < 1 || n > 65535) return { error: `invalid probe ${JSON.stringify(text)}: port must be 1-65535` };
    return { protocol, port: n };
  }
  if (!/^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/.test(port)) return { error: `invalid probe ${JSON.stringify(text)}: a port name is 1-15 lower-case letters, digits and "-"` };
  return { protocol, port };
}

export function probeText(p: Probe): string {
  return p.port === undefined ? p.protocol : `${p.protocol}/${p.port}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown): Record<string, string> {
  if (!isObject(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

/** Where an object came from, for messages ("cluster.yaml", "policies/a.yaml document 2"). */
export interface SourcedObject {
  readonly object: unknown;
  readonly source: string;
}

export interface KubeObjects {
  readonly namespaces: NamespaceInfo[];
  readonly pods: PodInfo[];
  /** NetworkPolicy objects with where each came from (same index). */
  readonly k8sPolicies: unknown[];
  readonly k8sPolicySources: string[];
  /** Node name → its address (from pods' status.hostIP). */
  readonly hosts: HostInfo[];
  /** Pods left out, with why: "ns/name: on the host network". */
  readonly skipped: string[];
  readonly problems: Problem[];
}

/**
 * Sorts Kubernetes objects (Lists flattened) into namespaces, pods and
 * network policies; other kinds are ignored. A NetworkPolicy without a
 * namespace gets `default`, as kubectl would give it.
 */
export function collectKubeObjects(objects: readonly SourcedObject[]): KubeObjects {
  const out: KubeObjects = { namespaces: [], pods: [], k8sPolicies: [], k8sPolicySources: [], hosts: [], skipped: [], problems: [] };
  const hostIps = new Map<string, string>();
  const visit = (o: unknown, source: string): void => {
    if (Array.isArray(o)) {
      o.forEach((item, i) => visit(item, `${source} item ${i}`));
      return;
    }
    if (!isObject(o)) {
      if (o !== null && o !== undefined) out.problems.push({ path: source, value: o, message: 'not a Kubernetes object' });
      return;
    }
    const kind = o.kind;
    if (kind === 'List' || (typeof kind === 'string' && kind.endsWith('List'))) {
      const items = Array.isArray(o.items) ? o.items : [];
      items.forEach((item, i) => visit(item, `${source} item ${i}`));
      return;
    }
    const meta = isObject(o.metadata) ? o.metadata : {};
    if (kind === 'Namespace') {
      if (typeof meta.name === 'string') out.namespaces.push({ name: meta.name, labels: stringMap(meta.labels) });
      return;
    }
    if (kind === 'NetworkPolicy') {
      const namespaced = typeof meta.namespace === 'string' && meta.namespace !== '' ? o : { ...o, metadata: { ...meta, namespace: 'default' } };
      out.k8sPolicies.push(namespaced);
      out.k8sPolicySources.push(source);
      return;
    }
    if (kind === 'Pod') {
      const r = podInfo(o);
      if (typeof r === 'string') out.skipped.push(r);
      else {
        out.pods.push(r.pod);
        if (r.hostIp !== undefined) hostIps.set(r.pod.node, r.hostIp);
      }
    }
  };
  for (const { object, source } of objects) visit(object, source);
  const nodes = [...new Set(out.pods.map((p) => p.node))].sort();
  for (const n of nodes) out.hosts.push({ name: n, ip: hostIps.get(n) ?? '' });
  return out;
}

function podInfo(o: Record<string, unknown>): { pod: PodInfo; hostIp: string | undefined } | string {
  const meta = isObject(o.metadata) ? o.metadata : {};
  const spec = isObject(o.spec) ? o.spec : {};
  const status = isObject(o.status) ? o.status : {};
  const namespace = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : 'default';
  const name = typeof meta.name === 'string' ? meta.name : '?';
  const id = `${namespace}/${name}`;
  if (spec.hostNetwork === true) return `${id}: on the host network`;
  if (status.phase === 'Succeeded' || status.phase === 'Failed') return `${id}: ${status.phase as string}`;
  if (typeof spec.nodeName !== 'string' || spec.nodeName === '') return `${id}: not scheduled to a node`;
  if (typeof status.podIP !== 'string' || parseIPv4(status.podIP) === null) return `${id}: no IPv4 address`;
  const ports: PodPort[] = [];
  for (const c of Array.isArray(spec.containers) ? spec.containers : []) {
    if (!isObject(c) || !Array.isArray(c.ports)) continue;
    for (const p of c.ports) {
      if (!isObject(p) || typeof p.containerPort !== 'number') continue;
      const protocol = p.protocol === 'UDP' || p.protocol === 'SCTP' ? p.protocol : 'TCP';
      ports.push({ ...(typeof p.name === 'string' ? { name: p.name } : {}), containerPort: p.containerPort, protocol });
    }
  }
  const pod: PodInfo = { namespace, name, labels: stringMap(meta.labels), ip: status.podIP, node: spec.nodeName, ports };
  return { pod, hostIp: typeof status.hostIP === 'string' ? status.hostIP : undefined };
}

/** One /32 block per pod: what Romana's tenant/segment sets resolve to in a simulated cluster. */
export function syntheticBlocks(pods: readonly PodInfo[], segmentLabel = DEFAULT_SEGMENT_LABEL): BlockInfo[] {
  return pods.map((p) => ({ cidr: `${p.ip}/32`, host: p.node, tenant: p.namespace, segment: p.labels[segmentLabel] ?? '' }));
}

export interface ProbeResult {
  readonly protocol: PacketProtocol;
  readonly port?: number | string;
  /** "<ns>/<pod>" of the sender → "<ns>/<pod>" of the receiver → reachable. */
  readonly matrix: Record<string, Record<string, boolean>>;
}

export interface SimulationResult {
  readonly probes: ProbeResult[];
  /** The rendered firewall of every node, by node name. */
  readonly firewalls: ReadonlyMap<string, DesiredFirewall>;
  readonly problems: Problem[];
}

export interface SimulateOptions {
  readonly segmentLabel?: string;
}

/** The veth name the simulator gives a pod's host side (matches the default `romana+`). */
export function simulatedVeth(pod: Pick<PodInfo, 'namespace' | 'name'>): string {
  return `romana${hex16(`${pod.namespace}/${pod.name}`).slice(0, 8)}`;
}

export const SIMULATED_UPLINK = 'eth0';

export function simulate(view: ClusterView, probes: readonly Probe[], opts: SimulateOptions = {}): SimulationResult {
  const segmentLabel = opts.segmentLabel ?? DEFAULT_SEGMENT_LABEL;
  const { model, problems } = compilePolicies(view, { segmentLabel });
  const pods = view.pods.filter((p) => parseIPv4(p.ip) !== null).slice();
  pods.sort((a, b) => cmp(podId(a), podId(b)));
  const firewalls = new Map<string, DesiredFirewall>();
  for (const node of [...new Set(pods.map((p) => p.node))].sort()) {
    firewalls.set(node, renderModel(model, view, node));
  }
  const veth = new Map(pods.map((p) => [p, simulatedVeth(p)]));
  const results: ProbeResult[] = probes.map((probe) => {
    const matrix: Record<string, Record<string, boolean>> = {};
    for (const src of pods) {
      const row: Record<string, boolean> = {};
      for (const dst of pods) row[podId(dst)] = src === dst || reachable(firewalls, src, dst, probe, veth);
      matrix[podId(src)] = row;
    }
    return { protocol: probe.protocol, ...(probe.port !== undefined ? { port: probe.port } : {}), matrix };
  });
  return { probes: results, firewalls, problems };
}

function reachable(fws: ReadonlyMap<string, DesiredFirewall>, src: PodInfo, dst: PodInfo, probe: Probe, veth: ReadonlyMap<PodInfo, string>): boolean {
  let dport: number | undefined;
  if (probe.protocol !== 'icmp') {
    dport = typeof probe.port === 'string' ? namedPortOf(dst, probe.protocol, probe.port) : probe.port;
    if (dport === undefined) return false;
  }
  const base = { src: src.ip, dst: dst.ip, protocol: probe.protocol, chain: 'FORWARD' as const, ...(dport !== undefined ? { dport } : {}) };
  if (src.node === dst.node) return evaluatePacket(fws.get(src.node)!, { ...base, inIface: veth.get(src)!, outIface: veth.get(dst)! }) === 'ACCEPT';
  return (
    evaluatePacket(fws.get(src.node)!, { ...base, inIface: veth.get(src)!, outIface: SIMULATED_UPLINK }) === 'ACCEPT' &&
    evaluatePacket(fws.get(dst.node)!, { ...base, inIface: SIMULATED_UPLINK, outIface: veth.get(dst)! }) === 'ACCEPT'
  );
}

export function podId(p: Pick<PodInfo, 'namespace' | 'name'>): string {
  return `${p.namespace}/${p.name}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A ClusterView from collected objects and extra Romana policies (blocks synthesized per pod). */
export function simulatedView(objs: KubeObjects, romanaPolicies: readonly RomanaPolicy[], segmentLabel = DEFAULT_SEGMENT_LABEL): ClusterView {
  return {
    namespaces: objs.namespaces,
    pods: objs.pods,
    k8sPolicies: objs.k8sPolicies,
    romanaPolicies,
    blocks: syntheticBlocks(objs.pods, segmentLabel),
    hosts: objs.hosts,
  };
}
