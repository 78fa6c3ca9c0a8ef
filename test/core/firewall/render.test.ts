// Rendered payloads: golden files with the original's policy fixtures as
// inputs, naming limits, hashes, determinism, stability of names under
// unrelated changes, and relevance to the node.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  CHAIN_PREFIX,
  IPSET_PREFIX,
  MAX_CHAIN_NAME,
  MAX_IPSET_NAME,
  renderIpsetRestore,
  renderIptablesRestore,
  renderNodeFirewall,
  simulate,
  type ClusterView,
  type DesiredFirewall,
} from '../../../src/core/firewall/index.js';
import { parsePolicyDocument, type RomanaPolicy } from '../../../src/core/policy/index.js';
import { REPO } from '../../helpers/daemon.js';
import { expectGolden, netpol, pod, view } from './helpers.js';

const TESTDATA = path.join(REPO, '../shared/romana-v2-testdata');
const ENFORCER = path.join(TESTDATA, 'agent/enforcer/testdata');
const LISTENER = path.join(TESTDATA, 'listener/testdata');

/**
 * A made-up cluster for the original's fixtures (tenant-a with segments
 * backend and frontend, kube-system): blocks on two hosts, one pod per
 * block, and a pod labelled free-range=tenbucks without a segment. The
 * namespaces carry the original's tenant label `namespace: <name>`, which
 * its listener fixtures select on.
 */
function fixtureView(parts: { romana?: RomanaPolicy[]; k8s?: unknown[] }): ClusterView {
  const S = 'romana.io/segment';
  return view({
    namespaces: [
      { name: 'tenant-a', labels: { namespace: 'tenant-a' } },
      { name: 'kube-system', labels: { namespace: 'kube-system' } },
    ],
    pods: [
      pod('tenant-a/backend-1', '10.112.0.1', { [S]: 'backend' }, 'host1', [{ name: 'http', containerPort: 80 }]),
      pod('tenant-a/backend-2', '10.112.0.33', { [S]: 'backend' }, 'host2', [{ name: 'http', containerPort: 80 }]),
      pod('tenant-a/frontend-1', '10.112.0.17', { [S]: 'frontend' }, 'host2'),
      pod('tenant-a/free-range', '10.112.0.49', { 'free-range': 'tenbucks' }, 'host1'),
      pod('kube-system/dns', '10.112.1.1', {}, 'host1', [{ name: 'dns', containerPort: 53, protocol: 'UDP' }]),
    ],
    blocks: [
      { cidr: '10.112.0.0/28', host: 'host1', tenant: 'tenant-a', segment: 'backend' },
      { cidr: '10.112.0.16/28', host: 'host2', tenant: 'tenant-a', segment: 'frontend' },
      { cidr: '10.112.0.32/28', host: 'host2', tenant: 'tenant-a', segment: 'backend' },
      { cidr: '10.112.0.48/28', host: 'host1', tenant: 'tenant-a', segment: '' },
      { cidr: '10.112.1.0/28', host: 'host1', tenant: 'kube-system', segment: '' },
    ],
    ...(parts.romana ? { romana: parts.romana } : {}),
    ...(parts.k8s ? { k8s: parts.k8s } : {}),
  });
}

/** The golden text: both payloads for host1, and who cannot reach whom on tcp/80 (judged on those rules). */
function goldenText(v: ClusterView, title: string): string {
  const fw = renderNodeFirewall(v, 'host1');
  const sim = simulate(v, [{ protocol: 'tcp', port: 80 }]);
  const denied = Object.entries(sim.probes[0]!.matrix).flatMap(([s, row]) => Object.entries(row).filter(([, ok]) => !ok).map(([d]) => `#   ${s} -> ${d}`));
  return [
    `# ${title}`,
    '# iptables-restore --noflush (host1)',
    renderIptablesRestore(fw).trimEnd(),
    '# ipset restore (host1)',
    renderIpsetRestore(fw).trimEnd(),
    '# tcp/80 dropped (all nodes):',
    ...(denied.length > 0 ? denied : ['#   nothing']),
    '',
  ].join('\n');
}

const fixtureNames = (dir: string, ext: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .map((f) => f.slice(0, -ext.length))
    .sort();

describe('golden payloads from the original fixtures', () => {
  it('finds the fixtures', () => {
    expect(fixtureNames(ENFORCER, '.json')).toEqual(['any-source', 'demo-policy', 'foreing-source-tenant', 'no-rules', 'no-source-segment', 'no-target-segment']);
  });

  for (const name of fixtureNames(ENFORCER, '.json')) {
    it(`renders the enforcer's ${name}.json (v2 Romana policy)`, () => {
      const parsed = parsePolicyDocument(JSON.parse(readFileSync(path.join(ENFORCER, `${name}.json`), 'utf8')), { newId: () => 'unused' });
      expect(parsed.problems).toEqual([]);
      expectGolden(`enforcer-${name}.txt`, goldenText(fixtureView({ romana: parsed.policies }), `agent/enforcer/testdata/${name}.json`));
    });
  }

  for (const name of fixtureNames(LISTENER, '.yml')) {
    it(`renders the listener's ${name}.yml (Kubernetes policy, v1 semantics)`, () => {
      const k8s = parseYaml(readFileSync(path.join(LISTENER, `${name}.yml`), 'utf8')) as unknown;
      expectGolden(`listener-${name}.txt`, goldenText(fixtureView({ k8s: [k8s] }), `listener/testdata/${name}.yml`));
    });
  }

  it('reads the listener .kube (JSON) twins exactly like the .yml files', () => {
    for (const name of fixtureNames(LISTENER, '.kube')) {
      const kube = JSON.parse(readFileSync(path.join(LISTENER, `${name}.kube`), 'utf8')) as unknown;
      const yml = path.join(LISTENER, `${name}.yml`);
      if (name === 'demo-policy') {
        // No .yml twin. Its meaning (backend pods accept tcp/80 from frontend pods only) is the enforcer's demo policy.
        const dropped = (v: ClusterView) =>
          Object.entries(simulate(v, [{ protocol: 'tcp', port: 80 }]).probes[0]!.matrix).flatMap(([s, row]) => Object.entries(row).filter(([, ok]) => !ok).map(([d]) => `${s} -> ${d}`));
        const enforcer = parsePolicyDocument(JSON.parse(readFileSync(path.join(ENFORCER, 'demo-policy.json'), 'utf8')), { newId: () => 'unused' }).policies;
        expect(dropped(fixtureView({ k8s: [kube] }))).toEqual(dropped(fixtureView({ romana: enforcer })));
        expect(dropped(fixtureView({ k8s: [kube] })).filter((p) => p.startsWith('tenant-a/frontend-1'))).toEqual([]);
        continue;
      }
      const a = renderNodeFirewall(fixtureView({ k8s: [kube] }), 'host1');
      const b = renderNodeFirewall(fixtureView({ k8s: [parseYaml(readFileSync(yml, 'utf8'))] }), 'host1');
      expect(a).toEqual(b);
    }
  });
});

describe('names and hashes', () => {
  const v = fixtureView({
    k8s: [
      netpol('tenant-a/p1', { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ podSelector: { matchLabels: { a: 'b' } } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 'http' }] }], egress: [{ to: [{ namespaceSelector: {} }] }] }),
    ],
    romana: parsePolicyDocument({ id: 'r', direction: 'ingress', applied_to: [{ dest: 'host' }, { tenant: 'kube-system' }], ingress: [{ peers: [{ peer: 'local' }, { tenant: 'tenant-a', segment: 'frontend' }], rules: [{ protocol: 'udp', ports: [53] }] }] }, { newId: () => 'x' }).policies,
  });
  const fw = renderNodeFirewall(v, 'host1');

  it('keeps every name owned and within the kernel limits', () => {
    for (const c of fw.chains) {
      expect(c.name.startsWith(CHAIN_PREFIX)).toBe(true);
      expect(c.name.length).toBeLessThanOrEqual(MAX_CHAIN_NAME);
    }
    for (const s of fw.ipsets) {
      expect(s.name.startsWith(IPSET_PREFIX)).toBe(true);
      expect(s.name.length).toBeLessThanOrEqual(MAX_IPSET_NAME);
    }
    for (const j of fw.jumps) expect(j.to.startsWith(CHAIN_PREFIX)).toBe(true);
    expect(fw.ipsets.length).toBeGreaterThan(5);
  });

  it('declares every set and chain it references', () => {
    const sets = new Set(fw.ipsets.map((s) => s.name));
    const chains = new Set(fw.chains.map((c) => c.name));
    for (const c of fw.chains) {
      for (const r of c.rules) {
        for (const m of r.spec.matchAll(/--match-set (\S+)/g)) expect(sets.has(m[1]!), m[1]).toBe(true);
        const target = /-j (\S+)$/.exec(r.spec)![1]!;
        expect(['ACCEPT', 'DROP', 'RETURN'].includes(target) || chains.has(target), target).toBe(true);
      }
    }
  });

  it('hashes every rule by chain, position and spec', () => {
    const all = fw.chains.flatMap((c) => c.rules.map((r) => r.hash));
    expect(new Set(all).size).toBe(all.length);
    for (const h of all) expect(h).toMatch(/^[0-9a-f]{16}$/);
    // The same spec ("-j ACCEPT") ends several chains and gets a different hash in each.
    const accepts = fw.chains.flatMap((c) => c.rules.filter((r) => r.spec === '-j ACCEPT').map((r) => r.hash));
    expect(accepts.length).toBeGreaterThan(1);
    expect(new Set(accepts).size).toBe(accepts.length);
  });

  it('lists set members sorted by address, /32 written bare in hash:net', () => {
    for (const s of fw.ipsets) {
      const keys = s.members.map((m) => {
        const [a, p] = m.split('/');
        return a!.split('.').reduce((n, o) => n * 256 + Number(o), 0) * 64 + Number(p ?? 32);
      });
      expect(keys).toEqual([...keys].sort((x, y) => x - y));
      for (const m of s.members) expect(m.endsWith('/32')).toBe(false);
      if (s.type === 'hash:ip') for (const m of s.members) expect(m).not.toContain('/');
    }
  });
});

describe('determinism and stability', () => {
  const policies = [
    netpol('a/web', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'x' } } }], ports: [{ port: 'http' }, { port: 443 }] }] }),
    netpol('a/out', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }] }] }),
  ];
  const pods = [
    pod('a/web-1', '10.0.0.1', { app: 'web' }, 'n1', [{ name: 'http', containerPort: 80 }]),
    pod('a/web-2', '10.0.0.2', { app: 'web' }, 'n1', [{ name: 'http', containerPort: 8080 }]),
    pod('b/cli', '10.0.1.1', { app: 'cli' }, 'n2'),
  ];
  const namespaces = [
    { name: 'a', labels: {} },
    { name: 'b', labels: { team: 'x' } },
  ];
  const base = view({ pods, namespaces, k8s: policies });

  it('renders the same view identically, whatever the order of its lists', () => {
    const once = renderNodeFirewall(base, 'n1');
    expect(renderNodeFirewall(view({ pods, namespaces, k8s: policies }), 'n1')).toEqual(once);
    const shuffled = view({ pods: [...pods].reverse(), namespaces: [...namespaces].reverse(), k8s: [...policies].reverse() });
    expect(renderNodeFirewall(shuffled, 'n1')).toEqual(once);
    expect(renderIptablesRestore(renderNodeFirewall(shuffled, 'n1'))).toBe(renderIptablesRestore(once));
  });

  it('a new pod changes set members only, never names, chains or rules', () => {
    const before = renderNodeFirewall(base, 'n1');
    const after = renderNodeFirewall(view({ pods: [...pods, pod('b/cli-2', '10.0.1.2', { app: 'cli' }, 'n2')], namespaces, k8s: policies }), 'n1');
    expect(after.chains).toEqual(before.chains);
    expect(after.jumps).toEqual(before.jumps);
    expect(after.ipsets.map((s) => s.name)).toEqual(before.ipsets.map((s) => s.name));
    expect(after.ipsets).not.toEqual(before.ipsets);
  });

  it('editing a policy keeps its chain name and the other policies\' chains', () => {
    const edited = [{ ...policies[0]!, spec: { ...(policies[0]!.spec as object), ingress: [{ ports: [{ port: 22 }] }] } }, policies[1]!];
    const before = renderNodeFirewall(base, 'n1');
    const after = renderNodeFirewall(view({ pods, namespaces, k8s: edited }), 'n1');
    expect(after.chains.map((c) => c.name)).toEqual(before.chains.map((c) => c.name));
    const changed = after.chains.filter((c, i) => JSON.stringify(c) !== JSON.stringify(before.chains[i]));
    expect(changed.map((c) => c.name)).toHaveLength(1);
    expect(changed[0]!.name).toMatch(/^ROMANA-P-[0-9a-f]{16}-I$/);
  });

  it('renders only the policies that select something on the node', () => {
    const n2 = renderNodeFirewall(base, 'n2');
    const policyChains = (fw: DesiredFirewall) => fw.chains.filter((c) => c.name.startsWith('ROMANA-P-')).map((c) => c.name.slice(-2));
    expect(policyChains(renderNodeFirewall(base, 'n1')).sort()).toEqual(['-E', '-I']);
    // n2 runs only b/cli: neither policy (both in namespace a) selects it.
    expect(policyChains(n2)).toEqual([]);
    expect(renderNodeFirewall(base, 'n3').chains.filter((c) => c.name.startsWith('ROMANA-P-'))).toEqual([]);
  });
});
