/**
 * Large-cluster benchmark (issue 9): the simulator (bench/sim/cluster.ts)
 * at 1k, 5k (Kubernetes' limit: 5,000 nodes, 150,000 pods, 10,000
 * services), 20k and 50k nodes, each scale in its own process (so that peak
 * RSS is the scale's own), one after another. Full runs also write
 * bench/results/cluster.md (the table) and bench/results/cluster.svg (cost
 * against N, log-log). `--quick`: 1k nodes with 5 pods each.
 *
 * Micro comparisons (kernels vs references vs npm, pool overhead and
 * crossover) are the kernels and pool suites; this suite is the macro part.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Scale, SimResult } from './sim/cluster.js';
import { commit, machine } from './machine.js';
import { logLogChart } from './sim/svg.js';
import type { BenchSection, BenchSuite } from './types.js';

const SIM = fileURLToPath(new URL('./sim/cluster.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));

function scales(quick: boolean): Scale[] {
  if (quick) return [{ nodes: 1000, zones: 4, racks: 32, pods: 5000, services: 500, policies: 50, namespaces: 5 }];
  return [
    { nodes: 1000, zones: 4, racks: 32, pods: 30_000, services: 2000, policies: 200, namespaces: 5 },
    { nodes: 5000, zones: 4, racks: 128, pods: 150_000, services: 10_000, policies: 1000, namespaces: 5 },
    { nodes: 20_000, zones: 8, racks: 512, pods: 200_000, services: 20_000, policies: 1000, namespaces: 5 },
    { nodes: 50_000, zones: 16, racks: 1024, pods: 250_000, services: 20_000, policies: 1000, namespaces: 5 },
  ];
}

function simulate(s: Scale): SimResult {
  const out = execFileSync(process.execPath, ['--max-old-space-size=6144', SIM, JSON.stringify(s)], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as SimResult;
}

const f0 = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

export const run: BenchSuite = async (opts) => {
  const results = scales(opts.quick).map(simulate);
  const timing = results.map((r) => {
    const core = r.ms.allocation + r.ms.routes + r.ms.rulesets;
    return {
      nodes: r.scale.nodes,
      'racks / zones': `${r.scale.racks} / ${r.scale.zones}`,
      'pods / services / policies': `${r.scale.pods} / ${r.scale.services} / ${r.scale.policies}`,
      'topology ms': f0(r.ms.topology),
      'allocation ms': f0(r.ms.allocation),
      'all route tables ms': f0(r.ms.routes),
      'all rulesets ms (every node)': f0(r.ms.rulesets),
      'alloc + routes + rules ms': f0(core),
      'all BIRD configs ms': f0(r.ms.bird),
      'DNS answer table ms': f0(r.ms.dns),
      'one pod added ms (firewall part)': `${r.ms.incremental.toFixed(2)} (${r.incremental.firewallMs.toFixed(2)})`,
      'peak RSS MB': f0(r.peakRssMB),
      'peak heap MB': f0(r.peakHeapMB),
    };
  });
  const routes = results.map((r) => ({
    nodes: r.scale.nodes,
    blocks: r.blocks,
    'routes per node, aggregated (mean / max)': `${f0(r.routes.mean)} / ${r.routes.max}`,
    'bound (rack hosts + racks)': `${Math.round(r.scale.nodes / r.scale.racks) + r.scale.racks}`,
    'nodes over bound': r.routes.overBound,
    'worst excess': r.routes.worstSlack,
    'routes per rack-mate (mean / max)': `${r.routes.perHostPrefixes.toFixed(2)} / ${r.routes.perHostPrefixesMax}`,
    'unaggregated (one per remote block)': f0(r.routes.unaggregatedMean),
    'flat per-node CIDR': r.routes.flat,
    'rules / ipsets / members per node': `${f0(r.rules.meanRules)} / ${f0(r.rules.meanSets)} / ${f0(r.rules.meanMembers)}`,
    'BIRD config bytes': f0(r.birdBytesMean),
    'DNS answers': r.dnsAnswers,
  }));
  const k5 = results.find((r) => r.scale.nodes === 5000);
  const notes: string[] = [];
  if (k5) {
    const core = k5.ms.allocation + k5.ms.routes + k5.ms.rulesets;
    notes.push(`Target "5,000 nodes / 150,000 pods fully computed (allocation, all route tables, all rulesets) in < 10 s": ${core < 10_000 ? 'met' : 'MISSED'} (${(core / 1000).toFixed(1)} s: allocation ${(k5.ms.allocation / 1000).toFixed(1)} s, routes ${(k5.ms.routes / 1000).toFixed(1)} s, rulesets of all ${k5.rules.sampled} nodes ${(k5.ms.rulesets / 1000).toFixed(1)} s).`);
    notes.push(`Target "< 2 GiB": ${k5.peakRssMB < 2048 ? 'met' : 'MISSED'} (peak RSS ${f0(k5.peakRssMB)} MB for the whole 5k simulation, BIRD and DNS included).`);
    notes.push(`Target "every node's table <= hosts in its group + groups": ${k5.routes.overBound === 0 ? 'met' : `MISSED on ${k5.routes.overBound} of 5000 nodes (worst by ${k5.routes.worstSlack})`} (worst slack ${k5.routes.worstSlack}): each host owns one /29 per namespace (5), and 5 aligned blocks are at least popcount(5) = 2 prefixes under exact aggregation (~2H routes for a rack of H hosts); with the rack's free space as don't care the kernel needs ~1 route per rack-mate.`);
    notes.push(`Target "one pod added < 1 ms of compute": ${k5.ms.incremental < 1 ? 'met' : 'MISSED'} (${k5.ms.incremental.toFixed(2)} ms median for a pod in a new namespace, so a new block: allocation; the ${k5.incremental.remoteTables + 1} rack tables checked against the block, ${k5.incremental.tablesRecomputed} recomputed over 5 adds; the firewall model's delta and the node's rules ${k5.incremental.firewallMs.toFixed(2)} ms. A pod joining cluster-wide sets: ${k5.incremental.join.ms.toFixed(2)} ms, ${k5.incremental.join.sets} sets changed, their member delta addressed to ${k5.incremental.join.remoteNodes} node-set pairs).`);
  } else notes.push('Quick run: targets not evaluated (1k nodes, 5 pods per node).');
  notes.push('Routes: a node routes its rack\'s blocks (rack-mates via their address, its own as throw, the rest of the rack\'s group CIDR don\'t care) aggregated by the wasm ORTC kernel, plus one route per other rack (the rack\'s group CIDR via the ToR, as learned over BGP). "Unaggregated" = one route per block of another host (the original); "flat" = one route per other node (per-node CIDR designs, e.g. kube-router / Calico without aggregation).');
  notes.push('Rulesets: every node rendered from one FirewallCluster (src/core/firewall/cluster.ts): each cluster-wide ipset computed once and shared by the nodes that use it, each node\'s chains from its local pods; property-tested equal to renderNodeFirewall per node. Pods per node: 30 at 1k and 5k, 10 at 20k, 5 at 50k (memory and run time). Each scale runs in its own process; times are wall ms on 2 shared cores.');
  notes.push('Micro comparisons (each wasm kernel vs its TS reference vs an npm package: cidr-tools, ip-num, bitset, diff-sequences; pool overhead and crossover): see the kernels and pool suites.');
  if (!opts.quick) {
    mkdirSync(RESULTS, { recursive: true });
    const keys = Object.keys(timing[0]!);
    const md = [
      '# Large-cluster simulator (bench/cluster.bench.ts)', '',
      `Run ${new Date().toISOString()}. Machine: ${machine()}. Node ${process.version}. Commit ${commit()}. Chart: [cluster.svg](cluster.svg).`, '',
      `| ${keys.join(' | ')} |`, `| ${keys.map(() => '---').join(' | ')} |`,
      ...timing.map((r) => `| ${keys.map((k) => (r as Record<string, string | number>)[k]).join(' | ')} |`), '',
      '## Routes, rules and configs per node', '',
      `| ${Object.keys(routes[0]!).join(' | ')} |`, `| ${Object.keys(routes[0]!).map(() => '---').join(' | ')} |`,
      ...routes.map((r) => `| ${Object.values(r).join(' | ')} |`), '',
      ...notes.map((n) => `- ${n}`), '',
    ].join('\n');
    writeFileSync(`${RESULTS}cluster.md`, md);
    const phases: Array<[string, keyof SimResult['ms']]> = [['allocation', 'allocation'], ['route tables', 'routes'], ['rulesets', 'rulesets'], ['BIRD configs', 'bird'], ['DNS answers', 'dns'], ['topology', 'topology']];
    writeFileSync(`${RESULTS}cluster.svg`, logLogChart('Cost of computing the whole cluster vs nodes', 'nodes', 'ms (wall)', phases.map(([name, k]) => ({ name, points: results.map((r) => [r.scale.nodes, r.ms[k]] as [number, number]) }))));
    notes.push('Table and chart: [bench/results/cluster.md](results/cluster.md), ![cost vs N](results/cluster.svg).');
  }
  const sections: BenchSection[] = [
    { title: 'Cluster simulator: time per phase and memory', rows: timing, notes },
    { title: 'Cluster simulator: routes, rules, configs per node', rows: routes },
  ];
  return sections;
};
