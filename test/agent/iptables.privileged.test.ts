/**
 * The iptables driver against real iptables (nft and legacy) inside
 * network namespaces this test creates: exact iptables-save after the
 * first apply, zero writes when nothing changed (same instance and a
 * restarted one with no memory), one op for one changed rule, foreign rules
 * and chains untouched, jumps kept at the top after someone inserts above
 * them, stale chains deleted only once deletes are allowed, the nat table,
 * and the legacy/nft detection that refuses to mix.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { chainOf, natSpec, MASQ_CHAIN, type TableSpec } from '../../src/core/agent/index.js';
import { jumpHash } from '../../src/core/firewall/names.js';
import { withComment } from '../../src/core/firewall/restore.js';
import { IptablesTable, type TableJump } from '../../src/agent/drivers/iptables.js';
import { BACKENDS, detectBackend, type IptablesMode } from '../../src/agent/drivers/iptables_backend.js';
import { netnsExec, recordingExec } from '../../src/agent/shims/exec.js';
import { NetnsLab, privilegedSkipReason } from '../helpers/netns.js';

const skip = privilegedSkipReason();
if (skip) console.warn(`skipping iptables driver tests: ${skip}`);

const lab = new NetnsLab('ipt');
afterAll(() => lab.cleanup());

function jump(from: string, match: string, to: string): TableJump {
  return { from, to, match, hash: jumpHash(from, match, to) };
}

function spec(over: Partial<Record<string, string[]>> = {}): TableSpec {
  const chains = {
    'ROMANA-A': ['-s 10.1.0.1/32 -j ACCEPT', '-s 10.1.0.2/32 -p tcp -m tcp --dport 80 -j ACCEPT', '-j ROMANA-B'],
    'ROMANA-B': ['-d 10.2.0.0/24 -j DROP', '-j RETURN'],
    ...over,
  };
  return {
    chains: Object.entries(chains).map(([name, specs]) => chainOf(name, specs!)),
    jumps: [jump('INPUT', '-i romana+', 'ROMANA-A'), jump('FORWARD', '-o romana+', 'ROMANA-A'), jump('FORWARD', '-i romana+', 'ROMANA-B')],
  };
}

/** The filter table as iptables-save prints the lines we compare (no comments, no counters). */
async function save(ns: string, mode: IptablesMode, table = 'filter'): Promise<string[]> {
  const out = await lab.mustExec(ns, BACKENDS[mode].save, ['-t', table]);
  return out.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

/** What iptables-save must print for `s` plus built-in chains with `extra` rules. */
function expected(s: TableSpec, builtins: Record<string, string[]>, foreign: string[] = []): string[] {
  const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
  const user = [...s.chains.map((c) => c.name), ...foreign].sort();
  for (const n of user) lines.push(`:${n} - [0:0]`);
  for (const b of ['INPUT', 'FORWARD', 'OUTPUT']) {
    for (const j of s.jumps.filter((x) => x.from === b)) lines.push(`-A ${b} ${withComment(`${j.match} -j ${j.to}`, j.hash)}`);
    for (const r of builtins[b] ?? []) lines.push(`-A ${b} ${r}`);
  }
  return [...lines, 'RULES', 'COMMIT'];
}

/** Orders the rules of a save like `expected` does: built-in chains first, then user chains by name (iptables-save's order). */
function normalise(lines: string[], s: TableSpec, foreignRules: string[] = []): string[] {
  const out = lines.filter((l) => !l.startsWith('-A ROMANA-') && !foreignRules.includes(l));
  const i = out.indexOf('COMMIT');
  out.splice(i, 0, 'RULES');
  return out;
}

function chainRules(s: TableSpec): string[] {
  return s.chains.flatMap((c) => c.rules.map((r) => `-A ${c.name} ${withComment(r.spec, r.hash)}`));
}

describe.skipIf(skip !== null).each(['nft', 'legacy'] as const)('iptables driver (%s)', (mode) => {
  let ns: string;
  const backend = BACKENDS[mode];
  beforeEach(async () => {
    ns = await lab.add(`${mode.slice(0, 3)}${Math.random().toString(36).slice(2, 6)}`);
  });

  it('programs an empty table exactly, then writes nothing when nothing changed (same instance and after a restart)', async () => {
    const exec = recordingExec(netnsExec(ns));
    const t = new IptablesTable('filter', backend, exec);
    const s = spec();
    t.setDesired(s);
    const first = await t.apply({ allowDeletes: true });
    expect(first).toMatchObject({ wrote: true, readBack: true, chainsCreated: 2, rulesInserted: 5, jumpsWritten: 3 });
    const lines = await save(ns, mode);
    expect(normalise(lines, s)).toEqual(expected(s, {}));
    expect(lines.filter((l) => l.startsWith('-A ROMANA-'))).toEqual(chainRules(s));

    exec.reset();
    const again = await t.apply({ allowDeletes: true });
    expect(again.wrote).toBe(false);
    expect(exec.calls).toEqual([]); // no read-back, no restore: the cache is trusted

    const restarted = new IptablesTable('filter', backend, exec);
    restarted.setDesired(spec());
    const r = await restarted.apply({ allowDeletes: true });
    expect(r).toMatchObject({ wrote: false, readBack: true, lines: 0 });
    expect(exec.calls.map((c) => c.cmd)).toEqual([backend.save]);
    expect(await save(ns, mode)).toEqual(lines);
  });

  it('changes one rule with one op, inserts and deletes with one op each', async () => {
    const exec = recordingExec(netnsExec(ns));
    const t = new IptablesTable('filter', backend, exec);
    t.setDesired(spec());
    await t.apply({ allowDeletes: true });
    const before = await save(ns, mode);

    // Changing the last rule of ROMANA-B: hashes chain by position, so only that rule's hash changes.
    const changed = spec({ 'ROMANA-B': ['-d 10.2.0.0/24 -j DROP', '-j ACCEPT'] });
    t.setDesired(changed);
    exec.reset();
    const r1 = await t.apply({ allowDeletes: true });
    expect(r1).toMatchObject({ wrote: true, readBack: false, lines: 1, rulesReplaced: 1, rulesInserted: 0, rulesDeleted: 0, jumpsWritten: 0 });
    expect(exec.calls).toHaveLength(1);
    expect(exec.calls[0]!.input).toMatch(/^\*filter\n-R ROMANA-B 2 -m comment --comment "romana:[0-9a-f]{16}" -j ACCEPT\nCOMMIT\n$/);
    const after = await save(ns, mode);
    expect(after.filter((l) => !l.startsWith('-A ROMANA-B'))).toEqual(before.filter((l) => !l.startsWith('-A ROMANA-B')));
    expect(after.filter((l) => l.startsWith('-A ROMANA-B'))).toEqual(chainRules(changed).filter((l) => l.startsWith('-A ROMANA-B')));

    // Appending a rule (earlier hashes are unchanged): one insert.
    const appended = spec({ 'ROMANA-B': ['-d 10.2.0.0/24 -j DROP', '-j ACCEPT', '-j RETURN'] });
    t.setDesired(appended);
    const r2 = await t.apply({ allowDeletes: true });
    expect(r2).toMatchObject({ lines: 1, rulesInserted: 1 });
    // Dropping the first rule of ROMANA-A re-hashes everything after it (position is part of the hash): 3 rules -> 2.
    const shorter = spec({ 'ROMANA-B': ['-d 10.2.0.0/24 -j DROP', '-j ACCEPT', '-j RETURN'], 'ROMANA-A': ['-s 10.1.0.2/32 -p tcp -m tcp --dport 80 -j ACCEPT', '-j ROMANA-B'] });
    t.setDesired(shorter);
    const r3 = await t.apply({ allowDeletes: true });
    expect(r3.rulesDeleted + r3.rulesReplaced + r3.rulesInserted).toBeLessThanOrEqual(3);
    expect((await save(ns, mode)).filter((l) => l.startsWith('-A ROMANA-'))).toEqual(chainRules(shorter));
  });

  it('never touches foreign rules, chains or tables, and deletes stale owned chains only when allowed', async () => {
    const foreign = [
      '*filter',
      ':FOREIGN - [0:0]',
      '-A FOREIGN -s 192.0.2.1/32 -j DROP',
      '-A INPUT -s 198.51.100.7/32 -j ACCEPT',
      '-A FORWARD -p udp -m udp --dport 53 -j ACCEPT',
      'COMMIT',
      '*nat',
      ':POSTROUTING ACCEPT [0:0]',
      '-A POSTROUTING -s 172.30.0.0/16 -j MASQUERADE',
      'COMMIT',
      '',
    ].join('\n');
    await lab.mustExec(ns, backend.restore, ['--noflush'], { input: foreign });
    const t = new IptablesTable('filter', backend, netnsExec(ns));
    t.setDesired(spec());
    await t.apply({ allowDeletes: true });
    const lines = await save(ns, mode);
    // Our jumps sit above the foreign rules of INPUT and FORWARD, which keep their order.
    const s = spec();
    expect(normalise(lines, s, ['-A FOREIGN -s 192.0.2.1/32 -j DROP'])).toEqual(
      expected(s, { INPUT: ['-s 198.51.100.7/32 -j ACCEPT'], FORWARD: ['-p udp -m udp --dport 53 -j ACCEPT'] }, ['FOREIGN']),
    );
    expect(lines).toContain('-A FOREIGN -s 192.0.2.1/32 -j DROP');

    // ROMANA-B no longer desired: kept before the first full sync, removed (with its jumps) after.
    const withoutB: TableSpec = { chains: [chainOf('ROMANA-A', ['-s 10.1.0.1/32 -j ACCEPT'])], jumps: [jump('INPUT', '-i romana+', 'ROMANA-A')] };
    t.setDesired(withoutB);
    await t.apply({ allowDeletes: false });
    let now = await save(ns, mode);
    expect(now).toContain(':ROMANA-B - [0:0]');
    expect(now.filter((l) => l.includes('-j ROMANA-B') && l.startsWith('-A FORWARD'))).toHaveLength(1);
    await t.apply({ allowDeletes: true });
    now = await save(ns, mode);
    expect(now.some((l) => l.includes('ROMANA-B'))).toBe(false);
    expect(now.filter((l) => l.startsWith('-A FORWARD'))).toEqual(['-A FORWARD -p udp -m udp --dport 53 -j ACCEPT']);
    expect(now).toContain('-A FOREIGN -s 192.0.2.1/32 -j DROP');
    expect(now).toContain('-A INPUT -s 198.51.100.7/32 -j ACCEPT');

    // Nothing desired: every owned chain and jump goes, the foreign ones stay exactly.
    t.setDesired({ chains: [], jumps: [] });
    await t.apply({ allowDeletes: true });
    expect(await save(ns, mode)).toEqual([
      '*filter',
      ':INPUT ACCEPT [0:0]',
      ':FORWARD ACCEPT [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      ':FOREIGN - [0:0]',
      '-A INPUT -s 198.51.100.7/32 -j ACCEPT',
      '-A FORWARD -p udp -m udp --dport 53 -j ACCEPT',
      '-A FOREIGN -s 192.0.2.1/32 -j DROP',
      'COMMIT',
    ]);
    expect(await save(ns, mode, 'nat')).toContain('-A POSTROUTING -s 172.30.0.0/16 -j MASQUERADE');
  });

  it('keeps the jumps at the top when someone inserts above them, and never duplicates them', async () => {
    const t = new IptablesTable('filter', backend, netnsExec(ns));
    t.setDesired(spec());
    await t.apply({ allowDeletes: true });
    await lab.mustExec(ns, mode === 'nft' ? 'iptables-nft' : 'iptables-legacy', ['-I', 'FORWARD', '1', '-s', '203.0.113.9/32', '-j', 'ACCEPT']);
    // A duplicate of one of our jumps, further down (a previous agent that appended).
    const j = spec().jumps[0]!;
    await lab.mustExec(ns, mode === 'nft' ? 'iptables-nft' : 'iptables-legacy', ['-A', 'INPUT', ...`${j.match} -m comment --comment romana:${j.hash} -j ${j.to}`.split(' ')]);
    // The periodic resync re-reads the kernel.
    t.invalidate();
    const r = await t.apply({ allowDeletes: true });
    expect(r.rulesInserted + r.rulesReplaced + r.rulesDeleted).toBe(0);
    const lines = await save(ns, mode);
    const fwd = lines.filter((l) => l.startsWith('-A FORWARD'));
    expect(fwd).toHaveLength(3);
    expect(fwd[0]).toContain('-j ROMANA-A');
    expect(fwd[1]).toContain('-j ROMANA-B');
    expect(fwd[2]).toBe('-A FORWARD -s 203.0.113.9/32 -j ACCEPT');
    expect(lines.filter((l) => l.startsWith('-A INPUT'))).toHaveLength(1);
    // And a restarted driver finds everything in place.
    const again = new IptablesTable('filter', backend, netnsExec(ns));
    again.setDesired(spec());
    expect((await again.apply({ allowDeletes: true })).wrote).toBe(false);
  });

  it('programs the nat table: ROMANA-MASQ with its POSTROUTING jumps on top', async () => {
    await lab.mustExec(ns, backend.restore, ['--noflush'], { input: '*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o eth9 -j MASQUERADE\nCOMMIT\n' });
    const t = new IptablesTable('nat', backend, netnsExec(ns));
    t.setDesired(natSpec(['10.112.0.0/12', '10.200.0.0/16'], true));
    await t.apply({ allowDeletes: true });
    const lines = (await save(ns, mode, 'nat')).filter((l) => l.startsWith('-A'));
    expect(lines.map((l) => l.replace(/ -m comment --comment "romana:[0-9a-f]+"/, ''))).toEqual([
      `-A POSTROUTING -s 10.112.0.0/12 -j ${MASQ_CHAIN}`,
      `-A POSTROUTING -s 10.200.0.0/16 -j ${MASQ_CHAIN}`,
      '-A POSTROUTING -o eth9 -j MASQUERADE',
      `-A ${MASQ_CHAIN} -d 10.112.0.0/12 -j RETURN`,
      `-A ${MASQ_CHAIN} -d 10.200.0.0/16 -j RETURN`,
      `-A ${MASQ_CHAIN} -j MASQUERADE`,
    ]);
    // --nat=false: the chain and its jumps go; the foreign rule stays.
    t.setDesired(natSpec(['10.112.0.0/12'], false));
    await t.apply({ allowDeletes: true });
    expect((await save(ns, mode, 'nat')).filter((l) => l.startsWith('-A') || l.includes('ROMANA'))).toEqual(['-A POSTROUTING -o eth9 -j MASQUERADE']);
  });

  it('reports a failing restore with the offending line and re-reads before the next attempt', async () => {
    const exec = recordingExec(netnsExec(ns));
    const t = new IptablesTable('filter', backend, exec);
    t.setDesired({ chains: [chainOf('ROMANA-X', ['-m set --match-set romana-does-not-exist src -j DROP'])], jumps: [] });
    await expect(t.apply({ allowDeletes: true })).rejects.toThrow(/failed/);
    expect((await save(ns, mode)).some((l) => l.includes('ROMANA-X'))).toBe(false); // atomic: nothing half-applied
    t.setDesired(spec());
    exec.reset();
    const r = await t.apply({ allowDeletes: true });
    expect(r.readBack).toBe(true);
    expect(r.wrote).toBe(true);
  });
});

describe.skipIf(skip !== null)('iptables backend detection', () => {
  it('picks the backend with rules, the default when none has any, and refuses to mix', async () => {
    const ns = await lab.add('detect');
    const exec = netnsExec(ns);
    const fresh = await detectBackend(exec, 'auto');
    expect(fresh.backend.mode).toBe('nft'); // Debian 12: iptables is iptables-nft
    expect(fresh.reason).toMatch(/no rules yet/);

    await lab.mustExec(ns, 'iptables-legacy', ['-A', 'INPUT', '-s', '192.0.2.1', '-j', 'DROP']);
    const legacy = await detectBackend(exec, 'auto');
    expect(legacy.backend.mode).toBe('legacy');

    await lab.mustExec(ns, 'iptables-nft', ['-A', 'INPUT', '-s', '192.0.2.2', '-j', 'DROP']);
    await expect(detectBackend(exec, 'auto')).rejects.toThrow(/iptables-legacy holds 1 rule\(s\) and iptables-nft holds 1/);
    // Forced: allowed with a warning while the other side holds only foreign rules.
    expect((await detectBackend(exec, 'nft')).backend.mode).toBe('nft');

    // Our own chains in legacy: forcing nft would split Romana's state in two.
    await lab.mustExec(ns, 'iptables-legacy', ['-N', 'ROMANA-OLD']);
    await expect(detectBackend(exec, 'nft')).rejects.toThrow(/iptables-legacy holds Romana chains \(ROMANA-OLD\)/);
    expect((await detectBackend(exec, 'auto')).backend.mode).toBe('legacy');
    await lab.mustExec(ns, 'iptables-nft', ['-N', 'ROMANA-NEW']);
    await expect(detectBackend(exec, 'auto')).rejects.toThrow(/both iptables-legacy \(ROMANA-OLD\) and iptables-nft \(ROMANA-NEW\)/);
  });
});
