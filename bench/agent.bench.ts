/**
 * Agent suite (issue 4): the time for romana-agent's apply loop to program
 * N NetworkPolicies × M pods on one node — the real Syncer, the real
 * renderer and the real drivers (iptables-restore, ipset, ip) inside a
 * network namespace this suite creates and deletes — for a full sync from
 * an empty node, a one-policy change, one new pod that policies select,
 * and a pass with nothing to change; with the rule operations and ipset
 * members each one writes.
 *
 * Targets: one-policy change < 100 ms and full sync < 1 s at 1,000 pods ×
 * 1,000 policies (kube-router publishes ~1 s for a full sync at 300 pods).
 *
 * Cluster shape: 50 namespaces (labelled team=t-<n mod 7>) × 20 apps; pods
 * round-robin over the nodes (one row puts every pod on the measured node);
 * policy i selects one app of namespace i mod 50 and allows ingress from
 * the next app and from the namespaces of one team, on a numeric and a
 * named port. The change edits the numeric port of a policy selecting
 * pods of the measured node.
 *
 * Times are wall clock of one pass (compute + every driver), medians of
 * several changes; every driver call runs through `ip netns exec`, which
 * adds ~3 ms per kernel call here (an agent runs in the node's namespace
 * and does not pay it); the number of calls per pass is in the table.
 * Needs root (network namespaces); without it the suite reports why.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { IpsetDriver } from '../src/agent/drivers/ipset.js';
import { IptablesTable } from '../src/agent/drivers/iptables.js';
import { BACKENDS, type IptablesMode } from '../src/agent/drivers/iptables_backend.js';
import { RoutesDriver } from '../src/agent/drivers/routes.js';
import { SysctlDriver } from '../src/agent/drivers/sysctl.js';
import { netnsExec, recordingExec } from '../src/agent/shims/exec.js';
import { Syncer, type PassStats } from '../src/agent/syncer.js';
import { ALL_PARTS, ClusterCache, type Part } from '../src/agent/view.js';
import { renderNodeFirewall } from '../src/core/firewall/index.js';
import { closeKernelPool } from '../src/kernels/pool.js';
import { silentLogger } from '../src/shared/log.js';
import type { BenchOptions, BenchSection, BenchSuite } from './types.js';
import { median } from './measure.js';

const NAMESPACES = 50;
const APPS = 20;
const NODE = 'node-0';

function netpol(i: number, port: number): { key: string; value: unknown } {
  const ns = `ns-${i % NAMESPACES}`;
  const app = Math.floor(i / NAMESPACES) % APPS;
  return {
    key: `netpols/${ns}/pol-${i}`,
    value: {
      schema: 1,
      namespace: ns,
      name: `pol-${i}`,
      object: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: `pol-${i}`, namespace: ns },
        spec: {
          podSelector: { matchLabels: { app: `app-${app}` } },
          ingress: [{ from: [{ podSelector: { matchLabels: { app: `app-${(app + 1) % APPS}` } } }, { namespaceSelector: { matchLabels: { team: `t-${i % 7}` } } }], ports: [{ port }, { port: 'http' }] }],
        },
      },
    },
  };
}

function endpoint(p: number, nodes: number): { key: string; value: unknown } {
  const ns = `ns-${p % NAMESPACES}`;
  return {
    key: `endpoints/${ns}/pod-${p}`,
    value: {
      schema: 1,
      namespace: ns,
      pod: `pod-${p}`,
      labels: { app: `app-${Math.floor(p / NAMESPACES) % APPS}` },
      ip: `10.112.${(p >> 8) & 255}.${p & 255}`,
      node: `node-${p % nodes}`,
      ports: [{ name: 'http', containerPort: p % 3 === 0 ? 80 : 8000, protocol: 'TCP' }],
    },
  };
}

function records(pods: number, policies: number, nodes: number): Array<{ key: string; value: unknown }> {
  const out: Array<{ key: string; value: unknown }> = [
    { key: 'topology', value: { schema: 1, input: { networks: [{ name: 'pods', cidr: '10.112.0.0/12' }], topologies: [] } } },
  ];
  for (let n = 0; n < nodes; n++) {
    out.push({ key: `hosts/node-${n}`, value: { schema: 1, name: `node-${n}`, ip: `10.200.${n >> 8}.${(n & 255) + 1}`, labels: {}, groups: {} } });
    // Two blocks per host, so the routes driver has remote blocks to aggregate.
    for (const k of [0, 1]) {
      const cidr = `10.120.${n >> 4}.${((n & 15) * 2 + k) * 8}/29`;
      out.push({ key: `blocks/pods/${cidr}`, value: { schema: 1, network: 'pods', cidr, group: 'g', host: `node-${n}`, tenant: '', segment: '', names: {} } });
    }
  }
  for (let n = 0; n < NAMESPACES; n++) out.push({ key: `tenants/ns-${n}`, value: { schema: 1, name: `ns-${n}`, labels: { team: `t-${n % 7}` } } });
  for (let p = 0; p < pods; p++) out.push(endpoint(p, nodes));
  for (let i = 0; i < policies; i++) out.push(netpol(i, 8080));
  return out;
}

const f1 = (v: number): string => v.toFixed(1);

interface Measured {
  ms: number;
  computeMs: number;
  stepMs: Record<string, number>;
  ruleOps: number;
  members: number;
  calls: number;
}

async function scenario(mode: IptablesMode, pods: number, policies: number, nodes: number, changes: number): Promise<Record<string, string | number>> {
  const ns = `bagent-${process.pid.toString(36)}-${randomBytes(2).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  const syncers: Syncer[] = [];
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // The hosts' link: every other host is on it, so their blocks are routed via them.
    execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    execFileSync('ip', ['-n', ns, 'addr', 'add', '10.200.0.254/16', 'dev', 'eth0']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'eth1', 'up']);
    const exec = recordingExec(netnsExec(ns));
    const backend = BACKENDS[mode];
    const cache = new ClusterCache();
    cache.load(records(pods, policies, nodes), 1);
    let revision = 1;
    let waiting: { resolve: (s: PassStats) => void; reject: (e: Error) => void } | null = null;
    /** A Syncer with fresh drivers: what a restarted agent starts with. */
    const newSyncer = (): Syncer => {
      const s = new Syncer({
        cache,
        drivers: {
          sysctl: new SysctlDriver(exec),
          ipsets: new IpsetDriver(exec),
          filter: new IptablesTable('filter', backend, exec),
          nat: new IptablesTable('nat', backend, exec),
          routes: new RoutesDriver(exec, { table: 10, proto: 88, rulePriority: 32765 }),
        },
        settings: { nodeName: NODE, serviceClusterIpRange: null, nat: true, policies: true, multihop: false },
        render: (view, node) => renderNodeFirewall(view, node),
        log: silentLogger(),
        completeRevision: () => cache.revision,
        viewComplete: () => true,
        coalesceMs: 0,
        maxFailures: 1,
        onFatal: (d) => waiting?.reject(new Error(`apply failed: ${JSON.stringify(d.lastErrors)}`)),
        onPass: (st) => waiting?.resolve(st),
      });
      syncers.push(s);
      return s;
    };
    let syncer = newSyncer();
    const pass = async (parts: readonly Part[]): Promise<Measured> => {
      exec.reset();
      const done = new Promise<PassStats>((resolve, reject) => (waiting = { resolve, reject }));
      syncer.markDirty(parts);
      const s = await done;
      const ruleOps = (t: PassStats['filter']) => t.rulesInserted + t.rulesReplaced + t.rulesDeleted + t.jumpsWritten;
      return {
        ms: s.ms,
        computeMs: s.computeMs,
        stepMs: s.stepMs,
        ruleOps: ruleOps(s.filter) + ruleOps(s.nat),
        members: s.ipsets.membersWritten,
        calls: exec.calls.length,
      };
    };
    const put = (r: { key: string; value: unknown }): void => {
      cache.apply({ revision: ++revision, type: 'put', key: r.key, value: r.value });
    };

    const full = await pass(ALL_PARTS);
    const sizes = syncer.desiredSizes();
    const idle = await pass(['firewall']);
    // pol-0 selects app-0 of ns-0, whose pods include pod-0 on node-0.
    const change: Measured[] = [];
    for (let k = 0; k < changes; k++) {
      put(netpol(0, 9000 + k));
      change.push(await pass(['firewall']));
    }
    // A new pod on this node, selected by pol-0 (app-0 in ns-0).
    const add: Measured[] = [];
    for (let k = 0; k < changes; k++) {
      const p = pods + k * NAMESPACES * APPS;
      const r = endpoint(p, nodes);
      (r.value as { node: string }).node = NODE;
      put(r);
      add.push(await pass(['firewall']));
    }
    // The first full sync above paid the namespace's first use of ipset and iptables (a one-off at
    // boot: ~300 ms for ipset alone here). Remove everything and sync again with fresh drivers: a
    // full sync onto a warm kernel.
    const empty = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n';
    execFileSync('ip', ['netns', 'exec', ns, backend.restore], { input: empty });
    execFileSync('ip', ['netns', 'exec', ns, 'ipset', 'destroy']);
    execFileSync('ip', ['-n', ns, 'route', 'flush', 'table', '10']);
    await syncer.stop();
    syncer = newSyncer();
    const warm = await pass(ALL_PARTS);
    const med = (xs: Measured[], f: (m: Measured) => number): number => median(xs.map(f));
    if (process.env.ROMANA_BENCH_STEPS) {
      for (const [what, m] of [['full', full], ['idle', idle], ['change', change.at(-1)!], ['add', add.at(-1)!], ['warm full', warm]] as const) {
        process.stderr.write(`${mode} ${policies}x${pods}/${nodes} ${what}: ${f1(m.ms)} ms, compute ${f1(m.computeMs)}; ${steps(m)}\n`);
      }
    }
    return {
      iptables: mode,
      'policies × pods': `${policies} × ${pods}`,
      'pods on node': Math.ceil(pods / nodes),
      'rules / sets / members / routes': `${sizes.rules} / ${sizes.ipsets} / ${sizes.ipsetMembers} / ${sizes.routes}`,
      'full sync ms, first use / warm (compute)': `${f1(full.ms)} / ${f1(warm.ms)} (${f1(warm.computeMs)})`,
      'full: rule ops, members': `${full.ruleOps}, ${full.members}`,
      'one-policy change ms (compute)': `${f1(med(change, (m) => m.ms))} (${f1(med(change, (m) => m.computeMs))})`,
      'change: rule ops, members, calls': `${med(change, (m) => m.ruleOps)}, ${med(change, (m) => m.members)}, ${med(change, (m) => m.calls)}`,
      'new pod ms': f1(med(add, (m) => m.ms)),
      'new pod: rule ops, members': `${med(add, (m) => m.ruleOps)}, ${med(add, (m) => m.members)}`,
      'no change ms, writes': `${f1(idle.ms)}, ${idle.ruleOps + idle.members}`,
    };
  } finally {
    for (const s of syncers) await s.stop();
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

/** Steps as "name ms" for a debugging print (ROMANA_BENCH_STEPS=1). */
function steps(m: Measured): string {
  return Object.entries(m.stepMs).map(([k, v]) => `${k} ${f1(v)}`).join(', ');
}

export const run: BenchSuite = async (opts: BenchOptions): Promise<BenchSection[]> => {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return [{ title: 'Agent: programming a node (skipped)', rows: [], notes: ['Needs root: the suite creates a network namespace and programs iptables, ipset and routes in it.'] }];
  }
  const changes = opts.quick ? 3 : 7;
  const cells: Array<[IptablesMode, number, number, number]> = opts.quick
    ? [['nft', 100, 100, 10]]
    : [
        ['nft', 100, 100, 10],
        ['nft', 1000, 1000, 10],
        ['nft', 1000, 1000, 1],
        ['legacy', 1000, 1000, 10],
        ['legacy', 1000, 1000, 1],
      ];
  const rows: Array<Record<string, string | number>> = [];
  try {
    for (const [mode, pods, policies, nodes] of cells) rows.push(await scenario(mode, pods, policies, nodes, changes));
  } finally {
    await closeKernelPool();
  }
  return [
    {
      title: 'Agent: programming a node (Syncer + renderer + real drivers in a netns)',
      rows,
      notes: [
        'Targets: one-policy change < 100 ms and full sync < 1 s at 1,000 policies × 1,000 pods.',
        'A pass = compute (cluster view + renderNodeFirewall, and nat/routes when dirty) + sysctl, ipset, iptables filter and nat, ipset cleanup, routes.',
        'Full sync: "first use" programs a brand-new namespace (its first ipset/iptables use costs a few hundred ms once, as at node boot); "warm" programs the same namespace again after all Romana state was removed, with fresh drivers (an agent restart onto a wiped node).',
        '"rule ops" = iptables rule inserts/replaces/deletes and jumps written; "members" = ipset members written; "calls" = programs run (through `ip netns exec`, ~3 ms each here).',
        'Medians of several changes; wall clock on this machine, including the child processes.',
      ],
    },
  ];
};
