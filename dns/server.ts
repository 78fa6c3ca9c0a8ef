/**
 * The DNS server adapter: UDP and TCP sockets around one query handler.
 *
 * Design: every query first tries the fast path — a few header checks, the
 * question's bytes lowercased into a key, one Map lookup in the
 * ResponseTable, one copy with the ID/RD/question case patched, and the
 * EDNS OPT appended when the query had one. Nothing is decoded into objects
 * there (plain dns2 managed ~6k QPS here with its per-query object model).
 * Anything else (other opcodes, EDNS versions, unknown names) is decoded
 * and answered by answers.ts, or forwarded (forward.ts). Responses over the
 * client's UDP limit (512, or its EDNS size up to 1232) are sent truncated
 * (TC, no records) so the client retries over TCP.
 *
 * Concurrency rule: single event loop; `setZone` swaps zone and table
 * together, so a query sees one consistent cluster state.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import v8 from 'node:v8';
import type { Logger } from '../src/shared/log.js';
import { answerQuestion, responseFor, ResponseTable } from './answers.js';
import type { Forwarder } from './forward.js';
import type { Lookup } from './records.js';
import { decode, encode, emptyMessage, questionEnd, RCODE, TYPE, WireError, type Edns, type Message } from './wire.js';

/** The EDNS payload size we advertise and accept (DNS flag day 2020). */
export const EDNS_SIZE = 1232;
const TCP_IDLE_MS = 10_000;

export interface QueryStats {
  fast: number;
  slow: number;
  forwarded: number;
  truncated: number;
  formerr: number;
  servfail: number;
}

/** The response to `q` truncated: header, question, OPT; TC set, no records. */
function truncate(resp: Buffer, qEnd: number, opt: boolean): Buffer {
  const out = Buffer.allocUnsafe(qEnd + (opt ? 11 : 0));
  resp.copy(out, 0, 0, qEnd);
  out[2] = out[2]! | 0x02;
  out.writeUInt16BE(0, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(opt ? 1 : 0, 10);
  if (opt) resp.copy(out, qEnd, resp.length - 11);
  return out;
}

export class QueryHandler {
  private table: ResponseTable | undefined;
  readonly stats: QueryStats = { fast: 0, slow: 0, forwarded: 0, truncated: 0, formerr: 0, servfail: 0 };

  constructor(private readonly forwarder: Forwarder | undefined, private readonly log: Logger) {}

  setZone(zone: Lookup): void {
    this.table = new ResponseTable(zone);
  }

  get zone(): Lookup | undefined { return this.table?.zone; }
  get tableSize(): number { return this.table?.size ?? 0; }

  /**
   * The precomputed response for `q`, or undefined when the query needs the
   * slow path. `limit` is 0 over TCP.
   */
  fast(q: Buffer, tcp: boolean): Buffer | undefined {
    const table = this.table;
    if (!table || q.length < 17 || (q[2]! & 0xf8) !== 0) return undefined; // a response, or an opcode other than QUERY
    if (q[6] !== 0 || q[7] !== 0 || q[8] !== 0 || q[9] !== 0 || q[10] !== 0 || q[11]! > 1) return undefined;
    const qEnd = questionEnd(q);
    if (qEnd < 0) return undefined;
    let udpSize = 512;
    let optFlags = -1;
    if (q[11] === 1) {
      // The one additional record must be a plain EDNS0 OPT at the root.
      if (q.length < qEnd + 11 || q[qEnd] !== 0 || q.readUInt16BE(qEnd + 1) !== TYPE.OPT || q[qEnd + 6] !== 0) return undefined;
      if (q.length !== qEnd + 11 + q.readUInt16BE(qEnd + 9)) return undefined;
      udpSize = Math.max(512, Math.min(q.readUInt16BE(qEnd + 3), EDNS_SIZE));
      optFlags = q.readUInt16BE(qEnd + 7) & 0x8000; // echo DO (RFC 3225)
    } else if (q.length !== qEnd) {
      return undefined;
    }
    if (!table.find(q, qEnd)) return undefined;
    const pre = table.hitBuf;
    const po = table.hitOff;
    const plen = table.hitLen;
    const opt = optFlags >= 0;
    const out = Buffer.allocUnsafe(plen + (opt ? 11 : 0));
    pre.copy(out, 0, po, po + plen);
    out[0] = q[0]!;
    out[1] = q[1]!;
    out[2] = (pre[po + 2]! & 0xfe) | (q[2]! & 0x01);
    out[3] = (pre[po + 3]! & 0xef) | (q[3]! & 0x10); // CD
    q.copy(out, 12, 12, qEnd - 4); // the question's case as asked
    if (opt) {
      const p = plen;
      out[p] = 0;
      out.writeUInt16BE(TYPE.OPT, p + 1);
      out.writeUInt16BE(EDNS_SIZE, p + 3);
      out.writeUInt32BE(optFlags, p + 5);
      out.writeUInt16BE(0, p + 9);
      out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
    }
    this.stats.fast++;
    if (!tcp && out.length > udpSize) {
      this.stats.truncated++;
      return truncate(out, qEnd, opt);
    }
    return out;
  }

  /** Decodes and answers any query (slow path); undefined means "send nothing". */
  async slow(buf: Buffer, tcp: boolean): Promise<Buffer | undefined> {
    let q: Message;
    try {
      q = decode(buf);
    } catch (e) {
      if (!(e instanceof WireError) || buf.length < 12 || (buf[2]! & 0x80) !== 0) return undefined;
      this.stats.formerr++;
      const r = emptyMessage({ id: buf.readUInt16BE(0), qr: true, rcode: RCODE.FORMERR });
      return encode(r);
    }
    if (q.qr) return undefined;
    this.stats.slow++;
    const edns: Edns | undefined = q.edns ? { udpSize: EDNS_SIZE, extRcode: 0, version: 0, flags: q.edns.flags & 0x8000, options: Buffer.alloc(0) } : undefined;
    const reply = (m: Message): Buffer => {
      if (edns) m.edns = edns;
      const wire = encode(m);
      const limit = tcp ? 65535 : edns ? Math.max(512, Math.min(q.edns!.udpSize, EDNS_SIZE)) : 512;
      if (wire.length <= limit) return wire;
      this.stats.truncated++;
      return encode({ ...m, tc: true, answers: [], authority: [], additional: [] });
    };
    const base = emptyMessage({ id: q.id, qr: true, opcode: q.opcode, rd: q.rd, ra: true, cd: q.cd, questions: q.questions.slice(0, 1) });
    if (q.edns && q.edns.version !== 0) return reply({ ...base, rcode: RCODE.BADVERS });
    if (q.opcode !== 0) return reply({ ...base, rcode: RCODE.NOTIMP });
    const question = q.questions[0];
    if (q.questions.length !== 1 || !question) return reply({ ...base, rcode: RCODE.FORMERR });
    const zone = this.table?.zone;
    const a = zone ? answerQuestion(zone, question) : undefined;
    if (a) {
      this.table?.learn(question);
      return reply(responseFor(q, a, true));
    }
    if (!this.forwarder) return reply({ ...base, rcode: RCODE.REFUSED });
    this.stats.forwarded++;
    const up = await this.forwarder.resolve({ name: question.name, type: question.type, class: question.class });
    if (!up) {
      this.stats.servfail++;
      return reply({ ...base, rcode: RCODE.SERVFAIL });
    }
    return reply({ ...base, rcode: up.rcode, ad: up.ad && !!q.edns, answers: up.answers, authority: up.authority, additional: up.additional });
  }
}

export interface ListenOptions {
  host: string;
  port: number;
}

export interface DnsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Keeps V8's young generation at its initial size (two 1 MB semi-spaces)
 * for the rest of the process. By default it grows to 2 × 16 MB under the
 * allocation burst of a snapshot load or zone build and never shrinks back
 * while queries keep allocating: ~30 MB of RSS for nothing, because a DNS
 * server's per-query garbage dies young and needs no large nursery (the
 * scavenges it causes stay well under a millisecond). Equivalent to
 * `node --max-semi-space-size=1`, for an entry point that cannot pass node
 * flags; it changes a process-wide V8 setting, so only a process that is
 * mainly a DNS server should call it, before loading its cluster state.
 * Measured at 150k pods + 10k services: RSS after load 167 → 123 MB, peak
 * 168 → 138 MB. The cost: ~60 scavenges a second at saturation (each well
 * under 1 ms), and whatever survives two of them reaches old space — here
 * prom-client's default GC metrics (one PerformanceEntry per GC, delivered
 * later) — so RSS creeps up by ~1.4 MB per 300k queries until V8's next
 * full GC takes it back (150 s at ~60k QPS: 135 → 162 → 128 MB).
 */
export function capYoungGeneration(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * dgram's address lookup for every send. The default, dns.lookup, answers
 * even an IP literal on the next tick, so each response cost a
 * process.nextTick, two closures and a deferred send; a client address
 * (rinfo.address) is always a literal, answered here at once. Names (only
 * possible for --listen) still go to dns.lookup.
 */
function literalLookup(host: string, opts: unknown, cb: LookupCallback): void {
  const family = net.isIP(host);
  if (family !== 0) {
    cb(null, host, family);
    return;
  }
  dns.lookup(host, opts as dns.LookupOneOptions, cb);
}

/** Binds UDP then TCP on the same port (retrying when port 0 gave UDP a port TCP cannot have). */
export async function startDnsServer(h: QueryHandler, opts: ListenOptions, log: Logger): Promise<DnsServer> {
  const family = net.isIPv6(opts.host) ? 'udp6' : 'udp4';
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket({ type: family, recvBufferSize: 4 * 1024 * 1024, lookup: literalLookup as unknown as typeof dns.lookup });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(opts.port, opts.host, () => { udp.off('error', reject); resolve(); });
    });
    const port = udp.address().port;
    const tcp = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ port, host: opts.host }, () => { tcp.off('error', reject); resolve(); });
      });
    } catch (e) {
      udp.close();
      if (opts.port === 0 && attempt < 10) continue;
      throw e;
    }
    udp.on('error', (e) => log.error({ err: e.message }, 'udp socket error'));
    udp.on('message', (msg, rinfo) => {
      const fast = h.fast(msg, false);
      if (fast) {
        udp.send(fast, rinfo.port, rinfo.address);
        return;
      }
      h.slow(msg, false).then((r) => { if (r) udp.send(r, rinfo.port, rinfo.address); }, (e: unknown) => log.error({ err: String(e) }, 'query failed'));
    });
    const conns = new Set<net.Socket>();
    tcp.on('connection', (sock) => {
      conns.add(sock);
      sock.setNoDelay(true);
      sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
      sock.on('close', () => conns.delete(sock));
      sock.on('error', () => undefined);
      let pending: Buffer = Buffer.alloc(0);
      const write = (r: Buffer): void => {
        const len = Buffer.allocUnsafe(2);
        len.writeUInt16BE(r.length);
        if (!sock.destroyed) sock.write(Buffer.concat([len, r]));
      };
      sock.on('data', (d: Buffer) => {
        pending = pending.length ? Buffer.concat([pending, d]) : d;
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          const msg = Buffer.from(pending.subarray(2, 2 + pending.readUInt16BE(0)));
          pending = pending.subarray(2 + msg.length);
          const fast = h.fast(msg, true);
          if (fast) write(fast);
          else h.slow(msg, true).then((r) => { if (r) write(r); }, (e: unknown) => log.error({ err: String(e) }, 'query failed'));
        }
      });
    });
    return {
      port,
      close: async () => {
        for (const c of conns) c.destroy();
        await Promise.all([
          new Promise<void>((r) => udp.close(() => r())),
          new Promise<void>((r) => tcp.close(() => r())),
        ]);
      },
    };
  }
}
