/**
 * Health checks against real hosts in network namespaces: a "router" netns
 * pings two hosts of one prefix group over veth pairs (ICMP with the
 * system ping); when the chosen host stops answering (its link goes down),
 * VpcRouter — fed by the HealthMonitor, routes in the fake EC2 — moves the
 * group's route to the other host within seconds. Also the TCP probe
 * against a listener that goes away.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthMonitor, icmpProbe, tcpProbe } from '../../src/aws/health.js';
import { VpcRouter } from '../../src/aws/vpcrouter.js';
import type { Ec2Api } from '../../src/aws/ec2.js';
import { silentLogger } from '../../src/shared/log.js';
import type { FakeEc2 } from '../helpers/fake_ec2.js';
import { NetnsLab, privilegedSkipReason } from '../helpers/netns.js';
import { waitFor } from '../helpers/poll.js';
import { ec2Env } from './ec2_env.js';

const skip = privilegedSkipReason();
if (skip) console.warn(`health.privileged: skipped: ${skip}`);

describe.skipIf(skip !== null)('router health in network namespaces', () => {
  const lab = new NetnsLab('rva');
  let routerNs = '';
  const hostNs: string[] = [];
  let fake: FakeEc2;
  let api: Ec2Api;

  beforeAll(async () => {
    routerNs = await lab.add('r');
    for (const [i, ip] of ['10.77.0.11', '10.77.0.12'].entries()) {
      const ns = await lab.add(`h${i}`);
      hostNs.push(ns);
      // veth: "v<i>" in the router, "eth0" in the host, a /30-free point-to-point pair on one /24.
      await lab.ip(routerNs, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      await lab.ip(ns, 'addr', 'add', `${ip}/32`, 'dev', 'eth0');
      await lab.ip(ns, 'link', 'set', 'eth0', 'up');
      await lab.ip(ns, 'route', 'add', '10.77.0.1/32', 'dev', 'eth0');
      await lab.ip(routerNs, 'link', 'set', `v${i}`, 'up');
      await lab.ip(routerNs, 'addr', 'add', '10.77.0.1/32', 'dev', `v${i}`);
      await lab.ip(routerNs, 'route', 'add', `${ip}/32`, 'dev', `v${i}`);
    }
    ({ fake, api } = await ec2Env());
  });

  afterAll(async () => {
    await fake?.stop();
    await lab.cleanup();
  });

  it('ICMP: a host that stops answering is replaced by the next healthy host of its group within seconds', async () => {
    const s = fake.addSubnet('10.77.0.0/24');
    fake.addInstance('10.77.0.11', s.subnetId);
    fake.addInstance('10.77.0.12', s.subnetId);
    const rt = fake.addTable([s.subnetId]);
    let router: VpcRouter | null = null;
    const health = new HealthMonitor({
      probe: icmpProbe(750, ['ip', 'netns', 'exec', routerNs]),
      intervalMs: 1000,
      log: silentLogger(),
      onChange: () => void router?.trigger('health'),
    });
    router = new VpcRouter({
      ec2: api,
      vpcId: fake.vpcId,
      ignore: [],
      dryRun: false,
      loadSpec: async () => ({ spec: { '100.96.0.0/16': ['10.77.0.11', '10.77.0.12'] }, managed: ['100.96.0.0/11'] }),
      health,
      log: silentLogger(),
      random: () => 0,
    });
    await router.trigger('start');
    health.start();
    try {
      await waitFor('a first health round', () => health.rounds >= 1);
      expect(health.failed()).toEqual([]);
      expect(fake.routesOf(rt.id)).toEqual({ '100.96.0.0/16': '10.77.0.11' });
      const t0 = Date.now();
      await lab.ip(hostNs[0]!, 'link', 'set', 'eth0', 'down');
      await waitFor('the route to move to 10.77.0.12', () => fake.routesOf(rt.id)['100.96.0.0/16'] === '10.77.0.12', { timeoutMs: 8000 });
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(health.failed()).toEqual(['10.77.0.11']);
      // It comes back: healthy again after 3 good rounds; the route stays where it is (no flapping back).
      await lab.ip(hostNs[0]!, 'link', 'set', 'eth0', 'up');
      await lab.ip(hostNs[0]!, 'route', 'replace', '10.77.0.1/32', 'dev', 'eth0');
      await waitFor('10.77.0.11 healthy again', () => health.isHealthy('10.77.0.11'), { timeoutMs: 10_000 });
      await router.trigger('recheck');
      expect(fake.routesOf(rt.id)['100.96.0.0/16']).toBe('10.77.0.12');
    } finally {
      await health.stop();
      await router.stop();
    }
  });
});

describe('TCP probe', () => {
  it('is healthy while the port accepts and failed once the listener is gone', async () => {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const probe = tcpProbe(port, 500);
    expect(await probe('127.0.0.1')).toBe(true);
    await new Promise<void>((r) => server.close(() => r()));
    expect(await probe('127.0.0.1')).toBe(false);
    // An address that never answers times out as failed.
    const t0 = Date.now();
    expect(await tcpProbe(9, 300)('192.0.2.1')).toBe(false);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
