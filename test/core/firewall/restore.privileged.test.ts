/**
 * The rendered payloads against the real kernel, inside network namespaces
 * this test creates: `ipset restore` and `iptables-restore --noflush`
 * accept them (nft and legacy iptables), and `iptables-save` prints every
 * rule exactly as renderIptablesRestore wrote it (comment placement
 * included), so the agent can compare read-back lines and hashes.
 * Root only; skipped elsewhere with the reason.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import {
  collectKubeObjects,
  renderIpsetRestore,
  renderIptablesRestore,
  renderNodeFirewall,
  simulatedView,
  type ClusterView,
} from '../../../src/core/firewall/index.js';
import { parsePolicyDocument } from '../../../src/core/policy/index.js';
import { REPO } from '../../helpers/daemon.js';
import { NetnsLab, privilegedSkipReason } from '../../helpers/netns.js';
import { netpol } from './helpers.js';

const FIXTURES = path.join(REPO, 'test/fixtures/simulate');

/** The simulate fixtures' cluster with every recipe's policies at once, plus multiport and ICMP rules. */
function everything(): ClusterView {
  const objects = parseAllDocuments(readFileSync(path.join(FIXTURES, 'cluster.yaml'), 'utf8')).map((d, i) => ({ object: d.toJS() as unknown, source: `cluster ${i}` }));
  const romana = [];
  for (const dir of readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const f of readdirSync(path.join(FIXTURES, dir.name)).filter((x) => x.startsWith('policy.'))) {
      const text = readFileSync(path.join(FIXTURES, dir.name, f), 'utf8');
      if (f.endsWith('.json')) romana.push(...parsePolicyDocument(JSON.parse(text), { newId: () => `id-${dir.name}` }).policies);
      else objects.push({ object: parseAllDocuments(text)[0]!.toJS() as unknown, source: f });
    }
  }
  objects.push({ object: netpol('dev/world', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }] }), source: 'extra' });
  objects.push({ object: netpol('prod/many-ports', { podSelector: {}, ingress: [{ ports: Array.from({ length: 20 }, (_, i) => ({ port: 2000 + 3 * i })) }] }), source: 'extra' });
  romana.push(
    ...parsePolicyDocument(
      { id: 'host-icmp', direction: 'ingress', applied_to: [{ dest: 'host' }], ingress: [{ peers: [{ peer: 'local' }], rules: [{ protocol: 'icmp', icmp_type: 3, icmp_code: 4 }, { protocol: 'sctp', port_ranges: [[1, 9]] }] }] },
      { newId: () => 'x' },
    ).policies,
  );
  return simulatedView(collectKubeObjects(objects), romana);
}

const skip = privilegedSkipReason();
if (skip) console.warn(`skipping firewall payload tests: ${skip}`);
const backends = [
  { name: 'nft', restore: '/usr/sbin/iptables-restore', save: '/usr/sbin/iptables-save' },
  { name: 'legacy', restore: '/usr/sbin/iptables-legacy-restore', save: '/usr/sbin/iptables-legacy-save' },
].filter((b) => existsSync(b.restore) && existsSync(b.save));

const lab = new NetnsLab('fwr');
afterAll(() => lab.cleanup());

describe.skipIf(skip !== null || backends.length === 0)('rendered payloads in a real kernel', () => {
  for (const b of backends) {
    for (const node of ['node-1', 'node-2']) {
      it(`${b.name}: ${node}'s rules load and read back unchanged`, async () => {
        const fw = renderNodeFirewall(everything(), node);
        const ns = await lab.add(`${b.name}-${node}`);
        await lab.mustExec(ns, 'ipset', ['restore'], { input: renderIpsetRestore(fw) });
        const payload = renderIptablesRestore(fw);
        await lab.mustExec(ns, b.restore, ['--noflush'], { input: payload });
        const saved = await lab.mustExec(ns, b.save, ['-t', 'filter']);
        const ours = payload
          .split('\n')
          .filter((l) => /^-[AI] /.test(l))
          // The jumps were inserted at the top ("-I FORWARD 1 …"); iptables-save lists them as appended lines.
          .map((l) => l.replace(/^-I ([A-Z]+) \d+ /, '-A $1 '));
        const back = saved.split('\n').filter((l) => l.startsWith('-A '));
        expect(back.slice().sort()).toEqual(ours.slice().sort());
        // Built-in chains hold the jumps in the listed order.
        expect(back.filter((l) => l.startsWith('-A FORWARD '))).toEqual(ours.filter((l) => l.startsWith('-A FORWARD ')));
        const sets = (await lab.mustExec(ns, 'ipset', ['list', '-n'])).trim().split('\n').sort();
        expect(sets).toEqual(fw.ipsets.map((s) => s.name).sort());
        for (const s of fw.ipsets) {
          const members = (await lab.mustExec(ns, 'ipset', ['list', s.name])).split('Members:\n')[1]!.trim().split('\n').filter((x) => x !== '');
          expect(members.sort(), s.name).toEqual([...s.members].sort());
        }
        expect(fw.chains.some((c) => c.rules.some((r) => r.spec.includes('multiport')))).toBe(true);
      });
    }
  }
});
