/**
 * Zone-file text of DNS messages, so tests (and people) state expected
 * answers as they would read them in a zone file or in dig's output:
 *
 *   ;; NOERROR qr aa rd ra
 *   ;; ANSWER
 *   nginx.default.svc.cluster.local. 30 IN A 10.99.181.64
 *
 * Names are lowercased and end with a dot; sections without records are
 * left out; the ID and the question are not printed (tests check them apart).
 *
 * Concurrency rule: pure.
 */
import { RCODE_NAMES, TYPE_NAMES, type Message, type RR } from './wire.js';

function fqdn(name: string): string {
  return `${name.toLowerCase()}.`.replace(/^\.$/, '.');
}

export function formatRR(rr: RR): string {
  const d = rr.data;
  let rdata: string;
  switch (d.kind) {
    case 'address': rdata = d.address; break;
    case 'name': rdata = fqdn(d.name); break;
    case 'mx': rdata = `${d.preference} ${fqdn(d.exchange)}`; break;
    case 'srv': rdata = `${d.priority} ${d.weight} ${d.port} ${fqdn(d.target)}`; break;
    case 'txt': rdata = d.strings.map((s) => JSON.stringify(s)).join(' '); break;
    case 'soa': rdata = `${fqdn(d.mname)} ${fqdn(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`; break;
    case 'raw': rdata = `\\# ${d.bytes.length} ${d.bytes.toString('hex')}`; break;
  }
  const cls = rr.class === 1 ? 'IN' : `CLASS${rr.class}`;
  return `${fqdn(rr.name)} ${rr.ttl} ${cls} ${TYPE_NAMES[rr.type] ?? `TYPE${rr.type}`} ${rdata}`;
}

export function formatMessage(m: Message): string {
  const flags = (['qr', 'aa', 'tc', 'rd', 'ra', 'ad', 'cd'] as const).filter((f) => m[f]);
  const lines = [`;; ${RCODE_NAMES[m.rcode] ?? `RCODE${m.rcode}`} ${flags.join(' ')}`.trimEnd()];
  if (m.edns) lines.push(`;; EDNS ${m.edns.version} udp ${m.edns.udpSize}`);
  const section = (title: string, rrs: RR[]): void => {
    if (rrs.length === 0) return;
    lines.push(`;; ${title}`, ...rrs.map(formatRR));
  };
  section('ANSWER', m.answers);
  section('AUTHORITY', m.authority);
  section('ADDITIONAL', m.additional);
  return `${lines.join('\n')}\n`;
}
