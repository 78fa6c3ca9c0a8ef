/**
 * The real romana-dns process (dist/dns/main.js; build first) on a free
 * loopback port, asked over UDP and TCP by dig and by a small client built
 * on dns/wire.ts. Names outside the cluster go to fake upstream resolvers
 * on loopback started here (never the internet): one from --upstream, one
 * as a kube-dns stubDomain from --config-dir.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLASS_IN, decode, emptyMessage, encode, RCODE, TYPE, type Message } from '../../dns/wire.js';
import { formatMessage } from '../../dns/zonefile.js';

const MAIN = fileURLToPath(new URL('../../dist/dns/main.js', import.meta.url));
const fixture = readFileSync(new URL('./fixtures/cluster.yaml', import.meta.url), 'utf8');

interface FakeUpstream { port: number; asked: string[]; close(): void }

/** A resolver that knows a few names and counts what it was asked. */
async function fakeUpstream(records: Record<string, string>): Promise<FakeUpstream> {
  const sock = dgram.createSocket('udp4');
  const asked: string[] = [];
  sock.on('message', (buf, rinfo) => {
    const q = decode(buf);
    const question = q.questions[0]!;
    asked.push(`${question.name} ${question.type}`);
    const ip = records[question.name.toLowerCase()];
    const r = emptyMessage({ id: q.id, qr: true, rd: q.rd, ra: true, questions: q.questions });
    if (ip && question.type === TYPE.A) r.answers.push({ name: question.name, type: TYPE.A, class: CLASS_IN, ttl: 300, data: { kind: 'address', address: ip } });
    else if (!ip) {
      r.rcode = RCODE.NXDOMAIN;
      r.authority.push({ name: 'example.org', type: TYPE.SOA, class: CLASS_IN, ttl: 600, data: { kind: 'soa', mname: 'ns.example.org', rname: 'h.example.org', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60 } });
    }
    sock.send(encode(r), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, asked, close: () => sock.close() };
}

let proc: ChildProcess;
let port = 0;
let health = 0;
let up: FakeUpstream;
let stub: FakeUpstream;
let dir: string;

beforeAll(async () => {
  up = await fakeUpstream({ 'www.example.org': '198.51.100.7' });
  stub = await fakeUpstream({ 'git.corp.internal': '10.9.9.9' });
  dir = mkdtempSync(path.join(os.tmpdir(), 'romana-dns-test-'));
  // A headless service with 40 endpoints: its A answer (~700 octets) does not fit 512.
  const big = Array.from({ length: 40 }, (_, i) => `{ip: 10.117.0.${i + 1}}`).join(', ');
  writeFileSync(path.join(dir, 'cluster.yaml'), `${fixture}---
kind: Service
apiVersion: v1
metadata: {name: big, namespace: default}
spec: {clusterIP: None}
---
kind: Endpoints
apiVersion: v1
metadata: {name: big, namespace: default}
subsets: [{addresses: [${big}]}]
`);
  writeFileSync(path.join(dir, 'stubDomains'), JSON.stringify({ 'corp.internal': [`127.0.0.1:${stub.port}`] }));
  proc = spawn(process.execPath, [MAIN, '--listen', '127.0.0.1', '--port', '0', '--health-port', '0', '--snapshot', path.join(dir, 'cluster.yaml'),
    '--upstream', `127.0.0.1:${up.port}`, '--config-dir', dir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
    });
    proc.once('exit', (c) => reject(new Error(`romana-dns exited with ${c}: ${err}`)));
  });
  const info = JSON.parse(line) as { dns: number; health: number };
  port = info.dns;
  health = info.health;
});

afterAll(async () => {
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
  up?.close();
  stub?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function queryBytes(name: string, type: number, opts: { id?: number; edns?: number } = {}): Buffer {
  return encode(emptyMessage({
    id: opts.id ?? 4242, rd: true, questions: [{ name, type, class: CLASS_IN }],
    ...(opts.edns ? { edns: { udpSize: opts.edns, extRcode: 0, version: 0, flags: 0, options: Buffer.alloc(0) } } : {}),
  }));
}

async function udp(q: Buffer): Promise<Message> {
  const s = dgram.createSocket('udp4');
  try {
    return await new Promise<Message>((resolve, reject) => {
      s.once('message', (b) => { try { resolve(decode(b)); } catch (e) { reject(e as Error); } });
      s.send(q, port, '127.0.0.1');
    });
  } finally {
    s.close();
  }
}

/** Sends several queries on one TCP connection (pipelined) and returns the answers in arrival order. */
async function tcp(qs: Buffer[]): Promise<Message[]> {
  return new Promise<Message[]>((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const out: Message[] = [];
    sock.on('error', reject);
    sock.on('connect', () => {
      for (const q of qs) { const l = Buffer.alloc(2); l.writeUInt16BE(q.length); sock.write(Buffer.concat([l, q])); }
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length === qs.length) { sock.end(); resolve(out); }
    });
  });
}

function dig(...args: string[]): string {
  const r = spawnSync('dig', [`@127.0.0.1`, '-p', String(port), '+tries=1', '+time=2', ...args], { encoding: 'utf8' });
  return r.stdout;
}

const NGINX = `;; NOERROR qr aa rd ra
;; ANSWER
nginx.default.svc.cluster.local. 30 IN A 10.99.181.64
nginx.default.svc.cluster.local. 30 IN A 192.168.99.101
nginx.default.svc.cluster.local. 30 IN A 10.116.0.0
`;

describe('romana-dns process', () => {
  it('answers dig over UDP and TCP as in the seed sample', () => {
    expect(dig('+short', 'romana.kube-system.svc.cluster.local')).toBe('10.96.0.99\n192.168.99.10\n');
    expect(dig('+short', 'nginx.default.svc.cluster.local')).toBe('10.99.181.64\n192.168.99.101\n10.116.0.0\n');
    expect(dig('+short', '+tcp', 'nginx.default.svc.cluster.local')).toBe('10.99.181.64\n192.168.99.101\n10.116.0.0\n');
    expect(dig('+short', '-x', '10.99.181.64')).toBe('nginx.default.svc.cluster.local.\n');
    expect(dig('+short', 'dns-version.cluster.local', 'TXT')).toBe('"1.1.0"\n');
  });

  it('fast path: same answer as zone text, ID echoed, question case preserved (UDP and pipelined TCP)', async () => {
    const m = await udp(queryBytes('NgInX.default.SVC.cluster.local', TYPE.A, { id: 777 }));
    expect(m.id).toBe(777);
    expect(m.questions[0]!.name).toBe('NgInX.default.SVC.cluster.local');
    expect(formatMessage(m)).toBe(NGINX);
    const [a, b] = await tcp([queryBytes('nginx.default.svc.cluster.local', TYPE.A, { id: 1 }), queryBytes('nope.default.svc.cluster.local', TYPE.A, { id: 2 })]);
    expect([a!.id, b!.id].sort()).toEqual([1, 2]);
    const byId = new Map([a!, b!].map((x) => [x.id, x]));
    expect(formatMessage(byId.get(1)!)).toBe(NGINX);
    expect(formatMessage(byId.get(2)!)).toMatch(/^;; NXDOMAIN qr aa rd ra\n;; AUTHORITY\ncluster\.local\. 30 IN SOA ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 30\n$/);
  });

  it('EDNS0: echoes OPT with our size; truncates over 512 without EDNS, fits with EDNS, full over TCP', async () => {
    const e = await udp(queryBytes('nginx.default.svc.cluster.local', TYPE.A, { edns: 4096 }));
    expect(e.edns).toMatchObject({ udpSize: 1232, version: 0 });
    expect(e.answers).toHaveLength(3);
    const small = await udp(queryBytes('big.default.svc.cluster.local', TYPE.A));
    expect(small.tc).toBe(true);
    expect(small.answers).toHaveLength(0);
    const large = await udp(queryBytes('big.default.svc.cluster.local', TYPE.A, { edns: 1232 }));
    expect(large.tc).toBe(false);
    expect(large.answers).toHaveLength(40);
    const [t] = await tcp([queryBytes('big.default.svc.cluster.local', TYPE.A)]);
    expect(t!.tc).toBe(false);
    expect(t!.answers).toHaveLength(40);
    // dig retries over TCP by itself on TC.
    expect(dig('+short', '+noedns', 'big.default.svc.cluster.local').trim().split('\n')).toHaveLength(40);
    const bad = await udp(encode(emptyMessage({ id: 9, questions: [{ name: 'nginx.default.svc.cluster.local', type: TYPE.A, class: CLASS_IN }], edns: { udpSize: 1232, extRcode: 0, version: 1, flags: 0, options: Buffer.alloc(0) } })));
    expect(bad.rcode).toBe(RCODE.BADVERS);
  });

  it('forwards other names, caching positive and negative answers; stubDomains go to their resolver', async () => {
    const first = await udp(queryBytes('www.example.org', TYPE.A));
    expect(formatMessage(first)).toBe(';; NOERROR qr rd ra\n;; ANSWER\nwww.example.org. 300 IN A 198.51.100.7\n');
    const second = await udp(queryBytes('WWW.example.org', TYPE.A));
    expect(second.answers[0]!.data).toEqual({ kind: 'address', address: '198.51.100.7' });
    expect(second.answers[0]!.ttl).toBeLessThanOrEqual(300);
    expect(up.asked.filter((q) => q.toLowerCase() === 'www.example.org 1')).toHaveLength(1);
    const n1 = await udp(queryBytes('gone.example.org', TYPE.A));
    const n2 = await udp(queryBytes('gone.example.org', TYPE.A));
    expect([n1.rcode, n2.rcode]).toEqual([RCODE.NXDOMAIN, RCODE.NXDOMAIN]);
    expect(n2.authority[0]!.type).toBe(TYPE.SOA);
    expect(up.asked.filter((q) => q === 'gone.example.org 1')).toHaveLength(1);
    // Not dig: spawnSync would block this process, where the fake resolvers run.
    const s = await udp(queryBytes('git.corp.internal', TYPE.A));
    expect(formatMessage(s)).toBe(';; NOERROR qr rd ra\n;; ANSWER\ngit.corp.internal. 300 IN A 10.9.9.9\n');
    expect(stub.asked).toEqual(['git.corp.internal 1']);
    expect(up.asked.some((q) => q.includes('corp.internal'))).toBe(false);
  });

  it('serves /healthz, /readyz and /metrics', async () => {
    const get = async (p: string) => (await fetch(`http://127.0.0.1:${health}${p}`));
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
    const m = await (await get('/metrics')).text();
    expect(m).toMatch(/romana_dns_queries_total\{path="fast"\} [1-9]/);
    expect(m).toMatch(/romana_dns_precomputed_responses [1-9]/);
  });
});

describe('capYoungGeneration', () => {
  it('keeps the young generation at its initial size through an allocation burst (a fresh process)', () => {
    const server = new URL('../../dist/dns/server.js', import.meta.url).href;
    const script = `
      import v8 from 'node:v8';
      const { capYoungGeneration } = await import(${JSON.stringify(server)});
      capYoungGeneration();
      const keep = [];
      for (let i = 0; i < 2e6; i++) { const o = { i, a: [i] }; if (i % 10 === 0) keep.push(o); }
      const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
      process.stdout.write(String(s.space_size / 2 ** 20));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(Number(r.stdout)).toBeLessThanOrEqual(4);
  });
});
