/**
 * The lab's addressing plan and the BIRD configurations rendered from it:
 * racks get their own subnets and prefix groups, hosts default to their
 * ToR, names stay inside the lab's prefix, and BIRD 2 (when installed)
 * accepts every rendered router configuration.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostBirdConf, spineBirdConf, torBirdConf } from '../../src/lab/bird_conf.js';
import { expectedNamespaces } from '../../src/lab/fabric.js';
import { covers, labTopology, ownerOf, planLab, rackOf } from '../../src/lab/plan.js';

const st = planLab({ hosts: 5, racks: 2, prefix: 'rlabp', stateDir: '/run/rlabp' });
st.tors[0]!.groupCidr = '10.112.0.0/17';
st.tors[1]!.groupCidr = '10.112.128.0/17';

describe('lab plan', () => {
  it('splits hosts into racks in order, each rack its own subnet, hosts defaulting to their ToR', () => {
    expect([1, 2, 3, 4, 5].map((i) => rackOf(i, 5, 2))).toEqual([1, 1, 1, 2, 2]);
    expect(st.hosts.map((h) => `${h.name} ${h.ip} ${h.rack} via ${h.gateway} AS ${h.as}`)).toEqual([
      'h1 10.200.1.1 r1 via 10.200.1.254 AS 65101',
      'h2 10.200.1.2 r1 via 10.200.1.254 AS 65102',
      'h3 10.200.1.3 r1 via 10.200.1.254 AS 65103',
      'h4 10.200.2.4 r2 via 10.200.2.254 AS 65104',
      'h5 10.200.2.5 r2 via 10.200.2.254 AS 65105',
    ]);
    for (const h of st.hosts) expect(covers(h.subnet, h.ip) && covers(h.subnet, h.gateway)).toBe(true);
    expect(st.tors.map((t) => `${t.name} ${t.ip} ${t.spineIp} AS ${t.as}`)).toEqual(['tor1 10.200.1.254 10.200.0.11 AS 65001', 'tor2 10.200.2.254 10.200.0.12 AS 65002']);
    for (const a of [...st.tors.map((t) => t.spineIp), st.spine.ip, st.dns.ip]) expect(covers(st.spine.subnet, a)).toBe(true);
  });

  it('names every namespace with the prefix and knows who owns each next hop', () => {
    for (const n of expectedNamespaces(st)) expect(n.startsWith('rlabp-')).toBe(true);
    expect(new Set(expectedNamespaces(st)).size).toBe(expectedNamespaces(st).length);
    expect(['10.200.1.2', '10.200.1.254', '10.200.0.12', '10.200.0.1', '10.200.0.53', '10.9.9.9'].map((a) => ownerOf(st, a))).toEqual(['h2', 'tor1', 'tor2', 'spine', 'dns', null]);
  });

  it('gives the daemon one prefix group per rack, assigned by the rack label', () => {
    expect(labTopology(2)).toMatchObject({
      topologies: [{ map: [{ name: 'rack-1', assignment: { rack: 'r1' } }, { name: 'rack-2', assignment: { rack: 'r2' } }] }],
    });
  });

  it('ToRs take only their group from hosts and send only the aggregate and the rack subnet up; the spine takes exactly those', () => {
    const tor = torBirdConf(st.tors[0]!, st.hosts.filter((h) => h.rack === 'r1'), st.spine);
    expect(tor).toContain('protocol static rack_aggregate { ipv4; route 10.112.0.0/17 unreachable; }');
    expect(tor).toContain('neighbor 10.200.1.3 as 65103;');
    expect(tor).not.toContain('10.200.2.4');
    expect(tor).toMatch(/import where net ~ \[ 10\.112\.0\.0\/17\+ \]/);
    expect(tor).toMatch(/protocol bgp spine \{.*export where proto = "rack_aggregate" \|\| proto = "rack_subnet";/);
    const spine = spineBirdConf(st.spine, st.tors);
    expect(spine).toMatch(/neighbor 10\.200\.0\.12 as 65002;.*import where net ~ \[ 10\.112\.128\.0\/17, 10\.200\.2\.0\/24 \]; export all; next hop self;/);
  });

  const BIRD = '/usr/sbin/bird';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'romana-lab-plan-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it.skipIf(!existsSync(BIRD))('BIRD 2 parses every rendered configuration (bird -p)', () => {
    const confs: Record<string, string> = {
      spine: spineBirdConf(st.spine, st.tors),
      tor1: torBirdConf(st.tors[0]!, st.hosts.filter((h) => h.rack === 'r1'), st.spine),
      tor2: torBirdConf(st.tors[1]!, st.hosts.filter((h) => h.rack === 'r2'), st.spine),
      h1: hostBirdConf(st.hosts[0]!, dir),
    };
    for (const [name, text] of Object.entries(confs)) {
      const f = path.join(dir, `${name}.conf.txt`);
      writeFileSync(f, text);
      expect(() => execFileSync(BIRD, ['-p', '-c', f], { stdio: 'pipe' }), `${name}:\n${text}`).not.toThrow();
    }
  });
});
