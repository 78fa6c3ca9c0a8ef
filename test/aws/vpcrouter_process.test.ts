/**
 * romana-vpcrouter as a process, in dry-run: a topology + hosts file as the
 * spec, the fake EC2 server, TCP health checks against a listener on
 * loopback addresses standing in for the hosts. The status endpoint shows
 * the spec, the health and the routes it would create; EC2 sees no write;
 * SIGTERM ends it cleanly.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REPO } from '../helpers/daemon.js';
import { FakeEc2 } from '../helpers/fake_ec2.js';
import { waitFor } from '../helpers/poll.js';
import { FAKE_CREDENTIALS } from './ec2_env.js';

const MAIN = path.join(REPO, 'dist/src/aws/vpcrouter_main.js');
const dir = mkdtempSync(path.join(tmpdir(), 'romana-vpcproc-'));
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

it('serves /status with the spec and planned routes, writes nothing in dry-run, exits 0 on SIGTERM', async () => {
  // Hosts are loopback addresses (all of 127/8 answers on Linux): one TCP listener on 0.0.0.0 serves their health checks.
  const listener = net.createServer((s) => s.end());
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => listener.close(() => r())));
  const tcpPort = (listener.address() as net.AddressInfo).port;

  const fake = new FakeEc2();
  await fake.start();
  cleanups.push(() => fake.stop());
  const subnet = fake.addSubnet('127.0.0.0/24');
  const h1 = fake.addInstance('127.0.0.1', subnet.subnetId);
  fake.addTable([subnet.subnetId]);

  const topology = path.join(dir, 'topology.json');
  writeFileSync(topology, JSON.stringify({ networks: [{ name: 'net', cidr: '10.112.0.0/16' }], topologies: [{ networks: ['net'], map: [{ name: 'g', groups: [] }] }] }));
  const hosts = path.join(dir, 'hosts.json');
  writeFileSync(hosts, JSON.stringify([{ name: 'h1', ip: '127.0.0.1', tags: {} }]));

  const p = spawn(process.execPath, [MAIN, '--topology', topology, '--hosts', hosts, '--region', 'us-east-1', '--endpoint', fake.url, '--vpc', fake.vpcId,
    '--health', 'tcp', '--tcp-check-port', String(tcpPort), '--tcp-check-interval', '1s', '--dry-run', '--address', '127.0.0.1', '--port', '0'], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  p.stderr!.on('data', (b: Buffer) => void (stderr += b.toString()));
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  cleanups.push(() => void p.kill('SIGKILL'));

  const port = await waitFor('the status server port in the first log lines', () => {
    const m = /"port":(\d+)/.exec(stderr);
    return m ? Number(m[1]) : null;
  });
  const status = await waitFor('a run that planned the route to h1', async () => {
    const s = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as { spec: Record<string, string[]>; last_actions: Array<Record<string, unknown>> };
    return s.last_actions.length > 0 ? s : null;
  }, { timeoutMs: 15_000 });
  expect(status.spec).toEqual({ '10.112.0.0/16': ['127.0.0.1'] });
  expect(JSON.stringify(status.last_actions)).toContain('10.112.0.0/16');
  expect(JSON.stringify(status.last_actions)).toContain(h1.eniId);
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain('romana_vpcrouter_');
  expect(fake.writes()).toEqual([]);

  p.kill('SIGTERM');
  expect(await exited).toBe(0);
});
