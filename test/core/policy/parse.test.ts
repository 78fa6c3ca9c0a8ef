// Accepted input shapes: the seed's documented example, the original v2
// fixtures, single/list/wrapper documents, v2 spellings, id generation and
// name defaults. Validation failures are in validate.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePolicyDocument, type RomanaPolicy } from '../../../src/core/policy/index.js';
import { basePolicy, counterIds, noIds, parse, problemsOf, seedPolicyExample, TESTDATA_URL } from './helpers.js';

describe('the seed documentation example', () => {
  it('parses to the canonical policy', () => {
    const text = seedPolicyExample();
    expect(text).toContain('"securitypolicies"');
    const ids = counterIds();
    const r = parsePolicyDocument(JSON.parse(text), { newId: ids.newId });
    expect(r.problems).toEqual([]);
    expect(r.idGenerated).toEqual([true]);
    expect(ids.calls()).toBe(1);
    // Lists are stored sorted (normalize.ts), hence icmp before tcp.
    const expected: RomanaPolicy = {
      id: 'gen-1',
      name: 'policy1',
      description: 'Opening SSH, HTTP and HTTPS ports as well as ICMP',
      direction: 'ingress',
      applied_to: [{ tenant: 'admin', segment: 'default' }],
      ingress: [{ peers: [{ peer: 'any' }], rules: [{ protocol: 'icmp' }, { protocol: 'tcp', ports: [22, 80, 443] }] }],
    };
    expect(r.policies).toEqual([expected]);
    // Canonical key order is part of the contract (stored JSON and hashes depend on it).
    expect(JSON.stringify(r.policies[0])).toBe(JSON.stringify(expected));
  });
});

describe('the original v2 fixtures', () => {
  // Every .json under these directories is a v2 Romana policy; the .kube/.yml
  // files beside the listener ones are Kubernetes NetworkPolicies (the
  // listener's input), checked separately below.
  const dirs = ['agent/enforcer/testdata/', 'listener/testdata/'];
  const fixtures = dirs.flatMap((d) =>
    readdirSync(new URL(d, TESTDATA_URL))
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ name: `${d}${f}`, text: readFileSync(new URL(`${d}${f}`, TESTDATA_URL), 'utf8') })),
  );

  it('finds all twelve', () => {
    expect(fixtures.map((f) => f.name.replace(/.*\//, '')).sort()).toEqual(
      ['any-source', 'demo-policy', 'foreing-source-tenant', 'no-rules', 'no-source-segment', 'no-target-segment']
        .flatMap((n) => [`${n}.json`, `${n}.json`])
        .sort(),
    );
  });

  it.each(fixtures.map((f) => [f.name, f.text] as const))('%s is valid and keeps its id, with name = id and documented field names', (_, text) => {
    const r = parsePolicyDocument(JSON.parse(text), { newId: noIds });
    expect(r.problems).toEqual([]);
    expect(r.idGenerated).toEqual([false]);
    // Independent oracle: the fixture with the v2 endpoint field names renamed, plus the defaulted name.
    const renamed = JSON.parse(text.replaceAll('"tenant_id"', '"tenant"').replaceAll('"segment_id"', '"segment"'));
    expect(r.policies).toEqual([{ ...renamed, name: renamed.id }]);
  });

  it('demo-policy parses to the exact canonical object', () => {
    const text = readFileSync(new URL('agent/enforcer/testdata/demo-policy.json', TESTDATA_URL), 'utf8');
    const r = parsePolicyDocument(JSON.parse(text), { newId: noIds });
    expect(JSON.stringify(r.policies)).toBe(
      JSON.stringify([
        {
          id: 'kube.tenant-a.pol1.a8e9618f-ab1d-11e7-a1ea-068bf013416e',
          name: 'kube.tenant-a.pol1.a8e9618f-ab1d-11e7-a1ea-068bf013416e',
          direction: 'ingress',
          applied_to: [{ tenant: 'tenant-a', segment: 'backend' }],
          ingress: [{ peers: [{ tenant: 'tenant-a', segment: 'frontend' }], rules: [{ protocol: 'tcp', ports: [80] }] }],
        },
      ]),
    );
  });

  it('all six v2 policies posted as one list parse together', () => {
    const list = fixtures.slice(0, 6).map((f) => JSON.parse(f.text));
    const r = parsePolicyDocument(list, { newId: noIds });
    expect(r.problems).toEqual([]);
    expect(r.policies.map((p) => p.id)).toEqual(list.map((p) => p.id));
  });

  it('a Kubernetes NetworkPolicy (.kube) is not mistaken for a Romana policy', () => {
    const text = readFileSync(new URL('listener/testdata/demo-policy.kube', TESTDATA_URL), 'utf8');
    const paths = problemsOf(JSON.parse(text)).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['$.apiVersion', '$.kind', '$.metadata', '$.spec', '$.direction', '$.applied_to']));
  });
});

describe('document shapes', () => {
  it('accepts a single policy object, a list, and the securitypolicies wrapper alike', () => {
    const p = basePolicy();
    const single = parse(p);
    const list = parse([p]);
    const wrapped = parse({ securitypolicies: [p] });
    for (const r of [single, list, wrapped]) expect(r.problems).toEqual([]);
    expect(list.policies).toEqual(single.policies);
    expect(wrapped.policies).toEqual(single.policies);
    expect(single.policies[0]).toEqual({
      id: 'gen-1',
      name: 'p1',
      direction: 'ingress',
      applied_to: [{ tenant: 't1' }],
      ingress: [{ peers: [{ peer: 'any' }], rules: [{ protocol: 'tcp', ports: [80] }] }],
    });
  });

  it('accepts documented and v2 policies mixed in one list, in document order', () => {
    const v2 = {
      id: 'v2-pol',
      direction: 'ingress',
      applied_to: [{ tenant_id: 'a', segment_id: 'b' }],
      ingress: [{ peers: [{ cidr: '10.1.0.0/16' }], rules: [{ protocol: 'udp', port_ranges: [[53, 53]] }] }],
    };
    const ids = counterIds();
    const r = parsePolicyDocument([basePolicy(), v2, { ...basePolicy(), name: 'p2' }], { newId: ids.newId });
    expect(r.problems).toEqual([]);
    expect(r.policies.map((p) => [p.id, p.name])).toEqual([
      ['gen-1', 'p1'],
      ['v2-pol', 'v2-pol'],
      ['gen-2', 'p2'],
    ]);
    expect(r.idGenerated).toEqual([true, false, true]);
    expect(r.policies[1]).toMatchObject({ applied_to: [{ tenant: 'a', segment: 'b' }] });
  });

  it('accepts an ingress list inside securitypolicies (what the CLI prints for several entries)', () => {
    const p = { ...basePolicy(), peers: undefined, rules: undefined, ingress: [{ peers: [{ peer: 'any' }], rules: [{ protocol: 'any' }] }] };
    const r = parse({ securitypolicies: [p] });
    expect(r.problems).toEqual([]);
    expect(r.policies[0]).toMatchObject({ ingress: [{ peers: [{ peer: 'any' }], rules: [{ protocol: 'any' }] }] });
  });

  it('stores egress entries under "egress", whether written as v2 "ingress", "egress" or flat', () => {
    const entry = { peers: [{ cidr: '0.0.0.0/0' }], rules: [{ protocol: 'tcp', ports: [443] }] };
    const expected = {
      id: 'e1',
      name: 'e1',
      direction: 'egress',
      applied_to: [{ tenant: 't' }],
      egress: [{ peers: [{ cidr: '0.0.0.0/0' }], rules: [{ protocol: 'tcp', ports: [443] }] }],
    };
    const head = { id: 'e1', direction: 'egress', applied_to: [{ tenant: 't' }] };
    for (const body of [{ ...head, ingress: [entry] }, { ...head, egress: [entry] }, { ...head, ...entry }]) {
      const r = parsePolicyDocument(body, { newId: noIds });
      expect(r.problems).toEqual([]);
      expect(r.policies).toEqual([expected]);
      expect(r.policies[0]).not.toHaveProperty('ingress');
    }
  });

  it('reads enum words case-insensitively and stores them lower-case', () => {
    const r = parse({
      name: 'caps',
      direction: 'INGRESS',
      applied_to: [{ tenant: 't', segment: 's' }, { dest: 'Host' }],
      peers: [{ tenant: 'u' }],
      rules: [{ protocol: 'TCP', ports: [22] }, { protocol: 'Icmp', icmp_type: 8 }],
    });
    expect(r.problems).toEqual([]);
    expect(r.policies[0]).toMatchObject({
      direction: 'ingress',
      applied_to: [{ dest: 'host' }, { tenant: 't', segment: 's' }],
      ingress: [{ rules: [{ protocol: 'icmp', icmp_type: 8 }, { protocol: 'tcp', ports: [22] }] }],
    });
  });

  it('keeps every field of a rule and drops what means the same as its absence', () => {
    const r = parse({
      ...basePolicy(),
      description: '',
      rules: [
        { protocol: 'tcp', ports: [443, 80, 80], port_ranges: [[8000, 8080], [1000, 2000], [8000, 8080]], is_stateful: true },
        { protocol: 'udp', ports: [], port_ranges: [], is_stateful: false },
        { protocol: 'icmp', icmp_type: 3, icmp_code: 4, ports: [] },
      ],
    });
    expect(r.problems).toEqual([]);
    expect(r.policies[0]).not.toHaveProperty('description');
    expect((r.policies[0] as any).ingress[0].rules).toEqual([
      { protocol: 'icmp', icmp_type: 3, icmp_code: 4 },
      { protocol: 'tcp', ports: [80, 443], port_ranges: [[1000, 2000], [8000, 8080]], is_stateful: true },
      { protocol: 'udp' },
    ]);
  });

  it('accepts the ids the original generated and takes the name from the id', () => {
    for (const id of ['kube.tenant-a.pol1.a8e9618f-ab1d-11e7-a1ea-068bf013416e', 'AllowAllPods2Talk_5a6b-11e7_', '42']) {
      const r = parse({ ...basePolicy(), name: undefined, id });
      expect(r.problems).toEqual([]);
      expect(r.policies[0]).toMatchObject({ id, name: id });
      expect(r.idGenerated).toEqual([false]);
    }
  });

  it('generates an id only for policies without one, and only when the document is accepted', () => {
    const ids = counterIds();
    const ok = parsePolicyDocument([{ ...basePolicy(), id: 'given' }, { ...basePolicy(), name: undefined }], { newId: ids.newId });
    expect(ok.problems).toEqual([]);
    expect(ok.policies.map((p) => [p.id, p.name])).toEqual([
      ['given', 'p1'],
      ['gen-1', 'gen-1'],
    ]);
    expect(ids.calls()).toBe(1);

    const bad = counterIds();
    const rejected = parsePolicyDocument([basePolicy(), { ...basePolicy(), name: 'p2', direction: 'sideways' }], { newId: bad.newId });
    expect(rejected.policies).toEqual([]);
    expect(rejected.idGenerated).toEqual([]);
    expect(rejected.problems).toHaveLength(1);
    expect(bad.calls()).toBe(0);
  });

  it('treats a broken id generator as a programming error', () => {
    expect(() => parsePolicyDocument(basePolicy(), { newId: () => 'not valid!' })).toThrow(TypeError);
    expect(() => parsePolicyDocument([{ ...basePolicy(), id: 'x' }, { ...basePolicy(), name: 'p2' }], { newId: () => 'x' })).toThrow(
      /already uses/,
    );
  });

  it('does not modify its input', () => {
    const body = { securitypolicies: [{ ...basePolicy(), rules: [{ protocol: 'TCP', ports: [443, 80] }] }] };
    const copy = structuredClone(body);
    parse(body);
    expect(body).toEqual(copy);
  });
});
