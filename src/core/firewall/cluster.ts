/**
 * FirewallCluster: every node's firewall from one shared, incremental model
 * of the cluster (issue 9: all 5,000 rulesets in seconds, a pod change in
 * under a millisecond).
 *
 * Goal: `renderNode(node)` equals `renderNodeFirewall(view, node)` for the
 * view the model was built from and changed into, without the reference's
 * cost per node of rebuilding cluster-wide sets (a namespaceSelector peer
 * is tens of thousands of pods) and of scanning cluster-wide lists for the
 * node's part.
 *
 * Design:
 * - The renderer is render.ts's, fed by this class as its RenderSource.
 * - Pods are grouped into classes of equal (namespace, labels): whether a
 *   policy target or a peer selector holds a pod depends on its class only,
 *   so each selector is matched once per class, not once per pod per node.
 *   A node's candidate policies are the union of its classes' (plus host
 *   policies and those targeting the tenants of its blocks).
 * - Each cluster-wide set (selector peers `s`, tenants `b`, named ports
 *   `n`, ipBlock exceptions `x`) is built once, on first use, and the same
 *   DesiredIpset object goes to every node; after that it is maintained per
 *   pod in place and copied out only when a render asks for it after a
 *   change (set_delta.ts). Tenant sets, hash:net with blocks covering pods, are
 *   rebuilt and diffed instead (O(tenant) per change; Romana tenants only).
 * - What does not depend on the node is rendered once (render_memo.ts):
 *   chains by content, each policy's chain once per variant (once, or once
 *   per set of local named-port numbers for ingress).
 * - Each render records which cluster-wide sets (and named-port number
 *   lists) the node used, so a change can name the nodes it concerns:
 *   `nodesUsing(set)` for member deltas, `FirewallDelta.nodes` for nodes
 *   whose own chains or node-local sets must be rendered again.
 *
 * Changes: addPod / removePod / updatePod, addBlock / removeBlock, and
 * setPolicies (recompiles: compiled Kubernetes policies are reused by object
 * identity, compile.ts, so an unchanged object is an unchanged policy; the
 * nodes reported are those where an added, removed or edited policy selects
 * an endpoint). Namespace labels are
 * fixed at construction: a change there means a new FirewallCluster. Pods
 * are identified by namespace/name; pods without an IPv4 address are left
 * out, as in the reference.
 *
 * Concurrency: none; a plain mutable object, changed and read by one
 * caller. DesiredFirewall values it returned are never mutated afterwards.
 * Pure (no I/O).
 */
import { cidr as trustedCidr, parseCidr4, parseIPv4 } from '../ip.js';
import type { Problem } from '../errors.js';
import type { RomanaPolicy } from '../policy/index.js';
import { compilePolicies, DEFAULT_SEGMENT_LABEL } from './compile.js';
import { formatMembers, host } from './members.js';
import type { BlockInfo, ClusterView, L4Protocol, ModelPolicy, NamespaceScope, PodInfo, PolicyModel, TargetSet } from './model.js';
import { DEFAULT_VETH_MATCH, renderFromSource, type RenderOptions } from './render.js';
import { RenderMemo } from './render_memo.js';
import type { RenderSource } from './render_source.js';
import { selectorKey, selectorMatches, type LabelSelector } from './selector.js';
import { CountedAddresses, DeltaCollector, type IpsetDelta } from './set_delta.js';
import type { DesiredFirewall, DesiredIpset } from './types.js';
import { NAMESPACE_NAME_LABEL, namedPortOf, scopeKey, type IndexedBlock, type IndexedPod } from './view_index.js';

export type { IpsetDelta } from './set_delta.js';

/** What one change did. */
export interface FirewallDelta {
  /** Cluster-wide sets whose members changed; the nodes holding one: `nodesUsing(name)`. */
  readonly ipsets: readonly IpsetDelta[];
  /** Nodes whose chains or node-local sets may have changed: render them again. Sorted. */
  readonly nodes: readonly string[];
}

/** Pods of equal namespace and labels: every selector decides them alike. */
class PodClass {
  readonly pods = new Set<PodRec>();
  /** selector meaning (scope + selector) → does it hold this class. */
  readonly matches = new Map<string, boolean>();
  /** Indices of policies with a target holding this class, for `epoch`. */
  candidates: number[] = [];
  epoch = -1;

  constructor(
    readonly key: string,
    readonly ns: string,
    readonly labels: Readonly<Record<string, string>>,
    readonly segment: string,
  ) {}
}

interface PodRec extends IndexedPod {
  readonly cls: PodClass;
}

interface NodeRec {
  readonly pods: PodRec[];
  /** class → this node's pods of it. */
  readonly classes: Map<PodClass, PodRec[]>;
  readonly blocks: IndexedBlock[];
  /** Candidate policies as of `epoch`; dropped when the node's classes or blocks change. */
  candidates: readonly ModelPolicy[] | null;
  epoch: number;
}

interface PodSetEntry {
  readonly key: string;
  readonly scope: NamespaceScope;
  readonly sel: LabelSelector;
  readonly addrs: CountedAddresses;
}

interface NamedSetEntry {
  readonly protocol: L4Protocol;
  readonly portName: string;
  readonly port: number;
  readonly addrs: CountedAddresses;
}

interface TenantSetEntry {
  readonly tenant: string;
  readonly segment: string | undefined;
  set: DesiredIpset;
}

export class FirewallCluster implements RenderSource {
  readonly segmentLabel: string;
  private readonly veth: string;
  private model: PolicyModel = { policies: [], segmentLabel: '' };
  private compileProblems: Problem[] = [];
  /** namespace → labels as given (the implicit name label is added on use). */
  private readonly nsLabels = new Map<string, Readonly<Record<string, string>>>();
  /** "<ns>/<name>" → pod. */
  private readonly pods = new Map<string, PodRec>();
  /** class key → class. */
  private readonly classes = new Map<string, PodClass>();
  /** namespace → its classes. */
  private readonly classesByNs = new Map<string, Set<PodClass>>();
  /** node → its pods and blocks. */
  private readonly nodes = new Map<string, NodeRec>();
  /** tenant → its blocks. */
  private readonly blocksByTenant = new Map<string, IndexedBlock[]>();
  // Policy indexes (into model.policies) by what their targets can hold.
  private byNs = new Map<string, number[]>();
  private byTenant = new Map<string, number[]>();
  private hostPolicies: number[] = [];
  private epoch = 0;
  // Cluster-wide sets by name.
  private readonly podSets = new Map<string, PodSetEntry>();
  private readonly namedSets = new Map<string, NamedSetEntry>();
  private readonly tenantSets = new Map<string, TenantSetEntry>();
  private readonly exceptSets = new Map<string, DesiredIpset>();
  /** "<protocol>/<name>" → port number → pods with it, for named ports some node has asked about. */
  private readonly namedNumbers = new Map<string, Map<number, number>>();
  /** dependency (set name, or "N:<protocol>/<name>") → nodes whose last render used it. */
  private readonly users = new Map<string, Set<string>>();
  /** node → its last render's dependencies. */
  private readonly nodeDeps = new Map<string, Set<string>>();
  private recording: Set<string> | null = null;
  private readonly memo = new RenderMemo();

  constructor(view: ClusterView, opts: RenderOptions = {}) {
    this.segmentLabel = opts.segmentLabel ?? DEFAULT_SEGMENT_LABEL;
    this.veth = opts.vethMatch ?? DEFAULT_VETH_MATCH;
    for (const ns of view.namespaces) this.nsLabels.set(ns.name, ns.labels);
    for (const b of view.blocks) this.indexBlock(b);
    for (const p of view.pods) this.indexPod(p);
    this.compile(view.k8sPolicies, view.romanaPolicies);
  }

  // ---- reading

  /** Compile problems of the current policies (paths into the view, compile.ts). */
  get problems(): readonly Problem[] {
    return this.compileProblems;
  }

  /** The firewall of `node`: deep-equal to renderNodeFirewall of the equivalent view. */
  renderNode(node: string): DesiredFirewall {
    const deps = new Set<string>();
    this.recording = deps;
    let fw: DesiredFirewall;
    try {
      fw = renderFromSource(this.model, this, node, this.veth, this.memo);
    } finally {
      this.recording = null;
    }
    const old = this.nodeDeps.get(node);
    if (old) for (const d of old) if (!deps.has(d)) this.users.get(d)?.delete(node);
    for (const d of deps) {
      if (old?.has(d)) continue;
      let u = this.users.get(d);
      if (!u) this.users.set(d, (u = new Set()));
      u.add(node);
    }
    this.nodeDeps.set(node, deps);
    return fw;
  }

  /** Nodes whose last render holds the cluster-wide set `name` (where a member delta must go). */
  nodesUsing(name: string): ReadonlySet<string> {
    return this.users.get(name) ?? EMPTY;
  }

  /** Nodes with pods or blocks, and nodes rendered so far. */
  knownNodes(): string[] {
    return [...new Set([...this.nodes.keys(), ...this.nodeDeps.keys()])].sort();
  }

  // ---- changes

  /** Adds a pod (or replaces the pod of the same namespace/name). */
  addPod(pod: PodInfo): FirewallDelta {
    const d = new Change();
    this.removeTracked(`${pod.namespace}/${pod.name}`, d);
    this.addTracked(pod, d);
    return d.result();
  }

  removePod(namespace: string, name: string): FirewallDelta {
    const d = new Change();
    this.removeTracked(`${namespace}/${name}`, d);
    return d.result();
  }

  /** Same as addPod: a pod's new version replaces the old one. */
  updatePod(pod: PodInfo): FirewallDelta {
    return this.addPod(pod);
  }

  addBlock(block: BlockInfo): FirewallDelta {
    const d = new Change();
    if (this.indexBlock(block)) this.blockChanged(block, d);
    return d.result();
  }

  /** Removes the block with this CIDR owned by `host`. */
  removeBlock(cidr: string, host: string): FirewallDelta {
    const d = new Change();
    const rec = this.nodes.get(host);
    const i = rec ? rec.blocks.findIndex((b) => b.block.cidr === cidr) : -1;
    if (rec && i >= 0) {
      const [b] = rec.blocks.splice(i, 1);
      rec.candidates = null;
      const list = this.blocksByTenant.get(b!.block.tenant)!;
      list.splice(list.indexOf(b!), 1);
      this.blockChanged(b!.block, d);
    }
    return d.result();
  }

  /**
   * Replaces every policy. A node's output changes only where a policy that
   * is new, gone or edited (a new compiled object) selects one of its
   * endpoints: those nodes are reported.
   */
  setPolicies(k8sPolicies: ClusterView['k8sPolicies'], romanaPolicies: ReadonlyArray<RomanaPolicy>): FirewallDelta {
    const before = new Set(this.model.policies);
    this.compile(k8sPolicies, romanaPolicies);
    const after = new Set(this.model.policies);
    const d = new Change();
    for (const p of before) if (!after.has(p)) this.selectingNodes(p, d);
    for (const p of after) if (!before.has(p)) this.selectingNodes(p, d);
    return d.result();
  }

  // ---- RenderSource

  candidatePolicies(model: PolicyModel, node: string): Iterable<ModelPolicy> {
    const rec = this.nodes.get(node);
    if (!rec) return this.hostPolicies.map((i) => model.policies[i]!);
    if (rec.candidates && rec.epoch === this.epoch) return rec.candidates;
    const idx = new Set<number>(this.hostPolicies);
    for (const cls of rec.classes.keys()) for (const i of this.classCandidates(cls)) idx.add(i);
    for (const b of rec.blocks) for (const i of this.byTenant.get(b.block.tenant) ?? []) idx.add(i);
    rec.candidates = [...idx].sort((a, b) => a - b).map((i) => model.policies[i]!);
    rec.epoch = this.epoch;
    return rec.candidates;
  }

  localPods(node: string): readonly IndexedPod[] {
    return this.nodes.get(node)?.pods ?? [];
  }

  localPodsIn(node: string, scope: NamespaceScope, sel: LabelSelector): readonly IndexedPod[] {
    const rec = this.nodes.get(node);
    if (!rec) return [];
    const key = `${scopeKey(scope)}\0${selectorKey(sel)}`;
    const out: PodRec[] = [];
    for (const [cls, pods] of rec.classes) if (this.classIn(cls, key, scope, sel)) out.push(...pods);
    return out;
  }

  localTenantPods(node: string, tenant: string, segment: string | undefined): readonly IndexedPod[] {
    const rec = this.nodes.get(node);
    if (!rec) return [];
    const out: PodRec[] = [];
    for (const [cls, pods] of rec.classes) if (cls.ns === tenant && (segment === undefined || cls.segment === segment)) out.push(...pods);
    return out;
  }

  localTenantBlocks(node: string, tenant: string, segment: string | undefined): readonly IndexedBlock[] {
    return (this.nodes.get(node)?.blocks ?? []).filter((b) => b.block.tenant === tenant && (segment === undefined || b.block.segment === segment));
  }

  localBlocks(node: string): readonly IndexedBlock[] {
    return this.nodes.get(node)?.blocks ?? [];
  }

  localNamedPods(node: string, protocol: L4Protocol, name: string, port: number): readonly IndexedPod[] {
    return this.localPods(node).filter((p) => namedPortOf(p.pod, protocol, name) === port);
  }

  namedPortNumbers(protocol: L4Protocol, name: string): readonly number[] {
    const key = `${protocol}/${name}`;
    this.recording?.add(`N:${key}`);
    let m = this.namedNumbers.get(key);
    if (!m) {
      m = new Map();
      for (const p of this.pods.values()) {
        const n = namedPortOf(p.pod, protocol, name);
        if (n !== undefined) m.set(n, (m.get(n) ?? 0) + 1);
      }
      this.namedNumbers.set(key, m);
    }
    return [...m.keys()];
  }

  podSet(name: string, scope: NamespaceScope, sel: LabelSelector): DesiredIpset {
    this.recording?.add(name);
    let e = this.podSets.get(name);
    if (!e) {
      const key = `${scopeKey(scope)}\0${selectorKey(sel)}`;
      const ips: number[] = [];
      for (const ns of scope.kind === 'name' ? [scope.name] : this.classesByNs.keys()) {
        for (const cls of this.classesByNs.get(ns) ?? []) if (this.classIn(cls, key, scope, sel)) for (const p of cls.pods) ips.push(p.ip);
      }
      e = { key, scope, sel, addrs: new CountedAddresses(name, ips) };
      this.podSets.set(name, e);
    }
    return e.addrs.set;
  }

  tenantSet(name: string, tenant: string, segment: string | undefined): DesiredIpset {
    this.recording?.add(name);
    let e = this.tenantSets.get(name);
    if (!e) {
      e = { tenant, segment, set: this.tenantMembers(name, tenant, segment) };
      this.tenantSets.set(name, e);
    }
    return e.set;
  }

  namedSet(name: string, protocol: L4Protocol, portName: string, port: number): DesiredIpset {
    this.recording?.add(name);
    let e = this.namedSets.get(name);
    if (!e) {
      const ips: number[] = [];
      for (const p of this.pods.values()) if (namedPortOf(p.pod, protocol, portName) === port) ips.push(p.ip);
      e = { protocol, portName, port, addrs: new CountedAddresses(name, ips) };
      this.namedSets.set(name, e);
    }
    return e.addrs.set;
  }

  exceptSet(name: string, except: readonly string[]): DesiredIpset {
    // Fixed members: no node needs telling about it after a change, so it is not recorded.
    let s = this.exceptSets.get(name);
    if (!s) {
      s = { name, type: 'hash:net', members: formatMembers(except.map(trustedCidr), 'hash:net') };
      this.exceptSets.set(name, s);
    }
    return s;
  }

  // ---- internals

  private compile(k8sPolicies: ClusterView['k8sPolicies'], romanaPolicies: ReadonlyArray<RomanaPolicy>): void {
    const r = compilePolicies({ k8sPolicies, romanaPolicies }, { segmentLabel: this.segmentLabel });
    this.model = r.model;
    this.compileProblems = r.problems;
    this.byNs = new Map();
    this.byTenant = new Map();
    this.hostPolicies = [];
    r.model.policies.forEach((p, i) => {
      const seen = new Set<string>();
      for (const t of p.targets) {
        if (t.kind === 'host') {
          if (!seen.has('')) this.hostPolicies.push(i);
          seen.add('');
        } else {
          const ns = t.kind === 'pods' ? t.namespaces.name : t.tenant;
          if (!seen.has(ns)) push(this.byNs, ns, i);
          if (t.kind === 'tenant' && !seen.has(`t:${ns}`)) {
            push(this.byTenant, ns, i);
            seen.add(`t:${ns}`);
          }
          seen.add(ns);
        }
      }
    });
    this.epoch++;
  }

  /** Marks the nodes where `p` has a target: the nodes of pods its targets hold, of blocks its tenants own, or all for the host. */
  private selectingNodes(p: ModelPolicy, d: Change): void {
    for (const t of p.targets) {
      if (t.kind === 'host') {
        for (const n of this.knownNodes()) d.node(n);
        continue;
      }
      const ns = t.kind === 'pods' ? t.namespaces.name : t.tenant;
      for (const cls of this.classesByNs.get(ns) ?? []) if (targetHolds(t, cls)) for (const pod of cls.pods) d.node(pod.pod.node);
      if (t.kind === 'tenant') for (const b of this.blocksByTenant.get(t.tenant) ?? []) if (t.segment === undefined || b.block.segment === t.segment) d.node(b.block.host);
    }
  }

  /** Policies with a target holding `cls` (memoized per policy epoch). */
  private classCandidates(cls: PodClass): readonly number[] {
    if (cls.epoch !== this.epoch) {
      cls.candidates = (this.byNs.get(cls.ns) ?? []).filter((i) => this.model.policies[i]!.targets.some((t) => targetHolds(t, cls)));
      cls.epoch = this.epoch;
    }
    return cls.candidates;
  }

  /** Does the selector meaning `key` (scope + selector) hold class `cls`? Memoized on the class. */
  private classIn(cls: PodClass, key: string, scope: NamespaceScope, sel: LabelSelector): boolean {
    let m = cls.matches.get(key);
    if (m === undefined) {
      const nsOk = scope.kind === 'name' ? scope.name === cls.ns : selectorMatches(scope.selector, this.namespaceLabels(cls.ns));
      m = nsOk && selectorMatches(sel, cls.labels);
      cls.matches.set(key, m);
    }
    return m;
  }

  private namespaceLabels(ns: string): Readonly<Record<string, string>> {
    return { [NAMESPACE_NAME_LABEL]: ns, ...this.nsLabels.get(ns) };
  }

  private nodeRec(node: string): NodeRec {
    let r = this.nodes.get(node);
    if (!r) this.nodes.set(node, (r = { pods: [], classes: new Map(), blocks: [], candidates: null, epoch: -1 }));
    return r;
  }

  private classOf(pod: PodInfo): PodClass {
    // Labels in insertion order: equal label maps written in another order only make another class, never a wrong one.
    let key = pod.namespace;
    for (const k in pod.labels) key += `\0${k}\0${pod.labels[k]!}`;
    let cls = this.classes.get(key);
    if (!cls) {
      cls = new PodClass(key, pod.namespace, pod.labels, pod.labels[this.segmentLabel] ?? '');
      this.classes.set(key, cls);
      let s = this.classesByNs.get(pod.namespace);
      if (!s) this.classesByNs.set(pod.namespace, (s = new Set()));
      s.add(cls);
    }
    return cls;
  }

  /** Indexes a pod (no set upkeep); null when it has no IPv4 address. */
  private indexPod(pod: PodInfo): PodRec | null {
    const ip = parseIPv4(pod.ip);
    if (ip === null) return null;
    const cls = this.classOf(pod);
    const rec: PodRec = { pod, ip, segment: cls.segment, cls };
    this.pods.set(`${pod.namespace}/${pod.name}`, rec);
    cls.pods.add(rec);
    const n = this.nodeRec(pod.node);
    n.pods.push(rec);
    n.candidates = null;
    const same = n.classes.get(cls);
    if (same) same.push(rec);
    else n.classes.set(cls, [rec]);
    return rec;
  }

  private indexBlock(block: BlockInfo): boolean {
    const r = parseCidr4(block.cidr);
    if (!r.ok) return false;
    const b: IndexedBlock = { block, cidr: r.cidr };
    const n = this.nodeRec(block.host);
    n.blocks.push(b);
    n.candidates = null;
    push(this.blocksByTenant, block.tenant, b);
    return true;
  }

  private addTracked(pod: PodInfo, d: Change): void {
    const rec = this.indexPod(pod);
    if (!rec) return;
    d.node(pod.node);
    this.podSetsUpkeep(rec, d, +1);
  }

  private removeTracked(id: string, d: Change): void {
    const rec = this.pods.get(id);
    if (!rec) return;
    this.pods.delete(id);
    const cls = rec.cls;
    cls.pods.delete(rec);
    if (cls.pods.size === 0) {
      this.classes.delete(cls.key);
      this.classesByNs.get(cls.ns)?.delete(cls);
    }
    const n = this.nodes.get(rec.pod.node)!;
    n.pods.splice(n.pods.indexOf(rec), 1);
    n.candidates = null;
    const same = n.classes.get(cls)!;
    same.splice(same.indexOf(rec), 1);
    if (same.length === 0) n.classes.delete(cls);
    d.node(rec.pod.node);
    this.podSetsUpkeep(rec, d, -1);
  }

  /** Keeps the cluster-wide sets and named-port numbers in step with one pod arriving (+1) or leaving (-1). */
  private podSetsUpkeep(rec: PodRec, d: Change, sign: 1 | -1): void {
    for (const [name, e] of this.podSets) {
      if (!this.classIn(rec.cls, e.key, e.scope, e.sel)) continue;
      const m = sign > 0 ? e.addrs.add(rec.ip) : e.addrs.remove(rec.ip);
      if (m !== null) (sign > 0 ? d.sets.added(name, m) : d.sets.removed(name, m));
    }
    for (const [name, e] of this.namedSets) {
      if (namedPortOf(rec.pod, e.protocol, e.portName) !== e.port) continue;
      const m = sign > 0 ? e.addrs.add(rec.ip) : e.addrs.remove(rec.ip);
      if (m !== null) (sign > 0 ? d.sets.added(name, m) : d.sets.removed(name, m));
    }
    for (const [name, e] of this.tenantSets) {
      if (e.tenant === rec.cls.ns && (e.segment === undefined || e.segment === rec.segment)) this.refreshTenant(name, e, d);
    }
    for (const [key, m] of this.namedNumbers) {
      const slash = key.indexOf('/');
      const n = namedPortOf(rec.pod, key.slice(0, slash) as L4Protocol, key.slice(slash + 1));
      if (n === undefined) continue;
      const before = m.get(n) ?? 0;
      const after = before + sign;
      if (after > 0) m.set(n, after);
      else m.delete(n);
      // A number appearing or vanishing adds or drops a rule on every node with an egress rule on that port name.
      if ((before === 0) !== (after === 0)) for (const node of this.users.get(`N:${key}`) ?? []) d.node(node);
    }
  }

  private blockChanged(block: BlockInfo, d: Change): void {
    d.node(block.host);
    for (const [name, e] of this.tenantSets) {
      if (e.tenant === block.tenant && (e.segment === undefined || e.segment === block.segment)) this.refreshTenant(name, e, d);
    }
  }

  private refreshTenant(name: string, e: TenantSetEntry, d: Change): void {
    const next = this.tenantMembers(name, e.tenant, e.segment);
    d.sets.replaced(name, e.set.members, next.members);
    e.set = next;
  }

  private tenantMembers(name: string, tenant: string, segment: string | undefined): DesiredIpset {
    const members = (this.blocksByTenant.get(tenant) ?? []).filter((b) => segment === undefined || b.block.segment === segment).map((b) => b.cidr);
    for (const cls of this.classesByNs.get(tenant) ?? []) {
      if (segment === undefined || cls.segment === segment) for (const p of cls.pods) members.push(host(p.ip));
    }
    return { name, type: 'hash:net', members: formatMembers(members, 'hash:net') };
  }
}

/** Does target `t` hold the pods of class `cls`? (Tenant targets also hold blocks; those come from byTenant.) */
function targetHolds(t: TargetSet, cls: PodClass): boolean {
  switch (t.kind) {
    case 'host':
      return false;
    case 'pods':
      return t.namespaces.name === cls.ns && selectorMatches(t.pods, cls.labels);
    case 'tenant':
      return t.tenant === cls.ns && (t.segment === undefined || t.segment === cls.segment);
  }
}

/** One change's effects as they are found. */
class Change {
  readonly sets = new DeltaCollector();
  private readonly nodes = new Set<string>();

  node(name: string): void {
    this.nodes.add(name);
  }

  result(): FirewallDelta {
    return { ipsets: this.sets.deltas(), nodes: [...this.nodes].sort() };
  }
}

const EMPTY: ReadonlySet<string> = new Set();

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
