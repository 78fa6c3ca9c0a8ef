/**
 * `romana lab check`: exit 0 only when
 * - every pod reaches every other pod (TCP 8080, UDP 5353, ICMP; real
 *   packets, the receiver sees the sender's own address),
 * - every host's route tables are within its bound (hosts in its group +
 *   number of groups; what is counted is printed, see routes.ts),
 * - every ToR learned each block of its rack's hosts from that host, and
 *   reaches every other rack through that rack's one aggregate,
 * - romana-dns, asked from inside a pod of every rack, answers a service
 *   name and a pod name with the right addresses.
 */
import { digArgs, dnsQueries, resolveFrom } from './dns.js';
import { probeMatrix, renderMatrix } from './probe.js';
import { COUNTED, crossRackPair, hostRoutes, torChecks, tracePath } from './routes.js';
import type { LabPodState, LabState, Print } from './state.js';

function torOf(st: LabState, host: string): string {
  const rack = st.hosts.find((h) => h.name === host)?.rack;
  return st.tors.find((t) => t.rack === rack)?.name ?? '?';
}

export async function labCheck(st: LabState, print: Print): Promise<boolean> {
  const m = await probeMatrix(st);
  print(renderMatrix(st, m));
  let ok = true;
  const say = (good: boolean, line: string): void => {
    if (!good) ok = false;
    print(`${good ? 'ok  ' : 'FAIL'} ${line}\n`);
  };
  for (const from of m.pods) {
    for (const to of m.pods) {
      if (from === to) continue;
      const c = m.cells[from]?.[to];
      const failed = c ? Object.entries(c).filter(([, v]) => !v).map(([k]) => k) : ['all'];
      if (failed.length > 0) say(false, `${from} -> ${to}: ${failed.join(', ')} dropped`);
    }
  }
  for (const p of m.problems) say(false, p);

  print(`Host routes (${COUNTED}):\n`);
  for (const r of await hostRoutes(st)) {
    say(r.counted <= r.bound, `${r.host}: ${r.counted} route(s) (table 10: ${r.table10.length}, main via a next hop: ${r.mainVia.length}), bound ${r.bound}`);
  }

  const { checks } = await torChecks(st);
  for (const c of checks) {
    const hosts = st.hosts.filter((h) => h.rack === c.tor.rack).map((h) => h.name);
    say(c.missing.length === 0, c.missing.length === 0 ? `${c.tor.name}: learned every block of ${hosts.join(' ')} over BGP` : `${c.tor.name}: has not learned ${c.missing.join(', ')}`);
    if (st.tors.length > 1) {
      say(c.unaggregated.length === 0, c.unaggregated.length === 0 ? `${c.tor.name}: every other rack through its one aggregate via the spine` : `${c.tor.name}: not aggregated: ${c.unaggregated.join('; ')}`);
    }
  }

  const pair = crossRackPair(st);
  if (pair) {
    // The kernels' own lookups, hop by hop: between racks a packet must cross both ToRs and the spine.
    const [a, b] = pair;
    const hops = await tracePath(st, a, b.ip);
    const ta = torOf(st, a.host);
    const tb = torOf(st, b.host);
    const want = [a.name, a.host, ta, st.spine.name, tb, b.host, b.name];
    say(hops.join(' ') === want.join(' '), `path ${a.name} -> ${b.name}: ${hops.join(' -> ')}${hops.join(' ') === want.join(' ') ? '' : ` (want ${want.join(' -> ')})`}`);
  }

  // One pod per rack asks: the answers cross that pod's host and ToR to the spine segment.
  const askers = st.racks.map((rack) => st.pods.find((p) => st.hosts.find((h) => h.name === p.host)?.rack === rack)).filter((p): p is LabPodState => p !== undefined);
  // All at once: a dead or wrong server then costs one dig timeout, not one per name.
  const asked = dnsQueries(st).flatMap((q) => askers.map((pod) => ({ q, pod })));
  const answers = await Promise.all(asked.map(({ q, pod }) => resolveFrom(st, pod, q.name)));
  asked.forEach(({ q, pod }, i) => {
    const r = answers[i]!;
    const good = r.ok && r.answers.join(' ') === q.want.join(' ');
    say(good, `DNS from ${pod.name}: ${q.name} -> ${r.answers.join(' ') || (r.error ?? 'no answer')}${good ? '' : ` (want ${q.want.join(' ')}; dig ${digArgs(st, q.name).join(' ')})`}`);
  });
  const checked = [
    `all ${m.pods.length} pods reach each other (TCP, UDP, ICMP)`,
    'route tables within bounds',
    `every ToR learned its rack's blocks${st.tors.length > 1 ? ' and reaches the other racks through their aggregates' : ''}`,
    ...(pair ? ['racks reach each other through ToR -> spine -> ToR'] : []),
    askers.length > 0 ? 'DNS answers' : 'DNS not asked (no pods)',
  ];
  print(ok ? `lab check: ${checked.join('; ')}\n` : 'lab check: FAILED\n');
  return ok;
}
