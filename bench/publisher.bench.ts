/**
 * Route publisher benchmarks (issue 5):
 *
 * 1. Render + reload latency for a node with 10,000 blocks: the data model
 *    from the IPAM state, the BIRD 2 OSPF example template, and — when this
 *    process is root and BIRD 2 is installed — the real apply path into a
 *    BIRD running in a scratch network namespace (atomic write,
 *    `configure check`, `configure` on the control socket). Each apply
 *    changes one block, as a pod event does.
 * 2. Announced prefixes per node on a simulated 5,000-node cluster
 *    (MemoryIpam, 10.0.0.0/8 in 64 groups, /29 blocks, 30 pods per node over
 *    5 namespaces): one per block (the original), this node's blocks
 *    merged (--aggregate blocks), the node's share of the cluster-wide
 *    ORTC table (--aggregate cluster, one kernel call for the cluster),
 *    and the prefix group (--aggregate group); with pods arriving round-robin
 *    over the nodes, and node by node.
 *
 * Wall-clock medians; the first run (cold JIT) is excluded.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BirdApplier } from '../publisher/apply.js';
import { birdCommand } from '../publisher/bird.js';
import { announcedPrefixes, buildTemplateData, type AggregateMode } from '../publisher/data.js';
import { findBinary, poolAggregator } from '../publisher/run.js';
import { Template } from '../publisher/template/index.js';
import { MemoryIpam, type IpamState } from '../src/core/ipam/index.js';
import { aggregate, closeKernelPool } from '../src/kernels/pool.js';
import type { TopologyInput } from '../src/core/topology/types.js';
import type { BenchOptions, BenchSection } from './types.js';
import { median } from './measure.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TEMPLATE = readFileSync(path.join(ROOT, 'deploy/publisher/examples/bird2/publisher-ospf.conf'), 'utf8');

const ms = (x: number): string => x.toFixed(x < 10 ? 2 : 1);

/** One node owning `blocks` /29 blocks (8 pods each). */
function nodeWithBlocks(blocks: number): MemoryIpam {
  const input: TopologyInput = {
    networks: [{ name: 'pods', cidr: '10.0.0.0/8', block_mask: 29 }],
    topologies: [{ networks: ['pods'], map: [{ name: 'rack', groups: [] }] }],
  };
  const m = MemoryIpam.withTopology(input);
  m.addHost({ name: 'node-a', ip: '192.168.0.1' });
  for (let i = 0; i < blocks * 8; i++) m.allocate({ name: `p${i}`, host: 'node-a', tenant: 't', segment: '' });
  return m;
}

async function render(state: IpamState, tmpl: Template, mode: AggregateMode = 'none'): Promise<string> {
  return tmpl.execute(await buildTemplateData(state, { node: 'node-a', aggregate: mode }, poolAggregator));
}

interface Bird {
  ctl: string;
  conf: string;
  stop(): void;
}

/** BIRD 2 with only static routes (no kernel protocol) in a scratch namespace; null when not root or no BIRD. */
async function startScratchBird(dir: string): Promise<Bird | null> {
  if (process.getuid?.() !== 0 || !findBinary('bird')) return null;
  const ns = `rpbench${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  mkdirSync(path.join(dir, 'conf.d'), { recursive: true });
  const main = path.join(dir, 'bird.conf');
  writeFileSync(main, 'router id 10.255.0.1;\nprotocol device {}\ninclude "conf.d/*.conf";\n');
  const ctl = path.join(dir, 'bird.ctl');
  const p = spawn('ip', ['netns', 'exec', ns, 'bird', '-f', '-c', main, '-s', ctl, '-P', path.join(dir, 'bird.pid')], { stdio: 'ignore' });
  const stop = (): void => {
    try {
      process.kill(p.pid!, 'SIGKILL');
    } catch {
      // gone
    }
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // gone
    }
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await birdCommand(ctl, 'show status', 1000);
      return { ctl, conf: path.join(dir, 'conf.d/published-routes.conf'), stop };
    } catch (e) {
      if (Date.now() > deadline) {
        stop();
        throw e;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function renderAndReload(opts: BenchOptions): Promise<BenchSection> {
  const blocks = opts.quick ? 1000 : 10_000;
  const runs = opts.quick ? 3 : 9;
  const m = nodeWithBlocks(blocks);
  const tmpl = Template.parse('publisher.conf', TEMPLATE);
  const rows: Array<Record<string, string | number>> = [];
  for (const mode of ['none', 'blocks'] as AggregateMode[]) {
    const times: number[] = [];
    let out = '';
    for (let i = 0; i <= runs; i++) {
      const t0 = performance.now();
      out = await render(m.state, tmpl, mode);
      if (i > 0) times.push(performance.now() - t0);
    }
    rows.push({ step: `render (data + template), --aggregate ${mode}`, blocks, 'announced': out.split('\n').filter((l) => l.includes(' unreachable;')).length, 'median ms': ms(median(times)), 'max ms': ms(Math.max(...times)) });
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'romana-publisher-bench-'));
  const notes: string[] = [];
  let bird: Bird | null = null;
  try {
    bird = await startScratchBird(dir);
    if (bird === null) notes.push('Reload rows skipped: they need root and BIRD 2 (bird2) to run BIRD in a scratch network namespace.');
    else {
      const applier = new BirdApplier({ configPath: bird.conf, validate: 'socket', reload: 'socket', birdSocket: bird.ctl });
      await applier.apply(await render(m.state, tmpl), true);
      const apply: number[] = [];
      const total: number[] = [];
      let extra = 0;
      for (let i = 0; i <= runs; i++) {
        // One pod on a fresh block: the file changes by one route, as after a pod event.
        m.allocate({ name: `extra${extra++}`, host: 'node-a', tenant: `x${extra}`, segment: '' });
        const t0 = performance.now();
        const text = await render(m.state, tmpl);
        const t1 = performance.now();
        await applier.apply(text, false);
        const t2 = performance.now();
        if (i > 0) {
          apply.push(t2 - t1);
          total.push(t2 - t0);
        }
      }
      const count = await birdCommand(bird.ctl, 'show route count');
      rows.push({ step: 'apply: write + configure check + configure (BIRD 2 control socket)', blocks, announced: blocks + extra, 'median ms': ms(median(apply)), 'max ms': ms(Math.max(...apply)) });
      rows.push({ step: 'render + apply, one block changed', blocks, announced: blocks + extra, 'median ms': ms(median(total)), 'max ms': ms(Math.max(...total)) });
      notes.push(`BIRD held ${count.lines.find((l) => /routes/.test(l))?.trim() ?? '?'} after the runs.`);
    }
  } finally {
    bird?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  notes.push('The publisher debounces (default 200 ms quiet, at most 2 s) before this work, so a burst of pod events costs one render and one reload.');
  return { title: `Publisher render + reload latency (one node, ${blocks.toLocaleString('en')} /29 blocks, BIRD 2 OSPF example template)`, rows, notes };
}

const NAMESPACES = ['default', 'kube-system', 'monitoring', 'app', 'db'];

function cluster(hosts: number, podsPerHost: number, order: 'round-robin' | 'node by node'): MemoryIpam {
  const input: TopologyInput = {
    networks: [{ name: 'pods', cidr: '10.0.0.0/8', block_mask: 29 }],
    topologies: [{ networks: ['pods'], map: Array.from({ length: 64 }, (_, i) => ({ name: `rack-${i}`, groups: [] })) }],
  };
  const m = MemoryIpam.withTopology(input);
  for (let h = 0; h < hosts; h++) m.addHost({ name: `node-${h}`, ip: `172.16.${h >> 8}.${h & 255}` });
  const total = hosts * podsPerHost;
  for (let i = 0; i < total; i++) {
    const h = order === 'round-robin' ? i % hosts : Math.floor(i / podsPerHost);
    const round = order === 'round-robin' ? Math.floor(i / hosts) : i % podsPerHost;
    const tenant = NAMESPACES[round % NAMESPACES.length]!;
    m.allocate({ name: `pod-${i}`, host: `node-${h}`, tenant, segment: '' });
  }
  return m;
}

function stats(xs: number[]): { mean: string; p50: number; max: number; total: number } {
  const total = xs.reduce((a, b) => a + b, 0);
  return { mean: (total / xs.length).toFixed(2), p50: median(xs), max: Math.max(...xs), total };
}

async function announcedPerNode(opts: BenchOptions): Promise<BenchSection> {
  const hosts = opts.quick ? 500 : 5000;
  const pods = 30;
  const rows: Array<Record<string, string | number>> = [];
  const notes: string[] = [];
  for (const order of ['round-robin', 'node by node'] as const) {
    const m = cluster(hosts, pods, order);
    const s = m.state;
    const names = [...s.hosts.keys()];
    const per: Record<AggregateMode, number[]> = { none: [], blocks: [], cluster: [], group: [] };
    for (const n of names) {
      per.none.push((await announcedPrefixes(s, n, 'none', poolAggregator)).length);
      per.blocks.push((await announcedPrefixes(s, n, 'blocks', poolAggregator)).length);
      per.group.push((await announcedPrefixes(s, n, 'group', poolAggregator)).length);
    }
    // Cluster mode: every node computes the same cluster-wide table and keeps its share; do it once here.
    const ids = [...s.blocksByHost.keys()].sort();
    const t = new Uint32Array(s.blocks.size * 3);
    let i = 0;
    for (const [h, set] of s.blocksByHost) {
      const id = ids.indexOf(h);
      for (const b of set) t.set([b.base, b.prefix, id], (i++) * 3);
    }
    const t0 = performance.now();
    const table = await aggregate(t);
    const aggMs = performance.now() - t0;
    const share = new Map<number, number>();
    for (let k = 2; k < table.length; k += 3) share.set(table[k]!, (share.get(table[k]!) ?? 0) + 1);
    per.cluster = names.map((n) => share.get(ids.indexOf(n)) ?? 0);
    const labels: Record<AggregateMode, string> = {
      none: 'none (one per block, as the original)',
      blocks: 'blocks (node\'s blocks merged)',
      cluster: 'cluster (share of the cluster-wide minimal table)',
      group: 'group (the node\'s prefix group)',
    };
    for (const mode of ['none', 'blocks', 'cluster', 'group'] as AggregateMode[]) {
      const st = stats(per[mode]);
      rows.push({ 'pods arrive': order, '--aggregate': labels[mode], 'mean per node': st.mean, 'p50': st.p50, 'max': st.max, 'routes at the peer (all nodes)': mode === 'group' ? `${new Set(names.map((n) => s.hosts.get(n)!.placements.get('pods')!.group.path)).size} distinct (ECMP)` : st.total });
    }
    notes.push(`${order}: ${s.blocks.size.toLocaleString('en')} blocks for ${(hosts * pods).toLocaleString('en')} pods; the cluster-wide aggregation took ${ms(aggMs)} ms (one kernel call).`);
  }
  await closeKernelPool();
  return { title: `Announced prefixes per node, ${hosts.toLocaleString('en')}-node simulated cluster (10.0.0.0/8 in 64 groups, /29 blocks, ${pods} pods per node over 5 namespaces)`, rows, notes };
}

export async function run(opts: BenchOptions): Promise<BenchSection[]> {
  return [await renderAndReload(opts), await announcedPerNode(opts)];
}
