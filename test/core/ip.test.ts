import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cidrContains, cidrOverlaps, formatCidr, formatIPv4, parseCidr4, parseIPv4, prefixMask } from '../../src/core/ip.js';

describe('ip', () => {
  it('round-trips every address through parse and format', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => parseIPv4(formatIPv4(n)) === n));
  });

  it('rejects malformed addresses', () => {
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', 'a.b.c.d', '1.2.3.4 ', '']) expect(parseIPv4(bad)).toBeNull();
  });

  it('parses CIDRs and reports host bits instead of hiding them', () => {
    const r = parseCidr4('10.0.0.5/16');
    expect(r).toEqual({ ok: true, cidr: { base: parseIPv4('10.0.0.0'), prefix: 16 }, hostBitsSet: true, written: parseIPv4('10.0.0.5') });
    expect(parseCidr4('10.0.0.0/33').ok).toBe(false);
    expect(parseCidr4('10.0.0.0').ok).toBe(false);
    const ok = parseCidr4('0.0.0.0/0');
    expect(ok.ok && formatCidr(ok.cidr)).toBe('0.0.0.0/0');
  });

  it('containment and overlap agree with mask arithmetic', () => {
    const a = { base: parseIPv4('10.0.0.0')!, prefix: 8 };
    const b = { base: parseIPv4('10.1.0.0')!, prefix: 16 };
    expect(cidrContains(a, b)).toBe(true);
    expect(cidrContains(b, a)).toBe(false);
    expect(cidrOverlaps(b, a)).toBe(true);
    expect(cidrOverlaps(b, { base: parseIPv4('10.2.0.0')!, prefix: 16 })).toBe(false);
    expect(prefixMask(0)).toBe(0);
    expect(prefixMask(32)).toBe(0xffffffff);
  });
});
