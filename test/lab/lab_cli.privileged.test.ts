/**
 * `romana lab` end to end, through the built CLI exactly as a newcomer runs
 * it (issue 6): `lab up --hosts 3 --racks 1`, `lab status`, `lab check`
 * (exit 0), `lab policy` with a deny-all NetworkPolicy on namespace "green"
 * (the matrix changes as expected, and `lab check` now fails), `lab down`
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
import { privilegedSkipReason } from '../../src/lab/netns.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(REPO, 'dist/src/cli/main.js');
const PREFIX = 'rlabt';

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

  it('lab up builds 3 hosts with 2 pods each and prints hosts, blocks, routes, an all-ok matrix and commands', async () => {
    await step('up', async () => {
      expect(existsSync(CLI), `${CLI} missing: npx tsc -p tsconfig.json && npm run build:cni`).toBe(true);
      const t0 = performance.now();
      const r = await cli('lab', 'up', '--hosts', '3', '--racks', '1', '--port', '0', ...common);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      console.info(`lab up took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      for (const h of ['h1', 'h2', 'h3']) expect(r.stdout).toMatch(new RegExp(`^  ${h}\\s+${PREFIX}-${h}\\s+10\\.200\\.0\\.\\d\\s+rack=r1\\s+rack-1 10\\.112\\.0\\.0/16$`, 'm'));
      expect(r.stdout).toMatch(/^Blocks/m);
      expect(r.stdout).toMatch(/^  h1: \d+ route\(s\), bound 4$/m);
      expect(r.stdout).toMatch(/^  romana -p \d+ host list /m); // --port 0: the port it got
      expect(r.stdout).toContain(`ip netns exec ${PREFIX}-h1 `);
      const m = parseMatrix(r.stdout);
      const pods = Object.keys(m).sort();
      expect(pods).toEqual(['h1-p1', 'h1-p2', 'h2-p1', 'h2-p2', 'h3-p1', 'h3-p2']);
      for (const a of pods) for (const b of pods) expect(`${a}->${b}:${m[a]![b]}`).toBe(`${a}->${b}:${a === b ? '.' : 'ok'}`);
      expect(namespaces().sort()).toEqual([`${PREFIX}-fabric`, ...['h1', 'h2', 'h3'].flatMap((h) => [`${PREFIX}-${h}`, `${PREFIX}-${h}-p1`, `${PREFIX}-${h}-p2`])].sort());
      pids = readdirSync(path.join(stateDir, 'pids')).map((f) => Number(readFileSync(path.join(stateDir, 'pids', f), 'utf8').trim()));
      expect(pids.length).toBe(1 + 3 + 6); // daemon, agents, probe agents
      // Detached: still running after the command returned.
      for (const pid of pids) expect(() => process.kill(pid, 0)).not.toThrow();
      // A second up refuses instead of making a second lab over the first.
      const again = await cli('lab', 'up', ...common);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/already up/);
    });
  }, 90_000);

  it('lab status and lab check exit 0 on a healthy lab', async () => {
    await step('check', async () => {
      const s = await cli('lab', 'status', ...common);
      expect(s.code, s.stdout + s.stderr).toBe(0);
      expect(s.stdout).toContain('namespaces: 10 of 10');
      const r = await cli('lab', 'check', ...common);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('all 6 pods reach each other');
      expect(r.stdout).not.toContain('FAIL');
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
