// What the CLI prints: the documented securitypolicies shape and the
// one-line table summary.
import { describe, expect, it } from 'vitest';
import { describePolicy, normalizePolicy, parsePolicyDocument, policiesToDocument, policyToDocumented, type RomanaPolicy } from '../../../src/core/policy/index.js';
import { counterIds, seedPolicyExample } from './helpers.js';

const seed = (): RomanaPolicy => parsePolicyDocument(JSON.parse(seedPolicyExample()), { newId: counterIds().newId }).policies[0]!;

const twoEntries: RomanaPolicy = {
  id: 'e1',
  name: 'egress-two',
  direction: 'egress',
  applied_to: [{ tenant: 'shop', segment: 'web' }],
  egress: [
    { peers: [{ cidr: '10.0.0.0/8' }], rules: [{ protocol: 'udp', ports: [53] }] },
    { peers: [{ tenant: 'shop', segment: 'db' }, { tenant: 'ops' }], rules: [{ protocol: 'tcp', ports: [5432], port_ranges: [[6000, 6010]], is_stateful: true }] },
  ],
};

describe('policyToDocumented', () => {
  it('prints a one-entry policy as documented: top-level peers and rules, id included', () => {
    expect(JSON.stringify(policiesToDocument([seed()]))).toBe(
      JSON.stringify({
        securitypolicies: [
          {
            id: 'gen-1',
            name: 'policy1',
            description: 'Opening SSH, HTTP and HTTPS ports as well as ICMP',
            direction: 'ingress',
            applied_to: [{ tenant: 'admin', segment: 'default' }],
            peers: [{ peer: 'any' }],
            rules: [{ protocol: 'icmp' }, { protocol: 'tcp', ports: [22, 80, 443] }],
          },
        ],
      }),
    );
  });

  it('keeps the entry list of a policy with several entries (flattening would widen it)', () => {
    const d = policyToDocumented(twoEntries);
    expect(d).not.toHaveProperty('peers');
    expect(d).not.toHaveProperty('rules');
    expect(d.egress).toHaveLength(2);
    expect(parsePolicyDocument({ securitypolicies: [d] }, { newId: counterIds().newId }).policies).toEqual([normalizePolicy(twoEntries)]);
  });
});

describe('describePolicy', () => {
  it('summarises the seed example on one line', () => {
    expect(describePolicy(seed())).toBe('ingress to admin/default from any: icmp; tcp 22,80,443');
  });

  it('shows every entry, endpoint kind and rule detail', () => {
    expect(describePolicy(twoEntries)).toBe(
      'egress from shop/web to 10.0.0.0/8: udp 53 | to ops, shop/db: tcp 5432,6000-6010 (stateful)',
    );
    const host: RomanaPolicy = {
      id: 'h',
      name: 'h',
      direction: 'ingress',
      applied_to: [{ dest: 'host' }],
      ingress: [{ peers: [{ peer: 'local' }], rules: [{ protocol: 'icmp', icmp_type: 3, icmp_code: 4 }, { protocol: 'any' }] }],
    };
    expect(describePolicy(host)).toBe('ingress to host from local: any; icmp type 3 code 4');
  });
});
