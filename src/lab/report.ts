/**
 * What `lab up` prints for a newcomer: the addressing plan, hosts and their
 * prefix groups, blocks, pods, each host's routes against its bound, the
 * routers' BGP-learned tables (per-rack aggregation), a cross-rack path
 * hop by hop, DNS, the reachability matrix and commands to explore.
 */
import path from 'node:path';
import { daemonBlocks, daemonHosts } from './daemon_client.js';
import { digArgs, dnsQueries } from './dns.js';
import { EXAMPLES, examplesDir } from './examples.js';
import { rackBridge, SPINE_BRIDGE } from './fabric.js';
import { renderMatrix, type Matrix } from './probe.js';
import { COUNTED, crossRackPair, hostRoutes, routerTables, tracePath } from './routes.js';
import { DEFAULT_STATE_DIR, type LabState } from './state.js';

export function renderPlan(st: LabState): string[] {
  const lines = ['Network (all L2 segments are bridges in namespace ' + st.fabric + '):'];
  lines.push(`  spine    bridge ${SPINE_BRIDGE.padEnd(7)} ${st.spine.subnet.padEnd(14)} spine router ${st.spine.ip} (AS ${st.spine.as}), romana-dns ${st.dns.ip}, ToRs' uplinks`);
  for (const t of st.tors) {
    const hosts = st.hosts.filter((h) => h.rack === t.rack);
    lines.push(`  rack ${t.rack.slice(1).padEnd(3)} bridge ${rackBridge(t.rack).padEnd(7)} ${t.subnet.padEnd(14)} ${t.name} ${t.ip} / ${t.spineIp} (AS ${t.as}), hosts ${hosts.map((h) => h.name).join(' ')}, prefix group ${t.groupCidr}`);
  }
  lines.push('  hosts: default route via their ToR; BGP: host -> ToR (its blocks), ToR -> spine (its group as one aggregate)');
  return lines;
}

export async function renderSummary(st: LabState, m: Matrix): Promise<string> {
  const lines: string[] = [...renderPlan(st), ''];
  const [hosts, blocks] = await Promise.all([daemonHosts(st.socket), daemonBlocks(st.socket)]);
  lines.push('Hosts (namespace, address, rack label, prefix group):');
  for (const h of st.hosts) {
    const rec = hosts.find((x) => x.name === h.name);
    const groups = (rec?.groups ?? []).map((g) => `${g.group_name} ${g.cidr}`).join(', ');
    lines.push(`  ${h.name.padEnd(4)} ${h.ns.padEnd(12)} ${h.ip.padEnd(12)} rack=${h.rack}  ${groups}`);
  }
  lines.push('', 'Blocks (host, block, tenant, addresses used):');
  for (const b of [...blocks].sort((a, b) => a.host.localeCompare(b.host, 'en', { numeric: true }) || a.cidr.localeCompare(b.cidr))) {
    lines.push(`  ${b.host.padEnd(4)} ${b.cidr.padEnd(16)} ${b.tenant.padEnd(8)} ${b.allocated_ip_count}`);
  }
  lines.push('', 'Pods:');
  for (const p of st.pods) lines.push(`  ${p.name.padEnd(7)} ${p.namespace.padEnd(6)} ${p.ip.padEnd(14)} on ${p.host}  (netns ${p.ns})`);
  lines.push('', `Host routes (bound = hosts in its group + groups; ${COUNTED}):`);
  for (const r of await hostRoutes(st)) {
    lines.push(`  ${r.host}: ${r.counted} route(s), bound ${r.bound}`);
    for (const l of r.table10) lines.push(`    table 10: ${l}`);
    for (const l of r.mainVia) lines.push(`    main:     ${l}`);
  }
  lines.push('', 'Router tables (ip -n <router> route show proto bird: what BGP installed):');
  for (const t of await routerTables(st)) {
    lines.push(`  ${t.name} (${t.ns}): ${t.routes.length} route(s)`);
    for (const r of t.routes) lines.push(`    ${r.dst.padEnd(17)} ${(r.via === 'unreachable' ? '' : `via ${r.via}`).padEnd(16)} ${r.label}`.trimEnd());
  }
  const pair = crossRackPair(st);
  if (pair) {
    const [a, b] = pair;
    lines.push('', `A packet between racks, hop by hop (each namespace's ip route get): ${(await tracePath(st, a, b.ip)).join(' -> ')}`);
  }
  const q = dnsQueries(st);
  lines.push('', `DNS: romana-dns on ${st.dns.ip}:${st.dns.port} (namespace ${st.dns.ns}), domain ${st.dns.domain}, serving ${st.dns.snapshot}:`);
  for (const x of q) lines.push(`  ${x.name.padEnd(34)} ${x.want.join(' ')}  (${x.what})`);
  lines.push('', 'Pod-to-pod reachability (real packets):', renderMatrix(st, m).trimEnd());
  if (st.notes.length > 0) lines.push('', ...st.notes.map((n) => `Note: ${n}`));
  const port = new URL(st.url).port;
  const r = port === '9600' ? '' : ` -p ${port}`;
  const sd = st.stateDir === DEFAULT_STATE_DIR ? '' : ` --state-dir ${st.stateDir}`;
  const h1 = st.hosts[0]!;
  const p1 = st.pods[0];
  lines.push(
    '',
    'Explore:',
    `  romana${r} host list                      # or: node dist/src/cli/main.js${r} host list`,
    `  romana${r} topology show`,
    `  ip netns list | grep ^${st.prefix}-`,
    `  ip -n ${h1.ns} route show table 10; ip -n ${h1.ns} route`,
    `  ip netns exec ${h1.ns} iptables-save | grep ROMANA`,
    `  birdc -s ${st.tors[0]!.ctl} show route        # or: show protocols; spine: ${st.spine.ctl}`,
    ...(p1 ? [`  ip netns exec ${p1.ns} ping -c1 ${st.pods[st.pods.length - 1]!.ip}`] : []),
    ...(p1 && q[0] ? [`  ip netns exec ${p1.ns} dig ${digArgs(st, q[0].name).join(' ')}`] : []),
    `  romana lab check${sd}        # every pod pair, DNS, route bounds and aggregation; exit 0 when all good`,
    `  romana lab policy FILE${sd}  # a NetworkPolicy (YAML/JSON) or a Romana policy, then the new matrix; examples:`,
    ...Object.keys(EXAMPLES).map((f) => `    romana lab policy ${path.join(examplesDir(st.stateDir), f)}${sd}`),
    `  romana lab down${sd}`,
    `  logs: ${path.join(st.stateDir, 'logs')}/`,
  );
  return lines.join('\n') + '\n';
}
