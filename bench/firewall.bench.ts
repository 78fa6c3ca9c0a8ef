/**
 * Firewall benchmarks (DESIGN §5, issue 4): the pure renderer for one node
 * of a cluster with N Kubernetes policies and M pods.
 *
 * Targets (issue): a one-policy change < 100 ms and a full sync < 1 s at
 * 1,000 policies × 1,000 pods (kube-router publishes ~1 s for a full sync
 * at 300 pods). Here "sync" is the pure part only: compiling every policy
 * and rendering the node's chains and ipsets (the agent's apply is measured
 * by its own suite). A full sync renders a view of fresh objects. A
 * one-policy change renders a new view that shares every object but one
 * policy with the previous view, as an agent's watch cache would hand it
 * over: the renderer output is a full node firewall again, but compiled
 * policies are reused by object identity. The row also counts what changed
 * (rules whose hash is new, ipsets whose members differ), which is what
 * the agent writes.
 *
 * Cluster shape: 50 namespaces × 20 apps; pods spread round-robin over the
 * nodes (the measured node gets M / nodes of them; one row puts all M on
 * it); each policy selects one app of its namespace (at 1,000 × 1,000 each
 * pod is selected by exactly one policy) and allows ingress
 * from two apps of its namespace plus the pods of a labelled namespace on
 * a numeric and a named port; every fifth policy also isolates egress to
 * an ipBlock with an exception and to DNS.
 *
 * Figures are CPU time of this process (process.cpuUsage); the first run
 * (cold JIT) is reported apart from the median of the following ones.
 */
import { isDeepStrictEqual } from 'node:util';
import { FirewallCluster, renderNodeFirewall, type ClusterView, type DesiredFirewall, type PodInfo } from '../src/core/firewall/index.js';
import type { BenchOptions, BenchSection, BenchSuite } from './types.js';
import { cpuMs, median } from './measure.js';

const NAMESPACES = 50;
const APPS = 20;

function policy(i: number, variant = 0): Record<string, unknown> {
  const ns = `ns-${i % NAMESPACES}`;
  // Policy i protects app (i / 50) of namespace i mod 50: at 1,000 policies, each pod is selected by exactly one.
  const a = Math.floor(i / NAMESPACES);
  const app = (k: number) => `app-${k % APPS}`;
  const egress = i % 5 === 0;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `pol-${i}`, namespace: ns },
    spec: {
      podSelector: { matchLabels: { app: app(a) } },
      ...(egress ? { policyTypes: ['Ingress', 'Egress'] } : {}),
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { app: app(a + 1) } } }, { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: [app(a + 2), app(a + 3)] }] } }, { namespaceSelector: { matchLabels: { team: `t-${i % 7}` } } }],
          ports: [{ port: 8080 + variant }, { port: 'http' }],
        },
      ],
      ...(egress
        ? {
            egress: [
              { to: [{ ipBlock: { cidr: '10.0.0.0/8', except: [`10.${i % 200}.0.0/16`] } }], ports: [{ port: 443 }] },
              { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }] },
            ],
          }
        : {}),
    },
  };
}

function cluster(pods: number, policies: number, nodes: number): ClusterView {
  const podList: PodInfo[] = Array.from({ length: pods }, (_, p) => ({
    namespace: `ns-${p % NAMESPACES}`,
    name: `pod-${p}`,
    labels: { app: `app-${Math.floor(p / NAMESPACES) % APPS}`, tier: p % 2 === 0 ? 'front' : 'back' },
    ip: `10.${(p >> 16) & 255}.${(p >> 8) & 255}.${p & 255}`,
    node: `node-${p % nodes}`,
    ports: [{ name: 'http', containerPort: p % 3 === 0 ? 80 : 8000 }],
  }));
  return {
    namespaces: Array.from({ length: NAMESPACES }, (_, n) => ({ name: `ns-${n}`, labels: { team: `t-${n % 7}` } })),
    pods: podList,
    k8sPolicies: Array.from({ length: policies }, (_, i) => policy(i)),
    romanaPolicies: [],
    blocks: [],
    hosts: Array.from({ length: nodes }, (_, n) => ({ name: `node-${n}`, ip: `192.168.${n >> 8}.${n & 255}` })),
  };
}

function counts(fw: DesiredFirewall): { rules: number; sets: number; members: number } {
  return {
    rules: fw.chains.reduce((n, c) => n + c.rules.length, 0) + fw.jumps.length,
    sets: fw.ipsets.length,
    members: fw.ipsets.reduce((n, s) => n + s.members.length, 0),
  };
}

/** What the agent would write going from `a` to `b`: rules whose hash is new, sets whose members differ, and their members. */
function delta(a: DesiredFirewall, b: DesiredFirewall): { rules: number; sets: number; members: number } {
  const old = new Set(a.chains.flatMap((c) => c.rules.map((r) => r.hash)));
  const rules = b.chains.reduce((n, c) => n + c.rules.filter((r) => !old.has(r.hash)).length, 0);
  const oldSets = new Map(a.ipsets.map((s) => [s.name, s.members.join(',')]));
  const changed = b.ipsets.filter((s) => oldSets.get(s.name) !== s.members.join(','));
  return { rules, sets: changed.length, members: changed.reduce((n, s) => n + s.members.length, 0) };
}

function scenario(pods: number, policies: number, nodes: number, times: number): Record<string, string | number> {
  const node = 'node-0';
  // A fresh view object per run: the renderer memoizes per view, and a sync always sees a new one.
  const fresh = () => ({ ...cluster(pods, policies, nodes) });
  let full: DesiredFirewall | undefined;
  const fullRuns = Array.from({ length: times }, () => {
    const v = fresh();
    return cpuMs(() => (full = renderNodeFirewall(v, node)));
  });
  // One policy edited (another port), as an agent sees it: a new view whose pods and other policy
  // objects are the previous view's (a watch cache replaces only what changed), rendered after the
  // previous one. pol-0 selects a pod of node-0.
  const base = fresh();
  renderNodeFirewall(base, node);
  let changed: DesiredFirewall | undefined;
  const changeRuns = Array.from({ length: times }, (_, k) => {
    const k8sPolicies = [...base.k8sPolicies];
    k8sPolicies[0] = policy(0, 1 + k);
    const edited: ClusterView = { ...base, k8sPolicies };
    return cpuMs(() => (changed = renderNodeFirewall(edited, node)));
  });
  const c = counts(full!);
  const d = delta(full!, changed!);
  const local = Math.ceil(pods / nodes);
  return {
    'policies × pods': `${policies} × ${pods}`,
    'pods on node': local,
    'full: cold ms': fullRuns[0]!.toFixed(0),
    'full: warm ms': median(fullRuns.slice(1)).toFixed(1),
    'one-policy change ms': median(changeRuns.slice(1)).toFixed(1),
    rules: c.rules,
    ipsets: c.sets,
    'set members': c.members,
    'change: new rules': d.rules,
    'change: sets rewritten (members)': `${d.sets} (${d.members})`,
  };
}

/**
 * Every node of the cluster from one FirewallCluster (issue 9): the model
 * built, every node rendered (twice: the first pass also builds the shared
 * sets), and pods added one at a time, each through addPod, the re-render
 * of the nodes it reports and the lookup of the nodes holding each changed
 * set. A few nodes are checked against renderNodeFirewall first (untimed).
 */
function wholeCluster(pods: number, policies: number, nodes: number, adds: number): Record<string, string | number> {
  const v = cluster(pods, policies, nodes);
  let fwc: FirewallCluster | undefined;
  const build = cpuMs(() => (fwc = new FirewallCluster(v)));
  const c = fwc!;
  for (const n of [0, Math.floor(nodes / 2), nodes - 1]) {
    if (!isDeepStrictEqual(c.renderNode(`node-${n}`), renderNodeFirewall(v, `node-${n}`))) throw new Error(`FirewallCluster differs from renderNodeFirewall on node-${n}`);
  }
  const all = (): number => cpuMs(() => {
    for (let n = 0; n < nodes; n++) c.renderNode(`node-${n}`);
  });
  const first = all();
  const second = all();
  let remote = 0;
  const addRuns = Array.from({ length: adds }, (_, k) => {
    const p = pods + k;
    const pod: PodInfo = { namespace: `ns-${p % NAMESPACES}`, name: `added-${k}`, labels: { app: `app-${k % APPS}`, tier: 'front' }, ip: `10.200.${(k >> 8) & 255}.${k & 255}`, node: `node-${k % nodes}`, ports: [{ name: 'http', containerPort: 80 }] };
    return cpuMs(() => {
      const d = c.addPod(pod);
      for (const n of d.nodes) c.renderNode(n);
      remote = 0;
      for (const x of d.ipsets) remote += c.nodesUsing(x.name).size;
    });
  });
  // One policy edited (another port): recompiled (the others by identity), and the nodes it selects rendered again.
  let edited = 0;
  const editRuns = Array.from({ length: 5 }, (_, k) => {
    const k8s = [...v.k8sPolicies];
    k8s[0] = policy(0, 1 + k);
    return cpuMs(() => {
      const d = c.setPolicies(k8s, []);
      for (const n of d.nodes) c.renderNode(n);
      edited = d.nodes.length;
    });
  });
  return {
    'policies × pods × nodes': `${policies} × ${pods} × ${nodes}`,
    'model build ms': build.toFixed(0),
    'all nodes, first pass ms': first.toFixed(0),
    'all nodes, again ms': second.toFixed(0),
    'per node µs': ((second / nodes) * 1000).toFixed(0),
    'pod added ms (median)': median(addRuns.slice(1)).toFixed(3),
    'nodes holding its changed sets': remote,
    'one policy edited ms (nodes re-rendered)': `${median(editRuns).toFixed(1)} (${edited})`,
  };
}

export const run: BenchSuite = async (opts: BenchOptions): Promise<BenchSection[]> => {
  const times = opts.quick ? 3 : 9;
  const sizes: Array<[number, number, number]> = opts.quick
    ? [[100, 100, 10]]
    : [
        [100, 100, 10],
        [1000, 1000, 10],
        [1000, 1000, 1],
        [3000, 3000, 10],
      ];
  const rows = sizes.map(([policies, pods, nodes]) => scenario(pods, policies, nodes, times));
  const clusterSizes: Array<[number, number, number]> = opts.quick ? [[100, 1000, 100]] : [[1000, 10_000, 100], [1000, 30_000, 1000]];
  const clusterRows = clusterSizes.map(([policies, pods, nodes]) => wholeCluster(pods, policies, nodes, opts.quick ? 5 : 21));
  return [
    {
      title: 'Firewall render for one node (compile + render, pure)',
      rows,
      notes: [
        'CPU ms of this process; "cold" is the first run, "warm" the median of the rest. A one-policy change renders the whole node again from a view sharing all objects but the edited policy with the previous one (compiled policies are reused by identity).',
        'Counts are for the full render: rules in owned chains plus the four jumps, ipsets and their members. "change" counts rules with a new hash and sets whose members differ: what the agent would write.',
        'Targets (issue 4): one-policy change < 100 ms and full sync < 1 s at 1,000 policies × 1,000 pods.',
      ],
    },
    {
      title: 'Every node from one FirewallCluster (shared, incremental model)',
      rows: clusterRows,
      notes: [
        'CPU ms. The same cluster shape as above. Each node\'s output is checked against renderNodeFirewall on three nodes before timing. "again" renders every node a second time (shared sets and memoized chains already built).',
        'A pod added: addPod, re-rendering the nodes it reports (its own), and finding the nodes that hold each changed cluster-wide set (their member delta is shared, nothing is computed per node). Target (issue 9): < 1 ms. A policy edit re-renders only the nodes where the old or new version selects a pod.',
      ],
    },
  ];
};
