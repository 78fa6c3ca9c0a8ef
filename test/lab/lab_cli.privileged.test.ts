/**
 * `romana lab` end to end, through the built CLI exactly as a newcomer runs
 * it (issue 6): `lab up --hosts 4 --racks 2` — each rack its own L2 segment
 * and subnet behind a ToR running BIRD, the ToRs joined by a spine router;
 * every host's BIRD + romana-publisher announcing its blocks to its ToR, the
 * ToRs announcing their rack's prefix group as one aggregate; romana-dns in
 * its own namespace — then `lab status`, `lab check` (exit 0), packets
 * between racks counted on both ToRs and the spine (and none on the ToR for
 * traffic inside a rack), DNS asked from a pod, `lab policy` with a
 * deny-all NetworkPolicy on namespace "green" (the matrix changes, `lab
 * check` fails), a host's BIRD killed (its ToR withdraws its blocks: the
 * other rack loses its pods, its rack-mate keeps them), `lab down` (nothing
 * left with the lab's names) and `lab down` again (idempotent).
 *
 * The lab runs with its own prefix ("rlabt") and state dir so that a lab a
 * developer has up (prefix "rlab", /run/romana-lab) is never touched.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { privilegedSkipReason, run } from '../../src/lab/netns.js';
import { covers } from '../../src/lab/plan.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(REPO, 'dist/src/cli/main.js');
const PREFIX = 'rlabt';
const HOSTS = ['h1', 'h2', 'h3', 'h4'];
const RACK: Record<string, string> = { h1: 'r1', h2: 'r1', h3: 'r2', h4: 'r2' };
const TOR: Record<string, string> = { r1: 'tor1', r2: 'tor2' };
const ROUTERS = ['spine', 'tor1', 'tor2'];

/** The router sections of the summary: router -> [[prefix, next hop ('' for unreachable), label]]. */
function parseRouters(out: string): Record<string, Array<[string, string, string]>> {
  const lines = out.split('\n');
  const h = lines.findIndex((l) => l.startsWith('Router tables ('));
  expect(h, out).toBeGreaterThanOrEqual(0);
  const routers: Record<string, Array<[string, string, string]>> = {};
  let cur: Array<[string, string, string]> | null = null;
  for (const l of lines.slice(h + 1)) {
    const t = /^  (tor\d+|spine) \(\S+\): (\d+) route\(s\)$/.exec(l);
    const r = /^    (\S+)\s+(?:via (\S+)\s+)?(.*)$/.exec(l);
    if (t) routers[t[1]!] = cur = [];
    else if (r && cur) cur.push([r[1]!, r[2] ?? '', r[3]!]);
    else break;
  }
  return routers;
}

function skipReason(): string | null {
  const base = privilegedSkipReason();
  if (base) return base;
  for (const bin of ['/usr/sbin/iptables', '/usr/sbin/ipset', '/usr/bin/ping', '/usr/sbin/bird', '/usr/sbin/birdc', '/usr/bin/dig']) {
    if (!existsSync(bin)) return `${bin} is missing (apt-get install iptables ipset iputils-ping bird2 dnsutils; or romana lab up --install)`;
  }
  return null;
}
const SKIP = skipReason();

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

function namespaces(): string[] {
  return readdirSync('/var/run/netns', { withFileTypes: true })
    .map((d) => d.name)
    .filter((n) => n.startsWith(`${PREFIX}-`));
}

/** The matrix the CLI printed: rows[from][to] = "ok" | "--" | letters. */
function parseMatrix(out: string): Record<string, Record<string, string>> {
  const lines = out.split('\n');
  const h = lines.findIndex((l) => l.startsWith('from \\ to'));
  expect(h, out).toBeGreaterThanOrEqual(0);
  const cols = lines[h]!.replace('from \\ to', '').trim().split(/\s+/);
  const rows: Record<string, Record<string, string>> = {};
  for (const l of lines.slice(h + 1)) {
    const m = /^(\S+)\s+\((\w+)\)\s+(.*)$/.exec(l);
    if (!m) break;
    const cells = m[3]!.trim().split(/\s+/);
    rows[m[1]!] = Object.fromEntries(cols.map((c, i) => [c, cells[i]!]));
  }
  return rows;
}

describe.skipIf(SKIP !== null)(`romana lab up/check/policy/down${SKIP ? ` (skipped: ${SKIP})` : ''}`, () => {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'romana-lab-cli-'));
  const common = ['--state-dir', stateDir, '--prefix', PREFIX];
  let pids: number[] = [];
  let blocked: string | null = null;
  const step = async (name: string, body: () => Promise<void>): Promise<void> => {
    if (blocked) throw new Error(`Not run: an earlier step failed — ${blocked}`);
    try {
      await body();
    } catch (e) {
      blocked = `${name}: ${(e as Error).message.split('\n')[0]}`;
      throw e;
    }
  };

  afterAll(async () => {
    // Whatever happened above, the lab goes (this is also what the last test checks).
    await cli('lab', 'down', ...common);
    rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  let blocks: Record<string, string[]> = {};
  const hostIp: Record<string, string> = {};
  const podIp: Record<string, string> = {};
  it('lab up builds 4 hosts in 2 racks (a subnet, a ToR each; a spine) with 2 pods each and prints the plan, routes, router tables, a path, DNS, an all-ok matrix and commands', async () => {
    await step('up', async () => {
      expect(existsSync(CLI), `${CLI} missing: npm run build`).toBe(true);
      const t0 = performance.now();
      const r = await cli('lab', 'up', '--hosts', '4', '--racks', '2', '--port', '0', ...common);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      console.info(`lab up took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      // Each rack its own subnet: rK = 10.200.K.0/24, hosts hN = 10.200.K.N, in their rack's prefix group.
      for (const h of HOSTS) {
        const k = RACK[h]!.slice(1);
        const m = new RegExp(`^  ${h}\\s+${PREFIX}-${h}\\s+(10\\.200\\.${k}\\.${h.slice(1)})\\s+rack=${RACK[h]}\\s+rack-${k} (10\\.112\\.\\d+\\.0/17)$`, 'm').exec(r.stdout);
        expect(m, `${h} in the host list:\n${r.stdout}`).not.toBeNull();
        hostIp[h] = m![1]!;
      }
      expect(r.stdout).toMatch(/^  rack 1 +bridge rack1 +10\.200\.1\.0\/24 +tor1 10\.200\.1\.254 \/ 10\.200\.0\.11 \(AS 65001\), hosts h1 h2, prefix group 10\.112\.0\.0\/17$/m);
      expect(r.stdout).toMatch(/^  rack 2 +bridge rack2 +10\.200\.2\.0\/24 +tor2 10\.200\.2\.254 \/ 10\.200\.0\.12 \(AS 65002\), hosts h3 h4, prefix group 10\.112\.128\.0\/17$/m);
      blocks = {};
      for (const m of r.stdout.matchAll(/^  (h\d) +(10\.112\.\d+\.\d+\/\d+) +\w+ +\d+$/gm)) (blocks[m[1]!] ??= []).push(m[2]!);
      expect(Object.keys(blocks).sort()).toEqual(HOSTS);
      for (const m of r.stdout.matchAll(/^  (h\d-p\d) +\w+ +(10\.112\.\d+\.\d+) +on h\d/gm)) podIp[m[1]!] = m[2]!;
      expect(Object.keys(podIp)).toHaveLength(8);
      // Host routes: rack-mate's blocks direct, the other rack only through the default route to the ToR; within the bound 2 + 2.
      for (const h of HOSTS) {
        const m = new RegExp(`^  ${h}: (\\d+) route\\(s\\), bound 4$`, 'm').exec(r.stdout);
        expect(m, r.stdout).not.toBeNull();
        expect(Number(m![1])).toBeLessThanOrEqual(4);
      }
      const h1Routes = r.stdout.slice(r.stdout.indexOf('  h1: '), r.stdout.indexOf('  h2: '));
      expect(h1Routes).toContain(`main:     default via 10.200.1.254 dev eth0`);
      for (const b of blocks.h2!) expect(h1Routes, `h1 reaches h2's ${b} directly`).toMatch(new RegExp(`table 10: (\\S+) via ${hostIp.h2!.replace(/\./g, '\\.')} dev eth0`));
      for (const b of [...blocks.h3!, ...blocks.h4!]) expect(h1Routes.includes(b.split('/')[0]!), `h1 has no route of its own to ${b} (other rack: via the ToR)`).toBe(false);
      // Routers: each ToR has its hosts' blocks via them and the other rack as ONE aggregate via the spine; the spine one route per rack.
      const routers = parseRouters(r.stdout);
      expect(Object.keys(routers).sort()).toEqual(ROUTERS);
      const group: Record<string, string> = { r1: '10.112.0.0/17', r2: '10.112.128.0/17' };
      for (const [rack, tor] of Object.entries(TOR)) {
        const table = routers[tor]!;
        for (const h of HOSTS.filter((x) => RACK[x] === rack)) {
          for (const b of blocks[h]!) expect(table.find(([dst, via]) => via === hostIp[h] && covers(dst, b)), `${tor} learned ${b} of ${h}:\n${r.stdout}`).toBeDefined();
        }
        const other = rack === 'r1' ? 'r2' : 'r1';
        const inOther = table.filter(([dst]) => covers(group[other]!, dst));
        expect(inOther, `${tor}: rack ${other} as one aggregate`).toEqual([[group[other], '10.200.0.1', `rack ${other}: its whole prefix group, one route via spine`]]);
        expect(table.find(([dst]) => dst === group[rack])?.[2], `${tor} holds its own group as unreachable`).toMatch(/unreachable/);
      }
      expect(routers.spine!.filter(([dst]) => dst.startsWith('10.112.')).map(([dst, via]) => `${dst} via ${via}`)).toEqual(['10.112.0.0/17 via 10.200.0.11', '10.112.128.0/17 via 10.200.0.12']);
      expect(r.stdout).toMatch(/^A packet between racks, hop by hop .*: h1-p1 -> h1 -> tor1 -> spine -> tor2 -> h4 -> h4-p2$/m);
      expect(r.stdout).toMatch(/^DNS: romana-dns on 10\.200\.0\.53:53 /m);
      expect(r.stdout).toContain(`ip netns exec ${PREFIX}-h1-p1 dig @10.200.0.53 `);
      expect(r.stdout).toContain(`birdc -s ${stateDir}/bird/tor1.ctl show route`);
      expect(r.stdout).toContain(`romana lab policy ${stateDir}/examples/deny-green.yaml --state-dir ${stateDir}`);
      expect(r.stdout).toMatch(/^  romana -p \d+ host list /m); // --port 0: the port it got
      const m = parseMatrix(r.stdout);
      const pods = Object.keys(m).sort();
      expect(pods).toEqual(HOSTS.flatMap((h) => [`${h}-p1`, `${h}-p2`]));
      for (const a of pods) for (const b of pods) expect(`${a}->${b}:${m[a]![b]}`).toBe(`${a}->${b}:${a === b ? '.' : 'ok'}`);
      expect(namespaces().sort()).toEqual(
        [`${PREFIX}-fabric`, `${PREFIX}-spine`, `${PREFIX}-dns`, `${PREFIX}-tor1`, `${PREFIX}-tor2`, ...HOSTS.flatMap((h) => [`${PREFIX}-${h}`, `${PREFIX}-${h}-p1`, `${PREFIX}-${h}-p2`])].sort(),
      );
      pids = readdirSync(path.join(stateDir, 'pids')).map((f) => Number(readFileSync(path.join(stateDir, 'pids', f), 'utf8').trim()));
      // daemon; per host an agent, BIRD and a publisher; a probe agent per pod; BIRD per ToR and on the spine; romana-dns
      expect(pids.length).toBe(1 + 4 * 3 + 8 + 2 + 1 + 1);
      // Detached: still running after the command returned.
      for (const pid of pids) expect(() => process.kill(pid, 0)).not.toThrow();
      // A second up refuses instead of making a second lab over the first.
      const again = await cli('lab', 'up', ...common);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/already up/);
    });
  }, 120_000);

  it('lab status and lab check exit 0 on a healthy lab: pods, route bounds, ToR learning and aggregation, the path, DNS', async () => {
    await step('check', async () => {
      const s = await cli('lab', 'status', ...common);
      expect(s.code, s.stdout + s.stderr).toBe(0);
      const n = 5 + 4 + 8; // fabric, spine, dns, 2 ToRs; hosts; pods
      expect(s.stdout).toContain(`namespaces: ${n} of ${n}`);
      const r = await cli('lab', 'check', ...common);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('all 8 pods reach each other');
      expect(r.stdout).not.toContain('FAIL');
      expect(r.stdout).toContain("counted: all of table 10 + main's routes via a next hop");
      for (const h of HOSTS) expect(r.stdout).toMatch(new RegExp(`^ok   ${h}: \\d route\\(s\\) \\(table 10: \\d, main via a next hop: 1\\), bound 4$`, 'm'));
      expect(r.stdout).toMatch(/^ok   tor1: learned every block of h1 h2 over BGP$/m);
      expect(r.stdout).toMatch(/^ok   tor2: learned every block of h3 h4 over BGP$/m);
      expect(r.stdout).toMatch(/^ok   tor1: every other rack through its one aggregate via the spine$/m);
      expect(r.stdout).toMatch(/^ok   path h1-p1 -> h4-p2: h1-p1 -> h1 -> tor1 -> spine -> tor2 -> h4 -> h4-p2$/m);
      // A service name and a pod name, asked from a pod of each rack.
      for (const from of ['h1-p1', 'h3-p1']) {
        expect(r.stdout).toContain(`ok   DNS from ${from}: web.blue.svc.cluster.local -> ${['h1-p1', 'h2-p1', 'h3-p1', 'h4-p1'].map((p) => podIp[p]).join(' ')}`);
        expect(r.stdout).toContain(`ok   DNS from ${from}: db.green.svc.cluster.local -> 10.96.0.20 ${['h1-p2', 'h2-p2', 'h3-p2', 'h4-p2'].map((p) => podIp[p]).join(' ')}`);
        expect(r.stdout).toContain(`ok   DNS from ${from}: h1-p1.web.blue.svc.cluster.local -> ${podIp['h1-p1']}`);
      }
    });
  }, 60_000);

  it('lab check counts main\'s routes via a next hop against the bound, and fails a host over it', async () => {
    await step('bound', async () => {
      // Two more routes through the ToR in h1's main table: 3 counted + 2 > 4.
      const extra = ['192.0.2.0/25', '192.0.2.128/25'];
      for (const d of extra) expect((await run('ip', ['-n', `${PREFIX}-h1`, 'route', 'add', d, 'via', '10.200.1.254'])).code).toBe(0);
      try {
        const c = await cli('lab', 'check', ...common);
        expect(c.code, c.stdout).toBe(1);
        expect(c.stdout).toMatch(/^FAIL h1: 5 route\(s\) \(table 10: 2, main via a next hop: 3\), bound 4$/m);
        expect(c.stdout).toMatch(/^ok   h2: /m);
      } finally {
        for (const d of extra) await run('ip', ['-n', `${PREFIX}-h1`, 'route', 'del', d]);
      }
      expect((await cli('lab', 'check', ...common)).code).toBe(0);
    });
  }, 60_000);

  /** Packets the router `ns` forwarded from `src` to `dst` (an accounting rule in its FORWARD chain, in the lab's own namespace). */
  async function forwarded(ns: string, src: string, dst: string): Promise<number> {
    const r = await run('ip', ['netns', 'exec', ns, 'iptables', '-L', 'FORWARD', '-v', '-x', '-n']);
    expect(r.code, r.stderr).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.includes(` ${src} `) && l.includes(` ${dst} `));
    return line ? Number(line.trim().split(/\s+/)[0]) : 0;
  }

  it('packets between racks cross both ToRs and the spine; packets inside a rack cross no ToR', async () => {
    await step('data path', async () => {
      const [a, b, c] = [podIp['h1-p1']!, podIp['h4-p1']!, podIp['h2-p1']!];
      for (const ns of ['tor1', 'tor2', 'spine'].map((x) => `${PREFIX}-${x}`)) {
        for (const [s, d] of [[a, b], [a, c]] as const) {
          const add = await run('ip', ['netns', 'exec', ns, 'iptables', '-A', 'FORWARD', '-s', s!, '-d', d!, '-p', 'icmp']);
          expect(add.code, add.stderr).toBe(0);
        }
      }
      const ping = async (dst: string): Promise<void> => {
        const r = await run('ip', ['netns', 'exec', `${PREFIX}-h1-p1`, 'ping', '-n', '-q', '-c', '10', '-i', '0.02', '-W', '1', dst]);
        expect(r.code, r.stdout + r.stderr).toBe(0);
      };
      await ping(b);
      await ping(c);
      for (const x of ['tor1', 'spine', 'tor2']) expect(await forwarded(`${PREFIX}-${x}`, a, b), `${x} forwarded h1-p1 -> h4-p1`).toBe(10);
      for (const x of ['tor1', 'spine', 'tor2']) expect(await forwarded(`${PREFIX}-${x}`, a, c), `${x} forwarded h1-p1 -> h2-p1 (same rack)`).toBe(0);
    });
  }, 60_000);

  it('romana-dns answers from inside a pod of the other rack, by service and by pod name', async () => {
    await step('dns', async () => {
      const dig = async (name: string): Promise<string[]> => {
        const r = await run('ip', ['netns', 'exec', `${PREFIX}-h3-p2`, 'dig', '@10.200.0.53', '+short', '+time=1', '+tries=2', name, 'A']);
        expect(r.code, r.stdout + r.stderr).toBe(0);
        return r.stdout.split('\n').filter((l) => l !== '').sort();
      };
      expect(await dig('h4-p1.web.blue.svc.cluster.local')).toEqual([podIp['h4-p1']]);
      expect(await dig('web.blue.svc.cluster.local')).toEqual(['h1-p1', 'h2-p1', 'h3-p1', 'h4-p1'].map((p) => podIp[p]).sort());
      expect(await dig(`${podIp['h2-p2']!.replace(/\./g, '-')}.green.pod.cluster.local`)).toEqual([podIp['h2-p2']]);
      expect(await dig('nothere.blue.svc.cluster.local')).toEqual([]);
    });
  }, 60_000);

  it('lab policy with the deny-all example on "green": every pod loses its way into green pods only, and check fails', async () => {
    await step('policy', async () => {
      // The example lab up leaves for newcomers (and names under Explore).
      const file = path.join(stateDir, 'examples', 'deny-green.yaml');
      expect(existsSync(file), file).toBe(true);
      const r = await cli('lab', 'policy', file, ...common);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('NetworkPolicy green/deny-all: created');
      const m = parseMatrix(r.stdout);
      // pJ: p1 is in blue, p2 in green.
      const green = (p: string): boolean => p.endsWith('-p2');
      for (const a of Object.keys(m)) {
        for (const b of Object.keys(m)) {
          const want = a === b ? '.' : green(b) ? '--' : 'ok';
          expect(`${a}->${b}:${m[a]![b]}`).toBe(`${a}->${b}:${want}`);
        }
      }
      const c = await cli('lab', 'check', ...common);
      expect(c.code, c.stdout).toBe(1);
      expect(c.stdout).toMatch(/^FAIL h1-p1 -> h2-p2: tcp, udp, icmp dropped$/m);
    });
  }, 60_000);

  it('when a host\'s BIRD dies its ToR withdraws the host\'s blocks: the other rack loses its pods, its rack-mate keeps them; without romana-dns check fails its lookups', async () => {
    await step('bird down', async () => {
      const pid = Number(readFileSync(path.join(stateDir, 'pids', 'bird-h3.pid'), 'utf8').trim());
      process.kill(pid, 'SIGKILL');
      const want = blocks.h3!.map((b) => `${b} of h3`).join(', ');
      // tor2's hold timer (9 s) or the link going quiet ends the session; poll lab check until it says so.
      let c = await cli('lab', 'check', ...common);
      const deadline = Date.now() + 30_000;
      while (!c.stdout.includes(`FAIL tor2: has not learned ${want}`) && Date.now() < deadline) c = await cli('lab', 'check', ...common);
      expect(c.stdout).toContain(`FAIL tor2: has not learned ${want}`);
      expect(c.code, c.stdout).toBe(1);
      expect(c.stdout).toMatch(/^ok   tor1: learned every block of h1 h2 over BGP/m);
      // Rack 1 reached h3's pods only through tor2's BGP routes; h4 reaches them on the rack segment.
      expect(c.stdout).toMatch(/^FAIL h1-p1 -> h3-p1: tcp, udp, icmp dropped$/m);
      expect(c.stdout).not.toMatch(/^FAIL h4-p1 -> h3-p1/m);
      // With romana-dns gone, check names every lookup it could not make.
      process.kill(Number(readFileSync(path.join(stateDir, 'pids', 'dns.pid'), 'utf8').trim()), 'SIGKILL');
      const d = await cli('lab', 'check', ...common);
      expect(d.stdout).toMatch(/^FAIL DNS from h1-p1: web\.blue\.svc\.cluster\.local -> .*\(want /m);
      expect(d.stdout).toMatch(/^FAIL DNS from h3-p1: h1-p1\.web\.blue\.svc\.cluster\.local -> /m);
    });
  }, 60_000);

  it('lab down removes every namespace, link and process it made, and again is a no-op', async () => {
    // Runs even when an earlier step failed: cleanup is what this step checks.
    const r = await cli('lab', 'down', ...common);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(namespaces()).toEqual([]);
    // Nothing with the lab's names in the root namespace either (it never put anything there).
    const links = await run('ip', ['-o', 'link', 'show']);
    expect(links.stdout.split('\n').filter((l) => new RegExp(`\\b(${PREFIX}|tor\\d|rack\\d|spine)`).test(l))).toEqual([]);
    const running = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return false;
      }
    });
    expect(running).toEqual([]);
    expect(existsSync(path.join(stateDir, 'lab.json'))).toBe(false);
    const again = await cli('lab', 'down', ...common);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('0 process(es) killed, 0 namespace(s) deleted');
    const st = await cli('lab', 'status', ...common);
    expect(st.code).toBe(1);
    expect(st.stdout).toMatch(/^no lab in /);
  }, 60_000);
});
