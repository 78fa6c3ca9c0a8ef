// One test per validation rule: each breaks one thing in an otherwise valid
// document and states the exact problem (path, offending value, message).
import { describe, expect, it } from 'vitest';
import { parsePolicyDocument } from '../../../src/core/policy/index.js';
import { basePolicy, docWith, noIds, P, parse, problemsOf } from './helpers.js';

/** The problems of the base document after `change`. */
function after(change: (p: Record<string, any>) => void) {
  return problemsOf(docWith(change));
}

describe('the document', () => {
  it('rejects what is neither a policy, a list nor a securitypolicies wrapper', () => {
    for (const [body, what] of [
      [null, 'null'],
      ['x', 'a string'],
      [3, 'a number'],
      [true, 'a boolean'],
    ] as const) {
      expect(problemsOf(body)).toEqual([
        { path: '$', value: body, message: `Expected a policy object, a list of policies or {"securitypolicies": [...]}, not ${what}` },
      ]);
    }
  });

  it('rejects an empty list and an empty or non-list securitypolicies', () => {
    expect(problemsOf([])).toEqual([{ path: '$', value: [], message: 'Expected at least one policy, got an empty list' }]);
    expect(problemsOf({ securitypolicies: [] })).toEqual([{ path: '$.securitypolicies', value: [], message: '"securitypolicies" lists no policy' }]);
    expect(problemsOf({ securitypolicies: {} })).toEqual([
      { path: '$.securitypolicies', value: {}, message: '"securitypolicies" must be a list of policies, not an object' },
    ]);
  });

  it('rejects unknown fields beside securitypolicies', () => {
    expect(problemsOf({ securitypolicies: [basePolicy()], version: 2 })).toEqual([
      { path: '$.version', value: 2, message: 'Unknown field "version" in the document (allowed: securitypolicies)' },
    ]);
  });

  it('rejects list elements that are not objects', () => {
    expect(problemsOf([basePolicy(), 'p2'])).toEqual([{ path: '$[1]', value: 'p2', message: 'A policy must be an object, not a string' }]);
  });
});

describe('policy fields', () => {
  it('rejects unknown fields, quoting odd keys in the path', () => {
    expect(
      after((p) => {
        p.tenant = 't1';
        p['a b'] = 1;
      }),
    ).toEqual([
      {
        path: `${P}.tenant`,
        value: 't1',
        message: 'Unknown field "tenant" in the policy (allowed: id, name, description, direction, applied_to, peers, rules, ingress, egress)',
      },
      {
        path: `${P}["a b"]`,
        value: 1,
        message: 'Unknown field "a b" in the policy (allowed: id, name, description, direction, applied_to, peers, rules, ingress, egress)',
      },
    ]);
  });

  it('requires the id to be a string of the name alphabet, at most 253 characters', () => {
    expect(after((p) => (p.id = 7))).toEqual([{ path: `${P}.id`, value: 7, message: 'The policy id must be a string, not a number' }]);
    const long = 'a'.repeat(254);
    for (const bad of ['', '-lead', 'has space', 'slash/y', long]) {
      expect(after((p) => (p.id = bad))).toEqual([
        {
          path: `${P}.id`,
          value: bad,
          message: `Invalid policy id ${JSON.stringify(bad)}: use letters, digits, ".", "_" and "-", starting with a letter or digit, at most 253 characters`,
        },
      ]);
    }
    expect(after((p) => (p.id = 'a'.repeat(253)))).toEqual([]);
  });

  it('requires the name to be DNS-label-like (letters, digits, ".", "_", "-"), at most 253 characters', () => {
    expect(after((p) => (p.name = null))).toEqual([{ path: `${P}.name`, value: null, message: 'The policy name must be a string, not null' }]);
    for (const bad of ['_x', 'a:b', 'ünï', 'x'.repeat(254)]) {
      expect(after((p) => (p.name = bad))).toEqual([
        {
          path: `${P}.name`,
          value: bad,
          message: `Invalid policy name ${JSON.stringify(bad)}: use letters, digits, ".", "_" and "-", starting with a letter or digit, at most 253 characters`,
        },
      ]);
    }
    for (const good of ['policy1', 'Web.Front_2-x', '0']) expect(after((p) => (p.name = good))).toEqual([]);
  });

  it('requires the description to be a string', () => {
    expect(after((p) => (p.description = ['x']))).toEqual([
      { path: `${P}.description`, value: ['x'], message: 'The description must be a string, not a list' },
    ]);
  });

  it('requires direction ingress or egress', () => {
    expect(after((p) => delete p.direction)).toEqual([
      { path: `${P}.direction`, value: undefined, message: 'Missing direction of the policy (one of: ingress, egress)' },
    ]);
    expect(after((p) => (p.direction = 1))).toEqual([{ path: `${P}.direction`, value: 1, message: '"direction" must be a string, not a number' }]);
    expect(after((p) => (p.direction = 'both'))).toEqual([
      { path: `${P}.direction`, value: 'both', message: 'Direction "both" is not one of: ingress, egress' },
    ]);
  });

  it('requires at least one applied_to target', () => {
    expect(after((p) => delete p.applied_to)).toEqual([{ path: `${P}.applied_to`, value: undefined, message: 'Missing applied_to of the policy' }]);
    expect(after((p) => (p.applied_to = { tenant: 't' }))).toEqual([
      { path: `${P}.applied_to`, value: { tenant: 't' }, message: '"applied_to" must be a list of endpoints, not an object' },
    ]);
    expect(after((p) => (p.applied_to = []))).toEqual([
      { path: `${P}.applied_to`, value: [], message: '"applied_to" lists no target: a policy must apply to at least one' },
    ]);
  });
});

describe('peers, rules and entries', () => {
  it('requires top-level peers and rules together, each non-empty', () => {
    expect(after((p) => delete p.rules)).toEqual([{ path: `${P}.rules`, value: undefined, message: 'Missing rules of the policy' }]);
    expect(after((p) => delete p.peers)).toEqual([{ path: `${P}.peers`, value: undefined, message: 'Missing peers of the policy' }]);
    expect(after((p) => (p.peers = []))).toEqual([
      { path: `${P}.peers`, value: [], message: '"peers" lists no peer: give at least one (use {"peer": "any"} for everyone)' },
    ]);
    expect(after((p) => (p.rules = []))).toEqual([
      { path: `${P}.rules`, value: [], message: '"rules" lists no rule: give at least one (use {"protocol": "any"} for all traffic)' },
    ]);
    expect(after((p) => (p.rules = 'tcp'))).toEqual([{ path: `${P}.rules`, value: 'tcp', message: '"rules" must be a list of rules, not a string' }]);
  });

  it('requires some traffic: peers and rules, or an entry list', () => {
    const change = (p: Record<string, any>) => {
      delete p.peers;
      delete p.rules;
    };
    expect(after(change)).toEqual([
      {
        path: `${P}.ingress`,
        value: undefined,
        message: 'Missing the policy\'s traffic: give "peers" and "rules", or an "ingress" list of {peers, rules} entries',
      },
    ]);
    expect(
      after((p) => {
        change(p);
        p.direction = 'egress';
      }),
    ).toEqual([
      {
        path: `${P}.egress`,
        value: undefined,
        message: 'Missing the policy\'s traffic: give "peers" and "rules", or an "egress" list of {peers, rules} entries',
      },
    ]);
  });

  it('rejects top-level peers/rules beside an entry list, and both lists at once', () => {
    const entries = [{ peers: [{ peer: 'any' }], rules: [{ protocol: 'any' }] }];
    expect(after((p) => (p.ingress = entries))).toEqual([
      { path: `${P}.ingress`, value: entries, message: 'Use either top-level "peers" and "rules" or an "ingress" list, not both' },
    ]);
    expect(
      after((p) => {
        delete p.peers;
        delete p.rules;
        p.direction = 'egress';
        p.ingress = entries;
        p.egress = entries;
      }),
    ).toEqual([{ path: `${P}.egress`, value: entries, message: 'Give one list, "ingress" or "egress", not both' }]);
  });

  it('rejects an egress list on an ingress policy (v2 "ingress" on egress is accepted, see parse.test.ts)', () => {
    const entries = [{ peers: [{ peer: 'any' }], rules: [{ protocol: 'any' }] }];
    expect(
      after((p) => {
        delete p.peers;
        delete p.rules;
        p.egress = entries;
      }),
    ).toEqual([{ path: `${P}.egress`, value: entries, message: 'An "egress" list needs "direction": "egress"' }]);
  });

  it('checks the entry list and each entry', () => {
    const v2 = (ingress: unknown) => ({ id: 'x', direction: 'ingress', applied_to: [{ tenant_id: 't' }], ingress });
    expect(problemsOf(v2([]))).toEqual([
      { path: '$.ingress', value: [], message: '"ingress" lists no entry: give at least one {peers, rules}' },
    ]);
    expect(problemsOf(v2({}))).toEqual([
      { path: '$.ingress', value: {}, message: '"ingress" must be a list of {peers, rules} entries, not an object' },
    ]);
    expect(problemsOf(v2([7]))).toEqual([{ path: '$.ingress[0]', value: 7, message: 'An entry must be an object with "peers" and "rules", not a number' }]);
    expect(problemsOf(v2([{ peers: [{ peer: 'any' }], rules: [{ protocol: 'any' }], action: 'allow' }]))).toEqual([
      { path: '$.ingress[0].action', value: 'allow', message: 'Unknown field "action" in the entry (allowed: peers, rules)' },
    ]);
    // v2's own failure mode (reference §4.4): an entry without rules disabled every policy on the node.
    expect(problemsOf(v2([{ peers: [{ peer: 'any' }] }]))).toEqual([
      { path: '$.ingress[0].rules', value: undefined, message: 'Missing rules of the entry' },
    ]);
  });
});

describe('endpoints', () => {
  const ENDPOINT_FIELDS = 'peer, cidr, dest, tenant, segment, tenant_id, segment_id';

  it('rejects non-objects, unknown fields and empty endpoints', () => {
    expect(after((p) => (p.peers = ['any']))).toEqual([{ path: `${P}.peers[0]`, value: 'any', message: 'An endpoint must be an object, not a string' }]);
    expect(after((p) => (p.peers = [{ peer: 'any', tenant_name: 'x' }]))).toEqual([
      { path: `${P}.peers[0].tenant_name`, value: 'x', message: `Unknown field "tenant_name" in the endpoint (allowed: ${ENDPOINT_FIELDS})` },
    ]);
    expect(after((p) => (p.applied_to = [{}]))).toEqual([
      { path: `${P}.applied_to[0]`, value: {}, message: 'An empty endpoint matches nothing: set one of "peer", "cidr", "dest" or "tenant"' },
    ]);
  });

  it('rejects endpoints of several kinds (v2 silently picked one)', () => {
    const e = { peer: 'any', cidr: '10.0.0.0/8' };
    expect(after((p) => (p.peers = [e]))).toEqual([
      { path: `${P}.peers[0]`, value: e, message: 'An endpoint sets one of "peer", "cidr", "dest" or "tenant"; this one sets "peer" and "cidr"' },
    ]);
  });

  it('accepts tenant or tenant_id, segment or segment_id, but not both spellings at once', () => {
    expect(after((p) => (p.applied_to = [{ tenant_id: 't', segment: 's' }]))).toEqual([]);
    expect(after((p) => (p.applied_to = [{ tenant: 't', tenant_id: 't' }]))).toEqual([
      { path: `${P}.applied_to[0].tenant_id`, value: 't', message: 'Give either "tenant" or "tenant_id", not both' },
    ]);
    expect(after((p) => (p.applied_to = [{ tenant: 't', segment: 's', segment_id: 's' }]))).toEqual([
      { path: `${P}.applied_to[0].segment_id`, value: 's', message: 'Give either "segment" or "segment_id", not both' },
    ]);
  });

  it('requires a tenant beside a segment', () => {
    expect(after((p) => (p.applied_to = [{ segment_id: 'web' }]))).toEqual([
      { path: `${P}.applied_to[0].segment_id`, value: 'web', message: 'A segment needs a tenant beside it' },
    ]);
  });

  it('checks tenant and segment names against ^[a-zA-Z0-9_.-]+$', () => {
    expect(after((p) => (p.applied_to = [{ tenant: 'kube-system', segment: 'app.v1_x' }]))).toEqual([]);
    expect(after((p) => (p.applied_to = [{ tenant: 'a b' }]))).toEqual([
      { path: `${P}.applied_to[0].tenant`, value: 'a b', message: 'Invalid tenant name "a b": use letters, digits, ".", "_" and "-"' },
    ]);
    expect(after((p) => (p.applied_to = [{ tenant: 't', segment_id: '' }]))).toEqual([
      { path: `${P}.applied_to[0].segment_id`, value: '', message: 'Invalid segment name "": use letters, digits, ".", "_" and "-"' },
    ]);
    expect(after((p) => (p.applied_to = [{ tenant_id: 5 }]))).toEqual([
      { path: `${P}.applied_to[0].tenant_id`, value: 5, message: 'The tenant name must be a string, not a number' },
    ]);
  });

  it('checks peer and dest words', () => {
    expect(after((p) => (p.peers = [{ peer: 'all' }]))).toEqual([
      { path: `${P}.peers[0].peer`, value: 'all', message: 'Peer "all" is not one of: any, host, local' },
    ]);
    expect(after((p) => (p.applied_to = [{ dest: 'pod' }]))).toEqual([
      { path: `${P}.applied_to[0].dest`, value: 'pod', message: 'Dest "pod" is not one of: local, host' },
    ]);
    expect(after((p) => (p.peers = [{ peer: true }]))).toEqual([{ path: `${P}.peers[0].peer`, value: true, message: '"peer" must be a string, not a boolean' }]);
  });

  it('requires valid CIDRs without host bits', () => {
    expect(after((p) => (p.peers = [{ cidr: '10.0.0.0' }]))).toEqual([
      { path: `${P}.peers[0].cidr`, value: '10.0.0.0', message: 'Invalid CIDR "10.0.0.0": missing "/prefix"' },
    ]);
    expect(after((p) => (p.peers = [{ cidr: '10.0.0.0/33' }]))).toEqual([
      { path: `${P}.peers[0].cidr`, value: '10.0.0.0/33', message: 'Invalid CIDR "10.0.0.0/33": invalid prefix length "33"' },
    ]);
    expect(after((p) => (p.peers = [{ cidr: '10.1.2.3/16' }]))).toEqual([
      { path: `${P}.peers[0].cidr`, value: '10.1.2.3/16', message: 'CIDR "10.1.2.3/16" has host bits set (the network address is "10.1.0.0/16")' },
    ]);
    expect(after((p) => (p.peers = [{ cidr: 10 }]))).toEqual([{ path: `${P}.peers[0].cidr`, value: 10, message: '"cidr" must be a string, not a number' }]);
    expect(after((p) => (p.peers = [{ cidr: '192.168.7.4/32' }]))).toEqual([]);
  });
});

describe('targets and renderable combinations (reference §3.1)', () => {
  const TARGET = 'A target must be a tenant (optionally with a segment) or {"dest":"host"}, not';

  it('accepts only tenant, tenant+segment and (ingress) dest host as targets', () => {
    for (const e of [{ peer: 'any' }, { cidr: '10.0.0.0/8' }, { dest: 'local' }]) {
      expect(after((p) => (p.applied_to = [e]))).toEqual([{ path: `${P}.applied_to[0]`, value: e, message: `${TARGET} ${JSON.stringify(e)}` }]);
    }
    // The role is judged even when the value itself is bad, so both are reported at once.
    expect(after((p) => (p.applied_to = [{ cidr: '10.0.0.1/8' }]))).toEqual([
      { path: `${P}.applied_to[0].cidr`, value: '10.0.0.1/8', message: 'CIDR "10.0.0.1/8" has host bits set (the network address is "10.0.0.0/8")' },
      { path: `${P}.applied_to[0]`, value: { cidr: '10.0.0.1/8' }, message: `${TARGET} {"cidr":"10.0.0.1/8"}` },
    ]);
  });

  it('accepts a dest host target only in ingress policies', () => {
    const change = (p: Record<string, any>) => {
      p.applied_to = [{ dest: 'host' }];
      p.peers = [{ tenant: 't1' }];
    };
    expect(after(change)).toEqual([]);
    expect(
      after((p) => {
        change(p);
        p.direction = 'egress';
      }),
    ).toEqual([{ path: `${P}.applied_to[0]`, value: { dest: 'host' }, message: 'A {"dest":"host"} target works only in ingress policies' }]);
  });

  it('rejects dest as a peer', () => {
    expect(after((p) => (p.peers = [{ dest: 'host' }]))).toEqual([
      {
        path: `${P}.peers[0]`,
        value: { dest: 'host' },
        message: 'A peer must be {"peer": "any"|"host"|"local"}, a CIDR or a tenant (optionally with a segment), not {"dest":"host"}',
      },
    ]);
  });

  it('rejects peers no target kind of the direction accepts', () => {
    expect(after((p) => (p.peers = [{ peer: 'host' }]))).toEqual([
      { path: `${P}.peers[0]`, value: { peer: 'host' }, message: 'Peer {"peer":"host"} cannot be used in an ingress policy: no target kind accepts it' },
    ]);
    expect(
      after((p) => {
        p.direction = 'egress';
        p.peers = [{ peer: 'local' }];
      }),
    ).toEqual([
      { path: `${P}.peers[0]`, value: { peer: 'local' }, message: 'Peer {"peer":"local"} cannot be used in an egress policy: no target kind accepts it' },
    ]);
  });

  it('rejects peer/target pairs that cannot be rendered, once per target kind', () => {
    // local peers only go with a host target; any/cidr peers never with one.
    expect(after((p) => (p.peers = [{ peer: 'local' }]))).toEqual([
      {
        path: `${P}.peers[0]`,
        value: { peer: 'local' },
        message: `Peer {"peer":"local"} does not combine with the tenant target at ${P}.applied_to[0] (it takes peers: any, cidr, tenant, tenant+segment)`,
      },
    ]);
    expect(
      after((p) => {
        p.applied_to = [{ tenant: 'a' }, { dest: 'host' }, { dest: 'host' }, { tenant: 'b', segment: 'c' }];
        p.peers = [{ tenant: 'x' }, { cidr: '10.0.0.0/8' }];
      }),
    ).toEqual([
      {
        path: `${P}.peers[1]`,
        value: { cidr: '10.0.0.0/8' },
        message: `Peer {"cidr":"10.0.0.0/8"} does not combine with the host target at ${P}.applied_to[1] (it takes peers: tenant, tenant+segment, local)`,
      },
    ]);
  });

  it('accepts every combination of the renderable table', () => {
    const ok = (direction: string, target: object, peer: object) =>
      problemsOf({ id: 'x', direction, applied_to: [target], peers: [peer], rules: [{ protocol: 'any' }] });
    const tenantish = [{ tenant: 't' }, { tenant: 't', segment: 's' }];
    for (const direction of ['ingress', 'egress']) {
      for (const target of tenantish) {
        for (const peer of [{ peer: 'any' }, { cidr: '10.0.0.0/8' }, ...tenantish]) expect(ok(direction, target, peer)).toEqual([]);
      }
    }
    for (const peer of [{ peer: 'local' }, ...tenantish]) expect(ok('ingress', { dest: 'host' }, peer)).toEqual([]);
  });
});

describe('rules', () => {
  const RULE_FIELDS = 'protocol, ports, port_ranges, icmp_type, icmp_code, is_stateful';
  const withRule = (rule: unknown) => after((p) => (p.rules = [rule]));
  const R = `${P}.rules[0]`;

  it('rejects non-objects and unknown fields', () => {
    expect(withRule('tcp')).toEqual([{ path: R, value: 'tcp', message: 'A rule must be an object, not a string' }]);
    expect(withRule({ protocol: 'tcp', port: 80 })).toEqual([
      { path: `${R}.port`, value: 80, message: `Unknown field "port" in the rule (allowed: ${RULE_FIELDS})` },
    ]);
  });

  it('requires a protocol among tcp, udp, sctp, icmp, any', () => {
    expect(withRule({ ports: [80] })).toEqual([
      { path: `${R}.protocol`, value: undefined, message: 'Missing protocol of the rule (one of: tcp, udp, sctp, icmp, any)' },
    ]);
    expect(withRule({ protocol: 'http' })).toEqual([
      { path: `${R}.protocol`, value: 'http', message: 'Protocol "http" is not one of: tcp, udp, sctp, icmp, any' },
    ]);
    expect(withRule({ protocol: 6 })).toEqual([{ path: `${R}.protocol`, value: 6, message: '"protocol" must be a string, not a number' }]);
    for (const protocol of ['tcp', 'UDP', 'Sctp', 'icmp', 'ANY']) expect(withRule({ protocol })).toEqual([]);
  });

  it('requires ports to be integers from 1 to 65535', () => {
    expect(withRule({ protocol: 'tcp', ports: [1, 65535, 0, 65536, 80.5, '443', null] })).toEqual([
      { path: `${R}.ports[2]`, value: 0, message: 'Port 0 must be an integer from 1 to 65535' },
      { path: `${R}.ports[3]`, value: 65536, message: 'Port 65536 must be an integer from 1 to 65535' },
      { path: `${R}.ports[4]`, value: 80.5, message: 'Port 80.5 must be an integer from 1 to 65535' },
      { path: `${R}.ports[5]`, value: '443', message: 'Port "443" must be an integer from 1 to 65535' },
      { path: `${R}.ports[6]`, value: null, message: 'Port null must be an integer from 1 to 65535' },
    ]);
    expect(withRule({ protocol: 'tcp', ports: 80 })).toEqual([{ path: `${R}.ports`, value: 80, message: '"ports" must be a list of port numbers, not a number' }]);
  });

  it('allows ports only with tcp, udp and sctp', () => {
    expect(withRule({ protocol: 'icmp', ports: [80] })).toEqual([
      { path: `${R}.ports`, value: [80], message: 'Ports apply only to tcp, udp and sctp, not to "icmp"' },
    ]);
    expect(withRule({ protocol: 'any', ports: [80] })).toEqual([
      { path: `${R}.ports`, value: [80], message: 'Ports apply only to tcp, udp and sctp, not to "any"' },
    ]);
    // An empty list says nothing (the v2 listener wrote `ports: []` for "every port").
    expect(withRule({ protocol: 'any', ports: [] })).toEqual([]);
  });

  it('requires port ranges [lo, hi] with 1 <= lo <= hi <= 65535', () => {
    expect(withRule({ protocol: 'udp', port_ranges: [[1, 65535], [7, 7], [90, 80], [0, 10], [5], [1, 2, 3], '1-2'] })).toEqual([
      { path: `${R}.port_ranges[2]`, value: [90, 80], message: 'Port range [90,80] is reversed: low must not exceed high' },
      { path: `${R}.port_ranges[3][0]`, value: 0, message: 'Port 0 must be an integer from 1 to 65535' },
      { path: `${R}.port_ranges[4]`, value: [5], message: 'A port range must be a [low, high] pair, not [5]' },
      { path: `${R}.port_ranges[5]`, value: [1, 2, 3], message: 'A port range must be a [low, high] pair, not [1,2,3]' },
      { path: `${R}.port_ranges[6]`, value: '1-2', message: 'A port range must be a [low, high] pair, not "1-2"' },
    ]);
    expect(withRule({ protocol: 'udp', port_ranges: { lo: 1 } })).toEqual([
      { path: `${R}.port_ranges`, value: { lo: 1 }, message: '"port_ranges" must be a list of [low, high] pairs, not an object' },
    ]);
    expect(withRule({ protocol: 'icmp', port_ranges: [[1, 2]] })).toEqual([
      { path: `${R}.port_ranges`, value: [[1, 2]], message: 'Port ranges apply only to tcp, udp and sctp, not to "icmp"' },
    ]);
  });

  it('allows icmp_type and icmp_code only with icmp, and icmp_code only beside icmp_type', () => {
    expect(withRule({ protocol: 'tcp', icmp_type: 8 })).toEqual([
      { path: `${R}.icmp_type`, value: 8, message: '"icmp_type" applies only to protocol icmp, not to "tcp"' },
    ]);
    expect(withRule({ protocol: 'any', icmp_code: 0 })).toEqual([
      { path: `${R}.icmp_code`, value: 0, message: '"icmp_code" applies only to protocol icmp, not to "any"' },
    ]);
    expect(withRule({ protocol: 'icmp', icmp_code: 0 })).toEqual([{ path: `${R}.icmp_code`, value: 0, message: '"icmp_code" needs "icmp_type" beside it' }]);
  });

  it('requires icmp_type 0..255', () => {
    for (const t of [-1, 256, 3.5, '8']) {
      expect(withRule({ protocol: 'icmp', icmp_type: t })).toEqual([
        { path: `${R}.icmp_type`, value: t, message: `ICMP type ${JSON.stringify(t)} must be an integer from 0 to 255` },
      ]);
    }
    for (const t of [0, 8, 255]) expect(withRule({ protocol: 'icmp', icmp_type: t })).toEqual([]);
  });

  it('limits icmp_code per type (IANA registry, see icmp.ts)', () => {
    const code = (type: number, c: unknown) => withRule({ protocol: 'icmp', icmp_type: type, icmp_code: c });
    expect(code(3, 15)).toEqual([]);
    expect(code(3, 16)).toEqual([{ path: `${R}.icmp_code`, value: 16, message: 'ICMP code 16 is not defined for type 3 (allowed: 0-15)' }]);
    expect(code(4, 1)).toEqual([{ path: `${R}.icmp_code`, value: 1, message: 'ICMP code 1 is not defined for type 4 (allowed: 0)' }]);
    expect(code(5, 4)).toEqual([{ path: `${R}.icmp_code`, value: 4, message: 'ICMP code 4 is not defined for type 5 (allowed: 0-3)' }]);
    expect(code(11, 2)).toEqual([{ path: `${R}.icmp_code`, value: 2, message: 'ICMP code 2 is not defined for type 11 (allowed: 0, 1)' }]);
    expect(code(12, 2)).toEqual([]);
    expect(code(12, 3)).toEqual([{ path: `${R}.icmp_code`, value: 3, message: 'ICMP code 3 is not defined for type 12 (allowed: 0-2)' }]);
    expect(code(9, 16)).toEqual([]);
    expect(code(9, 1)).toEqual([{ path: `${R}.icmp_code`, value: 1, message: 'ICMP code 1 is not defined for type 9 (allowed: 0, 16)' }]);
    expect(code(8, 0)).toEqual([]);
    expect(code(0, 1)).toEqual([{ path: `${R}.icmp_code`, value: 1, message: 'ICMP code 1 is not defined for type 0 (allowed: 0)' }]);
    expect(code(3, 256)).toEqual([{ path: `${R}.icmp_code`, value: 256, message: 'ICMP code 256 must be an integer from 0 to 255' }]);
    // A bad type is reported once; the code is not judged against it.
    expect(code(300, 1)).toEqual([{ path: `${R}.icmp_type`, value: 300, message: 'ICMP type 300 must be an integer from 0 to 255' }]);
  });

  it('requires is_stateful to be a boolean', () => {
    expect(withRule({ protocol: 'tcp', is_stateful: 'yes' })).toEqual([
      { path: `${R}.is_stateful`, value: 'yes', message: '"is_stateful" must be true or false, not a string' },
    ]);
  });
});

describe('duplicates inside one document', () => {
  it('rejects a repeated name', () => {
    expect(problemsOf({ securitypolicies: [basePolicy(), basePolicy()] })).toEqual([
      { path: '$.securitypolicies[1].name', value: 'p1', message: 'Duplicate policy name "p1": also used at $.securitypolicies[0].name' },
    ]);
  });

  it('rejects a repeated id', () => {
    const v2 = { id: 'same', direction: 'ingress', applied_to: [{ tenant_id: 't' }], ingress: [{ peers: [{ peer: 'any' }], rules: [{ protocol: 'any' }] }] };
    expect(problemsOf([v2, v2])).toEqual([{ path: '$[1].id', value: 'same', message: 'Duplicate policy id "same": also used at $[0].id' }]);
  });

  it('rejects a name equal to another policy id (references would be ambiguous)', () => {
    expect(problemsOf([{ ...basePolicy(), id: 'web' }, { ...basePolicy(), name: 'web' }])).toEqual([
      { path: '$[1].name', value: 'web', message: 'Duplicate policy name "web": also used at $[0].id' },
    ]);
    // A policy whose name is its own id is fine.
    expect(problemsOf([{ ...basePolicy(), id: 'web', name: 'web' }])).toEqual([]);
  });
});

describe('a document with many problems', () => {
  it('reports every one of them and accepts nothing', () => {
    // Order: per policy its own fields in document order, then its peer/target
    // combinations; duplicates across policies last.
    const body = {
      securitypolicies: [
        {
          name: 'ok-but-duplicated',
          direction: 'ingress',
          applied_to: [{ tenant: 'a' }],
          peers: [{ peer: 'any' }],
          rules: [{ protocol: 'any' }],
        },
        {
          name: 'bad name',
          direction: 'inbound',
          applied_to: [{ tenant: 'a', cidr: '10.0.0.0/8' }],
          peers: [{ peer: 'any' }, { cidr: '300.0.0.0/8' }],
          rules: [{ protocol: 'tcp', ports: [0] }, { protocol: 'icmp', icmp_type: 3, icmp_code: 99 }, { protocol: 'gre' }],
          colour: 'red',
        },
        { name: 'ok-but-duplicated', id: 'dup', direction: 'egress', applied_to: [], peers: [{ peer: 'local' }], rules: [{ protocol: 'udp', port_ranges: [[2, 1]] }] },
      ],
    };
    const r = parsePolicyDocument(body, { newId: noIds });
    expect(r.policies).toEqual([]);
    expect(r.problems.map((p) => [p.path, p.value])).toEqual([
      ['$.securitypolicies[1].colour', 'red'],
      ['$.securitypolicies[1].name', 'bad name'],
      ['$.securitypolicies[1].direction', 'inbound'],
      ['$.securitypolicies[1].applied_to[0]', { tenant: 'a', cidr: '10.0.0.0/8' }],
      ['$.securitypolicies[1].peers[1].cidr', '300.0.0.0/8'],
      ['$.securitypolicies[1].rules[0].ports[0]', 0],
      ['$.securitypolicies[1].rules[1].icmp_code', 99],
      ['$.securitypolicies[1].rules[2].protocol', 'gre'],
      ['$.securitypolicies[2].applied_to', []],
      ['$.securitypolicies[2].rules[0].port_ranges[0]', [2, 1]],
      ['$.securitypolicies[2].peers[0]', { peer: 'local' }],
      ['$.securitypolicies[2].name', 'ok-but-duplicated'],
    ]);
    // The problems feed the catalogue's VALIDATION_FAILED error unchanged.
    expect(r.problems.every((p) => /^[A-Z"]/.test(p.message))).toBe(true);
  });

  it('parses the fixed document', () => {
    expect(parse([basePolicy(), { ...basePolicy(), name: 'p2', direction: 'egress' }]).problems).toEqual([]);
  });
});
