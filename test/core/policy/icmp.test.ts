// The ICMP code table (IANA registry, see src/core/policy/icmp.ts).
import { describe, expect, it } from 'vitest';
import { describeIcmpCodes, icmpCodesFor, isValidIcmpCode } from '../../../src/core/policy/index.js';

describe('ICMP codes', () => {
  it('matches the registry for the types that define codes', () => {
    expect(icmpCodesFor(3)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(icmpCodesFor(5)).toEqual([0, 1, 2, 3]);
    expect(icmpCodesFor(9)).toEqual([0, 16]);
    expect(icmpCodesFor(11)).toEqual([0, 1]);
    expect(icmpCodesFor(12)).toEqual([0, 1, 2]);
    expect(icmpCodesFor(40)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(icmpCodesFor(43)).toEqual([0, 1, 2, 3, 4]);
  });

  it('allows only code 0 for every other type', () => {
    for (const t of [0, 4, 8, 13, 42, 255]) {
      expect(icmpCodesFor(t)).toEqual([0]);
      expect(isValidIcmpCode(t, 0)).toBe(true);
      expect(isValidIcmpCode(t, 1)).toBe(false);
    }
  });

  it('describes the allowed codes compactly', () => {
    expect([3, 9, 11, 12, 8].map(describeIcmpCodes)).toEqual(['0-15', '0, 16', '0, 1', '0-2', '0']);
  });
});
