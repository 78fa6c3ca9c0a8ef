/**
 * Forwarding of names the cluster does not own to upstream resolvers, with a
 * positive and negative cache.
 *
 * Design:
 * - Upstreams are chosen per name: the longest matching kube-dns
 *   `stubDomains` suffix, else the default list (ConfigMap
 *   `upstreamNameservers`, else `--upstream`, else /etc/resolv.conf).
 *   They are tried in order, each with a timeout; a truncated UDP answer is
 *   asked again over TCP.
 * - The upstream query is our own (fresh random ID, RD set, EDNS 1232), not
 *   the client's bytes: the answer then fits any client after re-encoding,
 *   and the cache does not depend on who asked first.
 * - Cache (RFC 2308): a positive answer lives for its smallest TTL, a
 *   negative one (NXDOMAIN, or NOERROR without answers) for min(SOA TTL,
 *   SOA minimum); both capped. Served entries have their TTLs lowered by
 *   their age. SERVFAIL and answers without SOA are not cached. Identical
 *   questions in flight share one upstream query.
 *
 * Concurrency rule: one instance per server; all state is on the event loop.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import type { Logger } from '../src/shared/log.js';
import { decode, encode, emptyMessage, RCODE, TYPE, type Message, type Question, type RR } from './wire.js';

export interface Upstream {
  host: string;
  port: number;
}

export interface UpstreamConfig {
  /** Default resolvers. */
  upstreams: Upstream[];
  /** Lowercase domain suffix → its resolvers (kube-dns `stubDomains`). */
  stubDomains: Map<string, Upstream[]>;
}

export interface ForwarderOptions {
  config: () => UpstreamConfig;
  log: Logger;
  timeoutMs?: number;
  maxEntries?: number;
  maxTtl?: number;
  maxNegativeTtl?: number;
  now?: () => number;
}

interface CacheEntry {
  msg: Message;
  storedAt: number;
  expires: number;
}

export interface ForwardStats {
  cacheHits: number;
  cacheMisses: number;
  upstreamErrors: number;
}

/** Parses `host`, `host:port`, `[v6]:port` or a bare IPv6 address. */
export function parseUpstream(s: string, defaultPort = 53): Upstream {
  const t = s.trim();
  const m6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (m6) return { host: m6[1]!, port: m6[2] ? Number(m6[2]) : defaultPort };
  if (net.isIPv6(t)) return { host: t, port: defaultPort };
  const i = t.lastIndexOf(':');
  if (i > 0) return { host: t.slice(0, i), port: Number(t.slice(i + 1)) };
  return { host: t, port: defaultPort };
}

export function upstreamsFor(cfg: UpstreamConfig, name: string): Upstream[] {
  const n = name.toLowerCase();
  let best: string | undefined;
  for (const d of cfg.stubDomains.keys()) {
    if ((n === d || n.endsWith(`.${d}`)) && (!best || d.length > best.length)) best = d;
  }
  return best ? cfg.stubDomains.get(best)! : cfg.upstreams;
}

function cacheTtl(m: Message, maxTtl: number, maxNeg: number): number {
  if (m.tc) return 0;
  if (m.rcode === RCODE.NOERROR && m.answers.length > 0) return Math.min(maxTtl, ...m.answers.map((r) => r.ttl));
  if (m.rcode === RCODE.NXDOMAIN || (m.rcode === RCODE.NOERROR && m.answers.length === 0)) {
    const soa = m.authority.find((r) => r.type === TYPE.SOA);
    if (!soa || soa.data.kind !== 'soa') return 0;
    return Math.min(maxNeg, soa.ttl, soa.data.minimum);
  }
  return 0;
}

function aged(rrs: RR[], age: number): RR[] {
  return rrs.map((r) => ({ ...r, ttl: Math.max(0, r.ttl - age) }));
}

export class Forwarder {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<Message | undefined>>();
  private readonly pending = new Map<number, (m: Message) => void>();
  private sockets = new Map<4 | 6, dgram.Socket>();
  readonly stats: ForwardStats = { cacheHits: 0, cacheMisses: 0, upstreamErrors: 0 };
  private readonly timeoutMs: number;
  private readonly maxEntries: number;
  private readonly maxTtl: number;
  private readonly maxNeg: number;
  private readonly now: () => number;

  constructor(private readonly opts: ForwarderOptions) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.maxTtl = opts.maxTtl ?? 3600;
    this.maxNeg = opts.maxNegativeTtl ?? 300;
    this.now = opts.now ?? Date.now;
  }

  get cacheSize(): number { return this.cache.size; }

  /** The upstream's answer (TTLs aged when from cache), or undefined when no upstream answered. */
  async resolve(q: Question): Promise<Message | undefined> {
    const key = `${q.name.toLowerCase()}|${q.type}|${q.class}`;
    const hit = this.cache.get(key);
    const now = this.now();
    if (hit && hit.expires > now) {
      this.stats.cacheHits++;
      const age = Math.floor((now - hit.storedAt) / 1000);
      return { ...hit.msg, answers: aged(hit.msg.answers, age), authority: aged(hit.msg.authority, age), additional: aged(hit.msg.additional, age) };
    }
    if (hit) this.cache.delete(key);
    this.stats.cacheMisses++;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.ask(q).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    const m = await p;
    if (m) {
      const ttl = cacheTtl(m, this.maxTtl, this.maxNeg);
      if (ttl > 0 && !this.cache.has(key)) {
        if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(key, { msg: m, storedAt: this.now(), expires: this.now() + ttl * 1000 });
      }
    }
    return m;
  }

  private async ask(q: Question): Promise<Message | undefined> {
    for (const up of upstreamsFor(this.opts.config(), q.name)) {
      try {
        let m = await this.udp(up, q);
        if (m.tc) m = await this.tcp(up, q);
        if (m.rcode === RCODE.SERVFAIL || m.rcode === RCODE.REFUSED) continue;
        return m;
      } catch (e) {
        this.stats.upstreamErrors++;
        this.opts.log.debug({ upstream: `${up.host}:${up.port}`, name: q.name, err: (e as Error).message }, 'upstream failed');
      }
    }
    return undefined;
  }

  private query(id: number, q: Question): Buffer {
    return encode(emptyMessage({ id, rd: true, questions: [q], edns: { udpSize: 1232, extRcode: 0, version: 0, flags: 0, options: Buffer.alloc(0) } }));
  }

  private socket(family: 4 | 6): dgram.Socket {
    let s = this.sockets.get(family);
    if (!s) {
      s = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
      s.on('message', (buf) => {
        if (buf.length < 12) return;
        const done = this.pending.get(buf.readUInt16BE(0));
        if (!done) return;
        try { done(decode(buf)); } catch { /* a malformed reply: the timeout retries the next upstream */ }
      });
      s.on('error', (e) => this.opts.log.warn({ err: e.message }, 'forwarder socket error'));
      s.unref();
      this.sockets.set(family, s);
    }
    return s;
  }

  private udp(up: Upstream, q: Question): Promise<Message> {
    let id = randomInt(0, 65536);
    while (this.pending.has(id)) id = randomInt(0, 65536);
    const sock = this.socket(net.isIPv6(up.host) ? 6 : 4);
    return new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(id); reject(new Error(`no answer within ${this.timeoutMs} ms`)); }, this.timeoutMs);
      this.pending.set(id, (m) => {
        const mq = m.questions[0];
        if (!m.qr || !mq || mq.name.toLowerCase() !== q.name.toLowerCase() || mq.type !== q.type) return; // not ours (spoof or stale)
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(m);
      });
      sock.send(this.query(id, q), up.port, up.host, (err) => {
        if (err) { clearTimeout(timer); this.pending.delete(id); reject(err); }
      });
    });
  }

  private tcp(up: Upstream, q: Question): Promise<Message> {
    const id = randomInt(0, 65536);
    return new Promise<Message>((resolve, reject) => {
      const sock = net.connect({ host: up.host, port: up.port });
      const chunks: Buffer[] = [];
      const fail = (e: Error) => { sock.destroy(); reject(e); };
      sock.setTimeout(this.timeoutMs, () => fail(new Error(`no TCP answer within ${this.timeoutMs} ms`)));
      sock.on('error', fail);
      sock.on('connect', () => {
        const body = this.query(id, q);
        const len = Buffer.alloc(2);
        len.writeUInt16BE(body.length);
        sock.write(Buffer.concat([len, body]));
      });
      sock.on('data', (d) => {
        chunks.push(d);
        const all = Buffer.concat(chunks);
        if (all.length < 2 || all.length < 2 + all.readUInt16BE(0)) return;
        sock.end();
        try { resolve(decode(all.subarray(2, 2 + all.readUInt16BE(0)))); } catch (e) { reject(e as Error); }
      });
    });
  }

  close(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }
}
