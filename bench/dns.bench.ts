/**
 * romana-dns under dnsperf, against dnsmasq serving the same names in the
 * same run (machine-notes §5: dnsmasq ~100k QPS, plain dns2 ~6k QPS here).
 *
 * Design: a generated snapshot (full: 150k pods + 10k services with 15 ready
 * endpoints each; quick: 5k pods + 500 services) is written as multi-document
 * YAML; romana-dns (dist/dns/main.js) serves it on a free loopback port; the
 * query file asks every service name for A, so every answer is the Romana
 * service set (ClusterIP + VIP + 15 endpoint IPs, 17 records). dnsmasq gets
 * a hosts file with the same names and addresses. Each server gets one
 * dnsperf run for QPS (defaults: 1 client, 100 outstanding) and one run
 * with `-v` whose per-query latencies give the p99 (dnsperf 2.10 prints only
 * the average otherwise; -v slows the client, so that run's QPS is not
 * quoted). RSS is read from /proc after load and after the runs.
 * Without dnsperf (outside CI) the suite reports that and returns.
 *
 * Targets (issue 7): ≥ 36,600 QPS for cluster names, p99 < 5 ms, RSS under
 * 150 MB at 150k pods + 10k services.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchSection } from './types.js';

const MAIN = fileURLToPath(new URL('../dns/main.js', import.meta.url));
const ENDPOINTS_PER_SERVICE = 15;

function have(cmd: string): string | undefined {
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin']) {
    const p = path.join(dir, cmd);
    if (spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return undefined;
}

interface Generated {
  snapshot: string;
  queries: string;
  hosts: string;
  names: number;
}

function generate(dir: string, services: number, pods: number): Generated {
  const docs: string[] = [];
  const queries: string[] = [];
  const hosts: string[] = [];
  const namespaces = Math.max(1, Math.ceil(services / 100));
  for (let n = 0; n < namespaces; n++) docs.push(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ns-${n}}\n`);
  const podIP = (i: number) => `10.${128 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
  for (let i = 0; i < pods; i++) {
    docs.push(`apiVersion: v1\nkind: Pod\nmetadata: {name: pod-${i}, namespace: ns-${i % namespaces}}\nstatus: {podIP: ${podIP(i)}, podIPs: [{ip: ${podIP(i)}}]}\n`);
  }
  for (let s = 0; s < services; s++) {
    const ns = `ns-${s % namespaces}`;
    const clusterIP = `10.96.${s >> 8}.${s & 255}`;
    const vip = `192.168.${s >> 8}.${s & 255}`;
    const eps: string[] = [];
    for (let e = 0; e < ENDPOINTS_PER_SERVICE; e++) eps.push(podIP((s * ENDPOINTS_PER_SERVICE + e) % Math.max(1, pods)));
    docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: svc-${s}, namespace: ${ns}}\nspec:\n  clusterIP: ${clusterIP}\n  externalIPs: [${vip}]\n  ports: [{name: http, port: 80, protocol: TCP}]\n`);
    docs.push(`apiVersion: v1\nkind: Endpoints\nmetadata: {name: svc-${s}, namespace: ${ns}}\nsubsets:\n- addresses: [${eps.map((ip) => `{ip: ${ip}}`).join(', ')}]\n  ports: [{name: http, port: 80, protocol: TCP}]\n`);
    const name = `svc-${s}.${ns}.svc.cluster.local`;
    queries.push(`${name} A`);
    for (const ip of [clusterIP, vip, ...new Set(eps)]) hosts.push(`${ip} ${name}`);
  }
  const snapshot = path.join(dir, 'cluster.yaml');
  writeFileSync(snapshot, docs.join('---\n'));
  writeFileSync(path.join(dir, 'queries.txt'), `${queries.join('\n')}\n`);
  writeFileSync(path.join(dir, 'hosts'), `${hosts.join('\n')}\n`);
  return { snapshot, queries: path.join(dir, 'queries.txt'), hosts: path.join(dir, 'hosts'), names: services };
}

function rssMB(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
  return { rss: Math.round(kb('VmRSS') / 1024), hwm: Math.round(kb('VmHWM') / 1024) };
}

async function startRomana(snapshot: string): Promise<{ proc: ChildProcess; port: number; loadMs: number }> {
  const started = Date.now();
  const proc = spawn(process.execPath, [MAIN, '--listen', '127.0.0.1', '--port', '0', '--health-port', '0', '--snapshot', snapshot,
    '--upstream', '127.0.0.1:9', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"dns":(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (c) => reject(new Error(`romana-dns exited with ${c} before listening`)));
  });
  return { proc, port, loadMs: Date.now() - started };
}

async function freePort(): Promise<number> {
  const dgram = await import('node:dgram');
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

function startDnsmasq(bin: string, dir: string, hosts: string, port: number): ChildProcess {
  return spawn(bin, ['--keep-in-foreground', '--conf-file=/dev/null', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces',
    '--no-resolv', '--no-hosts', `--addn-hosts=${hosts}`, '--local=/cluster.local/', `--pid-file=${path.join(dir, 'dnsmasq.pid')}`,
    '--user=root', `--log-facility=${path.join(dir, 'dnsmasq.log')}`], { stdio: 'ignore' });
}

interface PerfResult { qps: number; avgMs: number; lost: number; completed: number }

function dnsperf(bin: string, port: number, queries: string, seconds: number): PerfResult {
  const r = spawnSync(bin, ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-l', String(seconds)], { encoding: 'utf8' });
  const out = r.stdout ?? '';
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  return {
    qps: Math.round(num(/Queries per second:\s+([\d.]+)/)),
    avgMs: Number((num(/Average Latency \(s\):\s+([\d.]+)/) * 1000).toFixed(3)),
    lost: num(/Queries lost:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
  };
}

/** p50/p99 in ms from `dnsperf -v` lines ("> NOERROR name A 0.000123"). */
function dnsperfLatency(bin: string, port: number, queries: string, seconds: number): { p50: number; p99: number; n: number } {
  const r = spawnSync(bin, ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-l', String(seconds), '-v'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const lat: number[] = [];
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /^> \S+ .* ([\d.]+)$/.exec(line);
    if (m) lat.push(Number(m[1]) * 1000);
  }
  lat.sort((a, b) => a - b);
  const q = (p: number) => (lat.length ? Number(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(3)) : NaN);
  return { p50: q(0.5), p99: q(0.99), n: lat.length };
}

export async function run(opts: BenchOptions): Promise<BenchSection[]> {
  const dnsperfBin = have('dnsperf');
  const dnsmasqBin = have('dnsmasq');
  if (!dnsperfBin) {
    if (process.env['CI']) throw new Error('dns bench: dnsperf is missing (install it with .ci/setup-debian.sh)');
    return [{ title: 'romana-dns vs dnsmasq (dnsperf)', rows: [], notes: ['Skipped: dnsperf is not installed (apt-get install dnsperf).'] }];
  }
  const services = opts.quick ? 500 : 10_000;
  const pods = opts.quick ? 5_000 : 150_000;
  const seconds = opts.quick ? 2 : 10;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'romana-dns-bench-'));
  const rows: Array<Record<string, string | number>> = [];
  const notes: string[] = [];
  const children: ChildProcess[] = [];
  try {
    const g = generate(dir, services, pods);
    const romana = await startRomana(g.snapshot);
    children.push(romana.proc);
    const loaded = rssMB(romana.proc.pid!);
    const perf = dnsperf(dnsperfBin, romana.port, g.queries, seconds);
    const lat = dnsperfLatency(dnsperfBin, romana.port, g.queries, Math.min(seconds, 5));
    const after = rssMB(romana.proc.pid!);
    rows.push({
      server: 'romana-dns', names: g.names, QPS: perf.qps, 'avg ms': perf.avgMs, 'p50 ms': lat.p50, 'p99 ms': lat.p99, lost: perf.lost,
      'RSS MB (loaded / after / peak)': `${loaded.rss} / ${after.rss} / ${after.hwm}`, 'load s': (romana.loadMs / 1000).toFixed(1),
    });
    romana.proc.kill('SIGTERM');
    if (dnsmasqBin) {
      const port = await freePort();
      const dm = startDnsmasq(dnsmasqBin, dir, g.hosts, port);
      children.push(dm);
      // dnsmasq reads its hosts file before answering; a probe answered means it is ready.
      for (let i = 0; i < 200; i++) {
        const probe = spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+short', '+tries=1', '+time=1', `svc-0.ns-0.svc.cluster.local`], { encoding: 'utf8' });
        if (probe.stdout.trim()) break;
      }
      const p = dnsperf(dnsperfBin, port, g.queries, seconds);
      const l = dnsperfLatency(dnsperfBin, port, g.queries, Math.min(seconds, 5));
      const m = rssMB(dm.pid!);
      rows.push({
        server: 'dnsmasq', names: g.names, QPS: p.qps, 'avg ms': p.avgMs, 'p50 ms': l.p50, 'p99 ms': l.p99, lost: p.lost,
        'RSS MB (loaded / after / peak)': `- / ${m.rss} / ${m.hwm}`, 'load s': '-',
      });
      dm.kill('SIGTERM');
    } else {
      notes.push('dnsmasq is not installed: no baseline in this run.');
    }
    notes.push(`Snapshot: ${services} services (ClusterIP + externalIP VIP + ${ENDPOINTS_PER_SERVICE} ready endpoints each, so 17 A records per answer), ${pods} pods, multi-document YAML.`);
    notes.push(`dnsperf ${seconds} s per server, defaults (1 client, 100 outstanding), query file = every service name, type A; p50/p99 from a separate \`dnsperf -v\` run (its QPS is lower because printing costs the client).`);
    notes.push(`Targets: ≥ 36,600 QPS → ${perf.qps >= 36_600 ? 'met' : 'MISSED'} (${perf.qps}); p99 < 5 ms → ${lat.p99 < 5 ? 'met' : 'MISSED'} (${lat.p99} ms); RSS < 150 MB → ${Math.max(loaded.rss, after.rss) < 150 ? 'met' : 'MISSED'} (${Math.max(loaded.rss, after.rss)} MB; peak during YAML load ${after.hwm} MB).`);
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  return [{ title: 'romana-dns vs dnsmasq (dnsperf, UDP, cluster names)', rows, notes }];
}
