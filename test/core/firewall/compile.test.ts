// Compiling the three input formats into the model: Kubernetes validation
// (every problem with its JSON path, failing closed), selector
// canonicalization, Romana mapping, ordering and duplicates.
import { describe, expect, it } from 'vitest';
import { compileK8sPolicy, compilePolicies, parseSelector, selectorMatches, type ModelPolicy } from '../../../src/core/firewall/index.js';
import type { Problem } from '../../../src/core/errors.js';
import { parsePolicyDocument } from '../../../src/core/policy/index.js';
import { netpol } from './helpers.js';

const paths = (ps: readonly Problem[]) => ps.map((p) => p.path);

describe('label selectors', () => {
  it('canonicalizes: keys sorted, values sorted and unique, duplicate requirements dropped', () => {
    const problems: Problem[] = [];
    const s = parseSelector(
      {
        matchLabels: { b: '2', a: '1' },
        matchExpressions: [
          { key: 'x', operator: 'In', values: ['q', 'p', 'q'] },
          { key: 'x', operator: 'In', values: ['p', 'q'] },
        ],
      },
      '$.s',
      problems,
    );
    expect(problems).toEqual([]);
    expect(s).toEqual({ matchLabels: { a: '1', b: '2' }, matchExpressions: [{ key: 'x', operator: 'In', values: ['p', 'q'] }] });
    expect(Object.keys(s!.matchLabels)).toEqual(['a', 'b']);
  });

  it('treats null and {} as match-all', () => {
    for (const raw of [null, undefined, {}]) {
      const s = parseSelector(raw, '$', [])!;
      expect(selectorMatches(s, {})).toBe(true);
      expect(selectorMatches(s, { any: 'thing' })).toBe(true);
    }
  });

  it('reports every problem with its path', () => {
    const problems: Problem[] = [];
    const s = parseSelector(
      {
        matchLabels: { 'bad key!': 'v', ok: 7, k: 'bad value!' },
        matchExpressions: [
          { key: 'a', operator: 'In' },
          { key: 'a', operator: 'Exists', values: ['x'] },
          { key: 'a', operator: 'Equals', values: ['x'] },
          'nope',
        ],
        extra: 1,
      },
      '$.sel',
      problems,
    );
    expect(s).toBeNull();
    expect(paths(problems).sort()).toEqual(
      [
        '$.sel.extra',
        '$.sel.matchLabels["bad key!"]',
        '$.sel.matchLabels.ok',
        '$.sel.matchLabels.k',
        '$.sel.matchExpressions[0].values',
        '$.sel.matchExpressions[1].values',
        '$.sel.matchExpressions[2].operator',
        '$.sel.matchExpressions[3]',
      ].sort(),
    );
  });

  it('accepts prefixed keys and rejects malformed prefixes', () => {
    const ok: Problem[] = [];
    parseSelector({ matchLabels: { 'kubernetes.io/metadata.name': 'x', 'app.example.com/tier': '' } }, '$', ok);
    expect(ok).toEqual([]);
    const bad: Problem[] = [];
    parseSelector({ matchLabels: { '/x': 'y', 'Upper.Case/x': 'y' } }, '$', bad);
    expect(bad).toHaveLength(2);
  });
});

describe('Kubernetes NetworkPolicy', () => {
  const compile = (spec: Record<string, unknown>) => compileK8sPolicy(netpol('ns/p', spec), '$.k8sPolicies[0]');

  it('compiles peers, ports and directions', () => {
    const r = compile({
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { app: 'web' } } }, { namespaceSelector: {}, podSelector: {} }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }],
          ports: [{ port: 80 }, { protocol: 'UDP', port: 'dns' }, { protocol: 'SCTP', port: 1000, endPort: 2000 }, { protocol: 'TCP' }],
        },
      ],
      egress: [{}],
    });
    expect(r.problems).toEqual([]);
    expect(r.policies.map((p) => p.direction)).toEqual(['ingress', 'egress']);
    const ingress = r.policies[0]!;
    expect(ingress.key).toBe('k8s:ns/p');
    expect(ingress.targets).toEqual([{ kind: 'pods', namespaces: { kind: 'name', name: 'ns' }, pods: { matchLabels: { app: 'db' }, matchExpressions: [] } }]);
    expect(ingress.rules[0]!.peers).toEqual([
      { kind: 'pods', namespaces: { kind: 'name', name: 'ns' }, pods: { matchLabels: { app: 'web' }, matchExpressions: [] } },
      { kind: 'pods', namespaces: { kind: 'selector', selector: { matchLabels: {}, matchExpressions: [] } }, pods: { matchLabels: {}, matchExpressions: [] } },
      { kind: 'cidr', cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] },
    ]);
    expect(ingress.rules[0]!.ports).toEqual([
      { kind: 'port', protocol: 'tcp', port: 80, endPort: 80 },
      { kind: 'named', protocol: 'udp', name: 'dns' },
      { kind: 'port', protocol: 'sctp', port: 1000, endPort: 2000 },
      { kind: 'proto', protocol: 'tcp' },
    ]);
    // A rule with neither to nor ports: every peer, all traffic.
    expect(r.policies[1]!.rules).toEqual([{ peers: [{ kind: 'all' }], ports: [{ kind: 'proto', protocol: 'any' }] }]);
  });

  it('defaults policyTypes as the API server does', () => {
    const dirs = (spec: Record<string, unknown>) => compile(spec).policies.map((p) => p.direction);
    expect(dirs({ podSelector: {} })).toEqual(['ingress']);
    expect(dirs({ podSelector: {}, egress: [] })).toEqual(['ingress']);
    expect(dirs({ podSelector: {}, egress: [{}] })).toEqual(['ingress', 'egress']);
    expect(dirs({ podSelector: {}, policyTypes: [] , egress: [{}] })).toEqual(['ingress', 'egress']);
    expect(dirs({ podSelector: {}, policyTypes: ['Egress'] })).toEqual(['egress']);
  });

  it('accepts the older apiVersions with the same schema, and null for empty lists', () => {
    const r = compileK8sPolicy(
      { apiVersion: 'extensions/v1beta1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'n' }, spec: { podSelector: null, ingress: [{ from: null, ports: null }] } },
      '$',
    );
    expect(r.problems).toEqual([]);
    expect(r.policies[0]!.rules).toEqual([{ peers: [{ kind: 'all' }], ports: [{ kind: 'proto', protocol: 'any' }] }]);
  });

  it('lists every problem with its JSON path', () => {
    const r = compile({
      podSelector: {},
      policyTypes: ['Ingress', 'Sideways'],
      ingress: [
        {
          from: [{}, { ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }, { ipBlock: { cidr: 'fd00::/8' } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/16', '10.0.0.0/8'] } }],
          ports: [{ port: 0 }, { port: 'Not_A_Name' }, { port: 'http', endPort: 90 }, { port: 90, endPort: 80 }, { protocol: 'ICMP' }, { endPort: 5 }],
          extra: true,
        },
      ],
      egress: 'all',
    });
    expect(paths(r.problems)).toEqual([
      '$.k8sPolicies[0].spec.policyTypes[1]',
      '$.k8sPolicies[0].spec.ingress[0].extra',
      '$.k8sPolicies[0].spec.ingress[0].from[0]',
      '$.k8sPolicies[0].spec.ingress[0].from[1]',
      '$.k8sPolicies[0].spec.ingress[0].from[2].ipBlock.cidr',
      '$.k8sPolicies[0].spec.ingress[0].from[3].ipBlock.except[0]',
      '$.k8sPolicies[0].spec.ingress[0].from[3].ipBlock.except[1]',
      '$.k8sPolicies[0].spec.ingress[0].ports[0].port',
      '$.k8sPolicies[0].spec.ingress[0].ports[1].port',
      '$.k8sPolicies[0].spec.ingress[0].ports[2].endPort',
      '$.k8sPolicies[0].spec.ingress[0].ports[3].endPort',
      '$.k8sPolicies[0].spec.ingress[0].ports[4].protocol',
      '$.k8sPolicies[0].spec.ingress[0].ports[5].endPort',
      '$.k8sPolicies[0].spec.egress',
    ]);
    // Fail closed: unreadable policyTypes isolate both directions, with nothing allowed.
    expect(r.policies.map((p) => [p.direction, p.rules.length])).toEqual([
      ['ingress', 0],
      ['egress', 0],
    ]);
  });

  it('skips a policy whose targets cannot be known', () => {
    expect(compileK8sPolicy({ kind: 'NetworkPolicy', metadata: { name: 'p' }, spec: {} }, '$').policies).toEqual([]);
    expect(compile({ podSelector: { matchLabels: 'app=web' } }).policies).toEqual([]);
    expect(paths(compileK8sPolicy({ kind: 'Pod', metadata: { name: 'p', namespace: 'n' } }, '$').problems)).toEqual(['$.kind']);
    expect(paths(compileK8sPolicy('text', '$.x').problems)).toEqual(['$.x']);
  });

  it('keeps ipBlock host bits out (the API server accepts them)', () => {
    const r = compile({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.1.2.3/16' } }] }] });
    expect(r.problems).toEqual([]);
    expect(r.policies[0]!.rules[0]!.peers).toEqual([{ kind: 'cidr', cidr: '10.1.0.0/16', except: [] }]);
  });
});

describe('compilePolicies', () => {
  const romana = (doc: unknown) => {
    const r = parsePolicyDocument(doc, { newId: () => 'generated' });
    expect(r.problems).toEqual([]);
    return r.policies;
  };

  it('maps Romana policies (documented and v2) onto the same model', () => {
    const documented = romana({
      securitypolicies: [
        {
          name: 'policy1',
          direction: 'ingress',
          applied_to: [{ tenant: 'admin', segment: 'default' }],
          peers: [{ peer: 'any' }, { cidr: '10.0.0.0/8' }],
          rules: [{ protocol: 'tcp', ports: [22, 80], port_ranges: [[8000, 8080]] }, { protocol: 'icmp', icmp_type: 8 }, { protocol: 'udp' }],
        },
      ],
    });
    const v2 = romana({
      id: 'kube.tenant-a.pol1.x',
      direction: 'ingress',
      applied_to: [{ dest: 'host' }],
      ingress: [{ peers: [{ peer: 'local' }, { tenant_id: 't', segment_id: 's' }], rules: [{ protocol: 'any' }] }],
    });
    const { model, problems } = compilePolicies({ k8sPolicies: [], romanaPolicies: [...documented, ...v2] });
    expect(problems).toEqual([]);
    const byKey = new Map(model.policies.map((p) => [p.key, p] as [string, ModelPolicy]));
    const p1 = byKey.get('romana:generated')!;
    expect(p1.targets).toEqual([{ kind: 'tenant', tenant: 'admin', segment: 'default' }]);
    expect(p1.rules).toEqual([
      {
        // Stored Romana policies are normalized: lists sorted by their JSON text.
        peers: [{ kind: 'cidr', cidr: '10.0.0.0/8', except: [] }, { kind: 'all' }],
        ports: [
          { kind: 'icmp', type: 8 },
          { kind: 'port', protocol: 'tcp', port: 22, endPort: 22 },
          { kind: 'port', protocol: 'tcp', port: 80, endPort: 80 },
          { kind: 'port', protocol: 'tcp', port: 8000, endPort: 8080 },
          { kind: 'proto', protocol: 'udp' },
        ],
      },
    ]);
    const host = byKey.get('romana:kube.tenant-a.pol1.x')!;
    expect(host.targets).toEqual([{ kind: 'host' }]);
    expect(host.rules).toEqual([{ peers: [{ kind: 'localBlocks' }, { kind: 'tenant', tenant: 't', segment: 's' }], ports: [{ kind: 'proto', protocol: 'any' }] }]);
  });

  it('keeps each Romana entry paired with its own rules (no cross product)', () => {
    const [p] = romana({
      id: 'x',
      direction: 'egress',
      applied_to: [{ tenant: 't' }],
      egress: [
        { peers: [{ tenant: 'a' }], rules: [{ protocol: 'tcp', ports: [1] }] },
        { peers: [{ tenant: 'b' }], rules: [{ protocol: 'udp', ports: [2] }] },
      ],
    });
    const m = compilePolicies({ k8sPolicies: [], romanaPolicies: [p!] }).model.policies[0]!;
    expect(m.direction).toBe('egress');
    expect(m.rules.map((r) => [r.peers, r.ports])).toEqual([
      [[{ kind: 'tenant', tenant: 'a' }], [{ kind: 'port', protocol: 'tcp', port: 1, endPort: 1 }]],
      [[{ kind: 'tenant', tenant: 'b' }], [{ kind: 'port', protocol: 'udp', port: 2, endPort: 2 }]],
    ]);
  });

  it('orders by identity, keeps one bad policy from affecting the others, and reports duplicates', () => {
    const good = netpol('b/p', { podSelector: {} });
    const bad = netpol('a/p', { podSelector: {}, ingress: [{ ports: [{ port: -1 }] }] });
    const { model, problems } = compilePolicies({ k8sPolicies: [good, bad, good], romanaPolicies: [] });
    expect(model.policies.map((p) => `${p.key} ${p.direction} ${p.rules.length}`)).toEqual(['k8s:a/p ingress 0', 'k8s:b/p ingress 0']);
    expect(paths(problems)).toEqual(['$.k8sPolicies[1].spec.ingress[0].ports[0].port', '$']);
    expect(problems[1]!.message).toMatch(/duplicate policy "k8s:b\/p"/);
  });
});
