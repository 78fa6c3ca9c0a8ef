import { describe, expect, it } from 'vitest';
import { formatCidr } from '../../../src/core/ip.js';
import {
  applyNetworkCidrOverrides,
  builtinTopology,
  carveTopology,
  parseNetworkCidrOverrides,
  usableLeaves,
  validateTopology,
} from '../../../src/core/topology/index.js';

describe('--network-cidr-overrides', () => {
  it('parses name=CIDR pairs', () => {
    const r = parseNetworkCidrOverrides('romana-network=100.96.0.0/11, other = 10.0.0.0/8');
    expect(r).toEqual({ ok: true, overrides: new Map([['romana-network', '100.96.0.0/11'], ['other', '10.0.0.0/8']]) });
    expect(parseNetworkCidrOverrides('')).toEqual({ ok: true, overrides: new Map() });
  });

  it('reports every malformed pair with its position', () => {
    const r = parseNetworkCidrOverrides('a=10.0.0.0/8,,=10.0.0.0/8,b,c=1.2.3.4/33,d=10.0.0.1/8,e=f=10.0.0.0/8,a=11.0.0.0/8,g=10.0.0.0/40');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => [p.path, p.message])).toEqual([
      ['network-cidr-overrides[1]', 'Empty override (two commas in a row, or a trailing comma)'],
      ['network-cidr-overrides[2]', 'Override "=10.0.0.0/8" has no network name'],
      ['network-cidr-overrides[3]', 'Override "b" must be written name=CIDR with exactly one "="'],
      ['network-cidr-overrides[4]', 'Override "c=1.2.3.4/33": invalid CIDR "1.2.3.4/33": invalid prefix length "33"'],
      ['network-cidr-overrides[5]', 'Override "d=10.0.0.1/8": CIDR "10.0.0.1/8" has host bits set (the network address is "10.0.0.0/8")'],
      ['network-cidr-overrides[6]', 'Override "e=f=10.0.0.0/8" must be written name=CIDR with exactly one "="'],
      ['network-cidr-overrides[7]', 'Network "a" is overridden twice'],
      ['network-cidr-overrides[8]', 'Override "g=10.0.0.0/40": invalid CIDR "10.0.0.0/40": invalid prefix length "40"'],
    ]);
  });

  it('changes only the CIDR of the named network, on a copy', () => {
    const input = builtinTopology('kubeadm');
    const before = structuredClone(input);
    const out = applyNetworkCidrOverrides(input, new Map([['romana-network', '10.200.0.0/13']]));
    expect(input).toEqual(before);
    expect(out).toEqual({ ...before, networks: [{ name: 'romana-network', cidr: '10.200.0.0/13' }] });
    // The group structure stays: eight leaves, now /16s of the new range.
    expect(usableLeaves(carveTopology(out).networks[0]!).map((g) => formatCidr(g.cidr))).toEqual(
      Array.from({ length: 8 }, (_, i) => `10.${200 + i}.0.0/16`),
    );
  });

  it('rejects unknown network names, naming them', () => {
    expect(() => applyNetworkCidrOverrides(builtinTopology('kubeadm'), new Map([['romana-net', '10.0.0.0/8'], ['x', '10.0.0.0/8']]))).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        details: {
          problems: [
            { path: 'network-cidr-overrides["romana-net"]', value: 'romana-net', message: 'Network "romana-net" is not defined in the topology (defined: "romana-network")' },
            { path: 'network-cidr-overrides["x"]', value: 'x', message: 'Network "x" is not defined in the topology (defined: "romana-network")' },
          ],
        },
      }),
    );
  });

  it('leaves the new CIDR to validation (too small for the groups)', () => {
    // A /24 still fits (/27 zones, /29 leaves = one block each); a /25 makes every leaf a /30.
    const fits = applyNetworkCidrOverrides(builtinTopology('aws-us-east-1'), new Map([['romana-network', '10.0.0.0/24']]));
    expect(validateTopology(fits)).toEqual([]);
    const out = applyNetworkCidrOverrides(builtinTopology('aws-us-east-1'), new Map([['romana-network', '10.0.0.0/25']]));
    const problems = validateTopology(out);
    expect(problems).toHaveLength(24);
    expect(problems[0]).toEqual({
      path: '$.topologies[0].map[0].groups[0]',
      value: '10.0.0.0/30',
      message: 'Group "us-east-1a-group-01" would get "10.0.0.0/30" in network "romana-network", smaller than one /29 block',
    });
  });
});
