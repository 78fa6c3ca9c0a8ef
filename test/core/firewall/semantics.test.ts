// Kubernetes NetworkPolicy semantics, judged on the rendered rules (every
// verdict here comes from evaluatePacket over renderModel's output).
import { describe, expect, it } from 'vitest';
import { evaluatePacket, renderNodeFirewall, type ClusterView, type DesiredFirewall, type Packet } from '../../../src/core/firewall/index.js';
import { parsePolicyDocument } from '../../../src/core/policy/index.js';
import { allowedPairs, allPairs, netpol, pod, reaches, view } from './helpers.js';

// Three namespaces, two nodes. a/* and b/x on n1, the rest on n2.
const NAMESPACES = [
  { name: 'a', labels: { team: 'blue', env: 'prod' } },
  { name: 'b', labels: { team: 'red', env: 'prod' } },
  { name: 'c', labels: { team: 'blue' } },
];
const PODS = [
  pod('a/web', '10.0.0.1', { app: 'web', tier: 'front' }, 'n1', [{ name: 'http', containerPort: 80 }]),
  pod('a/db', '10.0.0.2', { app: 'db', tier: 'back' }, 'n1', [{ name: 'pg', containerPort: 5432 }]),
  pod('b/x', '10.0.0.3', { app: 'web' }, 'n1', [{ name: 'http', containerPort: 8080 }]),
  pod('b/y', '10.0.1.1', { app: 'client', debug: 'true' }, 'n2'),
  pod('c/z', '10.0.1.2', { app: 'web', tier: 'front' }, 'n2', [{ name: 'http', containerPort: 80, protocol: 'UDP' }]),
];
const base = (k8s: unknown[], more: Partial<Parameters<typeof view>[0]> = {}): ClusterView => view({ pods: PODS, namespaces: NAMESPACES, k8s, ...more });

/** All pairs minus those whose receiver (ingress) or sender (egress) is in `blocked`. */
function allBut(v: ClusterView, pred: (src: string, dst: string) => boolean): string[] {
  return allPairs(v).filter((pair) => {
    const [src, dst] = pair.split(' -> ') as [string, string];
    return !pred(src, dst);
  });
}

describe('isolation', () => {
  it('lets everything through when no policy exists', () => {
    const v = base([]);
    expect(allowedPairs(v)).toEqual(allPairs(v));
    expect(allowedPairs(v, 'udp/53')).toEqual(allPairs(v));
    expect(allowedPairs(v, 'icmp')).toEqual(allPairs(v));
  });

  it('isolates only the pods a policy selects, for ingress', () => {
    const v = base([netpol('a/db-deny', { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'] })]);
    expect(allowedPairs(v)).toEqual(allBut(v, (_s, d) => d === 'a/db'));
    // An isolated pod can still send: ingress isolation says nothing about its egress.
    expect(reaches(v, 'a/db', 'b/y')).toBe(true);
  });

  it('treats an empty ingress list as deny-all and a missing from as allow-all', () => {
    const denyAll = base([netpol('a/deny', { podSelector: {}, ingress: [] })]);
    expect(allowedPairs(denyAll)).toEqual(allBut(denyAll, (_s, d) => d.startsWith('a/')));
    const allowAll = base([netpol('a/allow', { podSelector: {}, ingress: [{}] })]);
    expect(allowedPairs(allowAll)).toEqual(allPairs(allowAll));
    expect(allowedPairs(allowAll, 'udp/9999')).toEqual(allPairs(allowAll));
  });

  it('combines policies selecting the same pod by union', () => {
    const v = base([
      netpol('a/one', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }] }),
      netpol('a/two', { podSelector: { matchLabels: { tier: 'back' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'red' } } }] }] }),
    ]);
    expect(allowedPairs(v).filter((p) => p.endsWith('-> a/db'))).toEqual(['a/web -> a/db', 'b/x -> a/db', 'b/y -> a/db']);
  });

  it('keeps established traffic flowing to isolated pods', () => {
    const v = base([netpol('a/deny', { podSelector: {}, ingress: [] })]);
    const fw = renderNodeFirewall(v, 'n1');
    const pkt = { src: '10.0.1.1', dst: '10.0.0.1', protocol: 'tcp' as const, dport: 80, chain: 'FORWARD' as const, inIface: 'eth0', outIface: 'romana1' };
    expect(evaluatePacket(fw, pkt)).toBe('DROP');
    expect(evaluatePacket(fw, { ...pkt, state: 'ESTABLISHED' })).toBe('ACCEPT');
    expect(evaluatePacket(fw, { ...pkt, state: 'RELATED' })).toBe('ACCEPT');
  });

  it('never restricts traffic between a pod and its own node', () => {
    const v = base([netpol('a/deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })]);
    const fw = renderNodeFirewall(v, 'n1');
    expect(evaluatePacket(fw, { src: '192.168.0.1', dst: '10.0.0.1', protocol: 'tcp', dport: 80, chain: 'OUTPUT', outIface: 'romana1' })).toBe('ACCEPT');
    expect(evaluatePacket(fw, { src: '10.0.0.1', dst: '192.168.0.1', protocol: 'tcp', dport: 10250, chain: 'INPUT', inIface: 'romana1' })).toBe('ACCEPT');
    // …but another node's traffic to an isolated pod is policy-checked like any other source.
    expect(evaluatePacket(fw, { src: '192.168.0.2', dst: '10.0.0.1', protocol: 'tcp', dport: 80, chain: 'FORWARD', inIface: 'eth0', outIface: 'romana1' })).toBe('DROP');
  });
});

describe('policyTypes', () => {
  const egressRule = [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }] }];

  it('defaults to Ingress plus Egress when egress rules exist', () => {
    const v = base([netpol('a/p', { podSelector: { matchLabels: { app: 'web' } }, egress: egressRule })]);
    // Ingress isolated with no ingress rules: nothing reaches a/web.
    expect(allowedPairs(v).filter((p) => p.endsWith('-> a/web'))).toEqual([]);
    // Egress isolated: a/web reaches only a/db.
    expect(allowedPairs(v).filter((p) => p.startsWith('a/web ->'))).toEqual(['a/web -> a/db']);
  });

  it('defaults to Ingress only when egress is an empty list', () => {
    const v = base([netpol('a/p', { podSelector: { matchLabels: { app: 'web' } }, egress: [] })]);
    expect(allowedPairs(v).filter((p) => p.startsWith('a/web ->'))).toHaveLength(PODS.length - 1);
    expect(allowedPairs(v).filter((p) => p.endsWith('-> a/web'))).toEqual([]);
  });

  it('ignores ingress rules of an Egress-only policy and isolates nothing for ingress', () => {
    const v = base([netpol('a/p', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'], ingress: [{ from: [{ podSelector: {} }] }], egress: egressRule })]);
    expect(allowedPairs(v).filter((p) => p.endsWith('-> a/web'))).toHaveLength(PODS.length - 1);
    expect(allowedPairs(v).filter((p) => p.startsWith('a/web ->'))).toEqual(['a/web -> a/db']);
  });
});

describe('selectors', () => {
  /** The sources a/db accepts under an ingress rule with these peers. */
  const sourcesOfDb = (from: unknown[], namespaces = NAMESPACES): string[] => {
    const v = view({ pods: PODS, namespaces, k8s: [netpol('a/p', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from }] })] });
    return allowedPairs(v)
      .filter((p) => p.endsWith('-> a/db'))
      .map((p) => p.split(' -> ')[0]!);
  };

  it('matchLabels on pods stays in the policy namespace', () => {
    expect(sourcesOfDb([{ podSelector: { matchLabels: { app: 'web' } } }])).toEqual(['a/web']);
  });

  it('In, NotIn, Exists and DoesNotExist', () => {
    const all = { namespaceSelector: {} };
    const sel = (e: unknown) => [{ ...all, podSelector: { matchExpressions: [e] } }];
    expect(sourcesOfDb(sel({ key: 'app', operator: 'In', values: ['web', 'client'] }))).toEqual(['a/web', 'b/x', 'b/y', 'c/z']);
    // NotIn also matches pods without the key.
    expect(sourcesOfDb(sel({ key: 'tier', operator: 'NotIn', values: ['front'] }))).toEqual(['b/x', 'b/y']);
    expect(sourcesOfDb(sel({ key: 'debug', operator: 'Exists' }))).toEqual(['b/y']);
    expect(sourcesOfDb(sel({ key: 'tier', operator: 'DoesNotExist' }))).toEqual(['b/x', 'b/y']);
  });

  it('requires every matchLabels pair and every expression (AND within a selector)', () => {
    expect(sourcesOfDb([{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }])).toEqual(['a/web', 'c/z']);
  });

  it('ANDs podSelector and namespaceSelector in one peer, ORs separate peers', () => {
    const ns = { namespaceSelector: { matchLabels: { team: 'blue' } } };
    const pods = { podSelector: { matchLabels: { app: 'web' } } };
    expect(sourcesOfDb([{ ...ns, ...pods }])).toEqual(['a/web', 'c/z']);
    expect(sourcesOfDb([ns, pods])).toEqual(['a/web', 'c/z']);
    // b/x is app=web in a red namespace: in neither; a/db itself is a blue pod, so two peers add nothing else here.
    expect(sourcesOfDb([{ namespaceSelector: { matchLabels: { team: 'red' } }, ...pods }])).toEqual(['b/x']);
    expect(sourcesOfDb([{ namespaceSelector: { matchLabels: { team: 'red' } } }, pods])).toEqual(['a/web', 'b/x', 'b/y']);
  });

  it('selects namespaces by the implied kubernetes.io/metadata.name label, also for namespaces known only from pods', () => {
    const byName = (n: string) => [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': n } } }];
    expect(sourcesOfDb(byName('b'))).toEqual(['b/x', 'b/y']);
    expect(sourcesOfDb(byName('c'), NAMESPACES.filter((n) => n.name !== 'c'))).toEqual(['c/z']);
    // Namespace matchExpressions work the same way.
    expect(sourcesOfDb([{ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] } }])).toEqual(['c/z']);
  });

  it('an empty namespaceSelector means every namespace', () => {
    expect(sourcesOfDb([{ namespaceSelector: {} }])).toEqual(['a/web', 'b/x', 'b/y', 'c/z']);
  });
});

describe('ipBlock', () => {
  it('allows a CIDR minus its exceptions, for ingress', () => {
    const v = base([netpol('a/p', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.1.0/24', '10.0.0.3/32'] } }] }] })]);
    expect(allowedPairs(v).filter((p) => p.endsWith('-> a/db'))).toEqual(['a/web -> a/db']);
  });

  it('applies to egress destinations', () => {
    const v = base([netpol('b/p', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24', except: ['10.0.0.2/32'] } }] }] })]);
    expect(allowedPairs(v).filter((p) => p.startsWith('b/y ->'))).toEqual(['b/y -> a/web', 'b/y -> b/x']);
  });

  it('matches addresses outside the cluster too (a node address)', () => {
    const v = base([netpol('a/p', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.0/24' } }] }] })]);
    const fw = renderNodeFirewall(v, 'n1');
    const pkt = { dst: '10.0.0.2', protocol: 'tcp' as const, dport: 5432, chain: 'FORWARD' as const, inIface: 'eth0', outIface: 'romana2' };
    expect(evaluatePacket(fw, { ...pkt, src: '192.168.0.7' })).toBe('ACCEPT');
    expect(evaluatePacket(fw, { ...pkt, src: '192.168.1.7' })).toBe('DROP');
  });
});

describe('ports', () => {
  const dbFromAll = (ports: unknown[]) => base([netpol('a/p', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ ports }] })]);

  it('by number and protocol; a port without number allows the whole protocol', () => {
    const v = dbFromAll([{ port: 5432 }, { protocol: 'UDP', port: 53 }, { protocol: 'SCTP' }]);
    expect(reaches(v, 'a/web', 'a/db', 'tcp/5432')).toBe(true);
    expect(reaches(v, 'a/web', 'a/db', 'tcp/5433')).toBe(false);
    expect(reaches(v, 'a/web', 'a/db', 'udp/5432')).toBe(false);
    expect(reaches(v, 'a/web', 'a/db', 'udp/53')).toBe(true);
    expect(reaches(v, 'a/web', 'a/db', 'tcp/53')).toBe(false);
    expect(reaches(v, 'a/web', 'a/db', 'sctp/1')).toBe(true);
    expect(reaches(v, 'a/web', 'a/db', 'sctp/65535')).toBe(true);
    expect(reaches(v, 'a/web', 'a/db', 'icmp')).toBe(false);
  });

  it('endPort makes an inclusive range', () => {
    const v = dbFromAll([{ port: 5000, endPort: 5010 }]);
    expect([4999, 5000, 5005, 5010, 5011].map((p) => reaches(v, 'b/y', 'a/db', `tcp/${p}`))).toEqual([false, true, true, true, false]);
  });

  it('overlapping and nested ranges keep their union', () => {
    const v = dbFromAll([{ port: 5000, endPort: 5010 }, { port: 5005 }, { port: 4990, endPort: 5002 }, { port: 5011, endPort: 5012 }]);
    expect([4989, 4990, 5003, 5008, 5012, 5013].map((p) => reaches(v, 'b/y', 'a/db', `tcp/${p}`))).toEqual([false, true, true, true, true, false]);
  });

  it('many ports are grouped into multiport matches of at most 15 slots without losing any', () => {
    const ports = Array.from({ length: 20 }, (_, i) => ({ port: 1000 + 2 * i }));
    const v = dbFromAll([...ports, { port: 3000, endPort: 3005 }]);
    const fw = renderNodeFirewall(v, 'n1');
    const specs = fw.chains.flatMap((c) => c.rules.map((r) => r.spec)).filter((s) => s.includes('multiport'));
    expect(specs.length).toBeGreaterThan(1);
    for (const p of [1000, 1038, 3000, 3005]) expect(reaches(v, 'b/y', 'a/db', `tcp/${p}`)).toBe(true);
    for (const p of [1001, 1040, 3006]) expect(reaches(v, 'b/y', 'a/db', `tcp/${p}`)).toBe(false);
  });

  it('resolves a named port per destination pod (ingress)', () => {
    // Both web pods are selected; "http" is 80 on a/web and 8080 on b/x (another namespace: use two policies).
    const v = base([
      netpol('a/p', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 'http' }] }] }),
      netpol('b/p', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 'http' }] }] }),
    ]);
    expect(reaches(v, 'b/y', 'a/web', 'tcp/80')).toBe(true);
    expect(reaches(v, 'b/y', 'a/web', 'tcp/8080')).toBe(false);
    expect(reaches(v, 'b/y', 'b/x', 'tcp/8080')).toBe(true);
    expect(reaches(v, 'b/y', 'b/x', 'tcp/80')).toBe(false);
    // The probe's own name resolution: tcp/http is 80 for a/web and 8080 for b/x.
    expect(reaches(v, 'b/y', 'a/web', 'tcp/http')).toBe(true);
    expect(reaches(v, 'b/y', 'b/x', 'tcp/http')).toBe(true);
  });

  it('a named port needs the protocol to match the container port', () => {
    // c/z's "http" is UDP 80.
    const tcp = base([netpol('c/p', { podSelector: {}, ingress: [{ ports: [{ port: 'http' }] }] })]);
    expect(reaches(tcp, 'a/web', 'c/z', 'tcp/80')).toBe(false);
    expect(reaches(tcp, 'a/web', 'c/z', 'udp/80')).toBe(false);
    const udp = base([netpol('c/p', { podSelector: {}, ingress: [{ ports: [{ port: 'http', protocol: 'UDP' }] }] })]);
    expect(reaches(udp, 'a/web', 'c/z', 'udp/80')).toBe(true);
    expect(reaches(udp, 'a/web', 'c/z', 'tcp/80')).toBe(false);
  });

  it('resolves a named port on the destination for egress, and never matches a non-pod destination', () => {
    const v = base([netpol('b/p', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] })]);
    expect(reaches(v, 'b/y', 'a/web', 'tcp/80')).toBe(true);
    expect(reaches(v, 'b/y', 'b/x', 'tcp/8080')).toBe(true);
    expect(reaches(v, 'b/y', 'b/x', 'tcp/80')).toBe(false);
    expect(reaches(v, 'b/y', 'a/db', 'tcp/80')).toBe(false);
    const fw = renderNodeFirewall(v, 'n2');
    expect(evaluatePacket(fw, { src: '10.0.1.1', dst: '8.8.8.8', protocol: 'tcp', dport: 80, chain: 'FORWARD', inIface: 'romanaY', outIface: 'eth0' })).toBe('DROP');
  });

  it('pairs peers with the ports of their own rule only', () => {
    const v = base([
      netpol('a/p', {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [
          { from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 5432 }] },
          { from: [{ namespaceSelector: { matchLabels: { team: 'red' } } }], ports: [{ port: 22 }] },
        ],
      }),
    ]);
    expect(reaches(v, 'a/web', 'a/db', 'tcp/5432')).toBe(true);
    expect(reaches(v, 'a/web', 'a/db', 'tcp/22')).toBe(false);
    expect(reaches(v, 'b/y', 'a/db', 'tcp/22')).toBe(true);
    expect(reaches(v, 'b/y', 'a/db', 'tcp/5432')).toBe(false);
  });
});

describe('egress', () => {
  it('is enforced on the sending node, and ingress still applies on the receiver', () => {
    const v = base([
      netpol('b/out', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { team: 'blue' } } }] }] }),
      netpol('a/in', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }] }),
    ]);
    expect(allowedPairs(v).filter((p) => p.startsWith('b/y ->'))).toEqual(['b/y -> a/web', 'b/y -> c/z']);
    // The sender's node drops it before it leaves: the receiver's node alone would accept b/y → b/x.
    const n2 = renderNodeFirewall(v, 'n2');
    expect(evaluatePacket(n2, { src: '10.0.1.1', dst: '10.0.0.3', protocol: 'tcp', dport: 80, chain: 'FORWARD', inIface: 'romanaY', outIface: 'eth0' })).toBe('DROP');
    const n1 = renderNodeFirewall(v, 'n1');
    expect(evaluatePacket(n1, { src: '10.0.1.1', dst: '10.0.0.3', protocol: 'tcp', dport: 80, chain: 'FORWARD', inIface: 'eth0', outIface: 'romanaX' })).toBe('ACCEPT');
  });

  it('same-node traffic passes both egress and ingress, whatever the order of the FORWARD jumps', () => {
    const v = base([
      netpol('a/out', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }] }] }),
      netpol('a/in', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'nothing' } } }] }] }),
    ]);
    const fw = renderNodeFirewall(v, 'n1');
    const swapped: DesiredFirewall = { ...fw, jumps: [...fw.jumps].reverse() };
    const cases = [
      ['10.0.0.1', '10.0.0.2', 'DROP'], // egress allows, ingress denies
      ['10.0.0.1', '10.0.0.3', 'DROP'], // egress denies
      ['10.0.0.2', '10.0.0.1', 'ACCEPT'], // neither isolated
      ['10.0.0.3', '10.0.0.2', 'DROP'], // ingress denies
    ] as const;
    for (const f of [fw, swapped]) {
      for (const [src, dst, verdict] of cases) {
        expect(evaluatePacket(f, { src, dst, protocol: 'tcp', dport: 80, chain: 'FORWARD', inIface: 'romanaS', outIface: 'romanaD' }), `${src} → ${dst}`).toBe(verdict);
      }
    }
  });
});

describe('invalid policies fail closed', () => {
  it('isolates the selected pods with nothing allowed, and reports the problem', () => {
    const v = base([netpol('a/p', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] })]);
    expect(allowedPairs(v)).toEqual(allBut(v, (_s, d) => d === 'a/db'));
  });
});

describe('Romana policies', () => {
  const S = 'romana.io/segment';
  const pods = [
    pod('t/front', '10.1.0.1', { [S]: 'frontend' }, 'n1'),
    pod('t/back', '10.1.0.2', { [S]: 'backend' }, 'n1'),
    pod('t/other', '10.1.1.1', {}, 'n2'),
    pod('u/x', '10.1.1.2', { [S]: 'frontend' }, 'n2'),
  ];
  const romana = (doc: unknown) => {
    const r = parsePolicyDocument(doc, { newId: () => 'generated' });
    expect(r.problems).toEqual([]);
    return r.policies;
  };

  it('tenant and segment select by namespace and segment label, and isolate what they target', () => {
    const v = view({
      pods,
      romana: romana({ securitypolicies: [{ name: 'p', direction: 'ingress', applied_to: [{ tenant: 't', segment: 'backend' }], peers: [{ tenant: 't', segment: 'frontend' }], rules: [{ protocol: 'tcp', ports: [80] }] }] }),
    });
    expect(allowedPairs(v).filter((p) => p.endsWith('-> t/back'))).toEqual(['t/front -> t/back']);
    expect(allowedPairs(v).filter((p) => !p.endsWith('-> t/back'))).toEqual(allPairs(v).filter((p) => !p.endsWith('-> t/back')));
  });

  it('matches block CIDRs of a tenant, also for addresses no pod holds yet', () => {
    const v = view({
      pods,
      blocks: [{ cidr: '10.9.0.0/28', host: 'n2', tenant: 'u', segment: 'frontend' }],
      romana: romana({ id: 'v2', direction: 'ingress', applied_to: [{ tenant_id: 't' }], ingress: [{ peers: [{ tenant_id: 'u' }], rules: [{ protocol: 'any' }] }] }),
    });
    const fw = renderNodeFirewall(v, 'n1');
    const pkt = { dst: '10.1.0.2', protocol: 'udp' as const, dport: 9, chain: 'FORWARD' as const, inIface: 'eth0', outIface: 'romanaB' };
    expect(evaluatePacket(fw, { ...pkt, src: '10.9.0.5' })).toBe('ACCEPT');
    expect(evaluatePacket(fw, { ...pkt, src: '10.1.1.2' })).toBe('ACCEPT');
    expect(evaluatePacket(fw, { ...pkt, src: '10.1.1.1' })).toBe('DROP');
  });

  it('egress policies are allow-lists of destinations', () => {
    const v = view({
      pods,
      romana: romana({ id: 'e', direction: 'egress', applied_to: [{ tenant: 'u' }], egress: [{ peers: [{ cidr: '10.1.0.0/24' }], rules: [{ protocol: 'tcp', port_ranges: [[80, 81]] }] }] }),
    });
    expect(allowedPairs(v).filter((p) => p.startsWith('u/x ->'))).toEqual(['u/x -> t/back', 'u/x -> t/front']);
    expect(reaches(v, 'u/x', 't/back', 'tcp/82')).toBe(false);
  });

  it('a host policy restricts local pods → node, with ICMP type and code', () => {
    const v = view({
      pods,
      romana: romana({ id: 'h', direction: 'ingress', applied_to: [{ dest: 'host' }], ingress: [{ peers: [{ peer: 'local' }], rules: [{ protocol: 'icmp', icmp_type: 8 }, { protocol: 'udp', ports: [53] }] }] }),
    });
    const fw = renderNodeFirewall(v, 'n1');
    const toHost = (over: Partial<Packet>) => evaluatePacket(fw, { src: '10.1.0.1', dst: '192.168.0.1', protocol: 'icmp', chain: 'INPUT', inIface: 'romanaF', ...over });
    expect(toHost({})).toBe('ACCEPT');
    expect(toHost({ icmpType: 0 })).toBe('DROP');
    expect(toHost({ protocol: 'udp', dport: 53 })).toBe('ACCEPT');
    expect(toHost({ protocol: 'tcp', dport: 22 })).toBe('DROP');
    // A pod of another node is not "local" here (it would come in through FORWARD anyway).
    expect(toHost({ src: '10.1.1.1' })).toBe('DROP');
    // Pod → pod is not affected by host policies.
    expect(allowedPairs(v)).toEqual(allPairs(v));
  });
});
