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
 * - `ResponseTable` holds finished responses (id 0, lowercase question)
 *   keyed by the question section's bytes lowercased — qname + qtype +
 *   qclass — so answering is one Map lookup, one copy and patching the ID,
 *   the RD bit and the question's case (0x20-randomising resolvers compare
 *   it). Cluster names are precomputed when the zone is built; anything else
 *   the zone answers (pod names, NXDOMAIN for search-path suffixes) is added
 *   on first use, in a bounded second map that is dropped when full.
 *
 * Concurrency rule: a table belongs to one zone; the server swaps both
 * together when the cluster changes.
 */
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Lookup, NameData } from './records.js';
import { CLASS_ANY, CLASS_IN, encode, emptyMessage, RCODE, TYPE, type Message, type Question, type RR } from './wire.js';

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

/** The fast path's key: the question section (qname, qtype, qclass) as latin1 text, lowercased. */
export function questionKey(buf: Buffer, qEnd: number): string {
  return buf.toString('latin1', 12, qEnd).toLowerCase();
}

const LAZY_MAX = 50_000;

export class ResponseTable {
  private readonly pre = new Map<string, Buffer>();
  private lazy = new Map<string, Buffer>();

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

  get size(): number { return this.pre.size + this.lazy.size; }

  private precompute(into: Map<string, Buffer>, name: string, type: number): void {
    const q = { name, type, class: CLASS_IN };
    const a = answerQuestion(this.zone, q);
    if (!a) return;
    const wire = encode(responseFor(emptyMessage({ questions: [q] }), a, true));
    into.set(questionKey(wire, 12 + wire.indexOf(0, 12) - 12 + 5), wire);
  }

  get(key: string): Buffer | undefined {
    return this.pre.get(key) ?? this.lazy.get(key);
  }

  /** Remembers the zone's answer for a question first answered on the slow path. */
  learn(q: Question): void {
    if (q.class !== CLASS_IN || /[^\x21-\x7e]/.test(q.name)) return;
    if (this.lazy.size >= LAZY_MAX) this.lazy = new Map();
    this.precompute(this.lazy, q.name.toLowerCase(), q.type);
  }
}
