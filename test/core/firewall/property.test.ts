// The property that proves the renderer: for random small clusters and
// random Kubernetes policies, what the rendered iptables rules and ipsets
// let through (simulate → evaluatePacket) is exactly what Kubernetes
// NetworkPolicy semantics allow, computed here by a separate,
// straightforward evaluator over the raw policy objects.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluatePacket, renderNodeFirewall, simulate, type ClusterView, type PodInfo, type Probe } from '../../../src/core/firewall/index.js';

// ---- the reference: Kubernetes semantics, written from the API documentation, sharing no code with src ----

type Labels = Record<string, string>;
interface Sel {
  matchLabels?: Labels;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}
interface Peer {
  podSelector?: Sel;
  namespaceSelector?: Sel;
  ipBlock?: { cidr: string; except?: string[] };
}
interface Port {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: Port[];
}
interface Pol {
  metadata: { name: string; namespace: string };
  spec: { podSelector: Sel; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };
}

function refMatches(sel: Sel, labels: Labels): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = e.key in labels;
    if (e.operator === 'In' && !(has && e.values!.includes(labels[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && e.values!.includes(labels[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function ipNum(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const b = Math.floor(ipNum(base!) / size) * size;
  return ipNum(ip) >= b && ipNum(ip) < b + size;
}

function types(p: Pol): string[] {
  if (p.spec.policyTypes && p.spec.policyTypes.length > 0) return p.spec.policyTypes;
  return p.spec.egress && p.spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

function nsLabels(v: ClusterView, ns: string): Labels {
  const n = v.namespaces.find((x) => x.name === ns);
  return { ...(n?.labels ?? {}), 'kubernetes.io/metadata.name': ns };
}

function peerMatches(v: ClusterView, policyNs: string, peer: Peer, other: PodInfo): boolean {
  if (peer.ipBlock) return inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((e) => inCidr(other.ip, e));
  const nsOk = peer.namespaceSelector ? refMatches(peer.namespaceSelector, nsLabels(v, other.namespace)) : other.namespace === policyNs;
  return nsOk && refMatches(peer.podSelector ?? {}, other.labels);
}

function portMatches(port: Port, proto: string, dport: number, dst: PodInfo): boolean {
  if ((port.protocol ?? 'TCP').toLowerCase() !== proto) return false;
  if (port.port === undefined) return true;
  if (typeof port.port === 'number') return dport >= port.port && dport <= (port.endPort ?? port.port);
  const named = dst.ports.find((p) => p.name === port.port);
  return named !== undefined && (named.protocol ?? 'TCP').toLowerCase() === proto && named.containerPort === dport;
}

/** Is traffic src → dst (proto/dport) allowed by Kubernetes semantics? */
function refAllowed(v: ClusterView, pols: Pol[], src: PodInfo, dst: PodInfo, proto: string, dport: number): boolean {
  if (src === dst) return true;
  const side = (dir: 'Ingress' | 'Egress', self: PodInfo, other: PodInfo): boolean => {
    const selecting = pols.filter((p) => p.metadata.namespace === self.namespace && refMatches(p.spec.podSelector, self.labels) && types(p).includes(dir));
    if (selecting.length === 0) return true;
    return selecting.some((p) =>
      ((dir === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? []).some((r) => {
        const peers = (dir === 'Ingress' ? r.from : r.to) ?? [];
        const peerOk = peers.length === 0 || peers.some((peer) => peerMatches(v, p.metadata.namespace, peer, other));
        const portOk = (r.ports ?? []).length === 0 || r.ports!.some((pt) => portMatches(pt, proto, dport, dst));
        return peerOk && portOk;
      }),
    );
  };
  return side('Egress', src, dst) && side('Ingress', dst, src);
}

// ---- generators: small vocabularies so that selectors actually hit ----

const NS = ['a', 'b', 'c'];
const arbLabels = (keys: Record<string, string[]>) =>
  fc.record(Object.fromEntries(Object.entries(keys).map(([k, vs]) => [k, fc.constantFrom(...vs)])), { requiredKeys: [] }) as fc.Arbitrary<Labels>;
const POD_LABELS = { app: ['web', 'db'], tier: ['1', '2'] };
const NS_LABELS = { env: ['x', 'y'], team: ['p'] };

const arbSel = (keys: Record<string, string[]>): fc.Arbitrary<Sel> =>
  fc.record(
    {
      matchLabels: arbLabels(keys),
      matchExpressions: fc.array(
        fc.oneof(
          fc.record({ key: fc.constantFrom(...Object.keys(keys)), operator: fc.constantFrom('In', 'NotIn'), values: fc.uniqueArray(fc.constantFrom(...Object.values(keys).flat()), { minLength: 1, maxLength: 2 }) }),
          fc.record({ key: fc.constantFrom(...Object.keys(keys)), operator: fc.constantFrom('Exists', 'DoesNotExist') }),
        ),
        { maxLength: 2 },
      ),
    },
    { requiredKeys: [] },
  );

const arbPeer: fc.Arbitrary<Peer> = fc.oneof(
  fc.record({ podSelector: arbSel(POD_LABELS) }),
  fc.record({ namespaceSelector: arbSel({ ...NS_LABELS, 'kubernetes.io/metadata.name': NS }) }),
  fc.record({ podSelector: arbSel(POD_LABELS), namespaceSelector: arbSel(NS_LABELS) }),
  fc.constantFrom<Peer>(
    { ipBlock: { cidr: '10.0.0.0/16' } },
    { ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] } },
    { ipBlock: { cidr: '10.0.0.0/23', except: ['10.0.0.2/31', '10.0.1.4/30'] } },
    { ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/24'] } },
  ),
);

const arbPort: fc.Arbitrary<Port> = fc.oneof(
  fc.record({ protocol: fc.constantFrom('TCP', 'UDP'), port: fc.constantFrom(53, 80, 85, 8080) }, { requiredKeys: ['port'] }),
  fc.record({ protocol: fc.constantFrom('TCP', 'UDP'), port: fc.constantFrom('http', 'dns') }, { requiredKeys: ['port'] }),
  fc.record({ port: fc.constant(79), endPort: fc.constantFrom(80, 90) }),
  fc.record({ protocol: fc.constantFrom('TCP', 'UDP', 'SCTP') }),
);

const arbRule = (peersKey: 'from' | 'to'): fc.Arbitrary<Rule> =>
  fc.record({ [peersKey]: fc.array(arbPeer, { maxLength: 2 }), ports: fc.array(arbPort, { maxLength: 2 }) }, { requiredKeys: [] }) as fc.Arbitrary<Rule>;

const arbPolicy = (i: number): fc.Arbitrary<Pol> =>
  fc.record({
    ns: fc.constantFrom(...NS),
    podSelector: arbSel(POD_LABELS),
    policyTypes: fc.option(fc.constantFrom(['Ingress'], ['Egress'], ['Ingress', 'Egress'], []), { nil: undefined }),
    ingress: fc.option(fc.array(arbRule('from'), { maxLength: 2 }), { nil: undefined }),
    egress: fc.option(fc.array(arbRule('to'), { maxLength: 2 }), { nil: undefined }),
  }).map((r) => ({
    metadata: { name: `p${i}`, namespace: r.ns },
    spec: {
      podSelector: r.podSelector,
      ...(r.policyTypes !== undefined ? { policyTypes: r.policyTypes } : {}),
      ...(r.ingress !== undefined ? { ingress: r.ingress } : {}),
      ...(r.egress !== undefined ? { egress: r.egress } : {}),
    },
  }));

const arbCluster = fc
  .record({
    namespaces: fc.tuple(...NS.map(() => arbLabels(NS_LABELS))),
    pods: fc.array(
      fc.record({
        ns: fc.constantFrom(...NS),
        labels: arbLabels(POD_LABELS),
        node: fc.constantFrom('n1', 'n2'),
        http: fc.constantFrom(undefined, 80, 8080),
        dns: fc.constantFrom(undefined, 'UDP', 'TCP'),
      }),
      { minLength: 2, maxLength: 6 },
    ),
    policyCount: fc.integer({ min: 0, max: 3 }),
  })
  .chain((c) => fc.tuple(fc.constant(c), fc.tuple(...Array.from({ length: c.policyCount }, (_, i) => arbPolicy(i)))))
  .map(([c, pols]) => {
    const pods: PodInfo[] = c.pods.map((p, i) => ({
      namespace: p.ns,
      name: `pod${i}`,
      labels: p.labels,
      // Spread over 10.0.0.0/24 and 10.0.1.0/24 so that ipBlock exceptions split the pods.
      ip: `10.0.${i % 2}.${i + 1}`,
      node: p.node,
      ports: [
        ...(p.http !== undefined ? [{ name: 'http', containerPort: p.http }] : []),
        ...(p.dns !== undefined ? [{ name: 'dns', containerPort: 53, protocol: p.dns as 'UDP' | 'TCP' }] : []),
      ],
    }));
    const view: ClusterView = {
      namespaces: NS.map((name, i) => ({ name, labels: c.namespaces[i]! })),
      pods,
      k8sPolicies: pols.map((p) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', ...p })),
      romanaPolicies: [],
      blocks: [],
      hosts: [],
    };
    return { view, pols: pols as Pol[] };
  });

const PROBES: Probe[] = [
  { protocol: 'tcp', port: 80 },
  { protocol: 'tcp', port: 8080 },
  { protocol: 'tcp', port: 85 },
  { protocol: 'tcp', port: 88 },
  { protocol: 'udp', port: 53 },
  { protocol: 'udp', port: 80 },
  { protocol: 'sctp', port: 80 },
];

describe('rendered rules = Kubernetes semantics', () => {
  it('for random clusters and policies, every probe between every pair of pods', () => {
    fc.assert(
      fc.property(arbCluster, ({ view, pols }) => {
        const sim = simulate(view, PROBES);
        expect(sim.problems).toEqual([]);
        sim.probes.forEach((r, k) => {
          const probe = PROBES[k]!;
          for (const src of view.pods) {
            for (const dst of view.pods) {
              const want = refAllowed(view, pols, src, dst, probe.protocol, probe.port as number);
              const got = r.matrix[`${src.namespace}/${src.name}`]![`${dst.namespace}/${dst.name}`];
              if (got !== want) {
                throw new Error(`${probe.protocol}/${String(probe.port)} ${src.namespace}/${src.name} → ${dst.namespace}/${dst.name}: rendered ${String(got)}, semantics ${String(want)}`);
              }
            }
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it('same-node verdicts do not depend on the order of the two FORWARD jumps', () => {
    fc.assert(
      fc.property(arbCluster, ({ view }) => {
        const sim = simulate(view, PROBES);
        for (const [node, fw] of sim.firewalls) {
          const swapped = { ...fw, jumps: [...fw.jumps].reverse() };
          const local = view.pods.filter((p) => p.node === node);
          sim.probes.forEach((r, k) => {
            const probe = PROBES[k]!;
            for (const src of local) {
              for (const dst of local) {
                if (src === dst) continue;
                const v = evaluatePacket(swapped, { src: src.ip, dst: dst.ip, protocol: probe.protocol, dport: probe.port as number, chain: 'FORWARD', inIface: 'romanaS', outIface: 'romanaD' });
                expect(v === 'ACCEPT').toBe(r.matrix[`${src.namespace}/${src.name}`]![`${dst.namespace}/${dst.name}`]);
              }
            }
          });
        }
      }),
      { numRuns: 100 },
    );
  });

  it('rendering is deterministic for random inputs', () => {
    fc.assert(
      fc.property(arbCluster, ({ view }) => {
        for (const node of ['n1', 'n2']) {
          const a = renderNodeFirewall(view, node);
          const b = renderNodeFirewall({ ...view, pods: [...view.pods].reverse(), k8sPolicies: [...view.k8sPolicies].reverse() }, node);
          expect(b).toEqual(a);
        }
      }),
      { numRuns: 100 },
    );
  });
});
