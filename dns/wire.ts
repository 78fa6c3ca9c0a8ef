/**
 * DNS wire format (RFC 1035, 2782, 3596, 6891): a decoder and an encoder
 * for whole messages, used by the slow path (answers built per query), the
 * forwarder (upstream responses are decoded, cached and re-encoded) and the
 * precomputation of the fast path's responses.
 *
 * Design: names are plain strings without the trailing dot ('' is the root),
 * case preserved as received; comparison is the caller's business (it
 * lowercases). The encoder compresses owner names and the names inside
 * CNAME/NS/PTR/MX/SOA rdata (RFC 1035 4.1.4) but never SRV targets (RFC
 * 2782 forbids it). Types this module does not know keep their rdata as raw
 * bytes (RFC 3597), which is safe because only the well-known types may
 * carry compressed names. EDNS0's OPT pseudo-record is lifted out of the
 * additional section into `edns`.
 *
 * Concurrency rule: pure functions; the only state is the encoder's scratch
 * buffer, which no result of `encode` shares.
 */
import net from 'node:net';
import ipaddr from 'ipaddr.js';

export const TYPE = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255,
} as const;
export const TYPE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(TYPE).map(([k, v]) => [v, k]));
export const CLASS_IN = 1;
export const CLASS_ANY = 255;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, BADVERS: 16 } as const;
export const RCODE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(RCODE).map(([k, v]) => [v, k]));

export type RData =
  | { kind: 'address'; address: string } // A, AAAA
  | { kind: 'name'; name: string } // CNAME, NS, PTR
  | { kind: 'mx'; preference: number; exchange: string }
  | { kind: 'srv'; priority: number; weight: number; port: number; target: string }
  | { kind: 'txt'; strings: string[] }
  | { kind: 'soa'; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { kind: 'raw'; bytes: Buffer };

export interface RR {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: RData;
}

export interface Question {
  name: string;
  type: number;
  class: number;
}

export interface Edns {
  udpSize: number;
  /** Upper 8 bits of the 12-bit RCODE. */
  extRcode: number;
  version: number;
  /** DO bit and the rest of the 16 flag bits. */
  flags: number;
  options: Buffer;
}

export interface Message {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
  /** Full RCODE: header 4 bits plus, with EDNS, the OPT's upper 8 bits. */
  rcode: number;
  questions: Question[];
  answers: RR[];
  authority: RR[];
  additional: RR[];
  edns?: Edns;
}

export class WireError extends Error {}

export function emptyMessage(over: Partial<Message> = {}): Message {
  return {
    id: 0, qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, ad: false, cd: false, rcode: 0,
    questions: [], answers: [], authority: [], additional: [], ...over,
  };
}

// ---------------------------------------------------------------- decoding

function readName(buf: Buffer, start: number): [string, number] {
  const labels: string[] = [];
  let off = start;
  let end = -1; // offset after the name in the original position
  let jumps = 0;
  let total = 0;
  for (;;) {
    if (off >= buf.length) throw new WireError('name runs past the message');
    const len = buf[off]!;
    if (len === 0) {
      if (end < 0) end = off + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= buf.length) throw new WireError('truncated compression pointer');
      if (++jumps > 64) throw new WireError('compression loop');
      if (end < 0) end = off + 2;
      off = ((len & 0x3f) << 8) | buf[off + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new WireError('unsupported label type');
    if (off + 1 + len > buf.length) throw new WireError('label runs past the message');
    total += len + 1;
    if (total > 255) throw new WireError('name longer than 255 octets');
    labels.push(buf.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  return [labels.join('.'), end];
}

function need(buf: Buffer, off: number, n: number): void {
  if (off + n > buf.length) throw new WireError('message truncated');
}

function bytesToAddress(b: Buffer): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  return ipaddr.fromByteArray([...b]).toString();
}

function readRData(buf: Buffer, type: number, off: number, len: number): RData {
  const end = off + len;
  switch (type) {
    case TYPE.A:
      if (len !== 4) throw new WireError('A rdata is not 4 octets');
      return { kind: 'address', address: bytesToAddress(buf.subarray(off, end)) };
    case TYPE.AAAA:
      if (len !== 16) throw new WireError('AAAA rdata is not 16 octets');
      return { kind: 'address', address: bytesToAddress(buf.subarray(off, end)) };
    case TYPE.CNAME: case TYPE.NS: case TYPE.PTR:
      return { kind: 'name', name: readName(buf, off)[0] };
    case TYPE.MX:
      need(buf, off, 2);
      return { kind: 'mx', preference: buf.readUInt16BE(off), exchange: readName(buf, off + 2)[0] };
    case TYPE.SRV:
      need(buf, off, 6);
      return { kind: 'srv', priority: buf.readUInt16BE(off), weight: buf.readUInt16BE(off + 2), port: buf.readUInt16BE(off + 4), target: readName(buf, off + 6)[0] };
    case TYPE.TXT: {
      const strings: string[] = [];
      let p = off;
      while (p < end) {
        const l = buf[p]!;
        if (p + 1 + l > end) throw new WireError('TXT string runs past rdata');
        strings.push(buf.toString('latin1', p + 1, p + 1 + l));
        p += 1 + l;
      }
      return { kind: 'txt', strings };
    }
    case TYPE.SOA: {
      const [mname, p1] = readName(buf, off);
      const [rname, p2] = readName(buf, p1);
      need(buf, p2, 20);
      return {
        kind: 'soa', mname, rname, serial: buf.readUInt32BE(p2), refresh: buf.readUInt32BE(p2 + 4),
        retry: buf.readUInt32BE(p2 + 8), expire: buf.readUInt32BE(p2 + 12), minimum: buf.readUInt32BE(p2 + 16),
      };
    }
    default:
      return { kind: 'raw', bytes: Buffer.from(buf.subarray(off, end)) };
  }
}

/** Decodes a whole message; throws WireError when it is malformed. */
export function decode(buf: Buffer): Message {
  need(buf, 0, 12);
  const f = buf.readUInt16BE(2);
  const m = emptyMessage({
    id: buf.readUInt16BE(0),
    qr: (f & 0x8000) !== 0, opcode: (f >> 11) & 0xf, aa: (f & 0x0400) !== 0, tc: (f & 0x0200) !== 0,
    rd: (f & 0x0100) !== 0, ra: (f & 0x0080) !== 0, ad: (f & 0x0020) !== 0, cd: (f & 0x0010) !== 0, rcode: f & 0xf,
  });
  const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)] as const;
  let off = 12;
  for (let i = 0; i < counts[0]; i++) {
    const [name, p] = readName(buf, off);
    need(buf, p, 4);
    m.questions.push({ name, type: buf.readUInt16BE(p), class: buf.readUInt16BE(p + 2) });
    off = p + 4;
  }
  const sections = [m.answers, m.authority, m.additional];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const [name, p] = readName(buf, off);
      need(buf, p, 10);
      const type = buf.readUInt16BE(p);
      const cls = buf.readUInt16BE(p + 2);
      const ttl = buf.readUInt32BE(p + 4);
      const len = buf.readUInt16BE(p + 8);
      need(buf, p + 10, len);
      if (type === TYPE.OPT && s === 2) {
        if (m.edns) throw new WireError('more than one OPT record');
        m.edns = { udpSize: cls, extRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff, flags: ttl & 0xffff, options: Buffer.from(buf.subarray(p + 10, p + 10 + len)) };
        m.rcode |= m.edns.extRcode << 4;
      } else {
        sections[s]!.push({ name, type, class: cls, ttl, data: readRData(buf, type, p + 10, len) });
      }
      off = p + 10 + len;
    }
  }
  return m;
}

// ---------------------------------------------------------------- encoding

function ipv4Bytes(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : 256));
  return out.every((n) => n < 256) ? out : undefined;
}

/** 4 or 16 octets of an IP address in text; throws WireError for anything else. */
export function addressBytes(s: string): number[] {
  const v4 = ipv4Bytes(s);
  if (v4) return v4;
  if (net.isIPv6(s)) return ipaddr.IPv6.parse(s).toByteArray();
  throw new WireError(`not an IP address: "${s}"`);
}

/**
 * Encoding scratch space, reused by every encode (encode is synchronous and
 * calls no user code, so it cannot be re-entered). Each fresh 512-octet
 * Buffer used to come from Node's shared 8 KiB pool, and precomputing 60k
 * responses left ~40 MB of pool slabs to the garbage collector.
 */
let scratch = Buffer.allocUnsafeSlow(4096);

class Writer {
  buf = scratch;
  len = 0;
  /**
   * Lowercase suffix → offset, for compression pointers. A fresh Map per
   * message on purpose: clearing one long-lived Map makes V8 allocate its
   * new table in old space, and precomputing the table then promoted
   * ~80 MB of garbage.
   */
  private readonly names = new Map<string, number>();

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
    scratch = b;
  }
  u8(v: number): void { this.room(1); this.buf[this.len++] = v & 0xff; }
  u16(v: number): void { this.room(2); this.buf.writeUInt16BE(v & 0xffff, this.len); this.len += 2; }
  u32(v: number): void { this.room(4); this.buf.writeUInt32BE(v >>> 0, this.len); this.len += 4; }
  bytes(b: Uint8Array | number[]): void { this.room(b.length); for (let i = 0; i < b.length; i++) this.buf[this.len++] = b[i]!; }
  /**
   * Writes a name label by label; every suffix written is remembered
   * (lowercase) for later pointers, and with `compress` a suffix already
   * written becomes a pointer. Suffixes are slices of one lowercased copy,
   * not split/join per label: precomputing 60k responses made that the
   * bulk of the garbage.
   */
  name(name: string, compress: boolean): void {
    if (name === '') { this.u8(0); return; }
    const lower = name.toLowerCase();
    // A few non-Latin-1 characters change length when lowercased; then suffixes are lowercased one by one.
    const aligned = lower.length === name.length;
    for (let start = 0; ;) {
      const dot = name.indexOf('.', start);
      const end = dot < 0 ? name.length : dot;
      const suffix = start === 0 ? lower : aligned ? lower.slice(start) : name.slice(start).toLowerCase();
      const at = compress ? this.names.get(suffix) : undefined;
      if (at !== undefined) { this.u16(0xc000 | at); return; }
      if (this.len < 0x3fff) this.names.set(suffix, this.len);
      const n = end - start;
      if (n === 0 || n > 63) throw new WireError(`bad label in "${name}"`);
      this.room(n + 1);
      this.buf[this.len++] = n;
      // Latin-1, as Buffer.from(label, 'latin1') encodes: the low octet of each UTF-16 unit.
      for (let i = start; i < end; i++) this.buf[this.len++] = name.charCodeAt(i) & 0xff;
      if (dot < 0) break;
      start = dot + 1;
    }
    this.u8(0);
  }

  /** A or AAAA rdata; dotted-quad IPv4 is parsed in place (no split, no arrays). */
  address(s: string): void {
    this.room(16);
    let part = 0;
    let digits = 0;
    let parts = 0;
    const at = this.len;
    for (let i = 0; i <= s.length; i++) {
      const c = i < s.length ? s.charCodeAt(i) : 0x2e;
      if (c === 0x2e) {
        if (digits === 0 || part > 255 || parts === 4) { parts = -1; break; }
        this.buf[at + parts++] = part;
        part = 0;
        digits = 0;
      } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
        part = part * 10 + (c - 0x30);
        digits++;
      } else {
        parts = -1;
        break;
      }
    }
    if (parts === 4) { this.len += 4; return; }
    this.bytes(addressBytes(s));
  }
}

function writeRData(w: Writer, rr: RR): void {
  const lenAt = w.len;
  w.u16(0);
  const d = rr.data;
  switch (d.kind) {
    case 'address': w.address(d.address); break;
    case 'name': w.name(d.name, true); break;
    case 'mx': w.u16(d.preference); w.name(d.exchange, true); break;
    case 'srv': w.u16(d.priority); w.u16(d.weight); w.u16(d.port); w.name(d.target, false); break;
    case 'txt':
      for (const s of d.strings) { const b = Buffer.from(s, 'latin1'); if (b.length > 255) throw new WireError('TXT string over 255 octets'); w.u8(b.length); w.bytes(b); }
      break;
    case 'soa':
      w.name(d.mname, true); w.name(d.rname, true);
      w.u32(d.serial); w.u32(d.refresh); w.u32(d.retry); w.u32(d.expire); w.u32(d.minimum);
      break;
    case 'raw': w.bytes(d.bytes); break;
  }
  w.buf.writeUInt16BE(w.len - lenAt - 2, lenAt);
}

function writeRR(w: Writer, rr: RR): void {
  w.name(rr.name, true);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl);
  writeRData(w, rr);
}

/** Encodes a message; the result is a fresh Buffer of exactly its length. */
export function encode(m: Message): Buffer {
  return Buffer.from(encodeView(m));
}

/**
 * Encodes a message into the shared scratch space and returns a view of it,
 * valid only until the next encode: for callers that copy the bytes at once
 * (the response table's arena).
 */
export function encodeView(m: Message): Buffer {
  const w = new Writer();
  w.u16(m.id);
  w.u16((m.qr ? 0x8000 : 0) | ((m.opcode & 0xf) << 11) | (m.aa ? 0x0400 : 0) | (m.tc ? 0x0200 : 0) | (m.rd ? 0x0100 : 0) |
    (m.ra ? 0x0080 : 0) | (m.ad ? 0x0020 : 0) | (m.cd ? 0x0010 : 0) | (m.rcode & 0xf));
  w.u16(m.questions.length);
  w.u16(m.answers.length);
  w.u16(m.authority.length);
  w.u16(m.additional.length + (m.edns ? 1 : 0));
  for (const q of m.questions) { w.name(q.name, true); w.u16(q.type); w.u16(q.class); }
  for (const rr of m.answers) writeRR(w, rr);
  for (const rr of m.authority) writeRR(w, rr);
  for (const rr of m.additional) writeRR(w, rr);
  if (m.edns) {
    w.u8(0);
    w.u16(TYPE.OPT);
    w.u16(m.edns.udpSize);
    w.u32((((m.rcode >> 4) & 0xff) << 24) | ((m.edns.version & 0xff) << 16) | (m.edns.flags & 0xffff));
    w.u16(m.edns.options.length);
    w.bytes(m.edns.options);
  }
  return w.buf.subarray(0, w.len);
}

/** The offset just past the (single) question section, or -1 when the message does not have exactly one well-formed question. */
export function questionEnd(buf: Buffer): number {
  if (buf.length < 17 || buf.readUInt16BE(4) !== 1) return -1;
  let off = 12;
  for (;;) {
    if (off >= buf.length) return -1;
    const l = buf[off]!;
    if (l === 0) break;
    if (l > 63) return -1; // compression in a question, or a reserved label type: not for the fast path
    off += l + 1;
  }
  return off + 5 <= buf.length ? off + 5 : -1;
}
