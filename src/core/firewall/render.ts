/**
 * renderNodeFirewall: the filter-table rules and ipsets one node needs
 * (DESIGN §5), as a DesiredFirewall for the agent's drivers.
 *
 * Packet paths (veth match `romana+` by default):
 *
 *   INPUT   -i veth → ROMANA-INPUT        local pod → this node
 *   FORWARD -o veth → ROMANA-FORWARD-IN   anything → local pod (ingress)
 *   FORWARD -i veth → ROMANA-FORWARD-OUT  local pod → elsewhere (egress)
 *   OUTPUT  -o veth → ROMANA-OUTPUT       this node → local pod
 *
 *   ROMANA-FORWARD-IN   established → ACCEPT; from a local pod → RETURN
 *                       (that packet is decided by FORWARD-OUT, which checks
 *                       egress first); → ROMANA-INGRESS
 *   ROMANA-FORWARD-OUT  established → ACCEPT; per egress policy: source in
 *                       its targets → its chain; source isolated → DROP;
 *                       → ROMANA-EGRESS-OK
 *   ROMANA-EGRESS-OK    to a local pod → ROMANA-INGRESS; ACCEPT
 *   ROMANA-INGRESS      per ingress policy: destination in its targets → its
 *                       chain; destination isolated → DROP; ACCEPT
 *   ROMANA-P-<h>-I|E    one rule per (peer, ports) of each policy rule;
 *                       match → ACCEPT (ingress) / → ROMANA-EGRESS-OK (egress)
 *   ROMANA-INPUT        established → ACCEPT; Romana `dest: host` policies
 *                       (ROMANA-P-<h>-H, match → ACCEPT); DROP when any
 *                       exists, else ACCEPT
 *   ROMANA-OUTPUT       ACCEPT (the node may always reach its pods)
 *
 * Why this shape: egress is enforced on the sending node and ingress on
 * the receiving one, and pod → pod on one node passes both exactly once,
 * whatever order the two FORWARD jumps end up in. Only isolated endpoints
 * are ever dropped (Kubernetes semantics): a pod no policy selects accepts
 * everything. Traffic between a pod and its own node is never subject to
 * pod policies (Kubernetes: "traffic to and from the node where a Pod is
 * running is always allowed"); Romana host policies restrict pod → node.
 *
 * Only policies selecting an endpoint of this node are rendered. Output is
 * deterministic: policies in model order, sets and chains sorted, members
 * sorted numerically; the same view renders the same hashes. Pure.
 */
import type { Cidr4 } from '../ip.js';
import { compilePolicies, DEFAULT_SEGMENT_LABEL, type CompileOptions } from './compile.js';
import { formatMembers, host } from './members.js';
import type { AddressSet, ClusterView, Direction, L4Protocol, ModelPolicy, PolicyModel, PortMatch, TargetSet } from './model.js';
import { chainOf } from './chains.js';
import { CHAIN, jumpHash, policyChainName, SET, setName } from './names.js';
import type { RenderMemo } from './render_memo.js';
import { ViewSource, type RenderSource } from './render_source.js';
import { selectorKey } from './selector.js';
import type { DesiredChain, DesiredFirewall, DesiredIpset, DesiredJump } from './types.js';
import { indexView, namedPortOf, scopeKey, type IndexedPod } from './view_index.js';

export const DEFAULT_VETH_MATCH = 'romana+';

export interface RenderOptions extends CompileOptions {
  /** iptables interface match for pod veths (default `romana+`). */
  readonly vethMatch?: string;
}

const ESTABLISHED = '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT';

/** Compiles the view's policies and renders the firewall of `node`. */
export function renderNodeFirewall(view: ClusterView, node: string, opts: RenderOptions = {}): DesiredFirewall {
  return renderModel(compiledModel(view, opts.segmentLabel ?? DEFAULT_SEGMENT_LABEL), view, node, opts);
}

const models = new WeakMap<object, Map<string, PolicyModel>>();

/** compilePolicies memoized per view object, for rendering many nodes of one view. */
function compiledModel(view: ClusterView, segmentLabel: string): PolicyModel {
  let m = models.get(view);
  if (!m) {
    m = new Map();
    models.set(view, m);
  }
  let model = m.get(segmentLabel);
  if (!model) {
    model = compilePolicies(view, { segmentLabel }).model;
    m.set(segmentLabel, model);
  }
  return model;
}

/**
 * Renders an already compiled model for `node` (the view supplies pods,
 * namespaces and blocks): for rendering many nodes, or many renders, of one
 * compiled model. The segment label is the model's.
 */
export function renderModel(model: PolicyModel, view: Pick<ClusterView, 'namespaces' | 'pods' | 'blocks'>, node: string, opts: Pick<RenderOptions, 'vethMatch'> = {}): DesiredFirewall {
  return renderFromSource(model, new ViewSource(indexView(view, model.segmentLabel)), node, opts.vethMatch ?? DEFAULT_VETH_MATCH);
}

/**
 * Renders `node` with lookups answered by `source` (render_source.ts).
 * `memo` (render_memo.ts), from a caller rendering many nodes of one model,
 * keeps what does not depend on the node: chains by content, policy chains
 * per variant (policyVariant), rule port matches.
 */
export function renderFromSource(model: PolicyModel, source: RenderSource, node: string, veth: string, memo?: RenderMemo): DesiredFirewall {
  return new NodeRenderer(source, node, veth, memo).render(model);
}

type Side = 'src' | 'dst';

interface LocalTarget {
  /** The node-local target set, "" for the host. */
  readonly set: string;
  /** The dispatch match (`-m set --match-set … dst|src`), "" for the host. */
  readonly match: string;
  /** Members (pods as /32, blocks) for the isolation set. */
  readonly members: readonly Cidr4[];
  /** Local pods among the targets (named ports resolve against them for ingress). */
  readonly pods: readonly IndexedPod[];
}

/** A target's part on the node being rendered: its pods and isolation members (policies often share a target). */
interface LocalPart {
  readonly members: readonly Cidr4[];
  readonly pods: readonly IndexedPod[];
}

/** The sets one policy chain refers to, collected while it is first rendered (RenderMemo). */
interface Collected {
  sets: Array<[string, AddressSet]>;
  localNamed: Array<[string, L4Protocol, string, number]>;
}

class NodeRenderer {
  private readonly sets = new Map<string, DesiredIpset>();
  /** Set while a policy chain is rendered for the memo. */
  private collecting: Collected | null = null;
  /** target set name → its local part (null: nothing on this node), for this render. */
  private readonly local = new Map<string, LocalPart | null>();

  constructor(
    private readonly src: RenderSource,
    private readonly node: string,
    private readonly veth: string,
    private readonly memo: RenderMemo | undefined,
  ) {}

  private chainOf(name: string, specs: readonly string[]): DesiredChain {
    return this.memo ? this.memo.chain(name, specs) : chainOf(name, specs);
  }

  render(model: PolicyModel): DesiredFirewall {
    const ingressDispatch: string[] = [];
    const egressDispatch: string[] = [];
    const hostDispatch: string[] = [];
    const isolated: Record<Direction, Cidr4[]> = { ingress: [], egress: [] };
    // A target set isolates its members once, however many policies share it.
    const isolatedBy: Record<Direction, Set<string>> = { ingress: new Set(), egress: new Set() };
    const policyChains: DesiredChain[] = [];

    for (const p of this.src.candidatePolicies(model, this.node)) {
      const targets = p.targets.map((t) => this.localTarget(t, p.direction)).filter((t): t is LocalTarget => t !== null);
      if (targets.length === 0) continue;
      const host = p.targets.some((t) => t.kind === 'host');
      const chain = this.chainName(p, host);
      const action = p.direction === 'egress' ? CHAIN.EGRESS_OK : 'ACCEPT';
      // Not flatMap: this runs per policy per node, and one target is the common case.
      const targetPods = targets.length === 1 ? targets[0]!.pods : targets.reduce<IndexedPod[]>((acc, t) => (acc.push(...t.pods), acc), []);
      policyChains.push(this.policyChain(p, chain, action, targetPods));
      for (const t of targets) {
        if (host && t.match === '') hostDispatch.push(`-j ${chain}`);
        else if (p.direction === 'ingress') ingressDispatch.push(`${t.match} -j ${chain}`);
        else egressDispatch.push(`${t.match} -j ${chain}`);
        if (t.match !== '' && !isolatedBy[p.direction].has(t.set)) {
          isolatedBy[p.direction].add(t.set);
          isolated[p.direction].push(...t.members);
        }
      }
    }

    this.addSet(SET.ISOLATED_INGRESS, 'hash:net', () => isolated.ingress);
    this.addSet(SET.ISOLATED_EGRESS, 'hash:net', () => isolated.egress);
    const vIn = `-i ${this.veth}`;
    const vOut = `-o ${this.veth}`;
    const base: DesiredChain[] = [
      this.chainOf(CHAIN.INPUT, [ESTABLISHED, ...unique(hostDispatch), hostDispatch.length > 0 ? '-j DROP' : '-j ACCEPT']),
      this.chainOf(CHAIN.OUTPUT, ['-j ACCEPT']),
      this.chainOf(CHAIN.FORWARD_IN, [ESTABLISHED, `${vIn} -j RETURN`, `-j ${CHAIN.INGRESS}`]),
      this.chainOf(CHAIN.FORWARD_OUT, [ESTABLISHED, ...unique(egressDispatch), `-m set --match-set ${SET.ISOLATED_EGRESS} src -j DROP`, `-j ${CHAIN.EGRESS_OK}`]),
      this.chainOf(CHAIN.INGRESS, [...unique(ingressDispatch), `-m set --match-set ${SET.ISOLATED_INGRESS} dst -j DROP`, '-j ACCEPT']),
      this.chainOf(CHAIN.EGRESS_OK, [`${vOut} -j ${CHAIN.INGRESS}`, '-j ACCEPT']),
    ];
    policyChains.sort((a, b) => cmp(a.name, b.name));
    const jumps: DesiredJump[] = [
      jump('INPUT', vIn, CHAIN.INPUT),
      jump('FORWARD', vOut, CHAIN.FORWARD_IN),
      jump('FORWARD', vIn, CHAIN.FORWARD_OUT),
      jump('OUTPUT', vOut, CHAIN.OUTPUT),
    ];
    const ipsets = [...this.sets.values()].sort((a, b) => cmp(a.name, b.name));
    return { chains: [...base, ...policyChains], jumps, ipsets };
  }

  /** The target's local part, or null when it has nothing on this node. */
  private localTarget(t: TargetSet, direction: Direction): LocalTarget | null {
    if (t.kind === 'host') return { set: '', match: '', members: [], pods: [] };
    const name = this.targetSetName(t);
    let part = this.local.get(name);
    if (part === undefined) {
      part = this.localPart(t, name);
      this.local.set(name, part);
    }
    if (part === null) return null;
    return { set: name, match: `-m set --match-set ${name} ${direction === 'ingress' ? 'dst' : 'src'}`, members: part.members, pods: part.pods };
  }

  private localPart(t: TargetSet & { kind: 'pods' | 'tenant' }, name: string): LocalPart | null {
    if (t.kind === 'pods') {
      const pods = this.src.localPodsIn(this.node, t.namespaces, t.pods);
      if (pods.length === 0) return null;
      const members = pods.map((p) => host(p.ip));
      this.addSet(name, 'hash:ip', () => members);
      return { members, pods };
    }
    const pods = this.src.localTenantPods(this.node, t.tenant, t.segment);
    const blocks = this.src.localTenantBlocks(this.node, t.tenant, t.segment);
    if (pods.length === 0 && blocks.length === 0) return null;
    const members = [...blocks.map((b) => b.cidr), ...pods.map((p) => host(p.ip))];
    this.addSet(name, 'hash:net', () => members);
    return { members, pods };
  }

  /** The node-local set of a pods (`l`) or tenant (`k`) target; memoized per target object when there is a memo. */
  private targetSetName(t: TargetSet & { kind: 'pods' | 'tenant' }): string {
    let name = this.memo?.names.get(t);
    if (name === undefined) {
      name = t.kind === 'pods' ? setName('l', `${scopeKey(t.namespaces)}\0${selectorKey(t.pods)}`) : setName('k', tenantMeaning(t.tenant, t.segment));
      this.memo?.names.set(t, name);
    }
    return name;
  }

  /** A policy's chain name (the kind is fixed by its targets and direction); memoized per policy when there is a memo. */
  private chainName(p: ModelPolicy, host: boolean): string {
    let name = this.memo?.names.get(p);
    if (name === undefined) {
      name = policyChainName(p.key, host ? 'H' : p.direction === 'ingress' ? 'I' : 'E');
      this.memo?.names.set(p, name);
    }
    return name;
  }

  /**
   * A policy's chain. With a memo, a policy is rendered once per variant
   * and later nodes take the chain and declare the sets it refers to. The
   * variant: none when no rule can depend on the node; for an ingress
   * policy whose only dependence is named ports, the numbers those names
   * have on the local targets. Anything else (egress named ports, whose
   * numbers are cluster-wide; `peer: local`) is rendered per node.
   */
  private policyChain(p: ModelPolicy, chain: string, action: string, targetPods: readonly IndexedPod[]): DesiredChain {
    const memo = this.memo;
    if (!memo) return this.chainOf(chain, this.policyRules(p, action, targetPods));
    const variant = policyVariant(p, targetPods);
    if (variant === null) return this.chainOf(chain, this.policyRules(p, action, targetPods));
    let variants = memo.policies.get(p);
    if (!variants) memo.policies.set(p, (variants = new Map()));
    const fixed = variants.get(variant);
    if (fixed) {
      for (const [name, peer] of fixed.sets) this.declarePeerSet(name, peer);
      for (const [name, protocol, portName, port] of fixed.localNamed) this.declareLocalNamed(name, protocol, portName, port);
      return fixed.chain;
    }
    const collected: Collected = { sets: [], localNamed: [] };
    this.collecting = collected;
    let c: DesiredChain;
    try {
      c = this.chainOf(chain, this.policyRules(p, action, targetPods));
    } finally {
      this.collecting = null;
    }
    variants.set(variant, { chain: c, ...collected });
    return c;
  }

  /** The rules of one policy chain: for each rule, peers × port matches. */
  private policyRules(p: ModelPolicy, action: string, targetPods: readonly IndexedPod[]): string[] {
    const peerSide: Side = p.direction === 'ingress' ? 'src' : 'dst';
    const out: string[] = [];
    for (const rule of p.rules) {
      const ports = this.portMatches(rule.ports, p.direction, targetPods);
      if (ports.length === 0) continue;
      for (const peer of rule.peers) {
        const pm = this.peerMatch(peer, peerSide);
        if (this.collecting && pm.set !== undefined) this.collecting.sets.push([pm.set, peer]);
        for (const port of ports) out.push(join(pm.addr, port.proto, pm.sets, port.sets, `-j ${action}`));
      }
    }
    return unique(out);
  }

  /** A peer's address match; `set` names the cluster-wide set it declared, if any. */
  private peerMatch(peer: AddressSet, side: Side): { addr: string; sets: string; set?: string } {
    switch (peer.kind) {
      case 'all':
        return { addr: '', sets: '' };
      case 'pods': {
        const name = setName('s', `${scopeKey(peer.namespaces)}\0${selectorKey(peer.pods)}`);
        this.declarePeerSet(name, peer);
        return { addr: '', sets: `-m set --match-set ${name} ${side}`, set: name };
      }
      case 'tenant': {
        const name = setName('b', tenantMeaning(peer.tenant, peer.segment));
        this.declarePeerSet(name, peer);
        return { addr: '', sets: `-m set --match-set ${name} ${side}`, set: name };
      }
      case 'cidr': {
        // 0.0.0.0/0 matches everything and iptables-save omits it: render no address match, so the rule reads back as written.
        const addr = peer.cidr.endsWith('/0') ? '' : `${side === 'src' ? '-s' : '-d'} ${peer.cidr}`;
        if (peer.except.length === 0) return { addr, sets: '' };
        const name = setName('x', `${peer.cidr}\0${peer.except.join(',')}`);
        this.declarePeerSet(name, peer);
        return { addr, sets: `-m set ! --match-set ${name} ${side}`, set: name };
      }
      case 'localBlocks': {
        this.addSet(SET.LOCAL, 'hash:net', () => [...this.src.localBlocks(this.node).map((b) => b.cidr), ...this.src.localPods(this.node).map((p) => host(p.ip))]);
        return { addr: '', sets: `-m set --match-set ${SET.LOCAL} ${side}` };
      }
    }
  }

  /**
   * Port matches of one rule: `proto` is the -p/-m part, `sets` a named
   * port's destination set. Whole protocols absorb their port matches;
   * numeric ports merge into ranges and then into multiport matches of at
   * most 15 slots (a range takes two).
   */
  private portMatches(ports: readonly PortMatch[], direction: Direction, targetPods: readonly IndexedPod[]): ReadonlyArray<{ proto: string; sets: string }> {
    const fixed = this.memo?.ports.get(ports);
    if (fixed) return fixed;
    const out = this.computePortMatches(ports, direction, targetPods);
    // Without named ports the matches depend on the rule alone: computed once per (immutable) rule, not once per node.
    if (this.memo && !ports.some((p) => p.kind === 'named')) this.memo.ports.set(ports, out);
    return out;
  }

  private computePortMatches(ports: readonly PortMatch[], direction: Direction, targetPods: readonly IndexedPod[]): Array<{ proto: string; sets: string }> {
    if (ports.some((p) => p.kind === 'proto' && p.protocol === 'any')) return [{ proto: '', sets: '' }];
    const whole = new Set(ports.flatMap((p) => (p.kind === 'proto' ? [p.protocol] : [])));
    const out: Array<{ proto: string; sets: string }> = [];
    for (const proto of ['tcp', 'udp', 'sctp', 'icmp'] as const) if (whole.has(proto)) out.push({ proto: `-p ${proto}`, sets: '' });
    for (const proto of ['tcp', 'udp', 'sctp'] as const) {
      if (whole.has(proto)) continue;
      const ranges = mergeRanges(ports.flatMap((p) => (p.kind === 'port' && p.protocol === proto ? [[p.port, p.endPort] as [number, number]] : [])));
      for (const chunk of multiportChunks(ranges)) {
        if (chunk.length === 1) out.push({ proto: `-p ${proto} -m ${proto} --dport ${rangeText(chunk[0]!)}`, sets: '' });
        else out.push({ proto: `-p ${proto} -m multiport --dports ${chunk.map(rangeText).join(',')}`, sets: '' });
      }
    }
    if (!whole.has('icmp')) {
      const types = new Set<string>();
      for (const p of ports) if (p.kind === 'icmp') types.add(p.code === undefined ? `${p.type}` : `${p.type}/${p.code}`);
      for (const t of [...types].sort()) out.push({ proto: `-p icmp -m icmp --icmp-type ${t}`, sets: '' });
    }
    const named = new Map<string, { protocol: L4Protocol; name: string }>();
    for (const p of ports) if (p.kind === 'named' && !whole.has(p.protocol)) named.set(`${p.protocol}/${p.name}`, p);
    for (const key of [...named.keys()].sort()) out.push(...this.namedPortMatches(named.get(key)!, direction, targetPods));
    return out;
  }

  /**
   * A named port matches a destination pod whose port of that name has the
   * protocol and the packet's number. One match per distinct number, each
   * restricted to the pods with that number by a set: for ingress the
   * local pods (the destination is one of ours), for egress every pod.
   */
  private namedPortMatches(np: { protocol: L4Protocol; name: string }, direction: Direction, targetPods: readonly IndexedPod[]): Array<{ proto: string; sets: string }> {
    let numbers: number[];
    if (direction === 'ingress') {
      const set = new Set<number>();
      for (const p of targetPods) {
        const n = namedPortOf(p.pod, np.protocol, np.name);
        if (n !== undefined) set.add(n);
      }
      numbers = [...set];
    } else numbers = [...this.src.namedPortNumbers(np.protocol, np.name)];
    const role = direction === 'ingress' ? 'm' : 'n';
    return numbers
      .sort((a, b) => a - b)
      .map((n) => {
        const name = setName(role, `${np.protocol}\0${np.name}\0${n}`);
        if (direction === 'ingress') {
          this.declareLocalNamed(name, np.protocol, np.name, n);
          this.collecting?.localNamed.push([name, np.protocol, np.name, n]);
        }
        else this.addShared(name, () => this.src.namedSet(name, np.protocol, np.name, n));
        return { proto: `-p ${np.protocol} -m ${np.protocol} --dport ${n}`, sets: `-m set --match-set ${name} dst` };
      });
  }

  /** Declares a node-local set once; `members` is only evaluated the first time (many rules share a set). */
  private addSet(name: string, type: DesiredIpset['type'], members: () => readonly Cidr4[]): void {
    if (this.sets.has(name)) return;
    this.sets.set(name, { name, type, members: formatMembers(members(), type) });
  }

  /** Declares the node-local set of the pods whose port `portName` has this number (`m`). */
  private declareLocalNamed(name: string, protocol: L4Protocol, portName: string, port: number): void {
    this.addSet(name, 'hash:ip', () => this.src.localNamedPods(this.node, protocol, portName, port).map((p) => host(p.ip)));
  }

  /** Declares the cluster-wide set `name` of a pods, tenant or cidr-with-exceptions peer. */
  private declarePeerSet(name: string, peer: AddressSet): void {
    if (this.sets.has(name)) return;
    if (peer.kind === 'pods') this.addShared(name, () => this.src.podSet(name, peer.namespaces, peer.pods));
    else if (peer.kind === 'tenant') this.addShared(name, () => this.src.tenantSet(name, peer.tenant, peer.segment));
    else if (peer.kind === 'cidr') this.addShared(name, () => this.src.exceptSet(name, peer.except));
  }

  /** Declares a cluster-wide set once; the source may hand every node the same object. */
  private addShared(name: string, set: () => DesiredIpset): void {
    if (!this.sets.has(name)) this.sets.set(name, set());
  }
}

/**
 * Which rendering of `p` the node needs, as a memo key: "" when no rule can
 * depend on the node; for an ingress policy whose only dependence is named
 * ports, their numbers on the local targets; null when it must be rendered
 * per node (`peer: local`, egress named ports).
 */
function policyVariant(p: ModelPolicy, targetPods: readonly IndexedPod[]): string | null {
  const named = namedDependence(p);
  if (named === null) return null;
  if (named.length === 0) return '';
  let key = '';
  for (const x of named) {
    const numbers = new Set<number>();
    for (const pod of targetPods) {
      const n = namedPortOf(pod.pod, x.protocol, x.name);
      if (n !== undefined) numbers.add(n);
    }
    key += `${x.protocol}/${x.name}=${[...numbers].sort((a, b) => a - b).join(',')};`;
  }
  return key;
}

/** Per (immutable) policy: the ingress named ports its rendering depends on, or null when it depends on the node otherwise. */
const namedDependences = new WeakMap<ModelPolicy, ReadonlyArray<{ protocol: L4Protocol; name: string }> | null>();

function namedDependence(p: ModelPolicy): ReadonlyArray<{ protocol: L4Protocol; name: string }> | null {
  let d = namedDependences.get(p);
  if (d === undefined) {
    const named: Array<{ protocol: L4Protocol; name: string }> = [];
    d = named;
    for (const r of p.rules) {
      if (r.peers.some((x) => x.kind === 'localBlocks')) d = null;
      for (const x of r.ports) if (x.kind === 'named') named.push(x);
    }
    if (named.length > 0 && p.direction === 'egress') d = null;
    namedDependences.set(p, d);
  }
  return d;
}

export function tenantMeaning(tenant: string, segment: string | undefined): string {
  return segment === undefined ? `tenant\0${tenant}` : `tenant\0${tenant}\0segment\0${segment}`;
}

function mergeRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** iptables' multiport takes at most 15 ports, a range counting as two. */
const MULTIPORT_SLOTS = 15;

function multiportChunks(ranges: Array<[number, number]>): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [];
  let cur: Array<[number, number]> = [];
  let used = 0;
  for (const r of ranges) {
    const cost = r[0] === r[1] ? 1 : 2;
    if (used + cost > MULTIPORT_SLOTS) {
      out.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(r);
    used += cost;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

function rangeText(r: [number, number]): string {
  return r[0] === r[1] ? `${r[0]}` : `${r[0]}:${r[1]}`;
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join(' ');
}

function unique(specs: string[]): string[] {
  return [...new Set(specs.map((s) => s.trim()))];
}

function jump(from: DesiredJump['from'], match: string, to: string): DesiredJump {
  return { from, to, match, hash: jumpHash(from, match, to) };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
