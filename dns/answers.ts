/**
 * Answers for the cluster zone: from a question and a Lookup to the
 * sections of a response (pure), and the wire-format response table the
 * fast path serves from.
 *
 * Design:
 * - `answerQuestion` returns undefined for names the cluster does not own
 *   (outside the domain, or a reverse name of an IP it does not know): the
 *   server forwards those. Inside the domain, a missing name is NXDOMAIN and
 *   an existing name without the type is NODATA, both with the zone's SOA
 *   in the authority section (RFC 2308) so resolvers cache the negative.
 * - `ResponseTable` holds finished responses (id 0, lowercase question) in
 *   one arena Buffer, found by hashing the query's question section (qname
 *   case-folded, qtype, qclass) in place, so answering allocates nothing
 *   but the outgoing copy: one hash probe, one copy, then the server
 *   patches the ID, the RD/CD bits and the question's case (0x20-randomising
 *   resolvers compare it). Cluster names are precomputed when the zone is
 *   built; anything else the zone answers (pod names, NXDOMAIN for
 *   search-path suffixes) is added on first use to a second, bounded arena
 *   that is dropped when full.
 *
 * Concurrency rule: a table belongs to one zone; the server swaps both
 * together when the cluster changes.
 */
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Lookup, NameData } from './records.js';
import { CLASS_ANY, CLASS_IN, encodeView, emptyMessage, RCODE, TYPE, type Message, type Question, type RR } from './wire.js';

export interface Answer {
  rcode: number;
  answers: RR[];
  authority: RR[];
  additional: RR[];
}

export function inDomain(name: string, domain: string): boolean {
  return name === domain || name.endsWith(`.${domain}`);
}

/** `a-b-c-d.<ns>.pod.<zone>` (or dashed IPv6) → the address, as kube-dns answers without checking the pod exists. */
export function podAddress(name: string, domain: string): string | undefined {
  const suffix = `.pod.${domain}`;
  if (!name.endsWith(suffix)) return undefined;
  const labels = name.slice(0, -suffix.length).split('.');
  if (labels.length !== 2) return undefined;
  const v4 = labels[0]!.replace(/-/g, '.');
  if (net.isIPv4(v4)) return v4;
  const v6 = labels[0]!.replace(/-/g, ':');
  return net.isIPv6(v6) ? ipaddr.IPv6.parse(v6).toString() : undefined;
}

function rrsOf(name: string, data: NameData, qtype: number, ttl: number): RR[] {
  const out: RR[] = [];
  const any = qtype === TYPE.ANY;
  const rr = (type: number, d: RR['data']): void => { out.push({ name, type, class: CLASS_IN, ttl, data: d }); };
  if (data.cname) {
    rr(TYPE.CNAME, { kind: 'name', name: data.cname });
    return out;
  }
  if (any || qtype === TYPE.A) for (const a of data.a ?? []) rr(TYPE.A, { kind: 'address', address: a });
  if (any || qtype === TYPE.AAAA) for (const a of data.aaaa ?? []) rr(TYPE.AAAA, { kind: 'address', address: a });
  if (any || qtype === TYPE.SRV) for (const s of data.srv ?? []) rr(TYPE.SRV, { kind: 'srv', ...s });
  if (any || qtype === TYPE.PTR) for (const p of data.ptr ?? []) rr(TYPE.PTR, { kind: 'name', name: p });
  if (any || qtype === TYPE.TXT) for (const t of data.txt ?? []) rr(TYPE.TXT, { kind: 'txt', strings: [t] });
  return out;
}

function soaRR(z: Lookup): RR {
  return { name: z.domain, type: TYPE.SOA, class: CLASS_IN, ttl: z.ttl, data: { kind: 'soa', ...z.soa } };
}

function dataAt(z: Lookup, name: string): NameData | undefined {
  const d = z.get(name);
  if (d) return d;
  const pod = podAddress(name, z.domain);
  if (pod === undefined) return undefined;
  return net.isIPv4(pod) ? { a: [pod] } : { aaaa: [pod] };
}

/** The answer for one question, or undefined when the name is not the cluster's to answer. */
export function answerQuestion(z: Lookup, q: Question): Answer | undefined {
  const name = q.name.toLowerCase();
  const ours = inDomain(name, z.domain);
  if (!ours && !z.get(name)) return undefined;
  if (q.class !== CLASS_IN && q.class !== CLASS_ANY) return { rcode: RCODE.REFUSED, answers: [], authority: [], additional: [] };
  const data = dataAt(z, name);
  const answers: RR[] = [];
  const additional: RR[] = [];
  if (name === z.domain && (q.type === TYPE.SOA || q.type === TYPE.ANY)) answers.push(soaRR(z));
  if (data) {
    answers.push(...rrsOf(name, data, q.type, z.ttl));
    // Follow a CNAME that stays inside the zone, as an authoritative server does.
    if (data.cname && q.type !== TYPE.CNAME) {
      let target = data.cname;
      for (let hops = 0; hops < 8 && inDomain(target, z.domain); hops++) {
        const t = dataAt(z, target);
        if (!t) break;
        answers.push(...rrsOf(target, t, q.type, z.ttl));
        if (!t.cname) break;
        target = t.cname;
      }
    }
    for (const a of answers) {
      if (a.data.kind !== 'srv') continue;
      const t = z.get(a.data.target);
      if (t) additional.push(...rrsOf(a.data.target, t, TYPE.A, z.ttl), ...rrsOf(a.data.target, t, TYPE.AAAA, z.ttl));
    }
  }
  if (answers.length > 0) return { rcode: RCODE.NOERROR, answers, authority: [], additional };
  const exists = data !== undefined || z.exists(name);
  return { rcode: exists ? RCODE.NOERROR : RCODE.NXDOMAIN, answers: [], authority: [soaRR(z)], additional: [] };
}

/** A complete response message for `query`'s first question from an Answer. */
export function responseFor(query: Message, a: Answer, authoritative: boolean): Message {
  return emptyMessage({
    id: query.id, qr: true, opcode: query.opcode, aa: authoritative, rd: query.rd, ra: true, cd: query.cd,
    rcode: a.rcode, questions: query.questions.slice(0, 1), answers: a.answers, authority: a.authority, additional: a.additional,
  });
}

/**
 * FNV-1a over a question section (qname + qtype + qclass) with ASCII
 * letters folded to lowercase. Folding the type and class octets too is
 * harmless here: it only spreads keys over slots, and `matches` compares
 * those four octets exactly.
 */
function questionHash(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    let c = b[i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Finished responses in a few large Buffers (the arena), found by an
 * open-addressing hash of their question section.
 *
 * Why not a Map of Buffers: 60k small Buffers cost ~150 octets of object
 * each on the heap plus the 8 KiB pool slabs they are cut from, which stay
 * alive as long as any slice does — measured 46 MB of ArrayBuffers for
 * 11 MB of responses at 10k services. And a string key meant two string
 * allocations per query; here a lookup hashes the query's bytes in place
 * and allocates nothing. The arena is a list of fixed 256 KiB chunks rather
 * than one doubling Buffer, so building it never holds two copies (the
 * doubling left ~30 MB of dead Buffers at the load's peak).
 *
 * Layout: entry e's response is chunks[chunkOf[e]][offs[e], offs[e] +
 * lens[e]); its question starts at offset 12 of the response (lowercase,
 * as precomputed) and is qlens[e] octets long. `slots` maps hash → e + 1
 * (0 = empty), linear probing, kept at most half full.
 */
const CHUNK = 256 * 1024;

class ResponseIndex {
  private readonly chunks: Buffer[] = [];
  /** Octets used in the last chunk. */
  private tail = CHUNK;
  private used = 0;
  private chunkOf = new Uint32Array(1024);
  private offs = new Uint32Array(1024);
  private lens = new Uint16Array(1024);
  private qlens = new Uint16Array(1024);
  private slots = new Int32Array(2048);
  count = 0;

  get bytes(): number { return this.used; }

  /** The entry answering the question q[12, qEnd), or -1. */
  find(q: Uint8Array, qEnd: number): number {
    const mask = this.slots.length - 1;
    for (let s = questionHash(q, 12, qEnd) & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s]! - 1;
      if (e < 0) return -1;
      if (this.matches(e, q, qEnd)) return e;
    }
  }

  chunk(e: number): Buffer { return this.chunks[this.chunkOf[e]!]!; }
  offset(e: number): number { return this.offs[e]!; }
  length(e: number): number { return this.lens[e]!; }

  private matches(e: number, q: Uint8Array, qEnd: number): boolean {
    if (this.qlens[e] !== qEnd - 12) return false;
    const a = this.chunk(e);
    const base = this.offs[e]!; // the stored response's question is at the same offset (12) as the query's
    const nameEnd = qEnd - 4;
    for (let i = 12; i < nameEnd; i++) {
      let c = q[i]!;
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      if (a[base + i] !== c) return false;
    }
    for (let i = nameEnd; i < qEnd; i++) if (a[base + i] !== q[i]) return false;
    return true;
  }

  /** Appends a response whose question (lowercase) ends at qEnd; a question already held keeps its first response. */
  add(resp: Buffer, qEnd: number): void {
    if (resp.length > 0xffff || this.find(resp, qEnd) >= 0) return;
    if (this.tail + resp.length > CHUNK) {
      this.chunks.push(Buffer.allocUnsafeSlow(CHUNK));
      this.tail = 0;
    }
    if (this.count === this.offs.length) {
      const n = this.count * 2;
      const chunkOf = new Uint32Array(n); chunkOf.set(this.chunkOf); this.chunkOf = chunkOf;
      const offs = new Uint32Array(n); offs.set(this.offs); this.offs = offs;
      const lens = new Uint16Array(n); lens.set(this.lens); this.lens = lens;
      const qlens = new Uint16Array(n); qlens.set(this.qlens); this.qlens = qlens;
    }
    const e = this.count++;
    resp.copy(this.chunks[this.chunks.length - 1]!, this.tail);
    this.chunkOf[e] = this.chunks.length - 1;
    this.offs[e] = this.tail;
    this.lens[e] = resp.length;
    this.qlens[e] = qEnd - 12;
    this.tail += resp.length;
    this.used += resp.length;
    if (this.count * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(e);
  }

  private place(e: number): void {
    const mask = this.slots.length - 1;
    const off = this.offs[e]!;
    let s = questionHash(this.chunk(e), off + 12, off + 12 + this.qlens[e]!) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = e + 1;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    for (let e = 0; e < this.count; e++) this.place(e);
  }
}

const LAZY_MAX = 50_000;
/** Arena budget of the learned responses (pod names, search-path NXDOMAINs); the set is dropped when full. */
const LAZY_BYTES = 8 * 1024 * 1024;

export class ResponseTable {
  private readonly pre = new ResponseIndex();
  private lazy = new ResponseIndex();
  /** Set by `find`: where the matched response lies (valid until the next `learn`). */
  hitBuf: Buffer = Buffer.alloc(0);
  hitOff = 0;
  hitLen = 0;

  constructor(readonly zone: Lookup) {
    for (const [name, data] of zone.entries()) {
      const types = new Set<number>([TYPE.A, TYPE.AAAA]);
      if (data.srv) types.add(TYPE.SRV);
      if (data.ptr) types.add(TYPE.PTR);
      if (data.txt) types.add(TYPE.TXT);
      if (data.cname) types.add(TYPE.CNAME);
      if (data.ptr && !data.a && !data.aaaa) { types.delete(TYPE.A); types.delete(TYPE.AAAA); }
      for (const t of types) this.precompute(this.pre, name, t);
    }
  }

  get size(): number { return this.pre.count + this.lazy.count; }
  /** Octets of response data held (both arenas). */
  get bytes(): number { return this.pre.bytes + this.lazy.bytes; }

  private precompute(into: ResponseIndex, name: string, type: number): void {
    const q = { name, type, class: CLASS_IN };
    const a = answerQuestion(this.zone, q);
    if (!a) return;
    const wire = encodeView(responseFor(emptyMessage({ questions: [q] }), a, true));
    into.add(wire, wire.indexOf(0, 12) + 5);
  }

  /**
   * Looks up the question q[12, qEnd) (qname case-insensitive); on a hit
   * sets hitBuf/hitOff/hitLen to the response (id 0, lowercase question)
   * and returns true. Allocates nothing.
   */
  find(q: Uint8Array, qEnd: number): boolean {
    let idx: ResponseIndex = this.pre;
    let e = idx.find(q, qEnd);
    if (e < 0 && this.lazy.count > 0) {
      idx = this.lazy;
      e = idx.find(q, qEnd);
    }
    if (e < 0) return false;
    this.hitBuf = idx.chunk(e);
    this.hitOff = idx.offset(e);
    this.hitLen = idx.length(e);
    return true;
  }

  /** Remembers the zone's answer for a question first answered on the slow path. */
  learn(q: Question): void {
    if (q.class !== CLASS_IN || /[^\x21-\x7e]/.test(q.name)) return;
    if (this.lazy.count >= LAZY_MAX || this.lazy.bytes >= LAZY_BYTES) this.lazy = new ResponseIndex();
    this.precompute(this.lazy, q.name.toLowerCase(), q.type);
  }
}
