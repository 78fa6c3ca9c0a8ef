// Canonical form and content equality, with properties over generated
// valid policies: normalization is idempotent and order-blind, and the
// documented output parses back to the same policy.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalPolicyJson,
  normalizePolicy,
  parsePolicyDocument,
  policiesToDocument,
  policyEntries,
  policyEquals,
  policyToDocumented,
  type RomanaPolicy,
} from '../../../src/core/policy/index.js';
import { policy } from './arbitraries.js';
import { noIds } from './helpers.js';

const messy: RomanaPolicy = {
  name: 'web',
  id: 'id-1',
  description: '',
  direction: 'ingress',
  applied_to: [{ segment: 's', tenant: 't' }, { tenant: 'a' }, { tenant: 't', segment: 's' }],
  ingress: [
    {
      rules: [{ protocol: 'udp', ports: [], is_stateful: false }, { ports: [443, 80, 443], protocol: 'tcp', port_ranges: [[9, 10], [1, 2], [9, 10]] }],
      peers: [{ peer: 'any' }, { cidr: '10.0.0.0/8' }, { peer: 'any' }],
    },
  ],
};

/** Reverses every list (a different order of the same content). */
function reversed(p: RomanaPolicy): RomanaPolicy {
  const rev = <T>(xs: readonly T[]): T[] => [...xs].reverse();
  const entries = rev(policyEntries(p)).map((e) => ({
    peers: rev(e.peers),
    rules: rev(e.rules).map((r) => ({ ...r, ...(r.ports ? { ports: rev(r.ports) } : {}), ...(r.port_ranges ? { port_ranges: rev(r.port_ranges) } : {}) })),
  }));
  return p.direction === 'ingress' ? { ...p, applied_to: rev(p.applied_to), ingress: entries } : { ...p, applied_to: rev(p.applied_to), egress: entries };
}

describe('normalizePolicy', () => {
  it('orders keys, sorts and deduplicates lists, and drops what means nothing', () => {
    const n = normalizePolicy(messy);
    expect(JSON.stringify(n)).toBe(
      JSON.stringify({
        id: 'id-1',
        name: 'web',
        direction: 'ingress',
        applied_to: [{ tenant: 'a' }, { tenant: 't', segment: 's' }],
        ingress: [
          {
            peers: [{ cidr: '10.0.0.0/8' }, { peer: 'any' }],
            rules: [{ protocol: 'tcp', ports: [80, 443], port_ranges: [[1, 2], [9, 10]] }, { protocol: 'udp' }],
          },
        ],
      }),
    );
  });

  it('does not modify its argument', () => {
    const copy = structuredClone(messy);
    normalizePolicy(messy);
    expect(messy).toEqual(copy);
  });

  it('is idempotent (property)', () => {
    fc.assert(
      fc.property(policy, (p) => {
        const once = normalizePolicy(p);
        expect(JSON.stringify(normalizePolicy(once))).toBe(JSON.stringify(once));
      }),
    );
  });

  it('ignores list order (property)', () => {
    fc.assert(
      fc.property(policy, (p) => {
        expect(canonicalPolicyJson(reversed(p))).toBe(canonicalPolicyJson(p));
      }),
    );
  });
});

describe('policyEquals', () => {
  it('compares content after normalization', () => {
    expect(policyEquals(messy, reversed(messy))).toBe(true);
    expect(policyEquals(messy, { ...messy, description: 'now documented' })).toBe(false);
    expect(policyEquals(messy, { ...messy, direction: 'egress', egress: messy.ingress } as RomanaPolicy)).toBe(false);
    const oneMorePort = { ...messy, ingress: [{ ...messy.ingress[0]!, rules: [{ protocol: 'tcp' as const, ports: [80, 443, 8080] }] }] };
    expect(policyEquals(messy, oneMorePort)).toBe(false);
  });

  it('compares ids unless told to ignore them', () => {
    const other = { ...messy, id: 'id-2' };
    expect(policyEquals(messy, other)).toBe(false);
    expect(policyEquals(messy, other, { ignoreId: true })).toBe(true);
    expect(policyEquals(messy, { ...other, name: 'web2' }, { ignoreId: true })).toBe(false);
  });
});

describe('round trips through the documented format (property)', () => {
  it('parse(policyToDocumented(p)) gives back p', () => {
    fc.assert(
      fc.property(policy, (raw) => {
        const p = normalizePolicy(raw);
        // Through JSON text, as the CLI prints it and a user posts it back.
        const r = parsePolicyDocument(JSON.parse(JSON.stringify(policyToDocumented(p))), { newId: noIds });
        expect(r.problems).toEqual([]);
        expect(r.policies).toEqual([p]);
      }),
    );
  });

  it('parse(policiesToDocument(ps)) gives back ps, and the canonical form parses to itself', () => {
    const distinct = fc.uniqueArray(policy, { maxLength: 4, selector: (p) => p.id }).filter((ps) => {
      const handles = ps.flatMap((p) => (p.id === p.name ? [p.id] : [p.id, p.name]));
      return new Set(handles).size === handles.length;
    });
    fc.assert(
      fc.property(distinct.filter((ps) => ps.length > 0), (raw) => {
        const ps = raw.map(normalizePolicy);
        const viaDocument = parsePolicyDocument(JSON.parse(JSON.stringify(policiesToDocument(ps))), { newId: noIds });
        expect(viaDocument.problems).toEqual([]);
        expect(viaDocument.policies).toEqual(ps);
        const viaCanonical = parsePolicyDocument(JSON.parse(JSON.stringify(ps)), { newId: noIds });
        expect(viaCanonical.policies).toEqual(ps);
      }),
    );
  });
});
