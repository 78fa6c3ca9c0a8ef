/**
 * The routes driver with the route planner and the aggregation kernel,
 * against the real kernel inside a network namespace: other hosts' blocks
 * aggregated in table 10 with proto 88, this host's blocks as throw routes,
 * forwarding checked with `ip route get`, only the delta written, the
 * `ip rule` added once, foreign routes in the table untouched, and hosts
 * behind a gateway routed only with multihop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoutesDriver } from '../../src/agent/drivers/routes.js';
import { netnsExec, recordingExec, type Exec } from '../../src/agent/shims/exec.js';
import { planRoutes, remoteHostAddresses, routesFromTable, type BlockLike, type HostLike, type ReachInfo } from '../../src/core/agent/index.js';
import { aggregate } from '../../src/kernels/pool.js';
import { NetnsLab, privilegedSkipReason } from '../helpers/netns.js';

const skip = privilegedSkipReason();
if (skip) console.warn(`skipping routes driver tests: ${skip}`);

const lab = new NetnsLab('rts');
afterAll(() => lab.cleanup());

const HOSTS = new Map<string, HostLike>(
  [
    ['h1', '10.200.0.1'],
    ['h2', '10.200.0.2'],
    ['h3', '10.200.0.3'],
    ['h4', '192.168.7.4'], // not on the link: reached through the default gateway
  ].map(([name, ip]) => [name!, { name: name!, ip: ip! }]),
);

const block = (cidr: string, host: string): BlockLike => ({ cidr, host, tenant: 'default', segment: '' });

const BLOCKS = [
  block('10.112.0.0/29', 'h2'),
  block('10.112.0.8/29', 'h2'),
  block('10.112.0.16/29', 'h1'),
  block('10.112.0.24/29', 'h3'),
  block('10.112.0.32/29', 'h2'),
  block('10.112.0.40/29', 'h4'),
];

/** The agent's route pipeline for node h1: kernel lookups, plan, aggregation, desired routes. */
async function program(d: RoutesDriver, blocks: BlockLike[], opts: { multihop: boolean; allowDeletes?: boolean }) {
  const found = await d.lookupNextHops(remoteHostAddresses(blocks, HOSTS, 'h1'));
  const reach = new Map<string, ReachInfo>([...found].map(([a, i]) => [a, { gateway: i.gateway, local: i.local }]));
  const plan = planRoutes(blocks, HOSTS, 'h1', reach, opts);
  const routes = routesFromTable(await aggregate(plan.triplets), plan.hops);
  d.setDesired(routes);
  const stats = await d.apply({ allowDeletes: opts.allowDeletes ?? true });
  return { plan, routes, stats };
}

describe.skipIf(skip !== null)('routes driver', () => {
  let ns: string;
  let exec: Exec & { calls: Array<{ cmd: string; args: readonly string[]; input: string }>; reset(): void };

  beforeAll(async () => {
    ns = await lab.add('h1');
    await lab.ip(ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
    await lab.ip(ns, 'addr', 'add', '10.200.0.1/24', 'dev', 'eth0');
    await lab.ip(ns, 'link', 'set', 'eth0', 'up');
    await lab.ip(ns, 'link', 'set', 'eth1', 'up');
    await lab.ip(ns, 'route', 'add', 'default', 'via', '10.200.0.254');
    // Someone else's route in "our" table: never touched.
    await lab.ip(ns, 'route', 'add', '10.250.0.0/24', 'via', '10.200.0.9', 'table', '10', 'proto', 'static');
    exec = recordingExec(netnsExec(ns));
  });

  const table = async (): Promise<string[]> => (await lab.ip(ns, 'route', 'show', 'table', '10')).split('\n').map((l) => l.trim()).filter(Boolean);
  const via = async (addr: string): Promise<string> => {
    const [r] = await lab.ipJson<{ gateway?: string; dst: string }>(ns, 'route', 'get', addr);
    return r!.gateway ?? 'direct';
  };

  it('aggregates remote blocks via their hosts, throws local ones, and adds the ip rule', async () => {
    const { plan, routes, stats } = await program(new RoutesDriver(exec, { table: 10, proto: 88, rulePriority: 32765 }), BLOCKS, { multihop: false });
    expect(plan.skipped).toEqual([{ host: 'h4', reason: expect.stringMatching(/reached through gateway 10\.200\.0\.254/) }]);
    // 5 routed blocks become 4 routes: h2's two neighbouring /29s are one /28.
    expect(routes).toHaveLength(4);
    expect(stats).toMatchObject({ wrote: true, added: 4, deleted: 0, ruleAdded: true });
    // Ties in ORTC go to the smallest next-hop id, "throw": one /27 throw under the more specific remote routes.
    expect((await table()).sort()).toEqual(
      [
        '10.112.0.0/28 via 10.200.0.2 dev eth0 proto 88',
        '10.112.0.24/29 via 10.200.0.3 dev eth0 proto 88',
        '10.112.0.32/29 via 10.200.0.2 dev eth0 proto 88',
        '10.250.0.0/24 via 10.200.0.9 dev eth0 proto static',
        'throw 10.112.0.0/27 proto 88',
      ].sort(),
    );
    // Forwarding as the blocks say; a local block and an unrouted one fall through to main.
    expect(await via('10.112.0.5')).toBe('10.200.0.2');
    expect(await via('10.112.0.12')).toBe('10.200.0.2');
    expect(await via('10.112.0.17')).toBe('10.200.0.254');
    expect(await via('10.112.0.25')).toBe('10.200.0.3');
    expect(await via('10.112.0.33')).toBe('10.200.0.2');
    expect(await via('10.112.0.41')).toBe('10.200.0.254');
    const rules = await lab.ipJson<{ priority: number; table: string }>(ns, 'rule', 'show');
    expect(rules.filter((r) => r.table === '10')).toEqual([expect.objectContaining({ priority: 32765 })]);
  });

  it('writes nothing when in sync, also after a restart, and never duplicates the rule', async () => {
    exec.reset();
    const restarted = new RoutesDriver(exec, { table: 10, proto: 88, rulePriority: 32765 });
    const { stats } = await program(restarted, BLOCKS, { multihop: false });
    expect(stats).toMatchObject({ wrote: false, readBack: true, ruleAdded: false, added: 0, replaced: 0, deleted: 0 });
    expect(exec.calls.filter((c) => c.args.includes('-batch') && !c.args.includes('-j'))).toEqual([]);
    exec.reset();
    const again = await program(restarted, BLOCKS, { multihop: false });
    expect(again.stats.wrote).toBe(false);
    // Only the next-hop lookup ran: no read-back, no write.
    expect(exec.calls.map((c) => c.args.join(' '))).toEqual(['-j -force -batch -']);
    const rules = await lab.ipJson<{ table: string }>(ns, 'rule', 'show');
    expect(rules.filter((r) => r.table === '10')).toHaveLength(1);
  });

  it('writes only the delta when blocks come and go', async () => {
    const d = new RoutesDriver(exec, { table: 10, proto: 88, rulePriority: 32765 });
    await program(d, BLOCKS, { multihop: false });
    exec.reset();
    const grown = [...BLOCKS, block('10.112.0.64/29', 'h3')];
    const { stats } = await program(d, grown, { multihop: false });
    expect(stats).toMatchObject({ wrote: true, added: 1, replaced: 0, deleted: 0 });
    const writes = exec.calls.filter((c) => c.args.join(' ') === '-force -batch -');
    expect(writes).toHaveLength(1);
    expect(writes[0]!.input).toBe('route replace 10.112.0.64/29 via 10.200.0.3 table 10 proto 88\n');
    expect(await via('10.112.0.65')).toBe('10.200.0.3');

    // h2's second block released: the optimal table may restructure; exactly the routes that differ are written.
    const before = new Set((await program(d, grown, { multihop: false })).routes.map((x) => `${x.dst} ${x.via ?? 'throw'}`));
    exec.reset();
    const shrunk = grown.filter((b) => b.cidr !== '10.112.0.8/29');
    const r = await program(d, shrunk, { multihop: false });
    const after = new Set(r.routes.map((x) => `${x.dst} ${x.via ?? 'throw'}`));
    const changedDsts = new Set([...after].filter((x) => !before.has(x)).map((x) => x.split(' ')[0]));
    const goneDsts = [...before].filter((x) => !after.has(x)).map((x) => x.split(' ')[0]!).filter((dst) => !changedDsts.has(dst));
    expect(changedDsts.size).toBeGreaterThan(0);
    expect(r.stats.added + r.stats.replaced).toBe(changedDsts.size);
    expect(r.stats.deleted).toBe(goneDsts.length);
    const batch = exec.calls.filter((c) => c.args.join(' ') === '-force -batch -')[0]!.input.trim().split('\n');
    expect(batch).toHaveLength(changedDsts.size + goneDsts.length);
    expect(exec.calls.filter((c) => c.args.join(' ') === '-force -batch -')[0]!.input).not.toMatch(/flush/);
    expect(await via('10.112.0.12')).toBe('10.200.0.254');
    expect(await via('10.112.0.5')).toBe('10.200.0.2');

    // Nothing is deleted before the first full sync.
    const cautious = new RoutesDriver(exec, { table: 10, proto: 88, rulePriority: 32765 });
    const none = await program(cautious, [], { multihop: false, allowDeletes: false });
    expect(none.stats.deleted).toBe(0);
    expect(await via('10.112.0.5')).toBe('10.200.0.2');
    expect((await table()).filter((l) => l.includes('proto static'))).toEqual(['10.250.0.0/24 via 10.200.0.9 dev eth0 proto static']);
  });

  it('routes hosts behind a gateway only with multihop, via that gateway', async () => {
    const d = new RoutesDriver(exec, { table: 10, proto: 88, rulePriority: 32765 });
    const { plan } = await program(d, BLOCKS, { multihop: true });
    expect(plan.skipped).toEqual([]);
    expect(await table()).toContain('10.112.0.40/29 via 10.200.0.254 dev eth0 proto 88');
    await program(d, BLOCKS, { multihop: false });
    expect((await table()).some((l) => l.startsWith('10.112.0.40/29'))).toBe(false);
  });
});
