/**
 * The cluster zone's answers, without sockets: snapshot → zone → answer →
 * wire → decoded → zone-file text. Expected answers are written as zone
 * files; the fixture is test/dns/fixtures/cluster.yaml (the seed's sample).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { answerQuestion, podAddress, responseFor, ResponseTable } from '../../dns/answers.js';
import { parseKubeDnsConfig, parseDnsArgs, parseResolvConf } from '../../dns/config.js';
import { upstreamsFor } from '../../dns/forward.js';
import { buildZone, reverseName } from '../../dns/records.js';
import { parseSnapshot } from '../../dns/snapshot.js';
import { CLASS_IN, decode, emptyMessage, encode, questionEnd, TYPE } from '../../dns/wire.js';
import { formatMessage } from '../../dns/zonefile.js';

const fixture = readFileSync(new URL('./fixtures/cluster.yaml', import.meta.url), 'utf8');
const state = parseSnapshot(fixture);

function ask(name: string, type: number, endpointIPs = true): string {
  const zone = buildZone(state, { domain: 'cluster.local', ttl: 30, endpointIPs, serial: 7 });
  const q = emptyMessage({ id: 1, rd: true, questions: [{ name, type, class: CLASS_IN }] });
  const a = answerQuestion(zone, q.questions[0]!);
  if (!a) return 'FORWARD\n';
  return formatMessage(decode(encode(responseFor(q, a, true))));
}

const SOA = 'cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 7 7200 1800 86400 30';

describe('cluster zone answers (zone-file text)', () => {
  it('answers the seed sample: ClusterIP, then VIP / external IPs, then ready endpoint IPs', () => {
    expect(ask('nginx.default.svc.cluster.local', TYPE.A)).toBe(`;; NOERROR qr aa rd ra
;; ANSWER
nginx.default.svc.cluster.local. 30 IN A 10.99.181.64
nginx.default.svc.cluster.local. 30 IN A 192.168.99.101
nginx.default.svc.cluster.local. 30 IN A 10.116.0.0
`);
    expect(ask('romana.kube-system.svc.cluster.local', TYPE.A)).toBe(`;; NOERROR qr aa rd ra
;; ANSWER
romana.kube-system.svc.cluster.local. 30 IN A 10.96.0.99
romana.kube-system.svc.cluster.local. 30 IN A 192.168.99.10
`);
  });

  it('leaves endpoint IPs out with --no-endpoint-ips', () => {
    expect(ask('nginx.default.svc.cluster.local', TYPE.A, false)).toBe(`;; NOERROR qr aa rd ra
;; ANSWER
nginx.default.svc.cluster.local. 30 IN A 10.99.181.64
nginx.default.svc.cluster.local. 30 IN A 192.168.99.101
`);
  });

  it('serves SRV for named ports only, targeting the service', () => {
    expect(ask('_http._tcp.nginx.default.svc.cluster.local', TYPE.SRV)).toBe(`;; NOERROR qr aa rd ra
;; ANSWER
_http._tcp.nginx.default.svc.cluster.local. 30 IN SRV 0 100 80 nginx.default.svc.cluster.local.
;; ADDITIONAL
nginx.default.svc.cluster.local. 30 IN A 10.99.181.64
nginx.default.svc.cluster.local. 30 IN A 192.168.99.101
nginx.default.svc.cluster.local. 30 IN A 10.116.0.0
`);
  });

  it('headless: ready endpoints only, per-endpoint names (hostname or dashed IP), SRV per endpoint × port, PTR', () => {
    expect(ask('db.default.svc.cluster.local', TYPE.A)).toBe(`;; NOERROR qr aa rd ra
;; ANSWER
db.default.svc.cluster.local. 30 IN A 10.116.1.5
db.default.svc.cluster.local. 30 IN A 10.116.1.6
`);
    expect(ask('_metrics._udp.db.default.svc.cluster.local', TYPE.SRV)).toBe(`;; NOERROR qr aa rd ra
;; ANSWER
_metrics._udp.db.default.svc.cluster.local. 30 IN SRV 0 50 9187 db-0.db.default.svc.cluster.local.
_metrics._udp.db.default.svc.cluster.local. 30 IN SRV 0 50 9187 10-116-1-6.db.default.svc.cluster.local.
;; ADDITIONAL
db-0.db.default.svc.cluster.local. 30 IN A 10.116.1.5
10-116-1-6.db.default.svc.cluster.local. 30 IN A 10.116.1.6
`);
    expect(ask('db-0.db.default.svc.cluster.local', TYPE.A)).toContain('db-0.db.default.svc.cluster.local. 30 IN A 10.116.1.5');
    expect(ask('db-2.db.default.svc.cluster.local', TYPE.A)).toBe(`;; NXDOMAIN qr aa rd ra\n;; AUTHORITY\n${SOA}\n`);
    expect(ask('5.1.116.10.in-addr.arpa', TYPE.PTR)).toBe(`;; NOERROR qr aa rd ra
;; ANSWER
5.1.116.10.in-addr.arpa. 30 IN PTR db-0.db.default.svc.cluster.local.
`);
  });

  it('ExternalName is a CNAME, followed when the target is in the zone', () => {
    expect(ask('search.default.svc.cluster.local', TYPE.A)).toBe(`;; NOERROR qr aa rd ra
;; ANSWER
search.default.svc.cluster.local. 30 IN CNAME search.example.org.
`);
    expect(ask('alias.default.svc.cluster.local', TYPE.A)).toBe(`;; NOERROR qr aa rd ra
;; ANSWER
alias.default.svc.cluster.local. 30 IN CNAME nginx.default.svc.cluster.local.
nginx.default.svc.cluster.local. 30 IN A 10.99.181.64
nginx.default.svc.cluster.local. 30 IN A 192.168.99.101
nginx.default.svc.cluster.local. 30 IN A 10.116.0.0
`);
  });

  it('dual-stack: A and AAAA; PTR for both cluster IPs', () => {
    expect(ask('dual.default.svc.cluster.local', TYPE.AAAA)).toBe(`;; NOERROR qr aa rd ra
;; ANSWER
dual.default.svc.cluster.local. 30 IN AAAA fd00::5
`);
    expect(ask(reverseName('fd00::5')!, TYPE.PTR)).toContain('IN PTR dual.default.svc.cluster.local.');
    expect(ask('64.181.99.10.in-addr.arpa', TYPE.PTR)).toContain('IN PTR nginx.default.svc.cluster.local.');
  });

  it('dns-version TXT, pod records, NODATA vs NXDOMAIN with the SOA, case-insensitive names', () => {
    expect(ask('dns-version.cluster.local', TYPE.TXT)).toBe(`;; NOERROR qr aa rd ra\n;; ANSWER\ndns-version.cluster.local. 30 IN TXT "1.1.0"\n`);
    expect(ask('10-116-0-7.default.pod.cluster.local', TYPE.A)).toBe(`;; NOERROR qr aa rd ra\n;; ANSWER\n10-116-0-7.default.pod.cluster.local. 30 IN A 10.116.0.7\n`);
    expect(podAddress('fd00--1.ns.pod.cluster.local', 'cluster.local')).toBe('fd00::1');
    expect(podAddress('not-an-ip.ns.pod.cluster.local', 'cluster.local')).toBeUndefined();
    const nodata = `;; NOERROR qr aa rd ra\n;; AUTHORITY\n${SOA}\n`;
    expect(ask('nginx.default.svc.cluster.local', TYPE.AAAA)).toBe(nodata);
    expect(ask('empty-ns.svc.cluster.local', TYPE.A)).toBe(nodata);
    expect(ask('_tcp.db.default.svc.cluster.local', TYPE.A)).toBe(nodata);
    expect(ask('svc.cluster.local', TYPE.A)).toBe(nodata);
    expect(ask('missing.default.svc.cluster.local', TYPE.A)).toBe(`;; NXDOMAIN qr aa rd ra\n;; AUTHORITY\n${SOA}\n`);
    expect(ask('nowhere.svc.cluster.local', TYPE.A)).toContain('NXDOMAIN');
    expect(ask('NGINX.Default.SVC.cluster.LOCAL', TYPE.A)).toBe(ask('nginx.default.svc.cluster.local', TYPE.A));
  });

  it('leaves other names and unknown reverse names to the forwarder', () => {
    expect(ask('example.org', TYPE.A)).toBe('FORWARD\n');
    expect(ask('1.2.3.4.in-addr.arpa', TYPE.PTR)).toBe('FORWARD\n');
  });
});

describe('configuration', () => {
  it('parses flags, defaults and repeatable --upstream', () => {
    const c = parseDnsArgs(['--upstream', '127.0.0.1:5300', '--upstream', '[::1]:5301', '--no-endpoint-ips', '--domain', 'Corp.Local.']);
    expect(c).toMatchObject({ listen: '0.0.0.0', port: 53, domain: 'corp.local', endpointIPs: false, healthPort: 8081,
      upstreams: [{ host: '127.0.0.1', port: 5300 }, { host: '::1', port: 5301 }] });
    expect(parseDnsArgs(['--help'])).toBe('help');
    expect(() => parseDnsArgs(['--port', 'x'])).toThrow(/Invalid --port/);
    expect(() => parseDnsArgs(['--bogus'])).toThrow();
  });

  it('reads resolv.conf nameservers and the kube-dns ConfigMap keys; stub domains match longest suffix', () => {
    expect(parseResolvConf('search x\nnameserver 10.0.0.2\n# c\nnameserver fe80::1%eth0\n')).toEqual([{ host: '10.0.0.2', port: 53 }, { host: 'fe80::1', port: 53 }]);
    const k = parseKubeDnsConfig({ stubDomains: '{"acme.local": ["1.2.3.4"], "x.acme.local": ["5.6.7.8:5353"]}', upstreamNameservers: '["8.8.8.8"]' });
    const cfg = { upstreams: k.upstreamNameservers!, stubDomains: k.stubDomains! };
    expect(upstreamsFor(cfg, 'a.x.ACME.local')).toEqual([{ host: '5.6.7.8', port: 5353 }]);
    expect(upstreamsFor(cfg, 'acme.local')).toEqual([{ host: '1.2.3.4', port: 53 }]);
    expect(upstreamsFor(cfg, 'notacme.local')).toEqual([{ host: '8.8.8.8', port: 53 }]);
    expect(() => parseKubeDnsConfig({ upstreamNameservers: '{"a": 1}' })).toThrow(/upstreamNameservers/);
  });
});

describe('snapshot loading', () => {
  it('reads List items and separate documents, Endpoints and EndpointSlices, and keeps only what DNS needs', () => {
    expect(state.namespaces).toEqual(['default', 'empty-ns', 'kube-system']);
    expect(state.services.map((s) => `${s.namespace}/${s.name}`)).toEqual(['kube-system/romana', 'default/nginx', 'default/db', 'default/search', 'default/alias', 'default/dual']);
    expect(state.endpoints.get('default/db')![0]!.addresses).toEqual([
      { ip: '10.116.1.5', ready: true, hostname: 'db-0' }, { ip: '10.116.1.6', ready: true }, { ip: '10.116.1.7', ready: false, hostname: 'db-2' }]);
    expect(state.podCount).toBe(1);
    const json = parseSnapshot(JSON.stringify({ kind: 'List', items: [{ kind: 'Service', metadata: { name: 'a', namespace: 'n' }, spec: { clusterIP: '10.0.0.1' } }] }));
    expect(json.services[0]!.clusterIPs).toEqual(['10.0.0.1']);
  });
});

describe('response table', () => {
  const zone = buildZone(state, { domain: 'cluster.local', ttl: 30, endpointIPs: true, serial: 7 });
  const table = new ResponseTable(zone);
  const query = (name: string, type: number) => encode(emptyMessage({ id: 5, rd: true, questions: [{ name, type, class: CLASS_IN }] }));
  const hit = (q: Buffer): string | undefined => {
    if (!table.find(q, questionEnd(q))) return undefined;
    return formatMessage(decode(table.hitBuf.subarray(table.hitOff, table.hitOff + table.hitLen)));
  };

  it('finds precomputed answers by the question bytes, qname case-insensitively, identical to the slow path', () => {
    expect(hit(query('NGINX.default.svc.Cluster.Local', TYPE.A))).toBe(ask('nginx.default.svc.cluster.local', TYPE.A).replace(' rd', ''));
    expect(hit(query('_http._tcp.nginx.default.svc.cluster.local', TYPE.SRV))).toContain('IN SRV 0 100 80 nginx.default.svc.cluster.local.');
    expect(hit(query('64.181.99.10.in-addr.arpa', TYPE.PTR))).toContain('IN PTR nginx.default.svc.cluster.local.');
  });

  it('compares qtype and qclass exactly (65 and 97 differ only in the ASCII case bit)', () => {
    table.learn({ name: 'nginx.default.svc.cluster.local', type: 65, class: CLASS_IN });
    expect(hit(query('nginx.default.svc.cluster.local', 65))).toBeDefined();
    expect(hit(query('nginx.default.svc.cluster.local', 97))).toBeUndefined();
    expect(hit(query('nginx.default.svc.cluster.local', TYPE.MX))).toBeUndefined();
  });

  it('learns slow-path answers (pod names) and keeps them across many entries', () => {
    expect(hit(query('10-116-0-7.default.pod.cluster.local', TYPE.A))).toBeUndefined();
    for (let i = 0; i < 3000; i++) table.learn({ name: `10-1-${i >> 8}-${i & 255}.default.pod.cluster.local`, type: TYPE.A, class: CLASS_IN });
    table.learn({ name: '10-116-0-7.default.pod.cluster.local', type: TYPE.A, class: CLASS_IN });
    expect(hit(query('10-116-0-7.default.pod.cluster.local', TYPE.A))).toBe(';; NOERROR qr aa ra\n;; ANSWER\n10-116-0-7.default.pod.cluster.local. 30 IN A 10.116.0.7\n');
    expect(hit(query('10-1-11-183.default.pod.cluster.local', TYPE.A))).toContain('IN A 10.1.11.183');
  });
});
