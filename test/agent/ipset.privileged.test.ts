/**
 * The ipset driver against the real kernel inside a network namespace:
 * sets created and filled, a rebuild swapped in under a live iptables rule
 * that keeps matching, small changes written in place, no writes when in
 * sync (also after a restart), and only owned sets ever destroyed — and
 * only once deletes are allowed.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { IpsetDriver, TEMP_PREFIX } from '../../src/agent/drivers/ipset.js';
import { netnsExec, recordingExec } from '../../src/agent/shims/exec.js';
import type { DesiredIpset } from '../../src/core/firewall/types.js';
import { NetnsLab, privilegedSkipReason } from '../helpers/netns.js';

const skip = privilegedSkipReason();
if (skip) console.warn(`skipping ipset driver tests: ${skip}`);

const lab = new NetnsLab('ips');
afterAll(() => lab.cleanup());

/** Owned and foreign sets as `ipset save` prints them: name -> sorted members. */
async function sets(ns: string): Promise<Record<string, string[]>> {
  const out = await lab.mustExec(ns, 'ipset', ['save']);
  const r: Record<string, string[]> = {};
  for (const line of out.split('\n')) {
    const [verb, name, arg] = line.split(' ');
    if (verb === 'create') r[name!] = [];
    if (verb === 'add') r[name!]!.push(arg!);
  }
  for (const k of Object.keys(r)) r[k]!.sort();
  return r;
}

const net = (name: string, members: string[]): DesiredIpset => ({ name, type: 'hash:net', members });
const ips = (name: string, members: string[]): DesiredIpset => ({ name, type: 'hash:ip', members });

describe.skipIf(skip !== null)('ipset driver', () => {
  let ns: string;
  beforeEach(async () => {
    ns = await lab.add(`s${Math.random().toString(36).slice(2, 7)}`);
  });

  it('creates sets, then writes nothing while in sync, also after a restart', async () => {
    const exec = recordingExec(netnsExec(ns));
    const d = new IpsetDriver(exec);
    d.setDesired([net('romana-b-blocks', ['10.1.0.0/29', '10.1.0.8/29', '10.9.9.9/32']), ips('romana-s-web', ['10.1.0.2', '10.1.0.3'])]);
    const r = await d.applyUpdates();
    expect(r).toMatchObject({ wrote: true, setsCreated: 2, membersWritten: 5 });
    expect(await sets(ns)).toEqual({ 'romana-b-blocks': ['10.1.0.0/29', '10.1.0.8/29', '10.9.9.9'], 'romana-s-web': ['10.1.0.2', '10.1.0.3'] });
    exec.reset();
    expect((await d.applyUpdates()).wrote).toBe(false);
    expect((await d.applyDeletes({ allowDeletes: true })).wrote).toBe(false);
    expect(exec.calls).toEqual([]);
    const restarted = new IpsetDriver(exec);
    restarted.setDesired([net('romana-b-blocks', ['10.9.9.9/32', '10.1.0.0/29', '10.1.0.8/29']), ips('romana-s-web', ['10.1.0.3', '10.1.0.2'])]);
    const again = await restarted.applyUpdates();
    expect(again).toMatchObject({ wrote: false, readBack: true, membersWritten: 0 });
    expect(exec.calls.map((c) => `${c.cmd} ${c.args.join(' ')}`)).toEqual(['ipset save']);
  });

  it('swaps a rebuilt set in under a live rule that keeps referencing it, and edits small changes in place', async () => {
    const exec = recordingExec(netnsExec(ns));
    const d = new IpsetDriver(exec);
    const many = Array.from({ length: 40 }, (_, i) => `10.3.0.${i + 1}`);
    d.setDesired([ips('romana-s-db', many)]);
    await d.applyUpdates();
    await lab.mustExec(ns, 'iptables', ['-A', 'INPUT', '-m', 'set', '--match-set', 'romana-s-db', 'src', '-j', 'DROP']);

    // Replace every member: rebuilt in a temporary set and swapped.
    const replaced = Array.from({ length: 40 }, (_, i) => `10.4.0.${i + 1}`);
    d.setDesired([ips('romana-s-db', replaced)]);
    exec.reset();
    const r = await d.applyUpdates();
    expect(r).toMatchObject({ setsSwapped: 1, membersWritten: 40 });
    expect(exec.calls).toHaveLength(1);
    expect(exec.calls[0]!.input).toMatch(new RegExp(`swap ${TEMP_PREFIX}[0-9a-f]{20} romana-s-db\\ndestroy ${TEMP_PREFIX}`));
    const after = await sets(ns);
    expect(after['romana-s-db']).toEqual([...replaced].sort());
    expect(Object.keys(after).some((n) => n.startsWith(TEMP_PREFIX))).toBe(false);
    // The rule still names the set (a destroy would have failed while it is referenced; a swap never unreferences it).
    expect(await lab.mustExec(ns, 'iptables', ['-S', 'INPUT'])).toContain('--match-set romana-s-db src -j DROP');

    // One member more: one in-place add.
    d.setDesired([ips('romana-s-db', [...replaced, '10.4.1.1'])]);
    exec.reset();
    const small = await d.applyUpdates();
    expect(small).toMatchObject({ setsSwapped: 0, membersWritten: 1 });
    expect(exec.calls[0]!.input).toBe('add romana-s-db 10.4.1.1\n');
    expect((await sets(ns))['romana-s-db']).toContain('10.4.1.1');
  });

  it('destroys only owned sets that are not desired, only when allowed, and leaves sets others still use', async () => {
    await lab.mustExec(ns, 'ipset', ['restore'], {
      input: [
        'create other-set hash:ip family inet',
        'add other-set 192.0.2.1',
        'create romana-x-stale hash:net family inet',
        'add romana-x-stale 10.7.0.0/24',
        'create romana-x-pinned hash:net family inet',
        `create ${TEMP_PREFIX}00000000000000000000 hash:ip family inet`,
        '',
      ].join('\n'),
    });
    // Someone else's rule uses one of our stale sets: destroying it must not be attempted blindly.
    await lab.mustExec(ns, 'iptables', ['-A', 'FORWARD', '-m', 'set', '--match-set', 'romana-x-pinned', 'dst', '-j', 'ACCEPT']);
    const d = new IpsetDriver(netnsExec(ns));
    d.setDesired([net('romana-k-keep', ['10.8.0.0/29'])]);
    await d.applyUpdates();
    expect((await d.applyDeletes({ allowDeletes: false })).setsDestroyed).toBe(0);
    expect(Object.keys(await sets(ns)).sort()).toEqual(['other-set', 'romana-k-keep', 'romana-tmp-00000000000000000000', 'romana-x-pinned', 'romana-x-stale']);
    const warnings: string[] = [];
    const r = await d.applyDeletes({ allowDeletes: true }, (msg, set) => warnings.push(`${set}: ${msg}`));
    expect(r.setsDestroyed).toBe(2);
    expect(await sets(ns)).toEqual({ 'other-set': ['192.0.2.1'], 'romana-k-keep': ['10.8.0.0/29'], 'romana-x-pinned': [] });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^romana-x-pinned: .*cannot be destroyed/);
  });

  it('refuses names it does not own', () => {
    const d = new IpsetDriver(netnsExec('unused'));
    expect(() => d.setDesired([ips('kube-set', [])])).toThrow(/not an owned set name/);
    expect(() => d.setDesired([ips(`${TEMP_PREFIX}x`, [])])).toThrow(/not an owned set name/);
  });
});
