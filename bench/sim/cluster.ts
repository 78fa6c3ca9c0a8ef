/**
 * The large-cluster simulator (issue 9): one scale per process, so that each
 * scale's peak memory is its own. Run as `node dist/bench/sim/cluster.js
 * '<json Scale>'`; prints one JSON line (SimResult) on stdout.
 *
 * A cluster of N nodes in Z zones × R/Z racks (each rack one leaf prefix
 * group of 10.0.0.0/8, /29 blocks), P pods (round-robin over the nodes, the
 * namespace of pod p is p's round modulo NS, so every node allocates its
 * blocks concurrently with its rack-mates), S ClusterIP services each
 * selecting the pods of one app, K NetworkPolicies. Phases, each timed
 * (wall ms on this otherwise sequential process):
 *   topology    parse + validate + carve (loadTopology)
 *   allocation  register N hosts, allocate P pods (MemoryIpam)
 *   routes      every node's table: its rack's blocks, other hosts' via
 *               their address and its own as throw, the rest of the rack's
 *               group CIDR don't care (agent's planRoutes shape, numeric),
 *               ORTC-aggregated by the wasm kernel inline; other racks are
 *               one route each (their group CIDR via the ToR, as learned
 *               over BGP)
 *   rulesets    every node's iptables chains + ipsets, all nodes rendered
 *               from one FirewallCluster (cluster-wide sets computed once)
 *   bird        every node's BIRD config (publisher template data + the
 *               OSPF example template)
 *   dns         the zone and the precomputed answer table (ResponseTable)
 *   incremental one pod added on node 0 in a new namespace (so a new block):
 *               allocation, the rack's tables checked against the block
 *               (forwardsWhole; the kernel again only where it fails),
 *               the firewall model's delta and node 0's rules
 * Pure compute only: no store, no kernel writes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTemplateData } from '../../publisher/data.js';
import { Template } from '../../publisher/template/index.js';
import { ResponseTable } from '../../dns/answers.js';
import type { ClusterState, ServiceInfo } from '../../dns/cluster.js';
import { buildZone } from '../../dns/records.js';
import { formatIPv4 } from '../../src/core/ip.js';
import { FirewallCluster, type ClusterView, type DesiredFirewall, type FirewallDelta, type PodInfo } from '../../src/core/firewall/index.js';
import { MemoryIpam, type BlockIndex, type IpamState } from '../../src/core/ipam/index.js';
import { blockKey } from '../../src/core/ipam/keys.js';
import { forwardsWhole } from '../../src/core/agent/routes.js';
import { median } from '../measure.js';
import { loadTopology } from '../../src/core/topology/index.js';
import { DONT_CARE, type Kernels } from '../../src/kernels/types.js';
import { loadKernels } from '../../src/kernels/wasm.js';

export interface Scale {
  nodes: number;
  zones: number;
  racks: number;
  pods: number;
  services: number;
  policies: number;
  namespaces: number;
}

export interface RouteStats {
  mean: number;
  max: number;
  /** Nodes whose table exceeds (hosts in its rack + racks). */
  overBound: number;
  /** Largest table minus its bound (negative: headroom). */
  worstSlack: number;
  unaggregatedMean: number;
  flat: number;
  /** Mean entries via one host in a rack-mate's aggregated table (how many routes its rack-mates see for it). */
  perHostPrefixes: number;
  perHostPrefixesMax: number;
}

export interface SimResult {
  scale: Scale;
  ms: Record<'topology' | 'allocation' | 'routes' | 'rulesets' | 'bird' | 'dns' | 'incremental', number>;
  blocks: number;
  routes: RouteStats;
  rules: { meanRules: number; meanSets: number; meanMembers: number; sampled: number };
  birdBytesMean: number;
  dnsAnswers: number;
  /**
   * newBlock/remoteTables: the timed pod add (new namespace, so a new block), the rack's
   * tables that could change and how many of them the 5 timed adds recomputed; firewallMs its
   * firewall part. join: a pod of an existing namespace and app on node 0, which joins
   * cluster-wide sets: total ms, its firewall part, sets changed, nodes holding them (member
   * deltas to send), nodes re-rendered. Medians of 5.
   */
  incremental: { newBlock: boolean; remoteTables: number; tablesRecomputed: number; firewallMs: number; join: { ms: number; firewallMs: number; sets: number; remoteNodes: number; rendered: number } };
  peakRssMB: number;
  peakHeapMB: number;
}

const APPS = 20;

function topologyText(s: Scale): string {
  const perZone = s.racks / s.zones;
  return JSON.stringify({
    networks: [{ name: 'pods', cidr: '10.0.0.0/8', block_mask: 29 }],
    topologies: [
      {
        networks: ['pods'],
        map: Array.from({ length: s.zones }, (_, z) => ({
          name: `zone-${z}`,
          groups: Array.from({ length: perZone }, (_, r) => ({ name: `rack-${z * perZone + r}`, groups: [] })),
        })),
      },
    ],
  });
}

const hostIp = (i: number): string => `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const ns = (i: number): string => `ns-${i}`;

function policy(i: number, namespaces: number): Record<string, unknown> {
  const a = Math.floor(i / namespaces);
  const app = (k: number): string => `app-${k % APPS}`;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `pol-${i}`, namespace: ns(i % namespaces) },
    spec: {
      podSelector: { matchLabels: { app: app(a) } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: app(a + 1) } } }, { namespaceSelector: { matchLabels: { team: `t-${i % 7}` } } }], ports: [{ port: 8080 }] }],
    },
  };
}

let peakHeap = 0;
function sampleHeap(): void {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
}

function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const r = f();
  const ms = performance.now() - t0;
  sampleHeap();
  return [r, ms];
}

async function timedAsync<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  const ms = performance.now() - t0;
  sampleHeap();
  return [r, ms];
}

/** Per rack (leaf group path): its group CIDR, its hosts (in index order) and their blocks. */
interface Rack {
  base: number;
  prefix: number;
  hosts: string[];
  blocks: BlockIndex[];
}

function racksOf(state: IpamState): Map<string, Rack> {
  const racks = new Map<string, Rack>();
  for (const [name, h] of state.hosts) {
    const group = h.placements.get('pods')!.group;
    const leaf = group.path;
    let r = racks.get(leaf);
    if (!r) racks.set(leaf, (r = { base: group.cidr.base, prefix: group.cidr.prefix, hosts: [], blocks: [] }));
    r.hosts.push(name);
  }
  for (const b of state.blocks.values()) racks.get(b.value.group)?.blocks.push(b);
  return racks;
}

/**
 * Node's own-rack table: the rack's group CIDR don't care (its free space
 * may go anywhere), rack-mates' blocks via their id (1 + index), its own as
 * throw (0); ORTC by the kernel.
 */
function rackTable(k: Kernels, rack: Rack, node: string, ids: Map<string, number>): Uint32Array {
  const t = new Uint32Array(rack.blocks.length * 3 + 3);
  t[0] = rack.base;
  t[1] = rack.prefix;
  t[2] = DONT_CARE;
  let i = 3;
  for (const b of rack.blocks) {
    t[i++] = b.base;
    t[i++] = b.prefix;
    t[i++] = b.value.host === node ? 0 : ids.get(b.value.host)!;
  }
  return k.aggregate(t);
}

export async function simulate(s: Scale): Promise<SimResult> {
  const k = loadKernels('release');
  const [topo, tTopo] = timed(() => loadTopology(topologyText(s)));
  const [m, tAlloc] = timed(() => {
    const m = MemoryIpam.withTopology(topo.input, topo.carved);
    for (let h = 0; h < s.nodes; h++) m.addHost({ name: `node-${h}`, ip: hostIp(h) });
    for (let p = 0; p < s.pods; p++) {
      const tenant = ns(Math.floor(p / s.nodes) % s.namespaces);
      m.allocate({ name: `pod-${p}.${tenant}`, host: `node-${p % s.nodes}`, tenant, segment: '' });
    }
    return m;
  });
  const state = m.state;

  // ---- routes
  const racks = racksOf(state);
  const rackCount = racks.size;
  const rackOf = new Map<string, Rack>();
  for (const r of racks.values()) for (const h of r.hosts) rackOf.set(h, r);
  const perNode: number[] = [];
  let overBound = 0;
  let worstSlack = Number.NEGATIVE_INFINITY;
  let unaggregated = 0;
  // Entries via each host, summed over its rack-mates' tables.
  const viaHost = new Map<string, number>();
  const [, tRoutes] = timed(() => {
    for (const r of racks.values()) {
      const ids = new Map(r.hosts.map((h, i) => [h, i + 1] as const));
      const counts = new Float64Array(r.hosts.length + 1);
      for (const node of r.hosts) {
        const table = rackTable(k, r, node, ids);
        for (let i = 2; i < table.length; i += 3) counts[table[i]!]!++;
        const n = table.length / 3 + (rackCount - 1);
        perNode.push(n);
        const bound = r.hosts.length + rackCount;
        if (n > bound) overBound++;
        worstSlack = Math.max(worstSlack, n - bound);
      }
      r.hosts.forEach((h, i) => viaHost.set(h, counts[i + 1]!));
    }
  });
  for (const r of racks.values()) for (const node of r.hosts) unaggregated += state.blocks.size - (state.blocksByHost.get(node)?.size ?? 0);
  // Routes per host in each rack-mate's table.
  const perHost: number[] = [];
  for (const [name, sum] of viaHost) {
    const mates = rackOf.get(name)!.hosts.length - 1;
    if (mates > 0) perHost.push(sum / mates);
  }

  // ---- rulesets
  const pods: PodInfo[] = [];
  for (const a of state.addressByName.values()) {
    const p = pods.length;
    pods.push({
      namespace: a.value.tenant,
      name: a.value.name,
      labels: { app: `app-${p % APPS}` },
      ip: a.value.ip,
      node: a.value.host,
      ports: [{ name: 'http', containerPort: 8080 }],
    });
  }
  const baseView = {
    namespaces: Array.from({ length: s.namespaces }, (_, i) => ({ name: ns(i), labels: { team: `t-${i % 7}` } })),
    pods,
    k8sPolicies: Array.from({ length: s.policies }, (_, i) => policy(i, s.namespaces)),
    romanaPolicies: [],
    blocks: [...state.blocks.values()].map((b) => ({ cidr: b.value.cidr, host: b.value.host, tenant: b.value.tenant, segment: b.value.segment })),
    hosts: [...state.hosts.values()].map((h) => ({ name: h.value.name, ip: h.value.ip })),
  };
  let rules = 0;
  let sets = 0;
  let members = 0;
  const view: ClusterView = { ...baseView };
  // Every node's ruleset, all of them, from one FirewallCluster: each
  // cluster-wide ipset (a namespaceSelector peer is 30,000 pods here) is
  // built once and shared by every node that holds it, and each node's part
  // comes from per-node indexes. Building the model is part of the time.
  const sample = s.nodes;
  let fwc: FirewallCluster | undefined;
  const [, tRules] = timed(() => {
    fwc = new FirewallCluster(view);
    for (let h = 0; h < s.nodes; h++) {
      const fw = fwc.renderNode(`node-${h}`);
      rules += fw.chains.reduce((n, c) => n + c.rules.length, 0) + fw.jumps.length;
      sets += fw.ipsets.length;
      for (const x of fw.ipsets) members += x.members.length;
    }
  });
  const cluster = fwc!;

  // ---- BIRD config per node
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const tmpl = Template.parse('bird', readFileSync(path.join(root, 'deploy/publisher/examples/bird2/publisher-ospf.conf'), 'utf8'));
  const inline = (t: Uint32Array): Promise<Uint32Array> => Promise.resolve(k.aggregate(t));
  let birdBytes = 0;
  const [, tBird] = await timedAsync(async () => {
    for (let h = 0; h < s.nodes; h++) birdBytes += tmpl.execute(await buildTemplateData(state, { node: `node-${h}`, aggregate: 'blocks' }, inline)).length;
  });

  // ---- DNS
  const byApp = new Map<string, Array<{ ip: string; ready: boolean }>>();
  for (const p of pods) {
    const key = `${p.namespace}/${p.labels.app}`;
    let l = byApp.get(key);
    if (!l) byApp.set(key, (l = []));
    l.push({ ip: p.ip, ready: true });
  }
  const services: ServiceInfo[] = [];
  const endpoints = new Map<string, Array<{ addresses: Array<{ ip: string; ready: boolean }>; ports: Array<{ name: string; protocol: string; port: number }> }>>();
  for (let i = 0; i < s.services; i++) {
    const namespace = ns(i % s.namespaces);
    const app = `app-${Math.floor(i / s.namespaces) % APPS}`;
    const name = `svc-${i}`;
    const ports = [{ name: 'http', protocol: 'tcp', port: 80 }];
    services.push({ namespace, name, type: 'ClusterIP', clusterIPs: [formatIPv4(0x0a600000 + i)], externalIPs: [], ports, publishNotReadyAddresses: false });
    // Endpoints capped at 100 per service (EndpointSlice size), so the zone stays proportional to S.
    endpoints.set(`${namespace}/${name}`, [{ addresses: (byApp.get(`${namespace}/${app}`) ?? []).slice(0, 100), ports }]);
  }
  const cs: ClusterState = { namespaces: baseView.namespaces.map((n) => n.name), services, endpoints, podCount: pods.length };
  const [answers, tDns] = timed(() => new ResponseTable(buildZone(cs, { domain: 'cluster.local', ttl: 30, endpointIPs: false, serial: 1 })));

  // ---- incremental: one pod on node-0 in a namespace it has no block for
  const node = 'node-0';
  const r0 = rackOf.get(node)!;
  const ids0 = new Map(r0.hosts.map((h, i) => [h, i + 1] as const));
  // The rack's current tables (what each node has installed), kept so that
  // a new block is checked against them before the kernel runs again.
  const tables0 = new Map(r0.hosts.map((h) => [h, rackTable(k, r0, h, ids0)] as const));
  /**
   * Routes after node 0 gets a new block: a table that already forwards the
   * block right (don't-care space usually does) stays as it is — it is
   * still minimal (forwardsWhole) — and only the others are recomputed.
   * A pod in an existing block changes no route. Returns the tables recomputed.
   */
  const routesForNewBlock = (b: BlockIndex): number => {
    let recomputed = 0;
    for (const h of r0.hosts) {
      const hop = h === node ? 0 : ids0.get(node)!;
      if (forwardsWhole(tables0.get(h)!, b.base, b.prefix, hop)) continue;
      tables0.set(h, rackTable(k, r0, h, ids0));
      recomputed++;
    }
    return recomputed;
  };
  let tablesRecomputed = 0;
  // The firewall part of a change, as an agent fleet would act on it: the
  // model updated, the nodes whose own chains changed rendered again, and
  // each changed cluster-wide set's member delta addressed to the nodes
  // holding it (the delta is shared: nothing is computed per remote node).
  const applyFirewall = (deltas: FirewallDelta[]): { sets: number; remoteNodes: number; rendered: number; fw?: DesiredFirewall } => {
    const nodes = new Set(deltas.flatMap((d) => d.nodes));
    let fw: DesiredFirewall | undefined;
    for (const n of nodes) fw = cluster.renderNode(n);
    let remoteNodes = 0;
    let sets = 0;
    for (const d of deltas) for (const x of d.ipsets) {
      sets++;
      remoteNodes += cluster.nodesUsing(x.name).size;
    }
    return { sets, remoteNodes, rendered: nodes.size, ...(fw ? { fw } : {}) };
  };
  const runIncremental = (name: string): { ms: number; fwMs: number; newBlock: boolean; fw: DesiredFirewall | undefined } => {
    const t0 = performance.now();
    const blocksBefore = state.blocksByHost.get(node)!.size;
    const a = m.allocate({ name, host: node, tenant: `${name}-ns`, segment: '' });
    const newBlock = state.blocksByHost.get(node)!.size > blocksBefore;
    const block = state.blocks.get(blockKey('pods', a.block))!;
    if (newBlock) {
      r0.blocks.push(block);
      tablesRecomputed += routesForNewBlock(block);
    }
    const t1 = performance.now();
    const deltas: FirewallDelta[] = [];
    if (newBlock) deltas.push(cluster.addBlock({ cidr: block.value.cidr, host: node, tenant: block.value.tenant, segment: block.value.segment }));
    deltas.push(cluster.addPod({ namespace: `${name}-ns`, name, labels: { app: 'app-0' }, ip: a.ip, node, ports: [] }));
    const { fw } = applyFirewall(deltas);
    const t2 = performance.now();
    return { ms: t2 - t0, fwMs: t2 - t1, newBlock, fw };
  };
  runIncremental('warm-1');
  tablesRecomputed = 0;
  const incs = [2, 3, 4, 5, 6].map((i) => runIncremental(`inc-${i}`));
  const incTablesRecomputed = tablesRecomputed;
  const tInc = median(incs.map((x) => x.ms));
  const fwInc = median(incs.map((x) => x.fwMs));
  // A pod of ns-1/app-1 on node 0 (whose pods are app-0): it joins the app-1
  // set of ns-1 and the namespaceSelector set of ns-1's team (30,000 members,
  // held by most nodes), and brings the policies selecting app-1 to node 0.
  const runJoin = (name: string): { ms: number; firewallMs: number; sets: number; remoteNodes: number; rendered: number } => {
    const t0 = performance.now();
    const blocksBefore = state.blocksByHost.get(node)!.size;
    const a = m.allocate({ name, host: node, tenant: ns(1), segment: '' });
    const deltas: FirewallDelta[] = [];
    if (state.blocksByHost.get(node)!.size > blocksBefore) {
      const block = state.blocks.get(blockKey('pods', a.block))!;
      r0.blocks.push(block);
      tablesRecomputed += routesForNewBlock(block);
      deltas.push(cluster.addBlock({ cidr: block.value.cidr, host: node, tenant: block.value.tenant, segment: block.value.segment }));
    }
    const t1 = performance.now();
    deltas.push(cluster.addPod({ namespace: ns(1), name, labels: { app: 'app-1' }, ip: a.ip, node, ports: [{ name: 'http', containerPort: 8080 }] }));
    const r = applyFirewall(deltas);
    const t2 = performance.now();
    return { ms: t2 - t0, firewallMs: t2 - t1, sets: r.sets, remoteNodes: r.remoteNodes, rendered: r.rendered };
  };
  runJoin('join-warm.ns-1');
  const joins = [2, 3, 4, 5, 6].map((i) => runJoin(`join-${i}.ns-1`)).sort((a, b) => a.ms - b.ms);
  const join = joins[2]!;
  sampleHeap();

  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    scale: s,
    ms: { topology: tTopo, allocation: tAlloc, routes: tRoutes, rulesets: tRules, bird: tBird, dns: tDns, incremental: tInc },
    blocks: state.blocks.size,
    routes: {
      mean: mean(perNode),
      max: Math.max(...perNode),
      overBound,
      worstSlack,
      unaggregatedMean: unaggregated / s.nodes,
      flat: s.nodes - 1,
      perHostPrefixes: mean(perHost),
      perHostPrefixesMax: Math.max(...perHost),
    },
    rules: { meanRules: rules / sample, meanSets: sets / sample, meanMembers: members / sample, sampled: sample },
    birdBytesMean: birdBytes / s.nodes,
    dnsAnswers: answers.size,
    incremental: { newBlock: incs.every((x) => x.newBlock), remoteTables: r0.hosts.length - 1, tablesRecomputed: incTablesRecomputed, firewallMs: fwInc, join },
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    peakHeapMB: peakHeap / 2 ** 20,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  simulate(JSON.parse(process.argv[2]!) as Scale).then(
    (r) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
