/**
 * `romana lab` end to end, through the built CLI exactly as a newcomer runs
 * it (issue 6): `lab up --hosts 4 --racks 2` (with BIRD 2 installed: a ToR
 * per rack that learns every block of its rack's hosts over eBGP from their
 * BIRD + romana-publisher, and the other rack's over iBGP), `lab status`,
 * `lab check` (exit 0), `lab policy` with a deny-all NetworkPolicy on
 * namespace "green" (the matrix changes as expected, and `lab check` now
 * fails), a host's BIRD killed (its ToR withdraws its blocks and `lab check`
 * names them), `lab down`
 * (nothing left: no namespaces with the prefix, no processes, no state) and
 * `lab down` again (idempotent).
 *
 * The lab runs with its own prefix ("rlabt") and state dir so that a lab a
 * developer has up (prefix "rlab", /run/romana-lab) is never touched.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { covers } from '../../src/lab/lab.js';
import { privilegedSkipReason } from '../../src/lab/netns.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(REPO, 'dist/src/cli/main.js');
const PREFIX = 'rlabt';
/** The lab builds ToRs running BIRD only when BIRD 2 is installed; without it the ToR assertions flip to "no ToRs". */
const BGP = existsSync('/usr/sbin/bird') && existsSync('/usr/sbin/birdc');
const HOSTS = ['h1', 'h2', 'h3', 'h4'];
const RACK: Record<string, string> = { h1: 'r1', h2: 'r1', h3: 'r2', h4: 'r2' };
const TORS = BGP ? ['tor1', 'tor2'] : [];

/** The ToR sections of the summary: tor -> [[prefix, next hop, learned-from text]]. */
function parseTors(out: string): Record<string, Array<[string, string, string]>> {
  const lines = out.split('\n');
  const h = lines.findIndex((l) => l.startsWith("ToRs' BGP-learned routes ("));
  expect(h, out).toBeGreaterThanOrEqual(0);
  const tors: Record<string, Array<[string, string, string]>> = {};
  let cur: Array<[string, string, string]> | null = null;
  for (const l of lines.slice(h + 1)) {
    const t = /^  (tor\d+) \S+ \S+ rack=r\d+ peers .*: (\d+) route\(s\)$/.exec(l);
    const r = /^    (\S+)\s+via (\S+)\s+(.*)$/.exec(l);
    if (t) tors[t[1]!] = cur = [];
    else if (r && cur) cur.push([r[1]!, r[2]!, r[3]!]);
    else break;
  }
  return tors;
}

function skipReason(): string | null {
  const base = privilegedSkipReason();
  if (base) return base;
  for (const bin of ['/usr/sbin/iptables', '/usr/sbin/ipset', '/usr/bin/ping']) {
    if (!existsSync(bin)) return `${bin} is missing (apt-get install iptables ipset iputils-ping; or romana lab up --install)`;
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
  let hostIp: Record<string, string> = {};
  it('lab up builds 4 hosts in 2 racks with 2 pods each and prints hosts, blocks, routes, the ToRs\' BGP routes, an all-ok matrix and commands', async () => {
    await step('up', async () => {
      expect(existsSync(CLI), `${CLI} missing: npx tsc -p tsconfig.json && npm run build:cni`).toBe(true);
      const t0 = performance.now();
      const r = await cli('lab', 'up', '--hosts', '4', '--racks', '2', '--port', '0', ...common);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      console.info(`lab up took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      for (const h of HOSTS) {
        const m = new RegExp(`^  ${h}\\s+${PREFIX}-${h}\\s+(10\\.200\\.0\\.\\d)\\s+rack=${RACK[h]}\\s+rack-${RACK[h]!.slice(1)} 10\\.112\\.\\d+\\.0/\\d+$`, 'm').exec(r.stdout);
        expect(m, `${h} in the host list:\n${r.stdout}`).not.toBeNull();
        hostIp[h] = m![1]!;
      }
      expect(r.stdout).toMatch(/^Blocks/m);
      blocks = {};
      for (const m of r.stdout.matchAll(/^  (h\d) +(10\.112\.\d+\.\d+\/\d+) +\w+ +\d+$/gm)) (blocks[m[1]!] ??= []).push(m[2]!);
      expect(Object.keys(blocks).sort()).toEqual(HOSTS);
      for (const h of HOSTS) expect(r.stdout).toMatch(new RegExp(`^  ${h}: \\d+ route\\(s\\), bound 4$`, 'm')); // 2 hosts in its group + 2 groups
      if (BGP) {
        // Every ToR learned every block of every host: its rack's over eBGP, the other rack's over iBGP; next hop = the owner.
        const tors = parseTors(r.stdout);
        expect(Object.keys(tors).sort()).toEqual(TORS);
        for (const [k, tor] of TORS.entries()) {
          for (const h of HOSTS) {
            for (const b of blocks[h]!) {
              const route = tors[tor]!.find(([dst, via]) => via === hostIp[h] && covers(dst, b));
              expect(route, `${tor} learned ${b} of ${h}:\n${r.stdout}`).toBeDefined();
              expect(route![2]).toBe(RACK[h] === `r${k + 1}` ? h : `${h} (rack ${RACK[h]}, via iBGP)`);
            }
          }
        }
        expect(r.stdout).toContain(`birdc -s ${stateDir}/bird/tor1.ctl show route`);
      } else {
        expect(r.stdout).toMatch(/^ToRs' BGP-learned routes: none \(no ToRs in this lab: BIRD 2 is not installed\)$/m);
      }
      expect(r.stdout).toMatch(/^  romana -p \d+ host list /m); // --port 0: the port it got
      expect(r.stdout).toContain(`ip netns exec ${PREFIX}-h1 `);
      const m = parseMatrix(r.stdout);
      const pods = Object.keys(m).sort();
      expect(pods).toEqual(HOSTS.flatMap((h) => [`${h}-p1`, `${h}-p2`]));
      for (const a of pods) for (const b of pods) expect(`${a}->${b}:${m[a]![b]}`).toBe(`${a}->${b}:${a === b ? '.' : 'ok'}`);
      expect(namespaces().sort()).toEqual([`${PREFIX}-fabric`, ...TORS.map((t) => `${PREFIX}-${t}`), ...HOSTS.flatMap((h) => [`${PREFIX}-${h}`, `${PREFIX}-${h}-p1`, `${PREFIX}-${h}-p2`])].sort());
      pids = readdirSync(path.join(stateDir, 'pids')).map((f) => Number(readFileSync(path.join(stateDir, 'pids', f), 'utf8').trim()));
      // daemon, agents, probe agents; with BGP also a BIRD and a publisher per host and a BIRD per ToR
      expect(pids.length).toBe(1 + 4 + 8 + (BGP ? 4 * 2 + 2 : 0));
      // Detached: still running after the command returned.
      for (const pid of pids) expect(() => process.kill(pid, 0)).not.toThrow();
      // A second up refuses instead of making a second lab over the first.
      const again = await cli('lab', 'up', ...common);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/already up/);
    });
  }, 120_000);

  it('lab status and lab check exit 0 on a healthy lab', async () => {
    await step('check', async () => {
      const s = await cli('lab', 'status', ...common);
      expect(s.code, s.stdout + s.stderr).toBe(0);
      const n = 1 + TORS.length + 4 + 8;
      expect(s.stdout).toContain(`namespaces: ${n} of ${n}`);
      const r = await cli('lab', 'check', ...common);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('all 8 pods reach each other');
      expect(r.stdout).not.toContain('FAIL');
      if (BGP) {
        expect(r.stdout).toMatch(/^ok   tor1: learned every block of h1 h2 over BGP \(\d+ route\(s\)\)$/m);
        expect(r.stdout).toMatch(/^ok   tor2: learned every block of h3 h4 over BGP \(\d+ route\(s\)\)$/m);
        expect(r.stdout).toContain("every ToR learned its rack's blocks");
      }
    });
  }, 60_000);

  it('lab policy with a deny-all NetworkPolicy on "green": every pod loses its way into green pods only, and check fails', async () => {
    await step('policy', async () => {
      const file = path.join(stateDir, 'deny-green.yaml');
      writeFileSync(
        file,
        ['apiVersion: networking.k8s.io/v1', 'kind: NetworkPolicy', 'metadata:', '  name: deny-all', '  namespace: green', 'spec:', '  podSelector: {}', '  policyTypes: [Ingress]', ''].join('\n'),
      );
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

  it.skipIf(!BGP)('when a host\'s BIRD dies its ToR withdraws the host\'s blocks, and lab check names them', async () => {
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
    });
  }, 60_000);

  it('lab down removes every namespace and process it made, and again is a no-op', async () => {
    // Runs even when an earlier step failed: cleanup is what this step checks.
    const r = await cli('lab', 'down', ...common);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(namespaces()).toEqual([]);
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
