/**
 * IPv4 arithmetic on unsigned 32-bit integers.
 *
 * Goal: one place for address math so hot paths never parse strings twice
 * (ipaddr.js costs ~6 µs a parse here). Addresses are plain `number`s in
 * [0, 2^32); a CIDR is its base address (host bits zero) and a prefix length.
 * Everything here is pure and allocation-light.
 */

/** An IPv4 CIDR: `base` has no host bits set; `prefix` in [0, 32]. */
export interface Cidr4 {
  readonly base: number;
  readonly prefix: number;
}

export type ParseCidrResult =
  | { ok: true; cidr: Cidr4; hostBitsSet: boolean; written: number }
  | { ok: false; reason: string };

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a dotted quad; null when it is not exactly four decimal octets 0..255 (no leading zeros beyond "0"). */
export function parseIPv4(text: string): number | null {
  const m = DOTTED.exec(text);
  if (!m) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part[0] === '0') return null; // "010" is ambiguous (octal in some parsers): refuse
    const v = Number(part);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Number of addresses in a prefix of this length (2^(32-prefix)), exact as a double. */
export function prefixSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

/** Network mask as an unsigned 32-bit number. */
export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses "a.b.c.d/p". Reports host bits instead of silently clearing them (the original used the written address). */
export function parseCidr4(text: string): ParseCidrResult {
  if (typeof text !== 'string') return { ok: false, reason: 'not a string' };
  const slash = text.indexOf('/');
  if (slash < 0) return { ok: false, reason: 'missing "/prefix"' };
  const ip = parseIPv4(text.slice(0, slash));
  if (ip === null) return { ok: false, reason: `invalid IPv4 address "${text.slice(0, slash)}"` };
  const p = text.slice(slash + 1);
  if (!/^\d{1,2}$/.test(p) || Number(p) > 32) return { ok: false, reason: `invalid prefix length "${p}"` };
  const prefix = Number(p);
  const base = (ip & prefixMask(prefix)) >>> 0;
  return { ok: true, cidr: { base, prefix }, hostBitsSet: base !== ip, written: ip };
}

/** Parses a CIDR or throws a TypeError naming the text; for trusted inputs (fixtures, built-ins). */
export function cidr(text: string): Cidr4 {
  const r = parseCidr4(text);
  if (!r.ok) throw new TypeError(`Invalid CIDR "${text}": ${r.reason}`);
  if (r.hostBitsSet) throw new TypeError(`Invalid CIDR "${text}": host bits set`);
  return r.cidr;
}

export function formatCidr(c: Cidr4): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

/** Last address of the CIDR. */
export function cidrLast(c: Cidr4): number {
  return c.base + prefixSize(c.prefix) - 1;
}

/** True when `inner` lies entirely inside `outer` (equal counts as contained). */
export function cidrContains(outer: Cidr4, inner: Cidr4): boolean {
  return inner.prefix >= outer.prefix && ((inner.base & prefixMask(outer.prefix)) >>> 0) === outer.base;
}

export function cidrContainsIp(c: Cidr4, ip: number): boolean {
  return ((ip & prefixMask(c.prefix)) >>> 0) === c.base;
}

/** Two CIDRs overlap iff one contains the other. */
export function cidrOverlaps(a: Cidr4, b: Cidr4): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

export function cidrEquals(a: Cidr4, b: Cidr4): boolean {
  return a.base === b.base && a.prefix === b.prefix;
}
