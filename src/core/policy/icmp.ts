/**
 * ICMP (IPv4) type/code limits for rule validation.
 *
 * Source: the IANA "Internet Control Message Protocol (ICMP) Parameters"
 * registry, https://www.iana.org/assignments/icmp-parameters (code fields).
 * It is a superset of the original's table (reference §3.1: type 3 → ≤15,
 * 4 → 0, 5 → ≤3, 11 → ≤1, others → 0); the differences are codes the
 * registry defines and the original refused:
 *
 *   type  name                      codes      reference
 *   3     Destination Unreachable   0–15       RFC 792, 1122, 1812
 *   5     Redirect                  0–3        RFC 792
 *   9     Router Advertisement      0, 16      RFC 3344
 *   11    Time Exceeded             0–1        RFC 792
 *   12    Parameter Problem         0–2        RFC 792, 1108
 *   40    Photuris                  0–5        RFC 2521
 *   43    Extended Echo Reply       0–4        RFC 8335
 *   any other type                  0          (only "No Code" or nothing registered)
 *
 * Types themselves are 0..255 (iptables accepts any of them).
 */

/** type → allowed codes (types not listed allow only 0). */
const CODES: ReadonlyMap<number, readonly number[]> = new Map([
  [3, range(0, 15)],
  [5, range(0, 3)],
  [9, [0, 16]],
  [11, range(0, 1)],
  [12, range(0, 2)],
  [40, range(0, 5)],
  [43, range(0, 4)],
]);

function range(lo: number, hi: number): number[] {
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

export const MAX_ICMP_TYPE = 255;

/** The codes defined for an ICMP type. */
export function icmpCodesFor(type: number): readonly number[] {
  return CODES.get(type) ?? [0];
}

export function isValidIcmpCode(type: number, code: number): boolean {
  return icmpCodesFor(type).includes(code);
}

/** "0-15", "0, 16", "0": the allowed codes of a type, for messages. */
export function describeIcmpCodes(type: number): string {
  const codes = icmpCodesFor(type);
  const first = codes[0]!;
  const last = codes[codes.length - 1]!;
  if (codes.length > 2 && last - first === codes.length - 1) return `${first}-${last}`;
  return codes.join(', ');
}
