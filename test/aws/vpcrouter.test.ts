/**
 * VpcRouter against the fake EC2 server through the real SDK: routes
 * created, replaced (failed router, replaced instance with the same IP —
 * the ENI check), deleted (only inside the managed ranges), ignored CIDRs
 * and unassociated route tables untouched, throttling retried with backoff,
 * dry-run making no writes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VpcRouter, type SpecSnapshot } from '../../src/aws/vpcrouter.js';
import { silentLogger } from '../../src/shared/log.js';
import { Registry } from '../../src/shared/metrics.js';
import type { Ec2Api } from '../../src/aws/ec2.js';
import type { FakeEc2, FakeInstance, FakeRouteTable, FakeSubnet } from '../helpers/fake_ec2.js';
import { ec2Env } from './ec2_env.js';

class FakeHealth {
  failed = new Set<string>();
  targets: string[] = [];
  setTargets(ips: Iterable<string>): void {
    this.targets = [...ips];
  }
  isHealthy(ip: string): boolean {
    return !this.failed.has(ip);
  }
  snapshot(): Record<string, unknown> {
    return Object.fromEntries(this.targets.map((ip) => [ip, { healthy: this.isHealthy(ip) }]));
  }
}

let fake: FakeEc2;
let api: Ec2Api;
let sleeps: number[];
let subA: FakeSubnet;
let subB: FakeSubnet;
let other: FakeSubnet;
let a1: FakeInstance, a2: FakeInstance, b1: FakeInstance;
let rtA: FakeRouteTable, rtB: FakeRouteTable, rtOther: FakeRouteTable;
let spec: SpecSnapshot;
let health: FakeHealth;

beforeEach(async () => {
  ({ fake, api, sleeps } = await ec2Env());
  subA = fake.addSubnet('10.0.1.0/24', 'us-east-1a');
  subB = fake.addSubnet('10.0.2.0/24', 'us-east-1b');
  other = fake.addSubnet('10.0.9.0/24', 'us-east-1a');
  a1 = fake.addInstance('10.0.1.10', subA.subnetId);
  a2 = fake.addInstance('10.0.1.11', subA.subnetId);
  b1 = fake.addInstance('10.0.2.10', subB.subnetId);
  rtA = fake.addTable([subA.subnetId]);
  rtB = fake.addTable([subB.subnetId]);
  // Not associated with a cluster subnet (#52/#53): holds a route in a spec CIDR that must stay.
  rtOther = fake.addTable([other.subnetId], { routes: [{ cidr: '100.96.0.0/16', instanceId: b1.instanceId, eniId: b1.eniId }] });
  fake.addTable([], { main: true });
  spec = {
    spec: { '100.96.0.0/16': ['10.0.1.10', '10.0.1.11'], '100.97.0.0/16': ['10.0.2.10'] },
    managed: ['100.96.0.0/11'],
  };
  health = new FakeHealth();
});

afterEach(async () => {
  await fake.stop();
});

function router(opts: { dryRun?: boolean; ignore?: string[] } = {}): VpcRouter {
  return new VpcRouter({
    ec2: api,
    vpcId: null,
    ignore: opts.ignore ?? ['0.0.0.0/0'],
    dryRun: opts.dryRun ?? false,
    loadSpec: async () => spec,
    health,
    log: silentLogger(),
    registry: new Registry(),
    random: () => 0,
  });
}

describe('VpcRouter', () => {
  it('creates one route per group CIDR in every cluster table, pointing at the ENI of a router of that group', async () => {
    const r = router();
    await r.trigger('test');
    expect(fake.routesOf(rtA.id)).toEqual({ '100.96.0.0/16': '10.0.1.10', '100.97.0.0/16': '10.0.2.10' });
    expect(fake.routesOf(rtB.id)).toEqual({ '100.96.0.0/16': '10.0.1.10', '100.97.0.0/16': '10.0.2.10' });
    expect(fake.table(rtA.id).routes.find((x) => x.cidr === '100.96.0.0/16')).toMatchObject({ eniId: a1.eniId, instanceId: a1.instanceId });
    // The unassociated table and the main table (every cluster subnet has its own table) are skipped.
    expect(fake.routesOf(rtOther.id)).toEqual({ '100.96.0.0/16': '10.0.2.10' });
    expect(fake.writes().every((w) => w.params.RouteTableId === rtA.id || w.params.RouteTableId === rtB.id)).toBe(true);
    const st = r.status() as { vpc: string; last_run: { ok: boolean; routeCounts: Record<string, number>; skippedTables: string[] } };
    expect(st.vpc).toBe(fake.vpcId);
    expect(st.last_run.ok).toBe(true);
    expect(st.last_run.routeCounts).toEqual({ [rtA.id]: 3, [rtB.id]: 3 });
    expect(st.last_run.skippedTables).toContain(rtOther.id);
    // A second run with nothing changed writes nothing.
    const before = fake.writes().length;
    await r.trigger('again');
    expect(fake.writes().length).toBe(before);
  });

  it('replaces a failed router by the next healthy host of its group', async () => {
    const r = router();
    await r.trigger('test');
    health.failed.add('10.0.1.10');
    await r.trigger('health');
    expect(fake.routesOf(rtA.id)['100.96.0.0/16']).toBe('10.0.1.11');
    expect(fake.routesOf(rtB.id)['100.96.0.0/16']).toBe('10.0.1.11');
    expect(fake.callsOf('ReplaceRoute').map((c) => [c.params.RouteTableId, c.params.DestinationCidrBlock, c.params.NetworkInterfaceId])).toEqual([
      [rtA.id, '100.96.0.0/16', a2.eniId],
      [rtB.id, '100.96.0.0/16', a2.eniId],
    ]);
    // With no healthy router left, the route stays as it is (no delete, no black-holing on purpose).
    health.failed.add('10.0.1.11');
    const before = fake.writes().length;
    await r.trigger('health');
    expect(fake.writes().length).toBe(before);
    expect(fake.routesOf(rtA.id)['100.96.0.0/16']).toBe('10.0.1.11');
  });

  it('detects a route to a replaced instance that has the same IP (ENI check, vpc-router #40)', async () => {
    const r = router();
    await r.trigger('test');
    expect(fake.routesOf(rtA.id)['100.97.0.0/16']).toBe('10.0.2.10');
    // b1 terminated; a new instance gets the same IP and a new ENI.
    b1.state = 'terminated';
    const b1new = fake.addInstance('10.0.2.10', subB.subnetId);
    expect(fake.routesOf(rtA.id)['100.97.0.0/16']).toBeNull(); // black hole now
    await r.trigger('recheck');
    expect(fake.table(rtA.id).routes.find((x) => x.cidr === '100.97.0.0/16')).toMatchObject({ eniId: b1new.eniId });
    expect(fake.routesOf(rtA.id)['100.97.0.0/16']).toBe('10.0.2.10');
    expect(fake.routesOf(rtB.id)['100.97.0.0/16']).toBe('10.0.2.10');
  });

  it('never touches ignored CIDRs or routes we do not own; deletes stale group routes inside the managed range', async () => {
    fake.table(rtA.id).routes.push(
      { cidr: '0.0.0.0/0', instanceId: a1.instanceId, eniId: a1.eniId }, // e.g. a NAT instance: ignored
      { cidr: '100.98.0.0/16', instanceId: a1.instanceId, eniId: a1.eniId }, // a group gone from the topology: ours, stale
      { cidr: '192.168.0.0/16', instanceId: a2.instanceId, eniId: a2.eniId }, // outside the managed range: not ours
      { cidr: '100.97.0.0/16', instanceId: a2.instanceId, eniId: a2.eniId }, // ignored below although in the spec
    );
    const r = router({ ignore: ['0.0.0.0/0', '100.97.0.0/16'] });
    await r.trigger('test');
    const routes = fake.routesOf(rtA.id);
    expect(routes['0.0.0.0/0']).toBe('10.0.1.10');
    expect(routes['192.168.0.0/16']).toBe('10.0.1.11');
    expect(routes['100.97.0.0/16']).toBe('10.0.1.11'); // wrong router, but ignored
    expect(routes).not.toHaveProperty('100.98.0.0/16');
    expect(fake.routesOf(rtB.id)).not.toHaveProperty('100.97.0.0/16'); // ignored CIDRs are not created either
    for (const w of fake.writes()) expect(['0.0.0.0/0', '100.97.0.0/16', '192.168.0.0/16']).not.toContain(w.params.DestinationCidrBlock);
    expect(fake.callsOf('DeleteRoute').map((c) => c.params.DestinationCidrBlock)).toEqual(['100.98.0.0/16']);
  });

  it('retries EC2 throttling (RequestLimitExceeded, 503) with growing jittered backoff and still converges', async () => {
    fake.failNext('DescribeRouteTables', 'RequestLimitExceeded', 2);
    fake.failNext('CreateRoute', 'RequestLimitExceeded', 3);
    const r = router();
    await r.trigger('test');
    expect(fake.routesOf(rtA.id)).toEqual({ '100.96.0.0/16': '10.0.1.10', '100.97.0.0/16': '10.0.2.10' });
    expect(fake.routesOf(rtB.id)).toEqual({ '100.96.0.0/16': '10.0.1.10', '100.97.0.0/16': '10.0.2.10' });
    // random() = 0.5: half of 200, 400 ms for the route tables; 100, 200, 400 for the first CreateRoute.
    expect(sleeps).toEqual([100, 200, 100, 200, 400]);
    expect((r.status() as { last_run: { ok: boolean } }).last_run.ok).toBe(true);
  });

  it('reports a non-retryable EC2 error for one route and carries on with the others', async () => {
    fake.failNext('CreateRoute', 'UnauthorizedOperation', 1, 403);
    const r = router();
    await r.trigger('test');
    const st = r.status() as { last_run: { ok: boolean; actions: Array<{ result: string; error?: string }> } };
    expect(st.last_run.ok).toBe(false);
    expect(st.last_run.actions.filter((a) => a.result === 'failed')).toHaveLength(1);
    expect(st.last_run.actions.find((a) => a.result === 'failed')!.error).toMatch(/UnauthorizedOperation/);
    expect(sleeps).toEqual([]);
    // The next run fills the gap.
    await r.trigger('recheck');
    expect(Object.keys(fake.routesOf(rtA.id)).length + Object.keys(fake.routesOf(rtB.id)).length).toBe(4);
  });

  it('--dry-run logs the calls it would make and makes none', async () => {
    fake.table(rtA.id).routes.push({ cidr: '100.98.0.0/16', instanceId: a1.instanceId, eniId: a1.eniId });
    const r = router({ dryRun: true });
    await r.trigger('test');
    expect(fake.writes()).toEqual([]);
    const st = r.status() as { last_run: { actions: Array<{ op: string; result: string; table: string; cidr: string }> } };
    expect(st.last_run.actions.map((a) => `${a.op} ${a.table} ${a.cidr} ${a.result}`).sort()).toEqual(
      [`create ${rtA.id} 100.96.0.0/16 dry-run`, `create ${rtA.id} 100.97.0.0/16 dry-run`, `create ${rtB.id} 100.96.0.0/16 dry-run`, `create ${rtB.id} 100.97.0.0/16 dry-run`, `delete ${rtA.id} 100.98.0.0/16 dry-run`].sort(),
    );
  });

  it('uses the main table for a cluster subnet without its own table', async () => {
    fake.tables = fake.tables.filter((t) => t.id !== rtB.id);
    const main = fake.tables.find((t) => t.main)!;
    const r = router();
    await r.trigger('test');
    expect(fake.routesOf(main.id)).toEqual({ '100.96.0.0/16': '10.0.1.10', '100.97.0.0/16': '10.0.2.10' });
  });
});
