/** romana-aws's controller against the fake EC2 server through the real SDK. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SourceDestController, type NodeHost } from '../../src/aws/source_dest.js';
import type { Ec2Api } from '../../src/aws/ec2.js';
import { parseProviderId, instanceIdFromTags } from '../../src/core/aws/instance_id.js';
import { silentLogger } from '../../src/shared/log.js';
import { Registry } from '../../src/shared/metrics.js';
import type { FakeEc2 } from '../helpers/fake_ec2.js';
import { ec2Env } from './ec2_env.js';

let fake: FakeEc2;
let api: Ec2Api;
let sleeps: number[];
beforeEach(async () => ({ fake, api, sleeps } = await ec2Env()));
afterEach(async () => fake.stop());

describe('instance ids', () => {
  it('parses Kubernetes AWS provider IDs and tags', () => {
    expect(parseProviderId('aws:///us-east-1a/i-0123456789abcdef0')).toEqual({ zone: 'us-east-1a', instanceId: 'i-0123456789abcdef0' });
    expect(parseProviderId('gce://p/z/n')).toBeNull();
    expect(instanceIdFromTags({ 'romana.io/instance-id': 'i-0abc12345' })).toBe('i-0abc12345');
    expect(instanceIdFromTags({ 'romana.io/provider-id': 'aws:///eu-west-1b/i-0abc12345' })).toBe('i-0abc12345');
    expect(instanceIdFromTags({ zone: 'x' })).toBeNull();
  });
});

describe('SourceDestController', () => {
  it('disables Source/Dest-Check once per instance, skips instances already off, finds untagged hosts by IP, retries throttling', async () => {
    const s = fake.addSubnet('10.0.1.0/24');
    const i1 = fake.addInstance('10.0.1.10', s.subnetId);
    const i2 = fake.addInstance('10.0.1.11', s.subnetId, { sourceDestCheck: false });
    const i3 = fake.addInstance('10.0.1.12', s.subnetId);
    const hosts: NodeHost[] = [
      { name: 'n1', ip: '10.0.1.10', tags: { 'romana.io/provider-id': `aws:///us-east-1a/${i1.instanceId}` } },
      { name: 'n2', ip: '10.0.1.11', tags: { 'romana.io/instance-id': i2.instanceId } },
      { name: 'n3', ip: '10.0.1.12', tags: {} },
      { name: 'ghost', ip: '10.0.1.99', tags: {} },
    ];
    fake.failNext('ModifyInstanceAttribute', 'RequestLimitExceeded', 1);
    const registry = new Registry();
    const ctl = new SourceDestController({ ec2: api, listHosts: async () => hosts, log: silentLogger(), registry });
    await ctl.trigger();
    expect(i1.sourceDestCheck).toBe(false);
    expect(i3.sourceDestCheck).toBe(false);
    expect(fake.callsOf('ModifyInstanceAttribute').map((c) => [c.params.InstanceId, c.params['SourceDestCheck.Value']])).toEqual([
      [i1.instanceId, 'false'], // throttled
      [i1.instanceId, 'false'],
      [i3.instanceId, 'false'],
    ]);
    expect(sleeps).toHaveLength(1);
    expect(ctl.states().map((x) => `${x.host}:${x.outcome}`)).toEqual(['ghost:not-found', 'n1:disabled', 'n2:already-disabled', 'n3:disabled']);
    expect(await registry.getSingleMetricAsString('romana_aws_source_dest_total')).toMatch(/outcome="disabled"} 2/);
    // Periodic reconcile: nothing left to modify; a re-enabled check is turned off again.
    await ctl.trigger();
    expect(fake.callsOf('ModifyInstanceAttribute')).toHaveLength(3);
    i2.sourceDestCheck = true;
    await ctl.trigger();
    expect(i2.sourceDestCheck).toBe(false);
  });

  it('goes on with the other nodes when one tagged instance id is unknown to EC2', async () => {
    const s = fake.addSubnet('10.0.1.0/24');
    const i1 = fake.addInstance('10.0.1.10', s.subnetId);
    const ctl = new SourceDestController({
      ec2: api,
      listHosts: async () => [
        { name: 'n1', ip: '10.0.1.10', tags: { 'romana.io/instance-id': i1.instanceId } },
        { name: 'gone', ip: '10.0.1.20', tags: { 'romana.io/instance-id': 'i-0deadbeef00' } },
      ],
      log: silentLogger(),
    });
    await ctl.trigger();
    expect(i1.sourceDestCheck).toBe(false);
    expect(ctl.states().find((x) => x.host === 'gone')!.outcome).toBe('not-found');
    expect(ctl.lastError).toBeNull();
  });
});
