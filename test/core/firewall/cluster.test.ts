// FirewallCluster against the reference: after any sequence of pod, block
// and policy changes, every node's render equals renderNodeFirewall of the
// equivalent view, and each change's delta is complete — a node left out of
// `nodes` keeps its chains, and its cluster-wide sets move exactly by the
// reported member deltas.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FirewallCluster, renderNodeFirewall, type BlockInfo, type ClusterView, type DesiredFirewall, type FirewallDelta, type PodInfo } from '../../../src/core/firewall/index.js';
import { parsePolicyDocument, type RomanaPolicy } from '../../../src/core/policy/index.js';

const NS = ['a', 'b', 'c'];
const NODES = ['n1', 'n2', 'n3'];
const SEG = 'romana.io/segment';

const arbLabels = fc.record({ app: fc.constantFrom('web', 'db'), tier: fc.constantFrom('1', '2'), [SEG]: fc.constantFrom('s1', 's2') }, { requiredKeys: [] });
const arbSel = fc.record({ matchLabels: fc.record({ app: fc.constantFrom('web', 'db'), tier: fc.constantFrom('1', '2') }, { requiredKeys: [] }) }, { requiredKeys: [] });
const arbPeer = fc.oneof(
  fc.record({ podSelector: arbSel }),
  fc.record({ namespaceSelector: fc.record({ matchLabels: fc.record({ env: fc.constantFrom('x', 'y') }, { requiredKeys: [] }) }) }),
  fc.record({ podSelector: arbSel, namespaceSelector: fc.constant({}) }),
  fc.constant({ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] } }),
);
const arbPort = fc.oneof(fc.record({ port: fc.constantFrom(80, 8080) }), fc.record({ protocol: fc.constantFrom('TCP', 'UDP'), port: fc.constantFrom('http', 'dns') }));
const arbRule = (key: 'from' | 'to') => fc.record({ [key]: fc.array(arbPeer, { maxLength: 2 }), ports: fc.array(arbPort, { maxLength: 2 }) }, { requiredKeys: [] });
const arbK8s = (i: number) =>
  fc.record({ ns: fc.constantFrom(...NS), sel: arbSel, types: fc.constantFrom(['Ingress'], ['Egress'], ['Ingress', 'Egress']), ingress: fc.array(arbRule('from'), { maxLength: 2 }), egress: fc.array(arbRule('to'), { maxLength: 2 }) }).map((r) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `p${i}`, namespace: r.ns },
    spec: { podSelector: r.sel, policyTypes: r.types, ingress: r.ingress, egress: r.egress },
  }));

function romana(doc: Record<string, unknown>): RomanaPolicy {
  const r = parsePolicyDocument(doc, { newId: () => 'x' });
  if (r.problems.length > 0) throw new Error(JSON.stringify(r.problems));
  return r.policies[0]!;
}
/** Romana policies exercising tenant targets and peers, `peer: local` and `dest: host`. */
const ROMANA: RomanaPolicy[] = [
  romana({ id: 'r1', direction: 'ingress', applied_to: [{ tenant: 'a' }], ingress: [{ peers: [{ tenant: 'b', segment: 's1' }], rules: [{ protocol: 'tcp', ports: [80] }] }] }),
  romana({ id: 'r4', direction: 'ingress', applied_to: [{ dest: 'host' }], ingress: [{ peers: [{ peer: 'local' }], rules: [{ protocol: 'tcp', ports: [22] }] }] }),
  romana({ id: 'r2', direction: 'ingress', applied_to: [{ dest: 'host' }, { tenant: 'c', segment: 's2' }], ingress: [{ peers: [{ tenant: 'a' }], rules: [{ protocol: 'udp', ports: [53] }] }] }),
  romana({ id: 'r3', direction: 'egress', applied_to: [{ tenant: 'b' }], egress: [{ peers: [{ cidr: '10.9.0.0/16' }, { tenant: 'c' }], rules: [{ protocol: 'any' }] }] }),
];

const arbPod = fc.record({
  ns: fc.constantFrom(...NS),
  labels: arbLabels,
  node: fc.constantFrom(...NODES),
  // A small address space, so pods sometimes share an address or fall in a block.
  ip: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.1.3', '10.0.1.4', '10.0.2.5', '10.0.2.6', '10.1.0.7', 'none'),
  http: fc.constantFrom(undefined, 80, 8080),
  dns: fc.constantFrom(undefined, 'UDP', 'TCP'),
});
type PodSpec = typeof arbPod extends fc.Arbitrary<infer T> ? T : never;

function podOf(name: string, p: PodSpec): PodInfo {
  return {
    namespace: p.ns,
    name,
    labels: p.labels,
    ip: p.ip,
    node: p.node,
    ports: [...(p.http !== undefined ? [{ name: 'http', containerPort: p.http }] : []), ...(p.dns !== undefined ? [{ name: 'dns', containerPort: 53, protocol: p.dns as 'UDP' | 'TCP' }] : [])],
  };
}

const arbBlock: fc.Arbitrary<BlockInfo> = fc.record({
  cidr: fc.constantFrom('10.0.0.0/30', '10.0.1.0/29', '10.0.2.4/30', '10.2.0.0/29'),
  host: fc.constantFrom(...NODES),
  tenant: fc.constantFrom(...NS),
  segment: fc.constantFrom('', 's1', 's2'),
});

type Op =
  | { kind: 'add'; pod: PodSpec }
  | { kind: 'remove'; which: number }
  | { kind: 'update'; which: number; pod: PodSpec }
  | { kind: 'addBlock'; block: BlockInfo }
  | { kind: 'removeBlock'; which: number }
  | { kind: 'policies'; k8s: number[]; romana: number[] };

const arbOp = (policies: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), pod: arbPod }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), which: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('update' as const), which: fc.nat(), pod: arbPod }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('addBlock' as const), block: arbBlock }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('removeBlock' as const), which: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('policies' as const), k8s: fc.subarray(Array.from({ length: policies }, (_, i) => i)), romana: fc.subarray([0, 1, 2, 3]) }),
    },
  );

const arbScenario = fc.integer({ min: 0, max: 4 }).chain((n) =>
  fc.record({
    nsLabels: fc.tuple(...NS.map(() => fc.record({ env: fc.constantFrom('x', 'y') }, { requiredKeys: [] }))),
    pods: fc.array(arbPod, { maxLength: 6 }),
    blocks: fc.array(arbBlock, { maxLength: 3 }),
    k8s: fc.tuple(...Array.from({ length: n }, (_, i) => arbK8s(i))),
    romana: fc.subarray([0, 1, 2, 3]),
    ops: fc.array(arbOp(n), { minLength: 1, maxLength: 10 }),
  }),
);

/** Applies `delta` to the previous render of a node left out of `delta.nodes`: what the agent would end up with. */
function patched(prev: DesiredFirewall, delta: FirewallDelta): DesiredFirewall {
  const bySet = new Map(delta.ipsets.map((d) => [d.name, d]));
  const num = (ip: string) => ip.split(/[./]/).reduce((n, o, i) => (i < 4 ? n * 256 + Number(o) : n), 0);
  return {
    ...prev,
    ipsets: prev.ipsets.map((s) => {
      const d = bySet.get(s.name);
      if (!d) return s;
      const gone = new Set(d.removed);
      return { ...s, members: [...s.members.filter((m) => !gone.has(m)), ...d.added].sort((a, b) => num(a) - num(b)) };
    }),
  };
}

describe('FirewallCluster', () => {
  it('renders every node as the reference does, and reports complete deltas, over random change sequences', () => {
    fc.assert(
      fc.property(arbScenario, (sc) => {
        let seq = 0;
        let pods = sc.pods.map((p) => podOf(`pod${seq++}`, p));
        let blocks = [...sc.blocks];
        const k8sAll = sc.k8s as unknown[];
        let k8s = [...k8sAll];
        let rom = sc.romana.map((i) => ROMANA[i]!);
        const namespaces = NS.map((name, i) => ({ name, labels: sc.nsLabels[i]! }));
        const viewNow = (): ClusterView => ({ namespaces, pods, k8sPolicies: k8s, romanaPolicies: rom, blocks, hosts: [] });

        const cluster = new FirewallCluster(viewNow());
        const check = (): Map<string, DesiredFirewall> => {
          const out = new Map<string, DesiredFirewall>();
          const v = viewNow();
          for (const n of NODES) {
            const got = cluster.renderNode(n);
            expect(got).toEqual(renderNodeFirewall(v, n));
            out.set(n, got);
          }
          return out;
        };
        let prev = check();
        for (const op of sc.ops) {
          let delta: FirewallDelta;
          switch (op.kind) {
            case 'add': {
              const p = podOf(`pod${seq++}`, op.pod);
              pods = [...pods, p];
              delta = cluster.addPod(p);
              break;
            }
            case 'remove': {
              if (pods.length === 0) continue;
              const p = pods[op.which % pods.length]!;
              pods = pods.filter((x) => x !== p);
              delta = cluster.removePod(p.namespace, p.name);
              break;
            }
            case 'update': {
              if (pods.length === 0) continue;
              const old = pods[op.which % pods.length]!;
              // Same identity, anything else may change (a real update keeps the namespace).
              const p = { ...podOf(old.name, { ...op.pod, ns: old.namespace }) };
              pods = pods.map((x) => (x === old ? p : x));
              delta = cluster.updatePod(p);
              break;
            }
            case 'addBlock':
              blocks = [...blocks, op.block];
              delta = cluster.addBlock(op.block);
              break;
            case 'removeBlock': {
              if (blocks.length === 0) continue;
              const b = blocks[op.which % blocks.length]!;
              // The cluster removes the first block of that CIDR on that host: so does the view.
              const i = blocks.findIndex((x) => x.cidr === b.cidr && x.host === b.host);
              blocks = blocks.filter((_, j) => j !== i);
              delta = cluster.removeBlock(b.cidr, b.host);
              break;
            }
            case 'policies':
              k8s = op.k8s.map((i) => k8sAll[i]);
              rom = op.romana.map((i) => ROMANA[i]!);
              delta = cluster.setPolicies(k8s, rom);
              break;
          }
          for (const d of delta.ipsets) {
            for (const [n, fw] of prev) if (fw.ipsets.some((s) => s.name === d.name)) expect(cluster.nodesUsing(d.name).has(n)).toBe(true);
          }
          const next = check();
          for (const n of NODES) if (!delta.nodes.includes(n)) expect(next.get(n)).toEqual(patched(prev.get(n)!, delta));
          prev = next;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('ends where a fresh build ends, whether pods arrive all at once, one by one in reverse, or leave again', () => {
    fc.assert(
      fc.property(arbScenario, (sc) => {
        const pods = sc.pods.map((p, i) => podOf(`pod${i}`, p));
        const namespaces = NS.map((name, i) => ({ name, labels: sc.nsLabels[i]! }));
        const k8sPolicies = sc.k8s as unknown[];
        const romanaPolicies = sc.romana.map((i) => ROMANA[i]!);
        const full: ClusterView = { namespaces, pods, k8sPolicies, romanaPolicies, blocks: sc.blocks, hosts: [] };
        const empty: ClusterView = { ...full, pods: [] };
        const squashed = new FirewallCluster(full);
        const replayed = new FirewallCluster(empty);
        // Render first, so that shared sets exist and are maintained rather than built at the end.
        for (const n of NODES) replayed.renderNode(n);
        for (const p of [...pods].reverse()) replayed.addPod(p);
        for (const n of NODES) expect(replayed.renderNode(n)).toEqual(squashed.renderNode(n));
        for (const p of pods) replayed.removePod(p.namespace, p.name);
        for (const n of NODES) expect(replayed.renderNode(n)).toEqual(renderNodeFirewall(empty, n));
      }),
      { numRuns: 200 },
    );
  });

  it('hands every node the same object for a cluster-wide set, and never changes a set it handed out', () => {
    const pods: PodInfo[] = [
      { namespace: 'a', name: 'w1', labels: { app: 'web' }, ip: '10.0.0.1', node: 'n1', ports: [] },
      { namespace: 'a', name: 'w2', labels: { app: 'web' }, ip: '10.0.0.2', node: 'n2', ports: [] },
      { namespace: 'a', name: 'd1', labels: { app: 'db' }, ip: '10.0.0.3', node: 'n1', ports: [] },
      { namespace: 'a', name: 'd2', labels: { app: 'db' }, ip: '10.0.0.4', node: 'n2', ports: [] },
    ];
    const pol = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'db', namespace: 'a' },
      spec: { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }] },
    };
    const c = new FirewallCluster({ namespaces: [], pods, k8sPolicies: [pol], romanaPolicies: [], blocks: [], hosts: [] });
    const web = (fw: DesiredFirewall) => fw.ipsets.find((s) => s.members.includes('10.0.0.1'))!;
    const a = c.renderNode('n1');
    const b = c.renderNode('n2');
    expect(web(a)).toBe(web(b));
    expect(web(a).members).toEqual(['10.0.0.1', '10.0.0.2']);

    const d = c.addPod({ namespace: 'a', name: 'w3', labels: { app: 'web' }, ip: '10.0.0.9', node: 'n3', ports: [] });
    expect(d).toEqual({ ipsets: [{ name: web(a).name, added: ['10.0.0.9'], removed: [] }], nodes: ['n3'] });
    expect([...c.nodesUsing(web(a).name)].sort()).toEqual(['n1', 'n2']);
    expect(web(a).members).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(c.renderNode('n1').ipsets.find((s) => s.name === web(a).name)!.members).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.9']);
  });
});
